"""Serving a fake platform API on loopback, and waiting for what the app does in the background."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn


def wait_until(
    predicate: Callable[[], Any], timeout: float = 15.0, describe: Callable[[], str] = str
) -> Any:
    """Poll ``predicate`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out; {describe()}")


class LoopbackServer:
    """An ASGI app served by uvicorn on 127.0.0.1 in a daemon thread."""

    def __init__(self, app: Any, port: int) -> None:
        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> None:
        """Serve, and return once the port accepts connections."""
        self._thread.start()
        wait_until(lambda: self._server.started, describe=lambda: "fake server did not start")

    def stop(self) -> None:
        """Shut down."""
        self._server.should_exit = True
        self._thread.join(timeout=10)


def settled(messages: Callable[[], list[Any]], count: int, timeout: float = 20.0) -> list[Any]:
    """Wait for ``count`` messages, then a moment more: anything beyond would be a duplicate."""
    wait_until(lambda: len(messages()) >= count, timeout, lambda: f"got {messages()}")
    time.sleep(0.3)
    return messages()
