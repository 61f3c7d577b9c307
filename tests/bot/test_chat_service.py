"""The gateway: input checks, Rasa replies, Rasa failures (Rasa faked at its HTTP API)."""

from __future__ import annotations

import json

import httpx
import pytest

from bot import locks
from bot.chat import messages
from bot.chat import service as chat_service
from bot.chat.rasa_client import RasaClient
from bot.db import session_scope, utcnow


def fake_rasa(handler):
    return RasaClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), "http://rasa")


@pytest.fixture
def session(session_factory):
    with session_scope(session_factory) as db_session:
        yield db_session


async def ask(rasa, text, session=None, max_chars=1500, sender="web:t"):
    if session is None:
        from sqlalchemy.orm import Session

        session = Session()  # a session that never touches a database
    return await chat_service.handle_message(
        session=session, rasa=rasa, sender=sender, text=text, channel="web", max_chars=max_chars
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


async def test_replies_are_mapped_with_buttons_and_sender_is_passed(session):
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

    out = await ask(fake_rasa(handler), "  chào  ", session)
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
async def test_rasa_errors_give_the_busy_message(failure, session):
    assert await ask(fake_rasa(failure), "otp ko ve", session) == [messages.BUSY]


async def test_rasa_unreachable_gives_the_busy_message(session):
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    assert await ask(fake_rasa(refuse), "otp ko ve", session) == [messages.BUSY]


async def test_no_reply_from_rasa_still_answers(session):
    out = await ask(fake_rasa(lambda r: httpx.Response(200, json=[])), "xin chao", session)
    assert out == [messages.NO_REPLY]


def test_busy_message_gives_the_in_person_route():
    assert "Công an xã" in messages.BUSY.text
    assert "SIM chính chủ" in messages.BUSY.text


def echo_rasa(seen, buttons):
    def handler(request):
        seen.append(json.loads(request.content)["message"])
        return httpx.Response(
            200, json=[{"recipient_id": "web:t", "text": "Chọn:", "buttons": buttons}]
        )

    return fake_rasa(handler)


STEP_BUTTONS = [
    {"title": "Xong, bước tiếp", "payload": '/wt_go{"wt_target":"l1_scan"}'},
    {"title": "Tôi bị lỗi ở bước này", "payload": "/wt_error"},
    {"title": "Dừng lại", "payload": "/wt_stop"},
]


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("2", "/wt_error"),
        ("số 3", "/wt_stop"),
        (" 1. ", '/wt_go{"wt_target":"l1_scan"}'),
        ("xong buoc tiep", '/wt_go{"wt_target":"l1_scan"}'),
        ("Tôi bị lỗi ở bước này", "/wt_error"),
        ("toi bi loi o buoc nay", "/wt_error"),
        ("dung lai", "/wt_stop"),
        ("7", "7"),  # out of range: left to the NLU
        ("mật khẩu phải có gì", "mật khẩu phải có gì"),
    ],
)
async def test_numbers_and_typed_labels_press_the_buttons_on_screen(session, typed, sent):
    seen = []
    rasa = echo_rasa(seen, STEP_BUTTONS)
    await ask(rasa, "huong dan kich hoat", session)
    await ask(rasa, typed, session)
    assert seen == ["huong dan kich hoat", sent]


async def test_choices_are_per_sender_and_cleared_when_no_buttons(session):
    seen = []
    await ask(echo_rasa(seen, STEP_BUTTONS), "hi", session, sender="web:a")
    await ask(echo_rasa(seen, STEP_BUTTONS), "2", session, sender="web:b")  # b saw no buttons
    await ask(echo_rasa(seen, []), "ok", session, sender="web:a")  # a's buttons are gone now
    await ask(echo_rasa(seen, []), "2", session, sender="web:a")
    assert seen == ["hi", "2", "ok", "2"]


async def test_while_a_model_is_swapped_the_gateway_waits_longer_for_rasa(session):
    """Rasa answers nothing while it loads a model: wait for it rather than answer "busy"."""
    timeouts = []

    def handler(request):
        timeouts.append(request.extensions["timeout"]["read"])
        return httpx.Response(200, json=[{"recipient_id": "web:t", "text": "Chào bạn"}])

    client = httpx.AsyncClient(
        transport=httpx.MockTransport(handler), timeout=httpx.Timeout(10, connect=2)
    )
    rasa = RasaClient(client, "http://rasa", slow_timeout_s=120)
    await ask(rasa, "xin chao", session=session)
    assert locks.acquire(session, locks.SERVING, "build:7", utcnow())
    await ask(rasa, "xin chao", session=session)
    locks.release(session, locks.SERVING, "build:7")
    await ask(rasa, "xin chao", session=session)
    assert timeouts == [10, 120, 10]
