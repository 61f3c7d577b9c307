"""The outbox worker: retries, backoff, dead rows, leases, and no double sends on PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot import migrate
from bot.db import Database, create_engine_from_url, session_scope
from bot.outbox import (
    Delivered,
    OutboxMessage,
    OutboxStatus,
    OutboxWorker,
    PermanentError,
    RetryLater,
    enqueue,
)
from tests.auxil.clock import FakeClock


class Recorder:
    """A sender that fails as told, then records what it delivered."""

    def __init__(self, failures: list[Exception] | None = None, delay: float = 0.0) -> None:
        self.failures = list(failures or [])
        self.delivered: list[int] = []
        self.delay = delay
        self.lock = threading.Lock()

    def prepare(self, session, job):
        return job

    async def deliver(self, job):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            if self.failures:
                raise self.failures.pop(0)
            self.delivered.append(job.id)
        return Delivered(message_id=1)


def add_rows(factory, n, clock):
    with session_scope(factory) as session:
        for i in range(n):
            enqueue(
                session,
                channel="telegram",
                destination=str(1000 + i),
                kind="alert",
                payload={"method": "send", "text": f"row {i}"},
                dedupe_key=f"test:{i}",
                now=clock(),
            )


def rows(factory):
    with session_scope(factory) as session:
        return session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_enqueue_is_idempotent_on_its_key(session_factory):
    clock = FakeClock()
    add_rows(session_factory, 3, clock)
    add_rows(session_factory, 3, clock)
    assert len(rows(session_factory)) == 3


def test_failures_back_off_then_deliver_once(session_factory):
    clock = FakeClock()
    add_rows(session_factory, 1, clock)
    sender = Recorder([ConnectionError("down"), RetryLater("429", after=7)])
    worker = OutboxWorker(Database(session_factory, threads=4), {"telegram": sender}, clock=clock)

    asyncio.run(worker.run_once())  # ConnectionError: exponential backoff (2 s ± jitter)
    row = rows(session_factory)[0]
    assert row.status == OutboxStatus.PENDING and "ConnectionError" in row.last_error
    assert timedelta(seconds=1) < row.next_attempt_at - clock.now < timedelta(seconds=6)
    assert asyncio.run(worker.run_once()) == 0  # not due yet

    clock.now += timedelta(seconds=6)
    asyncio.run(worker.run_once())  # 429: exactly the platform's retry_after
    assert rows(session_factory)[0].next_attempt_at - clock.now == timedelta(seconds=7)

    clock.now += timedelta(seconds=7)
    asyncio.run(worker.run_once())
    row = rows(session_factory)[0]
    assert row.status == OutboxStatus.SENT and row.attempts == 3
    assert sender.delivered == [row.id]
    assert asyncio.run(worker.run_once()) == 0


def test_permanent_errors_and_too_many_attempts_are_dead(session_factory):
    clock = FakeClock()
    add_rows(session_factory, 2, clock)
    sender = Recorder(
        [PermanentError("Forbidden: bot was blocked by the user")] + [TimeoutError()] * 3
    )
    worker = OutboxWorker(
        Database(session_factory, threads=4), {"telegram": sender}, clock=clock, max_attempts=3
    )
    for _ in range(4):
        asyncio.run(worker.run_once())
        clock.now += timedelta(minutes=10)
    first, second = rows(session_factory)
    assert first.status == OutboxStatus.DEAD and "blocked" in first.last_error
    assert second.status == OutboxStatus.DEAD and second.attempts == 3
    assert sender.delivered == []


def test_a_crashed_workers_lease_expires(session_factory):
    clock = FakeClock()
    add_rows(session_factory, 1, clock)
    crashed = OutboxWorker(
        Database(session_factory, threads=4), {"telegram": Recorder()}, clock=clock, lease_s=60
    )
    assert len(asyncio.run(crashed.claim())) == 1  # ... and the process dies before sending
    other = Recorder()
    worker = OutboxWorker(Database(session_factory, threads=4), {"telegram": other}, clock=clock)
    assert asyncio.run(worker.run_once()) == 0  # leased to the dead worker
    clock.now += timedelta(seconds=61)
    asyncio.run(worker.run_once())
    assert len(other.delivered) == 1


def test_rows_of_channels_without_a_sender_wait(session_factory):
    clock = FakeClock()
    add_rows(session_factory, 1, clock)
    worker = OutboxWorker(Database(session_factory, threads=4), {"zalo": Recorder()}, clock=clock)
    assert asyncio.run(worker.run_once()) == 0
    assert rows(session_factory)[0].status == OutboxStatus.PENDING


def test_two_workers_on_postgresql_never_send_a_row_twice(pg_url):
    migrate.upgrade(pg_url)
    clock = FakeClock()
    setup = sessionmaker(create_engine_from_url(pg_url), expire_on_commit=False)
    add_rows(setup, 60, clock)
    sender = Recorder(delay=0.005)
    engines = [create_engine_from_url(pg_url) for _ in range(3)]
    workers = [
        OutboxWorker(
            Database(sessionmaker(e, expire_on_commit=False), threads=4),
            {"telegram": sender},
            clock=clock,
            batch=4,
        )
        for e in engines
    ]
    threads = [
        threading.Thread(target=lambda w=w: asyncio.run(w.drain(rounds=100))) for w in workers
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    counts = Counter(sender.delivered)
    assert len(counts) == 60 and set(counts.values()) == {1}
    assert {r.status for r in rows(setup)} == {OutboxStatus.SENT}
    for e in engines:
        e.dispose()
    setup.kw["bind"].dispose()


def test_a_late_outcome_does_not_overwrite_the_next_workers(session_factory):
    """A send outlived its lease and another worker delivered the row: the first worker's
    late failure must not turn the sent row dead (nor its late success record it twice)."""
    clock = FakeClock()
    add_rows(session_factory, 1, clock)
    slow = OutboxWorker(
        Database(session_factory, threads=4),
        {"telegram": Recorder([PermanentError("Forbidden")])},
        clock=clock,
        lease_s=60,
    )
    (job,) = asyncio.run(slow.claim())
    clock.now += timedelta(seconds=61)
    other = Recorder()
    asyncio.run(
        OutboxWorker(
            Database(session_factory, threads=4), {"telegram": other}, clock=clock
        ).run_once()
    )
    asyncio.run(slow._deliver(job))  # the first send finally fails
    row = rows(session_factory)[0]
    assert row.status == OutboxStatus.SENT and row.last_error is None
    assert other.delivered == [row.id]


class Hook:
    """A producer's rules: rows it marks "drop" are not sent; sent rows are remembered."""

    def __init__(self) -> None:
        self.sent_rows: list[tuple[int | None, int | None]] = []

    def skip(self, session, job):
        return "dropped by its producer" if job.payload.get("drop") else None

    def sent(self, session, job, delivered):
        self.sent_rows.append((job.subject_id, delivered.message_id))


def test_hooks_drop_rows_before_sending_and_hear_of_each_send(session_factory):
    clock = FakeClock()
    with session_scope(session_factory) as session:
        for i, drop in enumerate([False, True]):
            enqueue(
                session,
                channel="telegram",
                destination=str(2000 + i),
                kind="alert",
                payload={"text": "x", "drop": drop},
                dedupe_key=f"hook:{i}",
                subject_id=70 + i,
                now=clock(),
            )
    hook, sender = Hook(), Recorder()
    worker = OutboxWorker(
        Database(session_factory, threads=4), {"telegram": sender}, hooks=[hook], clock=clock
    )
    asyncio.run(worker.drain())
    kept, dropped = rows(session_factory)
    assert sender.delivered == [kept.id]  # the dropped row never reached the platform
    assert hook.sent_rows == [(70, 1)]
    assert kept.status == dropped.status == OutboxStatus.SENT  # nothing left to retry
    assert kept.last_error is None
    assert dropped.last_error == "skipped: dropped by its producer"
