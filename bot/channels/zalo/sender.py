"""Replies to Zalo citizens through the v3 ``message/cs`` API, from the outbox."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.orm import Session

from bot.channels.zalo.tokens import ZaloTokens
from bot.chat.identity import Citizen
from bot.outbox import (
    Delivered,
    Job,
    PermanentError,
    RetryLater,
)

__all__ = ["MAX_TEMPLATE_BUTTONS", "TEXT_LIMIT", "TOKEN_EXPIRED", "ZaloSender", "zalo_message"]

TEXT_LIMIT = 2000
MAX_TEMPLATE_BUTTONS = 5
TOKEN_EXPIRED = -216


class ZaloSender:
    """Delivers outbox rows of the ``zalo`` channel through the OA v3 message API."""

    def __init__(self, tokens: ZaloTokens, *, http: httpx.AsyncClient, api_url: str) -> None:
        self._tokens = tokens
        self._http = http
        self._url = f"{api_url}/v3.0/oa/message/cs"

    def prepare(self, session: Session, job: Job) -> Job:
        """Nothing to look up."""
        return job

    async def deliver(self, job: Job) -> Delivered:
        """Send one bubble; on -216 refresh the token and try once more."""
        body = {
            "recipient": {"user_id": Citizen.parse(job.destination).platform_id},
            "message": zalo_message(job.payload.get("text", ""), job.payload.get("buttons") or []),
        }
        token = await self._tokens.access_token()
        data = await self._post(body, token)
        if data.get("error") == TOKEN_EXPIRED:
            token = await self._tokens.refresh(failed=token)
            data = await self._post(body, token)
        error = data.get("error")
        if error == 0:
            return Delivered()
        if error == TOKEN_EXPIRED:
            raise RetryLater("Zalo token still refused after a refresh")
        raise PermanentError(f"Zalo error {error}: {data.get('message')}")

    async def _post(self, body: dict[str, Any], token: str) -> dict[str, Any]:
        response = await self._http.post(self._url, json=body, headers={"access_token": token})
        if response.status_code == 429:
            after = response.headers.get("Retry-After")
            raise RetryLater("429 Too Many Requests", after=float(after) if after else None)
        if response.status_code >= 500:
            raise RetryLater(f"Zalo HTTP {response.status_code}")
        data = response.json()
        return data if isinstance(data, dict) else {}


def zalo_message(text: str, buttons: list[dict[str, Any]]) -> dict[str, Any]:
    """A text, with template buttons (``oa.query.hide``) when there are choices.

    Zalo shows a handful of buttons at most: the rest are listed in the text with their
    number, and typing the number presses them (the gateway understands "6").
    """
    if not buttons:
        return {"text": text[:TEXT_LIMIT]}
    shown, rest = buttons[:MAX_TEMPLATE_BUTTONS], buttons[MAX_TEMPLATE_BUTTONS:]
    if rest:
        lines = [f"{i}. {b['title']}" for i, b in enumerate(rest, start=MAX_TEMPLATE_BUTTONS + 1)]
        text = text + "\n\nHoặc gõ số:\n" + "\n".join(lines)
    return {
        "text": text[:TEXT_LIMIT],
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "button",
                "buttons": [
                    {
                        "title": b["title"][:100],
                        "type": "oa.query.hide",
                        "payload": b["payload"][:1000],
                    }
                    for b in shown
                ],
            },
        },
    }
