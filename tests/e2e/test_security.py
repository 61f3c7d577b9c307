"""Attacks on the running app (uvicorn as `make run` starts it, on loopback)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from bot.audit import AuditEntry
from bot.db import session_scope
from tests.auxil.console import csrf_of

pytestmark = pytest.mark.e2e


def test_a_claimed_forwarded_address_is_not_believed(stack):
    """Naming another address in X-Forwarded-For does not dodge the login throttling: the
    audit log and the throttle see the connection's own address."""
    with httpx.Client(base_url=stack.app_url, timeout=30) as client:
        token = csrf_of(client.get("/admin/login").text)
        for claimed in ("203.0.113.9", "198.51.100.7, 127.0.0.1"):
            refused = client.post(
                "/admin/login",
                data={"username": "xff-probe", "password": "sai", "csrf": token},
                headers={"X-Forwarded-For": claimed},
            )
            assert refused.status_code == 401
    with session_scope(stack.session_factory) as session:
        addresses = session.scalars(
            select(AuditEntry.ip).where(AuditEntry.username == "xff-probe")
        ).all()
    assert addresses == ["127.0.0.1", "127.0.0.1"]
