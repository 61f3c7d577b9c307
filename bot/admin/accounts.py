"""Console accounts (admins): create with a one-time password, reset it, remove."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from bot.accounts import service as accounts_service
from bot.accounts.models import UserAccount
from bot.admin import content
from bot.admin.csrf import console_router
from bot.admin.deps import CurrentEditor
from bot.admin.pages import page
from bot.dependencies import SessionDep
from bot.handoff.models import Officer

router = console_router()

ROLE_TEXT = {"admin": "Quản trị", "viewer": "Chỉ xem", "officer": "Cán bộ xã"}


def _one_time_password() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, shown once


def _list(request: Request, session: SessionDep, **extra: object) -> Response:
    accounts = session.scalars(select(UserAccount).order_by(UserAccount.username)).all()
    officers = session.scalars(
        select(Officer).where(Officer.active.is_(True)).order_by(Officer.name)
    ).all()
    return page(
        request,
        "admin_accounts.html",
        {
            "accounts": accounts,
            "officers": officers,
            "by_id": {o.id: o for o in officers},
            "roles": ROLE_TEXT,
            "error": None,
            "created": None,
            **extra,
        },
        status_code=400 if extra.get("error") else 200,
    )


def _account(session: SessionDep, account_id: int) -> UserAccount:
    account = session.get(UserAccount, account_id)
    if account is None:
        raise HTTPException(status_code=404)
    return account


@router.get("/accounts", response_class=HTMLResponse)
def accounts(request: Request, session: SessionDep, user: CurrentEditor) -> Response:
    """Who can log in to the console, and with which role."""
    return _list(request, session)


@router.post("/accounts", response_class=HTMLResponse)
def create(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[str, Form(max_length=16)],
    officer_id: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Create an account; its password is shown once, to hand over in person."""
    username = username.strip().lower()
    if not username.replace("_", "").replace(".", "").isalnum() or len(username) < 3:
        return _list(request, session, error="Tên đăng nhập: 3–64 chữ, số, dấu chấm hoặc _.")
    if session.scalar(select(UserAccount.id).where(UserAccount.username == username)):
        return _list(request, session, error=f"Đã có tài khoản {username}.")
    linked = int(officer_id) if role == "officer" and officer_id.isdigit() else None
    if role == "officer" and (linked is None or session.get(Officer, linked) is None):
        return _list(request, session, error="Tài khoản cán bộ phải gắn với một cán bộ xã.")
    password = _one_time_password()
    try:
        accounts_service.create_account(
            session=session, username=username, password=password, role=role, officer_id=linked
        )
    except ValueError as exc:
        session.rollback()
        return _list(request, session, error=str(exc))
    content.audit(
        session,
        username=user.name,
        action="account_create",
        target=username,
        detail={"role": role, "officer_id": linked},
    )
    return _list(request, session, created={"username": username, "password": password})


@router.post("/accounts/{account_id}/reset", response_class=HTMLResponse)
def reset(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    account_id: int,
) -> Response:
    """Give an account a new one-time password (the old one stops working)."""
    account = _account(session, account_id)
    password = _one_time_password()
    accounts_service.set_password(account, password)
    content.audit(session, username=user.name, action="account_reset", target=account.username)
    return _list(request, session, created={"username": account.username, "password": password})


@router.post("/accounts/{account_id}/remove")
def remove(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    account_id: int,
) -> Response:
    """Remove an account (not one's own: an admin always remains); its sessions end."""
    account = _account(session, account_id)
    if account.id == user.id:
        return _list(request, session, error="Không tự xoá tài khoản đang dùng.")
    content.audit(session, username=user.name, action="account_remove", target=account.username)
    session.delete(account)
    return RedirectResponse("/admin/accounts", status_code=303)
