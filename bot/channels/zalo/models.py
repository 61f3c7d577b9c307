"""The Zalo OA bridge's table: the OA's tokens (its events are in bot.channels.inbound)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UtcDateTime, utcnow

__all__ = ["ZaloToken"]


class ZaloToken(Base):
    """The OA's access token and its single-use refresh token (one row, rotated atomically)."""

    __tablename__ = "zalo_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
