"""Job locks: one holder at a time, and a holder that stopped refreshing is taken over."""

from __future__ import annotations

from datetime import timedelta

from bot import locks
from bot.db import session_scope, utcnow


def test_one_holder_per_lock_and_a_dead_holder_is_taken_over(session_factory):
    now = utcnow()
    with session_scope(session_factory) as session:
        assert locks.acquire(session, "training", "build:1", now)
    with session_scope(session_factory) as session:
        assert not locks.acquire(session, "training", "build:2", now + timedelta(seconds=30))
        assert locks.holder(session, "training", now) == "build:1"
        locks.refresh(session, "training", "build:1", now + timedelta(seconds=60))
    with session_scope(session_factory) as session:  # refreshed: still alive at +120 s
        assert not locks.acquire(session, "training", "build:2", now + timedelta(seconds=120))
    with session_scope(session_factory) as session:  # silent for longer than STALE
        later = now + timedelta(seconds=60) + locks.STALE + timedelta(seconds=1)
        assert locks.holder(session, "training", later - timedelta(seconds=2)) == "build:1"
        assert locks.holder(session, "training", later) is None  # nobody alive holds it
        assert locks.acquire(session, "training", "build:2", later)
        assert locks.holder(session, "training", later) == "build:2"
        locks.release(session, "training", "build:1")  # not the holder: nothing happens
        assert locks.holder(session, "training", later) == "build:2"
        locks.release(session, "training", "build:2")
        assert locks.holder(session, "training", later) is None
