"""The audit log: every console action, model operation and login.

Written by the services that do them, in the same transaction, for accountability and for
throttling logins.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, String, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.db import Base, UtcDateTime, utcnow

__all__ = ["AuditEntry", "login_blocked", "recent", "record"]

LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_FAILURES = 5


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
    """Too many failed logins for this account or from this address lately."""
    failures = session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == "login_failed",
            AuditEntry.created_at >= now - LOGIN_WINDOW,
            or_(AuditEntry.username == username, AuditEntry.ip == ip),
        )
    )
    return (failures or 0) >= LOGIN_FAILURES
