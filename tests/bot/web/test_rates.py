"""Token buckets: a burst, then the rate; keys apart; memory bounded."""

from __future__ import annotations

from bot.web.rates import Buckets


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_token_per_interval():
    ticks = Ticks()
    buckets = Buckets(per_minute=60, burst=3, clock=ticks)
    assert [buckets.take("a") for _ in range(4)] == [True, True, True, False]
    assert buckets.retry_after("a") == 1.0
    ticks.now = 0.5
    assert not buckets.take("a")
    ticks.now = 1.0
    assert buckets.take("a") and not buckets.take("a")
    assert buckets.take("b")  # another key has its own bucket
    ticks.now = 100.0  # a long pause saves up no more than the burst
    assert [buckets.take("a") for _ in range(4)] == [True, True, True, False]


def test_the_least_recently_seen_keys_are_forgotten():
    buckets = Buckets(per_minute=1, burst=1, max_keys=2, clock=Ticks())
    assert buckets.take("a") and buckets.take("b") and buckets.take("c")
    assert buckets.take("a")  # forgotten: a fresh bucket
    assert not buckets.take("c")  # remembered: still empty
