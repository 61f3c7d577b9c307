"""A local fake of the Zalo OA Open API (send message, token refresh) on loopback.

Access tokens expire on demand (the send API then answers error -216, as Zalo does);
refresh tokens are single-use, so spending one twice is caught. It can also answer 429,
500 or hang for a number of send calls.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.auxil.loopback import LoopbackServer, wait_until
from tests.auxil.net import free_port

APP_ID = "1234567890"
APP_SECRET = "app-secret-xyz"
OA_SECRET_KEY = "oa-secret-key-abc"
FIRST_REFRESH = "refresh-0"


@dataclass
class FakeZalo:
    """The fake server; start() runs it in a thread."""

    port: int = field(default_factory=free_port)
    sent: list[dict[str, Any]] = field(default_factory=list)
    refreshes: list[str] = field(default_factory=list)
    faults: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._n = itertools.count(1)
        self.valid_access: set[str] = set()
        self.valid_refresh: set[str] = {FIRST_REFRESH}
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None

    @property
    def url(self) -> str:
        """Base URL for both the API and OAuth settings."""
        return f"http://127.0.0.1:{self.port}"

    def expire_access_tokens(self) -> None:
        """Every access token handed out so far stops working (-216)."""
        self.valid_access.clear()

    def fail(self, kind: str, count: int) -> None:
        """The next ``count`` send calls answer ``kind``: "429", "500" or "hang"."""
        self.faults.append((kind, count))

    def to(self, user_id: str) -> list[dict[str, Any]]:
        """Messages sent to one user."""
        return [m for m in self.sent if m["user_id"] == user_id]

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        """Block until ``predicate()`` holds."""
        wait_until(predicate, timeout, lambda: f"sent={self.sent} refreshes={self.refreshes}")

    def start(self) -> FakeZalo:
        """Serve on a free loopback port."""
        app = Starlette(
            routes=[
                Route("/v3.0/oa/message/cs", self._send, methods=["POST"]),
                Route("/v4/oa/access_token", self._refresh, methods=["POST"]),
            ]
        )
        self._server = LoopbackServer(app, self.port)
        self._server.start()
        return self

    def stop(self) -> None:
        """Shut down."""
        if self._server is not None:
            self._server.stop()

    def _take_fault(self) -> str | None:
        with self._lock:
            while self.faults and self.faults[0][1] <= 0:
                self.faults.pop(0)
            if not self.faults:
                return None
            kind, count = self.faults[0]
            self.faults[0] = (kind, count - 1)
            return kind

    async def _send(self, request: Request) -> JSONResponse:
        fault = self._take_fault()
        if fault == "429":
            return JSONResponse(
                {"error": -32, "message": "rate limit"}, 429, headers={"Retry-After": "1"}
            )
        if fault == "500":
            return JSONResponse({"error": -1, "message": "internal"}, 500)
        if fault == "hang":
            await asyncio.sleep(3)
            return JSONResponse({"error": -1, "message": "gateway"}, 502)
        if request.headers.get("access_token") not in self.valid_access:
            return JSONResponse({"error": -216, "message": "Access token is invalid"})
        body = await request.json()
        message = body.get("message") or {}
        attachment = (message.get("attachment") or {}).get("payload") or {}
        self.sent.append(
            {
                "user_id": body["recipient"]["user_id"],
                "text": message.get("text", ""),
                "buttons": attachment.get("buttons", []),
            }
        )
        return JSONResponse(
            {"error": 0, "message": "Success", "data": {"message_id": f"m{next(self._n)}"}}
        )

    async def _refresh(self, request: Request) -> JSONResponse:
        form = await request.form()
        token = str(form.get("refresh_token"))
        if request.headers.get("secret_key") != APP_SECRET or form.get("app_id") != APP_ID:
            return JSONResponse({"error": -14002, "error_name": "Invalid app"})
        with self._lock:
            self.refreshes.append(token)
            if token not in self.valid_refresh:
                return JSONResponse({"error": -14014, "error_name": "Invalid refresh token"})
            self.valid_refresh.discard(token)  # single use
            n = next(self._n)
            access, refresh = f"access-{n}", f"refresh-{n}"
            self.valid_access.add(access)
            self.valid_refresh.add(refresh)
        await asyncio.sleep(0.05)  # a real round trip: concurrent refreshes overlap here
        return JSONResponse(
            {"access_token": access, "refresh_token": refresh, "expires_in": "90000"}
        )
