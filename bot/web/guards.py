"""What every HTTP response and request goes through: security headers and a body limit.

Pure ASGI middleware (no buffering of responses, nothing on the event loop but header
work). Headers: a Content-Security-Policy without inline scripts and with
``frame-ancestors 'none'``, ``nosniff``, no referrer, and ``no-store`` on console pages
(they show phone numbers and one-time passwords). Bodies: a request announcing or sending
more than its path's limit gets 413 with a Vietnamese message before any route reads it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["BodyLimit", "SecurityHeaders", "TOO_LARGE"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # style attributes only; no script runs from them
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
_NO_STORE = [(b"cache-control", b"no-store")]
TOO_LARGE = "Nội dung gửi lên quá lớn. Bạn gửi ngắn hơn nhé."


class SecurityHeaders:
    """Adds the security headers to every HTTP response (keeps a route's own Cache-Control)."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to its response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        console = str(scope.get("path", "")).startswith("/admin")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = _HEADERS + (_NO_STORE if console else [])
                headers += [(k, v) for k, v in extra if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimit:
    """Refuses request bodies over ``limit_for(path)`` bytes with 413."""

    def __init__(self, app: App, *, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse at once what announces too much; stop reading what sends too much."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(str(scope.get("path", "")))
        announced = dict(scope.get("headers") or []).get(b"content-length")
        if announced is not None and announced.isdigit() and int(announced) > limit:
            await _refuse(send)
            return
        seen = 0
        started = refused = False

        async def counted() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # a chunked body that turned out too large
                    refused = True
                    if not started:
                        await _refuse(send)
                    return {"type": "http.disconnect"}  # the route stops reading
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if refused:  # answered already: what the route says after is dropped
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted, watched)


async def _refuse(send: Send) -> None:
    body = json.dumps({"detail": TOO_LARGE}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
