"""The console's campaign page.

Progress per commune against target, the laggards, the days, the sessions ahead; targets
and daily figures imported from CSV; CSV export.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot.admin.csrf import console_router
from bot.admin.deps import CurrentEditor, CurrentReader
from bot.admin.pages import page
from bot.admin.spreadsheets import csv_response, read_csv_upload
from bot.campaign import progress, sessions, when
from bot.communes.models import Commune
from bot.dependencies import SessionDep
from bot.handoff.officers import ImportRefusedError

router = console_router()


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.clock()
    return now


@router.get("/campaign", response_class=HTMLResponse)
def campaign(request: Request, session: SessionDep, user: CurrentReader) -> Response:
    """Progress per commune against target, laggards and leaders, the days, sessions ahead."""
    report = progress.report(session)
    days = report.days[-30:]
    return page(
        request,
        "admin_campaign.html",
        {
            "r": report,
            "laggards": report.laggards,
            "leaders": report.leaders(5),
            "days": days,
            "peak": max([d[3] for d in days] + [1]),
            "coming": [
                (s, n, when.say_when(s.starts_at, s.ends_at))
                for s, n in sessions.all_upcoming(session, now=_now(request))
            ],
            "communes": list(session.scalars(select(Commune).order_by(Commune.name))),
            "reminders": progress.reminder_counts(session),
            "msg": request.query_params.get("msg"),
        },
    )


@router.get("/export/campaign.csv")
def export_campaign(request: Request, session: SessionDep, user: CurrentReader) -> Response:
    """The progress table as CSV."""
    rows = progress.export_rows(progress.report(session))
    return csv_response(rows, progress.EXPORT_COLUMNS, "campaign.csv")


@router.get("/export/campaign-days.csv")
def export_days(request: Request, session: SessionDep, user: CurrentReader) -> Response:
    """The province's figures per day as CSV."""
    rows = [
        {"day": day.isoformat(), "files_level1": l1, "files_level2": l2, "activated": act}
        for day, l1, l2, act in progress.report(session).days
    ]
    return csv_response(rows, ["day", "files_level1", "files_level2", "activated"], "days.csv")


@router.get("/export/campaign-sessions.csv")
def export_sessions(request: Request, session: SessionDep, user: CurrentReader) -> Response:
    """The sessions ahead, with how many asked to be reminded (counts only), as CSV."""
    rows = [
        {
            "id": s.id,
            "commune": s.commune.label,
            "starts_at": when.say_when(s.starts_at, s.ends_at),
            "place": s.place,
            "subscribers": n,
        }
        for s, n in sessions.all_upcoming(session, now=_now(request), limit=1000)
    ]
    fields = ["id", "commune", "starts_at", "place", "subscribers"]
    return csv_response(rows, fields, "sessions.csv")


def _imported(run: Callable[[Session], int], session: Session) -> Response:
    """Run an all-or-nothing import; its refused lines become the 400's message."""
    try:
        count = run(session)
    except ImportRefusedError as exc:
        session.rollback()
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return RedirectResponse(f"/admin/campaign?msg=imported-{count}", status_code=303)


@router.post("/campaign/figures")
async def import_figures(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    file: Annotated[UploadFile, File()],
) -> Response:
    """The police's daily figures (commune, date, files_level1, files_level2, activated)."""
    rows = await read_csv_upload(file, set(progress.FIGURE_COLUMNS))
    today = when.vietnam_day(_now(request))
    return await run_in_threadpool(
        _imported,
        lambda s: progress.import_figures(s, rows, by=user.name, today=today),
        session,
    )


@router.post("/campaign/targets")
async def import_targets(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Targets per commune (commune, target)."""
    rows = await read_csv_upload(file, set(progress.TARGET_COLUMNS))
    return await run_in_threadpool(
        _imported, lambda s: progress.import_targets(s, rows, by=user.name), session
    )


@router.post("/campaign/sessions")
def announce(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    commune_id: Annotated[int, Form()],
    day: Annotated[str, Form(max_length=20)],
    hours: Annotated[str, Form(max_length=40)],
    place: Annotated[str, Form(max_length=200)],
) -> Response:
    """A session announced from the console (as an officer does with /lichmoi)."""
    commune = session.get(Commune, commune_id)
    now = _now(request)
    parsed_day = when.parse_day(day, when.vietnam_day(now))
    parsed_hours = when.parse_hours(hours)
    if commune is None or parsed_day is None or parsed_hours is None:
        raise HTTPException(status_code=400, detail="Cần xã, ngày (15/12) và giờ (7h30-11h).")
    draft = sessions.Draft(
        day=parsed_day, start=parsed_hours[0], end=parsed_hours[1], place=place.strip()
    )
    try:
        sessions.announce(session, commune=commune, draft=draft, by=user.name, now=now)
    except sessions.SessionError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return RedirectResponse("/admin/campaign?msg=announced", status_code=303)


@router.post("/campaign/sessions/{session_id}/cancel")
def cancel(request: Request, session: SessionDep, user: CurrentEditor, session_id: int) -> Response:
    """Cancel a session; its reminders are not sent."""
    if not sessions.cancel(session, session_id, commune_id=None, now=_now(request)):
        raise HTTPException(status_code=404, detail="Không thấy đợt này.")
    return RedirectResponse("/admin/campaign?msg=cancelled", status_code=303)
