"""Console pages for models: train and publish, watch the progress, roll back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Annotated

from fastapi import Form, HTTPException, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

from bot.admin.csrf import console_router
from bot.admin.deps import CurrentEditor, CurrentReader
from bot.admin.pages import page
from bot.db import Database
from bot.dependencies import SessionDep
from bot.modelops import history, workspace
from bot.modelops.jobs import Trainer
from bot.modelops.models import ACTIVE, BuildStatus, ModelBuild
from bot.modelops.progress import log_tail
from bot.modelops.rasa_admin import PublishError
from bot.modelops.serving import Busy

router = console_router()

STATUS_TEXT = {status.value: status.text for status in BuildStatus}


def _trainer(request: Request) -> Trainer:
    trainer: Trainer = request.app.state.trainer
    return trainer


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _log_path(request: Request, build_id: int) -> Path:
    return _trainer(request).settings.training_dir / f"build-{build_id:04d}" / "log.txt"


@router.get("/models", response_class=HTMLResponse)
async def models(request: Request, user: CurrentReader) -> Response:
    """The model in use, what the next training would add, the history, rollback."""
    trainer = _trainer(request)
    live = await trainer.server.live()  # also records the seed model on first visit

    context = await _db(request).run(
        partial(
            history.overview,
            live=live,
            now=trainer.clock(),
            root=trainer.settings.project_root,
        )
    )
    return page(
        request,
        "admin_models.html",
        {
            **context,
            "live": live,
            "status_text": STATUS_TEXT,
            "margin": trainer.settings.training_margin,
            "advised": workspace.ADVISED_QUESTIONS,
            "error": request.query_params.get("error"),
            "done": request.query_params.get("done"),
        },
    )


@router.post("/models/train")
def train(request: Request, session: SessionDep, user: CurrentEditor) -> Response:
    """Start a training job (one at a time) and show its progress."""
    trainer = _trainer(request)
    try:
        build = trainer.start(session, username=user.name)
    except Busy as exc:
        session.rollback()
        return page(request, "admin_message.html", {"message": str(exc)}, status_code=409)
    session.commit()
    trainer.launch(build.id)
    return RedirectResponse(f"/admin/models/{build.id}", status_code=303)


@router.get("/models/{build_id}", response_class=HTMLResponse)
def build_page(
    request: Request, session: SessionDep, user: CurrentReader, build_id: int
) -> Response:
    """One training: progress (live while it runs), scores, its output."""
    build = session.get(ModelBuild, build_id)
    if build is None:
        raise HTTPException(status_code=404)
    return page(
        request,
        "admin_model.html",
        {
            "b": build,
            "active": build.status in ACTIVE,
            "status_text": STATUS_TEXT,
            "log": log_tail(_log_path(request, build_id)),
            "margin": _trainer(request).settings.training_margin,
        },
    )


@router.get("/models/{build_id}/log.txt")
def build_log(request: Request, user: CurrentReader, build_id: int) -> Response:
    """The whole output of a job, as it was written."""
    path = _log_path(request, build_id)
    if not path.is_file():
        raise HTTPException(status_code=404)
    return FileResponse(path, media_type="text/plain; charset=utf-8")


@router.get("/models/{build_id}/events")
async def build_events(request: Request, user: CurrentReader, build_id: int) -> Response:
    """Server-sent events: the job's progress every second until it ends."""
    db = _db(request)
    log = _log_path(request, build_id)

    async def stream() -> AsyncIterator[str]:
        last = None
        while not await request.is_disconnected():
            snap = await db.run(partial(history.progress, build_id=build_id))
            if snap is None:
                yield "event: gone\ndata: {}\n\n"
                return
            # the log is a file: read outside the database unit (one thread on SQLite)
            snap["log"] = await asyncio.to_thread(log_tail, log)
            data = json.dumps(snap, ensure_ascii=False)
            if data != last:
                yield f"data: {data}\n\n"
                last = data
            if snap["done"]:
                yield "event: done\ndata: {}\n\n"
                return
            await asyncio.sleep(1)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post("/models/{build_id}/cancel")
def cancel(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    build_id: int,
) -> Response:
    """Stop a training that has not reached publishing."""
    if not _trainer(request).cancel(session, build_id, username=user.name):
        raise HTTPException(status_code=409, detail="Không dừng được lúc này.")
    return RedirectResponse(f"/admin/models/{build_id}", status_code=303)


@router.post("/models/rollback")
async def rollback(
    request: Request,
    user: CurrentEditor,
    target: Annotated[int | None, Form()] = None,
) -> Response:
    """Serve the previous model again (or a chosen earlier one)."""
    try:
        build = await _trainer(request).server.rollback(target, username=user.name)
    except (Busy, PublishError) as exc:
        return page(request, "admin_message.html", {"message": str(exc)}, status_code=409)
    return RedirectResponse(f"/admin/models?done=rollback-{build.id}", status_code=303)
