"""Gateway logic: check the citizen's text, ask Rasa, shape the replies."""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

from bot.chat import messages
from bot.chat.exceptions import RasaUnavailableError
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
    *, rasa: RasaClient, sender: str, text: str, channel: str, max_chars: int
) -> list[OutgoingMessage]:
    """Answer one citizen message, whatever it holds; never raise to the caller."""
    text = clean_text(text)
    if not text:
        return [messages.EMPTY]
    if len(text) > max_chars:
        return [messages.TOO_LONG]
    if not _has_words(text):
        return [messages.NO_WORDS]
    try:
        replies = await rasa.send(sender=sender, text=text, channel=channel)
    except RasaUnavailableError:
        return [messages.BUSY]
    out = [m for m in map(_to_message, replies) if m is not None]
    return out or [messages.NO_REPLY]


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
