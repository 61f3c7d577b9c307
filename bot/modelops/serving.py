"""The model Rasa serves: which build is live, swaps under the serving lock, rollback.

A swap (a publish or a rollback) holds the ``serving`` lock (``bot.locks``), so a rollback
never races a publish, with several app processes too. Rasa answers nothing while it loads
a model (about 20 s here); the gateway sees the lock and waits for Rasa longer instead of
answering "busy", and a swap first waits out the ordinary timeout so that no message sent
before the lock can time out during the load.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit
from bot.config import Settings
from bot.db import Database
from bot.locks import SERVING, acquire, refresh, release
from bot.modelops.artefacts import fingerprint, point_live_link
from bot.modelops.models import BuildStatus, ModelBuild
from bot.modelops.rasa_admin import ModelApi

logger = logging.getLogger(__name__)

__all__ = ["Busy", "ModelServer", "point_start_model", "set_metrics", "startup_model"]

Clock = Callable[[], datetime]


class Busy(RuntimeError):
    """Another job holds the lock; the message says which, for the admin."""


def startup_model(settings: Settings, session: Session, seed_model: Path) -> Path:
    """The model to start Rasa with: the published one if it was trained on today's seed."""
    live = session.scalar(
        select(ModelBuild).where(
            ModelBuild.status == BuildStatus.LIVE, ModelBuild.origin == "console"
        )
    )
    if live is None or not live.path or not Path(live.path).is_file():
        return seed_model
    if live.seed_fingerprint != fingerprint(settings.project_root):
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


def set_metrics(session: Session, build_id: int, metrics: dict[str, Any]) -> None:
    """Keep a build's scores on the evaluation file."""
    build = session.get(ModelBuild, build_id)
    if build is not None:
        build.metrics = metrics


def _make_live(session: Session, build_id: int, now: datetime, username: str | None) -> None:
    for row in session.scalars(select(ModelBuild).where(ModelBuild.status == BuildStatus.LIVE)):
        if row.id != build_id:
            row.status = BuildStatus.STANDBY
    build = session.get(ModelBuild, build_id)
    assert build is not None  # noqa: S101 - the caller's row
    build.status = BuildStatus.LIVE
    build.published_at = now
    build.published_by = username or build.created_by


class ModelServer:
    """The served model, as Rasa reports it and as the ``model_build`` table records it."""

    def __init__(self, db: Database, settings: Settings, rasa: ModelApi, *, clock: Clock) -> None:
        """Nothing is read until a method is called."""
        self.db = db
        self.settings = settings
        self.rasa = rasa
        self.clock = clock

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
            rows = session.scalars(
                select(ModelBuild).where(ModelBuild.status == BuildStatus.LIVE)
            ).all()
            match = [r for r in rows if r.path and Path(r.path).name == name]
            for other in rows:
                if other not in match:  # Rasa was restarted with another model
                    other.status = BuildStatus.STANDBY
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
                    status=BuildStatus.LIVE,
                    origin="seed",
                    path=str(path) if path else None,
                    stage=Path(served).name,
                    progress=100,
                    # hashes the training inputs: only here, in the worker thread
                    seed_fingerprint=fingerprint(self.settings.project_root),
                    published_at=now,
                    finished_at=now,
                )
                session.add(row)
            row.status = BuildStatus.LIVE
            return row

        return await self.db.run(sync)

    @contextlib.asynccontextmanager
    async def swap(self, owner: str) -> AsyncIterator[ModelBuild | None]:
        """Hold the serving lock around a model swap; yield the live model's row.

        Raises Busy when another swap holds the lock.
        """
        got = await self.db.run(lambda session: acquire(session, SERVING, owner, self.clock()))
        if not got:
            raise Busy("Đang đổi mô hình (đưa vào dùng hoặc quay lại). Thử lại sau ít phút.")
        try:
            live = await self.live()
            await self._drain()
            await self.db.run(lambda session: refresh(session, SERVING, owner, self.clock()))
            yield live
        finally:
            await self.db.run(lambda session: release(session, SERVING, owner))

    async def _drain(self) -> None:
        """Wait until no message sent before the lock can still be waiting for Rasa."""
        await asyncio.sleep(self.settings.rasa_timeout_s + 1)

    async def publish(self, build_id: int, candidate: Path) -> None:
        """Serve ``candidate`` (already under the serving lock) and record it as live."""
        await self.rasa.load(candidate)
        now = self.clock()
        await self.db.run(lambda session: _make_live(session, build_id, now, None))
        point_live_link(self.settings.models_dir, candidate)
        await self.db.run(self._prune)

    async def rollback(self, target_id: int | None, *, username: str) -> ModelBuild:
        """Serve an earlier live model again (the latest one, or ``target_id``)."""

        def pick(session: Session) -> ModelBuild | None:
            query = select(ModelBuild).where(ModelBuild.status == BuildStatus.STANDBY)
            if target_id is not None:
                query = query.where(ModelBuild.id == target_id)
            rows = session.scalars(
                query.order_by(ModelBuild.published_at.desc(), ModelBuild.id.desc())
            ).all()
            return next((r for r in rows if r.path and Path(r.path).is_file()), None)

        await self.live()  # a model Rasa was restarted away from becomes standby
        target = await self.db.run(pick)
        if target is None or not target.path:
            raise Busy("Không còn mô hình trước nào để quay lại.")
        async with self.swap(f"rollback:{username}") as live:
            await self.rasa.load(Path(target.path))
            chosen, now = target.id, self.clock()

            def record(session: Session) -> None:
                _make_live(session, chosen, now, username)
                audit.record(
                    session,
                    username=username,
                    action="model_rollback",
                    target=f"model:{chosen}",
                    detail={"from": live.id if live else None},
                )

            await self.db.run(record)
            point_live_link(self.settings.models_dir, Path(target.path))
            return target

    def _prune(self, session: Session) -> None:
        """Keep the files of the last few live models; archive older ones."""
        standby = session.scalars(
            select(ModelBuild)
            .where(ModelBuild.status == BuildStatus.STANDBY, ModelBuild.origin == "console")
            .order_by(ModelBuild.published_at.desc())
        ).all()
        for row in standby[self.settings.training_keep :]:
            if row.path:
                Path(row.path).unlink(missing_ok=True)
            row.status = BuildStatus.ARCHIVED
