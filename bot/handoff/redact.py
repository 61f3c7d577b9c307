"""Mask personal numbers and secrets before anything is stored or shown to officers.

Citizens sometimes type their 12-digit ID number, their phone number, an OTP or
even a password despite being told not to. Tickets, transcripts and officer
alerts only ever see the masked text.
"""

from __future__ import annotations

import re

from nlu.text import fold

__all__ = ["code_spans", "redact"]

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
# Six digits however they are written: 482913, 482 913, 4 8 2 9 1 3, 48.29.13, otp482913.
_CODE_RE = re.compile(r"(?<![\d.,/-])(?:\d[ .\-]?){5}\d(?![\d]|[.,]\d|/)")
_MONEY_RE = re.compile(r"\s*(?:d\b|dong|vnd|k\b|nghin|ngan|trieu|ty|xu)")
_TICKET_RE = re.compile(r"[A-Z]{2}-$")  # a ticket code HT-000123 is not a secret
_CMND_RE = re.compile(r"(?<!\d)\d{9}(?!\d)")
# 10-digit mobile numbers however they are grouped: 0912345678, 0912 345 678, +84 912.345.678
_PHONE_RE = re.compile(r"(?<![\d+])(\+?84|0)[ .-]?(\d{2})((?:[ .-]?\d){7})(?![\d])")


def code_spans(text: str) -> list[tuple[int, int]]:
    """Where OTP-like codes are in ``text`` (digits in any grouping), as (start, end).

    Six digits followed by a currency word ("100000 đồng") are an amount, and digits that
    belong to a phone or ID number ("0912 345 678") are that number, not a code.
    """
    numbers = [m.span() for r in (_PHONE_RE, _ID_RE) for m in r.finditer(text)]
    return [
        m.span()
        for m in _CODE_RE.finditer(text)
        if not _MONEY_RE.match(fold(text[m.end() : m.end() + 8].lower()))
        and not any(a < m.end() and m.start() < b for a, b in numbers)
    ]


def redact(text: str, *, phones: bool = True) -> str:
    """Return the text with IDs, phone numbers, codes and typed secrets masked.

    ``phones=False`` keeps phone numbers (the handoff form's call-back number reaches Rasa).
    """
    text = _SECRET_RE.sub(lambda m: m.group("label") + "***", text)
    text = _ID_RE.sub(lambda m: f"{m.group(1)}******{m.group(2)}", text)
    if phones:
        text = _PHONE_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}*****{m.group(3)[-2:]}", text)
    else:  # a phone's digits must not pass for a CMND below
        text = _mask_codes(text)
        return _CMND_RE.sub("*********", text)
    return _mask_codes(_CMND_RE.sub("*********", text))


def _mask_codes(text: str) -> str:
    for start, end in reversed(code_spans(text)):  # 482913, 482 913, 4 8 2 9 1 3, otp482913
        if not _TICKET_RE.search(text[max(0, start - 3) : start]):
            text = text[:start] + "******" + text[end:]
    return text
