"""Console pages about what citizens asked: the unanswered inbox, the dashboard, CSV."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.admin.csrf import console_router
from bot.admin.deps import CurrentEditor, CurrentReader
from bot.admin.pages import page
from bot.admin.spreadsheets import csv_response
from bot.analytics import service as analytics
from bot.db import utcnow
from bot.dependencies import SessionDep

router = console_router()


def _ids(raw: str) -> list[int]:
    try:
        return [int(x) for x in raw.split(",") if x.strip()]
    except ValueError as exc:
        raise HTTPException(status_code=400, detail="Danh sách không hợp lệ.") from exc


@router.get("/inbox", response_class=HTMLResponse)
def inbox(request: Request, session: SessionDep, user: CurrentReader) -> Response:
    """Questions the assistant could not answer well, grouped, most asked first."""
    groups = analytics.inbox(session)
    return page(
        request,
        "admin_inbox.html",
        {
            "groups": groups,
            "labels": analytics.labels(session),
            "done": request.query_params.get("done"),
        },
    )


@router.post("/inbox/assign")
def inbox_assign(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    ids: Annotated[str, Form(max_length=20000)],
    label: Annotated[str, Form(max_length=96)],
) -> Response:
    """The group's questions become training questions of a topic (used at the next training)."""
    try:
        analytics.assign(session, _ids(ids), label=label, username=user.name)
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return RedirectResponse("/admin/inbox?done=assign", status_code=303)


@router.post("/inbox/dismiss")
def inbox_dismiss(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    ids: Annotated[str, Form(max_length=20000)],
) -> Response:
    """Nothing to learn from these: they leave the inbox."""
    analytics.discard(session, _ids(ids), username=user.name)
    return RedirectResponse("/admin/inbox?done=dismiss", status_code=303)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, session: SessionDep, user: CurrentReader) -> Response:
    """Conversations, topics, fallback rate, handoffs and their times."""
    figures = analytics.dashboard(session, now=utcnow())
    peak = max([d["messages"] for d in figures["per_day"]] + [1])
    top = max([n for _, n in figures["topics"]] + [1])
    return page(request, "admin_dashboard.html", {"f": figures, "peak": peak, "top": top})


@router.get("/export/{table}.csv")
def export(request: Request, session: SessionDep, user: CurrentReader, table: str) -> Response:
    """Each dashboard table, and the unanswered inbox, as CSV."""
    rows: list[dict[str, Any]]
    if table == "unanswered":
        rows = [
            {"question": g.text, "count": g.count, "model_guess": g.guess}
            for g in analytics.inbox(session)
        ]
    elif table in {"per_day", "topics", "handoffs"}:
        figures = analytics.dashboard(session, now=utcnow())
        if table == "topics":
            titles = figures["titles"]
            rows = [
                {"topic": k, "title": titles.get(k, ""), "messages": n}
                for k, n in figures["topics"]
            ]
        else:
            rows = figures[table]
    else:
        raise HTTPException(status_code=404)
    return csv_response(rows, list(rows[0]) if rows else ["empty"], f"{table}.csv")
