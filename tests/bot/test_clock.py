"""The test stacks' shifted clock (TEST_CLOCK_FILE): it follows every write of its file."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest

from bot.clock import ShiftedClock
from bot.db import utcnow

DAY = 86_400


def shift_of(clock: ShiftedClock) -> float:
    return (clock() - utcnow()).total_seconds()


def test_no_file_or_an_empty_one_is_no_shift(tmp_path):
    path = tmp_path / "clock"
    clock = ShiftedClock(path)
    assert shift_of(clock) == pytest.approx(0, abs=1)
    path.write_text("", encoding="utf-8")
    assert shift_of(clock) == pytest.approx(0, abs=1)


def test_a_rewrite_within_one_tick_of_the_file_system_clock_is_seen(tmp_path):
    # A writer truncates, then writes: a reader in between sees an empty file. When both
    # happen within one tick of the file system's clock the mtime does not move.
    path = tmp_path / "clock"
    path.write_text("", encoding="utf-8")
    clock = ShiftedClock(path)
    assert shift_of(clock) == pytest.approx(0, abs=1)  # read while "being written"
    tick = os.stat(path).st_mtime_ns
    path.write_text(str(2 * DAY), encoding="utf-8")
    os.utime(path, ns=(tick, tick))  # the same mtime as the empty file had
    assert shift_of(clock) == pytest.approx(2 * DAY, abs=1)


def test_a_half_written_shift_keeps_the_last_one_until_it_is_whole(tmp_path):
    path = tmp_path / "clock"
    path.write_text(str(DAY), encoding="utf-8")
    clock = ShiftedClock(path)
    assert shift_of(clock) == pytest.approx(DAY, abs=1)
    path.write_text("17280", encoding="utf-8")  # the first digits of 172800.5 ...
    path.write_text("1e", encoding="utf-8")  # ... or bytes that are not a number yet
    assert shift_of(clock) == pytest.approx(DAY, abs=1)
    path.write_text("172800.5", encoding="utf-8")
    assert clock() - utcnow() == pytest.approx(
        timedelta(seconds=172800.5), abs=timedelta(seconds=1)
    )
