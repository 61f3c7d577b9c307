"""The audit log: every console action, model operation and login.

Written by the services that do them, in the same transaction, for accountability and for
throttling logins.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.db import Base, UtcDateTime, as_utc, utcnow

__all__ = ["AuditEntry", "backoff", "login_blocked", "recent", "record"]

LOGIN_FAILURES = 5  # in a row for one account from one address: then the back-off starts
BACKOFF_FIRST = timedelta(minutes=1)  # after the 5th failure; doubled at each one after
BACKOFF_MAX = timedelta(hours=24)
LOGIN_MEMORY = timedelta(hours=24)  # failures older than this are forgotten
LOGIN_WINDOW = timedelta(minutes=15)
ADDRESS_FAILURES = 20  # in LOGIN_WINDOW from one address, whatever the accounts (spraying)


class AuditEntry(Base):
    """Every console action (and every failed login), for accountability and throttling."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(160), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(64), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


def record(
    session: Session,
    *,
    username: str | None,
    action: str,
    target: str = "",
    ip: str = "",
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Record an action in the caller's transaction (``at``: when, if not now)."""
    session.add(
        AuditEntry(
            username=username,
            action=action,
            target=target,
            ip=ip,
            detail=detail or {},
            created_at=at or utcnow(),
        )
    )


def recent(session: Session, *, limit: int = 200) -> list[AuditEntry]:
    """The latest entries, newest first."""
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))


def login_blocked(session: Session, *, username: str, ip: str, now: datetime) -> bool:
    """Too many failed logins lately for this account from this address, or from it at all.

    Per account *and* address, with exponential back-off: after the 5th failure in a row
    (since the last success, within a day) the next try waits a minute, after the 6th two,
    then four, ... up to a day. Someone guessing the admin's password from one address does
    not lock the real admin out of the console from another. Per address, whatever the
    accounts: 20 failures in 15 minutes block it for the rest of those 15 minutes.
    """
    last_ok = session.scalar(
        select(func.max(AuditEntry.created_at)).where(
            AuditEntry.action == "login", AuditEntry.username == username, AuditEntry.ip == ip
        )
    )
    since = now - LOGIN_MEMORY if last_ok is None else max(as_utc(last_ok), now - LOGIN_MEMORY)
    count, last = session.execute(
        select(func.count(), func.max(AuditEntry.created_at)).where(
            AuditEntry.action == "login_failed",
            AuditEntry.username == username,
            AuditEntry.ip == ip,
            AuditEntry.created_at > since,
        )
    ).one()
    if count >= LOGIN_FAILURES and now < as_utc(last) + backoff(count):
        return True
    from_address = session.scalar(
        select(func.count()).where(
            AuditEntry.action == "login_failed",
            AuditEntry.ip == ip,
            AuditEntry.created_at >= now - LOGIN_WINDOW,
        )
    )
    return (from_address or 0) >= ADDRESS_FAILURES


def backoff(failures: int) -> timedelta:
    """How long to wait after ``failures`` failures in a row (none below LOGIN_FAILURES)."""
    if failures < LOGIN_FAILURES:
        return timedelta(0)
    return min(BACKOFF_FIRST * 2 ** min(failures - LOGIN_FAILURES, 20), BACKOFF_MAX)
