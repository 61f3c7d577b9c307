"""Admin console: log in, edit the texts citizens see (live at once), revert, audit."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot.accounts import service as accounts_service
from bot.accounts.models import UserAccount
from bot.admin import content
from bot.admin.csrf import console_router, csrf_token
from bot.admin.models import AuditEntry
from bot.analytics import service as analytics
from bot.analytics.models import TrainingQuestion
from bot.db import local_time, session_scope, utcnow
from bot.dependencies import SessionDep
from bot.faq import service as faq_service
from bot.faq.models import FaqEntry, ResponseTemplate
from bot.modelops import workspace

router = console_router()
templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "web" / "templates")
# Times in the console are Vietnam's (stored in UTC): {{ r.created_at | local }}
templates.env.filters["local"] = lambda value, fmt="%d/%m/%Y %H:%M": (
    local_time(value).strftime(fmt) if value else ""
)

EDITORS = {"admin"}
READERS = {"admin", "viewer"}
_THROTTLED = "Đăng nhập sai quá nhiều lần. Bạn thử lại sau 15 phút."


def _stamp(account: UserAccount) -> str:
    """Changes when the password does: a reset ends the account's other sessions."""
    return hashlib.sha256(account.password_hash.encode()).hexdigest()[:16]


def _still_valid(request: Request, user: dict[str, Any]) -> bool:
    """The account still exists, with this role and password (the request's own session)."""
    session = getattr(request.state, "db", None)
    if session is None:  # a route without a database session
        with session_scope(request.app.state.session_factory) as own:
            return _matches(own.get(UserAccount, user.get("id")), user)
    return _matches(session.get(UserAccount, user.get("id")), user)


def _matches(account: UserAccount | None, user: dict[str, Any]) -> bool:
    return (
        account is not None
        and account.role == user.get("role")
        and _stamp(account) == user.get("stamp")
    )


def _user(request: Request, roles: set[str]) -> dict[str, Any]:
    user = request.session.get("user")
    if not user or not _still_valid(request, user):  # removed, role or password changed
        request.session.clear()
        raise HTTPException(status_code=303, headers={"Location": "/admin/login"})
    if user.get("role") not in roles:
        raise HTTPException(status_code=403, detail="Tài khoản này không có quyền làm việc này.")
    return dict(user)


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    context = {"csrf": csrf_token(request), "user": request.session.get("user"), **context}
    return templates.TemplateResponse(request, name, context, status_code=status_code)


_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def csv_cell(value: Any) -> Any:
    """A cell a spreadsheet shows as text: citizens' words like "=HYPERLINK(...)" stay inert.

    Numbers (a Telegram group id such as -100123) are left as they are.
    """
    if isinstance(value, str) and value.startswith(_FORMULA) and not _NUMBER.match(value):
        return "'" + value
    return value


def csv_text(value: str | None) -> str:
    """A cell read back from a CSV: trimmed, without the quote ``csv_cell`` added."""
    text = (value or "").strip()
    if text.startswith("'") and text[1:].startswith(_FORMULA):
        text = text[1:]
    return text


def csv_response(rows: list[dict[str, Any]], fieldnames: list[str], filename: str) -> Response:
    """Rows as a CSV download (UTF-8 with BOM, so spreadsheet programs read Vietnamese)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=fieldnames)
    writer.writeheader()
    writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> Response:
    """Every text citizens see, with links to edit them (officers go to their tickets)."""
    if (request.session.get("user") or {}).get("role") == "officer":
        return RedirectResponse("/admin/tickets", status_code=303)
    _user(request, READERS)
    entries = session.scalars(select(FaqEntry).order_by(FaqEntry.title)).all()
    responses = session.scalars(select(ResponseTemplate).order_by(ResponseTemplate.name)).all()
    return _page(request, "admin_faq.html", {"entries": entries, "responses": responses})


# --- new topics -------------------------------------------------------------------------
@router.get("/topics/new", response_class=HTMLResponse)
def topic_form(request: Request, q: str = "", ids: str = "") -> Response:
    """A new topic (optionally from an inbox group: its questions come along)."""
    _user(request, EDITORS)
    return _page(
        request, "admin_topic.html", {"questions": q, "ids": ids, "error": None, "form": {}}
    )


@router.post("/topics", response_class=HTMLResponse)
def topic_create(
    request: Request,
    session: SessionDep,
    key: Annotated[str, Form(max_length=64)],
    title: Annotated[str, Form(max_length=200)],
    answer: Annotated[str, Form(max_length=5000)],
    questions: Annotated[str, Form(max_length=100_000)],
    ids: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    """Create the topic: its answer is live at once, its questions need the next training."""
    user = _user(request, EDITORS)
    lines = [q for q in questions.splitlines() if q.strip()]
    try:
        entry = workspace.create_topic(
            session, key=key, title=title, answer=answer, questions=lines, username=user["name"]
        )
        turn_ids = [int(x) for x in ids.split(",") if x.strip()]
    except (workspace.TopicError, ValueError) as exc:
        session.rollback()
        form = {"key": key, "title": title, "answer": answer}
        return _page(
            request,
            "admin_topic.html",
            {"questions": questions, "ids": ids, "error": str(exc), "form": form},
            status_code=400,
        )
    if turn_ids:
        analytics.dismiss(session, turn_ids)
    content.audit(session, username=user["name"], action="topic_create", target=f"faq:{entry.key}")
    return RedirectResponse(f"/admin/faq/{entry.key}?saved=1", status_code=303)


# --- editing --------------------------------------------------------------------------
@router.get("/faq/{key}", response_class=HTMLResponse)
def faq_form(request: Request, session: SessionDep, key: str) -> Response:
    """A topic's answer: form, previews on each channel, history."""
    _user(request, READERS)
    entry = session.scalar(select(FaqEntry).where(FaqEntry.key == key))
    if entry is None:
        raise HTTPException(status_code=404)
    return _edit_page(request, session, entry=entry)


@router.post("/faq/{key}", response_class=HTMLResponse)
def faq_save(
    request: Request,
    session: SessionDep,
    key: str,
    title: Annotated[str, Form(max_length=200)],
    answer: Annotated[str, Form(max_length=5000)],
) -> Response:
    """Save a topic's answer; citizens get it on their next message."""
    user = _user(request, EDITORS)
    try:
        content.edit_faq(session, key, title=title, answer=answer, username=user["name"])
    except content.ContentError as exc:
        session.rollback()
        entry = session.scalar(select(FaqEntry).where(FaqEntry.key == key))
        if entry is None:
            raise HTTPException(status_code=404) from exc
        return _edit_page(request, session, entry=entry, error=str(exc), status_code=400)
    return RedirectResponse(f"/admin/faq/{key}?saved=1", status_code=303)


@router.post("/faq/{key}/questions")
def faq_add_questions(
    request: Request,
    session: SessionDep,
    key: str,
    questions: Annotated[str, Form(max_length=100_000)],
) -> Response:
    """Add example questions to a topic (one per line); they count from the next training."""
    user = _user(request, EDITORS)
    if session.scalar(select(FaqEntry.id).where(FaqEntry.key == key)) is None:
        raise HTTPException(status_code=404)
    added = analytics.add_questions(
        session, f"faq/{key}", questions.splitlines(), username=user["name"]
    )
    content.audit(
        session,
        username=user["name"],
        action="questions_add",
        target=f"faq:{key}",
        detail={"added": added},
    )
    return RedirectResponse(f"/admin/faq/{key}?added={added}#questions", status_code=303)


@router.post("/questions/{question_id}/delete")
def delete_question(
    request: Request,
    session: SessionDep,
    question_id: int,
) -> Response:
    """Remove an example question added in the console (a mistake)."""
    user = _user(request, EDITORS)
    question = session.get(TrainingQuestion, question_id)
    if question is None:
        raise HTTPException(status_code=404)
    session.delete(question)
    content.audit(
        session,
        username=user["name"],
        action="question_delete",
        target=question.label,
        detail={"text": question.text},
    )
    key = question.label.removeprefix("faq/")
    return RedirectResponse(f"/admin/faq/{key}#questions", status_code=303)


@router.get("/responses/{name}", response_class=HTMLResponse)
def response_form(request: Request, session: SessionDep, name: str) -> Response:
    """A bot text and its button labels."""
    _user(request, READERS)
    template = session.scalar(select(ResponseTemplate).where(ResponseTemplate.name == name))
    if template is None:
        raise HTTPException(status_code=404)
    return _edit_page(request, session, template=template)


@router.post("/responses/{name}", response_class=HTMLResponse)
async def response_save(request: Request, session: SessionDep, name: str) -> Response:
    """Save a bot text and its button labels."""
    form = await request.form()
    text, titles = str(form.get("text", "")), [str(v) for v in form.getlist("button")]
    # the form is read: the database work runs in a worker thread, not on the event loop
    return await run_in_threadpool(_save_response, request, session, name, text, titles)


def _save_response(
    request: Request, session: Session, name: str, text: str, titles: list[str]
) -> Response:
    user = _user(request, EDITORS)
    try:
        content.edit_response(
            session,
            name,
            text=text,
            button_titles=titles,
            username=user["name"],
        )
    except content.ContentError as exc:
        session.rollback()
        template = session.scalar(select(ResponseTemplate).where(ResponseTemplate.name == name))
        if template is None:
            raise HTTPException(status_code=404) from exc
        return _edit_page(request, session, template=template, error=str(exc), status_code=400)
    return RedirectResponse(f"/admin/responses/{name}?saved=1", status_code=303)


@router.post("/revisions/{revision_id}/revert")
def revert(
    request: Request,
    session: SessionDep,
    revision_id: int,
) -> Response:
    """Put a text back as it was before a change."""
    user = _user(request, EDITORS)
    try:
        revision = content.revert(session, revision_id, username=user["name"])
    except content.ContentError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    kind, _, name = revision.target.partition(":")
    path = f"/admin/faq/{name}" if kind == content.FAQ else f"/admin/responses/{name}"
    return RedirectResponse(f"{path}?reverted=1", status_code=303)


def _edit_page(
    request: Request,
    session: SessionDep,
    *,
    entry: FaqEntry | None = None,
    template: ResponseTemplate | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    questions: list[TrainingQuestion] = []
    if entry is not None:
        first = faq_service.render_response(session=session, name=f"utter_faq/{entry.key}")
        target, text, buttons = (
            f"{content.FAQ}:{entry.key}",
            first.text,  # the first screen; "Xem thêm" shows the next
            [b.model_dump() for b in first.buttons],
        )
        questions = list(
            session.scalars(
                select(TrainingQuestion)
                .where(TrainingQuestion.label == f"faq/{entry.key}")
                .order_by(TrainingQuestion.id)
            )
        )
    else:
        assert template is not None  # noqa: S101 - one of the two is given
        target, text, buttons = (
            f"{content.RESPONSE}:{template.name}",
            template.text,
            template.buttons,
        )
    return _page(
        request,
        "admin_edit.html",
        {
            "entry": entry,
            "template": template,
            "previews": content.previews(text, buttons),
            "history": content.history(session, target),
            "error": error,
            "saved": request.query_params.get("saved"),
            "reverted": request.query_params.get("reverted"),
            "added": request.query_params.get("added"),
            "questions": questions,
        },
        status_code=status_code,
    )


@router.get("/audit", response_class=HTMLResponse)
def audit_log(request: Request, session: SessionDep) -> Response:
    """The latest console actions."""
    _user(request, EDITORS)
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(200)).all()
    return _page(request, "admin_audit.html", {"rows": rows})


# --- sessions ------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    """Show the login form."""
    return _page(request, "admin_login.html", {"error": None})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> Response:
    """Check the password (with throttling) and open a session."""
    ip = _ip(request)
    if content.login_blocked(session, username=username, ip=ip, now=utcnow()):
        content.audit(session, username=username, action="login_throttled", ip=ip)
        return _page(request, "admin_login.html", {"error": _THROTTLED}, status_code=429)
    account = accounts_service.authenticate(session=session, username=username, password=password)
    if account is None:
        content.audit(session, username=username, action="login_failed", ip=ip)
        return _page(
            request,
            "admin_login.html",
            {"error": "Sai tên đăng nhập hoặc mật khẩu."},
            status_code=401,
        )
    content.audit(session, username=account.username, action="login", ip=ip)
    request.session.clear()
    request.session["user"] = {
        "id": account.id,
        "name": account.username,
        "role": account.role,
        "officer_id": account.officer_id,
        "stamp": _stamp(account),
    }
    return RedirectResponse("/admin/", status_code=303)


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    """Close the session."""
    user = request.session.get("user") or {}
    content.audit(session, username=user.get("name"), action="logout", ip=_ip(request))
    request.session.clear()
    return RedirectResponse("/admin/login", status_code=303)
