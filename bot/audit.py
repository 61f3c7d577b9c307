"""The audit log: every console action, model operation and login.

Written by the services that do them, in the same transaction, for accountability and for
throttling logins.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.db import Base, UtcDateTime, utcnow

__all__ = ["AuditEntry", "login_blocked", "recent", "record"]

LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_FAILURES = 5  # for one account from one address
ADDRESS_FAILURES = 20  # from one address, whatever the accounts (spraying)


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

    Counted per account *and* address: someone guessing the admin's password from one
    address does not lock the real admin out of the console from another.
    """
    failures = (
        select(AuditEntry.username)
        .where(
            AuditEntry.action == "login_failed",
            AuditEntry.created_at >= now - LOGIN_WINDOW,
            AuditEntry.ip == ip,
        )
        .subquery()
    )
    mine = func.count().filter(failures.c.username == username)
    row = session.execute(select(mine, func.count()).select_from(failures)).one()
    return row[0] >= LOGIN_FAILURES or row[1] >= ADDRESS_FAILURES
