"""Citizens on Zalo through the real stack: signed events in, OA API messages out."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.faq.models import FaqEntry, ResponseTemplate
from bot.faq.schemas import first_screen
from bot.handoff.models import HandoffTicket, TicketStatus
from tests.auxil.loopback import settled

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "zalo"
_users = itertools.count(9_100_000_001)
_msgs = itertools.count(1)


def text_event(user: str, text: str) -> dict:
    data = json.loads((FIXTURES / "user_send_text.json").read_text(encoding="utf-8"))
    data["sender"]["id"] = user
    data["message"] = {"msg_id": f"e2e-{next(_msgs)}-{time.time_ns()}", "text": text}
    return data


def wait_for(zalo, user, count, timeout=20.0):
    return settled(lambda: zalo.to(user), count, timeout)


def test_question_then_button_payload_as_text(stack):
    zalo, user = stack.zalo, str(next(_users))
    assert stack.zalo_event(text_event(user, "vneid la app gi vay")) == 200
    answer = wait_for(zalo, user, 1)[0]
    with session_scope(stack.session_factory) as session:
        expected = session.scalar(select(FaqEntry.answer).where(FaqEntry.key == "what_is_ddt"))
        menu = session.scalar(
            select(ResponseTemplate.text).where(ResponseTemplate.name == "utter_menu")
        )
    assert answer["text"] == first_screen(expected)
    assert all(b["type"] == "oa.query.hide" for b in answer["buttons"])
    menu_button = next(b for b in answer["buttons"] if b["payload"] == "/show_menu")
    # Zalo sends an oa.query.hide button back as a text whose body is the payload
    stack.zalo_event(text_event(user, menu_button["payload"]))
    got = wait_for(zalo, user, 2)
    assert got[1]["text"].startswith(menu)


def test_an_officer_answers_a_zalo_citizen(stack):
    zalo, user = stack.zalo, str(next(_users))
    for text in (
        "toi muon gap can bo",
        "Tôi không rõ xã",
        "khong dang nhap duoc vneid",
        "không cần",
    ):
        count = len(zalo.to(user))
        stack.zalo_event(text_event(user, text))
        wait_for(zalo, user, count + 1)
    assert "Mã yêu cầu của bạn: HT-" in zalo.to(user)[-1]["text"]
    with session_scope(stack.session_factory) as session:
        ticket = session.scalar(select(HandoffTicket).where(HandoffTicket.sender == f"zalo:{user}"))
        assert ticket.channel == "zalo" and ticket.status == TicketStatus.OPEN
