"""Injected time: every rule that depends on the clock reads it from here."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> int:
        """Unix seconds."""
        ...


class SystemClock:
    def now(self) -> int:
        return int(time.time())
