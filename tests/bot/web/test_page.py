"""The web chat page: served by the app itself, nothing fetched from elsewhere."""

from __future__ import annotations


def test_web_chat_page_is_served_without_external_resources(client):
    page = client.get("/")
    assert page.status_code == 200
    assert 'lang="vi"' in page.text
    assert "http://" not in page.text and "https://" not in page.text
    js = client.get("/static/chat.js").text
    assert "/api/chat" in js
    assert "innerHTML" not in js  # bot and user text are inserted as text only
    assert client.get("/static/chat.css").status_code == 200
