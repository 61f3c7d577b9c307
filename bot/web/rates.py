"""Rate limits: token buckets per key (a citizen, an address), in this process's memory.

A bucket holds ``burst`` tokens and refills at ``per_minute``; each message takes one. A
citizen who types faster than a person reads gets a friendly "slow down" reply instead of
an answer (the gateway, every channel); an address that sends more than a commune hall full
of phones would gets 429 (the web chat's endpoints). Kept per process (each replica counts
its own share), bounded in memory: the least recently seen keys are forgotten first.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request

__all__ = ["TOO_MANY", "Buckets", "per_address"]

TOO_MANY = "Có quá nhiều yêu cầu từ địa chỉ mạng này. Bạn đợi một lát rồi thử lại nhé."


@dataclass
class _Bucket:
    tokens: float
    at: float


class Buckets:
    """Token buckets under keys; ``take(key)`` says whether the key may go on now."""

    def __init__(
        self,
        *,
        per_minute: float,
        burst: int,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``per_minute`` tokens a minute per key, at most ``burst`` saved up."""
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str) -> bool:
        """Take a token for ``key``; False when it has none left (it must wait)."""
        now = self._clock()
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
        self._buckets[key] = bucket  # the most recently seen last
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` has a token again (0 when it has one)."""
        bucket = self._buckets.get(key)
        if bucket is None or self.rate <= 0:
            return 0.0
        tokens = min(self.burst, bucket.tokens + (self._clock() - bucket.at) * self.rate)
        return max(0.0, (1.0 - tokens) / self.rate)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in ("localhost", "testclient")


async def per_address(request: Request) -> None:
    """Dependency: 429 for an address past its limit (``app.state.address_rates``)."""
    host = request.client.host if request.client else ""
    if not host or _loopback(host):
        return  # the operator's own tools, the tests
    buckets: Buckets = request.app.state.address_rates
    if not buckets.take(host):
        wait = math.ceil(buckets.retry_after(host)) or 1
        raise HTTPException(status_code=429, detail=TOO_MANY, headers={"Retry-After": str(wait)})
