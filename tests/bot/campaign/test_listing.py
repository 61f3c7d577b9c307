"""The campaign answer at the NLG endpoint: the named commune's sessions, or a way to name it."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from bot.campaign import progress, sessions, when
from bot.campaign.models import CommuneQuestion
from bot.config import INTERNAL_HEADER
from bot.db import session_scope, utcnow
from bot.handoff.officers import find_commune


def ask(client, settings, text: str) -> dict:
    body = {
        "response": "utter_faq/campaign_info",
        "arguments": {},
        "tracker": {"sender_id": "web:x", "latest_message": {"text": text}},
        "channel": {"name": "rest"},
    }
    headers = {INTERNAL_HEADER: settings.rasa_token.get_secret_value()}
    response = client.post("/nlg", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_named_communes_sessions_replace_the_general_answer(client, settings, session_factory):
    tomorrow = when.vietnam_day(utcnow()) + timedelta(days=1)
    with session_scope(session_factory) as session:
        xop = find_commune(session, "Xốp")
        draft = sessions.Draft(day=tomorrow, start=time(13, 30), end=time(16), place="Nhà rông")
        found = sessions.announce(session, commune=xop, draft=draft, by="t", now=utcnow())
    answer = ask(client, settings, "xa dak choong khi nao co dot lam dinh danh")
    assert answer["text"].startswith("Lịch làm định danh điện tử của Công an xã Xốp:")
    assert f"{tomorrow:%d/%m}, 13:30-16:00: Nhà rông" in answer["text"]
    assert answer["buttons"][0]["payload"] == f'/session_remind{{"session_id":{found.id}}}'
    # a commune without sessions: told so, with the in-person route
    other = ask(client, settings, "phuong quang trung co dot lam can cuoc khong")
    assert "chưa báo đợt làm định danh nào" in other["text"]
    assert "thẻ căn cước" in other["text"]
    # each question that named a commune is counted for the progress table
    with session_scope(session_factory) as session:
        counts = {q.commune_id: q.questions for q in session.scalars(select(CommuneQuestion))}
        assert counts[xop.id] == 1 and sum(counts.values()) == 2
        row = next(c for c in progress.report(session).communes if c.commune_id == xop.id)
        assert row.questions == 1


def test_without_a_commune_the_general_answer_offers_to_name_one(client, settings):
    answer = ask(client, settings, "bao gio cong an ve thon lam dinh danh")
    assert "Đề án 06" in answer["text"]
    assert answer["buttons"][0] == {
        "title": "Lịch làm định danh ở xã tôi",
        "payload": "/commune_lookup",
    }
