"""Start Rasa, the action server and the app as one stack (``make run``, e2e tests)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.config import PROJECT_ROOT
from bot.training import rasa_env

logger = logging.getLogger(__name__)

__all__ = ["Stack", "StackConfig"]


@dataclass
class StackConfig:
    """Where each service listens and what it uses."""

    model: Path
    env: dict[str, str]
    root: Path = PROJECT_ROOT
    host: str = "127.0.0.1"
    rasa_port: int = 5005
    actions_port: int = 5055
    app_port: int = 8000
    rasa_bin: Path = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
    tracker_url: str = ""
    lock_store_type: str = "in_memory"
    lock_store_host: str = "127.0.0.1"
    log_dir: Path | None = None
    extra_app_env: dict[str, str] = field(default_factory=dict)

    def url(self, port: int) -> str:
        """Base URL of a service on this host."""
        return f"http://{self.host}:{port}"


class Stack:
    """The three processes, started in order and stopped together."""

    def __init__(self, config: StackConfig) -> None:
        """Prepare, without starting anything."""
        self.config = config
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        out = None
        if self.config.log_dir is not None:
            self.config.log_dir.mkdir(parents=True, exist_ok=True)
            out = (self.config.log_dir / f"{name}.log").open("ab")
        try:
            self.procs[name] = subprocess.Popen(  # noqa: S603
                cmd,
                cwd=self.config.root,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT if out else None,
                start_new_session=True,
            )
        finally:
            if out is not None:
                out.close()  # the child has its own descriptor

    def start(self, timeout: float = 240.0) -> None:
        """Start the app, the action server and Rasa; wait until all answer."""
        c = self.config
        base_env = {**os.environ, **c.env}
        app_env = {**base_env, "RASA_URL": c.url(c.rasa_port), **c.extra_app_env}
        python = sys.executable
        self._spawn(
            "app",
            [
                python,
                "-m",
                "uvicorn",
                "bot.main:create_app",
                "--factory",
                "--host",
                c.host,
                "--port",
                str(c.app_port),
                "--no-access-log",
            ],
            app_env,
        )
        tracker = c.tracker_url or f"sqlite:///{c.root / 'var' / 'rasa_tracker.db'}"
        wiring = {  # the variables endpoints.yml refers to
            "NLG_URL": f"{c.url(c.app_port)}/nlg",
            "ACTION_ENDPOINT_URL": f"{c.url(c.actions_port)}/webhook",
            "TRACKER_DIALECT": tracker.split(":", 1)[0].split("+", 1)[0],
            "TRACKER_URL": tracker,
            "LOCK_STORE_TYPE": c.lock_store_type,
            "LOCK_STORE_HOST": c.lock_store_host,
        }
        self._spawn(
            "actions",
            [python, "-m", "rasa_sdk", "--actions", "bot.actions", "--port", str(c.actions_port)],
            {**app_env, **wiring, "SANIC_HOST": c.host},
        )
        rasa = {**rasa_env(c.root), **c.env, **wiring}
        self._spawn(
            "rasa",
            [
                str(c.rasa_bin),
                "run",
                "--model",
                str(c.model),
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
                "--interface",
                c.host,
                "--port",
                str(c.rasa_port),
                "--enable-api",
                "--auth-token",
                c.env["RASA_TOKEN"],
            ],
            rasa,
        )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        """Poll each service's health URL until it answers, or fail."""
        c = self.config
        checks = {
            "app": f"{c.url(c.app_port)}/healthz",
            "actions": f"{c.url(c.actions_port)}/health",
            "rasa": f"{c.url(c.rasa_port)}/status?token={c.env['RASA_TOKEN']}",
        }
        deadline = time.monotonic() + timeout
        pending = dict(checks)
        while pending:
            for name, url in list(pending.items()):
                proc = self.procs[name]
                if proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"{name} exited with code {proc.returncode}")
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        logger.info("%s is ready", name)
                        del pending[name]
                except httpx.HTTPError:
                    pass
            if pending and time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"not ready after {timeout:.0f}s: {sorted(pending)}")
            if pending:
                time.sleep(0.5)

    def stop(self, name: str | None = None) -> None:
        """Stop one process, or all of them."""
        names = [name] if name else list(self.procs)
        for n in names:
            proc = self.procs.get(n)
            if proc is None or proc.poll() is not None:
                continue
            os.killpg(proc.pid, signal.SIGTERM)
        for n in names:
            proc = self.procs.get(n)
            if proc is None:
                continue
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def restart(self, timeout: float = 240.0) -> None:
        """Stop every process and start them again with the same settings."""
        self.stop()
        self.procs.clear()
        self.start(timeout)

    def wait(self) -> int:
        """Block until any process exits; return its code."""
        while True:
            for name, proc in self.procs.items():
                code = proc.poll()
                if code is not None:
                    logger.error("%s exited with code %s", name, code)
                    return code
            time.sleep(0.5)
