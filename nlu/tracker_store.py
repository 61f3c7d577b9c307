"""Rasa's SQL tracker store, without re-reading a whole conversation every turn.

Configured in ``endpoints.yml`` as ``tracker_store: type: nlu.tracker_store.CachedSQLTrackerStore``.
Measured with py-spy on a loaded stack, Rasa 3.6's ``SQLTrackerStore`` took about a third of
Rasa's time per turn, growing with the conversation:

- ``retrieve`` fetched every event of the current session from the database and parsed its
  JSON, every turn; ``save`` counted them again (a query over the same rows) to find which
  events are new;
- on SQLite every session opened a new connection (SQLAlchemy 1.4 pools nothing for a file)
  and every commit synced a rollback journal to disk, on Rasa's event loop.

Here the stored events of the current session of recently active conversations are kept in
memory, as the JSON text the database holds (a least-recently-used cache bounded in bytes,
``TRACKER_CACHE_MB``). Before each use the cache is checked against the database with one
indexed query (the highest event id of the conversation): a conversation another replica
answered meanwhile, or that was changed or deleted, is read again in full. Only the events
after the stored ones are written, in one statement. SQLite gets kept connections in WAL
mode with ``synchronous=NORMAL`` (no sync to disk per turn: a crash of the process loses
nothing, a power cut may lose the last turns).

The database work stays on Rasa's event loop, as in ``SQLTrackerStore``: each call is now
short, and in a worker thread it was slower under load (measured: 4 concurrent citizens
42-53 turns/s with a thread, 56-62 without), because the thread and the loop, busy with the
model, hand Python's interpreter lock back and forth at every database call.

What is stored, and what ``retrieve`` returns, are the same as with ``SQLTrackerStore``.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

logger = logging.getLogger(__name__)

__all__ = ["CachedSQLTrackerStore", "EventCache"]

DEFAULT_CACHE_MB = 64.0


@dataclass
class _Entry:
    """The stored events of a conversation's current session, and its highest event id."""

    texts: list[str]
    last_id: int
    size: int


class EventCache:
    """Least-recently-used cache of stored events per conversation, bounded in bytes."""

    def __init__(self, max_bytes: int) -> None:
        """An empty cache that holds at most ``max_bytes`` of event text."""
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        """Conversations cached now."""
        return len(self._entries)

    def get(self, sender_id: str) -> tuple[list[str], int] | None:
        """A copy of the cached texts and the highest event id, or None."""
        entry = self._entries.get(sender_id)
        if entry is None:
            return None
        self._entries.move_to_end(sender_id)
        return list(entry.texts), entry.last_id

    def put(self, sender_id: str, texts: list[str], last_id: int) -> None:
        """Remember a conversation's stored events (the least used ones make room)."""
        size = sum(map(len, texts))
        self._drop(sender_id)
        if size > self.max_bytes:
            return
        self._entries[sender_id] = _Entry(list(texts), last_id, size)
        self.size += size
        while self.size > self.max_bytes:
            self._drop(next(iter(self._entries)))

    def extend(self, sender_id: str, known_id: int, texts: list[str], last_id: int) -> None:
        """Add events just stored after ``known_id``; forget the entry if it moved on."""
        entry = self._entries.get(sender_id)
        if entry is None or entry.last_id != known_id:
            self._drop(sender_id)
            return
        self.put(sender_id, entry.texts + texts, last_id)

    def forget(self, sender_id: str) -> None:
        """Drop a conversation: the next read goes to the database."""
        self._drop(sender_id)

    def _drop(self, sender_id: str) -> None:
        entry = self._entries.pop(sender_id, None)
        if entry is not None:
            self.size -= entry.size


_events = SQLTrackerStore.SQLEvent.__table__
_LAST_ID = sa.select(sa.func.max(_events.c.id)).where(
    _events.c.sender_id == sa.bindparam("sender_id")
)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class CachedSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that reads a conversation once and then only what is new."""

    def __init__(self, *args: Any, cache_mb: float | str | None = None, **kwargs: Any) -> None:
        """Created by Rasa from the ``tracker_store`` entry of endpoints.yml."""
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            # Kept connections (SQLAlchemy 1.4 opens one per session for a file), WAL mode.
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(
                url,
                poolclass=QueuePool,
                pool_size=1,
                max_overflow=4,
            )
            sa_event.listen(self.engine, "connect", _sqlite_pragmas)
            self.sessionmaker = sessionmaker(bind=self.engine)
        if cache_mb in (None, ""):
            cache_mb = os.environ.get("TRACKER_CACHE_MB") or DEFAULT_CACHE_MB
        self.cache = EventCache(int(float(cache_mb) * 1024 * 1024))

    # --- reading -------------------------------------------------------------------------
    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The tracker of the conversation's latest session (as ``SQLTrackerStore``)."""
        texts = self._stored_texts(sender_id)
        if not texts or not self.domain:
            return None
        events = [json.loads(text) for text in texts]
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    def _last_id(self, session: Session, sender_id: str) -> int | None:
        # A Core statement built once: the ORM query API rebuilt and compiled it per call
        # (about a tenth of Rasa's time per turn, measured with py-spy).
        return session.execute(_LAST_ID, {"sender_id": sender_id}).scalar()

    def _stored_texts(self, sender_id: str) -> list[str]:
        cached = self.cache.get(sender_id)
        with self.session_scope() as session:
            last_id = self._last_id(session, sender_id)
            if cached is not None and cached[1] == last_id:
                return cached[0]
            if last_id is None:  # no conversation (or it was deleted)
                self.cache.forget(sender_id)
                return []
            rows = (
                self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
                .with_entities(self.SQLEvent.data)
                .all()
            )
        texts = [row.data for row in rows]
        self.cache.put(sender_id, texts, last_id)
        return texts

    # --- writing -------------------------------------------------------------------------
    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events the database does not have yet (as ``SQLTrackerStore``)."""
        await self.stream_events(tracker)
        self._store_new_events(tracker)
        logger.debug("Tracker with sender_id '%s' stored to database", tracker.sender_id)

    def _store_new_events(self, tracker: DialogueStateTracker) -> None:
        sender_id = tracker.sender_id
        cached = self.cache.get(sender_id)
        with self.session_scope() as session:
            known_id = self._last_id(session, sender_id)
            if (
                cached is not None
                and cached[1] == known_id
                and len(tracker.events) >= len(cached[0])
            ):
                # the tracker was read from these events: what follows them is new
                new: Iterable[Event] = itertools.islice(tracker.events, len(cached[0]), None)
            else:
                cached = None
                new = self._additional_events(session, tracker)
            rows = [_row(sender_id, event) for event in new]
            last_id = known_id
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)  # one executemany
                # The conversation is locked for this turn (Rasa's lock store): the highest
                # id is the last of these rows.
                last_id = self._last_id(session, sender_id)
            session.commit()
        if cached is None or any(row["type_name"] == SessionStarted.type_name for row in rows):
            # A new session changes which stored events belong to the tracker: read them
            # again next time (once per session), exactly as SQLTrackerStore would.
            self.cache.forget(sender_id)
        elif rows and known_id is not None and last_id is not None:
            self.cache.extend(sender_id, known_id, [row["data"] for row in rows], last_id)


def _row(sender_id: str, event: Event) -> dict[str, Any]:
    """The columns SQLTrackerStore.save writes for an event."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }
