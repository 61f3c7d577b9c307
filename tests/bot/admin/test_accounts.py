"""Console accounts: created by an admin with a one-time password, reset, removed."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.accounts.models import UserAccount
from bot.audit import AuditEntry
from bot.db import session_scope
from bot.handoff.models import Officer
from tests.auxil.console import csrf_of, log_in, make_admin


def one_time_password(html: str) -> str:
    return re.search(r'<code id="password"[^>]*>([^<]+)</code>', html).group(1)


def officer_id(session_factory) -> int:
    with session_scope(session_factory) as session:
        officer = Officer(name="A Thưa", telegram_user_id=777001, commune_id=None)
        session.add(officer)
        session.flush()
        return officer.id


def test_an_admin_creates_an_officer_account_who_then_logs_in(client, session_factory):
    assert log_in(client, "admin", make_admin(session_factory)).status_code == 303
    page = client.get("/admin/accounts")
    assert page.status_code == 200
    created = client.post(
        "/admin/accounts",
        data={
            "username": "cb.xop",
            "role": "officer",
            "officer_id": str(officer_id(session_factory)),
            "csrf": csrf_of(page.text),
        },
    )
    assert created.status_code == 200
    password = one_time_password(created.text)
    assert client.get("/admin/accounts").text.count(password) == 0  # shown once

    officer = TestClient(client.app)
    assert log_in(officer, "cb.xop", password).status_code == 303
    assert officer.get("/admin/", follow_redirects=False).headers["location"] == "/admin/tickets"
    assert officer.get("/admin/accounts").status_code == 403  # admins only
    with session_scope(session_factory) as session:
        assert session.scalar(select(UserAccount.role).where(UserAccount.username == "cb.xop"))
        assert "account_create" in session.scalars(select(AuditEntry.action)).all()


def test_bad_accounts_are_refused_with_a_message(client, session_factory):
    assert log_in(client, "admin", make_admin(session_factory)).status_code == 303
    token = csrf_of(client.get("/admin/accounts").text)
    for data, message in (
        ({"username": "admin", "role": "viewer"}, "Đã có tài khoản admin"),
        ({"username": "cb1", "role": "officer"}, "phải gắn với một cán bộ"),
        ({"username": "a b!", "role": "viewer"}, "Tên đăng nhập"),
        ({"username": "xem1", "role": "boss"}, "role must be one of"),
    ):
        response = client.post("/admin/accounts", data={**data, "csrf": token})
        assert response.status_code == 400 and message in response.text, data
    # without the token: refused before the form is read
    assert (
        client.post("/admin/accounts", data={"username": "x1", "role": "viewer"}).status_code == 403
    )


def test_a_reset_or_a_removal_ends_the_accounts_sessions(client, session_factory):
    assert log_in(client, "admin", make_admin(session_factory)).status_code == 303
    token = csrf_of(client.get("/admin/accounts").text)
    first = one_time_password(
        client.post(
            "/admin/accounts", data={"username": "xem", "role": "viewer", "csrf": token}
        ).text
    )
    viewer = TestClient(client.app)
    assert log_in(viewer, "xem", first).status_code == 303
    assert viewer.get("/admin/dashboard").status_code == 200
    with session_scope(session_factory) as session:
        account_id = session.scalar(select(UserAccount.id).where(UserAccount.username == "xem"))

    second = one_time_password(
        client.post(f"/admin/accounts/{account_id}/reset", data={"csrf": token}).text
    )
    assert second != first
    assert viewer.get("/admin/dashboard", follow_redirects=False).status_code == 303  # ended
    assert log_in(viewer, "xem", first).status_code == 401
    assert log_in(viewer, "xem", second).status_code == 303

    removed = client.post(
        f"/admin/accounts/{account_id}/remove", data={"csrf": token}, follow_redirects=False
    )
    assert removed.status_code == 303
    assert viewer.get("/admin/dashboard", follow_redirects=False).status_code == 303
    assert log_in(viewer, "xem", second).status_code == 401


def test_an_admin_cannot_remove_their_own_account(client, session_factory):
    assert log_in(client, "admin", make_admin(session_factory)).status_code == 303
    token = csrf_of(client.get("/admin/accounts").text)
    with session_scope(session_factory) as session:
        me = session.scalar(select(UserAccount.id).where(UserAccount.username == "admin"))
    refused = client.post(f"/admin/accounts/{me}/remove", data={"csrf": token})
    assert refused.status_code == 400 and "Không tự xoá" in refused.text
