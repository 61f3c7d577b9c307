"""CSRF tokens bound to the session."""

from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request

_KEY = "csrf"


def csrf_token(request: Request) -> str:
    """Return the session's CSRF token, creating it once."""
    token = request.session.get(_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[_KEY] = token
    return str(token)


def check_csrf(request: Request, submitted: str) -> None:
    """Refuse the request unless the submitted token matches the session's."""
    expected = request.session.get(_KEY, "")
    if not expected or not hmac.compare_digest(str(expected), submitted):
        raise HTTPException(status_code=403, detail="CSRF token không hợp lệ")
