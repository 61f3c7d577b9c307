"""Admin console: log in, see the answers served to citizens."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from bot.accounts import service as accounts_service
from bot.admin.csrf import check_csrf, csrf_token
from bot.dependencies import SessionDep
from bot.faq.models import FaqEntry

router = APIRouter(prefix="/admin", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "web" / "templates")


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> Response:
    """Show the FAQ answers, or the login form."""
    user = request.session.get("user")
    if not user:
        return RedirectResponse("/admin/login", status_code=303)
    entries = session.scalars(select(FaqEntry).order_by(FaqEntry.key)).all()
    return templates.TemplateResponse(
        request, "admin_faq.html", {"user": user, "entries": entries, "csrf": csrf_token(request)}
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    """Show the login form."""
    return templates.TemplateResponse(
        request, "admin_login.html", {"csrf": csrf_token(request), "error": None}
    )


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf: Annotated[str, Form(max_length=128)],
) -> Response:
    """Check the password and open a session."""
    check_csrf(request, csrf)
    account = accounts_service.authenticate(session=session, username=username, password=password)
    if account is None:
        return templates.TemplateResponse(
            request,
            "admin_login.html",
            {"csrf": csrf_token(request), "error": "Sai tên đăng nhập hoặc mật khẩu."},
            status_code=401,
        )
    request.session.clear()
    request.session["user"] = {"id": account.id, "name": account.username, "role": account.role}
    return RedirectResponse("/admin/", status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=128)]) -> Response:
    """Close the session."""
    check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/admin/login", status_code=303)
