"""Tables of the campaign: sessions, reminders, targets, daily figures, officers' drafts."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.communes.models import Commune
from bot.db import Base, UtcDateTime, utcnow

__all__ = [
    "CommuneQuestion",
    "CommuneTarget",
    "DailyFigure",
    "OfficerDraft",
    "RegistrationSession",
    "Reminder",
    "ReminderKind",
    "ReminderStatus",
]


class RegistrationSession(Base):
    """A registration session the commune police hold (village hall, door to door)."""

    __tablename__ = "registration_session"
    __table_args__ = (Index("ix_registration_session_commune_start", "commune_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    place: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    commune: Mapped[Commune] = relationship()


class ReminderKind(StrEnum):
    """What a reminder is about."""

    SESSION = "session"  # the day before a registration session
    ACTIVATION = "activation"  # "remind me in 3 days": finish the activation


class ReminderStatus(StrEnum):
    """Life of a reminder: pending → sent, or cancelled / expired / skipped."""

    PENDING = "pending"
    SENT = "sent"
    CANCELLED = "cancelled"  # "dừng nhắc", or the session was cancelled
    EXPIRED = "expired"  # the session passed, or 30 days, before it could be sent
    SKIPPED = "skipped"  # the platform does not allow it (Zalo's window, a blocked bot)


class Reminder(Base):
    """A citizen's subscription to one reminder.

    It holds the channel identity and the commune, nothing else about the person; once it
    is over (sent, stopped, expired) the identity is cleared and only the counts remain.
    """

    __tablename__ = "reminder"
    __table_args__ = (
        Index("ix_reminder_due", "status", "due_at"),
        Index("ix_reminder_sender_status", "sender", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    sender: Mapped[str] = mapped_column(String(128))  # "" once the reminder is over
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("commune.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("registration_session.id"), index=True
    )
    step: Mapped[str | None] = mapped_column(String(64))  # the walkthrough step to open
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), default=ReminderStatus.PENDING)
    outcome: Mapped[str | None] = mapped_column(String(32))  # why skipped, expired, cancelled
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    session: Mapped[RegistrationSession | None] = relationship()


class CommuneTarget(Base):
    """How many activated accounts the working group expects of a commune."""

    __tablename__ = "commune_target"

    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"), primary_key=True)
    target: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DailyFigure(Base):
    """One commune's figures for one day (Vietnam's date): files received, accounts activated."""

    __tablename__ = "daily_figure"
    __table_args__ = (UniqueConstraint("commune_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    files_level1: Mapped[int] = mapped_column(Integer, default=0)
    files_level2: Mapped[int] = mapped_column(Integer, default=0)
    activated: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(16))  # officer | csv
    updated_by: Mapped[str] = mapped_column(String(120), default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CommuneQuestion(Base):
    """How many questions named a commune on a day (its sessions, "which commune is mine")."""

    __tablename__ = "commune_question"

    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    questions: Mapped[int] = mapped_column(Integer, default=0)


class OfficerDraft(Base):
    """A session an officer is announcing on Telegram, one question at a time.

    Kept in the database, so the guided command survives a restart and any replica
    takes the next answer; the officer answers by replying to ``prompt_message_id``.
    """

    __tablename__ = "officer_draft"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    prompt_message_id: Mapped[int | None] = mapped_column(BigInteger)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
