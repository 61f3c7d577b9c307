"""Child processes that do not outlive the process that started them."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

__all__ = ["death_signal", "run_logged", "spawn"]

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def death_signal() -> Callable[[], None] | None:
    """A function for the child: get SIGTERM when its parent dies (Linux; else None).

    Looked up in the parent: after fork the child only calls it.
    """
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the call above
            os.kill(os.getpid(), signal.SIGTERM)

    return arm


PRIVATE_UMASK = 0o077  # files 0600, folders 0700


def private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) if needed; make it readable by its owner only."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)


def make_private(root: Path) -> None:
    """Files under ``root`` readable by their owner only (0600; folders 0700)."""
    if not root.exists():
        return
    private_dir(root)
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        path.chmod(0o700 if path.is_dir() else 0o600)


def spawn(
    cmd: list[str], *, cwd: Path, env: dict[str, str], log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start a service in its own process group, its output appended to ``log``.

    Its own group: a Ctrl-C in the terminal reaches the parent, whose cleanup stops the
    services in order. Started from the main thread, the service also gets SIGTERM when the
    parent dies without cleaning up (killed, or a CI timeout), so nothing is left running.
    (Linux ties that signal to the thread that started the child: from another thread it
    would fire when that thread ends, so there it is not set.)
    """
    main = threading.current_thread() is threading.main_thread()
    preexec = death_signal() if main else None
    out = None
    if log is not None:
        private_dir(log.parent)
        out = os.fdopen(os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab")
        os.chmod(log, 0o600)  # a log written before files were private
    try:
        return subprocess.Popen(  # noqa: S603
            cmd,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
            preexec_fn=preexec,
            umask=PRIVATE_UMASK,  # what a service creates (databases, logs) is its user's only
        )
    finally:
        if out is not None:
            out.close()  # the child has its own descriptor


async def run_logged(
    cmd: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    log: Path,
    every: float,
    stop: Callable[[], Awaitable[bool]],
) -> int | None:
    """Run a niced child, its command line and output appended to ``log``; its exit code.

    Every ``every`` seconds ``stop()`` is awaited: when it says so, the child's process group
    gets SIGTERM and None is returned. When the caller fails or is cancelled, the group is
    killed: a child never outlives its job (nor the app: ``death_signal``).
    """
    arm = death_signal()

    def setup() -> None:
        os.nice(10)  # chatting keeps the CPU first
        if arm is not None:
            arm()

    with log.open("ab") as out:
        out.write(("$ " + " ".join([Path(cmd[0]).name, *cmd[1:]]) + "\n").encode())
        out.flush()
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=setup,
        )
    try:
        while True:
            try:
                return await asyncio.wait_for(proc.wait(), timeout=every)
            except TimeoutError:
                pass
            if await stop():
                os.killpg(proc.pid, signal.SIGTERM)
                await proc.wait()
                return None
    finally:
        if proc.returncode is None:  # the caller failed or the app stops: no orphan
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
