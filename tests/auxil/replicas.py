"""App processes (uvicorn, as deployed) for the tests that run several replicas at once."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.config import PROJECT_ROOT, Settings
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.net import free_port

__all__ = ["PROVINCE_CHAT", "AppProcess", "app_env", "app_replicas", "wait_healthy"]

PROVINCE_CHAT = -100_900


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


def app_env(db_url: str, telegram: FakeTelegram, token: str, **extra: str) -> dict[str, str]:
    """The test's environment without any app setting, plus this replica's settings
    (``extra``: more settings, by their environment names)."""
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
            **extra,
        }
    )
    return env


@contextmanager
def app_replicas(tmp_path: Path) -> Iterator[Callable[[str, dict[str, str]], AppProcess]]:
    """Start app processes; all are stopped on exit, and their logs printed (pytest shows
    them when the test failed)."""
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

    try:
        yield start
    finally:
        _stop_all(started)


def _stop_all(started: list[AppProcess]) -> None:
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
