"""Admin account creation and the login page."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.accounts.models import ConsoleSession
from bot.db import session_scope, utcnow
from tests.auxil.console import csrf_of, log_in, make_admin


def test_first_admin_gets_a_random_password_once(session_factory):
    first = make_admin(session_factory)
    assert first is not None and len(first) >= 16
    assert make_admin(session_factory) is None


def test_login_flow(client, session_factory):
    password = make_admin(session_factory)
    assert client.get("/admin/", follow_redirects=False).headers["location"] == "/admin/login"
    form = client.get("/admin/login").text
    bad = client.post(
        "/admin/login", data={"username": "admin", "password": "nope", "csrf": csrf_of(form)}
    )
    assert bad.status_code == 401
    assert "Sai tên đăng nhập" in bad.text
    ok = client.post(
        "/admin/login",
        data={"username": "admin", "password": password, "csrf": csrf_of(bad.text)},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    page = client.get("/admin/")
    assert "Câu trả lời theo chủ đề" in page.text
    assert "faq/otp_not_received" in page.text


def test_login_without_csrf_token_is_refused(client, session_factory):
    password = make_admin(session_factory)
    client.get("/admin/login")
    response = client.post(
        "/admin/login", data={"username": "admin", "password": password, "csrf": "forged"}
    )
    assert response.status_code == 403


def test_session_cookie_is_http_only_and_strict(client):
    response = client.get("/admin/login")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie


def test_a_copied_cookie_is_worthless_after_logout(client, session_factory):
    assert log_in(client, "admin", make_admin(session_factory)).status_code == 303
    stolen = client.cookies.get("vneid_session")
    assert client.get("/admin/accounts").status_code == 200
    token = csrf_of(client.get("/admin/accounts").text)
    assert client.post("/admin/logout", data={"csrf": token}).status_code in (200, 303)
    replay = TestClient(client.app)
    replay.cookies.set("vneid_session", stolen)
    page = replay.get("/admin/accounts", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/admin/login"


def test_a_session_ends_when_idle_too_long(client, session_factory):
    assert log_in(client, "admin", make_admin(session_factory)).status_code == 303
    with session_scope(session_factory) as session:  # an hour and a half without a request
        for row in session.scalars(select(ConsoleSession)):
            row.seen_at = utcnow() - timedelta(minutes=90)
    page = client.get("/admin/accounts", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/admin/login"
