"""Personal numbers and secrets are masked wherever a citizen typed them."""

from __future__ import annotations

import pytest

from bot.handoff.redact import redact


@pytest.mark.parametrize(
    ("typed", "secret"),
    [
        ("so cccd cua toi la 062201012345", "062201012345"),
        ("căn cước 062 201 012 345 nhé", "062 201 012 345"),
        ("cmnd 233445566", "233445566"),
        ("sdt 0912345678 goi lai giup", "0912345678"),
        ("số +84912345678", "+84912345678"),
        ("ma otp la 483920", "483920"),
        ("OTP: 483920", "483920"),
        ("mật khẩu là Nha@Toi2026", "Nha@Toi2026"),
        ("mk abc123!", "abc123!"),
        ("passcode 654321", "654321"),
        ("nó gửi mã 112233 về máy", "112233"),
    ],
)
def test_secrets_never_survive(typed, secret):
    masked = redact(typed)
    assert secret not in masked
    assert "*" in masked


def test_partial_masks_keep_what_an_officer_needs_to_recognise():
    assert redact("062201012345") == "062******345"
    assert redact("0912345678").endswith("78")


@pytest.mark.parametrize(
    "text",
    ["tôi quên mật khẩu", "otp ko ve", "xã Đăk Choong", "đợi 3 ngày rồi", "năm 2025", "HT-000123"],
)
def test_ordinary_text_is_untouched(text):
    assert redact(text) == text


@pytest.mark.parametrize(
    "text", ["mật khẩu là gì", "mat khau phai co nhung gi", "passcode là mấy số"]
)
def test_questions_about_secrets_are_not_masked(text):
    assert redact(text) == text
