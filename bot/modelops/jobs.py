"""Train and publish from the console, one job at a time, without stopping the chat.

A job: build the workspace (seed + console additions) → ``rasa data validate`` → ``rasa
train`` (a niced child process; its output is kept for the progress page) → classify the
held-out evaluation file with the candidate and, once per live model, with the live one →
refuse the candidate when it scores clearly worse than the live model, by more than the
margin and beyond the evaluation file's noise (``bot.admin.verdict``) →
otherwise load it into the running Rasa server (``PUT /model``) and keep the model it
replaces for one-click rollback.

Two locks (``bot.locks``) keep it safe with several app processes: ``training`` for the
whole job, ``serving`` around every swap of the served model (publish and rollback), so a
rollback never races a publish and is possible while a training runs. Rasa answers nothing
while it loads a model (about 20 s here); the gateway sees the ``serving`` lock and waits for
Rasa longer instead of answering "busy", and a swap first waits out the ordinary timeout so
that no message sent before the lock can time out during the load.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot import training as model_training
from bot.admin import content
from bot.admin.models import ModelBuild
from bot.admin.training import build_workspace, validate_workspace
from bot.admin.verdict import judge
from bot.analytics.models import TrainingQuestion
from bot.config import Settings
from bot.db import session_scope
from bot.locks import SERVING, TRAINING, acquire, holder, refresh, release

logger = logging.getLogger(__name__)

__all__ = [
    "ACTIVE",
    "Busy",
    "PublishError",
    "RasaAdmin",
    "Trainer",
    "long_components",
    "parse_progress",
    "pending_questions",
    "reap",
    "point_start_model",
    "point_live_link",
    "startup_model",
]

ACTIVE = ("validating", "training", "evaluating", "publishing", "cancelling")
TICK_S = 3.0
_STOPPED = "Đã dừng theo yêu cầu."
LIVE_LINK = "live.tar.gz"  # what a deployment's Rasa loads at start (docker-compose.yml)

Clock = Callable[[], datetime]


class Busy(RuntimeError):
    """Another job holds the lock; the message says which, for the admin."""


class PublishError(RuntimeError):
    """Rasa did not take the model."""


def reap(session: Session, now: datetime) -> None:
    """Builds left running by a process that died are marked failed."""
    alive = holder(session, TRAINING, now)
    for build in session.scalars(select(ModelBuild).where(ModelBuild.status.in_(ACTIVE))):
        if alive != f"build:{build.id}":
            build.status = "failed"
            build.detail = "Bị gián đoạn (ứng dụng đã dừng giữa chừng). Hãy huấn luyện lại."
            build.finished_at = now


# --- what the page shows -------------------------------------------------------------------
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


_COMPONENT = re.compile(r"Starting to train component '(\w+)'")
_EPOCHS = re.compile(r"Epochs:\s+(\d+)%")


def long_components(config: Path) -> list[str]:
    """Names of the components that train for many epochs (with a progress bar), in order."""
    doc = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    entries = [*(doc.get("pipeline") or []), *(doc.get("policies") or [])]
    return [str(e["name"]).rsplit(".", 1)[-1] for e in entries if "epochs" in e]


def parse_progress(log: str, long: list[str]) -> tuple[int, str]:
    """(percent of the training step, what it is doing) from ``rasa train``'s output."""
    starts = list(_COMPONENT.finditer(log))
    if not starts:
        return 0, "Chuẩn bị dữ liệu"
    last = starts[-1]
    name = last.group(1)
    epochs = _EPOCHS.findall(log[last.end() :]) if name in long else []
    done = sum(1 for m in starts[:-1] if m.group(1) in long)
    share = 100 / max(1, len(long))
    current = int(epochs[-1]) / 100 if epochs else 0.0
    percent = int(min(99, (done + current) * share))
    suffix = f" ({epochs[-1]}%)" if epochs else ""
    return percent, f"Đang học: {name}{suffix}"


def file_digest(path: Path) -> str:
    """Short hash of a file (which evaluation file a score belongs to)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def startup_model(settings: Settings, session: Session, seed_model: Path) -> Path:
    """The model to start Rasa with: the published one if it was trained on today's seed."""
    live = session.scalar(
        select(ModelBuild).where(ModelBuild.status == "live", ModelBuild.origin == "console")
    )
    if live is None or not live.path or not Path(live.path).is_file():
        return seed_model
    if live.seed_fingerprint != model_training.fingerprint(settings.project_root):
        logger.warning(
            "The published model #%s was trained on older seed data; starting with %s. "
            "Train again from the console to bring the console's questions back.",
            live.id,
            seed_model.name,
        )
        return seed_model
    return Path(live.path)


def point_start_model(settings: Settings, session: Session, seed_model: Path) -> Path:
    """Choose the model Rasa starts with and point ``models/live.tar.gz`` at it."""
    model = startup_model(settings, session, seed_model)
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    point_live_link(settings.models_dir, model)
    return model


def point_live_link(models_dir: Path, model: Path) -> None:
    """Make ``models/live.tar.gz`` point at ``model`` (atomically)."""
    link = models_dir / LIVE_LINK
    tmp = models_dir / f".{LIVE_LINK}.tmp"
    tmp.unlink(missing_ok=True)
    target = os.path.relpath(model, models_dir)
    tmp.symlink_to(target)
    tmp.replace(link)


# --- the Rasa server -------------------------------------------------------------------------
class RasaAdmin:
    """Rasa's HTTP API for models (the server runs with --enable-api and a token)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str | list[str], token: str) -> None:
        """Use ``http`` for a Rasa server at ``base_url`` (or each of several replicas)."""
        self._http = http
        urls = [base_url] if isinstance(base_url, str) else base_url
        self._urls = [u.rstrip("/") for u in urls]
        self._token = token

    async def served_file(self, url: str | None = None) -> str:
        """File name of the model Rasa serves now (the first replica, unless ``url``)."""
        response = await self._http.get(
            f"{url or self._urls[0]}/status", params={"token": self._token}, timeout=10
        )
        response.raise_for_status()
        return str(response.json().get("model_file") or "")

    async def load(self, path: Path) -> None:
        """Load ``path`` into every replica, one after the other.

        Each replica answers nothing until it is loaded, while the others keep serving.
        """
        for url in self._urls:
            await self._load_one(url, path)

    async def _load_one(self, url: str, path: Path) -> None:
        try:
            response = await self._http.put(
                f"{url}/model",
                params={"token": self._token},
                json={"model_file": str(path)},
                timeout=600,
            )
        except httpx.HTTPError as exc:
            raise PublishError(f"Rasa không trả lời ({type(exc).__name__}).") from exc
        if response.status_code >= 400:
            raise PublishError(f"Rasa từ chối mô hình (HTTP {response.status_code}).")
        try:
            served = await self.served_file(url)
        except httpx.HTTPError as exc:
            raise PublishError(f"Rasa không trả lời sau khi nạp ({type(exc).__name__}).") from exc
        if Path(served).name != path.name:
            raise PublishError(f"Rasa vẫn dùng {served}, không phải {path.name}.")


@dataclass
class _Job:
    build_id: int
    owner: str
    log: Path
    workdir: Path


class Trainer:
    """Runs training jobs in this process and swaps models in Rasa."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        rasa: RasaAdmin,
        *,
        clock: Clock,
    ) -> None:
        """Prepare; nothing runs until ``start`` is called."""
        self.factory = factory
        self.settings = settings
        self.rasa = rasa
        self.clock = clock
        self.tasks: set[asyncio.Task[None]] = set()
        try:  # sync request handlers run in threads: jobs are started on this loop
            self.loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self.loop = None

    # -- helpers -----------------------------------------------------------------------------
    async def _db(self, fn: Callable[[Session], Any]) -> Any:
        def work() -> Any:
            with session_scope(self.factory) as session:
                return fn(session)

        return await asyncio.to_thread(work)

    def _locate(self, name: str) -> Path | None:
        """The file of a model Rasa names (it reports the file name only)."""
        for folder in (self.settings.models_dir, self.settings.project_root / "models"):
            path = folder / Path(name).name
            if path.is_file():
                return path.resolve()
        return None

    async def live(self) -> ModelBuild | None:
        """The row of the model Rasa serves now (created for the seed model on first use)."""
        try:
            served = await self.rasa.served_file()
        except httpx.HTTPError:
            return None
        if not served:
            return None
        path = self._locate(served)  # live.tar.gz resolves to the file it points at
        name = path.name if path else Path(served).name
        now = self.clock()

        def sync(session: Session) -> ModelBuild:
            rows = session.scalars(select(ModelBuild).where(ModelBuild.status == "live")).all()
            match = [r for r in rows if r.path and Path(r.path).name == name]
            for other in rows:
                if other not in match:  # Rasa was restarted with another model
                    other.status = "standby"
            if match:
                return match[0]
            row: ModelBuild | None = None
            if path is not None:
                row = session.scalar(
                    select(ModelBuild)
                    .where(ModelBuild.path == str(path))
                    .order_by(ModelBuild.id.desc())
                )
            if row is None:
                row = ModelBuild(
                    status="live",
                    origin="seed",
                    path=str(path) if path else None,
                    stage=Path(served).name,
                    progress=100,
                    seed_fingerprint=model_training.fingerprint(self.settings.project_root),
                    published_at=now,
                    finished_at=now,
                )
                session.add(row)
            row.status = "live"
            return row

        result: ModelBuild | None = await self._db(sync)
        return result

    # -- starting and stopping ------------------------------------------------------------------
    def start(self, session: Session, *, username: str) -> ModelBuild:
        """Create a build and take the training lock (raises Busy); call ``launch`` after commit."""
        now = self.clock()
        reap(session, now)
        build = ModelBuild(
            status="validating",
            origin="console",
            created_by=username,
            stage="Chuẩn bị dữ liệu",
            seed_fingerprint=model_training.fingerprint(self.settings.project_root),
        )
        session.add(build)
        session.flush()
        if not acquire(session, TRAINING, f"build:{build.id}", now):
            owner = holder(session, TRAINING, now) or ""
            raise Busy(f"Đang có một lần huấn luyện chạy ({owner.replace('build:', '#')}).")
        if not self.settings.training_rasa_bin.exists():
            raise Busy(f"Máy này không có Rasa để huấn luyện ({self.settings.training_rasa_bin}).")
        content.audit(session, username=username, action="model_train", target=f"model:{build.id}")
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
        if build is None or build.status not in ACTIVE or build.status == "publishing":
            return False
        build.status = "cancelling"
        content.audit(session, username=username, action="model_cancel", target=f"model:{build_id}")
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
            await self._finish(job, "failed", "Ứng dụng dừng giữa lúc huấn luyện. Hãy chạy lại.")
            raise
        except Exception as exc:
            logger.exception("Training job %s failed", build_id)
            await self._finish(job, "failed", f"Lỗi: {type(exc).__name__}: {exc}")
        else:
            await self._finish(job, *outcome)

    async def _steps(self, job: _Job) -> tuple[str, str]:
        s = self.settings

        def build_ws(session: Session) -> Path:
            ws = build_workspace(session, root=s.project_root, dest=job.workdir / "workspace")
            build = session.get(ModelBuild, job.build_id)
            assert build is not None  # noqa: S101 - created before launch
            build.topics, build.added_questions = ws.topics, ws.added_questions
            build.last_question_id = session.scalar(select(func.max(TrainingQuestion.id))) or 0
            build.progress, build.stage = 2, "Kiểm tra dữ liệu (rasa data validate)"
            return ws.path

        workspace: Path = await self._db(build_ws)
        ok, output = await asyncio.to_thread(
            validate_workspace, workspace, rasa_bin=s.training_rasa_bin, root=s.project_root
        )
        with job.log.open("a", encoding="utf-8") as log:
            log.write("$ rasa data validate --fail-on-warnings\n" + output + "\n")
        if not ok:
            return "failed", "Dữ liệu huấn luyện không hợp lệ (xem nhật ký bên dưới)."
        if await self._cancelled(job):
            return "cancelled", _STOPPED

        await self._set(job, status="training", progress=5, stage="Đang học")
        s.models_dir.mkdir(parents=True, exist_ok=True)
        candidate = s.models_dir / f"console-{job.build_id:04d}.tar.gz"
        cmd = model_training.train_command(
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
            return "cancelled", _STOPPED
        if code != 0 or not candidate.is_file():
            return "failed", f"rasa train dừng với mã {code} (xem nhật ký bên dưới)."
        await self._set(
            job,
            path=str(candidate),
            status="evaluating",
            progress=86,
            stage="Chấm trên bộ câu hỏi kiểm tra",
        )
        metrics = await self._evaluate(job, candidate)
        if metrics is None:
            return "failed", "Không chấm được mô hình mới (xem nhật ký bên dưới)."
        await self._set(job, metrics=metrics)
        if await self._cancelled(job):
            return "cancelled", _STOPPED
        return await self._publish(job, candidate, metrics)

    async def _publish(
        self, job: _Job, candidate: Path, metrics: dict[str, Any]
    ) -> tuple[str, str]:
        live = await self.live()
        if live is None or not live.path:
            return "refused", "Không đưa vào dùng: không đo được mô hình đang dùng để so sánh."
        baseline = live.metrics
        if (
            not baseline
            or baseline.get("eval_file") != metrics.get("eval_file")
            or "pred" not in baseline
        ):
            await self._set(job, progress=92, stage="Chấm mô hình đang dùng để so sánh")
            baseline = await self._evaluate(job, Path(live.path))
            if baseline is None:
                return "failed", "Không chấm được mô hình đang dùng (xem nhật ký)."
            live_id = live.id
            await self._db(lambda session: _set_metrics(session, live_id, baseline))
        await self._set(job, baseline=baseline, baseline_id=live.id)
        s = self.settings
        reason = await asyncio.to_thread(
            judge, metrics, baseline, s.training_margin, s.training_confidence
        )
        if reason is not None:
            return "refused", reason  # _finish deletes its file
        if await self._cancelled(job):
            return "cancelled", _STOPPED
        await self._set(job, status="publishing", progress=97, stage="Nạp vào máy chủ Rasa")
        try:
            async with self._swap(job.owner) as now_live:
                if now_live is None or now_live.id != live.id:
                    return "failed", (
                        "Mô hình đang dùng vừa được đổi trong lúc huấn luyện. Hãy huấn luyện lại."
                    )
                await self.rasa.load(candidate)
                build_id, now = job.build_id, self.clock()
                await self._db(lambda session: _make_live(session, build_id, now, None))
                point_live_link(self.settings.models_dir, candidate)
                await self._db(self._prune)
        except PublishError as exc:
            return "failed", f"Không nạp được vào Rasa: {exc} Mô hình cũ vẫn đang chạy."
        note = ""
        if metrics["accuracy"] < baseline["accuracy"] - s.training_margin:
            note = " Thấp hơn một chút, nhưng trong mức dao động của bộ câu hỏi kiểm tra."
        return "live", (
            f"Đã đưa vào dùng. Độ chính xác {metrics['accuracy']:.1%} "
            f"(mô hình trước {baseline['accuracy']:.1%}).{note}"
        )

    @contextlib.asynccontextmanager
    async def _swap(self, owner: str) -> AsyncIterator[ModelBuild | None]:
        """Hold the serving lock around a model swap; yield the live model's row.

        The gateway waits longer for Rasa while the lock is held; waiting out the ordinary
        timeout first means no message sent before the lock is still waiting with it.
        """
        got = await self._db(lambda session: acquire(session, SERVING, owner, self.clock()))
        if not got:
            raise Busy("Đang đổi mô hình (đưa vào dùng hoặc quay lại). Thử lại sau ít phút.")
        try:
            live = await self.live()
            await asyncio.sleep(self.settings.rasa_timeout_s + 1)
            await self._db(lambda session: refresh(session, SERVING, owner, self.clock()))
            yield live
        finally:
            await self._db(lambda session: release(session, SERVING, owner))

    async def _finish(self, job: _Job, status: str, detail: str) -> None:
        now = self.clock()

        def finish(session: Session) -> None:
            build = session.get(ModelBuild, job.build_id)
            if build is not None:
                if status != "live":
                    build.status = status
                build.detail = detail
                build.finished_at = now
                build.progress = 100
                build.stage = ""
                if status in ("failed", "cancelled", "refused") and build.path:
                    Path(build.path).unlink(missing_ok=True)
                content.audit(
                    session,
                    username=build.created_by,
                    action=f"model_{status}",
                    target=f"model:{build.id}",
                    detail={"detail": detail},
                )
            release(session, TRAINING, job.owner)

        await self._db(finish)

    async def _set(self, job: _Job, **values: Any) -> None:
        now = self.clock()

        def write(session: Session) -> None:
            if values:
                session.execute(
                    update(ModelBuild)
                    .where(ModelBuild.id == job.build_id, ModelBuild.status != "cancelling")
                    .values(**values)
                )
            refresh(session, TRAINING, job.owner, now)

        await self._db(write)

    async def _cancelled(self, job: _Job) -> bool:
        status = await self._db(
            lambda session: session.scalar(
                select(ModelBuild.status).where(ModelBuild.id == job.build_id)
            )
        )
        return bool(status == "cancelling")

    async def _child(
        self,
        job: _Job,
        cmd: list[str],
        *,
        cwd: Path,
        progress: Callable[[_Job], Awaitable[None]] | None = None,
    ) -> int | None:
        """Run a niced child, output to the job's log; None when cancelled."""
        env = model_training.rasa_env(self.settings.project_root)
        env["PYTHONUNBUFFERED"] = "1"
        with job.log.open("ab") as out:
            shown = [Path(cmd[0]).name, *cmd[1:]]
            out.write(("$ " + " ".join(shown) + "\n").encode())
            out.flush()
            proc = await asyncio.create_subprocess_exec(
                *cmd,
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=lambda: os.nice(10),  # chatting keeps the CPU first
            )
        try:
            while True:
                try:
                    return await asyncio.wait_for(proc.wait(), timeout=TICK_S)
                except TimeoutError:
                    pass
                if await self._cancelled(job):
                    os.killpg(proc.pid, signal.SIGTERM)
                    await proc.wait()
                    return None
                if progress is not None:
                    await progress(job)
                else:
                    await self._set(job)
        finally:
            if proc.returncode is None:  # the job failed or the app stops: no orphan
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)

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
        metrics["eval_file"] = file_digest(s.training_eval_file)
        metrics.update(json.loads(labels.read_text(encoding="utf-8")))  # gold, pred
        return metrics

    # -- rollback --------------------------------------------------------------------------------
    async def rollback(self, target_id: int | None, *, username: str) -> ModelBuild:
        """Serve an earlier live model again (the latest one, or ``target_id``)."""

        def pick(session: Session) -> ModelBuild | None:
            query = select(ModelBuild).where(ModelBuild.status == "standby")
            if target_id is not None:
                query = query.where(ModelBuild.id == target_id)
            rows = session.scalars(
                query.order_by(ModelBuild.published_at.desc(), ModelBuild.id.desc())
            ).all()
            return next((r for r in rows if r.path and Path(r.path).is_file()), None)

        await self.live()  # a model Rasa was restarted away from becomes standby
        target: ModelBuild | None = await self._db(pick)
        if target is None or not target.path:
            raise Busy("Không còn mô hình trước nào để quay lại.")
        async with self._swap(f"rollback:{username}") as live:
            await self.rasa.load(Path(target.path))
            target_id_, now = target.id, self.clock()

            def swap(session: Session) -> None:
                _make_live(session, target_id_, now, username)
                content.audit(
                    session,
                    username=username,
                    action="model_rollback",
                    target=f"model:{target_id_}",
                    detail={"from": live.id if live else None},
                )

            await self._db(swap)
            point_live_link(self.settings.models_dir, Path(target.path))
            return target

    def _prune(self, session: Session) -> None:
        """Keep the files of the last few live models; archive older ones."""
        standby = session.scalars(
            select(ModelBuild)
            .where(ModelBuild.status == "standby", ModelBuild.origin == "console")
            .order_by(ModelBuild.published_at.desc())
        ).all()
        for row in standby[self.settings.training_keep :]:
            if row.path:
                Path(row.path).unlink(missing_ok=True)
            row.status = "archived"


def _make_live(session: Session, build_id: int, now: datetime, username: str | None) -> None:
    for row in session.scalars(select(ModelBuild).where(ModelBuild.status == "live")):
        if row.id != build_id:
            row.status = "standby"
    build = session.get(ModelBuild, build_id)
    assert build is not None  # noqa: S101 - the caller's row
    build.status = "live"
    build.published_at = now
    build.published_by = username or build.created_by


def _set_metrics(session: Session, build_id: int, metrics: dict[str, Any]) -> None:
    build = session.get(ModelBuild, build_id)
    if build is not None:
        build.metrics = metrics
