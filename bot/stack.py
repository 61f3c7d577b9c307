"""Start Rasa, the action server and the app as one stack (``make run``, e2e tests).

The same topology as docker-compose.yml can run as processes: ``app_workers`` app
processes on one port (uvicorn workers), ``rasa_ports`` for several Rasa replicas (the
app spreads conversations over them), a PostgreSQL tracker store (``tracker_url``) and
Redis as Rasa's lock store (``redis_url``), so any replica can serve any conversation.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bot.config import PROJECT_ROOT
from bot.modelops.artefacts import rasa_env
from bot.process import spawn

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
    # redis://host:port/db: Rasa's lock store (needed with several Rasa replicas)
    redis_url: str = ""
    lock_store_prefix: str = "vneid"
    # several Rasa replicas: their ports (rasa_port is then the first)
    rasa_ports: list[int] = field(default_factory=list)
    app_workers: int = 1
    log_dir: Path | None = None
    extra_app_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rasa_ports:
            self.rasa_port = self.rasa_ports[0]
        else:
            self.rasa_ports = [self.rasa_port]

    def url(self, port: int) -> str:
        """Base URL of a service on this host."""
        return f"http://{self.host}:{port}"

    def lock_store(self) -> dict[str, str]:
        """The variables of endpoints.yml's lock_store: Redis when configured."""
        if not self.redis_url:
            return {
                "LOCK_STORE_TYPE": "in_memory",
                "LOCK_STORE_HOST": "",
                "LOCK_STORE_PORT": "0",
                "LOCK_STORE_DB": "0",
                "LOCK_STORE_PREFIX": self.lock_store_prefix,
            }
        parts = urlsplit(self.redis_url)
        return {
            "LOCK_STORE_TYPE": "redis",
            "LOCK_STORE_HOST": parts.hostname or "127.0.0.1",
            "LOCK_STORE_PORT": str(parts.port or 6379),
            "LOCK_STORE_DB": (parts.path.strip("/") or "0"),
            "LOCK_STORE_PREFIX": self.lock_store_prefix,
        }


class Stack:
    """The three processes, started in order and stopped together."""

    def __init__(self, config: StackConfig) -> None:
        """Prepare, without starting anything."""
        self.config = config
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        log = self.config.log_dir / f"{name}.log" if self.config.log_dir else None
        self.procs[name] = spawn(cmd, cwd=self.config.root, env=env, log=log)

    def start(self, timeout: float = 240.0) -> None:
        """Start the app, the action server and Rasa; wait until all answer.

        Further Rasa replicas start once the first answers: it has created the tracker
        store's tables by then (replicas creating them at once on a fresh PostgreSQL
        database collide).
        """
        names = self._names()
        first, more = names[:3], names[3:]  # app, actions, rasa; then the other replicas
        for name in first:
            self._start(name)
        self.wait_ready(timeout, only=first)
        for name in more:
            self._start(name)
        if more:
            self.wait_ready(timeout, only=more)

    def _names(self) -> list[str]:
        rasa = ["rasa"] + [f"rasa{i + 1}" for i in range(1, len(self.config.rasa_ports))]
        return ["app", "actions", *rasa]

    def _rasa_port(self, name: str) -> int:
        index = 0 if name == "rasa" else int(name.removeprefix("rasa")) - 1
        return self.config.rasa_ports[index]

    def _start(self, name: str) -> None:
        c = self.config
        base_env = {**os.environ, **c.env}
        rasa_urls = ",".join(c.url(port) for port in c.rasa_ports)
        tracker = c.tracker_url or f"sqlite:///{c.root / 'var' / 'rasa_tracker.db'}"
        # the app purges old conversations from Rasa's tracker store too (RETENTION_DAYS)
        app_env = {
            **base_env,
            "RASA_URL": rasa_urls,
            "RASA_TRACKER_URL": tracker,
            **c.extra_app_env,
        }
        python = sys.executable
        wiring = {  # the variables endpoints.yml refers to
            "NLG_URL": f"{c.url(c.app_port)}/nlg",
            "INTERNAL_TOKEN": c.env["RASA_TOKEN"],
            "ACTION_ENDPOINT_URL": f"{c.url(c.actions_port)}/webhook",
            "TRACKER_DIALECT": tracker.split(":", 1)[0].split("+", 1)[0],
            "TRACKER_URL": tracker,
            **c.lock_store(),
            # a replica that dies holding a conversation's lock blocks it this long (Rasa's
            # default is 60 s); a turn takes well under a second, the app waits 10 s at most
            "TICKET_LOCK_LIFETIME": "15",
        }
        if name == "app":
            workers = ["--workers", str(c.app_workers)] if c.app_workers > 1 else []
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
                    *workers,
                    *_proxy_headers(),
                ],
                app_env,
            )
        elif name == "actions":
            self._spawn(
                "actions",
                [python, "-m", "bot.actions.server", "--port", str(c.actions_port)],
                {**app_env, **wiring, "SANIC_HOST": c.host},
            )
        else:
            self._spawn(
                name,
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
                    str(self._rasa_port(name)),
                    "--enable-api",
                    # one argument: a token that starts with "-" (token_urlsafe makes one in
                    # 32) would otherwise be read as an option, and Rasa would not start
                    f"--auth-token={c.env['RASA_TOKEN']}",
                ],
                {**rasa_env(c.root, serving=True), **c.env, **wiring},
            )

    def restart_one(self, name: str, timeout: float = 240.0) -> None:
        """Start one stopped or killed process again (fault tests); wait until it answers."""
        self.stop(name)
        self._start(name)
        self.wait_ready(timeout, only=[name])

    def kill(self, name: str) -> None:
        """SIGKILL one process, as a crash would (fault tests)."""
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def wait_ready(self, timeout: float, *, only: list[str] | None = None) -> None:
        """Poll each service's health URL until it answers, or fail."""
        c = self.config
        checks = {
            "app": f"{c.url(c.app_port)}/healthz",
            "actions": f"{c.url(c.actions_port)}/health",
        }
        for name in self._names()[2:]:
            checks[name] = f"{c.url(self._rasa_port(name))}/status?token={c.env['RASA_TOKEN']}"
        deadline = time.monotonic() + timeout
        pending = {k: v for k, v in checks.items() if only is None or k in only}
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


def _proxy_headers() -> list[str]:
    """Uvicorn's flags for X-Forwarded-For: believed only from FORWARDED_ALLOW_IPS.

    ``make run`` serves the app directly, so by default no client's claim is believed (it
    would let one dodge the login throttling by naming another address).
    """
    return [] if os.environ.get("FORWARDED_ALLOW_IPS") else ["--no-proxy-headers"]
