"""nlu/tracker_store.py: Rasa's SQL tracker store that reads a conversation once (Rasa env).

Every test drives the cached store beside Rasa's own ``SQLTrackerStore`` (each on its own
database) with the same turns, and compares what ``retrieve`` returns and what is stored.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

rasa = pytest.importorskip("rasa", reason="runs in the Rasa environment (make test-nlu)")

import sqlalchemy as sa  # noqa: E402
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore  # noqa: E402
from rasa.core.utils import read_endpoints_from_path  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import (  # noqa: E402
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import EventVerbosity  # noqa: E402

from nlu.tracker_store import CachedSQLTrackerStore, EventCache  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(ROOT / "domain.yml")


def run(coroutine):
    return asyncio.run(coroutine)


def sqlite_url(tmp_path: Path, name: str) -> str:
    return f"sqlite:///{tmp_path / name}"


def stored_rows(store: SQLTrackerStore, sender: str) -> list[tuple]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT type_name, intent_name, action_name, timestamp, data FROM events "
                "WHERE sender_id = :s ORDER BY id"
            ),
            {"s": sender},
        ).fetchall()
    return [tuple(row) for row in rows]


def turn_events(text: str, intent: str, action: str, stamp: float) -> list:
    """A user message, the action that answers it, its reply and listening again."""
    parse = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    return [
        UserUttered(text, parse["intent"], [], parse_data=parse, timestamp=stamp),
        ActionExecuted(action, timestamp=stamp + 0.1),
        BotUttered(f"reply to {text}", {"buttons": []}, timestamp=stamp + 0.2),
        ActionExecuted("action_listen", timestamp=stamp + 0.3),
    ]


def session_start(stamp: float) -> list:
    return [
        ActionExecuted("action_session_start", timestamp=stamp),
        SessionStarted(timestamp=stamp + 0.01),
        ActionExecuted("action_listen", timestamp=stamp + 0.02),
    ]


async def play(store: TrackerStore, sender: str, events: list) -> dict:
    """One turn as Rasa's processor does it: read (or create), add the events, save."""
    tracker = await store.retrieve(sender)
    if tracker is None:  # create_tracker, with a timestamp both stores share
        tracker = store.init_tracker(sender)
        tracker.update(ActionExecuted("action_listen", timestamp=events[0].timestamp - 1))
        await store.save(tracker)
    for event in events:
        tracker.update(event)
    await store.save(tracker)
    again = await store.retrieve(sender)
    return again.current_state(EventVerbosity.ALL)


def conversation(start: float) -> list[list]:
    """Turns of one citizen: greeting, questions, a slot, a new session, more questions."""
    turns = [session_start(start)]
    stamp = start + 1
    for n, intent in enumerate(["greet", "faq", "faq", "request_handoff", "faq"]):
        events = turn_events(f"cau hoi {n}", intent, f"utter_{intent}", stamp)
        if intent == "request_handoff":
            events.insert(2, SlotSet("ho_commune", "Xốp", timestamp=stamp + 0.15))
        turns.append(events)
        stamp += 1
    turns.append(session_start(stamp) + turn_events("lai hoi", "faq", "utter_faq", stamp + 1))
    stamp += 2
    turns += [turn_events(f"hoi tiep {n}", "faq", "utter_faq", stamp + n) for n in range(3)]
    return turns


@pytest.fixture
def stores(tmp_path):
    reference = SQLTrackerStore(DOMAIN, host=sqlite_url(tmp_path, "reference.db"))
    cached = CachedSQLTrackerStore(DOMAIN, host=sqlite_url(tmp_path, "cached.db"))
    yield reference, cached
    reference.engine.dispose()
    cached.engine.dispose()


def test_same_trackers_and_rows_as_rasas_store_turn_after_turn(stores):
    reference, cached = stores
    for events in conversation(time.time()):
        expected = run(play(reference, "web:a", events))
        assert run(play(cached, "web:a", events)) == expected
        assert stored_rows(cached, "web:a") == stored_rows(reference, "web:a")
    # the second session only: the tracker starts at the latest SessionStarted
    state = run(cached.retrieve("web:a")).current_state(EventVerbosity.ALL)
    assert [e["event"] for e in state["events"][:2]] == ["session_started", "action"]
    assert state["slots"]["ho_commune"] is None  # set in the first session only


def count_statements(store: CachedSQLTrackerStore) -> list[str]:
    statements: list[str] = []
    sa.event.listen(
        store.engine, "before_cursor_execute", lambda *a: statements.append(a[2].split()[0])
    )
    return statements


def test_a_cached_conversation_costs_one_small_query_to_read_and_writes_only_new_events(stores):
    _, cached = stores
    turns = conversation(time.time())
    for events in turns[:4]:
        run(play(cached, "web:b", events))
    statements = count_statements(cached)
    tracker = run(cached.retrieve("web:b"))
    assert statements == ["SELECT"]  # the highest event id, not the events
    for event in turns[4]:
        tracker.update(event)
    statements.clear()
    run(cached.save(tracker))
    # the highest id, the new events in one statement, the new highest id: no count
    assert statements == ["SELECT", "INSERT", "SELECT"]


def test_another_replica_writing_the_conversation_is_seen(tmp_path):
    url = sqlite_url(tmp_path, "shared.db")
    one, two = CachedSQLTrackerStore(DOMAIN, host=url), CachedSQLTrackerStore(DOMAIN, host=url)
    reference = SQLTrackerStore(DOMAIN, host=sqlite_url(tmp_path, "reference.db"))
    try:
        turns = conversation(time.time())
        for store, events in zip([one, one, two, one, two, two, one], turns, strict=False):
            expected = run(play(reference, "tg:7", events))
            assert run(play(store, "tg:7", events)) == expected
            assert run(one.retrieve("tg:7")).current_state(EventVerbosity.ALL) == expected
            assert stored_rows(one, "tg:7") == stored_rows(reference, "tg:7")
    finally:
        for store in (one, two, reference):
            store.engine.dispose()


def test_a_deleted_conversation_is_gone_and_starts_again(stores):
    reference, cached = stores
    turns = conversation(time.time())
    for events in turns[:3]:
        run(play(cached, "web:c", events))
    with cached.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM events WHERE sender_id = 'web:c'"))
    assert run(cached.retrieve("web:c")) is None
    for events in turns[:2]:
        expected = run(play(reference, "web:c", events))
        assert run(play(cached, "web:c", events)) == expected
    assert stored_rows(cached, "web:c") == stored_rows(reference, "web:c")


def test_the_cache_keeps_the_most_recently_used_conversations_within_its_bytes():
    cache = EventCache(max_bytes=100)
    cache.put("a", ["x" * 40], 1)
    cache.put("b", ["y" * 40], 2)
    assert cache.get("a") == (["x" * 40], 1)  # "a" is now the most recent
    cache.put("c", ["z" * 40], 3)
    assert cache.get("b") is None and cache.get("a") is not None and cache.get("c") is not None
    assert cache.size == 80
    cache.put("huge", ["h" * 101], 4)  # larger than the whole cache: not kept
    assert cache.get("huge") is None and cache.size == 80
    cache.extend("a", 1, ["x2"], 5)
    assert cache.get("a") == (["x" * 40, "x2"], 5)
    cache.extend("a", 4, ["x3"], 6)  # not what was cached: forgotten, read again next time
    assert cache.get("a") is None and cache.size == 40


def test_a_small_cache_still_gives_the_same_trackers(tmp_path):
    reference = SQLTrackerStore(DOMAIN, host=sqlite_url(tmp_path, "reference.db"))
    cached = CachedSQLTrackerStore(DOMAIN, host=sqlite_url(tmp_path, "c.db"), cache_mb=0.002)
    try:
        turns = conversation(time.time())
        for events in turns:
            for sender in ("web:1", "web:2", "web:3"):
                expected = run(play(reference, sender, events))
                assert run(play(cached, sender, events)) == expected
        assert cached.cache.size <= 0.002 * 1024 * 1024
    finally:
        reference.engine.dispose()
        cached.engine.dispose()


def test_sqlite_runs_in_wal_mode_on_kept_connections(stores):
    _, cached = stores
    with cached.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    assert type(cached.engine.pool).__name__ == "QueuePool"


def test_on_postgresql_too(pg_url):
    url = pg_url.replace("+psycopg2", "")
    one, two = CachedSQLTrackerStore(DOMAIN, host=url), CachedSQLTrackerStore(DOMAIN, host=url)
    try:
        turns = conversation(time.time())
        seen = []
        for store, events in zip([one, one, two, one, two, one, one], turns, strict=False):
            seen.extend(events)
            state = run(play(store, "zalo:9", events))
            assert state == run(two.retrieve("zalo:9")).current_state(EventVerbosity.ALL)
        types = [row[0] for row in stored_rows(one, "zalo:9")]
        assert types == ["action"] + [e.type_name for e in seen]  # each stored once, in order
    finally:
        one.engine.dispose()
        two.engine.dispose()


def test_endpoints_yml_selects_this_store(tmp_path, monkeypatch):
    wiring = {
        "NLG_URL": "http://127.0.0.1:1/nlg",
        "INTERNAL_TOKEN": "t",
        "ACTION_ENDPOINT_URL": "http://127.0.0.1:1/webhook",
        "TRACKER_DIALECT": "sqlite",
        "TRACKER_URL": sqlite_url(tmp_path, "t.db"),
        "LOCK_STORE_TYPE": "in_memory",
        "LOCK_STORE_HOST": "",
        "LOCK_STORE_PORT": "0",
        "LOCK_STORE_DB": "0",
        "LOCK_STORE_PREFIX": "t",
    }
    for name, value in wiring.items():
        monkeypatch.setenv(name, value)
    endpoints = read_endpoints_from_path(ROOT / "endpoints.yml")
    store = TrackerStore.create(endpoints.tracker_store, DOMAIN)
    assert isinstance(store, CachedSQLTrackerStore)  # not Rasa's in-memory fallback
    store.engine.dispose()
    # Rasa's calls to the app's /nlg and to the action server carry the shared token
    assert endpoints.nlg.headers == {"X-Internal-Token": "t"}
    assert endpoints.action.headers == {"X-Internal-Token": "t"}
