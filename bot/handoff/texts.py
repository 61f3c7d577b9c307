"""What the handoff says to citizens (plain text and buttons, shown by every channel).

The wording is in ``data/app_texts.yml`` (``utter_handoff_*``), editable in the console;
each function fills in the ticket's code and the officer's name, in the caller's unit of
work. What officers are told is a channel-free value (``bot.handoff.alerts``), rendered by
the officers' channel (``bot.channels.telegram.render``).
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from bot.faq.fixed import Fixed
from bot.faq.schemas import BotResponse
from nlu.text import fold

__all__ = [
    "CANCEL_PAYLOAD",
    "TOO_MANY",
    "cancelled",
    "claimed",
    "officer_says",
    "relayed",
    "resolved",
    "says_cancel",
    "waiting",
]

CANCEL_PAYLOAD = "/handoff_cancel"  # the "Hủy yêu cầu, hỏi trợ lý" button
# typed rather than pressed, folded: "huy yeu cau", "Hủy yêu cầu, hỏi trợ lý", "thôi hủy"
CANCEL_WORDS = frozenset(
    {
        "huy",
        "huy yeu cau",
        "huy yeu cau hoi tro ly",
        "thoi huy",
        "thoi khong can nua",
        "khong can nua",
        "dung lai",
    }
)

TOO_MANY = Fixed("utter_handoff_too_many")  # the action server says it (HANDOFF_TICKETS_PER_DAY)
_RELAYED = Fixed("utter_handoff_relayed")
_RELAYED_UNCLAIMED = Fixed("utter_handoff_relayed_unclaimed")
_WAITING = Fixed("utter_handoff_waiting")
_WAITING_UNCLAIMED = Fixed("utter_handoff_waiting_unclaimed")
_CLAIMED = Fixed("utter_handoff_claimed")
_OFFICER_SAYS = Fixed("utter_handoff_officer_says")
_RESOLVED = Fixed("utter_handoff_resolved")
_RESOLVED_NOTE = Fixed("utter_handoff_resolved_note")
_CANCELLED = Fixed("utter_handoff_cancelled")


def says_cancel(text: str) -> bool:
    """Whether the citizen typed a way of withdrawing the request (or of leaving its form)."""
    return " ".join(_NOT_WORD.sub(" ", fold(text.lower())).split()) in CANCEL_WORDS


_NOT_WORD = re.compile(r"[^a-z0-9 ]+")


def relayed(session: Session, code: str, officer: str | None) -> BotResponse:
    """Receipt for a citizen message that went to the officer."""
    if officer:
        return _RELAYED.render(session, code=code, officer=officer)
    return _RELAYED_UNCLAIMED.render(session, code=code)


def waiting(session: Session, code: str, officer: str | None) -> BotResponse:
    """A button or command while an officer has the conversation: where things stand."""
    if officer:
        return _WAITING.render(session, code=code, officer=officer)
    return _WAITING_UNCLAIMED.render(session, code=code)


def claimed(session: Session, code: str, officer: str) -> BotResponse:
    """Told when an officer takes the ticket."""
    return _CLAIMED.render(session, code=code, officer=officer)


def officer_says(session: Session, officer: str, text: str) -> BotResponse:
    """An officer's reply as the citizen sees it."""
    return _OFFICER_SAYS.render(session, officer=officer, text=text)


def resolved(session: Session, code: str, note: str | None) -> BotResponse:
    """Told when the officer closes the ticket; the assistant answers again."""
    if note:
        return _RESOLVED_NOTE.render(session, code=code, note=note)
    return _RESOLVED.render(session, code=code)


def cancelled(session: Session, code: str) -> BotResponse:
    """Told when the citizen withdraws the ticket."""
    return _CANCELLED.render(session, code=code)
