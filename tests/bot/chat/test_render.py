"""Splitting long answers and short button keys."""

from __future__ import annotations

from bot.channels.telegram.citizens import MESSAGE_LIMIT, TelegramAdapter
from bot.chat.render import expand_key, short_key, split_text
from bot.chat.schemas import OutgoingMessage
from bot.db import session_scope
from bot.faq.schemas import Button


def test_short_texts_stay_whole():
    assert split_text("Xin chào.", 10) == ["Xin chào."]


def test_long_texts_split_at_sentence_ends_and_lose_nothing():
    sentence = "Bạn mở ứng dụng VNeID rồi chọn Kích hoạt tài khoản. "
    text = sentence * 200  # about 10,600 characters
    parts = split_text(text, MESSAGE_LIMIT)
    assert len(parts) == 3
    assert all(len(p) <= MESSAGE_LIMIT for p in parts)
    assert all(p.endswith("tài khoản.") for p in parts)
    assert " ".join(parts) == text.strip()


def test_a_sentence_longer_than_the_limit_is_cut_at_a_space():
    parts = split_text("chữ " * 50, 40)
    assert all(len(p) <= 40 for p in parts)
    assert " ".join(parts).split() == ["chữ"] * 50


def test_a_long_telegram_reply_becomes_ordered_parts_with_buttons_on_the_last():
    reply = OutgoingMessage(
        text="Câu. " * 2000, buttons=[Button(title="Xem các chủ đề", payload="/show_menu")]
    )
    parts = TelegramAdapter().render([reply, OutgoingMessage(text="Còn gì nữa không?")])
    assert [len(p["text"]) <= MESSAGE_LIMIT for p in parts] == [True] * 4
    assert [bool(p["buttons"]) for p in parts] == [False, False, True, False]
    assert " ".join(p["text"] for p in parts[:3]) == reply.text.strip()


def test_short_keys_fit_telegram_and_come_back(session_factory):
    payload = '/commune_lookup{"commune_query": "xã Đăk Long (huyện Đăk Hà)"}'
    with session_scope(session_factory) as session:
        key = short_key(session, payload)
        assert short_key(session, payload) == key
    assert len(key.encode()) <= 64
    with session_scope(session_factory) as session:
        assert expand_key(session, key) == payload
        assert expand_key(session, "k:unknown") is None
