"""Typing a button's number or label presses it; anything else goes to the NLU."""

from __future__ import annotations

import pytest

from bot.chat.choices import resolve_choice

BUTTONS = [
    {"title": "Xong, bước tiếp", "payload": "/wt_next"},
    {"title": "Tôi bị lỗi ở bước này", "payload": "/wt_error"},
    {"title": "Gặp cán bộ", "payload": "/request_handoff"},
]


@pytest.mark.parametrize(
    ("text", "payload"),
    [
        ("2", "/wt_error"),
        ("số 3", "/request_handoff"),
        ("chon 1.", "/wt_next"),
        ("xong buoc tiep", "/wt_next"),  # the label without diacritics
        ("Xong, bước tiếp", "/wt_next"),
        ("toi bi loi o buoc nay", "/wt_error"),
        ("toi bi loi o buoc nayy", "/wt_error"),  # a typo
        ("gap can bo", "/request_handoff"),
    ],
)
def test_a_number_or_a_label_presses_the_button(text, payload):
    assert resolve_choice(text, BUTTONS) == payload


@pytest.mark.parametrize(
    "text",
    [
        "4",  # no fourth button
        "0",
        "x",
        "tôi bị lỗi ở bước chụp ảnh khuôn mặt thì phải làm sao hả cán bộ",
        "gặp cán bộ ở đâu, mấy giờ làm việc",  # a question that starts like a label
    ],
)
def test_anything_else_is_left_to_the_nlu(text):
    assert resolve_choice(text, BUTTONS) is None


def test_no_buttons_on_screen():
    assert resolve_choice("1", []) is None
