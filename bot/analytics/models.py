"""Tables of the analytics: one row per citizen message, and questions waiting for training."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UtcDateTime, utcnow

__all__ = ["ChatTurn", "TrainingQuestion"]


class ChatTurn(Base):
    """A citizen message as Rasa understood it (text masked), recorded by the NLG endpoint."""

    __tablename__ = "chat_turn"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    sender: Mapped[str] = mapped_column(String(128), index=True)
    channel: Mapped[str] = mapped_column(String(16), index=True)
    text: Mapped[str] = mapped_column(String(500))
    intent: Mapped[str] = mapped_column(String(96), index=True)
    confidence: Mapped[float] = mapped_column(Float)
    response: Mapped[str] = mapped_column(String(128))
    # a clarifying question's buttons (nlu/clarify.py), likeliest first, comma-separated
    offered: Mapped[str] = mapped_column(String(200), default="", server_default="")
    unanswered: Mapped[bool] = mapped_column(Boolean, index=True)
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)

    @property
    def offered_labels(self) -> list[str]:
        """The topics a clarifying question offered, likeliest first (none: it answered)."""
        return self.offered.split(",") if self.offered else []


class TrainingQuestion(Base):
    """A citizen's question an admin assigned to a topic; used by the next training."""

    __tablename__ = "training_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(96), index=True)  # faq/<key> or an intent
    text: Mapped[str] = mapped_column(String(500))
    username: Mapped[str] = mapped_column(String(64))
    trained: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
