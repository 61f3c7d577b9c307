"""What every console page shares: the templates, the logged-in user and their role."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from bot.accounts.models import UserAccount
from bot.admin.csrf import csrf_token
from bot.db import local_time, session_scope

__all__ = ["EDITORS", "READERS", "account_stamp", "client_ip", "page", "require_user", "templates"]

templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "web" / "templates")
# Times in the console are Vietnam's (stored in UTC): {{ r.created_at | local }}
templates.env.filters["local"] = lambda value, fmt="%d/%m/%Y %H:%M": (
    local_time(value).strftime(fmt) if value else ""
)

EDITORS = {"admin"}
READERS = {"admin", "viewer"}


def account_stamp(account: UserAccount) -> str:
    """Changes when the password does: a reset ends the account's other sessions."""
    return hashlib.sha256(account.password_hash.encode()).hexdigest()[:16]


def _still_valid(request: Request, user: dict[str, Any]) -> bool:
    """The account still exists, with this role and password (the request's own session)."""
    session = getattr(request.state, "db", None)
    if session is None:  # a route without a database session
        with session_scope(request.app.state.session_factory) as own:
            return _matches(own.get(UserAccount, user.get("id")), user)
    return _matches(session.get(UserAccount, user.get("id")), user)


def _matches(account: UserAccount | None, user: dict[str, Any]) -> bool:
    return (
        account is not None
        and account.role == user.get("role")
        and account_stamp(account) == user.get("stamp")
    )


def require_user(request: Request, roles: set[str]) -> dict[str, Any]:
    """The logged-in user (303 to the login without one; 403 without one of ``roles``)."""
    user = request.session.get("user")
    if not user or not _still_valid(request, user):  # removed, role or password changed
        request.session.clear()
        raise HTTPException(status_code=303, headers={"Location": "/admin/login"})
    if user.get("role") not in roles:
        raise HTTPException(status_code=403, detail="Tài khoản này không có quyền làm việc này.")
    return dict(user)


def client_ip(request: Request) -> str:
    """The address the request came from (for throttling and the audit log)."""
    return request.client.host if request.client else ""


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """Render a console template with the CSRF token and the user."""
    context = {"csrf": csrf_token(request), "user": request.session.get("user"), **context}
    return templates.TemplateResponse(request, name, context, status_code=status_code)
