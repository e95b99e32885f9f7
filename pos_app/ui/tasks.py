"""The one background-task API (after Anki's ``taskman``).

``tasks.run(fn, on_success=..., on_failure=...)`` runs ``fn`` on a worker
thread and calls exactly one of the callbacks on the GUI thread with its
result or exception. Lanes serialise work that must not overlap: everything
that talks to the checkout service and the local database goes on the
``"checkout"`` lane (one thread, in order); slow independent work (PIN
hashing, status polling) goes on ``"io"``. Nothing here blocks the GUI thread.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)

Success = Callable[[Any], None]
Failure = Callable[[BaseException], None]


class _Relay(QObject):
    """Lives on the GUI thread; a worker's emit is queued to it."""

    done = Signal(int, bool, object)


class _Job(QRunnable):
    def __init__(self, job_id: int, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._id, self._fn, self._relay = job_id, fn, relay

    def run(self) -> None:
        try:
            result = self._fn()
        except BaseException as exc:  # every failure reaches the caller's callback
            self._relay.done.emit(self._id, False, exc)
            return
        self._relay.done.emit(self._id, True, result)


class TaskManager(QObject):
    """Owns the worker pools; one per main window, shut down with it."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pools = {"checkout": QThreadPool(self), "io": QThreadPool(self)}
        self._pools["checkout"].setMaxThreadCount(1)
        self._pools["io"].setMaxThreadCount(3)
        self._relay = _Relay(self)
        self._relay.done.connect(self._finish)
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[Success | None, Failure | None]] = {}
        self._lock = threading.Lock()
        self.default_failure: Failure = lambda exc: log.error("background task failed: %r", exc)

    def run(
        self,
        fn: Callable[[], Any],
        *,
        on_success: Success | None = None,
        on_failure: Failure | None = None,
        lane: str = "checkout",
    ) -> int:
        job_id = next(self._ids)
        with self._lock:
            self._pending[job_id] = (on_success, on_failure)
        self._pools[lane].start(_Job(job_id, fn, self._relay))
        return job_id

    @property
    def busy(self) -> int:
        with self._lock:
            return len(self._pending)

    def _finish(self, job_id: int, ok: bool, value: object) -> None:
        with self._lock:
            callbacks = self._pending.pop(job_id, None)
        if callbacks is None:
            return
        on_success, on_failure = callbacks
        try:
            if ok:
                if on_success is not None:
                    on_success(value)
            else:
                assert isinstance(value, BaseException)
                (on_failure or self.default_failure)(value)
        except Exception:  # a UI callback bug must not take the event loop down
            log.exception("task callback failed")

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Drop queued jobs and wait for running ones; call when the window closes."""
        ok = True
        for pool in self._pools.values():
            pool.clear()
            ok = pool.waitForDone(timeout_ms) and ok
        with self._lock:
            self._pending.clear()
        return ok
