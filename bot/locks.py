"""Exclusive jobs across app processes: one row per lock in ``job_lock``.

A lock is taken by inserting its row; a holder that stops refreshing ``heartbeat_at`` (its
process died) can be taken over after ``STALE``. Used for model training (``training``) and
for every swap of the model Rasa serves (``serving``), which the chat gateway also reads: while
a swap is under way it waits longer for Rasa instead of answering "busy".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import BindParameter, Select, String, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.db import Base, UtcDateTime, utcnow

__all__ = [
    "SERVING",
    "STALE",
    "TRAINING",
    "JobLock",
    "acquire",
    "alive",
    "holder",
    "refresh",
    "release",
]

TRAINING, SERVING = "training", "serving"
STALE = timedelta(seconds=90)


class JobLock(Base):
    """One row per exclusive job, while somebody holds it."""

    __tablename__ = "job_lock"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


def acquire(session: Session, name: str, owner: str, now: datetime) -> bool:
    """Take the lock ``name`` (or a stale one) in the caller's transaction."""
    try:
        with session.begin_nested():
            session.add(JobLock(name=name, owner=owner, heartbeat_at=now))
        return True
    except IntegrityError:
        taken = session.execute(
            update(JobLock)
            .where(JobLock.name == name, JobLock.heartbeat_at < now - STALE)
            .values(owner=owner, heartbeat_at=now)
        )
        return bool(taken.rowcount)  # type: ignore[attr-defined]


def refresh(session: Session, name: str, owner: str, now: datetime) -> None:
    """Keep a lock (the holder is alive)."""
    session.execute(
        update(JobLock).where(JobLock.name == name, JobLock.owner == owner).values(heartbeat_at=now)
    )


def release(session: Session, name: str, owner: str) -> None:
    """Give a lock back."""
    session.execute(delete(JobLock).where(JobLock.name == name, JobLock.owner == owner))


def alive(name: str, since: datetime | BindParameter[datetime]) -> Select[str]:
    """The query of who holds the lock ``name``, refreshed at ``since`` or later (now - STALE)."""
    return select(JobLock.owner).where(JobLock.name == name, JobLock.heartbeat_at >= since)


def holder(session: Session, name: str, now: datetime) -> str | None:
    """Who holds a lock that is alive, if anybody."""
    return session.scalar(alive(name, now - STALE))
