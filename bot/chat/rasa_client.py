"""HTTP client of the Rasa servers (REST channel).

With several Rasa replicas (``RASA_URL`` lists them, comma-separated), a conversation goes
to the same replica each time (a stable hash of the sender), which keeps its turns in
order and its tracker warm; when that replica refuses connections (it died or restarts),
the next one takes the message. A replica that accepted the message and then failed is
not retried: the message may have been handled.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from typing import Any

import httpx

from bot.chat.exceptions import RasaUnavailableError
from bot.config import INTERNAL_HEADER

logger = logging.getLogger(__name__)

__all__ = ["RasaClient"]


class RasaClient:
    """Send a user message to Rasa's REST channel and return its replies."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str | Sequence[str],
        *,
        token: str = "",
        slow_timeout_s: float = 120.0,
    ) -> None:
        """Wrap a shared HTTP client pointed at one Rasa server, or several replicas.

        ``token``: Rasa's channel (nlu/channel.py) answers only callers that send it.
        """
        self._http = http
        self._headers = {INTERNAL_HEADER: token}
        self._slow = httpx.Timeout(slow_timeout_s, connect=2.0)
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        self._urls = [u.rstrip("/") + "/webhooks/app/webhook" for u in urls]

    def _replicas(self, sender: str) -> list[str]:
        first = zlib.crc32(sender.encode()) % len(self._urls)
        return self._urls[first:] + self._urls[:first]

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
            response = await self._post(sender, body, slow=slow)
            response.raise_for_status()
            replies = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("Rasa unavailable for %s: %s", sender, type(exc).__name__)
            raise RasaUnavailableError(str(exc)) from exc
        if not isinstance(replies, list):
            raise RasaUnavailableError(f"unexpected reply shape: {type(replies).__name__}")
        return replies

    async def _post(self, sender: str, body: dict[str, Any], *, slow: bool) -> httpx.Response:
        timeout = self._slow if slow else httpx.USE_CLIENT_DEFAULT
        replicas = self._replicas(sender)
        for url in replicas[:-1]:
            try:
                return await self._http.post(url, json=body, timeout=timeout, headers=self._headers)
            except httpx.ConnectError:  # refused: this replica never saw the message
                logger.warning("Rasa replica %s refused; trying the next one", url)
        return await self._http.post(
            replicas[-1], json=body, timeout=timeout, headers=self._headers
        )
