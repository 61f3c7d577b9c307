"""Console pages for handoffs: officers work their commune's tickets; admins manage communes."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.concurrency import run_in_threadpool

from bot import audit
from bot.admin.csrf import console_router
from bot.admin.deps import ConsoleUser, CurrentDeskUser, CurrentEditor, CurrentOfficer
from bot.admin.pages import page
from bot.admin.spreadsheets import csv_response, csv_text
from bot.communes.models import Commune
from bot.communes.resolver import simplify
from bot.db import utcnow
from bot.dependencies import SessionDep
from bot.handoff import officers as officer_admin
from bot.handoff import service
from bot.handoff.models import ACTIVE_STATUSES, HandoffTicket, Officer, TicketMessage, TicketStatus

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
MAX_UPLOAD = 1_000_000


async def _read_csv(file: UploadFile, required: set[str]) -> list[dict[str, str]]:
    """The rows of an uploaded CSV (UTF-8, with or without BOM), trimmed; 400 when unusable."""
    raw = await file.read(MAX_UPLOAD + 1)
    if len(raw) > MAX_UPLOAD:
        raise HTTPException(status_code=400, detail="Tệp quá lớn (tối đa 1 MB).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HTTPException(
            status_code=400, detail="Tệp không phải CSV mã UTF-8 (lưu lại với mã UTF-8)."
        ) from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = required - set(reader.fieldnames or [])
    if missing:
        raise HTTPException(
            status_code=400, detail="Thiếu cột: " + ", ".join(sorted(missing)) + "."
        )
    return [{k: csv_text(v) for k, v in row.items() if k is not None} for row in reader]


def _all_or_nothing(session: SessionDep, errors: list[str]) -> None:
    """Nothing from the file is saved when any row is wrong; the first errors are shown."""
    if errors:
        session.rollback()
        raise HTTPException(status_code=400, detail="; ".join(errors[:10]))


def _officer(session: SessionDep, user: ConsoleUser) -> Officer | None:
    return session.get(Officer, user.officer_id) if user.officer_id else None


def _scope(session: SessionDep, user: ConsoleUser) -> tuple[Officer | None, Any]:
    query = select(HandoffTicket).options(selectinload(HandoffTicket.claimed_by))
    if user.role != "officer":
        return None, query
    officer = _officer(session, user)
    if officer is None or not officer.active:
        raise HTTPException(status_code=403, detail="Tài khoản cán bộ chưa gắn với xã nào.")
    if not officer.is_supervisor:
        query = query.where(HandoffTicket.commune_id == officer.commune_id)
    return officer, query


@router.get("/tickets", response_class=HTMLResponse)
def tickets(
    request: Request, session: SessionDep, user: CurrentDeskUser, status: str = "active"
) -> Response:
    """Tickets the user may see: an officer's commune, or all of them for admins."""
    _, query = _scope(session, user)
    if status == "active":
        query = query.where(HandoffTicket.status.in_(ACTIVE_STATUSES))
    elif status in {s.value for s in TicketStatus}:
        query = query.where(HandoffTicket.status == status)
    rows = session.scalars(query.order_by(HandoffTicket.id.desc()).limit(200)).all()
    return page(request, "admin_tickets.html", {"tickets": rows, "status": status})


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket(
    request: Request, session: SessionDep, user: CurrentDeskUser, ticket_id: int
) -> Response:
    """One ticket: what the citizen said, the conversation, the actions."""
    _, query = _scope(session, user)
    found = session.scalar(query.where(HandoffTicket.id == ticket_id))
    if found is None:
        raise HTTPException(status_code=404)
    messages = session.scalars(
        select(TicketMessage).where(TicketMessage.ticket_id == ticket_id).order_by(TicketMessage.id)
    ).all()
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
    officer, _ = _scope(session, user)
    assert officer is not None  # noqa: S101 - officer accounts always have one (checked above)
    now = utcnow()
    if action == "claim":
        result, _ = service.claim(session, ticket_id, officer, now=now)
    elif action == "close":
        result, _ = service.resolve(session, ticket_id, officer, note=text.strip() or None, now=now)
    elif action == "reply":
        found = session.get(HandoffTicket, ticket_id)
        if found is None or not text.strip():
            raise HTTPException(status_code=400, detail="Cần nội dung tin nhắn.")
        result = service.officer_reply(session, found, officer, text.strip(), now=now)
    else:
        raise HTTPException(status_code=404)
    audit.record(
        session,
        username=user.name,
        action=f"ticket_{action}",
        target=f"HT-{ticket_id:06d}",
        detail={"result": result.value},
    )
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
        {**_communes(session), "msg": request.query_params.get("msg")},
    )


def _communes(session: SessionDep) -> dict[str, Any]:
    """Communes (with former units), officers, and requests per commune."""
    demand: dict[int | None, int] = {}
    for commune_id in session.scalars(select(HandoffTicket.commune_id)):
        demand[commune_id] = demand.get(commune_id, 0) + 1
    return {
        "communes": session.scalars(
            select(Commune).options(selectinload(Commune.former_units)).order_by(Commune.name)
        ).all(),
        "officers": session.scalars(select(Officer).order_by(Officer.name)).all(),
        "demand": demand,
    }


@router.post("/communes/{commune_id}/group")
def set_group(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    commune_id: int,
    chat_id: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Send the commune's alerts to a Telegram group (empty: to each officer)."""
    commune = session.get(Commune, commune_id)
    if commune is None:
        raise HTTPException(status_code=404)
    try:
        commune.officer_chat_id = int(chat_id) if chat_id.strip() else None
    except ValueError as exc:
        raise HTTPException(status_code=400, detail="Mã nhóm Telegram là một số.") from exc
    audit.record(
        session,
        username=user.name,
        action="commune_group",
        target=commune.name,
        detail={"chat_id": commune.officer_chat_id},
    )
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
        )
    except officer_admin.OfficerError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    audit.record(session, username=user.name, action="officer_add", target=str(telegram_user_id))
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
        officer_admin.remove_officer(session, telegram_id=telegram_user_id)
    except officer_admin.OfficerError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    audit.record(session, username=user.name, action="officer_remove", target=str(telegram_user_id))
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
        for o in session.scalars(select(Officer).order_by(Officer.name))
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
    rows = await _read_csv(file, {"name", "telegram_user_id"})
    # the file is read: the database work runs in a worker thread, not on the event loop
    return await run_in_threadpool(_import_officers, session, user, rows)


def _import_officers(session: Session, user: ConsoleUser, rows: list[dict[str, str]]) -> Response:
    errors = []
    for i, row in enumerate(rows, start=2):
        try:
            officer = officer_admin.add_officer(
                session,
                name=row.get("name", ""),
                telegram_id=int(row.get("telegram_user_id") or ""),
                commune=row.get("commune") or None,
                supervisor=row.get("supervisor", "0").lower() in {"1", "true", "x", "có"},
            )
            officer.active = (row.get("active") or "1").lower() not in {"0", "false", "không"}
        except (officer_admin.OfficerError, ValueError) as exc:
            errors.append(f"dòng {i}: {exc}")
    _all_or_nothing(session, errors)
    audit.record(session, username=user.name, action="officer_import", detail={"rows": len(rows)})
    return RedirectResponse(f"/admin/communes?msg=imported-{len(rows)}", status_code=303)


@router.get("/export/communes.csv")
def export_communes(request: Request, session: SessionDep, user: CurrentEditor) -> Response:
    """Communes with their former units, alert group, officers and requests, as CSV."""
    page = _communes(session)
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


def _plain(name: str) -> str:
    """A place name as people may type it: any case, with or without diacritics or "tỉnh"."""
    text = simplify(name)
    for prefix in ("tinh ", "thanh pho ", "xa ", "phuong ", "dac khu "):
        text = text.removeprefix(prefix)
    return text


def _named(communes: Sequence[Commune], name: str, province: str) -> list[Commune]:
    """Communes called ``name`` (in ``province`` if given), however it was typed."""
    here = [c for c in communes if not province or _plain(c.province) == _plain(province)]
    exact = [c for c in here if c.name == name]
    return exact or [c for c in here if _plain(c.name) == _plain(name)]


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
    rows = await _read_csv(file, {"name", "officer_chat_id"})
    return await run_in_threadpool(_import_communes, session, user, rows)


def _import_communes(session: Session, user: ConsoleUser, rows: list[dict[str, str]]) -> Response:
    communes = session.scalars(select(Commune)).all()
    errors: list[str] = []
    changed: dict[str, int | None] = {}
    for i, row in enumerate(rows, start=2):
        found = _named(communes, row.get("name", ""), row.get("province", ""))
        if len(found) != 1:
            what = "không có xã/phường" if not found else "có nhiều nơi trùng tên, ghi thêm tỉnh:"
            errors.append(f"dòng {i}: {what} {row.get('name')!r}")
            continue
        chat = row.get("officer_chat_id", "")
        try:
            found[0].officer_chat_id = int(chat) if chat else None
        except ValueError:
            errors.append(f"dòng {i}: mã nhóm Telegram là một số, không phải {chat!r}")
            continue
        changed[found[0].name] = found[0].officer_chat_id
    _all_or_nothing(session, errors)
    audit.record(session, username=user.name, action="commune_import", detail={"groups": changed})
    return RedirectResponse(f"/admin/communes?msg=imported-{len(rows)}", status_code=303)
