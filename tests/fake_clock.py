"""A settable clock for tests, the shape of ``pos_app.server.clock.Clock``."""

from __future__ import annotations

import threading


class FakeClock:
    """A settable clock (thread-safe: the app reads it from worker threads)."""

    def __init__(self, start: int = 1_795_000_000) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> int:
        with self._lock:
            return self._now

    def advance(self, seconds: int) -> None:
        with self._lock:
            self._now += seconds

    def set(self, value: int) -> None:
        with self._lock:
            self._now = value
