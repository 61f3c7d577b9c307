"""Citizen turns for the figures and the unanswered inbox, written in batches.

Rasa calls ``/nlg`` for every bubble of every answer, and waits for it. Writing the turn
there cost a transaction (and on SQLite a sync to disk) per bubble on the reply path. The
NLG endpoint now only queues the row (built and masked at once); a background task writes
what has queued every ``analytics_flush_s`` seconds in one transaction, and once more when
the app stops. What a crash of the process can lose is the last interval's figures, never a
citizen's answer. If the database refuses a batch, the rows wait for the next try, at most
``max_pending`` of them (the oldest are dropped first, with a warning).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from functools import partial
from typing import Any

from bot.analytics.service import store_turns, turn_row
from bot.db import Clock, Database

logger = logging.getLogger(__name__)

__all__ = ["TurnRecorder"]


class TurnRecorder:
    """Queues each turn's row and writes the queue in one transaction per interval."""

    def __init__(
        self, db: Database, *, clock: Clock, interval_s: float = 1.0, max_pending: int = 20_000
    ) -> None:
        """Write through ``db`` every ``interval_s``; keep at most ``max_pending`` rows."""
        self._db = db
        self._clock = clock
        self.interval_s = interval_s
        self.max_pending = max_pending
        # message id -> row: a turn of several bubbles is one row (its first response)
        self._pending: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = asyncio.Lock()
        self.dropped = 0

    @property
    def pending(self) -> int:
        """Rows waiting to be written."""
        return len(self._pending)

    def add(
        self, tracker: dict[str, Any], response: str, arguments: dict[str, Any] | None = None
    ) -> None:
        """Queue the turn behind an NLG request (no database work, never raises)."""
        try:
            row = turn_row(tracker, response, now=self._clock(), arguments=arguments)
        except Exception:  # figures must never cost a citizen their answer
            logger.exception("turn not recorded")
            return
        if row is None or row["message_id"] in self._pending:
            return
        self._pending[row["message_id"]] = row
        while len(self._pending) > self.max_pending:
            self._pending.popitem(last=False)
            self.dropped += 1
            if self.dropped % 1000 == 1:
                logger.warning("analytics: %d turns dropped (database not writable)", self.dropped)

    async def flush(self) -> int:
        """Write every queued row now; the number written (0 when the database failed)."""
        async with self._lock:
            rows = list(self._pending.values())
            if not rows:
                return 0
            try:
                await self._db.run(partial(store_turns, rows=rows))
            except Exception:
                logger.exception("analytics: %d turns not written yet; retrying", len(rows))
                return 0
            for row in rows:
                if self._pending.get(row["message_id"]) is row:
                    del self._pending[row["message_id"]]
            return len(rows)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.flush()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[TurnRecorder]:
        """Write in the background while the app runs, and what is left when it stops."""
        task = asyncio.create_task(self._run(), name="analytics-recorder")
        try:
            yield self
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            await self.flush()
