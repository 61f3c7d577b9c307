"""What the gateway remembers per conversation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UtcDateTime, utcnow


class ConversationState(Base):
    """The buttons last shown to a sender, so "2" or a typed label can press them."""

    __tablename__ = "conversation_state"

    sender: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_buttons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    # Zalo only: when the citizen last wrote, whatever answered it (Rasa, the app itself, an
    # officer's relay). The OA may message them for 48 hours after (the reminders' window).
    last_message_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ShortPayload(Base):
    """A button payload under a short key, for small button data (Telegram: 64 bytes)."""

    __tablename__ = "short_payload"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    payload: Mapped[str] = mapped_column(String(1000))


class WebInboxMessage(Base):
    """A message waiting for a web-chat citizen, fetched by the page when it polls."""

    __tablename__ = "web_inbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(128), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
