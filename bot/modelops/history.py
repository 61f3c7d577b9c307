"""What the model pages show: the builds, what the next training adds; the dead jobs reaped."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.analytics.models import TrainingQuestion
from bot.locks import TRAINING, holder
from bot.modelops import workspace
from bot.modelops.models import ACTIVE, BuildStatus, ModelBuild

__all__ = ["overview", "pending_questions", "progress", "reap", "status_text"]


def reap(session: Session, now: datetime) -> None:
    """Builds left running by a process that died are marked failed."""
    alive = holder(session, TRAINING, now)
    for build in session.scalars(select(ModelBuild).where(ModelBuild.status.in_(ACTIVE))):
        if alive != f"build:{build.id}":
            build.status = BuildStatus.FAILED
            build.detail = "Bị gián đoạn (ứng dụng đã dừng giữa chừng). Hãy huấn luyện lại."
            build.finished_at = now


def pending_questions(session: Session, live: ModelBuild | None) -> dict[str, int]:
    """Training questions added after the live model was trained, counted per label."""
    since = live.last_question_id if live else 0
    rows = session.execute(
        select(TrainingQuestion.label, func.count())
        .where(TrainingQuestion.id > since)
        .group_by(TrainingQuestion.label)
        .order_by(TrainingQuestion.label)
    ).all()
    return {label: n for label, n in rows}


def overview(
    session: Session, *, live: ModelBuild | None, now: datetime, root: Path
) -> dict[str, Any]:
    """The latest builds, the one running, the standby ones, and what a training would add."""
    reap(session, now)
    builds = list(session.scalars(select(ModelBuild).order_by(ModelBuild.id.desc()).limit(30)))
    return {
        "builds": builds,
        "running": next((b for b in builds if b.status in ACTIVE), None),
        "standby": [
            b
            for b in builds
            if b.status == BuildStatus.STANDBY and b.path and Path(b.path).is_file()
        ],
        "pending": pending_questions(session, live),
        "thin": workspace.thin_topics(session, root=root),
    }


def progress(session: Session, build_id: int) -> dict[str, Any] | None:
    """A build's state for the progress stream, or None when there is no such build."""
    build = session.get(ModelBuild, build_id)
    if build is None:
        return None
    return {
        "status": build.status,
        "status_text": status_text(build.status),
        "progress": build.progress,
        "stage": build.stage,
        "detail": build.detail,
        "done": build.status not in ACTIVE,
    }


def status_text(status: str) -> str:
    """What the admin reads for a build's status."""
    try:
        return BuildStatus(status).text
    except ValueError:  # a status of a newer version of the app
        return status


def _standby(build: ModelBuild) -> bool:
    """A trained model kept for rollback, its file still there."""
    return (
        build.status == BuildStatus.STANDBY
        and build.path is not None
        and Path(build.path).is_file()
    )
