"""Handing a citizen to the officers of their commune: the form, the ticket, its status.

The form ``handoff_form`` asks, one step per message: the commune (any spelling, old or
new name; it asks when a name is ambiguous), a yes/no confirmation of the resolved
commune, a short description, and a call-back number *only if the citizen chooses to
give one*. Rasa only ever sees that number masked (``0912*****78``): the gateway keeps the
number itself apart (``bot.privacy.contacts``) and the ticket takes it from there.
``action_submit_handoff`` commits the ticket (and its alerts, in the same
transaction) before it tells the citizen the code.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actions import db
from bot.actions.communes import directory
from bot.actions.walkthrough import flow
from bot.chat.identity import Citizen
from bot.communes.models import Commune
from bot.communes.resolver import FormerUnit, Status
from bot.config import get_settings
from bot.db import session_scope, utcnow
from bot.handoff import service, texts
from bot.handoff.models import TicketStatus
from bot.privacy import contacts
from bot.privacy.mask import MASKED_PHONE_RE
from nlu.text import fold

__all__ = [
    "ActionAskHoCommune",
    "ActionAskHoConfirm",
    "ActionAskHoContact",
    "ActionAskHoDescription",
    "ActionHandoffStatus",
    "ActionSubmitHandoff",
    "ValidateHandoffForm",
]

FORM = "handoff_form"
SLOTS = ("ho_commune", "ho_confirm", "ho_description", "ho_contact")
NO_CONTACT = "none"
HINT = "ho_hint"  # validation already told the citizen what to type: do not ask twice
UNKNOWN_COMMUNE = "unknown"
_YES = {"dung", "dung roi", "co", "phai", "vang", "da", "u", "uh", "ok", "oke", "yes", "chinh xac"}
_NO = {"khong", "ko", "k", "sai", "khong phai", "khong dung", "sai roi", "no"}
_NO_CALL = {"khong", "ko", "k", "khong can", "khong can goi lai", "khong can goi", "thoi"}
_UNKNOWN = {"khong ro", "khong biet", "ko biet", "ko ro", "toi khong ro xa"}
_CODE_RE = re.compile(r"\bHT-?(\d{1,9})\b", re.IGNORECASE)
_TRANSCRIPT_TURNS = 6


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9/ ]+", " ", fold(text.lower())).split())


def _reset() -> list[dict[str, Any]]:
    return [SlotSet(slot, None) for slot in (*SLOTS, "ho_cancelled", HINT)]


def _unit(text: str) -> FormerUnit | None:
    result = directory().resolve(text)
    return result.matches[0] if result.status is Status.FOUND else None


class ValidateHandoffForm(FormValidationAction):
    """Checks each answer of ``handoff_form``; "hủy" at any step leaves the form."""

    def name(self) -> str:
        """Return the action name used in the domain."""
        return f"validate_{FORM}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Leave the form when the citizen cancels; validate the answer otherwise."""
        typed = str(tracker.latest_message.get("text") or "")
        if texts.says_cancel(typed) or _words(typed) == "/wt_stop":
            return [SlotSet("ho_cancelled", True), SlotSet("requested_slot", None)]
        return await super().run(dispatcher, tracker, domain)

    def validate_ho_commune(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Resolve the commune; ask again, with choices, when it is ambiguous or unknown."""
        text = str(value or "").strip()
        if _words(text) in _UNKNOWN:
            return {"ho_commune": UNKNOWN_COMMUNE, "ho_confirm": True}
        if not text or text.startswith("/"):
            return {"ho_commune": None}
        result = directory().resolve(text)
        if result.status is Status.FOUND:
            unit = result.matches[0]
            return {"ho_commune": unit.label}
        if result.status is Status.AMBIGUOUS:
            dispatcher.utter_message(
                response="utter_commune_ambiguous",
                buttons=[{"title": u.label, "payload": u.label} for u in result.matches[:6]],
            )
        else:
            dispatcher.utter_message(response="utter_ho_commune_not_found")
        return {"ho_commune": None, HINT: True}

    def validate_ho_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Yes keeps the commune; no (or another name) asks for it again."""
        if value is True:
            return {"ho_confirm": True}
        answer = _words(str(value or ""))
        if answer in _YES:
            return {"ho_confirm": True}
        if answer in _NO:
            return {"ho_commune": None, "ho_confirm": None}
        other = _unit(str(value or ""))  # they typed a different place instead
        if other is not None:
            return {"ho_commune": other.label, "ho_confirm": None}
        dispatcher.utter_message(response="utter_ho_yes_no")
        return {"ho_confirm": None, HINT: True}

    def validate_ho_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Any words will do; a bare payload or emoji asks again."""
        text = str(value or "").strip()
        if text.startswith("/") or len(_words(text)) < 2:
            dispatcher.utter_message(response="utter_ho_describe_more")
            return {"ho_description": None, HINT: True}
        return {"ho_description": text[:1000]}

    async def validate_ho_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A phone number typed on purpose is the consent; "không cần" is none.

        The number reaches Rasa masked; it counts only if the gateway kept it for this
        citizen (it was typed while this question was on screen).
        """
        text = str(value or "").strip()
        if _words(text) in _NO_CALL:
            return {"ho_contact": NO_CONTACT}
        found = MASKED_PHONE_RE.findall(text)
        if len(found) == 1:
            sender, masked = tracker.sender_id, found[0]

            def look() -> bool:
                with session_scope(db.factory()) as session:
                    return contacts.kept(session, sender=sender, masked=masked, now=utcnow())

            if await asyncio.to_thread(look):
                return {"ho_contact": masked}
        dispatcher.utter_message(response="utter_ho_bad_phone")
        return {"ho_contact": None, HINT: True}


class _AskOnce(Action):
    """Asks for a slot, unless validation has just explained what to type."""

    slot = ""

    def name(self) -> str:
        """Return the action name the form looks for."""
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Ask, or stay silent once after a validation message."""
        if tracker.get_slot(HINT):
            return [SlotSet(HINT, None)]
        return self.ask(dispatcher, tracker)

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        """Send the question."""
        dispatcher.utter_message(response=f"utter_ask_{self.slot}")
        return []


class ActionAskHoCommune(_AskOnce):
    """Which commune do you live in?"""

    slot = "ho_commune"


class ActionAskHoDescription(_AskOnce):
    """What is the problem?"""

    slot = "ho_description"


class ActionAskHoContact(_AskOnce):
    """A phone number for a call-back, if the citizen wants one."""

    slot = "ho_contact"


class ActionAskHoConfirm(_AskOnce):
    """Asks "<old> now belongs to <new> — right?" with Yes / No buttons."""

    slot = "ho_confirm"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        """Say which commune the citizen's place belongs to now."""
        unit = _unit(str(tracker.get_slot("ho_commune") or ""))
        if unit is None:  # cannot happen after validation; ask for the commune again
            dispatcher.utter_message(response="utter_ask_ho_commune")
            return [SlotSet("ho_commune", None)]
        same = fold(unit.name.lower()) == fold(unit.new_name.lower())
        dispatcher.utter_message(
            response="utter_ask_ho_confirm",
            place=unit.label if not same else f"{unit.unit_type} {unit.name}",
            new=unit.new_label,
        )
        return []


class ActionSubmitHandoff(Action):
    """Commits the ticket, then tells the citizen its code (or that they cancelled)."""

    def name(self) -> str:
        """Return the action name used in the domain."""
        return "action_submit_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Create the ticket from the form's slots."""
        if tracker.get_slot("ho_cancelled"):
            dispatcher.utter_message(response="utter_ho_cancelled")
            return _reset()
        sender = tracker.sender_id
        channel = Citizen.parse(sender).channel.value  # tg:<id> is the "telegram" channel
        place = str(tracker.get_slot("ho_commune") or "")
        unit = None if place == UNKNOWN_COMMUNE else _unit(place)
        contact = tracker.get_slot("ho_contact")
        step = tracker.get_slot("wt_error_step") or tracker.get_slot("wt_step")
        settings = get_settings()
        description = str(tracker.get_slot("ho_description") or "")
        transcript = _transcript(tracker.events)

        def store() -> tuple[str, str]:
            with session_scope(db.factory()) as session:
                commune = _commune(session, unit)
                phone = None
                if contact and contact != NO_CONTACT:  # the number kept apart, taken now
                    phone = contacts.take(session, sender=sender, masked=contact, now=utcnow())
                ticket = service.open_ticket(
                    session,
                    service.NewTicket(
                        channel=channel,
                        sender=sender,
                        commune_id=commune.id if commune else None,
                        commune_label=unit.new_label if unit else "",
                        description=description,
                        contact_phone=phone,
                        step=step,
                        step_title=_step_title(step),
                        transcript=transcript,
                    ),
                    now=utcnow(),
                    routing=service.Routing.from_settings(settings),
                )
                where = commune.label if commune else "xã/phường"
                return ticket.code, where

        # in a thread: the action server's event loop serves every other conversation
        try:
            code, where = await asyncio.to_thread(store)
        except service.TooManyTicketsError:  # a flood, or a citizen who keeps starting over
            dispatcher.utter_message(response=texts.TOO_MANY.name)
            return _reset()
        # committed: only now does the citizen learn the code
        dispatcher.utter_message(
            response="utter_ho_created",
            code=code,
            commune=where,
        )
        return _reset()


class ActionHandoffStatus(Action):
    """What became of my request? Answers from the ticket, by code or the latest one."""

    def name(self) -> str:
        """Return the action name used in the domain."""
        return "action_handoff_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Tell the status of the citizen's ticket."""
        match = _CODE_RE.search(str(tracker.latest_message.get("text") or ""))
        code = f"HT-{match.group(1)}" if match else None
        sender = tracker.sender_id

        def look() -> dict[str, str] | None:
            with session_scope(db.factory()) as session:
                ticket = service.latest_ticket(session, sender, code)
                if ticket is None:
                    return None
                return {
                    "response": _STATUS_RESPONSE[TicketStatus(ticket.status)],
                    "code": ticket.code,
                    "officer": ticket.claimed_by.name if ticket.claimed_by else "",
                    "note": ticket.resolution_note or "không có",
                }

        found = await asyncio.to_thread(look)
        if found is None:
            dispatcher.utter_message(response="utter_ho_status_none")
        else:
            dispatcher.utter_message(**found)
        return []


_STATUS_RESPONSE = {
    TicketStatus.OPEN: "utter_ho_status_open",
    TicketStatus.CLAIMED: "utter_ho_status_claimed",
    TicketStatus.RESOLVED: "utter_ho_status_resolved",
    TicketStatus.CANCELLED: "utter_ho_status_cancelled",
}


def _commune(session: Session, unit: FormerUnit | None) -> Commune | None:
    if unit is None:
        return None
    return session.scalar(
        select(Commune).where(
            Commune.province == unit.new_province,
            Commune.unit_type == unit.new_type,
            Commune.name == unit.new_name,
        )
    )


def _step_title(step: str | None) -> str | None:
    if not step:
        return None
    found = flow().steps.get(step)
    if found is None:
        return step
    first = found.text.strip().splitlines()[0]
    return first if len(first) <= 80 else first[:77] + "…"


def _transcript(events: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The turns before the citizen asked for an officer (the form's own Q&A left out)."""
    starts = [
        i for i, e in enumerate(events) if e.get("event") == "active_loop" and e.get("name") == FORM
    ]
    turns: list[dict[str, str]] = []
    for event in events[: starts[-1] if starts else len(events)]:
        text = event.get("text")
        if event.get("event") in ("user", "bot") and text and not str(text).startswith("/"):
            turns.append({"who": "citizen" if event["event"] == "user" else "bot", "text": text})
    return turns[-_TRANSCRIPT_TURNS:]
