"""Account logic: password hashing, first admin, login check."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.accounts.models import UserAccount

__all__ = ["ROLES", "authenticate", "create_account", "create_first_admin", "set_password"]

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
