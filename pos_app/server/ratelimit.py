"""Per-signer request rate limit (429), a token bucket per keyid in this process.

Each app-server process keeps its own buckets: with N workers the effective
limit is up to N times the setting, which is acceptable for abuse damping (the
database-level guarantees do not depend on it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pos_app.server.errors import ApiError

MAX_TRACKED = 100_000


class RateLimiter:
    def __init__(self, per_minute: int, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._monotonic = monotonic
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Spend one token of *key*'s bucket, or raise 429."""
        if self.capacity <= 0:
            return
        now = self._monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                raise ApiError(429, "rate_limited", "too many requests; slow down")
            if len(self._buckets) >= MAX_TRACKED:
                self._buckets.clear()  # bounded memory beats perfect fairness
            self._buckets[key] = (tokens - 1, now)
