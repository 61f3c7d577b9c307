"""HTTP client of the Rasa server (REST channel)."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from bot.chat.exceptions import RasaUnavailableError

logger = logging.getLogger(__name__)

__all__ = ["RasaClient"]


class RasaClient:
    """Send a user message to Rasa's REST channel and return its replies."""

    def __init__(
        self, http: httpx.AsyncClient, base_url: str, *, slow_timeout_s: float = 120.0
    ) -> None:
        """Wrap a shared HTTP client pointed at one Rasa server."""
        self._http = http
        self._slow = httpx.Timeout(slow_timeout_s, connect=2.0)
        self._url = base_url.rstrip("/") + "/webhooks/rest/webhook"

    async def send(
        self,
        *,
        sender: str,
        text: str,
        channel: str,
        metadata: dict[str, Any] | None = None,
        slow: bool = False,
    ) -> list[dict[str, Any]]:
        """Post one message; translate every transport failure to RasaUnavailableError.

        ``slow``: a model is being loaded (Rasa answers nothing meanwhile): wait longer.
        """
        body = {
            "sender": sender,
            "message": text,
            "input_channel": channel,
            "metadata": metadata or {},
        }
        try:
            response = await self._http.post(
                self._url,
                json=body,
                timeout=self._slow if slow else httpx.USE_CLIENT_DEFAULT,
            )
            response.raise_for_status()
            replies = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("Rasa unavailable for %s: %s", sender, type(exc).__name__)
            raise RasaUnavailableError(str(exc)) from exc
        if not isinstance(replies, list):
            raise RasaUnavailableError(f"unexpected reply shape: {type(replies).__name__}")
        return replies
