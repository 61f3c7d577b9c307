"""The app and the action server freeze their start-up heap; the tests' apps do not."""

from __future__ import annotations

import asyncio
import gc

from fastapi.testclient import TestClient
from sanic import Sanic

from bot.actions import server
from bot.heap import settled
from bot.main import create_app


def test_settled_freezes_what_exists_and_lets_it_go_after() -> None:
    kept = [[]]
    kept[0].append(kept)  # a cycle, alive
    with settled() as frozen:
        assert frozen > 0 and gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_the_app_freezes_its_heap_while_it_serves(settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"gc_freeze": True}))) as client:
        assert gc.get_freeze_count() > 0
        assert client.get("/healthz").status_code == 200
    assert gc.get_freeze_count() == 0  # the next test's app starts from a plain heap


def test_a_test_app_leaves_the_heap_alone(client) -> None:
    assert client.get("/healthz").status_code == 200
    assert gc.get_freeze_count() == 0


def test_the_action_server_settles_after_it_starts(settings, monkeypatch) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)  # an app name may be taken by another test
    app = server.create_app(settings=settings.model_copy(update={"gc_freeze": True}))
    # registered for when the server starts (Sanic keeps them apart until then)
    (settle,) = [
        f.listener
        for f in app._future_listeners
        if f.event == "after_server_start" and f.listener.__name__ == "settle"
    ]
    try:
        asyncio.run(settle(app))
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
