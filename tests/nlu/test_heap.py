"""The loaded model's heap is frozen once per model, and an old model is let go."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from nlu.heap import Settler


class _Processor:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


class _Agent:
    def __init__(self) -> None:
        self.processor: _Processor | None = _Processor()


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_the_heap_is_frozen_once_per_loaded_model() -> None:
    settle = Settler()
    agent = _Agent()
    assert settle(agent) is True
    assert gc.get_freeze_count() > 0
    assert settle(agent) is False  # the same model: nothing to do before each message
    agent.processor = _Processor()  # PUT /model: a new processor
    assert settle(agent) is True


def test_a_replaced_model_is_collected_when_the_next_one_settles() -> None:
    settle = Settler()
    agent = _Agent()
    settle(agent)
    old = weakref.ref(agent.processor)
    agent.processor = _Processor()
    gc.collect()
    assert old() is not None  # frozen: the collector does not look at it
    settle(agent)
    assert old() is None


def test_no_model_yet_settles_nothing() -> None:
    settle = Settler()
    agent = _Agent()
    agent.processor = None
    assert settle(agent) is False
    assert settle(None) is False
    assert gc.get_freeze_count() == 0
