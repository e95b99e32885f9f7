"""Request rate limits (429): token buckets kept in this process.

Three families of buckets (``Backend``): per enrolled signer (after the signature
verified), per source address and endpoint for the unauthenticated endpoints
(before anything is verified, so a fresh self-signed key is not a fresh bucket),
and per source address and endpoint for failed signatures (an exhausted one
refuses before verifying). Each app-server process keeps its own buckets: with N
workers the effective limit is up to N times the setting, which is acceptable for
abuse damping (the database-level guarantees do not depend on it).

Memory is bounded by evicting the least recently used bucket: the buckets of
whoever is sending now stay, so a flood of new keys or addresses cannot reset
an exhausted bucket that is still in use.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from pos_app.server.errors import ApiError

MAX_TRACKED = 100_000


class RateLimiter:
    def __init__(
        self,
        per_minute: int,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        max_tracked: int = MAX_TRACKED,
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_tracked = max_tracked
        self._monotonic = monotonic
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Spend one token of *key*'s bucket, or raise 429."""
        if not self.spend(key):
            raise ApiError(429, "rate_limited", "too many requests; slow down")

    def spend(self, key: str) -> bool:
        """Spend one token of *key*'s bucket; False (nothing spent) when it is empty."""
        if self.capacity <= 0:
            return True
        with self._lock:
            tokens = self._tokens(key)
            if tokens < 1:
                return False
            self._buckets[key] = (tokens - 1, self._monotonic())
            return True

    def exhausted(self, key: str) -> bool:
        """Whether *key*'s bucket is empty now (spends nothing)."""
        if self.capacity <= 0:
            return False
        with self._lock:
            return key in self._buckets and self._tokens(key) < 1

    def _tokens(self, key: str) -> float:
        """The bucket's refilled level, stored as of now and marked most recently used."""
        now = self._monotonic()
        tokens, last = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_tracked:
            self._buckets.popitem(last=False)
        return tokens

    def __len__(self) -> int:
        return len(self._buckets)


def address_key(source: str, endpoint: str) -> str:
    """Bucket name for a source address and endpoint.

    IPv6 addresses count per /64: one customer line usually gets a whole /64, and
    counting each of its 2**64 addresses apart would give each request a fresh bucket.
    """
    try:
        ip = ipaddress.ip_address(source)
    except ValueError:
        return f"{source} {endpoint}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"{ip.ipv4_mapped} {endpoint}"
        return f"{ipaddress.ip_network(f'{ip}/64', strict=False)} {endpoint}"
    return f"{ip} {endpoint}"
