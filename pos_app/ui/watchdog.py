"""Measures how long the GUI thread goes without running its event loop.

A timer asks to run every ``interval_ms``; any lateness beyond that is time the
GUI thread spent elsewhere (our code, or the OS not scheduling us). Stalls over
``warn_ms`` are logged with their length, so "the GUI never blocks for more
than about 50 ms" is checked in the field and in tests, not assumed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer

log = logging.getLogger(__name__)


class StallWatch(QObject):
    def __init__(
        self,
        *,
        interval_ms: int = 20,
        warn_ms: float = 50.0,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._interval, self._warn, self._clock = interval_ms, warn_ms, clock
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self.worst_ms = 0.0
        self.stalls = 0

    def start(self) -> None:
        self.reset()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def reset(self) -> None:
        self._last, self.worst_ms, self.stalls = self._clock(), 0.0, 0

    def _tick(self) -> None:
        now = self._clock()
        late_ms = (now - self._last) * 1000 - self._interval
        self._last = now
        self.worst_ms = max(self.worst_ms, late_ms)
        if late_ms > self._warn:
            self.stalls += 1
            log.info("GUI thread stalled for %.0f ms", late_ms)
