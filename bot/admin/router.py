"""Admin console: log in, edit the texts citizens see (live at once), revert, audit."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot import audit
from bot.accounts import service as accounts_service
from bot.admin import content
from bot.admin.csrf import console_router
from bot.admin.deps import ConsoleUser, CurrentDeskUser, CurrentEditor, CurrentReader, remember
from bot.admin.pages import client_ip, page
from bot.analytics.models import TrainingQuestion
from bot.db import utcnow
from bot.dependencies import SessionDep
from bot.faq import service as faq_service
from bot.faq.models import FaqEntry, ResponseTemplate

router = console_router()
_THROTTLED = "Đăng nhập sai quá nhiều lần. Bạn thử lại sau 15 phút."


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep, user: CurrentDeskUser) -> Response:
    """Every text citizens see, with links to edit them (officers go to their tickets)."""
    if user.role == "officer":
        return RedirectResponse("/admin/tickets", status_code=303)
    entries, responses = content.catalogue(session)
    return page(request, "admin_faq.html", {"entries": entries, "responses": responses})


# --- new topics -------------------------------------------------------------------------
@router.get("/topics/new", response_class=HTMLResponse)
def topic_form(request: Request, user: CurrentEditor, q: str = "", ids: str = "") -> Response:
    """A new topic (optionally from an inbox group: its questions come along)."""
    return page(
        request, "admin_topic.html", {"questions": q, "ids": ids, "error": None, "form": {}}
    )


@router.post("/topics", response_class=HTMLResponse)
def topic_create(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    key: Annotated[str, Form(max_length=64)],
    title: Annotated[str, Form(max_length=200)],
    answer: Annotated[str, Form(max_length=5000)],
    questions: Annotated[str, Form(max_length=100_000)],
    ids: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    """Create the topic: its answer is live at once, its questions need the next training."""
    lines = [q for q in questions.splitlines() if q.strip()]
    try:
        turn_ids = [int(x) for x in ids.split(",") if x.strip()]
        entry = content.create_topic(
            session,
            key=key,
            title=title,
            answer=answer,
            questions=lines,
            turn_ids=turn_ids,
            username=user.name,
        )
    except ValueError as exc:  # workspace.TopicError, a malformed id, the seed file's checks
        session.rollback()
        form = {"key": key, "title": title, "answer": answer}
        return page(
            request,
            "admin_topic.html",
            {"questions": questions, "ids": ids, "error": str(exc), "form": form},
            status_code=400,
        )
    return RedirectResponse(f"/admin/faq/{entry.key}?saved=1", status_code=303)


# --- editing --------------------------------------------------------------------------
@router.get("/faq/{key}", response_class=HTMLResponse)
def faq_form(request: Request, session: SessionDep, user: CurrentReader, key: str) -> Response:
    """A topic's answer: form, previews on each channel, history."""
    entry = content.topic(session, key)
    if entry is None:
        raise HTTPException(status_code=404)
    return _edit_page(request, session, entry=entry)


@router.post("/faq/{key}", response_class=HTMLResponse)
def faq_save(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    key: str,
    title: Annotated[str, Form(max_length=200)],
    answer: Annotated[str, Form(max_length=5000)],
) -> Response:
    """Save a topic's answer; citizens get it on their next message."""
    try:
        content.edit_faq(session, key, title=title, answer=answer, username=user.name)
    except content.ContentError as exc:
        session.rollback()
        entry = content.topic(session, key)
        if entry is None:
            raise HTTPException(status_code=404) from exc
        return _edit_page(request, session, entry=entry, error=str(exc), status_code=400)
    return RedirectResponse(f"/admin/faq/{key}?saved=1", status_code=303)


@router.post("/faq/{key}/questions")
def faq_add_questions(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    key: str,
    questions: Annotated[str, Form(max_length=100_000)],
) -> Response:
    """Add example questions to a topic (one per line); they count from the next training."""
    try:
        added = content.add_questions(session, key, questions.splitlines(), username=user.name)
    except content.ContentError as exc:
        raise HTTPException(status_code=404) from exc
    return RedirectResponse(f"/admin/faq/{key}?added={added}#questions", status_code=303)


@router.post("/questions/{question_id}/delete")
def delete_question(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    question_id: int,
) -> Response:
    """Remove an example question added in the console (a mistake)."""
    try:
        key = content.delete_question(session, question_id, username=user.name)
    except content.ContentError as exc:
        raise HTTPException(status_code=404) from exc
    return RedirectResponse(f"/admin/faq/{key}#questions", status_code=303)


@router.get("/responses/{name}", response_class=HTMLResponse)
def response_form(
    request: Request, session: SessionDep, user: CurrentReader, name: str
) -> Response:
    """A bot text and its button labels."""
    template = content.template(session, name)
    if template is None:
        raise HTTPException(status_code=404)
    return _edit_page(request, session, template=template)


@router.post("/responses/{name}", response_class=HTMLResponse)
async def response_save(
    request: Request, session: SessionDep, user: CurrentEditor, name: str
) -> Response:
    """Save a bot text and its button labels."""
    form = await request.form()
    text, titles = str(form.get("text", "")), [str(v) for v in form.getlist("button")]
    # the form is read: the database work runs in a worker thread, not on the event loop
    return await run_in_threadpool(_save_response, request, session, user, name, text, titles)


def _save_response(
    request: Request,
    session: Session,
    user: ConsoleUser,
    name: str,
    text: str,
    titles: list[str],
) -> Response:
    try:
        content.edit_response(
            session,
            name,
            text=text,
            button_titles=titles,
            username=user.name,
        )
    except content.ContentError as exc:
        session.rollback()
        template = content.template(session, name)
        if template is None:
            raise HTTPException(status_code=404) from exc
        return _edit_page(request, session, template=template, error=str(exc), status_code=400)
    return RedirectResponse(f"/admin/responses/{name}?saved=1", status_code=303)


@router.post("/revisions/{revision_id}/revert")
def revert(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    revision_id: int,
) -> Response:
    """Put a text back as it was before a change."""
    try:
        revision = content.revert(session, revision_id, username=user.name)
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
        questions = content.questions_of(session, entry.key)
    else:
        assert template is not None  # noqa: S101 - one of the two is given
        target, text, buttons = (
            f"{content.RESPONSE}:{template.name}",
            template.text,
            template.buttons,
        )
    return page(
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
def audit_log(request: Request, session: SessionDep, user: CurrentEditor) -> Response:
    """The latest console actions."""
    return page(request, "admin_audit.html", {"rows": audit.recent(session)})


# --- sessions ------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    """Show the login form."""
    return page(request, "admin_login.html", {"error": None})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> Response:
    """Check the password (with throttling) and open a session."""
    account = accounts_service.log_in(
        session, username=username, password=password, ip=client_ip(request), now=utcnow()
    )
    if isinstance(account, accounts_service.Refused):
        throttled = account is accounts_service.Refused.THROTTLED
        error = _THROTTLED if throttled else "Sai tên đăng nhập hoặc mật khẩu."
        return page(
            request, "admin_login.html", {"error": error}, status_code=429 if throttled else 401
        )
    remember(request, account, accounts_service.open_session(session, account, now=utcnow()))
    return RedirectResponse("/admin/", status_code=303)


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    """Close the session."""
    user = request.session.get("user") or {}
    accounts_service.log_out(
        session, sid=user.get("sid"), username=user.get("name"), ip=client_ip(request)
    )
    request.session.clear()
    return RedirectResponse("/admin/login", status_code=303)
