"""The scam guard: messages that carry the signs of a VNeID scam get the warning first.

Scammers pose as police and ask for the OTP, send a link or an .apk of a fake VNeID, or
say they will "activate" the account by phone. A citizen who types a code, says someone
asked for one, pastes such a link or tells of such a call is warned before anything else,
with the after-the-fact steps when they say it already happened. Pure functions over the
text, no I/O: the gateway decides what to send, ``make eval`` measures the false alarms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.privacy.mask import code_spans
from nlu.text import fold

__all__ = ["AFTER_PAYLOAD", "Sign", "Verdict", "inspect"]

AFTER_PAYLOAD = "/scam_after"  # the "Lỡ bị lừa rồi" button under the warning


class Sign(StrEnum):
    """One sign of a scam in a message."""

    CODE = "code"  # an OTP/passcode-like code typed out
    ASKED = "asked"  # someone asked for a code or a password
    LINK = "link"  # a link or a file to install or "update/sync" VNeID
    CALL = "call"  # "police" calling to activate, update or fix the account
    DISTRICT = "district"  # "công an huyện/quận" in 2026: a unit that no longer exists


@dataclass(frozen=True)
class Verdict:
    """What the guard found: the signs, whether it already happened, whether words remain."""

    signs: frozenset[Sign]
    happened: bool
    only_code: bool  # nothing but the code: no question to pass on


_DIGIT_WORDS = r"(?:khong|mot|hai|ba|bon|tu|nam|lam|sau|bay|tam|chin|linh)"
# Six digits however they are written: 482913, 482 913, 4 8 2 9 1 3, 48.29.13, otp482913.

_CODE_WORDS_RE = re.compile(rf"\b(?:{_DIGIT_WORDS}\s+){{5}}{_DIGIT_WORDS}\b")

_NAMES_OF_CODES = (  # words that name a secret
    r"(?:ma\s+otp|otp|o\s*te\s*be|ma\s+xac\s+(?:thuc|nhan)|ma\s+(?:6|sau)\s+so|ma\s+kich\s+hoat"
    r"|mat\s+khau|mat\s+ma|passcode|pass|mk|ma\s+pin|ma)"
)
_PERSON = (
    # not "nó" alone: "nó đòi passcode" is the app asking
    r"(?:nguoi|ai\s+do|ai|ho|chung\s+no|thang|ong|ba|anh|chi|co|chu|em|ben|cong\s+an|"
    r"can\s+bo|canh\s+sat|nhan\s+vien|tong\s+dai|so\s+la|ke)"
)
_ASKED_RES = (
    # "họ xin mã", "công an hỏi mật khẩu", "nó bắt đọc mã OTP", "người lạ đòi passcode"
    re.compile(
        rf"\b{_PERSON}\b(?:\s+\w+){{0,5}}?\s+(?:xin|hoi|doi|bat|yeu\s+cau|bao|nho|keu)"
        rf"(?:\s+\w+){{0,3}}?\s+(?:doc|gui|cung\s+cap|dua|noi|nhan|cho\s+biet)?\s*(?:lai\s+)?"
        rf"(?:cho\s+\w+\s+)?{_NAMES_OF_CODES}\b"
    ),
    # "đọc mã cho họ", "đưa OTP cho người lạ", "gửi mật khẩu cho nó", "nói mã cho công an"
    re.compile(
        rf"\b(?:doc|dua|gui|noi|cung\s+cap|nhan|cho)\s+(?:\w+\s+){{0,2}}?{_NAMES_OF_CODES}\b"
        rf"(?:\s+\w+){{0,3}}?\s+(?:cho|voi)\s+{_PERSON}\b"
    ),
    re.compile(
        r"\b(?:doc|noi|dua|cung\s+cap)\s+(?:ma\s+)?(?:otp|o\s*te\s*be|passcode|(?:6|sau)\s+so)\b"
    ),
    # "đọc cho họ mấy con số trong tin nhắn"
    re.compile(
        rf"\b(?:doc|noi|dua|gui)\s+(?:cho\s+{_PERSON}\s+)?(?:may|nhung|cac|day)?\s*"
        r"(?:con\s+so|so)\s+(?:trong|o|cua)\s+tin\s+nhan\b"
    ),
)
_LINK_RES = (
    re.compile(r"\.apk\b|\bfile\s+apk\b|\bapk\b"),
    re.compile(
        r"\b(?:link|duong\s+link|duong\s+dan|lien\s+ket)\b(?:\s+\w+){0,8}?\s+"
        r"(?:cap\s+nhat|dong\s+bo|kich\s+hoat|cai|tai|vneid|dinh\s+danh|nhan\s+qua|nhan\s+tien)"
    ),
    re.compile(
        r"\b(?:cai|tai|cap\s+nhat|dong\s+bo|kich\s+hoat)\b(?:\s+\w+){0,6}?\s+"
        r"(?:qua|tu|bang|theo)\s+(?:cai\s+)?(?:link|duong\s+link|duong\s+dan|tin\s+nhan|zalo)"
    ),
    re.compile(r"\bcho\s+phep\s+(?:cai|ung\s+dung)\b.*\bnguon\s+khong\s+xac\s+dinh"),
    re.compile(r"\b(?:chia\s+se|share)\s+man\s+hinh\b|\bquyen\s+tro\s+nang\b"),
)
_URL_RE = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|vn|info|xyz|top|cc|io|site|online|app|shop|click|link)\b(?:/\S*)?"
)
_OFFICIAL_HOST_RE = re.compile(r"^(?:[\w-]+\.)*gov\.vn$")
_CALLER = (
    r"(?:cong\s+an|canh\s+sat|can\s+bo|ca\s+(?:xa|phuong)|csgt|nguoi\s+xung|so\s+la|tong\s+dai)"
)
_CALL_RES = (
    re.compile(
        rf"\b{_CALLER}\b(?:\s+\w+){{0,6}}?\s+(?:goi|dien|nhan\s+tin|lien\s+he|video|zalo|facetime)\b"
        r"(?:\s+\w+){0,10}?\s+(?:kich\s+hoat|cap\s+nhat|dong\s+bo|loi|bi\s+khoa|khoa|cai|tai|"
        r"link|ma|otp|muc\s+2|nang\s+cap|xac\s+minh|hoan\s+tien|phat|nop)"
    ),
    re.compile(
        r"\b(?:kich\s+hoat|cap\s+nhat|dong\s+bo|lam)\s+(?:\w+\s+){0,4}?(?:ho|dum|giup)\b"
        r"(?:\s+\w+){0,4}?\s+qua\s+(?:dien\s+thoai|zalo|video|dt)\b"
    ),
    # "gọi xưng cán bộ, nói kích hoạt định danh giùm" (not "con tôi nhờ kích hoạt giúp", nor
    # "cán bộ xã có kích hoạt giùm không": a question, no call)
    re.compile(
        rf"\b(?:goi|dien|nhan\s+tin)\b(?:\s+\w+){{0,3}}?\s+(?:xung|tu\s+nhan|noi\s+la|{_CALLER})\b"
        r"(?:\s+\w+){0,10}?\s+"
        r"(?:kich\s+hoat|cap\s+nhat|dong\s+bo)\s+(?:\w+\s+){0,3}?(?:ho|dum|gium|giup)\b"
    ),
)
_DISTRICT_RE = re.compile(r"\b(?:cong\s+an|ca)\s+(?:huyen|quan|thi\s+xa)\b")
_HAPPENED_RE = re.compile(
    r"\b(?:da\s+lo|lo\s+(?:doc|dua|gui|noi|cai|tai|bam|an|cho|cung\s+cap)|bi\s+lua|mat\s+tien|"
    r"bi\s+(?:tru|rut|lay|chiem\s+doat)\s+(?:het\s+)?tien|tai\s+khoan\s+bi\s+(?:tru|rut|mat)|"
    r"(?:doc|dua|gui|noi|cai|tai|bam|cung\s+cap)\b(?:\s+\w+){0,6}?\s+roi\b|"
    r"da\s+(?:doc|dua|gui|noi|cai|tai|bam|cung\s+cap|lam\s+theo|chuyen)\b)"
)


def _plain(text: str) -> str:
    return " ".join(fold(text.lower()).split())


def _foreign_link(text: str) -> bool:
    for match in _URL_RE.finditer(text.lower()):
        host = re.sub(r"^(?:https?://)?(?:www\.)?", "", match.group(0)).split("/")[0]
        if not _OFFICIAL_HOST_RE.match(host):
            return True
    return False


def inspect(text: str) -> Verdict | None:
    """The scam signs of a citizen's message, or None for an ordinary message."""
    if text.startswith("/"):  # a button payload
        return None
    plain = _plain(text)
    signs: set[Sign] = set()
    if code_spans(plain) or _CODE_WORDS_RE.search(plain):
        signs.add(Sign.CODE)
    if any(r.search(plain) for r in _ASKED_RES):
        signs.add(Sign.ASKED)
    if _foreign_link(text) or any(r.search(plain) for r in _LINK_RES):
        signs.add(Sign.LINK)
    if any(r.search(plain) for r in _CALL_RES):
        signs.add(Sign.CALL)
    if _DISTRICT_RE.search(plain) and re.search(r"\b(?:goi|dien|nhan\s+tin|xung)\b", plain):
        signs.add(Sign.DISTRICT)
    if not signs:
        return None
    for start, end in reversed(code_spans(plain)):
        plain = plain[:start] + " " + plain[end:]
    rest = _CODE_WORDS_RE.sub(" ", plain)
    rest = re.sub(rf"\b{_NAMES_OF_CODES}\b|\bla\b|\bcua\s+toi\b|[^\w]+", " ", rest)
    return Verdict(
        signs=frozenset(signs),
        happened=bool(_HAPPENED_RE.search(plain)) and signs != {Sign.CODE},
        only_code=signs == {Sign.CODE} and not rest.split(),
    )
