"""Dates, hours and delays as people type them, and Vietnam's quiet hours.

Officers type "15/12", "mai", "7h30-11h", "7:30 - 11:00"; citizens "nhắc tôi sau 3
ngày", "tuần sau". Everything is read in Vietnam's time (UTC+7, no daylight saving) and
stored in UTC.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta

from bot.db import VIETNAM, as_utc
from nlu.text import fold

__all__ = [
    "QUIET_END",
    "QUIET_START",
    "at_vietnam",
    "is_quiet",
    "next_allowed",
    "parse_day",
    "parse_days",
    "parse_announcement",
    "parse_hours",
    "split_day",
    "say_day",
    "say_when",
    "vietnam_day",
]

QUIET_START = 21  # no reminder from 21:00 ...
QUIET_END = 7  # ... to 07:00, Vietnam time

_WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
_DATE_RE = re.compile(r"\b(\d{1,2})\s*[/.]\s*(\d{1,2})(?:\s*[/.]\s*(\d{2,4}))?\b")
_TIME = r"(\d{1,2})\s*(?::|h|g|gio)\s*(\d{2})?"
_HOURS_RE = re.compile(_TIME + r"(?:\s*(?:-|–|den|toi|->)\s*" + _TIME + r")?")
_BARE_HOURS_RE = re.compile(r"\b(\d{1,2})\s*(?:-|–|den)\s*(\d{1,2})\b")
_DAYS_RE = re.compile(r"\b(\d{1,2})\s*(ngay|hom|tuan|thang)\b")
_NUMBER_WORDS = {
    "mot": 1,
    "hai": 2,
    "ba": 3,
    "bon": 4,
    "tu": 4,
    "nam": 5,
    "sau": 6,
    "bay": 7,
    "tam": 8,
    "chin": 9,
    "muoi": 10,
}
_UNIT_DAYS = {"ngay": 1, "hom": 1, "tuan": 7, "thang": 30}


def _plain(text: str) -> str:
    return " ".join(fold(text.lower()).split())


def vietnam_day(moment: datetime) -> date:
    """The date in Vietnam at ``moment``."""
    return as_utc(moment).astimezone(VIETNAM).date()


def at_vietnam(day: date, clock_time: time) -> datetime:
    """``day`` at ``clock_time`` in Vietnam, as a UTC datetime."""
    return datetime.combine(day, clock_time, tzinfo=VIETNAM).astimezone(UTC)


def is_quiet(moment: datetime) -> bool:
    """Whether ``moment`` falls in the quiet hours (21:00-07:00 in Vietnam)."""
    hour = as_utc(moment).astimezone(VIETNAM).hour
    return hour >= QUIET_START or hour < QUIET_END


def next_allowed(moment: datetime) -> datetime:
    """``moment``, or the end of the quiet hours it falls in."""
    if not is_quiet(moment):
        return as_utc(moment)
    local = as_utc(moment).astimezone(VIETNAM)
    day = local.date() if local.hour < QUIET_END else local.date() + timedelta(days=1)
    return at_vietnam(day, time(QUIET_END))


_RELATIVE = (
    ("hom nay", 0),
    ("ngay mai", 1),
    ("mai", 1),
    ("ngay kia", 2),
    ("ngay mot", 2),
    ("mot", 2),
)


def split_day(text: str, today: date) -> tuple[date | None, str]:
    """The date a text starts with ("15/12", "15/12/2026", "mai", "ngày kia") and the rest.

    Without a year, the next such date on or after ``today``. The rest is in the folded form.
    """
    plain = _plain(text)
    found = _DATE_RE.match(plain)
    if found:
        rest = plain[found.end() :].strip()
        day, month, year = int(found.group(1)), int(found.group(2)), found.group(3)
        try:
            if year:
                full = int(year) + (2000 if len(year) == 2 else 0)
                return date(full, month, day), rest
            candidate = date(today.year, month, day)
            if candidate < today:
                candidate = date(today.year + 1, month, day)
            return candidate, rest
        except ValueError:
            return None, plain
    for words, offset in _RELATIVE:
        if plain == words or plain.startswith(words + " "):
            return today + timedelta(days=offset), plain[len(words) :].strip()
    return None, plain


def parse_day(text: str, today: date) -> date | None:
    """The date ``text`` starts with, or None."""
    return split_day(text, today)[0]


def parse_announcement(
    text: str, today: date
) -> tuple[date | None, tuple[time, time | None] | None, str]:
    """An officer's one line: "15/12 7h30-11h Nhà văn hóa thôn 3" -> day, hours, place.

    The day comes first, then the hours, then the place as typed (diacritics kept). A part
    that cannot be read is None (or "" for the place), to be asked for.
    """
    original = unicodedata.normalize("NFC", text)
    plain = fold(original.lower())  # same length as the original: spans carry over
    position = len(plain) - len(plain.lstrip())
    found = _DATE_RE.match(plain, position)
    day = parse_day(found.group(0), today) if found else None
    if found and day is not None:
        position = found.end()
    else:
        for words, offset in _RELATIVE:
            if re.match(rf"{words}\b", plain[position:]):
                day = today + timedelta(days=offset)
                position += len(words)
                break
    hours = None
    rest = plain[position:]
    lead = len(rest) - len(rest.lstrip(" ,;"))
    clock = re.compile(_HOURS_RE.pattern + r"\b").match(rest, lead)
    if clock:
        hours = parse_hours(clock.group(0))
        if hours is not None:
            position += clock.end()
    place = original[position:].strip(" ,;:-–\n\t")
    return day, hours, place


def _clock(hours: str, minutes: str | None) -> time | None:
    h, m = int(hours), int(minutes or 0)
    return time(h, m) if 0 <= h <= 23 and 0 <= m <= 59 else None


def parse_hours(text: str) -> tuple[time, time | None] | None:
    """The opening hours in "7h30-11h", "7:30 - 11:00", "14 giờ", "7-11"; None if none."""
    plain = _plain(text)
    # a date ("15/12") is not an hour: take it out first
    plain = _DATE_RE.sub(" ", plain)
    found = _HOURS_RE.search(plain)
    if found:
        start = _clock(found.group(1), found.group(2))
        end = _clock(found.group(3), found.group(4)) if found.group(3) else None
    else:
        bare = _BARE_HOURS_RE.search(plain)
        if bare is None:
            return None
        start, end = _clock(bare.group(1), None), _clock(bare.group(2), None)
    if start is None:
        return None
    if end is not None and end <= start:
        end = None
    return start, end


def parse_days(text: str) -> int | None:
    """The delay in "sau 3 ngày", "2 tuần nữa", "ngày mai", "tuần sau"; None if none."""
    plain = _plain(text)
    found = _DAYS_RE.search(plain)
    if found:
        return int(found.group(1)) * _UNIT_DAYS[found.group(2)]
    words = plain.split()
    for i, word in enumerate(words[:-1]):
        if word in _NUMBER_WORDS and words[i + 1] in _UNIT_DAYS:
            return _NUMBER_WORDS[word] * _UNIT_DAYS[words[i + 1]]
    spaced = f" {plain} "
    if " tuan sau " in spaced or " tuan toi " in spaced:
        return 7
    if " ngay kia " in spaced:
        return 2
    if " mai " in spaced:
        return 1
    return None


def say_day(day: date) -> str:
    """The day as people say it: "Thứ Ba 15/12"."""
    return f"{_WEEKDAYS[day.weekday()]} {day.day:02d}/{day.month:02d}"


def say_when(starts_at: datetime, ends_at: datetime | None) -> str:
    """The day and hours in Vietnam's time: "Thứ Ba 15/12, 7:30-11:00"."""
    start = as_utc(starts_at).astimezone(VIETNAM)
    hours = f"{start.hour}:{start.minute:02d}"
    if ends_at is not None:
        end = as_utc(ends_at).astimezone(VIETNAM)
        hours += f"-{end.hour}:{end.minute:02d}"
    return f"{say_day(start.date())}, {hours}"
