"""Two app processes, two outbox workers, one PostgreSQL: 1,000 alerts, none lost, none twice.

Two producer threads open tickets as the action server does (``service.open_ticket``, one
short transaction each) while two app processes (uvicorn, each running its outbox worker)
deliver the alerts to a fake Telegram Bot API that answers some calls with 429 and 500.
The alerts go to 64 chats (the province group, commune groups, officers' private chats,
and one commune with two officers), so chats are served in parallel while each chat's
alerts wait behind one another. Each process has its own bot token, so the fake knows
which process sent each message.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.communes.models import Commune
from bot.config import PROJECT_ROOT, Settings
from bot.db import session_scope, utcnow
from bot.handoff import service
from bot.handoff.models import AlertMessage, Officer
from bot.outbox import OutboxMessage, OutboxStatus
from tests.auxil.db import make_seeded_db
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.net import free_port

TICKETS = 1000
PRODUCERS = 2
PROVINCE_CHAT = -100_900
TOKENS = {"app-a": "111111:replica-A", "app-b": "222222:replica-B"}
CODE = re.compile(r"HT-\d{6}")
DEADLINE_S = 120.0


@dataclass(frozen=True)
class Target:
    """Where a ticket's alert goes: its commune (None: the province) and the chats."""

    commune_id: int | None
    label: str
    chats: tuple[int, ...]


@dataclass(frozen=True)
class Opened:
    """A committed ticket: which producer opened it, in what order, alerting whom."""

    code: str
    producer: int
    seq: int
    chats: tuple[int, ...]


@dataclass
class AppProcess:
    """One uvicorn process of the app, in its own process group."""

    name: str
    port: int
    log: Path
    proc: subprocess.Popen[bytes]

    def tail(self, chars: int = 5000) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text[-chars:]

    def healthy(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).is_success
        except httpx.HTTPError:
            return False

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM, as a deploy would; whether the app shut down cleanly (else SIGKILL).

        The lifespan's shutdown waits for the outbox worker to finish its round, so after
        a clean stop nothing of this process is in flight.
        """
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                return False
        # uvicorn exits by the signal it caught, once its shutdown is complete
        return self.proc.returncode in (0, -signal.SIGTERM) and (
            "Application shutdown complete." in self.tail()
        )


def app_env(db_url: str, telegram: FakeTelegram, token: str) -> dict[str, str]:
    """The test's environment without any app setting, plus this replica's settings."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env.update(
        {
            "PYTHONPATH": str(PROJECT_ROOT),
            "ENVIRONMENT": "test",
            "DATABASE_URL": db_url,
            "SECRET_KEY": secrets.token_urlsafe(32),
            "RASA_TOKEN": secrets.token_urlsafe(24),
            "RASA_URL": "http://127.0.0.1:9",  # never called: no chat in this test
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_API_URL": telegram.base_url,
            # a webhook URL: the app does not long-poll the fake
            "TELEGRAM_WEBHOOK_URL": "https://vneid.example/webhooks/telegram",
            "TELEGRAM_WEBHOOK_SECRET": "replicas-webhook-secret_0123",
            "TELEGRAM_TIMEOUT_S": "4",
            "HANDOFF_PROVINCE_CHAT_ID": str(PROVINCE_CHAT),
            "OUTBOX_POLL_S": "0.1",
            "OUTBOX_LEASE_S": "10",  # the lease is max(this, 2 x TELEGRAM_TIMEOUT_S)
        }
    )
    return env


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram(also_tokens=tuple(TOKENS.values())).start()
    yield fake
    fake.stop()


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[Callable[[str, dict[str, str]], AppProcess]]:
    """Start app processes; all are stopped at teardown, and their logs shown on failure."""
    started: list[AppProcess] = []

    def start(name: str, env: dict[str, str]) -> AppProcess:
        port = free_port()
        log = tmp_path / f"{name}.log"
        with log.open("ab") as out:  # the child keeps its own descriptor
            proc = subprocess.Popen(  # noqa: S603
                [
                    *(sys.executable, "-m", "uvicorn", "bot.main:create_app", "--factory"),
                    *("--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
                ],
                cwd=tmp_path,  # no developer .env is read
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        app = AppProcess(name, port, log, proc)
        started.append(app)
        return app

    yield start
    for app in started:
        if app.proc.poll() is None:
            os.killpg(app.proc.pid, signal.SIGKILL)
            app.proc.wait()
    for app in started:  # pytest shows this only when the test failed
        print(f"--- {app.name} (exit {app.proc.returncode}), {app.log}\n{app.tail()}")


def wait_healthy(apps: list[AppProcess], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(apps)
    while waiting:
        for app in list(waiting):
            if app.proc.poll() is not None:
                pytest.fail(f"{app.name} exited with {app.proc.returncode}:\n{app.tail()}")
            if app.healthy():
                waiting.remove(app)
        if waiting and time.monotonic() > deadline:
            pytest.fail(f"not healthy after {timeout:.0f}s: {[a.name for a in waiting]}")
        if waiting:
            time.sleep(0.1)


def make_targets(factory: sessionmaker[Session]) -> list[Target]:
    """64 destinations: the province group, 31 commune groups, 31 communes whose officer
    gets alerts in a private chat, and one commune with two officers (two chats)."""
    with session_scope(factory) as session:
        targets = [Target(None, "", (PROVINCE_CHAT,))]
        for k in range(31):
            group = -200_000 - k
            commune = Commune(name=f"Thử {k}", unit_type="xã", province="Tỉnh Thử")
            commune.officer_chat_id = group
            session.add(commune)
            session.flush()
            targets.append(Target(commune.id, f"xã {commune.name}", (group,)))
        for k in range(32):
            commune = Commune(name=f"Thử {k}", unit_type="phường", province="Tỉnh Thử")
            session.add(commune)
            session.flush()
            chats = (300_000 + k, 399_999) if k == 31 else (300_000 + k,)
            for n, chat in enumerate(chats):
                session.add(
                    Officer(name=f"Cán bộ {k}.{n}", telegram_user_id=chat, commune_id=commune.id)
                )
            targets.append(Target(commune.id, f"phường {commune.name}", chats))
    assert len(targets) == 64
    return targets


def produce(
    factory: sessionmaker[Session], producer: int, count: int, targets: list[Target]
) -> list[Opened]:
    """Open ``count`` tickets one transaction each, as the action server does."""
    routing = service.Routing(province_chat_id=PROVINCE_CHAT)
    opened = []
    for seq in range(count):
        # both producers go round all the targets, out of step: chats get both their tickets
        target = targets[(seq + 7 * producer) % len(targets)]
        with session_scope(factory) as session:
            ticket = service.open_ticket(
                session,
                service.NewTicket(
                    channel="web",
                    sender=f"replica-test-{producer}-{seq}",
                    commune_id=target.commune_id,
                    commune_label=target.label,
                    description=f"producer {producer} ticket {seq}",
                ),
                now=utcnow(),
                routing=routing,
            )
            opened.append(Opened(ticket.code, producer, seq, target.chats))
    return opened


def received(telegram: FakeTelegram) -> list[dict]:
    return list(telegram.sent)  # a snapshot: the fake appends from its own thread


def test_two_replicas_deliver_every_alert_exactly_once(pg_url, telegram, replicas, request):
    started_at = time.monotonic()
    factory = make_seeded_db(pg_url)
    request.addfinalizer(factory.kw["bind"].dispose)  # before the database is dropped
    targets = make_targets(factory)
    seeded_at = time.monotonic()
    # Telegram misbehaves from the first alert on: three 429s, then three 500s
    telegram.fail("429", 3, retry_after=1)
    telegram.fail("500", 3)
    faults = 6
    apps = [replicas(name, app_env(pg_url, telegram, token)) for name, token in TOKENS.items()]
    wait_healthy(apps)
    up_at = time.monotonic()

    per_producer = TICKETS // PRODUCERS
    with ThreadPoolExecutor(PRODUCERS) as pool:
        futures: list[Future[list[Opened]]] = [
            pool.submit(produce, factory, p, per_producer, targets) for p in range(PRODUCERS)
        ]
        deadline = time.monotonic() + DEADLINE_S
        more_faults = True
        produced_at = None
        while True:
            sent = received(telegram)
            if more_faults and len(sent) >= TICKETS // 3:  # and again, mid-way
                telegram.fail("500", 4)
                telegram.fail("429", 4, retry_after=1)
                faults += 8
                more_faults = False
            if all(f.done() for f in futures):
                produced_at = produced_at or time.monotonic()
                opened = [o for f in futures for o in f.result()]  # raises a producer's error
                expected = {(o.code, chat) for o in opened for chat in o.chats}
                if {(CODE.search(m["text"])[0], m["chat_id"]) for m in sent} >= expected:
                    break
            for app in apps:
                assert app.proc.poll() is None, f"{app.name} died:\n{app.tail()}"
            assert time.monotonic() < deadline, (
                f"after {DEADLINE_S:.0f}s: {len(sent)} alerts received, "
                f"producers done: {[f.done() for f in futures]}"
            )
            time.sleep(0.1)
    delivered_at = time.monotonic()

    def outbox() -> list[OutboxMessage]:
        with session_scope(factory) as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    # the "sent" mark is written just after Telegram answered
    deadline = time.monotonic() + 20
    while {r.status for r in outbox()} != {OutboxStatus.SENT} and time.monotonic() < deadline:
        time.sleep(0.1)
    # Both processes stop gracefully: nothing is in flight, nothing more can arrive.
    for app in apps:
        assert app.stop(), f"{app.name} did not shut down cleanly:\n{app.tail()}"
    sent = received(telegram)
    rows = outbox()

    # none lost, none twice: each (ticket, chat) exactly once, nothing else
    copies = Counter((CODE.search(m["text"])[0], m["chat_id"]) for m in sent)
    assert set(copies) == expected
    assert [k for k, n in copies.items() if n > 1] == []
    assert len(opened) == len({o.code for o in opened}) == TICKETS
    assert len(sent) == len(expected) == sum(len(o.chats) for o in opened) > TICKETS
    # every row sent; every claim made exactly one call (the failed ones are the faults)
    assert len(rows) == len(expected)
    assert Counter(r.status for r in rows) == {OutboxStatus.SENT: len(rows)}
    assert all(f.count == 0 for f in telegram.faults), telegram.faults
    calls = telegram.calls.count("sendMessage")
    assert calls == len(sent) + faults
    assert sum(r.attempts for r in rows) == calls
    assert sum(r.attempts - 1 for r in rows) == faults
    with session_scope(factory) as session:  # each delivery recorded once, for replies
        assert session.scalar(select(func.count(AlertMessage.id))) == len(expected)

    # a chat gets one producer's tickets in the order that producer committed them
    order: dict[tuple[int, int], list[int]] = defaultdict(list)
    by_code = {o.code: o for o in opened}
    for message in sent:
        ticket = by_code[CODE.search(message["text"])[0]]
        order[(message["chat_id"], ticket.producer)].append(ticket.seq)
    assert {key: seqs for key, seqs in order.items() if seqs != sorted(seqs)} == {}

    # both processes delivered a fair share, most chats from both (the order above held
    # across processes, not only within one)
    by_process = Counter(m["token"] for m in sent)
    shares = {name: by_process[token] for name, token in TOKENS.items()}
    assert sum(shares.values()) == len(sent)
    assert min(shares.values()) >= len(sent) // 10, shares
    tokens_of: dict[int, set[str]] = defaultdict(set)
    for message in sent:
        tokens_of[message["chat_id"]].add(message["token"])
    both = sum(len(t) == len(TOKENS) for t in tokens_of.values())
    assert both >= len(tokens_of) // 2, f"{both} of {len(tokens_of)} chats served by both"
    print(
        f"{len(sent)} alerts to {len(tokens_of)} chats ({both} served by both processes); "
        f"by process {shares}; {faults} calls failed; seeded in {seeded_at - started_at:.1f}s, "
        f"apps up {up_at - seeded_at:.1f}s later, tickets opened in "
        f"{(produced_at or delivered_at) - up_at:.1f}s, all delivered {delivered_at - up_at:.1f}s "
        "after the apps were up"
    )
