"""Each Telegram update handled once; acknowledgements that may fail."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session
from telegram.error import (
    TelegramError,
)

from bot.channels import inbound

logger = logging.getLogger(__name__)

__all__ = ["first_time", "quietly"]


def first_time(session: Session, update_id: int) -> bool:
    """Record the update as handled in the caller's transaction; False if it already was."""
    return inbound.first_time(session, "telegram", str(update_id))


async def quietly(coro: Any) -> None:
    """Await a Telegram call whose failure changes nothing (the state is committed)."""
    try:
        await coro
    except TelegramError as exc:
        logger.warning("telegram acknowledgement not sent: %s", exc)
