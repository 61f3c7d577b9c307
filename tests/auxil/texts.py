"""The app's own replies as a citizen receives them when nobody edited their text."""

from __future__ import annotations

from bot.chat.schemas import OutgoingMessage
from bot.faq.fixed import Fixed

__all__ = ["seeded"]


def seeded(text: Fixed) -> OutgoingMessage:
    """``text`` as sent with the seed file's wording and buttons."""
    return OutgoingMessage(text=text.text, buttons=text.buttons)
