"""Rasa's NLG endpoint serves the texts stored in the database."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.analytics.models import ChatTurn
from bot.db import session_scope
from bot.faq.models import FaqEntry, ResponseTemplate
from bot.faq.schemas import split_parts
from bot.faq.service import more_payload
from tests.auxil.console import from_rasa, nlg


def test_faq_answer_comes_from_the_database_with_related_buttons(client, session_factory):
    with session_scope(session_factory) as session:
        entry = session.scalar(select(FaqEntry).where(FaqEntry.key == "otp_not_received"))
        parts = split_parts(entry.answer)
        related = [k for k in entry.related if k != "officer"]
        assert "officer" in entry.related  # a case the commune police may have to handle
    reply = nlg(client, "utter_faq/otp_not_received")
    assert reply["text"] == parts[0].text  # the first screen; "Xem thêm" shows the next
    more = [more_payload("otp_not_received", 1)] if len(parts) > 1 else []
    payloads = [b["payload"] for b in reply["buttons"]]
    assert payloads == more + [f"/faq/{k}" for k in related] + ["/request_handoff", "/show_menu"]


def test_an_edit_is_served_at_once(client, session_factory):
    with session_scope(session_factory) as session:
        entry = session.scalar(select(FaqEntry).where(FaqEntry.key == "fee"))
        entry.answer = "Đăng ký tài khoản định danh điện tử không mất tiền (đã sửa)."
    assert nlg(client, "utter_faq/fee")["text"].endswith("(đã sửa).")


def test_plain_responses_come_from_the_database(client, session_factory):
    with session_scope(session_factory) as session:
        greet = session.scalar(
            select(ResponseTemplate).where(ResponseTemplate.name == "utter_greet")
        )
        greet_text = greet.text
    reply = nlg(client, "utter_greet")
    assert reply["text"] == greet_text
    assert any(b["payload"] == "/activation_guide" for b in reply["buttons"])


def test_unknown_response_gets_a_polite_text_not_an_error(client):
    reply = nlg(client, "utter_faq/no_such_topic")
    assert "Công an xã" in reply["text"]
    assert nlg(client, "utter_nothing")["buttons"][0]["payload"] == "/show_menu"


def test_seeding_twice_keeps_admin_edits(session_factory):
    from bot.config import PROJECT_ROOT
    from bot.faq import content
    from bot.faq import service as faq_service

    with session_scope(session_factory) as session:
        session.scalar(select(FaqEntry).where(FaqEntry.key == "fee")).answer = "sửa bởi admin"
    with session_scope(session_factory) as session:
        added = faq_service.seed_content(
            session=session,
            topics=content.load_topics(PROJECT_ROOT / "data" / "faq"),
            responses=content.load_domain_responses(PROJECT_ROOT / "domain.yml"),
        )
    assert added == (0, 0)
    with session_scope(session_factory) as session:
        assert (
            session.scalar(select(FaqEntry.answer).where(FaqEntry.key == "fee")) == "sửa bởi admin"
        )


def test_only_rasa_may_call_the_nlg_endpoint(client, session_factory):
    """A forged call (no token, a wrong one) is refused before its body is read, and leaves
    no turn in the figures or the unanswered inbox."""
    body = {
        "response": "utter_greet",
        "arguments": {},
        "tracker": {
            "sender_id": "tg:424242",
            "latest_message": {"text": "forged", "message_id": "f1"},
        },
    }
    assert client.post("/nlg", json=body).status_code == 403
    wrong = {"X-Internal-Token": "not-the-token"}
    assert client.post("/nlg", json=body, headers=wrong).status_code == 403
    assert client.post("/nlg", content=b"{", headers=wrong).status_code == 403  # not even parsed
    turns = client.app.state.turns
    assert turns.pending == 0  # nothing queued for the figures
    client.portal.call(turns.flush)
    with session_scope(session_factory) as session:
        assert session.scalar(select(func.count()).select_from(ChatTurn)) == 0
    assert client.post("/nlg", json=body, headers=from_rasa(client)).status_code == 200
    assert turns.pending == 1


def test_a_clarifying_question_offers_the_topics_by_their_current_titles(client, session_factory):
    with session_scope(session_factory) as session:
        session.scalar(select(FaqEntry).where(FaqEntry.key == "fee")).title = "Lệ phí (đã sửa)"
        titles = dict(session.execute(select(FaqEntry.key, FaqEntry.title)).all())
    topics = ["faq/fee", "faq/no_such_topic", "request_handoff", "faq/account_locked"]
    reply = nlg(client, "utter_clarify", topics=topics)
    buttons = [(b["title"], b["payload"]) for b in reply["buttons"]]
    assert buttons[:3] == [
        ("Lệ phí (đã sửa)", "/faq/fee"),  # an admin's edit of the title shows at once
        ("Gặp cán bộ", "/request_handoff"),
        (titles["account_locked"], "/faq/account_locked"),
    ]
    # the template's own buttons follow, without a second "Gặp cán bộ"
    payloads = [p for _, p in buttons]
    assert payloads[3:] == ["/show_menu"]
    assert "chưa chắc" in reply["text"]


def test_a_clarifying_question_is_in_the_inbox_with_its_likeliest_topic(client, session_factory):
    from bot.analytics import service as analytics

    body = {
        "response": "utter_clarify",
        "arguments": {"topics": ["faq/fee", "faq/account_locked"]},
        "tracker": {
            "sender_id": "web:c1",
            "latest_message": {
                "text": "mở khóa mất bao nhiêu",
                "message_id": "clarify-1",
                "intent": {"name": "nlu_fallback", "confidence": 0.4},
            },
        },
        "channel": {"name": "rest"},
    }
    assert client.post("/nlg", json=body, headers=from_rasa(client)).status_code == 200
    client.portal.call(client.app.state.turns.flush)
    with session_scope(session_factory) as session:
        turn = session.scalar(select(ChatTurn).where(ChatTurn.message_id == "clarify-1"))
        assert (turn.offered, turn.unanswered) == ("faq/fee,faq/account_locked", True)
        group = next(g for g in analytics.inbox(session) if g.text == "mở khóa mất bao nhiêu")
        assert group.guess == "faq/fee"
