"""Account logic: password hashing, first admin, logging in and out (throttled, audited)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot import audit
from bot.accounts.models import ConsoleSession, UserAccount
from bot.db import as_utc
from bot.handoff.models import Officer

__all__ = [
    "ROLES",
    "AccountError",
    "Refused",
    "add_account",
    "listing",
    "remove_account",
    "reset_account",
    "authenticate",
    "create_account",
    "create_first_admin",
    "log_in",
    "log_out",
    "open_session",
    "session_alive",
    "set_password",
]

ROLES = ("admin", "officer", "viewer")
MIN_PASSWORD = 12

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def create_first_admin(*, session: Session, username: str = "admin") -> str | None:
    """Create an admin with a random password if there is no admin; return the password."""
    exists = session.scalar(select(UserAccount.id).where(UserAccount.role == "admin"))
    if exists is not None:
        return None
    password = secrets.token_urlsafe(12)
    session.add(UserAccount(username=username, password_hash=_hasher.hash(password), role="admin"))
    return password


def authenticate(*, session: Session, username: str, password: str) -> UserAccount | None:
    """Return the account when the password matches, else None."""
    account = session.scalar(select(UserAccount).where(UserAccount.username == username))
    try:
        _hasher.verify(account.password_hash if account else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return account


def create_account(
    *, session: Session, username: str, password: str, role: str, officer_id: int | None = None
) -> UserAccount:
    """Add a console account (admin, officer or viewer) with a hashed password."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    if (role == "officer") != (officer_id is not None):
        raise ValueError("an officer account is linked to exactly one officer")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password needs {MIN_PASSWORD}+ characters")
    account = UserAccount(
        username=username, password_hash=_hasher.hash(password), role=role, officer_id=officer_id
    )
    session.add(account)
    session.flush()
    return account


def set_password(account: UserAccount, password: str) -> None:
    """Replace an account's password (hashed)."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password needs {MIN_PASSWORD}+ characters")
    account.password_hash = _hasher.hash(password)


class Refused(StrEnum):
    """Why a login did not open a session."""

    THROTTLED = "login_throttled"  # too many failures for the account or the address
    WRONG = "login_failed"  # unknown user or wrong password


def log_in(
    session: Session, *, username: str, password: str, ip: str, now: datetime
) -> UserAccount | Refused:
    """The account, or why not; every attempt is in the audit log (which throttles)."""
    if audit.login_blocked(session, username=username, ip=ip, now=now):
        audit.record(session, username=username, action=Refused.THROTTLED, ip=ip, at=now)
        return Refused.THROTTLED
    account = authenticate(session=session, username=username, password=password)
    if account is None:
        audit.record(session, username=username, action=Refused.WRONG, ip=ip, at=now)
        return Refused.WRONG
    audit.record(session, username=account.username, action="login", ip=ip, at=now)
    return account


def log_out(session: Session, *, sid: str | None, username: str | None, ip: str) -> None:
    """End a console session for good (its cookie is worthless after) and record it."""
    if sid:
        session.execute(delete(ConsoleSession).where(ConsoleSession.id == sid))
    audit.record(session, username=username, action="logout", ip=ip)


def open_session(session: Session, account: UserAccount, *, now: datetime) -> str:
    """A new server-side session for ``account``; its id goes in the cookie."""
    sid = secrets.token_urlsafe(32)
    session.add(ConsoleSession(id=sid, account_id=account.id, created_at=now, seen_at=now))
    return sid


def session_alive(
    session: Session,
    sid: str,
    account_id: int,
    *,
    now: datetime,
    lifetime: timedelta,
    idle: timedelta,
) -> bool:
    """Whether the session is open, the account's, not too old nor idle too long."""
    row = session.get(ConsoleSession, sid)
    if row is None or row.account_id != account_id:
        return False
    created, seen = as_utc(row.created_at), as_utc(row.seen_at)
    if now - created > lifetime or now - seen > idle:
        session.delete(row)
        return False
    if now - seen > timedelta(minutes=1):  # one write a minute at most per session
        row.seen_at = now
    return True


def _end_sessions(session: Session, account_id: int) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.account_id == account_id))


# --- the console's account pages (each change audited under the admin who made it) ----------
class AccountError(ValueError):
    """A change of accounts that cannot be made, with a message for the admin (Vietnamese)."""


def listing(session: Session) -> tuple[list[UserAccount], list[Officer]]:
    """Every console account, and the active officers an officer account can be linked to."""
    accounts = session.scalars(select(UserAccount).order_by(UserAccount.username))
    officers = session.scalars(
        select(Officer).where(Officer.active.is_(True)).order_by(Officer.name)
    )
    return list(accounts), list(officers)


def _one_time_password() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, shown once


def add_account(
    session: Session, *, username: str, role: str, officer_id: str, by: str
) -> tuple[UserAccount, str]:
    """A new account and its one-time password (AccountError)."""
    username = username.strip().lower()
    if not username.replace("_", "").replace(".", "").isalnum() or len(username) < 3:
        raise AccountError("Tên đăng nhập: 3–64 chữ, số, dấu chấm hoặc _.")
    if session.scalar(select(UserAccount.id).where(UserAccount.username == username)):
        raise AccountError(f"Đã có tài khoản {username}.")
    linked = int(officer_id) if role == "officer" and officer_id.isdigit() else None
    if role == "officer" and (linked is None or session.get(Officer, linked) is None):
        raise AccountError("Tài khoản cán bộ phải gắn với một cán bộ xã.")
    password = _one_time_password()
    try:
        account = create_account(
            session=session, username=username, password=password, role=role, officer_id=linked
        )
    except ValueError as exc:
        raise AccountError(str(exc)) from exc
    audit.record(
        session,
        username=by,
        action="account_create",
        target=username,
        detail={"role": role, "officer_id": linked},
    )
    return account, password


def reset_account(session: Session, account_id: int, *, by: str) -> tuple[UserAccount, str]:
    """A new one-time password for an account (the old one stops working)."""
    account = _existing(session, account_id)
    password = _one_time_password()
    set_password(account, password)
    _end_sessions(session, account.id)
    audit.record(session, username=by, action="account_reset", target=account.username)
    return account, password


def remove_account(session: Session, account_id: int, *, by_id: int, by: str) -> None:
    """Remove an account, never one's own (an admin always remains)."""
    account = _existing(session, account_id)
    if account.id == by_id:
        raise AccountError("Không tự xoá tài khoản đang dùng.")
    audit.record(session, username=by, action="account_remove", target=account.username)
    _end_sessions(session, account.id)
    session.delete(account)


def _existing(session: Session, account_id: int) -> UserAccount:
    account = session.get(UserAccount, account_id)
    if account is None:
        raise LookupError(account_id)
    return account
