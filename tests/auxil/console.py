"""The console as a test client sees it: the first admin, logging in, the CSRF token."""

from __future__ import annotations

import re

from bot.accounts import service as accounts_service
from bot.db import session_scope


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def make_admin(session_factory) -> str | None:
    """Create the first admin; its one-time password (None when it exists already)."""
    with session_scope(session_factory) as session:
        return accounts_service.create_first_admin(session=session)


def log_in(client, username: str, password: str):
    """Log in through the form, as a browser would; the response (303 on success)."""
    form = client.get("/admin/login").text
    return client.post(
        "/admin/login",
        data={"username": username, "password": password, "csrf": csrf_of(form)},
        follow_redirects=False,
    )


def nlg(client, name: str, **arguments):
    """Ask the app's NLG endpoint for a response, as Rasa does."""
    body = {
        "response": name,
        "arguments": arguments,
        "tracker": {"sender_id": "web:x"},
        "channel": {"name": "rest"},
    }
    response = client.post("/nlg", json=body, headers=from_rasa(client))
    assert response.status_code == 200
    return response.json()


def from_rasa(client) -> dict[str, str]:
    """The header Rasa sends with its calls to /nlg (the app's RASA_TOKEN)."""
    token = client.app.state.settings.rasa_token.get_secret_value()
    return {"X-Internal-Token": token}
