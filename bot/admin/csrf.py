"""CSRF tokens bound to the session, checked on every state-changing console request."""

from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Depends, HTTPException, Request

__all__ = ["check_csrf", "console_router", "csrf_token", "require_csrf"]

_KEY = "csrf"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


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


async def require_csrf(request: Request) -> None:
    """Refuse a state-changing console request without the session's token.

    A dependency of every console route: anything but GET/HEAD/OPTIONS carries the token
    in its ``csrf`` form field. It runs before the route's own form is validated, so a
    forged request is refused with 403 whatever fields it has.
    """
    if request.method in _SAFE:
        return
    try:
        form = await request.form()  # parsed once: the route reads the same form
    except Exception as exc:  # not a form at all
        raise HTTPException(status_code=403, detail="CSRF token không hợp lệ") from exc
    check_csrf(request, str(form.get("csrf", "")))


def console_router() -> APIRouter:
    """A router for console pages under /admin, with the CSRF check on every route."""
    return APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(require_csrf)])
