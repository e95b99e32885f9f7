"""The scanning worker: frames in, decisions and previews out, off the GUI thread.

Two plain threads. The *reader* pulls frames from the source as fast as the
source delivers them and keeps only the newest in a one-slot mailbox (a slow
decode must never make the cashier wait for stale frames queued in a driver).
The *decoder* takes the newest frame, decodes, filters and calls the sink.
Both stop cooperatively: :meth:`ScanWorker.stop` sets an event they check
between frames; nothing is killed.

``on_result`` runs on the decoder thread; ``on_preview`` and ``on_status``
run on the reader thread, so the preview stays smooth while a slow fallback
decode is running (outlines come from the latest decode). The Qt side bridges
them into signals; :class:`QueueSink` is a ready-made bridge the
UI can poll from a timer instead. Every value handed over is frozen.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from pos_app.scanning.cascade import DecodeCascade
from pos_app.scanning.errors import CameraError, ScanError
from pos_app.scanning.filter import ScanEvent, ScanFilter
from pos_app.scanning.sources import Frame, FrameSource
from pos_app.scanning.symbols import Corners, Symbol

log = logging.getLogger(__name__)


class WorkerState(StrEnum):
    RUNNING = "running"
    UNAVAILABLE = "unavailable"  # camera missing, busy or lost; retrying
    FAILED = "failed"  # source cannot work (missing file); worker ends
    FINISHED = "finished"  # a finite source ran out
    STOPPED = "stopped"  # stop() was called


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    state: WorkerState
    message: str = ""
    code: str = ""


@dataclass(frozen=True, slots=True)
class ScanResult:
    """One decoded frame. ``dropped`` counts frames skipped since the last one."""

    frame_index: int
    timestamp: float
    symbols: tuple[Symbol, ...]
    events: tuple[ScanEvent, ...]
    decode_ms: float
    stage: str
    dropped: int


@dataclass(frozen=True, slots=True)
class PreviewFrame:
    """A throttled, downscaled BGR copy for display; ``outlines`` are the
    symbols' corners in preview pixels (already mirrored if ``mirrored``)."""

    image: npt.NDArray[np.uint8]
    timestamp: float
    outlines: tuple[Corners, ...]
    mirrored: bool


class ScanSink(Protocol):
    def on_result(self, result: ScanResult) -> None: ...

    def on_preview(self, preview: PreviewFrame) -> None: ...

    def on_status(self, status: WorkerStatus) -> None: ...


class QueueSink:
    """Puts ``("result"|"preview"|"status", value)`` on a queue for the UI to poll.
    Previews are dropped rather than queued when the UI falls behind."""

    def __init__(self, maxsize: int = 256) -> None:
        self.queue: queue.Queue[tuple[str, object]] = queue.Queue(maxsize)

    def on_result(self, result: ScanResult) -> None:
        self._put("result", result, required=bool(result.events))

    def on_preview(self, preview: PreviewFrame) -> None:
        self._put("preview", preview, required=False)

    def on_status(self, status: WorkerStatus) -> None:
        self._put("status", status, required=True)

    def _put(self, tag: str, value: object, *, required: bool) -> None:
        try:
            self.queue.put((tag, value), block=required, timeout=1.0 if required else None)
        except queue.Full:
            log.warning("scan queue full; dropped a %s", tag)


class LatestFrameSlot:
    """A mailbox holding only the newest frame; counts what it overwrote."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._closed = False
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        with self._cond:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self._cond.notify()

    def take(self, timeout: float) -> tuple[Frame | None, bool]:
        """(frame or None, closed-and-empty)."""
        with self._cond:
            self._cond.wait_for(lambda: self._frame is not None or self._closed, timeout)
            frame, self._frame = self._frame, None
            return frame, frame is None and self._closed

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


def make_preview(
    frame: Frame, symbols: tuple[Symbol, ...], *, max_width: int, mirror: bool
) -> PreviewFrame:
    image: npt.NDArray[Any] = frame.image
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    height, width = image.shape[:2]
    scale = min(1.0, max_width / width)
    if scale < 1.0:
        image = cv2.resize(
            image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
        )
    if mirror:
        image = cv2.flip(image, 1)
    out = np.array(image, dtype=np.uint8, copy=True)  # never hand out the frame itself
    out.flags.writeable = False
    preview_width = out.shape[1]

    def place(x: float, y: float) -> tuple[float, float]:
        px, py = x * scale, y * scale
        return (preview_width - px if mirror else px, py)

    outlines = tuple(tuple(place(x, y) for x, y in s.corners) for s in symbols)
    return PreviewFrame(out, frame.timestamp, outlines, mirror)


class ScanWorker:
    """Runs a source through the cascade and the filter on two threads.

    ``start()`` once; ``stop()`` returns whether both threads ended within
    the timeout (a camera driver stuck inside ``read()`` can outlive it; the
    threads are daemons so they never block process exit).
    """

    def __init__(
        self,
        source: FrameSource,
        sink: ScanSink,
        *,
        cascade: DecodeCascade | None = None,
        scan_filter: ScanFilter | None = None,
        preview_interval_s: float = 1 / 15,
        preview_max_width: int = 640,
        backoff_s: tuple[float, float] = (0.5, 5.0),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._sink = sink
        self._cascade = cascade or DecodeCascade()
        self._filter = scan_filter or ScanFilter()
        self._preview_interval = preview_interval_s
        self._preview_width = preview_max_width
        self._backoff = backoff_s
        self._clock = clock
        self._stop = threading.Event()
        self._reset_filter = threading.Event()
        self._slot = LatestFrameSlot()
        self._threads: list[threading.Thread] = []
        self._last_preview = -float("inf")
        # (timestamp, symbols) of the latest decode; swapped as one tuple, read by the reader.
        self._latest: tuple[float, tuple[Symbol, ...]] = (-float("inf"), ())
        self.outline_hold_s = 0.5
        self.frames_decoded = 0

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    @property
    def frames_dropped(self) -> int:
        return self._slot.dropped

    @property
    def decoder_errors(self) -> dict[str, int]:
        return dict(self._cascade.error_counts)

    def start(self) -> None:
        if self._threads:
            raise RuntimeError("a ScanWorker starts once; make a new one")
        self._threads = [
            threading.Thread(target=self._read_loop, name="scan-reader", daemon=True),
            threading.Thread(target=self._decode_loop, name="scan-decoder", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 2.0) -> bool:
        self._stop.set()
        self._slot.close()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not self.running

    def reset_filter(self) -> None:
        """Forget recent scans (new sale); applied before the next frame."""
        self._reset_filter.set()

    # reader thread ---------------------------------------------------------

    def _read_loop(self) -> None:
        try:
            if self._open_source():
                self._pump_frames()
        finally:
            self._safe_close()
            self._slot.close()

    def _open_source(self) -> bool:
        delay = self._backoff[0]
        while not self._stop.is_set():
            try:
                self._source.open()
            except CameraError as exc:
                delay = self._back_off(exc, delay)
                continue
            except ScanError as exc:
                self._status(WorkerState.FAILED, exc.message, code=exc.code)
                return False
            self._status(WorkerState.RUNNING)
            return True
        return False

    def _back_off(self, exc: CameraError, delay: float) -> float:
        """Report the camera unavailable, wait ``delay`` (or until stopped) and
        return the next, doubled delay up to the maximum."""
        self._status(WorkerState.UNAVAILABLE, exc.message, code=exc.code)
        self._stop.wait(delay)
        return min(delay * 2, self._backoff[1])

    def _pump_frames(self) -> None:
        delay, failing = self._backoff[0], False
        while not self._stop.is_set():
            try:
                frame = self._source.read()
            except CameraError as exc:
                # The camera source reopens itself on the next read(); we only pace it.
                failing = True
                delay = self._back_off(exc, delay)
                continue
            except ScanError as exc:
                self._status(WorkerState.FAILED, exc.message, code=exc.code)
                return
            if frame is None:
                return
            if failing:
                failing, delay = False, self._backoff[0]
                self._status(WorkerState.RUNNING, "camera is back")
            self._slot.put(frame)
            self._maybe_preview(frame)

    def _safe_close(self) -> None:
        try:
            self._source.close()
        except Exception:  # closing a dead device must not mask the real story
            log.exception("closing %s failed", self._source.name)

    # decoder thread --------------------------------------------------------

    def _decode_loop(self) -> None:
        last_dropped = 0
        while not self._stop.is_set():
            frame, finished = self._slot.take(timeout=0.1)
            if finished:
                break
            if frame is None:
                continue
            dropped, last_dropped = self._slot.dropped - last_dropped, self._slot.dropped
            self._process(frame, dropped)
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=1.0)
        state = WorkerState.STOPPED if self._stop.is_set() else WorkerState.FINISHED
        self._status(state)

    def _process(self, frame: Frame, dropped: int) -> None:
        if self._reset_filter.is_set():
            self._reset_filter.clear()
            self._filter.reset()
        decoded = self._cascade.decode(frame.image, sequence=True)
        events = self._filter.feed(decoded.symbols, at=frame.timestamp, clear=decoded.clear)
        self.frames_decoded += 1
        result = ScanResult(
            frame.index,
            frame.timestamp,
            decoded.symbols,
            tuple(events),
            decoded.ms,
            decoded.stage,
            dropped,
        )
        self._latest = (frame.timestamp, decoded.symbols)
        self._call(self._sink.on_result, result)

    def _maybe_preview(self, frame: Frame) -> None:
        now = self._clock()
        if now - self._last_preview < self._preview_interval:
            return
        self._last_preview = now
        decoded_at, symbols = self._latest
        if abs(frame.timestamp - decoded_at) > self.outline_hold_s:
            symbols = ()  # outlines of a code that has gone would mislead
        mirror = bool(getattr(self._source, "mirror", False))
        preview = make_preview(frame, symbols, max_width=self._preview_width, mirror=mirror)
        self._call(self._sink.on_preview, preview)

    def _status(self, state: WorkerState, message: str = "", *, code: str = "") -> None:
        self._call(self._sink.on_status, WorkerStatus(state, message, code))

    @staticmethod
    def _call(callback: Callable[[object], None] | Callable[..., None], value: object) -> None:
        try:
            callback(value)
        except Exception:  # a UI bug must not kill scanning
            log.exception("scan sink callback failed")
