"""Splitting long answers and short button keys."""

from __future__ import annotations

from sqlalchemy import select

from bot.channels.telegram.citizens import MESSAGE_LIMIT, enqueue_replies
from bot.chat.render import expand_key, short_key, split_text
from bot.chat.schemas import OutgoingMessage
from bot.db import session_scope
from bot.faq.schemas import Button
from bot.outbox import OutboxMessage


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


def test_long_reply_becomes_ordered_rows_with_buttons_on_the_last(session_factory):
    reply = OutgoingMessage(
        text="Câu. " * 2000, buttons=[Button(title="Xem các chủ đề", payload="/show_menu")]
    )
    with session_scope(session_factory) as session:
        enqueue_replies(session, sender="tg:5", replies=[reply], key="tg:1")
        enqueue_replies(
            session, sender="tg:5", replies=[reply], key="tg:1"
        )  # redelivered: no new rows
    with session_scope(session_factory) as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert len(rows) == 3
        assert [bool(r.payload["buttons"]) for r in rows] == [False, False, True]


def test_short_keys_fit_telegram_and_come_back(session_factory):
    payload = '/commune_lookup{"commune_query": "xã Đăk Long (huyện Đăk Hà)"}'
    with session_scope(session_factory) as session:
        key = short_key(session, payload)
        assert short_key(session, payload) == key
    assert len(key.encode()) <= 64
    with session_scope(session_factory) as session:
        assert expand_key(session, key) == payload
        assert expand_key(session, "k:unknown") is None
