"""The table of trained models and the states a build goes through."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, UtcDateTime, utcnow

__all__ = ["ACTIVE", "ENDED_WITHOUT_MODEL", "BuildStatus", "ModelBuild"]


class BuildStatus(StrEnum):
    """Where a build is. Stored as its value; a value compares equal to its string."""

    VALIDATING = "validating"
    TRAINING = "training"
    EVALUATING = "evaluating"
    PUBLISHING = "publishing"
    CANCELLING = "cancelling"
    LIVE = "live"
    STANDBY = "standby"
    ARCHIVED = "archived"
    REFUSED = "refused"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def text(self) -> str:
        """What the console shows."""
        return _TEXT[self]


_TEXT = {
    BuildStatus.VALIDATING: "Đang kiểm tra dữ liệu",
    BuildStatus.TRAINING: "Đang huấn luyện",
    BuildStatus.EVALUATING: "Đang chấm điểm",
    BuildStatus.PUBLISHING: "Đang đưa vào dùng",
    BuildStatus.CANCELLING: "Đang dừng",
    BuildStatus.LIVE: "Đang dùng",
    BuildStatus.STANDBY: "Bản trước (quay lại được)",
    BuildStatus.REFUSED: "Bị từ chối (kém hơn)",
    BuildStatus.FAILED: "Lỗi",
    BuildStatus.CANCELLED: "Đã dừng",
    BuildStatus.ARCHIVED: "Đã xoá tệp",
}
# a job runs while its build is in one of these
ACTIVE = (
    BuildStatus.VALIDATING,
    BuildStatus.TRAINING,
    BuildStatus.EVALUATING,
    BuildStatus.PUBLISHING,
    BuildStatus.CANCELLING,
)
# a build that ended in one of these keeps no model file
ENDED_WITHOUT_MODEL = (BuildStatus.FAILED, BuildStatus.CANCELLED, BuildStatus.REFUSED)


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
