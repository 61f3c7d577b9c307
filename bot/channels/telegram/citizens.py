"""Citizens on Telegram: the same assistant as the web chat, with native buttons.

Private chats only (groups are for officers). Each update is handled once: its
``update_id`` is stored in the same transaction as the replies it produced, and the
replies go out through the outbox (retried, in order per chat, split at 4,096 chars).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.telegram.desk import OfficerDesk
from bot.channels.telegram.updates import first_time, quietly
from bot.chat import messages
from bot.chat.identity import Channel, Citizen
from bot.chat.ordering import KeyedLocks
from bot.chat.render import expand_key, split_text
from bot.chat.schemas import OutgoingMessage
from bot.chat.service import Gateway
from bot.db import Database
from bot.outbox import Clock, enqueue

logger = logging.getLogger(__name__)

__all__ = ["CHANNEL", "MESSAGE_LIMIT", "CitizenFront", "enqueue_replies"]

CHANNEL = Channel.TELEGRAM.value
MESSAGE_LIMIT = 4096
KEY_PREFIX = "k:"
HELP = OutgoingMessage(
    text=(
        "Tôi là trợ lý tự động về tài khoản định danh điện tử (VNeID). Bạn cứ gõ câu hỏi, có dấu "
        "hay không dấu đều được, hoặc bấm nút. Lệnh: /menu – các chủ đề, /restart – bắt đầu lại. "
        "Tôi không bao giờ hỏi mã OTP, mật khẩu hay mật mã của bạn."
    ),
    buttons=[messages.MENU, messages.OFFICER],
)
STALE_BUTTON = "Nút này đã cũ. Bạn gõ câu hỏi hoặc gửi /menu nhé."


def enqueue_replies(
    session: Session,
    *,
    sender: str,
    replies: Sequence[OutgoingMessage],
    key: str,
    now: datetime | None = None,
) -> None:
    """Queue replies for a Telegram chat: long texts split, buttons on the last part."""
    n = 0
    for reply in replies:
        parts = split_text(reply.text, MESSAGE_LIMIT) or [reply.text]
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            enqueue(
                session,
                channel=CHANNEL,
                destination=sender,
                kind="reply",
                payload={
                    "text": part,
                    "buttons": [b.model_dump() for b in reply.buttons] if last else [],
                },
                dedupe_key=f"{key}:{n}",
                now=now,
            )
            n += 1


class CitizenFront:
    """PTB handlers for citizens; the answers come from the same gateway as the web chat."""

    def __init__(
        self,
        db: Database,
        *,
        gateway: Gateway,
        clock: Clock,
        wake: Callable[[], None],
        desk: OfficerDesk,
    ) -> None:
        self._db = db
        self._gateway = gateway
        self._clock = clock
        # updates are handled concurrently: each chat's still one after the other, in order
        self._chats = KeyedLocks()
        self._wake = wake
        self._desk = desk

    def register(self, application: Application) -> None:  # type: ignore[type-arg,unused-ignore]
        """Add the citizens' handlers (after the officers' ones)."""
        private = filters.ChatType.PRIVATE
        self._desk.not_an_alert = self.on_text
        application.add_handler(CommandHandler("start", self.on_start))
        application.add_handler(CommandHandler("help", self.on_help))
        application.add_handler(CommandHandler("menu", self.on_menu, filters=private))
        application.add_handler(CommandHandler("restart", self.on_restart, filters=private))
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(
            MessageHandler(private & filters.TEXT & ~filters.COMMAND, self.on_text)
        )
        application.add_handler(MessageHandler(private & filters.PHOTO, self.on_photo))
        application.add_handler(MessageHandler(private & ~filters.TEXT, self.on_other))

    # --- handlers ------------------------------------------------------------------------
    async def on_text(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A typed message: ask the assistant."""
        message = update.effective_message
        if message is not None and message.text:
            await self._ask(update, [message.text])

    async def on_button(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button of a reply: its payload is the citizen's next message."""
        query = update.callback_query
        if query is None or query.message is None:
            return
        data = query.data or ""
        payload = await self._db.run(lambda session: expand_key(session, data))
        if payload is None:
            await quietly(query.answer(STALE_BUTTON, show_alert=True))
            return
        await quietly(query.answer())
        # the question is answered: its keyboard goes, so it cannot be pressed twice
        await quietly(query.edit_message_reply_markup(reply_markup=None))
        await self._ask(update, [payload])

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Welcome and topic menu (officers get their help)."""
        if await self._officer(update):
            await self._desk.on_help(update, context)
        elif _private(update):
            await self._ask(update, ["/greet"])

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """How to use the assistant."""
        if await self._officer(update):
            await self._desk.on_help(update, context)
        elif _private(update):
            await self._send_fixed(update, HELP)

    async def on_menu(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """The topic menu."""
        await self._ask(update, ["/show_menu"])

    async def on_restart(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Forget the conversation (Rasa's /restart) and greet again."""
        await self._ask(update, ["/restart", "/greet"])

    async def on_photo(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo, maybe of an error screen: ask for the words, or an officer."""
        await self._send_fixed(update, messages.PHOTO)

    async def on_other(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, voice, files, locations: please type."""
        await self._send_fixed(update, messages.NOT_TEXT)

    # --- helpers -------------------------------------------------------------------------
    async def _officer(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and await self._desk.is_officer(user.id)

    async def _ask(self, update: Update, texts: list[str]) -> None:
        """Claim the update (once), ask the gateway (no session open), queue the replies."""
        chat = update.effective_chat
        if chat is None:
            return
        citizen = Citizen.telegram(chat.id)
        update_id = update.update_id
        async with self._chats.hold(citizen.sender):  # first thing: keeps the chat's order
            if not await self._db.run(lambda session: first_time(session, update_id)):
                return
            replies: list[OutgoingMessage] = []
            for text in texts:
                replies += await self._gateway.answer(citizen, text)
            await self._queue(citizen, update_id, replies)

    async def _send_fixed(self, update: Update, reply: OutgoingMessage) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        update_id, citizen = update.update_id, Citizen.telegram(chat.id)
        async with self._chats.hold(citizen.sender):
            if await self._db.run(lambda session: first_time(session, update_id)):
                await self._queue(citizen, update_id, [reply])

    async def _queue(
        self, citizen: Citizen, update_id: int, replies: list[OutgoingMessage]
    ) -> None:
        now = self._clock()
        await self._db.run(
            lambda session: enqueue_replies(
                session, sender=citizen.sender, replies=replies, key=f"tg:{update_id}", now=now
            )
        )
        self._wake()


def _private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == "private"
