"""A citizen asks for an officer through the real stack; the officer answers on Telegram."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.communes.models import Commune
from bot.db import session_scope
from bot.handoff.models import HandoffTicket, Officer, TicketStatus
from tests.auxil.fake_telegram import callback_update, message_update, user
from tests.auxil.loopback import wait_until
from tests.e2e.conftest import PROVINCE_CHAT

pytestmark = pytest.mark.e2e

OFFICER = user(4242, "Hùng")


@pytest.fixture(scope="module")
def officer(stack):
    with session_scope(stack.session_factory) as session:
        xop = session.scalar(select(Commune).where(Commune.name == "Xốp"))
        session.add(Officer(name="Hùng", telegram_user_id=OFFICER["id"], commune_id=xop.id))
    return OFFICER


def collect_inbox(stack, who, needle):
    got: list[dict] = []

    def check():
        got.extend(stack.inbox(who))
        return any(needle in m["text"] for m in got)

    wait_until(check)
    return got


def ask_for_officer(stack, who, place="xa dak choong"):
    first = stack.chat(who, "cho toi gap can bo cong an xa")
    assert "Bạn ở xã, phường nào?" in first[0]["text"]
    return stack.chat(who, place)


def test_citizen_to_officer_and_back(stack, officer):
    telegram = stack.telegram
    who = stack.web_id()
    confirm = ask_for_officer(stack, who)
    assert "nay thuộc xã Xốp, tỉnh Quảng Ngãi" in confirm[0]["text"]
    assert [b["title"] for b in confirm[0]["buttons"]] == ["Đúng", "Không phải"]

    describe = stack.chat(who, "1")  # the number of the "Đúng" button
    assert "Bạn đang gặp khó khăn gì?" in describe[0]["text"]
    contact = stack.chat(who, "toi doi so dien thoai roi, khong nhan duoc ma otp")
    assert "gõ số điện thoại" in contact[0]["text"]
    created = stack.chat(who, "0912 345 678")
    code = re.search(r"HT-\d{6}", created[0]["text"]).group(0)
    assert "xã Xốp" in created[0]["text"]

    with session_scope(stack.session_factory) as session:
        ticket = session.scalar(select(HandoffTicket).where(HandoffTicket.sender == f"web:{who}"))
        assert ticket.code == code and ticket.status == TicketStatus.OPEN
        assert ticket.contact_phone == "0912345678"
        assert ticket.commune_label == "xã Xốp, tỉnh Quảng Ngãi"
        assert "otp" in ticket.description

    alert = wait_until(lambda: [m for m in telegram.to(OFFICER["id"]) if code in m["text"]])[0]
    assert "khong nhan duoc ma otp" in alert["text"]
    assert "0912345678" in alert["text"]  # given for a call-back, with consent

    # claim, reply, follow-up, close
    assert (
        stack.telegram_update(
            callback_update(
                who=OFFICER,
                chat_id=OFFICER["id"],
                message_id=alert["message_id"],
                data=f"h:claim:{ticket.id}",
            )
        )
        == 200
    )
    collect_inbox(stack, who, "Hùng đã nhận")
    stack.telegram_update(
        message_update(
            who=OFFICER,
            chat_id=OFFICER["id"],
            text="Bác mang căn cước lên xã nhé",
            reply_to=alert["message_id"],
        )
    )
    collect_inbox(stack, who, "Bác mang căn cước lên xã nhé")

    follow = stack.chat(who, "sang mai toi len duoc khong")
    assert follow[0]["text"] == f"Đã chuyển tin của bạn cho cán bộ Hùng ({code})."
    wait_until(
        lambda: any("sang mai toi len duoc khong" in m["text"] for m in telegram.to(OFFICER["id"]))
    )

    stack.telegram_update(
        message_update(who=OFFICER, chat_id=OFFICER["id"], text=f"/close {code} da huong dan")
    )
    collect_inbox(stack, who, "đã được giải quyết")

    # the assistant answers again, and knows what became of the request
    status = stack.chat(who, f"yeu cau {code} cua toi sao roi")
    assert code in status[0]["text"] and "đã được cán bộ Hùng giải quyết" in status[0]["text"]


def test_an_ambiguous_name_asks_which_one(stack, officer):
    who = stack.web_id()
    reply = ask_for_officer(stack, who, "dak long")
    titles = [b["title"] for b in reply[0]["buttons"]]
    assert titles == ["xã Đăk Long (huyện Đăk Glei)", "xã Đăk Long (huyện Đăk Hà)"]
    confirm = stack.chat(who, "2")
    assert "xã Đăk Pxi, tỉnh Quảng Ngãi" in confirm[0]["text"]
    again = stack.chat(who, "không phải")  # wrong after all: asked for the commune again
    assert "Bạn ở xã, phường nào?" in again[0]["text"]
    cancelled = stack.chat(who, "hủy")
    assert cancelled[0]["text"].startswith("Đã hủy, chưa gửi gì cho cán bộ.")
    with session_scope(stack.session_factory) as session:
        assert (
            session.scalar(select(HandoffTicket).where(HandoffTicket.sender == f"web:{who}"))
            is None
        )


def test_unknown_commune_goes_to_the_province_without_a_phone(stack):
    who = stack.web_id()
    stack.chat(who, "toi muon gap can bo")
    describe = stack.chat(who, "Tôi không rõ xã")
    assert "Bạn đang gặp khó khăn gì?" in describe[0]["text"]
    stack.chat(who, "dien thoai toi khong co nfc, khong quet duoc chip")
    created = stack.chat(who, "không cần")
    code = re.search(r"HT-\d{6}", created[0]["text"]).group(0)
    with session_scope(stack.session_factory) as session:
        ticket = session.scalar(select(HandoffTicket).where(HandoffTicket.sender == f"web:{who}"))
        assert ticket.commune_id is None and ticket.contact_phone is None
    wait_until(lambda: any(code in m["text"] for m in stack.telegram.to(PROVINCE_CHAT)))
