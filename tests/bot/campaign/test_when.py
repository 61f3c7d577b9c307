"""Dates, hours and delays as officers and citizens type them; the quiet hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.campaign import when

TODAY = date(2026, 12, 7)  # a Monday


@pytest.mark.parametrize(
    ("text", "day", "hours", "place"),
    [
        (
            "15/12 7h30-11h Nhà văn hóa thôn 3",
            date(2026, 12, 15),
            (time(7, 30), time(11)),
            "Nhà văn hóa thôn 3",
        ),
        (
            "mai 7:30 - 11:00, Nhà rông làng Đăk Xú",
            date(2026, 12, 8),
            (time(7, 30), time(11)),
            "Nhà rông làng Đăk Xú",
        ),
        (
            "ngày kia 13h30-16h30 Trường tiểu học",
            date(2026, 12, 9),
            (time(13, 30), time(16, 30)),
            "Trường tiểu học",
        ),
        (
            "Ngay mai 8g den 11g hoi truong xa",
            date(2026, 12, 8),
            (time(8), time(11)),
            "hoi truong xa",
        ),
        ("3/1 7h-11h UBND xã", date(2027, 1, 3), (time(7), time(11)), "UBND xã"),  # next year
        ("15/12", date(2026, 12, 15), None, ""),
        ("20/12/2026 Hội trường xã", date(2026, 12, 20), None, "Hội trường xã"),
        ("Nhà văn hóa", None, None, "Nhà văn hóa"),
        ("", None, None, ""),
        ("31/02 7h nhà", None, None, "31/02 7h nhà"),  # no such day: nothing is guessed
    ],
)
def test_an_officers_line_is_read_as_day_hours_and_place(text, day, hours, place):
    assert when.parse_announcement(text, TODAY) == (day, hours, place)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7h30-11h", (time(7, 30), time(11))),
        ("7:30 - 11:00", (time(7, 30), time(11))),
        ("13g30 đến 16g", (time(13, 30), time(16))),
        ("14 giờ", (time(14), None)),
        ("7-11", (time(7), time(11))),
        ("11h-7h", (time(11), None)),  # an end before the start is dropped, not swapped
        ("25h", None),
        ("sáng mai", None),
        ("15/12", None),  # a date is not an hour
    ],
)
def test_opening_hours(text, expected):
    assert when.parse_hours(text) == expected


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("nhắc tôi sau 3 ngày", 3),
        ("nhac toi sau ba ngay", 3),
        ("2 tuần nữa nhắc lại", 14),
        ("tuan sau nhac toi", 7),
        ("ngày mai nhắc mình", 1),
        ("1 tháng nữa", 30),
        ("nhắc tôi nhé", None),
    ],
)
def test_delays(text, days):
    assert when.parse_days(text) == days


def _vn(hour: int, minute: int = 0, day: int = 7) -> datetime:
    """December ``day``, 2026 at ``hour``:``minute`` in Vietnam."""
    return when.at_vietnam(date(2026, 12, day), time(hour, minute))


def test_quiet_hours_are_21_to_7_in_vietnam():
    assert not when.is_quiet(_vn(7))
    assert not when.is_quiet(_vn(20, 59))
    assert when.is_quiet(_vn(21))
    assert when.is_quiet(_vn(6, 59))
    # 22:00 waits until 07:00 the next morning; 05:00 until 07:00 that morning
    assert when.next_allowed(_vn(22)) == _vn(7, day=8)
    assert when.next_allowed(_vn(5)) == _vn(7)
    assert when.next_allowed(_vn(9)) == _vn(9)


@given(
    st.datetimes(
        min_value=datetime(2025, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
        max_value=datetime(2030, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
)
def test_next_allowed_is_never_quiet_never_earlier_and_at_most_ten_hours_later(moment):
    allowed = when.next_allowed(moment)
    assert not when.is_quiet(allowed)
    assert allowed >= moment
    assert (allowed - moment).total_seconds() <= 10 * 3600


def test_days_and_times_are_said_in_vietnamese():
    starts = when.at_vietnam(date(2026, 12, 15), time(7, 30))
    ends = when.at_vietnam(date(2026, 12, 15), time(11))
    assert when.say_when(starts, ends) == "Thứ Ba 15/12, 7:30-11:00"
    assert when.say_when(starts, None) == "Thứ Ba 15/12, 7:30"
    assert when.vietnam_day(datetime(2026, 12, 14, 17, 30, tzinfo=UTC)) == date(2026, 12, 15)
