"""Turns are queued by /nlg and written in batches: in the background, on stop, after a failure."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.analytics.models import ChatTurn
from bot.analytics.recorder import TurnRecorder
from bot.db import Database, session_scope

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def tracker(message_id: str, text: str = "otp ko ve") -> dict:
    return {
        "sender_id": "tg:5",
        "latest_message": {
            "text": text,
            "message_id": message_id,
            "intent": {"name": "faq", "confidence": 0.9},
            "response_selector": {
                "faq": {"response": {"intent_response_key": "faq/otp_not_received"}}
            },
        },
    }


def stored(factory) -> int:
    with session_scope(factory) as session:
        return session.scalar(select(func.count()).select_from(ChatTurn))


def test_turns_are_written_in_the_background_and_when_the_app_stops(session_factory):
    db = Database(session_factory, threads=1)
    recorder = TurnRecorder(db, clock=lambda: NOW, interval_s=0.05)

    async def go():
        async with recorder.running():
            recorder.add(tracker("a"), "utter_faq/otp_not_received")
            for _ in range(100):  # within a few intervals, with nobody asking
                await asyncio.sleep(0.02)
                if stored(session_factory) == 1:
                    break
            assert stored(session_factory) == 1
            recorder.interval_s = 3600  # the next write can only come from stopping
            await asyncio.sleep(0.1)
            recorder.add(tracker("b"), "utter_default")
        assert stored(session_factory) == 2 and recorder.pending == 0

    asyncio.run(go())
    with session_scope(session_factory) as session:
        first = session.scalar(select(ChatTurn).where(ChatTurn.message_id == "a"))
        assert first.intent == "faq/otp_not_received" and first.channel == "telegram"
        assert first.created_at == NOW  # when it was asked, not when it was written


class FlakyDatabase:
    """A Database whose next ``failures`` units raise, as a locked or unreachable one does."""

    def __init__(self, real: Database, failures: int) -> None:
        self.real, self.failures = real, failures

    async def run(self, work):
        if self.failures:
            self.failures -= 1
            raise RuntimeError("database is locked")
        return await self.real.run(work)


def test_a_failed_write_keeps_the_rows_for_the_next_one(session_factory):
    db = FlakyDatabase(Database(session_factory, threads=1), failures=2)
    recorder = TurnRecorder(db, clock=lambda: NOW)  # type: ignore[arg-type]

    async def go():
        recorder.add(tracker("a"), "utter_x")
        recorder.add(tracker("b"), "utter_x")
        assert await recorder.flush() == 0
        assert await recorder.flush() == 0
        recorder.add(tracker("c"), "utter_x")
        assert recorder.pending == 3
        assert await recorder.flush() == 3

    asyncio.run(go())
    assert stored(session_factory) == 3


def test_a_database_down_for_long_costs_the_oldest_figures_not_memory(session_factory):
    db = FlakyDatabase(Database(session_factory, threads=1), failures=10**6)
    recorder = TurnRecorder(db, clock=lambda: NOW, max_pending=50)  # type: ignore[arg-type]

    async def go():
        for n in range(80):
            recorder.add(tracker(f"m{n}"), "utter_x")
        assert await recorder.flush() == 0

    asyncio.run(go())
    assert recorder.pending == 50 and recorder.dropped == 30


def test_nothing_to_record_and_bad_trackers_are_ignored(session_factory):
    recorder = TurnRecorder(Database(session_factory, threads=1), clock=lambda: NOW)
    recorder.add({"sender_id": "web:x", "latest_message": {}}, "utter_greet")  # no message
    recorder.add({"sender_id": "web:x", "latest_message": "not a dict"}, "utter_greet")
    recorder.add({"latest_message": {"text": "hi", "message_id": "m", "intent": 5}}, "u")
    assert recorder.pending == 0
