"""Which browser a web-chat conversation belongs to.

The page gets its conversation id from the server (``POST /api/chat/session``) with an
HTTP-only cookie that proves it: an HMAC of the id under the app's SECRET_KEY. What officers
send a web citizen waits in the inbox until the page that owns the conversation fetches and
acknowledges it (``GET /api/chat/updates``); knowing (or guessing) an id is not enough to
read it, and a read deletes nothing that was not acknowledged. Nothing is stored: the cookie
carries the proof.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["COOKIE", "new_sender_id", "owns", "proof"]

COOKIE = "vneid_chat"
_PURPOSE = b"web-chat-owner:"  # this key signs nothing else


def new_sender_id() -> str:
    """A fresh conversation id (96 random bits, as the page used to make itself)."""
    return secrets.token_hex(12)


def proof(secret: str, sender_id: str) -> str:
    """The cookie value that proves ownership of ``sender_id``."""
    return hmac.new(secret.encode(), _PURPOSE + sender_id.encode(), hashlib.sha256).hexdigest()


def owns(secret: str, sender_id: str, cookie: str | None) -> bool:
    """Whether ``cookie`` proves ownership of ``sender_id``."""
    return bool(cookie) and hmac.compare_digest(proof(secret, sender_id), str(cookie))
