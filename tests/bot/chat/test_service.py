"""The gateway: input checks, Rasa replies, Rasa failures (Rasa faked at its HTTP API)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot import locks
from bot.chat import messages
from bot.chat.identity import Citizen
from bot.chat.rasa_client import RasaClient
from bot.chat.service import Gateway, Limits
from bot.db import Database, create_engine_from_url, session_scope, utcnow
from bot.privacy import contacts
from tests.auxil.rasa_http import fake_rasa, never_called
from tests.auxil.texts import seeded


@pytest.fixture
def session(session_factory):
    """The database the gateway works in (named for the tests that share it)."""
    return Database(session_factory, threads=4)


async def ask(rasa, text, db=None, max_chars=1500, sender="web:t"):
    if db is None:  # a database that must never be touched
        db = Database(sessionmaker(), threads=1)
    gateway = Gateway(db, rasa, limits=Limits(max_chars=max_chars))
    try:
        return await gateway.answer(Citizen.parse(sender), text)
    finally:
        await gateway.settle()  # the next ask() is another gateway (another app process)


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\u200b\u200b"])
async def test_empty_text_is_answered_without_rasa(text):
    assert await ask(fake_rasa(never_called), text) == [seeded(messages.EMPTY)]


async def test_overlong_text_is_refused_politely():
    assert await ask(fake_rasa(never_called), "a" * 10_000) == [seeded(messages.TOO_LONG)]


@pytest.mark.parametrize("text", ["😀😀😀", "!!! ???", "👍"])
async def test_text_without_words_gets_a_hint(text):
    assert await ask(fake_rasa(never_called), text) == [seeded(messages.NO_WORDS)]


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
    assert await ask(fake_rasa(failure), "otp ko ve", session) == [seeded(messages.BUSY)]


async def test_rasa_unreachable_gives_the_busy_message(session):
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    assert await ask(fake_rasa(refuse), "otp ko ve", session) == [seeded(messages.BUSY)]


async def test_no_reply_from_rasa_still_answers(session):
    out = await ask(fake_rasa(lambda r: httpx.Response(200, json=[])), "xin chao", session)
    assert out == [seeded(messages.NO_REPLY)]


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


async def test_the_next_message_waits_for_the_buttons_of_the_last_reply(session_factory):
    """The buttons are written after the reply went out; "2" sent at once still presses."""
    written = asyncio.Event()

    class SlowWrites(Database):
        async def run(self, work):
            if getattr(getattr(work, "func", None), "__name__", "") == "_remember_buttons":
                await asyncio.sleep(0.2)  # a busy database thread
                result = await super().run(work)
                written.set()
                return result
            return await super().run(work)

    seen = []
    gateway = Gateway(SlowWrites(session_factory, threads=2), echo_rasa(seen, STEP_BUTTONS))
    citizen = Citizen.web("fast")
    await gateway.answer(citizen, "huong dan kich hoat")
    assert not written.is_set()  # the reply did not wait for the write
    await gateway.answer(citizen, "2")
    assert seen == ["huong dan kich hoat", "/wt_error"]
    await gateway.settle()


SECRETS = {
    "062201012345": "062******345",
    "0912 345 678": "0912*****78",
    "otp 482913": "otp ***",
    "mật khẩu mới là Abc@12345": "mật khẩu mới là ***",
    "4111 1111 1111 1111": "**** **** **** 1111",
    "nguyen.van.a@gmail.com": "n***@gmail.com",
}


@pytest.mark.parametrize("typed", SECRETS)
async def test_rasa_never_sees_a_number_or_a_secret(session, typed):
    seen = []
    await ask(echo_rasa(seen, []), f"giup toi {typed}", session)
    assert seen == [f"giup toi {SECRETS[typed]}"]


async def test_the_call_back_number_is_kept_apart_while_its_question_is_on_screen(
    session, session_factory
):
    asked = [{"title": "Không cần gọi lại", "payload": contacts.ASKED_PAYLOAD}]
    seen = []
    await ask(echo_rasa(seen, []), "so toi 0987 654 321", session)  # no question: not kept
    await ask(echo_rasa(seen, asked), "toi can can bo goi lai", session)
    await ask(echo_rasa(seen, []), "so toi 0912 345 678", session)
    assert seen == ["so toi 0987*****21", "toi can can bo goi lai", "so toi 0912*****78"]
    with session_scope(session_factory) as db:
        [kept] = db.scalars(select(contacts.CallbackNumber)).all()
        assert (kept.sender, kept.phone) == ("web:t", "0912345678")


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
    await ask(rasa, "xin chao", session)
    with session_scope(session.factory) as db_session:
        assert locks.acquire(db_session, locks.SERVING, "build:7", utcnow())
    await ask(rasa, "xin chao", session)
    with session_scope(session.factory) as db_session:
        locks.release(db_session, locks.SERVING, "build:7")
    await ask(rasa, "xin chao", session)
    assert timeouts == [10, 120, 10]


# --- under load -------------------------------------------------------------------------
def one_connection(db_url):
    """A database with a single connection: whoever holds it blocks everybody else."""
    engine = create_engine_from_url(db_url, pool_size=1, max_overflow=0, pool_timeout_s=2)
    return Database(sessionmaker(engine, expire_on_commit=False), threads=1)


async def test_no_connection_is_held_while_rasa_answers(session_factory, db_url):
    """Rasa's NLG callback needs a connection of its own while the gateway waits for Rasa:
    with one connection in the pool, a gateway that held its session would deadlock."""
    db = one_connection(db_url)

    async def rasa_that_calls_back(request):
        await db.run(lambda s: s.execute(select(1)))  # the /nlg callback
        return httpx.Response(200, json=[{"text": "Chào bạn"}])

    gateway = Gateway(db, fake_rasa(rasa_that_calls_back))
    citizens = [Citizen.web(f"c{i}") for i in range(20)]
    async with asyncio.timeout(20):
        answers = await asyncio.gather(*(gateway.answer(c, "xin chao") for c in citizens))
    assert [a[0].text for a in answers] == ["Chào bạn"] * 20


async def test_past_the_limits_the_busy_reply_comes_at_once(session):
    release = asyncio.Event()

    async def slow_rasa(request):
        await release.wait()
        return httpx.Response(200, json=[{"text": "Chào bạn"}])

    limits = Limits(max_in_flight=2, max_waiting=3, queue_timeout_s=30)
    gateway = Gateway(session, fake_rasa(slow_rasa), limits=limits)
    calls = [
        asyncio.create_task(gateway.answer(Citizen.web(f"c{i}"), "xin chao")) for i in range(5)
    ]
    while gateway.waiting < 3:  # noqa: ASYNC110 - two at Rasa, three waiting for a slot
        await asyncio.sleep(0.01)
    started = asyncio.get_running_loop().time()
    assert await gateway.answer(Citizen.web("late"), "xin chao") == [seeded(messages.BUSY)]
    assert asyncio.get_running_loop().time() - started < 1
    release.set()
    assert [(await c)[0].text for c in calls] == ["Chào bạn"] * 5


async def test_a_message_that_waits_too_long_for_a_slot_gets_the_busy_reply(session):
    release = asyncio.Event()

    async def slow_rasa(request):
        await release.wait()
        return httpx.Response(200, json=[{"text": "Chào bạn"}])

    limits = Limits(max_in_flight=1, queue_timeout_s=0.2)
    gateway = Gateway(session, fake_rasa(slow_rasa), limits=limits)
    first = asyncio.create_task(gateway.answer(Citizen.web("a"), "xin chao"))
    await asyncio.sleep(0.05)
    assert await gateway.answer(Citizen.web("b"), "xin chao") == [seeded(messages.BUSY)]
    release.set()
    assert (await first)[0].text == "Chào bạn"


async def test_one_citizens_messages_reach_rasa_in_order(session):
    seen = []

    async def rasa(request):
        text = json.loads(request.content)["message"]
        await asyncio.sleep(0.05 if text == "m0" else 0)  # the first is the slowest
        seen.append(text)
        return httpx.Response(200, json=[{"text": text}])

    gateway = Gateway(session, fake_rasa(rasa))
    citizen = Citizen.telegram(42)
    sends = [gateway.answer(citizen, f"m{i}") for i in range(5)]
    answers = await asyncio.gather(*sends)
    assert seen == [f"m{i}" for i in range(5)]
    assert [a[0].text for a in answers] == seen


async def test_more_of_a_long_answer_comes_from_the_database_without_rasa(session_factory):
    from bot.faq.models import FaqEntry
    from bot.faq.service import more_payload, render_response

    answer = "Ngắn gọn trước.\n--- Các bước\n1. Bước một.\n--- Lỡ bị lừa\nGọi ngân hàng."
    with session_scope(session_factory) as s:
        entry = s.scalar(select(FaqEntry).where(FaqEntry.key == "scam_warning"))
        entry.answer = answer
    with session_scope(session_factory) as s:
        first = render_response(session=s, name="utter_faq/scam_warning")
    assert first.text == "Ngắn gọn trước."
    assert (first.buttons[0].title, first.buttons[0].payload) == (
        "Các bước",
        more_payload("scam_warning", 1),
    )
    db = Database(session_factory, threads=2)
    gateway = Gateway(db, fake_rasa(never_called))
    citizen = Citizen.parse("web:more")
    second = await gateway.answer(citizen, first.buttons[0].payload)
    assert second[0].text == "1. Bước một."
    assert second[0].buttons[0].title == "Lỡ bị lừa"
    third = await gateway.answer(citizen, "lo bi lua")  # the button typed, without diacritics
    assert third[0].text == "Gọi ngân hàng."
    assert "Chủ đề khác" in [b.title for b in third[0].buttons]
    stale = await gateway.answer(citizen, more_payload("scam_warning", 5))
    assert stale == [seeded(messages.GONE)]


async def test_rasa_is_called_on_the_apps_channel_with_the_shared_token():
    seen = {}

    def handler(request):
        seen.update(url=str(request.url), token=request.headers.get("X-Internal-Token"))
        return httpx.Response(200, json=[])

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    await RasaClient(client, "http://rasa:5005", token="s3cret").send(
        sender="web:x", text="chào", channel="web"
    )
    assert seen == {"url": "http://rasa:5005/webhooks/app/webhook", "token": "s3cret"}


async def test_a_citizen_typing_faster_than_anyone_reads_is_asked_to_slow_down(session):
    seen = []
    gateway = Gateway(session, echo_rasa(seen, []), limits=Limits(per_minute=30, burst=5))
    fast, calm = Citizen.web("fast"), Citizen.web("calm")
    replies = [await gateway.answer(fast, f"cau hoi {i}") for i in range(7)]
    assert len(seen) == 5  # the burst reached Rasa, the rest did not
    assert [r[0].text for r in replies[5:]] == [seeded(messages.SLOW_DOWN).text] * 2
    assert await gateway.answer(calm, "cau hoi") != [seeded(messages.SLOW_DOWN)]  # others go on
    await gateway.settle()
