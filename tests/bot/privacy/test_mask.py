"""Personal numbers and secrets are masked however a citizen types them; nothing else is.

Property-based: hypothesis writes the numbers, the groupings and the sentences around them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.privacy.mask import code_spans, mask, skeleton

ROOT = Path(__file__).resolve().parents[3]

# --- what hypothesis writes -------------------------------------------------------------------
digit = st.sampled_from("0123456789")
separator = st.sampled_from(["", " ", ".", "-"])
words = st.sampled_from(
    [
        "tôi",
        "toi",
        "số",
        "so",
        "của",
        "cua",
        "em",
        "là",
        "la",
        "gọi",
        "goi",
        "lại",
        "giúp",
        "nhé",
        "nhe",
        "ạ",
        "a",
        "đây",
        "xã",
        "Đăk",
        "Glei",
        "cán bộ",
        "căn cước",
        "can cuoc",
        "điện thoại",
        "dien thoai",
        "định danh",
        "dinh danh",
        "mức 2",
        "muc 2",
        "năm 2025",
        "HT-000123",
        "đợi 3 ngày",
        "7:30",
        "12/05/2025",
        "phí 100.000 đồng",
        "50000 đồng",
        "OTP",
        "mật khẩu",
        "quên",
        "không",
        "ko",
        "về",
        "ve",
        "😊",
        ",",
        ".",
        "?",
        "!",
    ]
)
sentence = st.lists(words, max_size=8).map(" ".join)


def _grouped(digits: str, seps: list[str]) -> str:
    """The digits as a citizen might type them: one separator style, groups of 2 to 4."""
    out, i = [], 0
    sizes = [3, 4, 2]
    for k, sep in enumerate(seps):
        size = sizes[k % 3]
        out.append(digits[i : i + size])
        i += size
        if i >= len(digits):
            break
        out.append(sep)
    return "".join(out) + digits[i:]


@st.composite
def typed_number(draw: st.DrawFn, digits: st.SearchStrategy[str]) -> tuple[str, str]:
    number = draw(digits)
    style = draw(separator)
    typed = _grouped(number, [style] * 6) if draw(st.booleans()) else number
    return number, typed


id_numbers = st.tuples(
    st.sampled_from(["001", "062", "079", "092"]), st.text("0123456789", min_size=9, max_size=9)
).map("".join)
cmnd_numbers = st.text("0123456789", min_size=9, max_size=9).filter(lambda d: d[0] != "0")
mobiles = st.tuples(
    st.sampled_from(["03", "05", "07", "08", "09"]), st.text("0123456789", min_size=8, max_size=8)
).map("".join)
codes = st.text("0123456789", min_size=6, max_size=6)


def _luhn_complete(body: str) -> str:
    total = 0
    for i, char in enumerate(reversed(body)):
        d = int(char) * (1 if i % 2 else 2)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


cards = st.tuples(
    st.sampled_from(["4", "5", "35", "9704"]), st.text("0123456789", min_size=14, max_size=14)
).map(lambda t: _luhn_complete((t[0] + t[1])[:15]))


def phone_formats(mobile: str) -> list[str]:
    """How Vietnamese phone numbers are written."""
    rest = mobile[1:]
    return [
        mobile,
        f"{mobile[:4]} {mobile[4:7]} {mobile[7:]}",
        f"{mobile[:4]}.{mobile[4:7]}.{mobile[7:]}",
        f"{mobile[:4]}-{mobile[4:7]}-{mobile[7:]}",
        f"({mobile[:3]}) {mobile[3:6]}-{mobile[6:]}",
        f"+84{rest}",
        f"+84 {rest[:2]} {rest[2:5]} {rest[5:]}",
        f"(+84) {rest[:3]} {rest[3:6]} {rest[6:]}",
        f"84{rest}",
        f"{mobile[:3]} {mobile[3:6]} {mobile[6:8]} {mobile[8:]}",
    ]


def _gone(number: str, masked: str, context: str = "") -> bool:
    """The number's digits cannot be read back from the masked text, whatever the grouping
    (unless the words around it hold those digits: "phí 100.000 đồng" and a code 000000)."""
    if number in masked:
        return False
    return number in re.sub(r"\D", "", context) or number not in re.sub(r"\D", "", masked)


# --- what must go -----------------------------------------------------------------------------
@given(before=sentence, after=sentence, number=typed_number(id_numbers))
def test_id_numbers_never_survive(before, after, number):
    digits, typed = number
    masked = mask(f"{before} {typed} {after}")
    assert _gone(digits, masked, before + after)
    if not re.search(r"otp|mật khẩu", before, re.IGNORECASE):  # after a label: all of it goes
        assert f"{digits[:3]}******{digits[-3:]}" in masked  # enough for an officer to know it


@given(before=sentence, after=sentence, number=typed_number(cmnd_numbers))
def test_old_id_numbers_never_survive(before, after, number):
    digits, typed = number
    assert _gone(digits, mask(f"{before} cmnd {typed} {after}"), before + after)


@given(before=sentence, after=sentence, mobile=mobiles, style=st.integers(0, 9))
def test_phones_never_survive_in_any_format(before, after, mobile, style):
    typed = phone_formats(mobile)[style]
    masked = mask(f"{before} {typed} {after}")
    assert _gone(mobile, masked, before + after) and _gone(mobile[1:], masked, before + after)
    if not re.search(r"otp|mật khẩu", before, re.IGNORECASE):
        assert f"{mobile[:4]}*****{mobile[-2:]}" in masked


@given(
    before=sentence,
    code=typed_number(codes),
    label=st.sampled_from(
        ["otp", "OTP:", "mã OTP là", "ma xac thuc", "passcode", "mã xác nhận:", "", "nó gửi"]
    ),
    glued=st.booleans(),
)
def test_codes_never_survive_in_context(before, code, label, glued):
    digits, typed = code
    joint = "" if glued and label in ("otp", "OTP:", "passcode") else " "
    masked = mask(f"{before} {label}{joint}{typed}")
    assert _gone(digits, masked, before)


spaced = st.builds(lambda d, sep: sep.join(d), codes, st.sampled_from([" ", ".", "-"]))


@given(code=spaced)
def test_codes_one_digit_at_a_time_never_survive(code):
    assert _gone(re.sub(r"\D", "", code), mask(f"mã là {code} nhé"))


password_chars = st.sampled_from("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ@#!$%&.")
passwords = st.tuples(
    st.text(password_chars, min_size=3, max_size=10),
    digit,
    st.text(password_chars | digit, max_size=6),
).map("".join)


@given(
    password=passwords,
    label=st.sampled_from(
        [
            "mật khẩu",
            "MẬT KHẨU mới là",
            "mat khau cua toi la",
            "mk:",
            "mk",
            "pass",
            "password =",
            "Mật khẩu cũ:",
            "passcode",
        ]
    ),
    after=sentence,
)
def test_passwords_after_their_label_never_survive(password, label, after):
    masked = mask(f"{label} {password} {after}")
    assert password not in masked


@given(card=cards, grouped=st.booleans(), before=sentence)
def test_bank_cards_never_survive(card, grouped, before):
    typed = " ".join(card[i : i + 4] for i in range(0, len(card), 4)) if grouped else card
    masked = mask(f"{before} thẻ {typed}")
    assert _gone(card, masked, before)
    assert card[-4:] in masked


@given(
    user=st.from_regex(r"[a-z][a-z0-9._]{1,12}", fullmatch=True),
    domain=st.sampled_from(["gmail.com", "yahoo.com.vn", "Outlook.COM", "congan.gov.vn"]),
    before=sentence,
)
def test_email_addresses_never_survive(user, domain, before):
    masked = mask(f"{before} {user}@{domain} nhé")
    assert f"{user}@" not in masked


# --- what must stay ---------------------------------------------------------------------------
@given(text=sentence)
def test_ordinary_text_is_unchanged(text):
    assert mask(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "tôi quên mật khẩu",
        "otp ko ve",
        "mật khẩu là gì",
        "mat khau phai co nhung gi",
        "passcode là mấy số",
        "mã otp 1 lần",
        "HT-000123",
        "mã yêu cầu HT-004512 của tôi",
        "lệ phí 100.000 đồng",
        "100000 đồng",
        "lệ phí 100.000",
        "12/05/2025 lúc 7:30",
        "đợi 3 ngày rồi",
        "năm 2025",
        "OTP:\n1. Mở ứng dụng",
        "mức 2",
        "xã Đăk Choong",
    ],
)
def test_common_texts_are_unchanged(text):
    assert mask(text) == text


def _training_questions() -> list[str]:
    out: list[str] = []
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            out += [
                re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line[2:])
                for line in str(block.get("examples", "")).splitlines()
                if line.startswith("- ")
            ]
    return out


def test_citizen_questions_without_numbers_are_unchanged():
    """The training questions are what citizens write: masking leaves them as they are."""
    questions = [q for q in _training_questions() if not re.search(r"\d|@", q)]
    assert len(questions) > 1000
    changed = [q for q in questions if mask(q) != q]
    assert changed == []


# --- how masking behaves ----------------------------------------------------------------------
@given(text=st.text(st.characters(codec="utf-8"), max_size=60) | sentence)
def test_masking_is_idempotent(text):
    once = mask(text)
    assert mask(once) == once


@given(
    parts=st.lists(
        st.one_of(
            sentence,
            id_numbers,
            mobiles.map(lambda m: phone_formats(m)[3]),
            codes.map(lambda c: f"otp {c}"),
            passwords.map(lambda p: f"mật khẩu {p}"),
            cards,
        ),
        max_size=5,
    )
)
def test_masking_mixed_messages_is_idempotent(parts):
    once = mask(" ".join(parts))
    assert mask(once) == once


@given(text=st.text(max_size=40))
def test_skeleton_keeps_offsets(text):
    assert len(skeleton(text)) == len(text)


def test_code_spans_see_codes_not_amounts_phones_or_tickets():
    text = "mã 482 913, phí 100000 đồng, sđt 0912 345 678, HT-000123"
    assert [text[a:b] for a, b in code_spans(text)] == ["482 913"]
