"""The chat API contract and bad input over HTTP (Rasa unreachable in these tests)."""

from __future__ import annotations

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
