"""Outbox rows delivered to Telegram chats: pacing per chat, markup, the errors that mean retry."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
)

from bot.channels.telegram.render import officer_message
from bot.channels.telegram.words import Words
from bot.chat.identity import Citizen
from bot.chat.render import short_key
from bot.outbox import Delivered, Job, PermanentError, RetryLater

__all__ = ["TelegramSender"]


def _chat_id(destination: str) -> int:
    # a citizen's sender id (tg:<chat id>) or an officer group's bare chat id
    if ":" in destination:
        return int(Citizen.parse(destination).platform_id)
    return int(destination)


def _keyed(buttons: list[Any], session: Session) -> list[list[dict[str, str]]]:
    """Rows of ``{text, callback_data}``, ready for Telegram.

    Internal ``{title, payload}`` buttons get their payload stored under a short key
    (Telegram allows 64 bytes of callback data).
    """
    rows: list[list[dict[str, str]]] = []
    for row in buttons:
        row = row if isinstance(row, list) else [row]
        keys = []
        for b in row:
            if "callback_data" in b:  # officer buttons, already short
                keys.append({"text": b["text"], "callback_data": b["callback_data"]})
            else:
                keys.append(
                    {"text": b["title"][:64], "callback_data": short_key(session, b["payload"])}
                )
        rows.append(keys)
    return rows


def _markup(rows: list[list[dict[str, str]]]) -> InlineKeyboardMarkup | None:
    keyboard = [
        [InlineKeyboardButton(b["text"], callback_data=b["callback_data"]) for b in row]
        for row in rows
    ]
    return InlineKeyboardMarkup(keyboard) if keyboard else None


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramSender:
    """Delivers outbox rows of the ``telegram`` channel with a PTB bot."""

    def __init__(self, bot: Any, *, per_chat_interval_s: float = 0.35) -> None:
        self._bot = bot
        self._interval = per_chat_interval_s
        self._last: dict[int, float] = {}

    async def _pace(self, chat_id: int) -> None:
        # Telegram allows about one message per second per chat; bursts of a few are fine.
        wait = self._last.get(chat_id, 0.0) + self._interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last[chat_id] = time.monotonic()

    def prepare(self, session: Session, job: Job) -> Job:
        """Render what officers are told; keep button payloads under short keys.

        Runs before sending, in the claim's transaction.
        """
        payload = dict(job.payload)
        if "officer" in payload:  # a channel-free value of bot.handoff.alerts
            payload.update(officer_message(payload["officer"], Words(session)))
        keyed = _keyed(payload.get("buttons") or [], session)
        return replace(job, payload={**payload, "keyboard": keyed})

    async def deliver(self, job: Job) -> Delivered:
        """Send or edit one message; map Telegram's errors to retry or dead."""
        payload = job.payload
        chat_id = _chat_id(job.destination)
        markup = _markup(payload.get("keyboard") or [])
        await self._pace(chat_id)
        try:
            if payload.get("method") == "edit":
                await self._bot.edit_message_text(
                    payload["text"],
                    chat_id=chat_id,
                    message_id=payload["message_id"],
                    parse_mode=payload.get("parse_mode"),
                    reply_markup=markup,
                )
                return Delivered(message_id=payload["message_id"])
            reply_to = payload.get("reply_to")
            message = await self._bot.send_message(
                chat_id,
                payload["text"],
                parse_mode=payload.get("parse_mode"),
                reply_markup=markup,
                reply_parameters=(
                    ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
                    if reply_to
                    else None
                ),
            )
            return Delivered(message_id=message.message_id)
        except RetryAfter as exc:
            raise RetryLater(
                "429 Too Many Requests", after=_seconds(exc.retry_after) + 0.5
            ) from exc
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return Delivered(message_id=payload.get("message_id"))
            raise PermanentError(f"BadRequest: {exc.message}") from exc
        except (Forbidden, InvalidToken, ChatMigrated) as exc:
            raise PermanentError(f"{type(exc).__name__}: {exc}") from exc
