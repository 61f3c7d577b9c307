"""Tables of the Zalo OA bridge: received events (a durable inbox) and the OA tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UtcDateTime, utcnow

__all__ = ["InboundEvent", "ZaloToken"]


class InboundEvent(Base):
    """A webhook event, stored before the 200 so a crash cannot lose it; handled once."""

    __tablename__ = "inbound_event"
    __table_args__ = (UniqueConstraint("source", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(128))  # Zalo msg_id (or a derived key)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # taken by one app replica while it answers; a replica that died frees it on expiry
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ZaloToken(Base):
    """The OA's access token and its single-use refresh token (one row, rotated atomically)."""

    __tablename__ = "zalo_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
