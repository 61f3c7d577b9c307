"""Every console route, found from the routers themselves: pages need a login, and every
request that changes something needs the session's CSRF token, logged in or not."""

from __future__ import annotations

import importlib
import re

import pytest

from tests.auxil.console import log_in, make_admin

MODULES = (
    "bot.admin.router",
    "bot.admin.desk",
    "bot.admin.insights",
    "bot.admin.accounts",
    "bot.modelops.router",
)
ROUTES = sorted(
    (method, route.path)
    for name in MODULES
    for route in importlib.import_module(name).router.routes
    for method in route.methods
)
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
