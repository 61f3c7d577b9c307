"""Conversations are kept ``RETENTION_DAYS`` (default 90), then purged.

What goes, once older than that (``purge_app``):

- chat turns keep their figures (day, channel, topic, confidence) but lose the text and
  the sender;
- closed tickets keep their figures (commune, channel, status, times) but lose the
  description, the transcript, the call-back number, the officers' note, the sender and
  every message relayed;
- the buttons last shown, undelivered web-chat messages, sent or abandoned outbox rows and
  handled platform events are deleted;
- call-back numbers no ticket took within the hour are deleted (``contacts.KEPT_FOR``).

Rasa's tracker store loses every conversation whose last event is older (``purge_tracker``;
Rasa's cache re-reads a conversation whose events changed, so nothing stale is served).
Questions an admin moved into the training data are training data, no longer conversation;
the audit log is the security record and is not purged here.

The job runs in every app process (each purge is idempotent), every
``RETENTION_EVERY_MINUTES``; ``python -m bot purge`` runs it once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.analytics.models import ChatTurn
from bot.channels.inbound import InboundEvent
from bot.chat.models import ConversationState, WebInboxMessage
from bot.db import Clock, Database, create_engine_from_url
from bot.handoff.models import HandoffTicket, TicketMessage, TicketStatus
from bot.outbox.models import OutboxMessage, OutboxStatus
from bot.privacy import contacts

__all__ = ["Purged", "Purger", "purge_app", "purge_tracker"]

logger = logging.getLogger(__name__)

CLOSED = (TicketStatus.RESOLVED, TicketStatus.CANCELLED)
_BATCH = 1000  # rows per statement: a large backlog is purged without one huge transaction


@dataclass(frozen=True)
class Purged:
    """How many rows each purge touched."""

    turns: int = 0
    tickets: int = 0
    ticket_messages: int = 0
    screens: int = 0
    web_inbox: int = 0
    outbox: int = 0
    inbound: int = 0
    callback_numbers: int = 0
    tracker_conversations: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in vars(self).items() if v) or "nothing"


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def purge_app(session: Session, *, now: datetime, days: int) -> Purged:
    """Purge the app's tables of conversation content older than ``days``."""
    cutoff = now - timedelta(days=days)
    turns = _count(
        session.execute(
            update(ChatTurn)
            .where(ChatTurn.created_at < cutoff, ChatTurn.text != "")
            .values(text="", sender="", reviewed=True)
            .execution_options(synchronize_session=False)
        )
    )
    old_tickets = select(HandoffTicket.id).where(
        HandoffTicket.status.in_(CLOSED), HandoffTicket.closed_at < cutoff
    )
    ticket_messages = _count(
        session.execute(
            delete(TicketMessage)
            .where(TicketMessage.ticket_id.in_(old_tickets))
            .execution_options(synchronize_session=False)
        )
    )
    tickets = _count(
        session.execute(
            update(HandoffTicket)
            .where(HandoffTicket.id.in_(old_tickets), HandoffTicket.sender != "")
            .values(
                description="", transcript=[], contact_phone=None, resolution_note=None, sender=""
            )
            .execution_options(synchronize_session=False)
        )
    )
    screens = _count(
        session.execute(delete(ConversationState).where(ConversationState.updated_at < cutoff))
    )
    web_inbox = _count(
        session.execute(delete(WebInboxMessage).where(WebInboxMessage.created_at < cutoff))
    )
    outbox = _count(
        session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.created_at < cutoff, OutboxMessage.status != OutboxStatus.PENDING
            )
        )
    )
    inbound = _count(
        session.execute(
            delete(InboundEvent).where(
                InboundEvent.created_at < cutoff, InboundEvent.status != "pending"
            )
        )
    )
    return Purged(
        turns=turns,
        tickets=tickets,
        ticket_messages=ticket_messages,
        screens=screens,
        web_inbox=web_inbox,
        outbox=outbox,
        inbound=inbound,
        callback_numbers=contacts.purge(session, now=now),
    )


def purge_tracker(engine: Engine, *, now: datetime, days: int) -> int:
    """Delete Rasa's conversations whose last event is older than ``days``; how many."""
    if not sa.inspect(engine).has_table("events"):
        return 0  # Rasa has not started on this database yet
    events = sa.table("events", sa.column("sender_id"), sa.column("timestamp"))
    cutoff = (now - timedelta(days=days)).timestamp()
    stale = (
        select(events.c.sender_id)
        .group_by(events.c.sender_id)
        .having(sa.func.max(events.c.timestamp) < cutoff)
        .limit(_BATCH)
    )
    purged = 0
    while True:
        with engine.begin() as connection:
            senders = list(connection.scalars(stale))
            if not senders:
                return purged
            connection.execute(delete(events).where(events.c.sender_id.in_(senders)))
        purged += len(senders)


class Purger:
    """Runs both purges every ``every``, off the event loop (database work in threads)."""

    def __init__(
        self, db: Database, *, days: int, tracker_url: str, every: timedelta, clock: Clock
    ) -> None:
        """Purge ``db`` and the tracker store at ``tracker_url`` (empty: no tracker purge)."""
        self._db = db
        self._days = days
        self._tracker_url = tracker_url
        self._tracker: Engine | None = None
        self._every = every
        self._clock = clock
        self._last: datetime | None = None

    async def maybe_run(self) -> Purged | None:
        """Purge if the last purge is ``every`` ago (or none ran yet in this process)."""
        now = self._clock()
        if self._last is not None and now - self._last < self._every:
            return None
        self._last = now
        try:
            return await self.run()
        except Exception:  # the next run tries again; the app goes on
            logger.exception("retention purge failed")
            return None

    async def run(self) -> Purged:
        """Purge now; what was purged."""
        now, days = self._clock(), self._days
        purged = await self._db.run(partial(purge_app, now=now, days=days))
        engine = self._tracker_engine()
        if engine is not None:
            count = await asyncio.to_thread(purge_tracker, engine, now=now, days=days)
            purged = replace(purged, tracker_conversations=count)
        logger.info("retention (%d days): purged %s", days, purged)
        return purged

    def _tracker_engine(self) -> Engine | None:
        url = self._tracker_url
        if not url:
            return None
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
            return None  # Rasa has not created it yet (connecting would create an empty file)
        if self._tracker is None:
            self._tracker = create_engine_from_url(url, pool_size=1, max_overflow=0)
        return self._tracker

    def close(self) -> None:
        """Close the tracker store's connections."""
        if self._tracker is not None:
            self._tracker.dispose()
