"""``POST /webhooks/zalo``: the signature check, the replay window, storing the event."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request

if TYPE_CHECKING:  # the bridge imports this module
    from bot.channels.zalo.bridge import ZaloBridge


__all__ = [
    "HANDLED_EVENTS",
    "MEDIA_EVENTS",
    "TEXT_EVENTS",
    "signature",
    "verify_signature",
    "webhook_router",
]

TEXT_EVENTS = {"user_send_text", "anonymous_send_text"}
MEDIA_EVENTS = {
    "user_send_image",
    "user_send_gif",
    "user_send_sticker",
    "user_send_audio",
    "user_send_video",
    "user_send_file",
    "user_send_location",
    "user_send_link",
}
HANDLED_EVENTS = TEXT_EVENTS | MEDIA_EVENTS | {"follow"}


# --- webhook ------------------------------------------------------------------------------
def signature(app_id: str, raw: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The ``X-ZEvent-Signature`` Zalo sends: plain SHA-256 of the concatenation, not HMAC."""
    digest = hashlib.sha256(app_id.encode() + raw + timestamp.encode() + oa_secret_key.encode())
    return "mac=" + digest.hexdigest()


def verify_signature(
    raw: bytes, header: str, *, app_id: str, oa_secret_key: str, now_ms: int, window_s: float
) -> bool:
    """Constant-time check of the signature, the app id and the timestamp's freshness."""
    try:
        data = json.loads(raw)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    timestamp = str(data.get("timestamp", ""))
    if str(data.get("app_id", "")) != app_id or not timestamp.isdigit():
        return False
    if abs(now_ms - int(timestamp)) > window_s * 1000:
        return False  # too old (a replay) or from the future
    given = header.strip().lower()
    given = given if given.startswith("mac=") else "mac=" + given
    expected = signature(app_id, raw, timestamp, oa_secret_key)
    return hmac.compare_digest(given.encode(), expected.encode())


def _event_key(data: dict[str, Any]) -> str | None:
    name = data.get("event_name")
    message = data.get("message") or {}
    if name in TEXT_EVENTS | MEDIA_EVENTS:
        return str(message.get("msg_id") or "") or None
    if name == "follow":
        follower = (data.get("follower") or data.get("sender") or {}).get("id")
        return f"follow:{follower}:{data.get('timestamp')}" if follower else None
    return None


def webhook_router() -> APIRouter:
    """``POST /webhooks/zalo``."""
    router = APIRouter()

    @router.post("/webhooks/zalo", include_in_schema=False)
    async def zalo_webhook(request: Request) -> dict[str, bool]:
        bridge: ZaloBridge | None = getattr(request.app.state, "zalo", None)
        if bridge is None:
            raise HTTPException(status_code=404)
        raw = await request.body()
        if not bridge.verify(raw, request.headers.get("X-ZEvent-Signature", "")):
            raise HTTPException(status_code=403)
        data = json.loads(raw)
        key = _event_key(data)
        if data.get("event_name") in HANDLED_EVENTS and key:
            await bridge.store(key, data)
        return {"ok": True}  # delivery/seen receipts and unknown events: acknowledged, ignored

    return router
