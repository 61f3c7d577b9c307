"""The tests' one fake clock: a ``bot.db.Clock`` that moves only when the test moves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["START", "FakeClock"]

START = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)  # a Saturday, 15:00 in Vietnam


class FakeClock:
    """Callable like ``bot.db.utcnow``; ``advance(minutes=30)`` moves it."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the time forward by ``timedelta(**delta)``."""
        self.now += timedelta(**delta)
