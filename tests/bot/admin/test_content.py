"""Editing texts in the console: live at once, kept, revertible, audited, escaped."""

from __future__ import annotations

from sqlalchemy import select

from bot.accounts import service as accounts_service
from bot.admin.models import Revision
from bot.analytics.models import TrainingQuestion
from bot.audit import AuditEntry
from bot.db import session_scope
from bot.faq.models import FaqEntry
from bot.faq.schemas import split_parts
from tests.auxil.console import csrf_of, log_in, make_admin, nlg

XSS = "<script>alert('x')</script> Bạn mang theo thẻ căn cước nhé."


def test_edit_is_served_at_once_then_reverted(client, session_factory):
    assert log_in(client, "admin", make_admin(session_factory)).status_code == 303
    page = client.get("/admin/faq/fee")
    before = nlg(client, "utter_faq/fee")["text"]
    saved = client.post(
        "/admin/faq/fee",
        data={
            "title": "Có mất tiền không",
            "answer": "Làm định danh điện tử hoàn toàn miễn phí.",
            "csrf": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert nlg(client, "utter_faq/fee")["text"] == "Làm định danh điện tử hoàn toàn miễn phí."

    with session_scope(session_factory) as session:
        revision = session.scalar(select(Revision).where(Revision.target == "faq:fee"))
        first_screen = split_parts(revision.before["answer"])[0].text
        assert first_screen == before and revision.username == "admin"
    page = client.get("/admin/faq/fee")
    reverted = client.post(
        f"/admin/revisions/{revision.id}/revert",
        data={"csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert reverted.status_code == 303
    assert nlg(client, "utter_faq/fee")["text"] == before
    with session_scope(session_factory) as session:
        actions = [a.action for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert actions == ["login", "edit", "edit"]
        assert (
            session.scalar(select(Revision).where(Revision.reverts_id == revision.id)) is not None
        )


def test_button_labels_of_a_bot_text_can_change_not_their_payloads(client, session_factory):
    log_in(client, "admin", make_admin(session_factory))
    page = client.get("/admin/responses/utter_thank")
    response = client.post(
        "/admin/responses/utter_thank",
        data={"text": "Dạ không có chi.", "button": "Xem chủ đề khác", "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    reply = nlg(client, "utter_thank")
    assert reply["text"] == "Dạ không có chi."
    assert reply["buttons"] == [{"title": "Xem chủ đề khác", "payload": "/show_menu"}]


def test_bad_edits_are_refused_with_a_message(client, session_factory):
    log_in(client, "admin", make_admin(session_factory))
    page = client.get("/admin/faq/fee")
    response = client.post(
        "/admin/faq/fee", data={"title": "x", "answer": "ngắn", "csrf": csrf_of(page.text)}
    )
    assert response.status_code == 400 and "Tên nút cần" in response.text


def test_posts_without_csrf_or_role_are_refused(client, session_factory):
    password = make_admin(session_factory)
    log_in(client, "admin", password)
    forged = client.post(
        "/admin/faq/fee", data={"title": "Phí", "answer": "a" * 30, "csrf": "forged"}
    )
    assert forged.status_code == 403
    with session_scope(session_factory) as session:
        accounts_service.create_account(
            session=session, username="xem", password="viewer-pass-123456", role="viewer"
        )
    client.cookies.clear()
    log_in(client, "xem", "viewer-pass-123456")
    page = client.get("/admin/faq/fee")
    assert page.status_code == 200 and "Lưu và áp dụng ngay" not in page.text
    refused = client.post(
        "/admin/faq/fee", data={"title": "Phí", "answer": "a" * 30, "csrf": csrf_of(page.text)}
    )
    assert refused.status_code == 403
    with session_scope(session_factory) as session:
        assert session.scalar(select(FaqEntry.answer).where(FaqEntry.key == "fee")) != "a" * 30


def test_stored_script_is_shown_as_text_in_every_preview(client, session_factory):
    log_in(client, "admin", make_admin(session_factory))
    page = client.get("/admin/faq/fee")
    client.post("/admin/faq/fee", data={"title": "Phí", "answer": XSS, "csrf": csrf_of(page.text)})
    page = client.get("/admin/faq/fee").text
    assert "<script>alert" not in page
    assert page.count("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") >= 4  # form + 3 previews


def test_login_is_throttled_after_five_failures(client, session_factory):
    password = make_admin(session_factory)
    for _ in range(5):
        assert log_in(client, "admin", "wrong").status_code == 401
    blocked = log_in(client, "admin", password)
    assert blocked.status_code == 429 and "thử lại sau 15 phút" in blocked.text


def test_example_questions_are_added_to_a_topic_once_and_can_be_removed(client, session_factory):
    assert log_in(client, "admin", make_admin(session_factory)).status_code == 303
    page = client.get("/admin/faq/fee")
    added = client.post(
        "/admin/faq/fee/questions",
        data={
            "questions": "lam vneid co ton tien khong\n\n  lam vneid   co ton tien khong \nphi bao nhieu",
            "csrf": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert added.headers["location"] == "/admin/faq/fee?added=2#questions"
    with session_scope(session_factory) as session:
        rows = session.scalars(select(TrainingQuestion).order_by(TrainingQuestion.id)).all()
        assert [(q.label, q.text) for q in rows] == [
            ("faq/fee", "lam vneid co ton tien khong"),
            ("faq/fee", "phi bao nhieu"),
        ]
        first = rows[0].id
    shown = client.get("/admin/faq/fee?added=2")
    assert "Đã thêm 2 câu" in shown.text and "phi bao nhieu" in shown.text
    removed = client.post(
        f"/admin/questions/{first}/delete",
        data={"csrf": csrf_of(shown.text)},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    with session_scope(session_factory) as session:
        assert session.scalars(select(TrainingQuestion.text)).all() == ["phi bao nhieu"]
        actions = session.scalars(select(AuditEntry.action)).all()
        assert "questions_add" in actions and "question_delete" in actions
    unknown = client.post(
        "/admin/faq/khong_co/questions",
        data={"questions": "a b", "csrf": csrf_of(shown.text)},
    )
    assert unknown.status_code == 404


def test_reviewed_seed_texts_reach_unedited_rows_and_edits_are_kept(session_factory):
    from bot.admin import content
    from bot.config import PROJECT_ROOT
    from bot.faq.content import load_topics
    from bot.faq.models import ResponseTemplate
    from bot.faq.schemas import BotResponse

    topics = {t.key: t for t in load_topics(PROJECT_ROOT / "data" / "faq")}
    with session_scope(session_factory) as session:
        content.edit_faq(
            session,
            "fee",
            title="Có mất tiền không",
            answer="Sửa bởi admin, miễn phí.",
            username="a",
        )
    reviewed = [
        topics["fee"].model_copy(update={"answer": "Bản duyệt mới về lệ phí, không mất tiền."}),
        topics["children"].model_copy(update={"answer": "Bản duyệt mới về trẻ em dưới 14 tuổi."}),
    ]
    greet = BotResponse(text="Chào bạn, bản duyệt mới.")
    with session_scope(session_factory) as session:
        changed = content.refresh_from_seed(
            session, topics=reviewed, responses={"utter_greet": greet}
        )
    assert changed == 2  # children and utter_greet; fee was edited by an admin
    with session_scope(session_factory) as session:
        answers = dict(session.execute(select(FaqEntry.key, FaqEntry.answer)).all())
        assert answers["fee"] == "Sửa bởi admin, miễn phí."
        assert answers["children"] == "Bản duyệt mới về trẻ em dưới 14 tuổi."
        greet_text = session.scalar(
            select(ResponseTemplate.text).where(ResponseTemplate.name == "utter_greet")
        )
        assert greet_text == greet.text
        seeded = session.scalars(select(Revision).where(Revision.username == "seed")).all()
        assert {r.target for r in seeded} == {"faq:children", "response:utter_greet"}
        # seeding again changes nothing, and the seed's own revision does not count as an edit
        assert content.refresh_from_seed(session, topics=reviewed, responses={}) == 0
