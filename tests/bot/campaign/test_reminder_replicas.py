"""Two app processes on PostgreSQL send each reminder exactly once.

Both run the scheduler (every 0.1 s) over the same reminders; Telegram is a fake on
loopback that knows which process sent each message (one bot token each). 300 citizens
have one reminder due, 20 have two: each citizen gets exactly one today (one a day), and
nobody gets anything twice.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.campaign import sessions, when
from bot.campaign.models import Reminder, ReminderKind, ReminderStatus
from bot.db import as_utc, session_scope, utcnow
from bot.handoff.officers import find_commune
from bot.outbox import OutboxMessage, OutboxStatus
from tests.auxil.db import make_seeded_db
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.replicas import AppProcess, app_env, app_replicas, wait_healthy

TOKENS = {"app-a": "333333:reminders-A", "app-b": "444444:reminders-B"}
SINGLE, DOUBLE = 300, 20
FIRST_CHAT = 700_000


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[Callable[[str, dict[str, str]], AppProcess]]:
    with app_replicas(tmp_path) as start:
        yield start


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram(also_tokens=tuple(TOKENS.values())).start()
    yield fake
    fake.stop()


def morning() -> datetime:
    """The next 10:00 in Vietnam: the stack's time, whatever the hour of the test run."""
    today = when.vietnam_day(utcnow())
    return when.at_vietnam(today + timedelta(days=1), clock_time(10))


def test_two_replicas_send_each_reminder_exactly_once(
    pg_url, telegram, replicas, tmp_path, request
):
    factory = make_seeded_db(pg_url)
    request.addfinalizer(factory.kw["bind"].dispose)  # before the database is dropped
    now = morning()
    clock = tmp_path / "clock"
    clock.write_text(str((now - utcnow()).total_seconds()), encoding="utf-8")
    with session_scope(factory) as session:
        commune = find_commune(session, "Xốp")
        found = sessions.announce(
            session,
            commune=commune,
            draft=sessions.Draft(
                day=when.vietnam_day(now) + timedelta(days=1),
                start=clock_time(7, 30),
                end=clock_time(11),
                place="Nhà văn hóa thôn 1",
            ),
            by="test",
            now=now,
        )
        chats = [FIRST_CHAT + i for i in range(SINGLE + DOUBLE)]
        for i, chat in enumerate(chats):
            session.add(
                Reminder(
                    kind=ReminderKind.SESSION,
                    channel="telegram",
                    sender=f"tg:{chat}",
                    commune_id=commune.id,
                    session_id=found.id,
                    due_at=now - timedelta(minutes=1 + i % 7),
                    expires_at=found.starts_at,
                )
            )
            if i >= SINGLE:  # a second one, due at the same time
                session.add(
                    Reminder(
                        kind=ReminderKind.ACTIVATION,
                        channel="telegram",
                        sender=f"tg:{chat}",
                        step="waiting",
                        due_at=now - timedelta(minutes=1),
                        expires_at=now + timedelta(days=30),
                    )
                )
    extra = {"TEST_CLOCK_FILE": str(clock), "REMINDERS_EVERY_S": "0.1"}
    apps = [
        replicas(name, app_env(pg_url, telegram, token, **extra)) for name, token in TOKENS.items()
    ]
    wait_healthy(apps)

    deadline = time.monotonic() + 90
    while len({m["chat_id"] for m in telegram.sent}) < len(chats):
        for app in apps:
            assert app.proc.poll() is None, f"{app.name} died:\n{app.tail()}"
        assert time.monotonic() < deadline, f"{len(telegram.sent)} reminders after 90 s"
        time.sleep(0.1)
    time.sleep(2)  # several more rounds of both schedulers: nothing more may go out
    for app in apps:
        assert app.stop(), f"{app.name} did not shut down cleanly:\n{app.tail()}"

    sent = list(telegram.sent)
    per_chat = Counter(m["chat_id"] for m in sent)
    assert set(per_chat) == set(chats)
    assert [chat for chat, n in per_chat.items() if n > 1] == []
    assert len(sent) == len(chats)
    # both processes sent some (each round enqueues a batch and wakes its own worker)
    by_token = Counter(m["token"] for m in sent)
    assert set(by_token) == set(TOKENS.values()), by_token
    with session_scope(factory) as session:
        rows = list(session.scalars(select(Reminder)))
        statuses = Counter(r.status for r in rows)
        assert statuses == {ReminderStatus.SENT: len(chats), ReminderStatus.PENDING: DOUBLE}
        # the second reminder of the same citizen waits for tomorrow morning
        tomorrow = when.at_vietnam(when.vietnam_day(now) + timedelta(days=1), clock_time(7))
        waiting = [r for r in rows if r.status == ReminderStatus.PENDING]
        assert {as_utc(r.due_at) for r in waiting} == {tomorrow}
        outbox = list(session.scalars(select(OutboxMessage)))
        assert len(outbox) == len(chats)
        assert {r.status for r in outbox} == {OutboxStatus.SENT}
