"""A citizen chatting through the web API with the real trained Rasa server."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select

from bot.chat import messages
from bot.db import session_scope
from bot.faq.models import FaqEntry, ResponseTemplate
from bot.faq.schemas import first_screen
from tests.auxil.texts import seeded

pytestmark = pytest.mark.e2e


def sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}"


def answer_of(stack, key):
    with session_scope(stack.session_factory) as session:
        # the first screen: the rest of a long answer is behind its "Xem thêm" button
        return first_screen(session.scalar(select(FaqEntry.answer).where(FaqEntry.key == key)))


def template_of(stack, name):
    with session_scope(stack.session_factory) as session:
        return session.scalar(select(ResponseTemplate.text).where(ResponseTemplate.name == name))


def test_greeting_gets_the_welcome_and_topic_buttons(stack):
    reply = stack.chat(sender(), "chao ban")
    assert reply[0]["text"] == template_of(stack, "utter_greet")
    assert {"title": "Hướng dẫn kích hoạt", "payload": "/activation_guide"} in reply[0]["buttons"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("toi cho mai ma otp khong thay ve", "otp_not_received"),
        ("Quên mật khẩu VNeID thì lấy lại sao?", "forgot_password"),
        ("muc 1 voi muc 2 khac nhau cho nao", "levels_difference"),
        ("co nguoi goi dien xung cong an bao doc ma otp", "scam_warning"),
        ("lam dinh danh co mat tien ko", "fee"),
    ],
)
def test_questions_get_the_answer_stored_in_the_database(stack, text, key):
    reply = stack.chat(sender(), text)
    # the answer is the last bubble (a scam question gets the guard's warning first)
    assert reply[-1]["text"] == answer_of(stack, key)
    assert reply[-1]["buttons"][-1]["payload"] == "/show_menu"


def test_pressing_a_topic_button_answers_that_topic(stack):
    who = sender()
    first = stack.chat(who, "otp ko ve")
    button = next(b for b in first[0]["buttons"] if b["payload"].startswith("/faq/"))
    key = button["payload"].removeprefix("/faq/")
    assert stack.chat(who, button["payload"])[0]["text"] == answer_of(stack, key)


def test_an_admin_edit_is_live_without_retraining(stack):
    with session_scope(stack.session_factory) as session:
        entry = session.scalar(select(FaqEntry).where(FaqEntry.key == "approval_time"))
        original, entry.answer = entry.answer, "Thường vài ngày làm việc. (bản sửa thử nghiệm)"
    try:
        reply = stack.chat(sender(), "dang ky xong bao lau thi duoc duyet")
        assert reply[0]["text"] == "Thường vài ngày làm việc. (bản sửa thử nghiệm)"
    finally:  # the stack is shared: later tests read the reviewed answer
        with session_scope(stack.session_factory) as session:
            entry = session.scalar(select(FaqEntry).where(FaqEntry.key == "approval_time"))
            entry.answer = original


def test_an_unsure_question_is_asked_back_with_its_likeliest_topics(stack):
    """ "dang ky" alone: register what, how? The assistant asks instead of guessing; typing
    the number of a choice presses it, and that topic is answered."""
    who = sender()
    reply = stack.chat(who, "dang ky")
    assert [m["text"] for m in reply] == [template_of(stack, "utter_clarify")]
    offered = [b for b in reply[0]["buttons"] if b["payload"].startswith("/faq/")]
    assert 1 <= len(offered) <= 3
    keys = [b["payload"].removeprefix("/faq/") for b in offered]
    with session_scope(stack.session_factory) as session:
        titles = dict(session.execute(select(FaqEntry.key, FaqEntry.title)).all())
    assert [b["title"] for b in offered] == [titles[k] for k in keys]
    assert {"register_level1", "register_level2", "requirements"} & set(keys)
    assert reply[0]["buttons"][-1]["payload"] == "/request_handoff"  # and the in-person route
    picked = stack.chat(who, "1")  # typed, not pressed
    assert picked[-1]["text"] == answer_of(stack, keys[0])


def test_two_misunderstandings_in_a_row_offer_an_officer(stack):
    # "/nlu_fallback" makes the misunderstanding certain, whatever the model.
    who = sender()
    first = stack.chat(who, "/nlu_fallback")
    assert first[0]["text"] == template_of(stack, "utter_default")
    second = stack.chat(who, "/nlu_fallback")
    assert second[0]["text"] == template_of(stack, "utter_default_handoff")
    assert any(b["payload"] == "/request_handoff" for b in second[0]["buttons"])


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("hom nay troi co mua khong", "utter_out_of_scope"),
        ("ban la nguoi that hay may", "utter_bot_challenge"),
        ("huong dan toi kich hoat tung buoc", "utter_wt_where"),
        ("cho toi gap can bo cong an", "utter_ask_ho_commune"),
    ],
)
def test_plain_intents_get_their_reply(stack, text, name):
    assert stack.chat(sender(), text)[0]["text"] == template_of(stack, name)


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert('x')</script>",
        "'; DROP TABLE faq_entry; --",
        "What is the weather in London today?",
        "Wie spät ist es?",
        "ok",
    ],
)
def test_odd_input_gets_a_reply_and_breaks_nothing(stack, text):
    reply = stack.chat(sender(), text)
    assert reply and reply[0]["text"]
    assert answer_of(stack, "fee")  # the table is still there


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", messages.EMPTY), ("🙂🙂🙂", messages.NO_WORDS), ("a" * 10_000, messages.TOO_LONG)],
)
def test_gateway_checks_through_the_real_stack(stack, text, expected):
    assert stack.chat(sender(), text) == [seeded(expected).model_dump()]


def test_conversations_of_two_citizens_do_not_mix(stack):
    a, b = sender(), sender()
    stack.chat(a, "/nlu_fallback")
    # b's first misunderstanding must not count a's.
    assert stack.chat(b, "/nlu_fallback")[0]["text"] == template_of(stack, "utter_default")


def test_rasa_keeps_web_senders_namespaced(stack):
    who = sender()
    stack.chat(who, "chao")
    response = httpx.get(
        f"{stack.rasa_url}/conversations/web:{who}/tracker",
        params={"token": stack.token},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["sender_id"] == f"web:{who}"
