"""A local fake of the Telegram Bot API, so python-telegram-bot runs unchanged against it.

It answers ``/bot<token>/<method>`` like Telegram does (``{"ok": true, "result": …}``),
records every message the bot sends or edits (with the token it came with: give each
process its own token to tell which one sent what), and can misbehave on purpose for a
number of calls: HTTP 500, 429 with ``retry_after``, or a hang (the request is never
processed: it answers 502 once released, as a proxy would).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.auxil.loopback import LoopbackServer, wait_until
from tests.auxil.net import free_port

SENDING = {"sendMessage", "editMessageText", "editMessageReplyMarkup"}
BOT_ID = 999_000


@dataclass
class Fault:
    """Misbehave on the next ``count`` sending calls."""

    kind: str  # "500" | "429" | "hang"
    count: int
    retry_after: int = 1
    hang_s: float = 3.0


@dataclass
class FakeTelegram:
    """The fake server; start() runs it on a loopback port in a thread."""

    token: str = "123456:TEST-token"
    also_tokens: tuple[str, ...] = ()  # accepted too, for one bot token per process
    port: int = field(default_factory=free_port)
    sent: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    unknown_chats: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None

    @property
    def base_url(self) -> str:
        """What PTB's ``base_url`` should be."""
        return f"http://127.0.0.1:{self.port}/bot"

    # --- control -------------------------------------------------------------
    def fail(self, kind: str, count: int, **kwargs: Any) -> None:
        """Queue a fault for the next ``count`` sending calls."""
        self.faults.append(Fault(kind, count, **kwargs))

    def to(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages sent to one chat."""
        return [m for m in self.sent if m["chat_id"] == chat_id]

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        """Block until ``predicate()`` holds (the app delivers in the background)."""
        wait_until(predicate, timeout, lambda: f"sent={self.sent} edits={self.edits}")

    # --- server ------------------------------------------------------------------
    def start(self) -> FakeTelegram:
        """Run on a free loopback port until stop()."""
        app = Starlette(
            routes=[Route("/bot{token}/{method}", self._handle, methods=["GET", "POST"])]
        )
        self._server = LoopbackServer(app, self.port)
        self._server.start()
        return self

    def stop(self) -> None:
        """Shut the server down."""
        if self._server is not None:
            self._server.stop()

    async def _handle(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        token = request.path_params["token"]
        if token != self.token and token not in self.also_tokens:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
            )
        params = await _params(request)
        self.calls.append(method)
        if method in SENDING:
            fault = self._take_fault()
            if fault is not None:
                return await _misbehave(fault)
        if method == "sendMessage" and int(params.get("chat_id", 0)) in self.unknown_chats:
            return JSONResponse(
                {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}, 400
            )
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return JSONResponse({"ok": True, "result": True})
        if method in SENDING:  # recorded with what it sent
            params["_token"] = token
        result = handler(params)
        if asyncio.iscoroutine(result):
            result = await result
        return JSONResponse({"ok": True, "result": result})

    def _take_fault(self) -> Fault | None:
        with self._lock:
            while self.faults and self.faults[0].count <= 0:
                self.faults.pop(0)
            if not self.faults:
                return None
            self.faults[0].count -= 1
            return self.faults[0]

    # --- methods ---------------------------------------------------------------------
    def _m_getMe(self, _p: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Trợ lý VNeID",
            "username": "vneid_test_bot",
        }

    def _m_sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        chat_id = int(p["chat_id"])
        with self._lock:
            message_id = next(self._ids[chat_id])
        reply = p.get("reply_parameters") or {}
        record = {
            "chat_id": chat_id,
            "message_id": message_id,
            "text": p.get("text", ""),
            "parse_mode": p.get("parse_mode"),
            "reply_markup": p.get("reply_markup"),
            "reply_to": reply.get("message_id"),
            "token": p.get("_token", self.token),
        }
        self.sent.append(record)
        return _message(chat_id, message_id, record["text"], p.get("reply_markup"))

    def _m_editMessageText(self, p: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        record = {
            "chat_id": int(p["chat_id"]),
            "message_id": int(p["message_id"]),
            "text": p.get("text", ""),
            "reply_markup": p.get("reply_markup"),
            "token": p.get("_token", self.token),
        }
        self.edits.append(record)
        return _message(
            record["chat_id"], record["message_id"], record["text"], p.get("reply_markup")
        )

    def _m_answerCallbackQuery(self, p: dict[str, Any]) -> bool:  # noqa: N802
        self.answers.append(p)
        return True

    def _m_setWebhook(self, p: dict[str, Any]) -> bool:  # noqa: N802
        self.webhook = p
        return True

    def _m_deleteWebhook(self, _p: dict[str, Any]) -> bool:  # noqa: N802
        self.webhook = {}
        return True

    async def _m_getUpdates(self, p: dict[str, Any]) -> list[dict[str, Any]]:  # noqa: N802
        offset = int(p.get("offset") or 0)
        deadline = time.monotonic() + min(float(p.get("timeout") or 0), 2.0)
        while True:
            with self._lock:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                ready = list(self.updates)
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.05)


async def _params(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.body()
        return dict(json.loads(body or b"{}"))
    form = await request.form()
    out: dict[str, Any] = {}
    for key, value in form.items():
        try:
            out[key] = json.loads(str(value))
        except ValueError:
            out[key] = value
    return out


async def _misbehave(fault: Fault) -> JSONResponse:
    if fault.kind == "500":
        return JSONResponse(
            {"ok": False, "error_code": 500, "description": "Internal Server Error"}, 500
        )
    if fault.kind == "429":
        return JSONResponse(
            {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {fault.retry_after}",
                "parameters": {"retry_after": fault.retry_after},
            },
            429,
        )
    await asyncio.sleep(fault.hang_s)  # "hang": the client times out first
    return JSONResponse({"ok": False, "error_code": 502, "description": "Bad Gateway"}, 502)


def _message(chat_id: int, message_id: int, text: str, markup: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group", "title": "g"},
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Trợ lý VNeID"},
        "text": text,
    }
    if markup:
        message["reply_markup"] = markup
    return message


# --- updates as Telegram sends them ---------------------------------------------------------
_update_ids = itertools.count(1000)


def user(user_id: int, name: str) -> dict[str, Any]:
    """A Telegram user object."""
    return {"id": user_id, "is_bot": False, "first_name": name}


def callback_update(
    *, who: dict[str, Any], chat_id: int, message_id: int, data: str, update_id: int | None = None
) -> dict[str, Any]:
    """A button press on a message the bot sent."""
    uid = update_id or next(_update_ids)
    return {
        "update_id": uid,
        "callback_query": {
            "id": f"cq{uid}",
            "from": who,
            "chat_instance": "ci",
            "data": data,
            "message": _message(chat_id, message_id, "alert", None),
        },
    }


def message_update(
    *,
    who: dict[str, Any],
    chat_id: int,
    text: str,
    reply_to: int | None = None,
    update_id: int | None = None,
) -> dict[str, Any]:
    """A text message, optionally a reply to one of the bot's messages."""
    uid = update_id or next(_update_ids)
    message: dict[str, Any] = {
        "message_id": uid,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group", "title": "g"},
        "from": who,
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    if reply_to is not None:
        message["reply_to_message"] = _message(chat_id, reply_to, "alert", None)
    return {"update_id": uid, "message": message}
