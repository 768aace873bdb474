"""Rate limits (token buckets per key) and a cap on concurrent connections per address.

Both are plain dicts touched only from the event loop: no locks, O(1) per request.
Idle, full buckets are dropped now and then, so a scan from many addresses cannot
grow memory without bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """A token bucket per key: `rate` per second, at most `burst` at once."""

    PRUNE_EVERY = 1024

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = float(rate)
        self.burst = float(max(1, burst))
        self._buckets: dict[str, Bucket] = {}
        self._calls = 0

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, now: float | None = None, units: int = 1) -> float:
        """Take `units` tokens for `key`: 0.0 when allowed, else the seconds to wait before retrying.

        More units than the burst can never be taken at once: that is ``inf``.
        """
        if units > self.burst:
            return float("inf")
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            self._calls += 1
            if self._calls % self.PRUNE_EVERY == 0:
                self._prune(now)
            self._buckets[key] = Bucket(self.burst - units, now)
            return 0.0
        tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if tokens >= units:
            bucket.tokens = tokens - units
            return 0.0
        bucket.tokens = tokens
        return (units - tokens) / self.rate if self.rate > 0 else 60.0

    def _prune(self, now: float) -> None:
        full_after = self.burst / self.rate if self.rate > 0 else float("inf")
        stale = [k for k, b in self._buckets.items() if now - b.stamp > full_after]
        for key in stale:
            del self._buckets[key]


class ConnectionCounter:
    """Concurrent connections (requests in flight and open WebSockets) per address."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._open)

    def count(self, address: str) -> int:
        return self._open.get(address, 0)

    def acquire(self, address: str) -> bool:
        current = self._open.get(address, 0)
        if current >= self.limit:
            return False
        self._open[address] = current + 1
        return True

    def release(self, address: str) -> None:
        current = self._open.get(address, 0) - 1
        if current <= 0:
            self._open.pop(address, None)
        else:
            self._open[address] = current
