"""The gateway: input checks, Rasa replies, Rasa failures (Rasa faked at its HTTP API)."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.chat import messages
from bot.chat import service as chat_service
from bot.chat.rasa_client import RasaClient


def fake_rasa(handler):
    return RasaClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), "http://rasa")


async def ask(rasa, text, max_chars=1500):
    return await chat_service.handle_message(
        rasa=rasa, sender="web:t", text=text, channel="web", max_chars=max_chars
    )


def never_called(request):
    pytest.fail(f"Rasa must not be called for this input: {request.content!r}")


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\u200b\u200b"])
async def test_empty_text_is_answered_without_rasa(text):
    assert await ask(fake_rasa(never_called), text) == [messages.EMPTY]


async def test_overlong_text_is_refused_politely():
    assert await ask(fake_rasa(never_called), "a" * 10_000) == [messages.TOO_LONG]


@pytest.mark.parametrize("text", ["😀😀😀", "!!! ???", "👍"])
async def test_text_without_words_gets_a_hint(text):
    assert await ask(fake_rasa(never_called), text) == [messages.NO_WORDS]


async def test_replies_are_mapped_with_buttons_and_sender_is_passed():
    seen = {}

    def handler(request):
        seen.update(json.loads(request.content))
        return httpx.Response(
            200,
            json=[
                {
                    "recipient_id": "web:t",
                    "text": "Xin chào",
                    "buttons": [{"title": "Menu", "payload": "/show_menu"}],
                },
                {"recipient_id": "web:t", "image": "http://x/y.png"},
                {"recipient_id": "web:t", "text": "Bạn cần gì?"},
            ],
        )

    out = await ask(fake_rasa(handler), "  chào  ")
    assert seen["sender"] == "web:t"
    assert seen["message"] == "chào"
    assert [m.text for m in out] == ["Xin chào", "Bạn cần gì?"]
    assert out[0].buttons[0].payload == "/show_menu"


@pytest.mark.parametrize(
    "failure",
    [
        lambda r: httpx.Response(500, text="boom"),
        lambda r: httpx.Response(200, text="not json"),
        lambda r: httpx.Response(200, json={"oops": 1}),
    ],
)
async def test_rasa_errors_give_the_busy_message(failure):
    assert await ask(fake_rasa(failure), "otp ko ve") == [messages.BUSY]


async def test_rasa_unreachable_gives_the_busy_message():
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    assert await ask(fake_rasa(refuse), "otp ko ve") == [messages.BUSY]


async def test_no_reply_from_rasa_still_answers():
    out = await ask(fake_rasa(lambda r: httpx.Response(200, json=[])), "xin chao")
    assert out == [messages.NO_REPLY]


def test_busy_message_gives_the_in_person_route():
    assert "Công an xã" in messages.BUSY.text
    assert "SIM chính chủ" in messages.BUSY.text
