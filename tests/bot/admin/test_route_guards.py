"""Every console route, found from the routers themselves: pages need a login, every
request that changes something needs the session's CSRF token, logged in or not, and each
route lets in only the roles it names (read from its dependencies)."""

from __future__ import annotations

import importlib
import re

import pytest
from sqlalchemy import select

from bot.accounts import service as accounts_service
from bot.admin.deps import roles_of
from bot.communes.models import Commune
from bot.db import session_scope
from bot.handoff.models import Officer
from tests.auxil.console import csrf_of, log_in, make_admin

MODULES = (
    "bot.admin.router",
    "bot.admin.desk",
    "bot.admin.insights",
    "bot.admin.campaign",
    "bot.admin.accounts",
    "bot.modelops.router",
)
FOUND = {
    (method, route.path): route
    for name in MODULES
    for route in importlib.import_module(name).router.routes
    for method in route.methods
}
ROUTES = sorted(FOUND)
PUBLIC = {("GET", "/admin/login"), ("POST", "/admin/login")}  # the login form itself
PAGES = [path for method, path in ROUTES if method == "GET" and (method, path) not in PUBLIC]
CHANGES = [path for method, path in ROUTES if method == "POST"]


def concrete(path: str) -> str:
    """A URL for a route: ids 1, the ticket action 'claim', other parameters 'x'."""
    values = {"action": "claim", "table": "turns"}
    return re.sub(
        r"\{(\w+)\}",
        lambda m: values.get(m.group(1), "1" if m.group(1).endswith("id") else "x"),
        path,
    )


def test_the_routes_were_found():
    assert len(PAGES) >= 15 and len(CHANGES) >= 20
    assert ("POST", "/admin/models/train") in ROUTES and ("GET", "/admin/tickets") in ROUTES


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_a_visitor_to_the_login(client, path):
    response = client.get(concrete(path), follow_redirects=False)
    assert response.status_code == 303, response.text[:200]
    assert response.headers["location"] == "/admin/login"


@pytest.mark.parametrize("path", CHANGES)
def test_every_change_is_refused_without_the_token(client, session_factory, path):
    # a visitor with a session token of its own still cannot post a forged form
    client.get("/admin/login")
    assert client.post(concrete(path), data={"csrf": "forged"}).status_code == 403
    assert log_in(client, "admin", make_admin(session_factory)).status_code == 303
    for data in ({"csrf": "forged"}, {}):  # logged in as admin, whatever fields it has
        response = client.post(concrete(path), data=data, follow_redirects=False)
        assert response.status_code == 403, (data, response.text[:200])
    json_body = client.post(concrete(path), json={"csrf": "forged"}, follow_redirects=False)
    assert json_body.status_code == 403


LOGIN_ONLY = {("POST", "/admin/logout")}  # anyone may end their session
ROLES = ("admin", "viewer", "officer")


# Who may do what: viewers read the texts and the figures; officers work the tickets of
# their commune (and only that); everything else, and every change, is the admins'.
DESK_PAGES = {"/admin", "/admin/", "/admin/tickets", "/admin/tickets/{ticket_id}"}
ADMIN_PAGES = {
    "/admin/topics/new",
    "/admin/audit",
    "/admin/accounts",
    "/admin/communes",
    "/admin/export/officers.csv",
    "/admin/export/communes.csv",
}
OFFICER_CHANGES = {"/admin/tickets/{ticket_id}/{action}"}


def policy(method: str, path: str) -> set[str] | None:
    if (method, path) in PUBLIC | LOGIN_ONLY:
        return None
    if method == "POST":
        return {"officer"} if path in OFFICER_CHANGES else {"admin"}
    if path in DESK_PAGES:
        return {"admin", "viewer", "officer"}
    return {"admin"} if path in ADMIN_PAGES else {"admin", "viewer"}


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_lets_in_the_roles_of_the_policy(method, path):
    roles = roles_of(FOUND[(method, path)])
    assert (set(roles) if roles is not None else None) == policy(method, path)


@pytest.fixture
def accounts(session_factory):
    """One account of each role (the officer linked to an officer of a commune)."""
    passwords = {"admin": make_admin(session_factory)}
    with session_scope(session_factory) as session:
        commune = session.scalars(select(Commune).order_by(Commune.id)).first()
        officer = Officer(name="Hùng", telegram_user_id=777, commune_id=commune.id)
        session.add(officer)
        session.flush()
        for role in ("viewer", "officer"):
            passwords[role] = f"{role}-password-123"
            accounts_service.create_account(
                session=session,
                username=role,
                password=passwords[role],
                role=role,
                officer_id=officer.id if role == "officer" else None,
            )
    return passwords


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_the_routes_it_is_let_in(client, accounts, role):
    assert log_in(client, role, accounts[role]).status_code == 303
    token = csrf_of(client.get("/admin/login").text)
    for method, path in ROUTES:
        allowed = roles_of(FOUND[(method, path)])
        if allowed is None:
            continue
        if method == "GET":
            response = client.get(concrete(path), follow_redirects=False)
            # a page of the role opens (or is missing, or moves on): never "forbidden"
            assert (response.status_code == 403) == (role not in allowed), (method, path)
        elif role not in allowed:  # a change the role may make is not made here
            response = client.post(concrete(path), data={"csrf": token}, follow_redirects=False)
            assert response.status_code == 403, (method, path, response.text[:200])
