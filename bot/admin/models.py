"""Tables of the console: content revisions (the audit log: bot.audit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UtcDateTime, utcnow

__all__ = ["Revision"]


class Revision(Base):
    """One change of a text: what it was, what it became, who, when."""

    __tablename__ = "revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(160), index=True)  # faq:<key> | response:<name>
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)
    username: Mapped[str] = mapped_column(String(64))
    reverts_id: Mapped[int | None] = mapped_column(ForeignKey("revision.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
