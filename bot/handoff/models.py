"""Tables of the officer handoff: officers, tickets, their messages, the alerts sent."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.communes.models import Commune
from bot.db import Base, UtcDateTime, utcnow

__all__ = [
    "AlertMessage",
    "Direction",
    "HandoffTicket",
    "Officer",
    "TicketMessage",
    "TicketStatus",
]


class TicketStatus(StrEnum):
    """Life of a ticket: open → claimed → resolved, or cancelled by the citizen."""

    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = (TicketStatus.OPEN, TicketStatus.CLAIMED)


class Direction(StrEnum):
    """Who wrote a ticket message."""

    CITIZEN = "citizen"
    OFFICER = "officer"


class Officer(Base):
    """A commune police officer (or a province supervisor) known by their Telegram account."""

    __tablename__ = "officer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("commune.id"), index=True)
    is_supervisor: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    commune: Mapped[Commune | None] = relationship()


class HandoffTicket(Base):
    """A citizen's request for an officer. Committed before the citizen sees its code."""

    __tablename__ = "handoff_ticket"
    __table_args__ = (Index("ix_handoff_ticket_sender_status", "sender", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(128))
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("commune.id"), index=True)
    commune_label: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    step: Mapped[str | None] = mapped_column(String(64))
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.OPEN, index=True)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    alert_level: Mapped[int] = mapped_column(Integer, default=0)  # 0 alert, 1 re-alert, 2 escalated
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_alert_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    commune: Mapped[Commune | None] = relationship()
    claimed_by: Mapped[Officer | None] = relationship()

    @property
    def code(self) -> str:
        """The code the citizen and the officers see, e.g. HT-000123."""
        return f"HT-{self.id:06d}"


class TicketMessage(Base):
    """A message of the conversation between a citizen and an officer, kept for the record."""

    __tablename__ = "ticket_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("handoff_ticket.id"), index=True)
    direction: Mapped[str] = mapped_column(String(16))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officer.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AlertMessage(Base):
    """A Telegram message that shows a ticket, so replies to it reach the right citizen."""

    __tablename__ = "alert_message"
    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("handoff_ticket.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    has_buttons: Mapped[bool] = mapped_column(Boolean, default=True)
