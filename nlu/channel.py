"""Rasa's REST channel, answering only the app.

Configured in ``credentials.yml`` as ``nlu.channel.AppInput`` with ``token: ${RASA_TOKEN}``.
Every citizen message reaches Rasa through the app, which masks it first; Rasa's own REST
channel would take a message from any process that can reach its port, as any citizen of any
channel (and unmasked). This one refuses a message without the shared token in
``X-Internal-Token`` (403, before the body is read); its health check stays open.

Before a message, the heap is settled once per loaded model (nlu/heap.py).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from nlu.heap import Settler

__all__ = ["HEADER", "AppInput"]

HEADER = "X-Internal-Token"


class AppInput(RestInput):
    """``POST /webhooks/app/webhook``: Rasa's REST webhook behind a shared token."""

    def __init__(self, token: str) -> None:
        """Take messages only from callers that send ``token``."""
        if not token:
            raise ValueError("nlu.channel.AppInput needs a token (credentials.yml)")
        self._token = token.encode()
        self._settle = Settler()

    @classmethod
    def name(cls) -> str:
        """The URL prefix: /webhooks/app/."""
        return "app"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> AppInput:
        """Read the token from credentials.yml."""
        return cls(str((credentials or {}).get("token") or ""))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Rasa's REST routes, the webhook guarded by the token."""
        routes = super().blueprint(on_new_message)

        @routes.on_request
        async def only_the_app(request: Request) -> HTTPResponse | None:
            if request.method == "GET":  # the health check
                return None
            sent = (request.headers.get(HEADER) or "").encode()
            if hmac.compare_digest(sent, self._token):
                self._settle(getattr(request.app.ctx, "agent", None))
                return None
            return response.json({"error": "forbidden"}, status=403)

        return routes
