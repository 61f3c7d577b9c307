"""Gateway logic: check the citizen's text, ask Rasa, shape the replies."""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot import locks
from bot.chat import messages
from bot.chat.choices import resolve_choice
from bot.chat.exceptions import RasaUnavailableError
from bot.chat.models import ConversationState
from bot.chat.rasa_client import RasaClient
from bot.chat.schemas import OutgoingMessage
from bot.db import utcnow
from bot.faq.schemas import Button
from bot.handoff import service as handoff
from bot.handoff import texts
from bot.handoff.models import HandoffTicket
from bot.handoff.outbox import Clock
from nlu.text import fold

logger = logging.getLogger(__name__)

__all__ = ["clean_text", "handle_message"]

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


def clean_text(text: str) -> str:
    """NFC-normalise, drop control characters and trim the text."""
    return _CONTROL_RE.sub("", unicodedata.normalize("NFC", text)).strip()


def _has_words(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


async def handle_message(
    *,
    session: Session,
    rasa: RasaClient,
    sender: str,
    text: str,
    channel: str,
    max_chars: int,
    clock: Clock = utcnow,
) -> list[OutgoingMessage]:
    """Answer one citizen message, whatever it holds; never raise to the caller."""
    text = clean_text(text)
    if not text:
        return [messages.EMPTY]
    if len(text) > max_chars:
        return [messages.TOO_LONG]
    if not _has_words(text):
        return [messages.NO_WORDS]
    state = session.get(ConversationState, sender)
    if state is not None:
        text = resolve_choice(text, state.last_buttons) or text
    ticket = handoff.active_ticket(session, sender)
    if ticket is not None:  # an officer has the conversation: relay, do not answer
        return _relay(
            session=session, ticket=ticket, sender=sender, state=state, text=text, now=clock()
        )
    if text == texts.CANCEL_PAYLOAD:  # an old "Hủy yêu cầu" button, the ticket already closed
        return [messages.NOTHING_TO_CANCEL]
    try:
        # a model swap under way: Rasa answers once the new model is loaded, not "busy"
        slow = locks.holder(session, locks.SERVING, clock()) is not None
        replies = await rasa.send(sender=sender, text=text, channel=channel, slow=slow)
    except RasaUnavailableError:
        return [messages.BUSY]
    out = [m for m in map(_to_message, replies) if m is not None]
    out = out or [messages.NO_REPLY]
    _remember_buttons(session=session, sender=sender, state=state, replies=out)
    return out


def _relay(
    *,
    session: Session,
    sender: str,
    state: ConversationState | None,
    ticket: HandoffTicket,
    text: str,
    now: datetime,
) -> list[OutgoingMessage]:
    cancel = Button(**texts.cancel_button())
    officer = ticket.claimed_by.name if ticket.claimed_by else None
    if text == texts.CANCEL_PAYLOAD or _says_cancel(text):
        handoff.cancel(session, ticket, now=now)
        out = [OutgoingMessage(text=texts.citizen_cancelled(ticket.code), buttons=[messages.MENU])]
    elif text.startswith("/"):  # an old button or a command (/start, /menu): nothing to relay
        out = [OutgoingMessage(text=texts.citizen_waiting(ticket.code, officer), buttons=[cancel])]
    else:
        handoff.citizen_message(session, ticket, text, now=now)
        out = [OutgoingMessage(text=texts.citizen_relayed(ticket.code, officer), buttons=[cancel])]
    _remember_buttons(session=session, sender=sender, state=state, replies=out)
    return out


def _says_cancel(text: str) -> bool:
    # Typed rather than pressed: "huy yeu cau", "Hủy yêu cầu, hỏi trợ lý".
    return fold(text.lower()).strip(" .!") in _CANCEL_WORDS


_CANCEL_WORDS = {"huy", "huy yeu cau", "huy yeu cau, hoi tro ly", "thoi huy", "khong can nua"}


def _remember_buttons(
    *,
    session: Session,
    sender: str,
    state: ConversationState | None,
    replies: list[OutgoingMessage],
) -> None:
    # The buttons of the last bubble that has any: those are the choices on screen.
    shown = next((m.buttons for m in reversed(replies) if m.buttons), [])
    buttons = [b.model_dump() for b in shown]
    if state is None:
        session.add(ConversationState(sender=sender, last_buttons=buttons))
    else:
        state.last_buttons = buttons


def _to_message(reply: dict[str, Any]) -> OutgoingMessage | None:
    text = reply.get("text")
    if not isinstance(text, str) or not text.strip():
        return None
    buttons = [
        Button(title=str(b["title"]), payload=str(b["payload"]))
        for b in reply.get("buttons") or []
        if isinstance(b, dict) and b.get("title") and b.get("payload")
    ]
    return OutgoingMessage(text=text, buttons=buttons)
