"""Injected time: every rule that depends on the clock reads it from here."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> int:
        """Unix seconds."""
        ...


class SystemClock:
    def now(self) -> int:
        return int(time.time())


class FakeClock:
    """A settable clock for tests (thread-safe: the app reads it from worker threads)."""

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
