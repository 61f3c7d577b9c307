"""Console trainings, one job at a time, without stopping the chat.

A job: build the workspace (seed + console additions) → ``rasa data validate`` → ``rasa
train`` (a niced child process; its output is kept for the progress page) → classify the
held-out evaluation file with the candidate and, once per live model, with the live one →
refuse the candidate when it scores clearly worse than the live model, by more than the
margin and beyond the evaluation file's noise (``verdict``) → otherwise swap it in
(``serving``) and keep the model it replaces for one-click rollback.

The ``training`` lock (``bot.locks``) covers the whole job, with several app processes too;
a job refreshes it at every tick, and a build whose holder died is marked failed (``reap``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot import audit
from bot.analytics.models import TrainingQuestion
from bot.config import Settings
from bot.db import Database
from bot.locks import TRAINING, acquire, holder, refresh, release
from bot.modelops import artefacts
from bot.modelops.history import reap
from bot.modelops.models import ACTIVE, ENDED_WITHOUT_MODEL, BuildStatus, ModelBuild
from bot.modelops.progress import long_components, parse_progress
from bot.modelops.rasa_admin import PublishError
from bot.modelops.serving import Busy, ModelServer, set_metrics
from bot.modelops.verdict import judge
from bot.modelops.workspace import build_workspace, validate_workspace
from bot.process import run_logged

logger = logging.getLogger(__name__)

__all__ = ["Trainer"]

TICK_S = 3.0
_STOPPED = "Đã dừng theo yêu cầu."

Clock = Callable[[], datetime]


@dataclass
class _Job:
    build_id: int
    owner: str
    log: Path
    workdir: Path


class Trainer:
    """Runs training jobs in this process; ``server`` swaps the models in Rasa."""

    def __init__(
        self, db: Database, settings: Settings, server: ModelServer, *, clock: Clock
    ) -> None:
        """Prepare; nothing runs until ``start`` is called."""
        self.db = db
        self.settings = settings
        self.server = server
        self.clock = clock
        self.tasks: set[asyncio.Task[None]] = set()
        try:  # sync request handlers run in threads: jobs are started on this loop
            self.loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None

    # -- starting and stopping ------------------------------------------------------------------
    def start(self, session: Session, *, username: str) -> ModelBuild:
        """Create a build and take the training lock (raises Busy); call ``launch`` after commit."""
        now = self.clock()
        reap(session, now)
        build = ModelBuild(
            status=BuildStatus.VALIDATING,
            origin="console",
            created_by=username,
            stage="Chuẩn bị dữ liệu",
            seed_fingerprint=artefacts.fingerprint(self.settings.project_root),
        )
        session.add(build)
        session.flush()
        if not acquire(session, TRAINING, f"build:{build.id}", now):
            owner = holder(session, TRAINING, now) or ""
            raise Busy(f"Đang có một lần huấn luyện chạy ({owner.replace('build:', '#')}).")
        if not self.settings.training_rasa_bin.exists():
            raise Busy(f"Máy này không có Rasa để huấn luyện ({self.settings.training_rasa_bin}).")
        audit.record(session, username=username, action="model_train", target=f"model:{build.id}")
        return build

    def launch(self, build_id: int) -> None:
        """Run the job in the background of this process (callable from a worker thread)."""

        def create() -> None:
            task = asyncio.ensure_future(self.run(build_id))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

        if self.loop is None:
            raise RuntimeError("the Trainer was not created inside the app's event loop")
        self.loop.call_soon_threadsafe(create)

    def cancel(self, session: Session, build_id: int, *, username: str) -> bool:
        """Ask a running job to stop (the process that runs it sees it at its next tick)."""
        build = session.get(ModelBuild, build_id)
        stoppable = set(ACTIVE) - {BuildStatus.PUBLISHING, BuildStatus.CANCELLING}
        if build is None or build.status not in stoppable:
            return False
        build.status = BuildStatus.CANCELLING
        audit.record(session, username=username, action="model_cancel", target=f"model:{build_id}")
        return True

    async def stop(self) -> None:
        """Cancel the jobs of this process (app shutdown); they end as failed."""
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- the job ---------------------------------------------------------------------------------
    async def run(self, build_id: int) -> None:
        """Validate, train, evaluate, then publish or refuse; always release the lock."""
        s = self.settings
        workdir = s.training_dir / f"build-{build_id:04d}"
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        job = _Job(build_id, f"build:{build_id}", workdir / "log.txt", workdir)
        try:
            outcome = await self._steps(job)
        except asyncio.CancelledError:
            await self._finish(
                job, BuildStatus.FAILED, "Ứng dụng dừng giữa lúc huấn luyện. Hãy chạy lại."
            )
            raise
        except Exception as exc:
            logger.exception("Training job %s failed", build_id)
            await self._finish(job, BuildStatus.FAILED, f"Lỗi: {type(exc).__name__}: {exc}")
        else:
            await self._finish(job, *outcome)

    async def _steps(self, job: _Job) -> tuple[BuildStatus, str]:
        s = self.settings

        def build_ws(session: Session) -> Path:
            ws = build_workspace(session, root=s.project_root, dest=job.workdir / "workspace")
            build = session.get(ModelBuild, job.build_id)
            assert build is not None  # noqa: S101 - created before launch
            build.topics, build.added_questions = ws.topics, ws.added_questions
            build.last_question_id = session.scalar(select(func.max(TrainingQuestion.id))) or 0
            build.progress, build.stage = 2, "Kiểm tra dữ liệu (rasa data validate)"
            return ws.path

        workspace: Path = await self.db.run(build_ws)
        ok, output = await asyncio.to_thread(
            validate_workspace, workspace, rasa_bin=s.training_rasa_bin, root=s.project_root
        )
        with job.log.open("a", encoding="utf-8") as log:
            log.write("$ rasa data validate --fail-on-warnings\n" + output + "\n")
        if not ok:
            return BuildStatus.FAILED, "Dữ liệu huấn luyện không hợp lệ (xem nhật ký bên dưới)."
        if await self._cancelled(job):
            return BuildStatus.CANCELLED, _STOPPED

        await self._set(job, status=BuildStatus.TRAINING, progress=5, stage="Đang học")
        s.models_dir.mkdir(parents=True, exist_ok=True)
        candidate = s.models_dir / f"console-{job.build_id:04d}.tar.gz"
        cmd = artefacts.train_command(
            workspace, s.training_rasa_bin, config="config.yml", out=candidate
        )
        long = long_components(workspace / "config.yml")

        async def tick(job: _Job) -> None:
            text = job.log.read_text(encoding="utf-8", errors="replace")
            percent, stage = parse_progress(text, long)
            await self._set(job, progress=5 + int(percent * 0.8), stage=stage)

        code = await self._child(job, cmd, cwd=workspace, progress=tick)
        if code is None:
            candidate.unlink(missing_ok=True)
            return BuildStatus.CANCELLED, _STOPPED
        if code != 0 or not candidate.is_file():
            return BuildStatus.FAILED, f"rasa train dừng với mã {code} (xem nhật ký bên dưới)."
        await self._set(
            job,
            path=str(candidate),
            status=BuildStatus.EVALUATING,
            progress=86,
            stage="Chấm trên bộ câu hỏi kiểm tra",
        )
        metrics = await self._evaluate(job, candidate)
        if metrics is None:
            return BuildStatus.FAILED, "Không chấm được mô hình mới (xem nhật ký bên dưới)."
        await self._set(job, metrics=metrics)
        if await self._cancelled(job):
            return BuildStatus.CANCELLED, _STOPPED
        return await self._publish(job, candidate, metrics)

    async def _publish(
        self, job: _Job, candidate: Path, metrics: dict[str, Any]
    ) -> tuple[BuildStatus, str]:
        live = await self.server.live()
        if live is None or not live.path:
            return (
                BuildStatus.REFUSED,
                "Không đưa vào dùng: không đo được mô hình đang dùng để so sánh.",
            )
        baseline = live.metrics
        if (
            not baseline
            or baseline.get("eval_file") != metrics.get("eval_file")
            or "pred" not in baseline
        ):
            await self._set(job, progress=92, stage="Chấm mô hình đang dùng để so sánh")
            baseline = await self._evaluate(job, Path(live.path))
            if baseline is None:
                return BuildStatus.FAILED, "Không chấm được mô hình đang dùng (xem nhật ký)."
            live_id = live.id
            await self.db.run(lambda session: set_metrics(session, live_id, baseline))
        await self._set(job, baseline=baseline, baseline_id=live.id)
        s = self.settings
        reason = await asyncio.to_thread(
            judge, metrics, baseline, s.training_margin, s.training_confidence
        )
        if reason is not None:
            return BuildStatus.REFUSED, reason  # _finish deletes its file
        if await self._cancelled(job):
            return BuildStatus.CANCELLED, _STOPPED
        await self._set(
            job, status=BuildStatus.PUBLISHING, progress=97, stage="Nạp vào máy chủ Rasa"
        )
        try:
            async with self.server.swap(job.owner) as now_live:
                if now_live is None or now_live.id != live.id:
                    return BuildStatus.FAILED, (
                        "Mô hình đang dùng vừa được đổi trong lúc huấn luyện. Hãy huấn luyện lại."
                    )
                await self.server.publish(job.build_id, candidate)
        except PublishError as exc:
            return BuildStatus.FAILED, f"Không nạp được vào Rasa: {exc} Mô hình cũ vẫn đang chạy."
        note = ""
        if metrics["accuracy"] < baseline["accuracy"] - s.training_margin:
            note = " Thấp hơn một chút, nhưng trong mức dao động của bộ câu hỏi kiểm tra."
        return BuildStatus.LIVE, (
            f"Đã đưa vào dùng. Độ chính xác {metrics['accuracy']:.1%} "
            f"(mô hình trước {baseline['accuracy']:.1%}).{note}"
        )

    async def _finish(self, job: _Job, status: BuildStatus, detail: str) -> None:
        now = self.clock()

        def finish(session: Session) -> None:
            build = session.get(ModelBuild, job.build_id)
            if build is not None:
                if status != BuildStatus.LIVE:
                    build.status = status
                build.detail = detail
                build.finished_at = now
                build.progress = 100
                build.stage = ""
                if status in ENDED_WITHOUT_MODEL and build.path:
                    Path(build.path).unlink(missing_ok=True)
                audit.record(
                    session,
                    username=build.created_by,
                    action=f"model_{status}",
                    target=f"model:{build.id}",
                    detail={"detail": detail},
                )
            release(session, TRAINING, job.owner)

        await self.db.run(finish)

    async def _set(self, job: _Job, **values: Any) -> None:
        now = self.clock()

        def write(session: Session) -> None:
            if values:
                session.execute(
                    update(ModelBuild)
                    .where(
                        ModelBuild.id == job.build_id, ModelBuild.status != BuildStatus.CANCELLING
                    )
                    .values(**values)
                )
            refresh(session, TRAINING, job.owner, now)

        await self.db.run(write)

    async def _cancelled(self, job: _Job) -> bool:
        status = await self.db.run(
            lambda session: session.scalar(
                select(ModelBuild.status).where(ModelBuild.id == job.build_id)
            )
        )
        return bool(status == BuildStatus.CANCELLING)

    async def _child(
        self,
        job: _Job,
        cmd: list[str],
        *,
        cwd: Path,
        progress: Callable[[_Job], Awaitable[None]] | None = None,
    ) -> int | None:
        """Run a niced child, output to the job's log; None when cancelled."""

        async def tick() -> bool:
            if await self._cancelled(job):
                return True
            await (progress(job) if progress is not None else self._set(job))
            return False

        env = artefacts.rasa_env(self.settings.project_root)
        env["PYTHONUNBUFFERED"] = "1"
        return await run_logged(cmd, cwd=cwd, env=env, log=job.log, every=TICK_S, stop=tick)

    async def _evaluate(self, job: _Job, model: Path) -> dict[str, Any] | None:
        s = self.settings
        python = s.training_rasa_bin.parent / "python"
        before = job.log.stat().st_size if job.log.exists() else 0
        labels = job.workdir / f"predictions-{model.stem}.json"
        labels.unlink(missing_ok=True)
        code = await self._child(
            job,
            [
                str(python),
                str(s.project_root / "scripts" / "evaluate.py"),
                "--model",
                str(model),
                "--file",
                str(s.training_eval_file),
                "--predictions",
                str(labels),
            ],
            cwd=s.project_root,
        )
        if code != 0 or not labels.is_file():
            return None
        with job.log.open("rb") as log:
            log.seek(before)
            tail = log.read().decode("utf-8", errors="replace")
        lines = [line for line in tail.splitlines() if line.startswith("{")]
        if not lines:
            return None
        metrics: dict[str, Any] = json.loads(lines[-1])
        metrics["eval_file"] = artefacts.file_digest(s.training_eval_file)
        metrics.update(json.loads(labels.read_text(encoding="utf-8")))  # gold, pred
        return metrics
