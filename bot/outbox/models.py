"""The outbox table: one row per message to deliver, on any channel."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UtcDateTime, utcnow

__all__ = ["OutboxMessage", "OutboxStatus"]


class OutboxStatus(StrEnum):
    """Delivery state of an outbox row."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class OutboxMessage(Base):
    """One message to deliver (alert, relay, notice, reply), retried until sent or dead."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # the claim's "no earlier pending row in this chat" check (bot/outbox/worker.py)
        Index(
            "ix_outbox_pending_chat",
            "channel",
            "destination",
            "id",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # telegram | web | zalo
    destination: Mapped[str] = mapped_column(String(128))  # chat id or sender
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # the record the message is about (a handoff ticket), for the producer's hooks
    subject_id: Mapped[int | None] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
