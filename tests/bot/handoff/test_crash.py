"""The app is killed after a ticket is committed and before its alert went out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import select

from bot.communes.models import Commune
from bot.config import PROJECT_ROOT
from bot.db import session_scope, utcnow
from bot.handoff import service
from bot.handoff.models import Officer
from bot.outbox import OutboxMessage, OutboxStatus
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.net import free_port


@pytest.fixture
def telegram():
    fake = FakeTelegram().start()
    yield fake
    fake.stop()


def start_app(db_url, telegram, port, log):
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": db_url,
        "SECRET_KEY": "k" * 32,
        "RASA_TOKEN": "t" * 24,
        "RASA_URL": "http://127.0.0.1:9",
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_URL": telegram.base_url,
        "TELEGRAM_WEBHOOK_URL": "https://vneid.example/webhooks/telegram",
        "TELEGRAM_WEBHOOK_SECRET": "s" * 24,
        "TELEGRAM_TIMEOUT_S": "1",
        "OUTBOX_POLL_S": "0.1",
        "OUTBOX_LEASE_S": "3",
    }
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "uvicorn", "bot.main:create_app", "--factory", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("app did not start")


def test_alert_committed_before_a_crash_is_sent_once_after_restart(
    db_url, session_factory, telegram, tmp_path
):
    with session_scope(session_factory) as session:
        xop = session.scalar(select(Commune).where(Commune.name == "Xốp"))
        session.add(Officer(name="Hùng", telegram_user_id=101, commune_id=xop.id))
        commune_id = xop.id
    # Telegram hangs when the ticket is committed: the app dies with the alert in flight
    telegram.fail("hang", 10_000, hang_s=5)
    port = free_port()
    log = (tmp_path / "app.log").open("ab")  # noqa: SIM115 - closed at the end
    app = start_app(db_url, telegram, port, log)
    try:
        with session_scope(session_factory) as session:
            ticket = service.open_ticket(
                session,
                service.NewTicket(
                    channel="web",
                    sender="web:x",
                    commune_id=commune_id,
                    commune_label="xã Xốp",
                    description="cần giúp kích hoạt",
                ),
                now=utcnow(),
                routing=service.Routing(),
            )
            code = ticket.code
        telegram.wait_for(lambda: telegram.calls.count("sendMessage") >= 1)
    finally:
        os.killpg(app.pid, signal.SIGKILL)  # no shutdown, no cleanup
        app.wait()
    with session_scope(session_factory) as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "alert"))
        assert row.status == OutboxStatus.PENDING
    assert telegram.sent == []

    telegram.faults.clear()  # Telegram is back; so is the app
    app = start_app(db_url, telegram, port, log)
    try:
        telegram.wait_for(lambda: len(telegram.sent) == 1, timeout=20)
        time.sleep(1.0)  # would a second copy follow?
    finally:
        os.killpg(app.pid, signal.SIGTERM)
        app.wait(timeout=20)
    log.close()
    assert len(telegram.sent) == 1 and code in telegram.sent[0]["text"]
    with session_scope(session_factory) as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "alert"))
        assert row.status == OutboxStatus.SENT
