"""Rasa's REST webhook faked at its HTTP API (httpx's mock transport), for gateway tests."""

from __future__ import annotations

import httpx
import pytest

from bot.chat.rasa_client import RasaClient


def fake_rasa(handler) -> RasaClient:
    """A Rasa client whose every request is answered by ``handler(request)``."""
    return RasaClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), "http://rasa")


def never_called(request: httpx.Request) -> httpx.Response:
    """A handler for inputs that must never reach Rasa."""
    pytest.fail(f"Rasa must not be called for this input: {request.content!r}")
