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


ACTION_CALL = {  # what Rasa sends to run an action, for a citizen of the caller's choosing
    "next_action": "action_handoff_status",
    "sender_id": "tg:4242",
    "tracker": {
        "sender_id": "tg:4242",
        "slots": {},
        "latest_message": {"text": "HT-000001", "intent": {"name": "handoff_status"}},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": None,
    },
    "domain": {},
    "version": "3.6.21",
}


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_only_rasa_may_run_an_action(stack, token):
    headers = {"X-Internal-Token": token} if token else {}
    forged = httpx.post(
        f"{stack.actions_url}/webhook", json=ACTION_CALL, headers=headers, timeout=30
    )
    assert forged.status_code == 403
    assert httpx.get(f"{stack.actions_url}/health", timeout=30).status_code == 200


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_only_the_app_may_speak_to_rasa_as_a_citizen(stack, token):
    headers = {"X-Internal-Token": token} if token else {}
    body = {"sender": "zalo:123", "message": "toi muon gap can bo", "input_channel": "zalo"}
    forged = httpx.post(
        f"{stack.rasa_url}/webhooks/app/webhook", json=body, headers=headers, timeout=30
    )
    assert forged.status_code == 403
    # Rasa's own REST channel is not there at all
    rest = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=body, timeout=30)
    assert rest.status_code == 404
    # and the conversation was never touched
    tracker = httpx.get(
        f"{stack.rasa_url}/conversations/zalo:123/tracker",
        params={"token": stack.token},
        timeout=30,
    )
    assert [e for e in tracker.json()["events"] if e["event"] == "user"] == []


def test_rasa_and_the_action_server_answer_the_app(stack):
    """With the token: the app's message reaches Rasa, whose form asks through an action."""
    replies = stack.chat("sec-actions-ok", "toi muon gap can bo")
    assert any("Bạn ở xã, phường nào?" in m["text"] for m in replies)  # action_ask_ho_commune
