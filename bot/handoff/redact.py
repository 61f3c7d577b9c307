"""Mask personal numbers and secrets before anything is stored or shown to officers.

Citizens sometimes type their 12-digit ID number, their phone number, an OTP or
even a password despite being told not to. Tickets, transcripts and officer
alerts only ever see the masked text.
"""

from __future__ import annotations

import re

__all__ = ["redact"]

_CODE_LABELS = (  # words that introduce a code or a password
    r"(?:otp|ma xac (?:thuc|nhan)|mã xác (?:thực|nhận)|passcode|pass|mat khau|mật khẩu"
    r"|mk|password|pin)"
)
# "mật khẩu là Abc@123", "mk: abc123", "otp 123456", "passcode la 654321"
_SECRET_RE = re.compile(
    rf"(?P<label>\b{_CODE_LABELS}\b(?:\s*(?:của tôi|cua toi|là|la|:|=|-))*\s*)"
    # VNeID passwords and codes always hold a digit: "mật khẩu là gì" is left alone.
    r"(?P<secret>\S*\d\S*)",
    re.IGNORECASE,
)
_ID_RE = re.compile(r"(?<!\d)(\d{3})[ .-]?\d{3}[ .-]?\d{3}[ .-]?(\d{3})(?!\d)")  # 12 digits
_CMND_RE = re.compile(r"(?<!\d)\d{9}(?!\d)")
# 10-digit mobile numbers however they are grouped: 0912345678, 0912 345 678, +84 912.345.678
_PHONE_RE = re.compile(r"(?<![\d+])(\+?84|0)[ .-]?(\d{2})((?:[ .-]?\d){7})(?![\d])")
_CODE_RE = re.compile(r"(?<![\w-])\d{6}(?!\d)")  # a bare 6-digit code, not a ticket HT-000123


def redact(text: str) -> str:
    """Return the text with IDs, phone numbers, codes and typed secrets masked."""
    text = _SECRET_RE.sub(lambda m: m.group("label") + "***", text)
    text = _ID_RE.sub(lambda m: f"{m.group(1)}******{m.group(2)}", text)
    text = _PHONE_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}*****{m.group(3)[-2:]}", text)
    text = _CMND_RE.sub("*********", text)
    return _CODE_RE.sub("******", text)
