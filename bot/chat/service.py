"""Gateway logic: check the citizen's text, ask Rasa, shape the replies."""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

from sqlalchemy.orm import Session

from bot.chat import messages
from bot.chat.choices import resolve_choice
from bot.chat.exceptions import RasaUnavailableError
from bot.chat.models import ConversationState
from bot.chat.rasa_client import RasaClient
from bot.chat.schemas import OutgoingMessage
from bot.faq.schemas import Button

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
    try:
        replies = await rasa.send(sender=sender, text=text, channel=channel)
    except RasaUnavailableError:
        return [messages.BUSY]
    out = [m for m in map(_to_message, replies) if m is not None]
    out = out or [messages.NO_REPLY]
    _remember_buttons(session=session, sender=sender, state=state, replies=out)
    return out


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
