"""The time the processes run on: the real one, or a test's moved one.

End-to-end tests must see what happens "the day before" a session and outside the quiet
hours without waiting days. With ``ENVIRONMENT=test`` and ``TEST_CLOCK_FILE`` set, every
process of a stack (app, action server) adds the number of seconds written in that file to
the real time; the test writes the file to move time forward. Production never reads it.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from bot.config import Settings
from bot.db import Clock, utcnow

__all__ = ["ShiftedClock", "system_clock"]


class ShiftedClock:
    """``utcnow()`` plus the seconds in a file (re-read when the file changes)."""

    def __init__(self, path: Path) -> None:
        """Read the shift from ``path`` (missing or empty: no shift)."""
        self._path = path
        self._stamp: tuple[int, int, int] | None = None
        self._shift = timedelta(0)

    def __call__(self) -> datetime:
        """The shifted time."""
        try:
            found = os.stat(self._path)
        except FileNotFoundError:
            return utcnow()
        # Size and inode too: a file truncated then written within one tick of the
        # file system's clock keeps its mtime, and the empty file read in between
        # would otherwise be the shift for good.
        stamp = (found.st_mtime_ns, found.st_size, found.st_ino)
        if stamp != self._stamp:
            text = self._path.read_text(encoding="utf-8").strip()
            try:
                self._shift = timedelta(seconds=float(text or 0))
            except ValueError:  # caught half-written: keep the last shift, read it again
                return utcnow() + self._shift
            self._stamp = stamp
        return utcnow() + self._shift


def system_clock(settings: Settings) -> Clock:
    """The clock of this process: real, unless a test stack moved it."""
    if settings.environment == "test" and settings.test_clock_file is not None:
        return ShiftedClock(settings.test_clock_file)
    return utcnow
