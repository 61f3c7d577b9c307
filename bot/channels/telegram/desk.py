"""The officers' desk on Telegram: alert buttons, replies, /queue, /stats, /close, /id.

Every update is handled once: its ``update_id`` is stored in the same transaction as what
it changed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from html import escape
from typing import Any

from sqlalchemy.orm import Session
from telegram import (
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.telegram import render, words
from bot.channels.telegram.updates import first_time, quietly
from bot.channels.telegram.words import Words
from bot.db import Clock, Database
from bot.handoff import alerts, service, views

logger = logging.getLogger(__name__)

__all__ = ["OfficerDesk"]

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]

_CALLBACK_RE = re.compile(r"^h:(claim|done):(\d+)$")
_CODE_RE = re.compile(r"^HT-?(\d{1,9})$", re.IGNORECASE)
_RESULT = {
    service.ActResult.TAKEN: words.TAKEN,
    service.ActResult.CLOSED: words.CLOSED,
    service.ActResult.FORBIDDEN: words.FORBIDDEN,
    service.ActResult.UNKNOWN: words.UNKNOWN,
    service.ActResult.LATE: words.LATE,
}


def _plain(session: Session) -> Words:
    """Officer texts for a plain-text reply, as currently worded."""
    return Words(session, html=False)


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
        # text handler, set by bot.channels.telegram.citizens)
        self.not_an_alert: Handler | None = None
        # the answer to a question of the campaign commands, if it is one (set by the runner)
        self.drafts: Callable[[Update], Awaitable[bool]] | None = None

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
            say = _plain(session)
            officer = service.officer_by_telegram(session, query.from_user.id)
            if officer is None:
                return say(words.NOT_REGISTERED)
            if action == alerts.CLAIM:
                result, ticket = service.claim(session, ticket_id, officer, now=self._clock())
                if result is service.ActResult.TAKEN and ticket and ticket.claimed_by:
                    return say(words.TAKEN_BY, officer=ticket.claimed_by.name)
                done = say(words.YOU_CLAIMED, code=ticket.code) if ticket else ""
            else:
                result, ticket = service.resolve(
                    session, ticket_id, officer, note=None, now=self._clock()
                )
                done = say(words.YOU_CLOSED, code=ticket.code) if ticket else ""
            return done if result is service.ActResult.DONE else say(_RESULT[result])

        fresh, answer = await self._once(update, work)
        if fresh:
            await quietly(query.answer(answer, show_alert=False))

    async def on_reply(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A reply to an alert or relayed message goes to the citizen."""
        message, user = update.effective_message, update.effective_user
        if message is None or message.reply_to_message is None:
            return
        replied_to, chat_id = message.reply_to_message.message_id, message.chat_id
        alert = await self._db.run(
            lambda session: service.ticket_for_alert(session, chat_id, replied_to) is not None
        )
        if not alert:
            # an officer answering the campaign desk's question (/lichmoi: day, hours, place)
            if self.drafts is not None and await self.drafts(update):
                return
            # a citizen quoting one of the bot's answers is just a citizen talking
            if self.not_an_alert is not None:
                await self.not_an_alert(update, _context)
            return

        def work(session: Session) -> str | None:
            ticket = service.ticket_for_alert(session, chat_id, replied_to)
            if ticket is None:
                return None  # the ticket went between the two looks: nothing to relay
            say = _plain(session)
            officer = service.officer_by_telegram(session, user.id) if user else None
            if officer is None:
                return say(words.NOT_REGISTERED)
            result = service.officer_reply(
                session, ticket, officer, message.text or "", now=self._clock()
            )
            return None if result is service.ActResult.DONE else say(_RESULT[result])

        fresh, answer = await self._once(update, work)
        if fresh and answer:
            await quietly(message.reply_text(answer))

    async def on_close(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/close HT-000123 note, or /close note as a reply to an alert."""
        message, user = update.effective_message, update.effective_user
        if message is None:
            return
        args = list(context.args or [])

        def work(session: Session) -> str:
            say = _plain(session)
            officer = service.officer_by_telegram(session, user.id) if user else None
            if officer is None:
                return say(words.NOT_REGISTERED)
            ticket_id = None
            if args and (code := _CODE_RE.match(args[0])):
                ticket_id, note_words = int(code.group(1)), args[1:]
            elif message.reply_to_message is not None:
                ticket = service.ticket_for_alert(
                    session, message.chat_id, message.reply_to_message.message_id
                )
                ticket_id, note_words = (ticket.id if ticket else None), args
            if ticket_id is None:
                return say(words.CLOSE_USAGE)
            note = " ".join(note_words).strip() or None
            result, ticket = service.resolve(
                session, ticket_id, officer, note=note, now=self._clock()
            )
            if result is service.ActResult.DONE and ticket:
                return say(words.YOU_CLOSED, code=ticket.code)
            return say(_RESULT[result])

        fresh, answer = await self._once(update, work)
        if fresh and answer:
            await quietly(message.reply_text(answer))

    async def on_queue(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """/queue: the officer's open tickets."""
        await self._officer_view(
            update,
            lambda s, o: render.queue_text(views.queue_for(s, o), self._clock(), Words(s)),
        )

    async def on_stats(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """/stats: the officer's numbers."""
        await self._officer_view(
            update,
            lambda s, o: render.stats_text(views.stats_for(s, o, now=self._clock()), Words(s)),
        )

    async def _officer_view(self, update: Update, view: Callable[[Session, Any], str]) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None:
            return

        def work(session: Session) -> str:
            officer = service.officer_by_telegram(session, user.id) if user else None
            if officer is None:
                return escape(_plain(session)(words.NOT_REGISTERED))  # sent as HTML
            return view(session, officer)

        fresh, answer = await self._once(update, work)
        if fresh and answer:
            await quietly(message.reply_text(answer, parse_mode=ParseMode.HTML))

    async def on_id(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """/id: the ids an admin needs to register an officer or a commune group."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        user_id, chat_id = user.id, message.chat_id
        answer = await self._db.run(
            lambda session: _plain(session)(words.ID, user_id=user_id, chat_id=chat_id)
        )
        await quietly(message.reply_text(answer))

    async def on_help(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """/help for officers."""
        if update.effective_message is not None:
            answer = await self._db.run(lambda session: _plain(session)(words.HELP))
            await quietly(update.effective_message.reply_text(answer))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log; the update's transaction was rolled back, so a redelivery is handled again."""
        logger.error("telegram update failed: %r", context.error, exc_info=context.error)
