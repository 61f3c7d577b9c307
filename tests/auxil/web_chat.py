"""The web page's side of the inbox: officers' replies, fetched and acknowledged once."""

from __future__ import annotations

from typing import Any

__all__ = ["WebInboxReader"]


class WebInboxReader:
    """Reads ``/api/chat/updates`` as the page does: each poll acknowledges what the last
    one returned."""

    def __init__(self, client: Any, cookie: str | None = None) -> None:
        """``client``: an HTTP client (httpx or TestClient) holding the page's cookie, or
        ``cookie``: that cookie (``name=value``), sent with each read."""
        self.client = client
        self.headers = {"Cookie": cookie} if cookie else {}
        self.shown: dict[str, list[int]] = {}

    def read(self, sender_id: str) -> list[dict[str, Any]]:
        """The messages that arrived for ``sender_id`` since the last read."""
        ack = ",".join(map(str, self.shown.get(sender_id, [])))
        response = self.client.get(
            "/api/chat/updates",
            params={"sender_id": sender_id, "ack": ack},
            headers=self.headers,
        )
        assert response.status_code == 200, response.text
        messages = response.json()["messages"]
        self.shown[sender_id] = [m["id"] for m in messages]
        return messages
