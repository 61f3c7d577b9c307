"""The outbox: messages to deliver, written in the same transaction as what caused them.

A worker claims due rows with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL and a
conditional update everywhere, so two workers never hold the same row), delivers them
through the channel's sender, and records the outcome: sent, retry later with backoff
(or the platform's ``retry_after``), or dead after too many attempts or a permanent
error. Dead rows stay in the table for the admin to see; nothing is dropped silently.

Delivery is at-least-once: a process killed after the platform accepted a message but
before the row was marked sent delivers it again after restart. Everything before that
point (a crash between commit and send, outages, timeouts, 429s) delivers exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from sqlalchemy import exists, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, aliased

from bot.db import Clock, Database, utcnow
from bot.outbox.models import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

__all__ = [
    "Clock",
    "Poller",
    "Delivered",
    "Hook",
    "Job",
    "OutboxWorker",
    "PermanentError",
    "RetryLater",
    "Sender",
    "enqueue",
]


class RetryLater(Exception):  # noqa: N818 - a signal, not an error
    """The platform said: not now (rate limit, outage). ``after`` in seconds, if it said."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class PermanentError(Exception):
    """The message can never be delivered as it is (blocked bot, unknown chat)."""


@dataclass(frozen=True)
class Delivered:
    """What the platform gave back, and what to store with the "sent" mark.

    ``message_id``: the platform's (Telegram's, so replies to an alert find its ticket).
    ``store``: rows added in the transaction that marks the message sent (the web chat's
    inbox).
    """

    message_id: int | None = None
    store: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Job:
    """A claimed row, detached from its session."""

    id: int
    channel: str
    destination: str
    kind: str
    payload: dict[str, Any]
    subject_id: int | None
    attempts: int


class Sender(Protocol):
    """Delivers rows of one channel. No database session is open while it sends."""

    def prepare(self, session: Session, job: Job) -> Job:
        """Database work the sending needs, in the claim's transaction (a worker thread)."""
        ...

    async def deliver(self, job: Job) -> Delivered:
        """Send ``job``; raise RetryLater/PermanentError, or anything for a retry."""
        ...


class Hook(Protocol):
    """What a producer adds to delivery, in the worker's transactions (a worker thread).

    The outbox knows nothing of what its rows are about; the handoff, for one, drops an
    alert whose ticket was claimed meanwhile and remembers where each alert went.
    """

    def skip(self, session: Session, job: Job) -> str | None:
        """Why ``job`` must not be sent any more (it is marked sent unsent), or None."""
        ...

    def sent(self, session: Session, job: Job, delivered: Delivered) -> None:
        """Rows to write with the "sent" mark."""
        ...


def enqueue(
    session: Session,
    *,
    channel: str,
    destination: str,
    kind: str,
    payload: dict[str, Any],
    dedupe_key: str,
    subject_id: int | None = None,
    now: datetime | None = None,
) -> OutboxMessage | None:
    """Add a row unless one with the same key exists (idempotent producers)."""
    exists = session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key))
    if exists is not None:
        return None
    row = OutboxMessage(
        dedupe_key=dedupe_key,
        channel=channel,
        destination=destination,
        kind=kind,
        payload=payload,
        subject_id=subject_id,
        next_attempt_at=now or utcnow(),
        created_at=now or utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another producer won the race for this key
        return None
    return row


def backoff_s(attempts: int) -> float:
    """2, 4, 8 … seconds, capped at 5 minutes, with jitter so replicas do not stampede."""
    base: float = min(300.0, 2.0 ** max(1, attempts))
    return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not a secret


class Poller:
    """Runs rounds of work until stopped: at once when woken, otherwise every ``poll_s``."""

    def __init__(self) -> None:
        self._nudge = asyncio.Event()

    def wake(self) -> None:
        """Start the next round now rather than at the next poll (new work was committed)."""
        self._nudge.set()

    async def _poll(
        self, stop: asyncio.Event, round_: Callable[[], Awaitable[int]], *, poll_s: float, name: str
    ) -> None:
        while not stop.is_set():
            try:
                busy = await round_()
            except Exception:  # a loop must outlive a database hiccup
                logger.exception("%s round failed", name)
                busy = 0
            if not busy and not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._nudge.wait(), timeout=poll_s)
                self._nudge.clear()


class OutboxWorker(Poller):
    """Claims due rows and delivers them; safe to run in several processes at once."""

    def __init__(
        self,
        db: Database,
        senders: Mapping[str, Sender],
        *,
        hooks: Sequence[Hook] = (),
        clock: Clock = utcnow,
        lease_s: float = 60.0,
        max_attempts: int = 15,
        batch: int = 8,
        parallel: int = 8,
    ) -> None:
        self._db = db
        self._parallel = parallel
        self._senders = dict(senders)
        self._hooks = tuple(hooks)
        self._clock = clock
        self._lease = timedelta(seconds=lease_s)
        self._max_attempts = max_attempts
        self._batch = batch
        super().__init__()

    async def claim(self) -> list[Job]:
        """Lease up to ``batch`` due rows of channels this worker can send."""
        if not self._senders:
            return []
        try:
            return await self._db.run(partial(self._claim, now=self._clock()))
        except OperationalError as exc:  # SQLite: another writer got there first
            logger.debug("outbox claim lost a race: %s", exc)
            return []

    def _claim(self, session: Session, *, now: datetime) -> list[Job]:
        earlier = aliased(OutboxMessage)
        due = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.channel.in_(self._senders),
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
                # one chat's messages go out in order: wait behind an earlier one still pending
                ~exists().where(
                    earlier.destination == OutboxMessage.destination,
                    earlier.channel == OutboxMessage.channel,
                    earlier.status == OutboxStatus.PENDING,
                    earlier.id < OutboxMessage.id,
                ),
            )
            .order_by(OutboxMessage.id)
            .limit(self._batch)
            .with_for_update(skip_locked=True)
        )
        jobs: list[Job] = []
        for row in session.scalars(due).all():
            won = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == row.id,
                    OutboxMessage.status == OutboxStatus.PENDING,
                    or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
                )
                .values(locked_until=now + self._lease, attempts=row.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if won.rowcount != 1:  # type: ignore[attr-defined]
                continue
            job = Job(
                id=row.id,
                channel=row.channel,
                destination=row.destination,
                kind=row.kind,
                payload=dict(row.payload),
                subject_id=row.subject_id,
                attempts=row.attempts + 1,
            )
            reason = next(filter(None, (hook.skip(session, job) for hook in self._hooks)), None)
            if reason is not None:
                self._succeed(session, job, None, now=now)
                session.get_one(OutboxMessage, job.id).last_error = f"skipped: {reason}"
                continue
            jobs.append(self._senders[job.channel].prepare(session, job))
        return jobs

    async def run_once(self) -> int:
        """Deliver what is due now; return how many rows were attempted.

        A batch holds at most one row per chat (a chat's later rows wait behind its earlier
        pending one), so its rows are sent side by side, ``parallel`` at a time. Keep
        ``batch`` at ``parallel``: a row waiting for a slot spends its lease meanwhile.
        """
        jobs = await self.claim()
        slots = asyncio.Semaphore(self._parallel)

        async def one(job: Job) -> None:
            async with slots:
                await self._deliver(job)

        await asyncio.gather(*(one(job) for job in jobs))
        return len(jobs)

    async def drain(self, *, rounds: int = 50) -> None:
        """Deliver until nothing is due (tests and shutdown)."""
        for _ in range(rounds):
            if not await self.run_once():
                return

    async def run_forever(
        self,
        stop: asyncio.Event,
        *,
        poll_s: float = 1.0,
        tick: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Poll until ``stop`` is set; ``tick`` runs each round (the re-alert sweep)."""

        async def round_() -> int:
            if tick is not None:
                await tick()
            return await self.run_once()

        await self._poll(stop, round_, poll_s=poll_s, name="outbox")

    async def _deliver(self, job: Job) -> None:
        """Send with no session open; then record the outcome in a short transaction."""
        sender = self._senders[job.channel]
        outcome: Delivered | Exception
        try:
            outcome = await sender.deliver(job)
        except Exception as exc:  # RetryLater, PermanentError, timeouts, 5xx, connection errors
            outcome = exc
        try:
            await self._db.run(partial(self._record, job=job, outcome=outcome))
        except Exception:  # the lease runs out and the row is tried again
            logger.exception("outbox row %s: outcome not recorded", job.id)

    def _record(self, session: Session, *, job: Job, outcome: Delivered | Exception) -> None:
        row = session.get(OutboxMessage, job.id)
        if row is None or row.status != OutboxStatus.PENDING or row.attempts != job.attempts:
            # the lease ran out mid-send and another worker took the row over: its outcome
            # stands, this late one must not overwrite it
            logger.warning(
                "outbox row %s: outcome of attempt %s came too late", job.id, job.attempts
            )
            return
        if isinstance(outcome, Delivered):
            self._succeed(session, job, outcome, now=self._clock())
        elif isinstance(outcome, RetryLater):
            self._fail(session, job, str(outcome), after=outcome.after)
        elif isinstance(outcome, PermanentError):
            self._fail(session, job, str(outcome), dead=True)
        else:
            self._fail(session, job, f"{type(outcome).__name__}: {outcome}")

    def _succeed(
        self, session: Session, job: Job, delivered: Delivered | None, *, now: datetime
    ) -> None:
        """Mark the row sent; ``delivered`` None: skipped by a hook, never sent."""
        row = session.get_one(OutboxMessage, job.id)
        row.status = OutboxStatus.SENT
        row.sent_at = now
        row.locked_until = None
        row.last_error = None
        if delivered is None:
            return
        for hook in self._hooks:
            hook.sent(session, job, delivered)
        session.add_all(delivered.store)

    def _fail(
        self,
        session: Session,
        job: Job,
        error: str,
        *,
        after: float | None = None,
        dead: bool = False,
    ) -> None:
        row = session.get_one(OutboxMessage, job.id)
        row.last_error = error[:2000]
        row.locked_until = None
        if dead or job.attempts >= self._max_attempts:
            row.status = OutboxStatus.DEAD
            logger.error("outbox row %s (%s) is dead: %s", job.id, job.kind, error)
            return
        delay = after if after is not None else backoff_s(job.attempts)
        row.next_attempt_at = self._clock() + timedelta(seconds=delay)
        logger.warning("outbox row %s retry in %.1fs: %s", job.id, delay, error)
