"""Console accounts (admins): create with a one-time password, reset it, remove.

The rules and the audit are the accounts service's (``bot.accounts.service``); these routes
read the form and show the page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.accounts import service as accounts_service
from bot.admin.csrf import console_router
from bot.admin.deps import CurrentEditor
from bot.admin.pages import page
from bot.dependencies import SessionDep

router = console_router()

ROLE_TEXT = {"admin": "Quản trị", "viewer": "Chỉ xem", "officer": "Cán bộ xã"}


def _list(request: Request, session: SessionDep, **extra: object) -> Response:
    accounts, officers = accounts_service.listing(session)
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
    try:
        account, password = accounts_service.add_account(
            session, username=username, role=role, officer_id=officer_id, by=user.name
        )
    except accounts_service.AccountError as exc:
        session.rollback()
        return _list(request, session, error=str(exc))
    return _list(request, session, created={"username": account.username, "password": password})


@router.post("/accounts/{account_id}/reset", response_class=HTMLResponse)
def reset(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    account_id: int,
) -> Response:
    """Give an account a new one-time password (the old one stops working)."""
    try:
        account, password = accounts_service.reset_account(session, account_id, by=user.name)
    except LookupError as exc:
        raise HTTPException(status_code=404) from exc
    return _list(request, session, created={"username": account.username, "password": password})


@router.post("/accounts/{account_id}/remove")
def remove(
    request: Request,
    session: SessionDep,
    user: CurrentEditor,
    account_id: int,
) -> Response:
    """Remove an account (not one's own: an admin always remains); its sessions end."""
    try:
        accounts_service.remove_account(session, account_id, by_id=user.id, by=user.name)
    except LookupError as exc:
        raise HTTPException(status_code=404) from exc
    except accounts_service.AccountError as exc:
        return _list(request, session, error=str(exc))
    return RedirectResponse("/admin/accounts", status_code=303)
