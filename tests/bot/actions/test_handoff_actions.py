"""The handoff form's actions on frozen trackers: each answer's validation, the questions,
the ticket it stores (a real seeded database) and its status."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions import db as actions_db
from bot.actions import handoff as actions
from bot.communes import service as communes_service
from bot.communes.models import Commune
from bot.db import session_scope, utcnow
from bot.faq.service import render_response
from bot.handoff.models import HandoffTicket
from bot.outbox import OutboxMessage
from bot.privacy import contacts
from bot.privacy.mask import mask

FORM = {"name": actions.FORM}
ROOT = Path(__file__).resolve().parents[3]


def tracker(text="", slots=None, events=(), sender="web:ho-test"):
    latest = {"text": text, "intent": {"name": "inform"}, "entities": []}
    return Tracker(sender, dict(slots or {}), latest, list(events), False, None, FORM, "")


def validate(slot, value, slots=None):
    dispatcher = CollectingDispatcher()
    method = getattr(actions.ValidateHandoffForm(), f"validate_{slot}")
    result = method(value, dispatcher, tracker(str(value), slots), {})
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return result, [m.get("response") for m in dispatcher.messages], dispatcher.messages


@pytest.fixture(autouse=True)
def database(monkeypatch, session_factory, settings):
    """The actions' database, settings and commune directory are the test's (no .env read)."""
    with session_scope(session_factory) as session:
        found = communes_service.load_directory(session=session)
    monkeypatch.setattr(actions_db, "factory", lambda: session_factory)
    monkeypatch.setattr(actions, "get_settings", lambda: settings)
    monkeypatch.setattr(actions, "directory", lambda: found)


async def test_hủy_at_any_step_leaves_the_form_with_or_without_diacritics():
    for text in ("hủy", "huy yeu cau", "thôi không cần nữa"):
        events = await actions.ValidateHandoffForm().run(
            CollectingDispatcher(), tracker(text, {"requested_slot": "ho_description"}), {}
        )
        assert events == [
            {"event": "slot", "timestamp": None, "name": "ho_cancelled", "value": True},
            {"event": "slot", "timestamp": None, "name": "requested_slot", "value": None},
        ]


def test_the_commune_is_resolved_or_asked_again_with_choices():
    assert validate("ho_commune", "xa dak choong")[0] == {
        "ho_commune": "xã Đăk Choong (huyện Đăk Glei)"
    }
    result, said, messages = validate("ho_commune", "xã Đăk Long")
    assert result == {"ho_commune": None, actions.HINT: True}
    assert said == ["utter_commune_ambiguous"]
    assert [b["title"] for b in messages[0]["buttons"]] == [
        "xã Đăk Long (huyện Đăk Glei)",
        "xã Đăk Long (huyện Đăk Hà)",
    ]
    result, said, _ = validate("ho_commune", "xa abc xyz")
    assert result == {"ho_commune": None, actions.HINT: True}
    assert said == ["utter_ho_commune_not_found"]
    assert validate("ho_commune", "khong biet")[0] == {
        "ho_commune": actions.UNKNOWN_COMMUNE,
        "ho_confirm": True,
    }
    assert validate("ho_commune", "/faq/fee")[0] == {"ho_commune": None}  # a button, not a name


def test_the_confirmation_takes_yes_no_or_another_place():
    assert validate("ho_confirm", "đúng rồi")[0] == {"ho_confirm": True}
    assert validate("ho_confirm", True)[0] == {"ho_confirm": True}  # the Yes button
    assert validate("ho_confirm", "ko")[0] == {"ho_commune": None, "ho_confirm": None}
    assert validate("ho_confirm", "xa dak choong")[0] == {
        "ho_commune": "xã Đăk Choong (huyện Đăk Glei)",
        "ho_confirm": None,
    }
    result, said, _ = validate("ho_confirm", "hmm")
    assert result == {"ho_confirm": None, actions.HINT: True} and said == ["utter_ho_yes_no"]


def test_the_description_needs_words():
    assert validate("ho_description", "khong nhan duoc ma otp")[0] == {
        "ho_description": "khong nhan duoc ma otp"
    }
    for text in ("/faq/otp", "😭", "?"):
        result, said, _ = validate("ho_description", text)
        assert result == {"ho_description": None, actions.HINT: True}
        assert said == ["utter_ho_describe_more"]
    assert len(validate("ho_description", "chữ " * 600)[0]["ho_description"]) == 1000


def keep(session_factory, typed, sender="web:ho-test"):
    """The gateway's part: the question is on screen, the citizen types ``typed``."""
    with session_scope(session_factory) as session:
        return contacts.keep_from(
            session, sender=sender, text=typed, payloads=[contacts.ASKED_PAYLOAD], now=utcnow()
        )


def test_a_call_back_number_counts_only_when_the_gateway_kept_it(session_factory):
    assert validate("ho_contact", "không cần")[0] == {"ho_contact": actions.NO_CONTACT}
    for typed in ("091 234 5678", "(091) 234-5678", "+84912345678", "84.912.345.678"):
        assert keep(session_factory, typed), typed
        # Rasa (and so this action) only sees the number masked
        assert validate("ho_contact", mask(typed))[0] == {"ho_contact": "0912*****78"}, typed
    # a number nobody kept (another one, or typed raw to Rasa past the gateway), or no number
    for typed in ("0987*****21", "0912345678", "123", "so cua toi", "09123456789"):
        result, said, _ = validate("ho_contact", typed)
        assert result == {"ho_contact": None, actions.HINT: True} and said == ["utter_ho_bad_phone"]


def test_the_gateway_keeps_a_number_only_while_the_question_is_on_screen(session_factory):
    with session_scope(session_factory) as session:
        kept = partial(contacts.keep_from, session, sender="web:x", now=utcnow())
        assert not kept(text="0912345678", payloads=["/faq/fee"])  # another screen
        assert not kept(text="0912345678 hoặc 0987654321", payloads=[contacts.ASKED_PAYLOAD])
        assert not kept(text="khong co so", payloads=[contacts.ASKED_PAYLOAD])
        assert session.scalar(select(contacts.CallbackNumber)) is None


def test_the_call_back_question_offers_the_button_the_gateway_looks_for():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for name in ("utter_ask_ho_contact", "utter_ho_bad_phone"):
        [variant] = domain["responses"][name]
        assert contacts.ASKED_PAYLOAD in [b["payload"] for b in variant["buttons"]], name


def test_a_kept_number_is_forgotten_after_its_time(session_factory):
    assert keep(session_factory, "0912345678")
    later = utcnow() + contacts.KEPT_FOR + timedelta(minutes=1)
    with session_scope(session_factory) as session:
        assert not contacts.kept(session, sender="web:ho-test", masked="0912*****78", now=later)
        assert contacts.purge(session, now=later) == 1


async def test_a_question_is_not_repeated_right_after_a_validation_message():
    dispatcher = CollectingDispatcher()
    events = await actions.ActionAskHoDescription().run(
        dispatcher, tracker(slots={actions.HINT: True}), {}
    )
    assert events == [{"event": "slot", "timestamp": None, "name": actions.HINT, "value": None}]
    assert dispatcher.messages == []
    await actions.ActionAskHoContact().run(dispatcher, tracker(), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_ho_contact"]


async def test_the_confirmation_names_the_commune_now():
    dispatcher = CollectingDispatcher()
    slots = {"ho_commune": "xã Đăk Choong (huyện Đăk Glei)"}
    assert await actions.ActionAskHoConfirm().run(dispatcher, tracker(slots=slots), {}) == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_ask_ho_confirm"
    assert message["new"] == "xã Xốp, tỉnh Quảng Ngãi"


def form_events():
    """A conversation before and inside the form (the form's own Q&A is not transcript)."""
    return [
        {"event": "user", "text": "toi khong nhan duoc otp"},
        {"event": "bot", "text": "Bạn thử đợi 5 phút rồi bấm gửi lại mã."},
        {"event": "user", "text": "/faq/officer"},
        {"event": "active_loop", "name": actions.FORM},
        {"event": "bot", "text": "Bạn ở xã/phường nào?"},
        {"event": "user", "text": "xa dak choong"},
    ]


async def submit(slots, sender="tg:4242"):
    dispatcher = CollectingDispatcher()
    t = tracker(slots=slots, events=form_events(), sender=sender)
    events = await actions.ActionSubmitHandoff().run(dispatcher, t, {})
    return events, dispatcher.messages


async def test_the_ticket_is_stored_with_its_alerts_before_the_citizen_gets_its_code(
    session_factory,
):
    with session_scope(session_factory) as session:  # the commune's officers' group
        xop = session.scalars(select(Commune).where(Commune.name == "Xốp")).one()
        xop.officer_chat_id = -100_777
    slots = {
        "ho_commune": "xã Đăk Choong (huyện Đăk Glei)",
        "ho_confirm": True,
        "ho_description": "khong nhan duoc ma otp",
        "ho_contact": "0912*****78",  # as Rasa holds it; the number itself was kept apart
        "wt_step": "act_otp",
    }
    assert keep(session_factory, "0912 345 678", sender="tg:4242")
    events, messages = await submit(slots)
    [message] = messages
    assert message["response"] == "utter_ho_created"
    assert message["commune"] == "xã Xốp"
    with session_scope(session_factory) as session:  # the way back comes with the (editable) text
        created = render_response(session=session, name="utter_ho_created")
        assert [b.model_dump() for b in created.buttons] == [
            {"title": "Hủy yêu cầu, hỏi trợ lý", "payload": "/handoff_cancel"}
        ]
    assert {e["name"]: e["value"] for e in events}["ho_commune"] is None  # the form is reset
    with session_scope(session_factory) as session:
        ticket = session.scalars(select(HandoffTicket)).one()
        assert message["code"] == ticket.code
        assert ticket.channel == "telegram" and ticket.sender == "tg:4242"
        assert ticket.commune_label == "xã Xốp, tỉnh Quảng Ngãi" and ticket.commune_id
        assert ticket.contact_phone == "0912345678"
        assert session.scalar(select(contacts.CallbackNumber)) is None  # the ticket took it
        assert ticket.step.startswith("Bước 3. Nhập mã OTP")  # the walkthrough step, by title
        assert [t["who"] for t in ticket.transcript] == ["citizen", "bot"]  # no payload, no form
        [alert] = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "alert"))
        assert (alert.subject_id, alert.destination) == (ticket.id, "-100777")


async def test_no_call_back_and_an_unknown_commune_still_make_a_ticket(session_factory):
    slots = {
        "ho_commune": actions.UNKNOWN_COMMUNE,
        "ho_confirm": True,
        "ho_description": "app bao loi hoai",
        "ho_contact": actions.NO_CONTACT,
    }
    _, [message] = await submit(slots, sender="web:abc")
    assert message["commune"] == "xã/phường"
    with session_scope(session_factory) as session:
        ticket = session.scalars(select(HandoffTicket)).one()
        assert ticket.contact_phone is None and ticket.commune_id is None
        assert ticket.channel == "web"


async def test_a_cancelled_form_makes_no_ticket(session_factory):
    events, messages = await submit({"ho_cancelled": True, "ho_description": "x y"})
    assert [m["response"] for m in messages] == ["utter_ho_cancelled"]
    assert all(e["value"] is None for e in events)
    with session_scope(session_factory) as session:
        assert session.scalars(select(HandoffTicket)).first() is None


async def test_the_status_is_told_from_the_ticket_by_code_or_the_latest(session_factory):
    dispatcher = CollectingDispatcher()
    await actions.ActionHandoffStatus().run(dispatcher, tracker("yeu cau cua toi sao roi"), {})
    assert [m["response"] for m in dispatcher.messages] == ["utter_ho_status_none"]

    slots = {"ho_commune": actions.UNKNOWN_COMMUNE, "ho_description": "loi otp hoai"}
    _, [created] = await submit(slots, sender="web:ho-test")
    dispatcher = CollectingDispatcher()
    await actions.ActionHandoffStatus().run(dispatcher, tracker("yeu cau cua toi sao roi"), {})
    [status] = dispatcher.messages
    assert status["response"] == "utter_ho_status_open" and status["code"] == created["code"]
    dispatcher = CollectingDispatcher()
    number = created["code"].removeprefix("HT-")
    await actions.ActionHandoffStatus().run(dispatcher, tracker(f"ht{number} the nao roi"), {})
    assert dispatcher.messages[0]["code"] == created["code"]
    other = CollectingDispatcher()  # another citizen cannot read it by its code
    await actions.ActionHandoffStatus().run(
        other, tracker(f"HT-{number}", sender="web:someone-else"), {}
    )
    assert [m["response"] for m in other.messages] == ["utter_ho_status_none"]


async def test_a_citizen_who_keeps_opening_tickets_is_sent_to_the_commune_instead(
    session_factory,
):
    slots = {
        "ho_commune": actions.UNKNOWN_COMMUNE,
        "ho_confirm": True,
        "ho_description": "app bao loi hoai",
        "ho_contact": actions.NO_CONTACT,
    }
    for _ in range(3):  # each one opened, then cancelled by the citizen
        _, [message] = await submit(slots, sender="web:again")
        assert message["response"] == "utter_ho_created"
        with session_scope(session_factory) as session:
            session.execute(sa.update(HandoffTicket).values(status="cancelled"))
    _, [message] = await submit(slots, sender="web:again")
    assert message["response"] == "utter_handoff_too_many"
    with session_scope(session_factory) as session:
        assert session.scalar(select(sa.func.count()).select_from(HandoffTicket)) == 3
    _, [message] = await submit(slots, sender="web:someone-else")  # others are not affected
    assert message["response"] == "utter_ho_created"
