"""Every inbound platform event handled once: one table and one mechanism for all channels.

A channel records each event under its platform id (Telegram's ``update_id``, Zalo's
``msg_id``) in the transaction that handles it, or, when it must answer the platform first
(Zalo's webhook), stores it pending and handles it in the background under a lease, so a
crash loses nothing and a replayed or re-delivered event is handled once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.db import Base, UtcDateTime, utcnow
from bot.privacy.mask import mask

__all__ = ["InboundEvent", "claim", "failed", "finish", "first_time", "pending", "receive"]

logger = logging.getLogger(__name__)

PENDING = "pending"
DONE = "done"
DEAD = "dead"


class InboundEvent(Base):
    """A platform event: stored before it is answered, or recorded as it is handled."""

    __tablename__ = "inbound_event"
    __table_args__ = (UniqueConstraint("source", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # the channel
    event_id: Mapped[str] = mapped_column(String(128))  # the platform's id (or a derived key)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # taken by one app replica while it answers; a replica that died frees it on expiry
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


def receive(
    session: Session, source: str, event_id: str, payload: dict[str, Any] | None = None
) -> int | None:
    """Store the event as pending in the caller's transaction; its row id, or None."""
    event = InboundEvent(source=source, event_id=event_id, payload=payload or {})
    if not _add(session, event):
        return None
    session.flush()
    return event.id


def first_time(session: Session, source: str, event_id: str) -> bool:
    """Record the event as handled in the caller's transaction; False if it already was."""
    return _add(session, InboundEvent(source=source, event_id=event_id, payload={}, status=DONE))


def _add(session: Session, event: InboundEvent) -> bool:
    try:
        with session.begin_nested():
            session.add(event)
    except IntegrityError:
        logger.info("%s event %s already received", event.source, event.event_id)
        return False
    return True


def pending(
    session: Session, source: str, *, now: datetime, batch: int
) -> list[tuple[int, str, dict[str, Any]]]:
    """Stored events of ``source`` not yet handled nor leased, oldest first."""
    rows = session.execute(
        select(InboundEvent.id, InboundEvent.event_id, InboundEvent.payload)
        .where(
            InboundEvent.source == source,
            InboundEvent.status == PENDING,
            or_(InboundEvent.locked_until.is_(None), InboundEvent.locked_until <= now),
        )
        .order_by(InboundEvent.id)
        .limit(batch)
    )
    return [(row.id, row.event_id, row.payload) for row in rows]


def claim(session: Session, row_id: int, *, now: datetime, lease: timedelta) -> bool:
    """Take a pending event for this replica (a conditional update decides the race)."""
    won = session.execute(
        update(InboundEvent)
        .where(
            InboundEvent.id == row_id,
            InboundEvent.status == PENDING,
            or_(InboundEvent.locked_until.is_(None), InboundEvent.locked_until <= now),
        )
        .values(locked_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(won.rowcount == 1)  # type: ignore[attr-defined]


def finish(session: Session, row_id: int) -> None:
    """The event is handled (in the transaction that stored its outcome).

    Its payload (what the citizen typed, as typed) is dropped: only the id stays, so a
    re-delivery is still recognised.
    """
    event = session.get_one(InboundEvent, row_id)
    event.status = DONE
    event.payload = {}


def failed(session: Session, row_id: int, exc: Exception, *, max_attempts: int) -> None:
    """Free the event for another try, or give up on it after ``max_attempts``."""
    event = session.get(InboundEvent, row_id)
    if event is None:
        return
    logger.warning("%s event %s failed: %s", event.source, event.event_id, exc)
    event.locked_until = None
    event.attempts += 1
    event.last_error = mask(f"{type(exc).__name__}: {exc}")[:2000]
    if event.attempts >= max_attempts:
        event.status = DEAD
        event.payload = _masked(event.payload)  # kept to look into, without what was typed


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value
