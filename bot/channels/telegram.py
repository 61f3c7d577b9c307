"""Telegram through python-telegram-bot 22: delivering outbox rows and the officers' desk.

Officers get alerts with "Nhận xử lý" / "Đã giải quyết" buttons, reply to an alert to
write to the citizen, and use /queue, /stats, /close and /id. Every update is handled
once: its ``update_id`` is stored in the same transaction as what it changed.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.chat.identity import Citizen
from bot.chat.render import short_key
from bot.config import Settings
from bot.db import Database
from bot.handoff import service, texts
from bot.handoff.models import ProcessedUpdate
from bot.handoff.outbox import Clock, Delivered, Job, PermanentError, RetryLater

logger = logging.getLogger(__name__)

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]

__all__ = ["OfficerDesk", "TelegramSender", "build_application", "first_time", "webhook_router"]

ALLOWED_UPDATES = ["message", "callback_query"]
_CALLBACK_RE = re.compile(r"^h:(claim|done):(\d+)$")
_CODE_RE = re.compile(r"^HT-?(\d{1,9})$", re.IGNORECASE)
_NOT_OFFICER = (
    "Tài khoản Telegram này chưa được đăng ký là cán bộ. "
    "Gửi /id để lấy mã tài khoản và nhờ quản trị viên thêm bạn."
)
_RESULT = {
    service.ActResult.TAKEN: "Yêu cầu này đã có cán bộ khác nhận.",
    service.ActResult.CLOSED: "Yêu cầu này đã đóng.",
    service.ActResult.FORBIDDEN: "Yêu cầu này không thuộc xã của bạn.",
    service.ActResult.UNKNOWN: "Không tìm thấy yêu cầu này.",
    service.ActResult.LATE: (
        "Đã gửi, nhưng người dân nhắn lần cuối quá 48 giờ trước: Zalo có thể không chuyển tin "
        "này miễn phí. Nếu cần, hãy gọi điện (nếu họ để lại số) hoặc hẹn họ lên Công an xã."
    ),
}
_HELP = (
    "Cán bộ dùng:\n"
    "• Bấm 🙋 Nhận xử lý trên tin báo để nhận yêu cầu.\n"
    "• Trả lời (Reply) tin báo để nhắn cho người dân.\n"
    "• /close HT-000123 ghi chú – đóng yêu cầu (hoặc trả lời tin báo bằng /close ghi chú).\n"
    "• /queue – các yêu cầu đang mở; /stats – số liệu; /id – mã Telegram của bạn."
)


def build_application(settings: Settings, *, polling: bool) -> Application:  # type: ignore[type-arg,unused-ignore]
    """A PTB application pointed at ``settings.telegram_api_url`` (a local fake in tests)."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    timeout = settings.telegram_timeout_s
    request = HTTPXRequest(
        connection_pool_size=8, read_timeout=timeout, write_timeout=timeout, connect_timeout=5
    )
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_api_url.replace("/bot", "/file/bot"))
        .request(request)
        # the outbox retries by itself: the limiter only paces (no hidden retries)
        .rate_limiter(AIORateLimiter(max_retries=0))
        # updates are handled side by side (one chat's in order: telegram_citizens.py);
        # one at a time, a crowd of citizens would queue behind each other's Rasa turn
        .concurrent_updates(settings.telegram_concurrent_updates)
    )
    if not polling:
        builder = builder.updater(None)
    else:
        builder = builder.get_updates_request(
            HTTPXRequest(read_timeout=timeout + 30, connect_timeout=5)
        )
    return builder.build()


# --- outbox delivery ---------------------------------------------------------------
def first_time(session: Session, update_id: int) -> bool:
    """Record the update as handled in the caller's transaction; False if it already was."""
    try:
        with session.begin_nested():
            session.add(ProcessedUpdate(source="telegram", update_id=str(update_id)))
    except IntegrityError:
        logger.info("telegram update %s already handled", update_id)
        return False
    return True


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
        """Store the buttons' payloads under short keys (before sending, in the claim)."""
        keyed = _keyed(job.payload.get("buttons") or [], session)
        return replace(job, payload={**job.payload, "keyboard": keyed})

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


class _Check(filters.MessageFilter):
    """A filter from a function (PTB has no such helper)."""

    def __init__(self, check: Callable[[Any], bool]) -> None:
        super().__init__(name=getattr(check, "__name__", "check"))
        self._check = check

    def filter(self, message: Any) -> bool:
        """Whether ``message`` passes."""
        return self._check(message)


# --- the officers' desk ----------------------------------------------------------
class OfficerDesk:
    """PTB handlers for officers; all changes go through ``bot.handoff.service``."""

    def __init__(self, db: Database, *, clock: Clock, routing: service.Routing) -> None:
        self._db = db
        self._clock = clock
        self._routing = routing
        # what a reply to one of the bot's messages is when it is not an alert (the citizens'
        # text handler, set by bot.channels.telegram_citizens)
        self.not_an_alert: Handler | None = None

    def register(self, application: Application) -> None:  # type: ignore[type-arg,unused-ignore]
        """Add the officers' handlers (before the citizens' ones) to ``application``."""
        application.add_handler(CallbackQueryHandler(self.on_button, pattern=_CALLBACK_RE))
        application.add_handler(CommandHandler("close", self.on_close))
        application.add_handler(CommandHandler("queue", self.on_queue))
        application.add_handler(CommandHandler("stats", self.on_stats))
        application.add_handler(CommandHandler("id", self.on_id))
        application.add_handler(
            MessageHandler(
                filters.REPLY & filters.TEXT & ~filters.COMMAND & _Check(self._is_bot_reply),
                self.on_reply,
            )
        )
        application.add_error_handler(self.on_error)

    @staticmethod
    def _is_bot_reply(message: Any) -> bool:
        # Officers answer by replying to an alert or relayed message: one of the bot's. Whether
        # it is an alert is looked up in on_reply (a filter must not wait on the database).
        replied = getattr(message, "reply_to_message", None)
        sender = getattr(replied, "from_user", None)
        return bool(sender is not None and sender.is_bot)

    async def is_officer(self, user_id: int) -> bool:
        """Whether a Telegram account belongs to an active officer."""
        return await self._db.run(
            lambda session: service.officer_by_telegram(session, user_id) is not None
        )

    async def _once(
        self, update: Update, work: Callable[[Session], str | None]
    ) -> tuple[bool, str | None]:
        """Run ``work`` in one transaction with the update's dedupe row; skip repeats."""
        update_id = update.update_id

        def unit(session: Session) -> tuple[bool, str | None]:
            if not first_time(session, update_id):
                return False, None
            return True, work(session)

        return await self._db.run(unit)

    async def on_button(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Nhận xử lý / Đã giải quyết."""
        query = update.callback_query
        match = _CALLBACK_RE.match(query.data or "") if query else None
        if query is None or match is None:
            return
        action, ticket_id = match.group(1), int(match.group(2))

        def work(session: Session) -> str:
            officer = service.officer_by_telegram(session, query.from_user.id)
            if officer is None:
                return _NOT_OFFICER
            if action == texts.CLAIM:
                result, ticket = service.claim(session, ticket_id, officer, now=self._clock())
                if result is service.ActResult.TAKEN and ticket and ticket.claimed_by:
                    return f"{ticket.claimed_by.name} đã nhận yêu cầu này."
                done = (
                    f"Bạn đã nhận {ticket.code}. Trả lời tin báo để nhắn người dân."
                    if ticket
                    else ""
                )
            else:
                result, ticket = service.resolve(
                    session, ticket_id, officer, note=None, now=self._clock()
                )
                done = f"Đã đóng {ticket.code}." if ticket else ""
            return done if result is service.ActResult.DONE else _RESULT[result]

        fresh, answer = await self._once(update, work)
        if fresh:
            await _quietly(query.answer(answer, show_alert=False))

    async def on_reply(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A reply to an alert or relayed message goes to the citizen."""
        message, user = update.effective_message, update.effective_user
        if message is None or message.reply_to_message is None:
            return
        replied_to, chat_id = message.reply_to_message.message_id, message.chat_id
        alert = await self._db.run(
            lambda session: service.ticket_for_alert(session, chat_id, replied_to) is not None
        )
        if not alert:  # a citizen quoting one of the bot's answers is just a citizen talking
            if self.not_an_alert is not None:
                await self.not_an_alert(update, _context)
            return

        def work(session: Session) -> str | None:
            ticket = service.ticket_for_alert(session, chat_id, replied_to)
            if ticket is None:
                return None  # the ticket went between the two looks: nothing to relay
            officer = service.officer_by_telegram(session, user.id) if user else None
            if officer is None:
                return _NOT_OFFICER
            result = service.officer_reply(
                session, ticket, officer, message.text or "", now=self._clock()
            )
            return None if result is service.ActResult.DONE else _RESULT[result]

        fresh, answer = await self._once(update, work)
        if fresh and answer:
            await _quietly(message.reply_text(answer))

    async def on_close(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/close HT-000123 note, or /close note as a reply to an alert."""
        message, user = update.effective_message, update.effective_user
        if message is None:
            return
        args = list(context.args or [])

        def work(session: Session) -> str:
            officer = service.officer_by_telegram(session, user.id) if user else None
            if officer is None:
                return _NOT_OFFICER
            ticket_id = None
            if args and (code := _CODE_RE.match(args[0])):
                ticket_id, note_words = int(code.group(1)), args[1:]
            elif message.reply_to_message is not None:
                ticket = service.ticket_for_alert(
                    session, message.chat_id, message.reply_to_message.message_id
                )
                ticket_id, note_words = (ticket.id if ticket else None), args
            if ticket_id is None:
                return (
                    "Cách dùng: /close HT-000123 ghi chú, hoặc trả lời tin báo bằng /close ghi chú."
                )
            note = " ".join(note_words).strip() or None
            result, ticket = service.resolve(
                session, ticket_id, officer, note=note, now=self._clock()
            )
            if result is service.ActResult.DONE and ticket:
                return f"Đã đóng {ticket.code}."
            return _RESULT[result]

        fresh, answer = await self._once(update, work)
        if fresh and answer:
            await _quietly(message.reply_text(answer))

    async def on_queue(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """/queue: the officer's open tickets."""
        await self._officer_view(
            update, lambda s, o: texts.queue_text(service.queue_for(s, o), self._clock())
        )

    async def on_stats(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """/stats: the officer's numbers."""
        await self._officer_view(
            update, lambda s, o: texts.stats_text(service.stats_for(s, o, now=self._clock()))
        )

    async def _officer_view(self, update: Update, view: Callable[[Session, Any], str]) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None:
            return

        def work(session: Session) -> str:
            officer = service.officer_by_telegram(session, user.id) if user else None
            return view(session, officer) if officer else _NOT_OFFICER

        fresh, answer = await self._once(update, work)
        if fresh and answer:
            await _quietly(message.reply_text(answer, parse_mode=ParseMode.HTML))

    async def on_id(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """/id: the ids an admin needs to register an officer or a commune group."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        await _quietly(
            message.reply_text(
                f"Mã tài khoản Telegram của bạn: {user.id}\n"
                f"Mã cuộc trò chuyện này: {message.chat_id}"
            )
        )

    async def on_help(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """/help for officers."""
        if update.effective_message is not None:
            await _quietly(update.effective_message.reply_text(_HELP))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log; the update's transaction was rolled back, so a redelivery is handled again."""
        logger.error("telegram update failed: %r", context.error, exc_info=context.error)


async def _quietly(coro: Any) -> None:
    # Acknowledgements are best effort: the state is already committed.
    try:
        await coro
    except TelegramError as exc:
        logger.warning("telegram acknowledgement not sent: %s", exc)


def webhook_router() -> APIRouter:
    """``POST /webhooks/telegram``: checks the secret in constant time, then dispatches."""
    router = APIRouter()

    @router.post("/webhooks/telegram", include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        settings: Settings = request.app.state.settings
        application = getattr(request.app.state, "telegram", None)
        secret = settings.telegram_webhook_secret
        if application is None or secret is None:
            raise HTTPException(status_code=404)
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
            raise HTTPException(status_code=403)
        try:
            data = await request.json()
            update = Update.de_json(data, application.bot)
        except Exception as exc:
            raise HTTPException(status_code=400, detail="not a Telegram update") from exc
        await application.process_update(update)
        return Response(status_code=200)

    return router
