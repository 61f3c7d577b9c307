"""Turns recorded from the NLG endpoint, the unanswered inbox, the dashboard, CSV export."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from bot.analytics.models import ChatTurn, TrainingQuestion
from bot.db import session_scope
from bot.faq.models import FaqEntry
from tests.auxil.console import csrf_of, from_rasa, log_in, make_admin


def turn(
    client, sender, text, intent, confidence, response, faq_key=None, faq_conf=0.9, topics=None
):
    latest = {
        "text": text,
        "message_id": uuid.uuid4().hex,
        "intent": {"name": intent, "confidence": confidence},
    }
    if faq_key:
        latest["response_selector"] = {
            "faq": {"response": {"intent_response_key": f"faq/{faq_key}", "confidence": faq_conf}}
        }
    body = {
        "response": response,
        "arguments": {"topics": topics} if topics else {},
        "tracker": {"sender_id": sender, "latest_message": latest},
    }
    assert client.post("/nlg", json=body, headers=from_rasa(client)).status_code == 200
    flush(client)
    return latest["message_id"]


def flush(client):
    """Write the queued turns now (the app writes them every ANALYTICS_FLUSH_S)."""
    client.portal.call(client.app.state.turns.flush)


def test_turns_are_recorded_once_and_masked(client, session_factory):
    mid = turn(
        client,
        "web:a",
        "otp ko ve so 0912345678",
        "faq",
        0.97,
        "utter_faq/otp_not_received",
        "otp_not_received",
    )
    # a second response of the same turn
    body = {
        "response": "utter_menu",
        "tracker": {
            "sender_id": "web:a",
            "latest_message": {
                "text": "otp ko ve so 0912345678",
                "message_id": mid,
                "intent": {"name": "faq", "confidence": 0.97},
            },
        },
    }
    client.post("/nlg", json=body, headers=from_rasa(client))
    turn(client, "tg:7", "con ga co may chan", "nlu_fallback", 0.3, "utter_default")
    turn(client, "zalo:9", "/show_menu", "show_menu", 1.0, "utter_menu")
    with session_scope(session_factory) as session:
        rows = session.scalars(select(ChatTurn).order_by(ChatTurn.id)).all()
        assert [(r.channel, r.intent, r.unanswered) for r in rows] == [
            ("web", "faq/otp_not_received", False),
            ("telegram", "nlu_fallback", True),
            ("zalo", "show_menu", False),
        ]
        assert "0912345678" not in rows[0].text


def test_inbox_groups_similar_questions_and_assigns_them(client, session_factory):
    for text in ("de an 06 la gi", "đề án 06 là gì vậy", "de an 06 la gi ad"):
        turn(client, f"web:{text}", text, "nlu_fallback", 0.2, "utter_default")
    turn(
        client,
        "web:x",
        "reset may xong vao vneid k dc",
        "faq",
        0.4,
        "utter_faq/new_device",
        "new_device",
        0.4,
    )
    log_in(client, "admin", make_admin(session_factory))
    page = client.get("/admin/inbox")
    assert page.status_code == 200 and "× 3" in page.text and "× 1" in page.text
    with session_scope(session_factory) as session:
        ids = [t.id for t in session.scalars(select(ChatTurn).where(ChatTurn.text.like("%06%")))]
    done = client.post(
        "/admin/inbox/assign",
        data={
            "ids": ",".join(map(str, ids)),
            "label": "faq/campaign_info",
            "csrf": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    with session_scope(session_factory) as session:
        questions = session.scalars(select(TrainingQuestion).order_by(TrainingQuestion.text)).all()
        assert [(q.label, q.text) for q in questions] == [
            ("faq/campaign_info", "de an 06 la gi"),
            ("faq/campaign_info", "de an 06 la gi ad"),
            ("faq/campaign_info", "đề án 06 là gì vậy"),
        ]
    page = client.get("/admin/inbox")
    assert "× 3" not in page.text and "reset may xong" in page.text
    refused = client.post("/admin/inbox/dismiss", data={"ids": "1", "csrf": "forged"})
    assert refused.status_code == 403


def test_dashboard_and_csv(client, session_factory):
    turn(client, "web:a", "otp ko ve", "faq", 0.9, "utter_faq/otp_not_received", "otp_not_received")
    turn(
        client, "web:a", "quen mat khau", "faq", 0.9, "utter_faq/forgot_password", "forgot_password"
    )
    turn(
        client,
        "tg:b",
        "otp khong den",
        "faq",
        0.9,
        "utter_faq/otp_not_received",
        "otp_not_received",
    )
    turn(client, "tg:b", "abc xyz", "nlu_fallback", 0.1, "utter_default")
    log_in(client, "admin", make_admin(session_factory))
    page = client.get("/admin/dashboard")
    assert page.status_code == 200
    assert 'id="conversations">2<' in page.text and 'id="messages">4<' in page.text
    assert 'id="fallback">25.0 %<' in page.text
    topics = client.get("/admin/export/topics.csv")
    assert topics.headers["content-type"].startswith("text/csv")
    with session_scope(session_factory) as session:
        titles = dict(session.execute(select(FaqEntry.key, FaqEntry.title)).all())
    assert topics.text.splitlines()[:3] == [
        "\ufefftopic,title,messages",
        f"faq/otp_not_received,{titles['otp_not_received']},2",
        f"faq/forgot_password,{titles['forgot_password']},1",
    ]
    # the chart names topics by their titles, not their keys
    assert f"<td>{titles['otp_not_received']}</td>" in page.text
    assert ">otp_not_received<" not in page.text
    assert client.get("/admin/export/secrets.csv").status_code == 404


def test_the_dashboard_counts_clarifying_questions_and_the_offers_taken(client, session_factory):
    offer = ["faq/fee", "faq/account_locked"]
    turn(client, "web:a", "mo khoa mat tien", "nlu_fallback", 0.3, "utter_clarify", topics=offer)
    turn(client, "web:b", "khoa gi do", "nlu_fallback", 0.3, "utter_clarify", topics=offer)
    turn(client, "web:a", "/faq/account_locked", "faq", 1.0, "utter_faq/account_locked")
    turn(client, "web:b", "thoi", "nlu_fallback", 0.2, "utter_default")  # not an offer
    log_in(client, "admin", make_admin(session_factory))
    page = client.get("/admin/dashboard").text
    assert 'id="clarify">2<' in page
    assert "1 lần người dân chọn một mục gợi ý" in page


def test_pages_need_a_login(client):
    for path in ("/admin/inbox", "/admin/dashboard", "/admin/export/topics.csv"):
        assert client.get(path, follow_redirects=False).status_code == 303


def test_a_new_topic_from_an_inbox_group(client, session_factory):
    from bot.faq.models import FaqEntry

    for text in ("doi ten tren vneid the nao", "đổi tên trên vneid thế nào ạ"):
        turn(client, f"web:{text}", text, "nlu_fallback", 0.2, "utter_default")
    log_in(client, "admin", make_admin(session_factory))
    inbox_page = client.get("/admin/inbox").text
    assert "Tạo chủ đề mới từ nhóm này" in inbox_page
    with session_scope(session_factory) as session:
        ids = ",".join(str(t.id) for t in session.scalars(select(ChatTurn)))
    form = client.get(
        "/admin/topics/new",
        params={"q": "doi ten tren vneid the nao\nđổi tên trên vneid thế nào ạ", "ids": ids},
    )
    assert "doi ten tren vneid the nao" in form.text
    created = client.post(
        "/admin/topics",
        data={
            "key": "doi_ten",
            "title": "Đổi họ tên",
            "answer": "Khi đổi họ tên, bạn làm lại thẻ căn cước ở Công an xã.",
            "questions": "doi ten tren vneid the nao\nđổi tên trên vneid thế nào ạ",
            "ids": ids,
            "csrf": csrf_of(form.text),
        },
        follow_redirects=False,
    )
    assert created.headers["location"] == "/admin/faq/doi_ten?saved=1"
    assert "Tạo chủ đề mới từ nhóm này" not in client.get("/admin/inbox").text
    with session_scope(session_factory) as session:
        assert (
            session.scalar(select(FaqEntry.title).where(FaqEntry.key == "doi_ten")) == "Đổi họ tên"
        )
        labels = set(session.scalars(select(TrainingQuestion.label)))
        assert labels == {"faq/doi_ten"}
    bad = client.post(
        "/admin/topics",
        data={
            "key": "x",
            "title": "T",
            "answer": "a" * 30,
            "questions": "a\nb",
            "csrf": csrf_of(form.text),
        },
    )
    assert bad.status_code == 400 and "Mã chủ đề" in bad.text


def test_days_and_times_are_vietnams(session_factory):
    from datetime import UTC, datetime

    from bot.admin.pages import templates
    from bot.analytics import service as analytics
    from bot.db import local_time

    late = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)  # 01:30 on 1 December in Vietnam
    with session_scope(session_factory) as session:
        session.add(
            ChatTurn(
                sender="web:night",
                channel="web",
                message_id="night-1",
                text="otp ko ve",
                intent="faq/otp_not_received",
                confidence=0.9,
                response="utter_faq/otp_not_received",
                unanswered=False,
                created_at=late,
            )
        )
    with session_scope(session_factory) as session:
        figures = analytics.dashboard(session, now=datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    days = {d["day"]: d["messages"] for d in figures["per_day"]}
    assert days["2026-12-01"] == 1 and days.get("2026-11-30", 0) == 0
    assert local_time(late.replace(tzinfo=None)).strftime("%d/%m %H:%M") == "01/12 01:30"
    rendered = templates.env.from_string("{{ t | local }}").render(t=late)
    assert rendered == "01/12/2026 01:30"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_turn_with_several_responses_is_recorded_once(database, tmp_path, request):
    import asyncio

    from sqlalchemy.orm import sessionmaker

    from bot import migrate
    from bot.analytics.recorder import TurnRecorder
    from bot.db import Database, create_engine_from_url, utcnow

    url = (
        f"sqlite:///{tmp_path / 'a.db'}"
        if database == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    migrate.upgrade(url)
    engine = create_engine_from_url(url)
    request.addfinalizer(engine.dispose)  # before the database is dropped
    factory = sessionmaker(engine, expire_on_commit=False)
    recorder = TurnRecorder(Database(factory, threads=2), clock=utcnow)
    tracker = {
        "sender_id": "zalo:42",
        "latest_message": {
            "text": "so cccd 001203004567 bi khoa",
            "message_id": "m-1",
            "intent": {"name": "nlu_fallback", "confidence": 0.2},
        },
    }

    async def bubbles():
        for response in ("utter_default", "utter_offer_handoff"):  # one turn, two messages
            recorder.add(tracker, response)
        assert await recorder.flush() == 1  # one row in the batch
        recorder.add(tracker, "utter_menu")  # a third bubble after the batch went out
        assert await recorder.flush() == 1  # sent, and left alone by the database

    asyncio.run(bubbles())
    with session_scope(factory) as session:
        turns = session.scalars(select(ChatTurn)).all()
    assert len(turns) == 1
    assert turns[0].channel == "zalo" and turns[0].response == "utter_default"
    assert turns[0].unanswered and "001203004567" not in turns[0].text
    assert turns[0].created_at.tzinfo is not None
