"""Handoff round trips on every channel: the officer's claim, replies and resolution reach
the citizen where they wrote (Telegram through the fake Bot API, Zalo through the fake OA
API, the web chat through its inbox)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.handoff.models import HandoffTicket, Officer, TicketStatus
from tests.auxil.fake_telegram import callback_update, message_update, user
from tests.auxil.loopback import wait_until
from tests.e2e.conftest import PROVINCE_CHAT
from tests.e2e.test_zalo import text_event

pytestmark = pytest.mark.e2e

SUPERVISOR = user(5151, "Lan")
_ids = itertools.count(820_001)


@dataclass
class Citizen:
    """One citizen on one channel: what they send, and everything they have received."""

    sender: str
    send: Callable[[str], None]
    received: Callable[[], list[str]]

    def wait_for(self, needle: str) -> str:
        found = wait_until(lambda: [t for t in self.received() if needle in t], timeout=20)
        return found[-1]

    def say(self, text: str, expect: str) -> str:
        before = len(self.received())
        self.send(text)
        wait_until(lambda: any(expect in t for t in self.received()[before:]), timeout=20)
        return "\n".join(self.received()[before:])


def on_telegram(stack) -> Citizen:
    chat = next(_ids)
    who = user(chat, "Bà Hoa")
    return Citizen(
        sender=f"tg:{chat}",
        send=lambda text: stack.telegram_update(message_update(who=who, chat_id=chat, text=text)),
        received=lambda: [m["text"] for m in stack.telegram.to(chat)],
    )


def on_zalo(stack) -> Citizen:
    uid = str(9_200_000_000 + next(_ids))
    return Citizen(
        sender=f"zalo:{uid}",
        send=lambda text: stack.zalo_event(text_event(uid, text)),
        received=lambda: [m["text"] for m in stack.zalo.to(uid)],
    )


def on_web(stack) -> Citizen:
    sid = stack.web_id()
    got: list[str] = []

    def send(text: str) -> None:
        got.extend(m["text"] for m in stack.chat(sid, text))

    def received() -> list[str]:
        got.extend(m["text"] for m in stack.inbox(sid))
        return got

    return Citizen(sender=f"web:{sid}", send=send, received=received)


@pytest.fixture(scope="module")
def supervisor(stack):
    with session_scope(stack.session_factory) as session:
        session.add(Officer(name="Lan", telegram_user_id=SUPERVISOR["id"], is_supervisor=True))
    return SUPERVISOR


@pytest.mark.parametrize(
    ("channel", "open_as"),
    [("telegram", on_telegram), ("zalo", on_zalo), ("web", on_web)],
)
def test_the_officers_answers_reach_the_citizen(stack, supervisor, channel, open_as):
    citizen = open_as(stack)
    citizen.say("toi muon gap can bo", "Bạn ở xã, phường nào?")
    citizen.say("Tôi không rõ xã", "Bạn đang gặp khó khăn gì?")
    citizen.say("khong nhan duoc ma otp kich hoat", "số điện thoại")
    created = citizen.say("không cần", "Mã yêu cầu")
    code = re.search(r"HT-\d{6}", created).group(0)
    with session_scope(stack.session_factory) as session:
        ticket = session.scalar(select(HandoffTicket).where(HandoffTicket.id == int(code[3:])))
        assert (ticket.channel, ticket.sender) == (channel, citizen.sender)
        assert ticket.status == TicketStatus.OPEN

    telegram = stack.telegram
    alert = wait_until(lambda: [m for m in telegram.to(PROVINCE_CHAT) if code in m["text"]])[0]
    press = callback_update(
        who=supervisor,
        chat_id=PROVINCE_CHAT,
        message_id=alert["message_id"],
        data=f"h:claim:{ticket.id}",
    )
    assert stack.telegram_update(press) == 200
    citizen.wait_for("Lan đã nhận")

    reply = "Bác mang căn cước và điện thoại lên Công an xã nhé"
    stack.telegram_update(
        message_update(
            who=supervisor, chat_id=PROVINCE_CHAT, text=reply, reply_to=alert["message_id"]
        )
    )
    citizen.wait_for(reply)

    relayed = citizen.say("sang mai toi len duoc khong", "Đã chuyển tin của bạn")
    assert code in relayed
    wait_until(lambda: any("sang mai toi len" in m["text"] for m in telegram.to(PROVINCE_CHAT)))

    stack.telegram_update(
        message_update(who=supervisor, chat_id=PROVINCE_CHAT, text=f"/close {code} da xong")
    )
    citizen.wait_for("đã được giải quyết")
    with session_scope(stack.session_factory) as session:
        ticket = session.scalar(select(HandoffTicket).where(HandoffTicket.id == int(code[3:])))
        assert ticket.status == TicketStatus.RESOLVED
