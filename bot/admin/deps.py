"""Who is using the console: the logged-in user, typed, and the role each route needs.

Routes ask for the user they need as a parameter (``user: CurrentEditor``); the check runs
before the route's form is read (after the router's CSRF check), so a visitor is sent to
the login and a user without the role gets 403, whatever the request carries.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from bot.accounts import service as accounts_service
from bot.accounts.models import UserAccount
from bot.db import session_scope, utcnow

__all__ = [
    "DESK",
    "EDITORS",
    "OFFICERS",
    "READERS",
    "ConsoleUser",
    "CurrentDeskUser",
    "CurrentEditor",
    "CurrentOfficer",
    "CurrentReader",
    "account_stamp",
    "remember",
    "roles_of",
    "visitor_role",
]

EDITORS = frozenset({"admin"})
READERS = frozenset({"admin", "viewer"})
OFFICERS = frozenset({"officer"})
DESK = frozenset({"admin", "viewer", "officer"})  # the ticket pages
_KEY = "user"


@dataclass(frozen=True)
class ConsoleUser:
    """A logged-in console account, as its session cookie names it."""

    id: int
    name: str
    role: str
    officer_id: int | None
    stamp: str
    sid: str  # the server-side session (bot.accounts.models.ConsoleSession)


def account_stamp(account: UserAccount) -> str:
    """Changes when the password does: a reset ends the account's other sessions."""
    return hashlib.sha256(account.password_hash.encode()).hexdigest()[:16]


def remember(request: Request, account: UserAccount, sid: str) -> ConsoleUser:
    """Put the session ``sid`` of ``account`` (its password checked) in the cookie."""
    user = ConsoleUser(
        id=account.id,
        name=account.username,
        role=account.role,
        officer_id=account.officer_id,
        stamp=account_stamp(account),
        sid=sid,
    )
    request.session.clear()
    request.session[_KEY] = {
        "id": user.id,
        "name": user.name,
        "role": user.role,
        "officer_id": user.officer_id,
        "stamp": user.stamp,
        "sid": user.sid,
    }
    return user


def visitor_role(request: Request) -> str | None:
    """The role the session claims, unchecked (only to choose where to send a visitor)."""
    claimed = request.session.get(_KEY) or {}
    return claimed.get("role") if isinstance(claimed, dict) else None


def _from_session(raw: Any) -> ConsoleUser | None:
    if not isinstance(raw, dict):
        return None
    try:
        return ConsoleUser(
            id=int(raw["id"]),
            name=str(raw["name"]),
            role=str(raw["role"]),
            officer_id=None if raw.get("officer_id") is None else int(raw["officer_id"]),
            stamp=str(raw["stamp"]),
            sid=str(raw["sid"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _logged_in(request: Request) -> ConsoleUser:
    """The session's user while the account exists with that role and password.

    A sync dependency (FastAPI runs it in a worker thread) with its own short unit of work:
    no connection stays checked out while an async route awaits Rasa.
    """
    user = _from_session(request.session.get(_KEY))
    valid = False
    if user is not None:
        settings = request.app.state.settings
        with session_scope(request.app.state.session_factory) as session:
            account = session.get(UserAccount, user.id)
            valid = (
                account is not None
                and account.role == user.role
                and account_stamp(account) == user.stamp
                and accounts_service.session_alive(
                    session,
                    user.sid,
                    user.id,
                    now=utcnow(),
                    lifetime=timedelta(hours=settings.console_session_hours),
                    idle=timedelta(minutes=settings.console_idle_minutes),
                )
            )
    if user is None or not valid:  # logged out, expired, removed, role or password changed
        request.session.clear()
        raise HTTPException(status_code=303, headers={"Location": "/admin/login"})
    return user


def _needs(roles: frozenset[str]) -> Any:
    def check(user: Annotated[ConsoleUser, Depends(_logged_in)]) -> ConsoleUser:
        if user.role not in roles:
            raise HTTPException(
                status_code=403, detail="Tài khoản này không có quyền làm việc này."
            )
        return user

    check.roles = roles  # type: ignore[attr-defined]  # read by roles_of()
    return check


CurrentReader = Annotated[ConsoleUser, Depends(_needs(READERS))]
CurrentEditor = Annotated[ConsoleUser, Depends(_needs(EDITORS))]
CurrentOfficer = Annotated[ConsoleUser, Depends(_needs(OFFICERS))]
CurrentDeskUser = Annotated[ConsoleUser, Depends(_needs(DESK))]


def roles_of(route: Any) -> frozenset[str] | None:
    """The roles a console route lets in (None: it checks no role), from its dependencies."""

    def walk(dependant: Any) -> frozenset[str] | None:
        for sub in dependant.dependencies:
            roles = getattr(sub.call, "roles", None) or walk(sub)
            if roles:
                return frozenset(roles)
        return None

    return walk(route.dependant)
