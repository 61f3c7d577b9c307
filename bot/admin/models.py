"""Tables of the console: content revisions, the audit log and trained models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UtcDateTime, utcnow

__all__ = ["AuditEntry", "ModelBuild", "Revision"]


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


class ModelBuild(Base):
    """A Rasa model: one the console trained, or the seed model found serving.

    ``status`` runs validating → training → evaluating → publishing, then ends as live
    (Rasa serves it), refused (scored worse than the live model beyond the margin),
    failed or cancelled. A live model that another one replaces becomes standby (kept for
    rollback), then archived when its file is pruned.
    """

    __tablename__ = "model_build"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    origin: Mapped[str] = mapped_column(String(16), default="console")  # console | seed
    path: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent, for the page
    stage: Mapped[str] = mapped_column(String(200), default="")  # what it is doing now
    detail: Mapped[str] = mapped_column(Text, default="")  # why it ended as it did
    seed_fingerprint: Mapped[str] = mapped_column(String(32), default="")
    topics: Mapped[int] = mapped_column(Integer, default=0)
    added_questions: Mapped[int] = mapped_column(Integer, default=0)
    last_question_id: Mapped[int] = mapped_column(Integer, default=0)  # training questions in it
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # on the evaluation file
    baseline_id: Mapped[int | None] = mapped_column(ForeignKey("model_build.id"))
    baseline: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the live model's, then
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    published_by: Mapped[str | None] = mapped_column(String(64))
