"""Console pages for handoffs: officers work their commune's tickets; admins manage communes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot.admin.csrf import console_router
from bot.admin.deps import ConsoleUser, CurrentDeskUser, CurrentEditor, CurrentOfficer
from bot.admin.pages import page
from bot.admin.spreadsheets import csv_response, read_csv_upload
from bot.db import utcnow
from bot.dependencies import SessionDep
from bot.handoff import officers as officer_admin
from bot.handoff import service, views
from bot.handoff.models import Officer

router = console_router()

_RESULTS = {
    service.ActResult.DONE: "Đã xong.",
    service.ActResult.TAKEN: "Yêu cầu này đã có cán bộ khác nhận.",
    service.ActResult.CLOSED: "Yêu cầu này đã đóng.",
    service.ActResult.FORBIDDEN: "Yêu cầu này không thuộc xã của bạn.",
    service.ActResult.UNKNOWN: "Không tìm thấy yêu cầu này.",
    service.ActResult.LATE: "Đã gửi, nhưng đã quá 48 giờ từ tin cuối của người dân (Zalo).",
}
OFFICER_FIELDS = ["name", "telegram_user_id", "commune", "supervisor", "active"]
COMMUNE_FIELDS = [
    "province",
    "unit_type",
    "name",
    "officer_chat_id",
    "former_units",
    "active_officers",
    "requests",
]


def _officer(session: SessionDep, user: ConsoleUser) -> Officer | None:
    """The officer an officer account acts as (403 when gone); None for admins."""
    if user.role != "officer":
        return None
    try:
        return views.desk_officer(session, user.officer_id)
    except views.NotAnOfficerError as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from exc


@router.get("/tickets", response_class=HTMLResponse)
def tickets(
    request: Request, session: SessionDep, user: CurrentDeskUser, status: str = "active"
) -> Response:
    """Tickets the user may see: an officer's commune, or all of them for admins."""
    rows = views.tickets_for(session, _officer(session, user), status)
    return page(request, "admin_tickets.html", {"tickets": rows, "status": status})


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket(
    request: Request, session: SessionDep, user: CurrentDeskUser, ticket_id: int
) -> Response:
    """One ticket: what the citizen said, the conversation, the actions."""
    shown = views.ticket_for(session, _officer(session, user), ticket_id)
    if shown is None:
        raise HTTPException(status_code=404)
    found, messages = shown
    return page(
        request,
        "admin_ticket.html",
        {"t": found, "messages": messages, "result": request.query_params.get("result")},
    )


@router.post("/tickets/{ticket_id}/{action}")
def act(
    request: Request,
    session: SessionDep,
    user: CurrentOfficer,
    ticket_id: int,
    action: str,
    text: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Claim, reply or close: the same actions as on Telegram, for officer accounts."""
    officer = _officer(session, user)
    if officer is None:  # CurrentOfficer lets in officer accounts only
        raise HTTPException(status_code=403)
    try:
        result = service.act_from_console(
            session, ticket_id, officer, action, text, by=user.name, now=utcnow()
        )
    except LookupError as exc:
        raise HTTPException(status_code=404) from exc
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    outbox = getattr(request.app.state, "outbox", None)
    if outbox is not None:
        outbox.wake()
    return RedirectResponse(f"/admin/tickets/{ticket_id}?result={result.value}", status_code=303)


# --- communes and officers (admins) ----------------------------------------------------------
@router.get("/communes", response_class=HTMLResponse)
def communes(request: Request, session: SessionDep, user: CurrentEditor) -> Response:
    """Communes with their former units, alert group and officers."""
    return page(
        request,
        "admin_communes.html",
        {**views.directory(session), "msg": request.query_params.get("msg")},
    )


@router.post("/communes/{commune_id}/group")
def set_group(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    commune_id: int,
    chat_id: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Send the commune's alerts to a Telegram group (empty: to each officer)."""
    try:
        officer_admin.set_commune_group(session, commune_id, chat_id, by=user.name)
    except LookupError as exc:
        raise HTTPException(status_code=404) from exc
    except officer_admin.OfficerError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return RedirectResponse("/admin/communes?msg=saved", status_code=303)


@router.post("/officers")
def add_officer(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    name: Annotated[str, Form(min_length=2, max_length=120)],
    telegram_user_id: Annotated[int, Form()],
    commune: Annotated[str, Form(max_length=80)] = "",
    supervisor: Annotated[bool, Form()] = False,
) -> Response:
    """Add or update an officer (linked to their Telegram account)."""
    try:
        officer_admin.add_officer(
            session,
            name=name,
            telegram_id=telegram_user_id,
            commune=commune or None,
            supervisor=supervisor,
            by=user.name,
        )
    except officer_admin.OfficerError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return RedirectResponse("/admin/communes?msg=saved", status_code=303)


@router.post("/officers/{telegram_user_id}/remove")
def remove_officer(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    telegram_user_id: int,
) -> Response:
    """Deactivate an officer (kept for the record)."""
    try:
        officer_admin.remove_officer(session, telegram_id=telegram_user_id, by=user.name)
    except officer_admin.OfficerError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return RedirectResponse("/admin/communes?msg=saved", status_code=303)


@router.get("/export/officers.csv")
def export_officers(request: Request, session: SessionDep, user: CurrentEditor) -> Response:
    """Officers as CSV (the same columns the import takes)."""
    rows = [
        {
            "name": o.name,
            "telegram_user_id": o.telegram_user_id,
            "commune": o.commune.name if o.commune else "",
            "supervisor": "1" if o.is_supervisor else "0",
            "active": "1" if o.active else "0",
        }
        for o in officer_admin.all_officers(session)
    ]
    return csv_response(rows, OFFICER_FIELDS, "officers.csv")


@router.post("/officers/import")
async def import_officers(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Add or update officers from a CSV; nothing is saved if any row is wrong."""
    rows = await read_csv_upload(file, {"name", "telegram_user_id"})
    # the file is read: the database work runs in a worker thread, not on the event loop
    return await run_in_threadpool(_import, officer_admin.import_officers, session, user, rows)


def _import(
    importer: Callable[..., int], session: Session, user: ConsoleUser, rows: list[dict[str, str]]
) -> Response:
    """Run an all-or-nothing import; its refused lines become the 400's message."""
    try:
        count = importer(session, rows, by=user.name)
    except officer_admin.ImportRefusedError as exc:
        session.rollback()
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return RedirectResponse(f"/admin/communes?msg=imported-{count}", status_code=303)


@router.get("/export/communes.csv")
def export_communes(request: Request, session: SessionDep, user: CurrentEditor) -> Response:
    """Communes with their former units, alert group, officers and requests, as CSV."""
    page = views.directory(session)
    rows = [
        {
            "province": c.province,
            "unit_type": c.unit_type,
            "name": c.name,
            "officer_chat_id": c.officer_chat_id if c.officer_chat_id is not None else "",
            "former_units": "; ".join(f.name for f in c.former_units),
            "active_officers": sum(
                1 for o in page["officers"] if o.commune_id == c.id and o.active
            ),
            "requests": page["demand"].get(c.id, 0),
        }
        for c in page["communes"]
    ]
    return csv_response(rows, COMMUNE_FIELDS, "communes.csv")


@router.post("/communes/import")
async def import_communes(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Set each commune's Telegram alert group from a CSV (the export's columns).

    Communes are the official list (seed data); the file changes only ``officer_chat_id``
    (empty: alerts go to each officer). Rows are found by name, and by province as well
    when one is given. Nothing is saved if any row is wrong.
    """
    rows = await read_csv_upload(file, {"name", "officer_chat_id"})
    return await run_in_threadpool(
        _import, officer_admin.import_commune_groups, session, user, rows
    )
