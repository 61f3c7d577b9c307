"""The chat API contract and bad input over HTTP (Rasa unreachable in these tests)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from bot.chat import messages
from tests.auxil.texts import seeded


def test_dead_rasa_gets_the_busy_reply_not_an_error(client):
    response = client.post("/api/chat", json={"sender_id": "abc", "text": "otp ko ve"})
    assert response.status_code == 200
    assert response.json() == {"messages": [seeded(messages.BUSY).model_dump()]}


def test_contract_shape_for_an_empty_text(client):
    body = client.post("/api/chat", json={"sender_id": "abc", "text": ""}).json()
    assert body["messages"][0]["text"] == messages.EMPTY.text
    assert body["messages"][0]["buttons"] == [{"title": "Xem các chủ đề", "payload": "/show_menu"}]


def test_ten_thousand_characters_get_a_reply(client):
    response = client.post("/api/chat", json={"sender_id": "abc", "text": "x " * 5000})
    assert response.status_code == 200
    assert response.json()["messages"][0]["text"] == messages.TOO_LONG.text


def test_malformed_requests_get_a_clear_422(client):
    for body in (
        {"text": "hi"},
        {"sender_id": "a b c", "text": "hi"},
        {"sender_id": "x", "text": 5},
    ):
        response = client.post("/api/chat", json=body)
        assert response.status_code == 422
        assert "sender_id và text" in response.json()["detail"]
    response = client.post(
        "/api/chat", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_health(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_writes_are_committed_before_the_response_is_sent(client, session_factory):
    # The next request (a redirect, the citizen's next message) must see this one's writes.
    from bot.dependencies import SessionDep

    depends = SessionDep.__metadata__[0]
    assert depends.scope == "function"


def _inbox(session_factory, sender, *texts):
    from bot.chat.models import WebInboxMessage
    from bot.db import session_scope

    with session_scope(session_factory) as session:
        session.add_all(WebInboxMessage(sender=sender, payload={"text": t}) for t in texts)


def test_a_browser_reads_only_the_conversation_it_was_given(client, session_factory):
    sender_id = client.post("/api/chat/session", json={}).json()["sender_id"]
    cookie = client.cookies.get("vneid_chat")
    assert cookie and re.fullmatch(r"[0-9a-f]{24}", sender_id)
    _inbox(session_factory, f"web:{sender_id}", "Cán bộ Hùng: bác lên xã nhé")
    mine = client.get("/api/chat/updates", params={"sender_id": sender_id})
    assert [m["text"] for m in mine.json()["messages"]] == ["Cán bộ Hùng: bác lên xã nhé"]
    # another browser that knows (or guesses) the id: no cookie, or the cookie of another id
    other = TestClient(client.app)
    assert other.get("/api/chat/updates", params={"sender_id": sender_id}).status_code == 403
    other.post("/api/chat/session", json={})
    refused = other.get("/api/chat/updates", params={"sender_id": sender_id})
    assert refused.status_code == 403 and "không thuộc trình duyệt" in refused.json()["detail"]
    # asking for that id does not hand it over either: a new one comes back
    taken = other.post("/api/chat/session", json={"sender_id": sender_id}).json()["sender_id"]
    assert taken != sender_id


def test_the_same_browser_keeps_its_conversation_after_a_reload(client):
    first = client.post("/api/chat/session", json={}).json()["sender_id"]
    again = client.post("/api/chat/session", json={"sender_id": first}).json()["sender_id"]
    assert again == first


def test_replies_stay_until_the_page_acknowledges_them(client, session_factory):
    sender_id = client.post("/api/chat/session", json={}).json()["sender_id"]
    _inbox(session_factory, f"web:{sender_id}", "một", "hai")

    def read(ack=""):
        params = {"sender_id": sender_id, "ack": ack}
        return [
            (m["id"], m["text"])
            for m in client.get("/api/chat/updates", params=params).json()["messages"]
        ]

    first = read()
    assert [t for _, t in first] == ["một", "hai"]
    assert read() == first  # the page died before acknowledging: shown again, not lost
    _inbox(session_factory, f"web:{sender_id}", "ba")
    assert [t for _, t in read(ack=f"{first[0][0]},{first[1][0]}")] == ["ba"]
    # another browser's acknowledgements touch nothing of this conversation
    other = TestClient(client.app)
    theirs = other.post("/api/chat/session", json={}).json()["sender_id"]
    ids = ",".join(str(i) for i in range(1, 50))
    assert (
        other.get("/api/chat/updates", params={"sender_id": theirs, "ack": ids}).status_code == 200
    )
    assert [t for _, t in read()] == ["ba"]


def test_an_address_past_its_limit_is_told_to_wait(settings):
    from bot.main import create_app

    limited = settings.model_copy(update={"address_rate_per_minute": 6, "address_burst": 3})
    with TestClient(create_app(limited), client=("203.0.113.7", 40000)) as remote:
        codes = [
            remote.post("/api/chat", json={"sender_id": f"s{i}", "text": ""}).status_code
            for i in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        refused = remote.post("/api/chat/session", json={})
        assert refused.status_code == 429 and "quá nhiều yêu cầu" in refused.json()["detail"]
        assert int(refused.headers["Retry-After"]) >= 1
    # loopback (the operator's own tools, chat-load) is not counted
    with TestClient(create_app(limited), client=("127.0.0.1", 40000)) as local:
        assert {local.post("/api/chat/session", json={}).status_code for _ in range(10)} == {200}
