"""The texts Rasa asks for, kept in memory by each app process.

Rasa calls ``/nlg`` for every bubble of every answer and waits for it. Reading the text
from the database there cost a unit of work per bubble in the database threads (on SQLite
the one thread, behind the chat gateway's writes), so Rasa's turns waited on the app's
queue. The texts are few (every response name and topic): each process keeps the ones
asked for in memory.

They stay current without a restart. Every change of a topic or a response, by any path
of any process (an admin's edit, a revert, a refresh from the seed, ``bot init``),
increases ``content_version`` in the same transaction (a hook in bot/faq/models.py). The
process that made the change forgets its texts as the change commits; every process reads
the version every ``content_refresh_s`` (one small query) and forgets its texts when it
moved. An admin's edit is live at once on the app process that took it, and within that
interval on the others.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from functools import partial

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.faq import service as faq_service
from bot.faq.models import CONTENT_CHANGED, ContentVersion
from bot.faq.schemas import BotResponse, Button

logger = logging.getLogger(__name__)

__all__ = ["ContentCache", "current_version"]

_caches: weakref.WeakSet[ContentCache] = weakref.WeakSet()


def current_version(session: Session) -> int:
    """The number every change of the texts increases (0 before any)."""
    return session.scalar(select(ContentVersion.version).where(ContentVersion.id == 1)) or 0


@event.listens_for(Session, "after_commit")
def _forget_here(session: Session) -> None:
    if session.info.pop(CONTENT_CHANGED, False):
        for cache in list(_caches):
            cache.forget()


@event.listens_for(Session, "after_rollback")
def _nothing_changed(session: Session) -> None:
    session.info.pop(CONTENT_CHANGED, None)


class ContentCache:
    """Rendered responses by name, read from the database once per change of the texts."""

    def __init__(self, db: Database, *, refresh_s: float = 1.0) -> None:
        """Read through ``db``; check the version every ``refresh_s`` while running."""
        self._db = db
        self.refresh_s = refresh_s
        self._texts: dict[str, BotResponse] = {}
        self._titles: dict[str, str] | None = None  # topic key -> its title
        self._generation = 0  # a text read before a forget() is not kept after it
        self._version: int | None = None
        self._lock = threading.Lock()  # forget() also runs in database threads
        _caches.add(self)

    def __len__(self) -> int:
        """Responses held now."""
        return len(self._texts)

    async def response(self, name: str) -> BotResponse:
        """A copy of the current text and buttons of ``name`` (ResponseMissingError)."""
        with self._lock:
            hit, generation = self._texts.get(name), self._generation
        if hit is None:
            hit = await self._db.run(partial(_render, name=name))
            with self._lock:
                if self._generation == generation:
                    self._texts[name] = hit
        return hit.model_copy(deep=True)

    async def topic_buttons(self, labels: list[str]) -> list[Button]:
        """Buttons for topics named by label (``faq/<key>`` or a flow), with current titles."""
        with self._lock:
            titles, generation = self._titles, self._generation
        if titles is None:
            titles = await self._db.run(faq_service.topic_titles)
            with self._lock:
                if self._generation == generation:
                    self._titles = titles
        return faq_service.topic_buttons(labels, titles)

    def forget(self) -> None:
        """Drop every text: the next request of each reads it again."""
        with self._lock:
            self._texts.clear()
            self._titles = None
            self._generation += 1

    async def check(self) -> None:
        """Forget the texts if another process changed them since the last check."""
        version = await self._db.run(current_version)
        if self._version is not None and version != self._version:
            self.forget()
        self._version = version

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:  # the database is away: keep serving what we have
                logger.warning("content version not read; texts kept", exc_info=True)
            await asyncio.sleep(self.refresh_s)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[ContentCache]:
        """Check the version in the background while the app runs."""
        task = asyncio.create_task(self._run(), name="content-cache")
        try:
            yield self
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task


def _render(session: Session, *, name: str) -> BotResponse:
    return faq_service.render_response(session=session, name=name)
