"""Citizens on Telegram through the real stack: PTB against the local fake Bot API."""

from __future__ import annotations

import itertools
import time

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.faq.models import FaqEntry, ResponseTemplate
from bot.faq.schemas import first_screen
from tests.auxil.fake_telegram import callback_update, message_update, user
from tests.auxil.loopback import settled

pytestmark = pytest.mark.e2e

_chat_ids = itertools.count(700_001)


def wait_for_messages(telegram, chat_id, count, timeout=20.0):
    return settled(lambda: telegram.to(chat_id), count, timeout)


def keyboard(message):
    markup = message["reply_markup"] or {}
    return [row[0] for row in markup.get("inline_keyboard", [])]


def template(stack, name):
    with session_scope(stack.session_factory) as session:
        return session.scalar(select(ResponseTemplate.text).where(ResponseTemplate.name == name))


def test_start_question_button_and_no_double_answer(stack):
    telegram, chat = stack.telegram, next(_chat_ids)
    citizen = user(chat, "Bà Hoa")
    assert stack.telegram_update(message_update(who=citizen, chat_id=chat, text="/start")) == 200
    welcome = wait_for_messages(telegram, chat, 1)[0]
    assert welcome["text"] == template(stack, "utter_greet")
    titles = [b["text"] for b in keyboard(welcome)]
    assert "Không nhận được OTP" in titles
    assert all(len(b["callback_data"].encode()) <= 64 for b in keyboard(welcome))

    update = message_update(who=citizen, chat_id=chat, text="toi ko nhan dc ma otp")
    assert stack.telegram_update(update) == 200
    assert stack.telegram_update(update) == 200  # Telegram redelivers: answered once
    answer = wait_for_messages(telegram, chat, 2)
    assert len(answer) == 2
    with session_scope(stack.session_factory) as session:
        otp = session.scalar(select(FaqEntry.answer).where(FaqEntry.key == "otp_not_received"))
    assert answer[1]["text"] == first_screen(otp)

    # pressing "Gặp cán bộ" under the answer starts the officer request, and the keyboard goes
    button = next(b for b in keyboard(answer[1]) if b["text"] == "Gặp cán bộ")
    stack.telegram_update(
        callback_update(
            who=citizen,
            chat_id=chat,
            message_id=answer[1]["message_id"],
            data=button["callback_data"],
        )
    )
    asked = wait_for_messages(telegram, chat, 3)[2]
    assert "Bạn ở xã, phường nào?" in asked["text"]
    assert "editMessageReplyMarkup" in telegram.calls


def test_stickers_and_photos_get_a_polite_reply(stack):
    telegram, chat = stack.telegram, next(_chat_ids)
    citizen = user(chat, "Ông Ba")
    photo = message_update(who=citizen, chat_id=chat, text="")
    del photo["message"]["text"]
    photo["message"]["photo"] = [
        {"file_id": "f1", "file_unique_id": "u1", "width": 90, "height": 90}
    ]
    sticker = message_update(who=citizen, chat_id=chat, text="")
    del sticker["message"]["text"]
    sticker["message"]["sticker"] = {
        "file_id": "s1",
        "file_unique_id": "su1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    stack.telegram_update(photo)
    stack.telegram_update(sticker)
    got = wait_for_messages(telegram, chat, 2)
    assert got[0]["text"].startswith("Tôi chưa xem được ảnh.")
    assert [b["text"] for b in keyboard(got[0])] == ["Gặp cán bộ", "Xem các chủ đề"]
    assert got[1]["text"].startswith("Tôi chỉ đọc được chữ.")


def test_group_chats_of_citizens_are_not_served(stack):
    telegram = stack.telegram
    group = -4_000_123
    stack.telegram_update(message_update(who=user(801, "Ai"), chat_id=group, text="vneid la gi"))
    time.sleep(1.0)
    assert telegram.to(group) == []


def test_menu_restart_and_markup_sent_as_plain_text(stack):
    telegram, chat = stack.telegram, next(_chat_ids)
    citizen = user(chat, "Anh Tư")
    stack.telegram_update(message_update(who=citizen, chat_id=chat, text="/menu"))
    menu = wait_for_messages(telegram, chat, 1)[0]
    assert menu["text"] == template(stack, "utter_menu")
    assert len(keyboard(menu)) >= 5
    stack.telegram_update(message_update(who=citizen, chat_id=chat, text="/restart"))
    restarted, greeting = wait_for_messages(telegram, chat, 3)[1:]
    assert restarted["text"] == template(stack, "utter_restart")
    assert greeting["text"] == template(stack, "utter_greet")
    stack.telegram_update(message_update(who=citizen, chat_id=chat, text="<b>vneid</b> la gi"))
    got = wait_for_messages(telegram, chat, 4)
    assert got[3]["parse_mode"] is None  # citizens' answers are plain text: nothing is markup
