"""Citizens on Telegram: the same assistant as the web chat, with native buttons.

Private chats only (groups are for officers). Telegram's side of the channel boundary
(``bot.channels.front``): each handler turns its update into a stored message under its
``update_id`` and the ``Front`` answers it once, in order per chat; the replies go out
through the outbox (retried, in order per chat, split at 4,096 chars).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.front import Front, Incoming, Media
from bot.channels.telegram.desk import OfficerDesk
from bot.channels.telegram.updates import quietly
from bot.chat import messages
from bot.chat.identity import Channel, Citizen
from bot.chat.render import expand_key, split_text
from bot.chat.schemas import OutgoingMessage
from bot.chat.service import Gateway
from bot.db import Clock, Database
from bot.faq.fixed import Fixed

logger = logging.getLogger(__name__)

__all__ = ["CHANNEL", "MESSAGE_LIMIT", "CitizenFront", "TelegramAdapter"]

CHANNEL = Channel.TELEGRAM.value
MESSAGE_LIMIT = 4096
KEY_PREFIX = "k:"


class TelegramAdapter:
    """Telegram's side of the boundary: stored updates in, messages of 4,096 chars out.

    A handler stores the chat id with the texts to ask, the media sent, or the name of its
    own reply (``bot.chat.messages``).
    """

    channel = Channel.TELEGRAM

    def parse(self, payload: dict[str, Any]) -> Incoming:
        """The message a handler stored."""
        citizen = Citizen.telegram(payload["chat_id"])
        media = payload.get("media")
        reply = payload.get("reply")
        return Incoming(
            citizen,
            texts=tuple(payload.get("texts") or ()),
            media=Media(media) if media else None,
            reply=Fixed(reply) if reply else None,
        )

    def render(self, replies: Sequence[OutgoingMessage]) -> list[dict[str, Any]]:
        """Long texts split at sentence ends; the buttons go under the last part."""
        payloads: list[dict[str, Any]] = []
        for reply in replies:
            parts = split_text(reply.text, MESSAGE_LIMIT) or [reply.text]
            for i, part in enumerate(parts):
                last = i == len(parts) - 1
                buttons = [b.model_dump() for b in reply.buttons] if last else []
                payloads.append({"text": part, "buttons": buttons})
        return payloads


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
        self.front = Front(db, TelegramAdapter(), gateway=gateway, clock=clock, wake_outbox=wake)
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
            await self._take(update, texts=[message.text])

    async def on_button(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button of a reply: its payload is the citizen's next message."""
        query = update.callback_query
        if query is None or query.message is None:
            return
        data = query.data or ""
        payload = await self._db.run(lambda session: expand_key(session, data))
        if payload is None:
            stale = await self._gateway.say(messages.STALE_BUTTON)
            await quietly(query.answer(stale.text, show_alert=True))
            return
        await quietly(query.answer())
        # the question is answered: its keyboard goes, so it cannot be pressed twice
        await quietly(query.edit_message_reply_markup(reply_markup=None))
        await self._take(update, texts=[payload])

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Welcome and topic menu (officers get their help)."""
        if await self._officer(update):
            await self._desk.on_help(update, context)
        elif _private(update):
            await self._take(update, texts=["/greet"])

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """How to use the assistant."""
        if await self._officer(update):
            await self._desk.on_help(update, context)
        elif _private(update):
            await self._take(update, reply=messages.TELEGRAM_HELP.name)

    async def on_menu(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """The topic menu."""
        await self._take(update, texts=["/show_menu"])

    async def on_restart(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Forget the conversation (Rasa's /restart) and greet again."""
        await self._take(update, texts=["/restart", "/greet"])

    async def on_photo(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo, maybe of an error screen: ask for the words, or an officer."""
        await self._take(update, media=Media.PHOTO)

    async def on_other(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, voice, files, locations: please type."""
        await self._take(update, media=Media.OTHER)

    # --- helpers -------------------------------------------------------------------------
    async def _officer(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and await self._desk.is_officer(user.id)

    async def _take(self, update: Update, **message: Any) -> None:
        """Store the update as a message (once, under its id) and answer it now."""
        chat = update.effective_chat
        if chat is None:
            return
        citizen = Citizen.telegram(chat.id)
        payload = {"chat_id": chat.id, **message}
        await self.front.take(str(update.update_id), payload, citizen.sender)


def _private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == "private"
