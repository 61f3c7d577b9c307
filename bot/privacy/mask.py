"""Mask personal numbers and secrets in whatever a citizen typed.

Citizens type their 12-digit ID number, their phone number, an OTP, a password, even a bank
card, despite being told not to. The gateway masks every message before Rasa sees it (so
Rasa's tracker store and logs never hold them), and tickets, transcripts, officer alerts,
analytics rows and logs only ever hold masked text.

What is masked, and how much of it stays (enough for an officer to recognise, never enough to
use):

- passwords and codes after their label, on the same line: "mật khẩu mới là Abc@12345",
  "mk:abc123", "otp482913", "passcode la 654321" (a secret holds a digit, as VNeID's do, so
  "mật khẩu là gì" is a question, not a secret);
- e-mail addresses: ``n***@gmail.com``;
- bank cards (13-19 digits passing the Luhn check): ``**** **** **** 1111``;
- 12-digit ID numbers (they start with the province code, 001-096) however grouped:
  ``062******345``;
- phone numbers (mobile and landline, +84/84/0, spaces, dots, dashes, brackets):
  ``0912*****78``;
- 9-digit old ID numbers (CMND): ``*********``;
- six-digit codes however they are grouped ("482 913", "4 8 2 9 1 3", "48.29.13"):
  ``******``.

Amounts ("100000 đồng"), dates, years, times and ticket codes ("HT-000123") stay as typed.
Masking is idempotent: masking masked text changes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator

__all__ = ["MASKED_PHONE_RE", "code_spans", "mask", "phone_numbers", "skeleton"]

Span = tuple[int, int]


def _fold_char(char: str) -> str:
    if char in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", char)[0]
    return (base if not unicodedata.combining(base) else char).lower()[:1] or char


def skeleton(text: str) -> str:
    """Lower-case, diacritics removed, one character for one: offsets match ``text``'s."""
    return "".join(_fold_char(c) for c in text)


# --- secrets after their label ---------------------------------------------------------------
_LABELS = (  # on the folded text; longer first so "password" is not read as "pass" + "word"
    r"ma\s+(?:xac\s+(?:thuc|nhan)|otp|pin|bao\s+mat|kich\s+hoat)|mat\s*khau|passcode|password"
    r"|passwork|pass|otp|mk|pin|pw"
)
_FILLER = r"(?:cua[ \t]+(?:toi|minh|em|tui|anh|chi)|moi|cu|la|:|=|-|[ \t])*"  # one line
_SECRET_RE = re.compile(
    rf"(?<![^\W\d_])(?:{_LABELS})(?![^\W\d_]){_FILLER}"
    # the secret: on the same line, four characters or more, at least one digit
    # not a ticket code (HT-000123), a time (7:30) or a date (12/5)
    r"(?P<secret>(?![a-z]{2}-\d{6}\b|\d{1,2}[:h]\d{2}\b|\d{1,2}/\d{1,2}\b)"
    r"(?:\d(?:[ .\-]?\d){5}(?![\d.\-]?\d)|(?=[^\s*]*\d)[^\s*]{4,}))"  # or six digits, grouped
)
_EMAIL_RE = re.compile(r"(?<![\w.+-])(\w[\w.+-]*)@((?:[\w-]+\.)+[a-z]{2,})(?![\w-])", re.IGNORECASE)
_SEP = r"[ .\-]"  # what people put between digit groups
# a run of grouped digits, not the number of a ticket code (HT-000123)
# (dates and times are not: 12/05/2025, 7:30)
_RUN_RE = re.compile(rf"(?<![\w*/:,])(?<![A-Za-z]{{2}}-)\d(?:{_SEP}?\d)+(?![\w*/:]|[.,]\d)")
_PHONE_RE = re.compile(
    # at the start of a number (not inside "4000 8420 0000 0007"): +84, (+84), 84, (091), 0
    r"(?<![\w*+])(?:\(\s*\+?84\s*\)|\+\s?84|\(0\d{1,3}\)|(?<!\d[ .\-])(?:84|0))"
    r"(?:[ .\-]?\(?\d\)?){6,10}(?![\w*])"
)
_MONEY_RE = re.compile(r"\s*(?:d\b|dong|vnd|k\b|nghin|ngan|trieu|ty|xu|%)")
_THOUSANDS_RE = re.compile(r"\d{1,3}(?:\.\d{3})+")  # 100.000, 1.000.000
_PRICE_RE = re.compile(r"\b(?:phi|tien|gia|nop|tra|mat|chuyen|het|ton|khoang)\W+$")


MASKED_PHONE_RE = re.compile(r"(?<![\d*])0\d{3}\*{5}\d{2}(?!\d)")  # how a phone is masked


_NON_DIGIT_RE = re.compile(r"\D")
_NOT_CODE_RE = re.compile(r"[^\d .\-]")  # a code is digits, perhaps grouped


def _digits(text: str) -> str:
    return _NON_DIGIT_RE.sub("", text)


def _luhn(number: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(number)):
        d = int(char) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _phone(text: str) -> str | None:
    """The masked form of a phone number, or None when the digits are not one."""
    digits = _digits(text)
    if digits.startswith("84") and not text.lstrip().startswith("0"):
        digits = "0" + digits[2:]
    if not digits.startswith("0") or digits.startswith("00"):
        return None
    mobile = len(digits) == 10 and digits[1] in "35789"
    landline = len(digits) == 11 and digits[1] == "2"
    if not (mobile or landline):
        return None
    return f"{digits[:4]}*****{digits[-2:]}"


def _phone_spans(text: str) -> Iterator[Span]:
    """Where each phone number is.

    The longest start of a phone-like match that is one ("0912345678 3 lần": the 3 is not
    part of the number).
    """
    pos = 0
    while (m := _PHONE_RE.search(text, pos)) is not None:
        pos = m.start() + 1  # none here: look again from the next character
        for end in reversed([m.start() + d.end() for d in re.finditer(r"\d", m.group())]):
            if _phone(text[m.start() : end]) is not None:
                yield m.start(), end + (text[end : end + 1] == ")")
                pos = end
                break


def _phones(text: str) -> Iterator[tuple[Span, str]]:
    for start, end in _phone_spans(text):
        yield (start, end), _phone(text[start:end]) or ""


def phone_numbers(text: str) -> list[str]:
    """The phone numbers in ``text``, as ten or eleven digits starting with 0."""
    out = []
    for start, end in _phone_spans(text):
        digits = _digits(text[start:end])
        out.append("0" + digits[2:] if digits.startswith("84") else digits)
    return out


def _money_after(folded: str, end: int) -> bool:
    return bool(_MONEY_RE.match(folded[end : end + 8]))


def _amount(text: str, folded: str, span: Span) -> bool:
    """An amount of money: "100000 đồng", "lệ phí 100.000" (not "mã là 482.913")."""
    start, end = span
    if _money_after(folded, end):
        return True
    thousands = _THOUSANDS_RE.fullmatch(text[start:end]) is not None
    return thousands and _PRICE_RE.search(folded[max(0, start - 16) : start]) is not None


_LONGEST = 19  # digits of the longest number masked (a card)


def _card_groups(run: str) -> bool:
    """Card numbers are typed whole or in fours: 4111 1111 1111 1111."""
    sizes = [len(g) for g in re.findall(r"\d+", run)]
    return len(sizes) == 1 or all(size == 4 for size in sizes[:-1])


_LENGTHS = frozenset({6, 9, 10, 11, 12, *range(13, _LONGEST + 1)})  # of numbers masked


def _masked(run: str) -> tuple[int, str] | None:
    """How sure a reading of one number is (0 first) and its masked form; None: not one."""
    digits = _digits(run)
    if len(digits) not in _LENGTHS:
        return None
    phone = _phone(run)
    if phone is not None:
        return 0, phone
    if len(digits) >= 13 and _card_groups(run) and _luhn(digits):
        return 0, "**** **** **** " + digits[-4:]
    if len(digits) == 12 and digits[0] == "0":  # a province code 001-096 comes first
        return 0, f"{digits[:3]}******{digits[-3:]}"
    if len(digits) == 9:
        return 1, "*********"
    if len(digits) == 6:
        return 2, "******"
    return None


def _windows(text: str, folded: str, groups: list[Span]) -> Iterator[tuple[Span, str]]:
    """The numbers among a run's groups.

    The surest, longest window of groups that is one, then the same among the groups either
    side of it ("mức 2 062 201 012 345": the 2 is not in the ID; "2 030 000 00 00" is a 2
    and a phone, not an old ID and two zeros).
    """
    readings = []
    for i in range(len(groups)):
        count = 0
        for j in range(i, len(groups)):
            span = (groups[i][0], groups[j][1])
            count += groups[j][1] - groups[j][0]
            if count > _LONGEST:
                break  # no number is longer: linear in the run, whatever a message holds
            if count not in _LENGTHS:
                continue
            reading = _masked(text[span[0] : span[1]])
            if reading is not None and not _amount(text, folded, span):
                readings.append((reading[0], i - j, i, j, span, reading[1]))
    free = [True] * len(groups)
    for _, _, i, j, span, masked in sorted(readings):
        if all(free[i : j + 1]):
            free[i : j + 1] = [False] * (j + 1 - i)
            yield span, masked


def _segments(run: re.Match[str]) -> Iterator[list[Span]]:
    """A run's digit groups, cut where a group is long.

    People group digits in twos to fours, so "2025 001646485669" is a year and an ID
    number, not one card.
    """
    segment: list[Span] = []
    for g in re.finditer(r"\d+", run.group()):
        span = (run.start() + g.start(), run.start() + g.end())
        if g.end() - g.start() > 4:
            if segment:
                yield segment
            yield [span]
            segment = []
        else:
            segment.append(span)
    if segment:
        yield segment


def _runs(text: str, folded: str) -> Iterator[tuple[Span, str]]:
    """Each number to mask in the text's runs of grouped digits, with its masked form."""
    for m in _RUN_RE.finditer(text):
        for groups in _segments(m):
            start, end = groups[0][0], groups[-1][1]
            digits = _digits(text[start:end])
            if len(groups) > _LONGEST:  # no one groups a number so finely: all of it goes
                yield (start, end), "*" * len(digits)
                continue
            found = list(_windows(text, folded, groups))
            yield from found
            if not found and len(digits) >= 10 and not _amount(text, folded, (start, end)):
                yield (start, end), "*" * (len(digits) - 4) + digits[-4:]  # an account number


def code_spans(text: str) -> list[Span]:
    """Where six-digit codes are in ``text`` (in any grouping), as (start, end).

    Six digits followed by a currency word ("100000 đồng") are an amount, six digits inside a
    phone or ID number are that number, and a ticket code is not a code.
    """
    folded = skeleton(text)
    taken = list(_phone_spans(text))
    runs = [
        span
        for span, masked in _runs(text, folded)
        if masked == "******" and not any(a < span[1] and span[0] < b for a, b in taken)
    ]
    glued = [  # "otp482913": six digits right after a code's label
        span
        for span in _secrets(folded)
        if len(_digits(text[span[0] : span[1]])) == 6
        and not _NOT_CODE_RE.search(folded[span[0] : span[1]])
        and span not in runs
    ]
    return sorted(runs + glued)


def _secrets(folded: str) -> Iterator[Span]:
    """Where the secrets typed after their label are (on the folded text)."""
    for m in _SECRET_RE.finditer(folded):
        if not _money_after(folded, m.end("secret")):
            yield m.span("secret")


def _replace(text: str, found: Iterator[tuple[Span, str]]) -> str:
    out, last = [], 0
    for (start, end), masked in sorted(found):
        if start < last:  # overlaps what an earlier rule masked
            continue
        out += [text[last:start], masked]
        last = end
    return "".join([*out, text[last:]])


def _each(
    regex: re.Pattern[str], how: Callable[[re.Match[str]], str | None], text: str
) -> Iterator[tuple[Span, str]]:
    for m in regex.finditer(text):
        masked = how(m)
        if masked is not None:
            yield m.span(), masked


def mask(text: str) -> str:
    """Return ``text`` with IDs, phone numbers, cards, e-mails, codes and secrets masked."""
    if not any(c.isdigit() or c == "@" for c in text):
        return text  # nothing to mask: the common case costs one scan
    folded = skeleton(text)
    # secrets after a label: found on the folded text, replaced in the typed one
    text = _replace(
        text,
        ((span, "***") for span in _secrets(folded)),
    )
    text = _replace(text, _each(_EMAIL_RE, lambda m: f"{m.group(1)[0]}***@{m.group(2)}", text))
    text = _replace(text, _phones(text))
    folded = skeleton(text)
    return _replace(text, _runs(text, folded))
