"""Tables of the answer texts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Integer, String, Text, event, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.db import Base, UtcDateTime, utcnow


class FaqEntry(Base):
    """One FAQ topic: the answer to the retrieval intent ``faq/<key>``."""

    __tablename__ = "faq_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(Text)
    related: Mapped[list[str]] = mapped_column(JSON, default=list)
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_reviewed: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ResponseTemplate(Base):
    """Any other bot text, by Rasa response name (``utter_greet``...)."""

    __tablename__ = "response_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ContentVersion(Base):
    """One row: increased by every change of the texts above (bot/faq/cache.py reads it)."""

    __tablename__ = "content_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


# session.info key: this transaction changed the texts (bot/faq/cache.py forgets on commit)
CONTENT_CHANGED = "content_changed"


@event.listens_for(Session, "before_flush")
def _count_content_changes(session: Session, _context: Any, _instances: Any) -> None:
    """Every flush that changes a topic or a response increases ``content_version``."""
    changed = (*session.new, *session.dirty, *session.deleted)
    if not any(isinstance(obj, FaqEntry | ResponseTemplate) for obj in changed):
        return
    bumped = session.execute(
        update(ContentVersion)
        .where(ContentVersion.id == 1)
        .values(version=ContentVersion.version + 1)
        .execution_options(synchronize_session=False)
    )
    if not bumped.rowcount:  # type: ignore[attr-defined]
        session.add(ContentVersion(id=1, version=1))
    session.info[CONTENT_CHANGED] = True
