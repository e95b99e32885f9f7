"""The worker: threads start, deliver results and stop cooperatively."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from pos_app.scanning.camera import CameraSource
from pos_app.scanning.cascade import DecodeCascade
from pos_app.scanning.config import DecoderConfig
from pos_app.scanning.decoders import ZxingDecoder
from pos_app.scanning.filter import ScanAction, ScanEvent
from pos_app.scanning.sources import Frame, VideoFileSource, make_frame
from pos_app.scanning.symbols import GrayImage, RawSymbol, Symbol, SymbolKind, Symbology
from pos_app.scanning.synthetic import SyntheticSource
from pos_app.scanning.worker import (
    PreviewFrame,
    QueueSink,
    ScanResult,
    ScanWorker,
    WorkerState,
    WorkerStatus,
    make_preview,
)
from tests.scanning.scan_testkit import (
    EAN13_A,
    CaptureFactory,
    FakeCapture,
    FakeClock,
    payment_text,
)

WAIT = 10.0  # generous: the machine is shared; tests end as soon as the condition holds


class Recorder:
    def __init__(self) -> None:
        self.results: list[ScanResult] = []
        self.previews: list[PreviewFrame] = []
        self.statuses: list[WorkerStatus] = []
        self.changed = threading.Condition()

    def on_result(self, result: ScanResult) -> None:
        with self.changed:
            self.results.append(result)
            self.changed.notify_all()

    def on_preview(self, preview: PreviewFrame) -> None:
        with self.changed:
            self.previews.append(preview)
            self.changed.notify_all()

    def on_status(self, status: WorkerStatus) -> None:
        with self.changed:
            self.statuses.append(status)
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[Recorder], object]) -> bool:
        with self.changed:
            return bool(self.changed.wait_for(lambda: predicate(self), WAIT))

    @property
    def events(self) -> list[ScanEvent]:
        return [e for r in self.results for e in r.events]


def test_worker_accepts_a_payment_from_the_synthetic_camera_and_stops() -> None:
    token = payment_text(8)
    sink = Recorder()
    worker = ScanWorker(SyntheticSource([token], fps=30.0), sink)
    worker.start()
    assert sink.wait_for(lambda s: any(e.action is ScanAction.ACCEPTED for e in s.events))
    accepted = [e for e in sink.events if e.action is ScanAction.ACCEPTED]
    assert [(e.kind, e.text) for e in accepted] == [(SymbolKind.PAYMENT_TOKEN, token)]
    # Camera time from the first decoded frame to acceptance: two frames, well under 1 s.
    assert accepted[0].at - sink.results[0].timestamp < 0.5
    assert len(accepted[0].corners) == 4
    # Previews come from the reader thread and carry the latest decode's outline.
    assert sink.wait_for(lambda s: any(p.outlines for p in s.previews))
    assert worker.stop(timeout=WAIT)
    assert not worker.running
    assert sink.statuses[0].state is WorkerState.RUNNING
    assert sink.statuses[-1].state is WorkerState.STOPPED
    assert sink.previews and not sink.previews[0].image.flags.writeable


class FastSource:
    """Delivers numbered tiny frames as fast as asked."""

    name = "fast"

    def __init__(self, count: int) -> None:
        self.count = count
        self.index = 0
        self.closed = False

    def open(self) -> None:
        self.index = 0

    def read(self) -> Frame | None:
        if self.index >= self.count:
            return None
        frame = make_frame(
            np.zeros((8, 8), np.uint8), timestamp=self.index / 30, index=self.index, source="fast"
        )
        self.index += 1
        return frame

    def close(self) -> None:
        self.closed = True


class SlowDecoder:
    name = "slow"
    unavailable_reason = None

    def decode(self, gray: GrayImage) -> list[RawSymbol]:
        threading.Event().wait(0.02)  # a decode slower than the frame rate
        return []


def test_worker_drops_stale_frames_and_decodes_the_newest() -> None:
    sink = Recorder()
    source = FastSource(200)
    cascade = DecodeCascade(DecoderConfig(budget_ms=0), decoders=[SlowDecoder()])
    worker = ScanWorker(source, sink, cascade=cascade)
    worker.start()
    assert sink.wait_for(lambda s: s.statuses and s.statuses[-1].state is WorkerState.FINISHED)
    decoded = [r.frame_index for r in sink.results]
    assert decoded == sorted(decoded)
    assert decoded[-1] == 199  # the newest frame is never lost
    assert len(decoded) < 100
    assert worker.frames_dropped == 200 - len(decoded)
    assert sum(r.dropped for r in sink.results) == worker.frames_dropped
    assert source.closed


def test_worker_survives_decoder_exceptions() -> None:
    class Exploding:
        name = "exploding"
        unavailable_reason = None

        def decode(self, gray: GrayImage) -> list[RawSymbol]:
            raise MemoryError("simulated decoder crash")

    sink = Recorder()
    source = SyntheticSource([EAN13_A], fps=None, max_frames=5, frame_interval_s=0.1)
    cascade = DecodeCascade(DecoderConfig(), decoders=[Exploding(), ZxingDecoder()])
    worker = ScanWorker(source, sink, cascade=cascade)
    worker.start()
    assert sink.wait_for(lambda s: s.statuses and s.statuses[-1].state is WorkerState.FINISHED)
    assert [e.text for e in sink.events] == [EAN13_A]
    assert worker.decoder_errors["exploding"] >= len(sink.results) > 0


def test_camera_failure_is_reported_and_the_camera_reopens() -> None:
    good = np.full((48, 64, 3), 50, np.uint8)
    lost = FakeCapture(script=[good, good, False])
    gone = FakeCapture(opened=False)
    back = FakeCapture(script=[good])
    camera = CameraSource(
        capture_factory=CaptureFactory([lost, gone, back]), probe=lambda device: False
    )
    sink = Recorder()
    worker = ScanWorker(camera, sink, backoff_s=(0.01, 0.02))
    worker.start()
    assert sink.wait_for(lambda s: len(s.statuses) >= 4)
    codes = [(st.state, st.code) for st in sink.statuses[:4]]
    assert codes == [
        (WorkerState.RUNNING, ""),
        (WorkerState.UNAVAILABLE, "camera_disconnected"),
        (WorkerState.UNAVAILABLE, "camera_not_found"),
        (WorkerState.RUNNING, ""),
    ]
    assert sink.statuses[3].message == "camera is back"
    seen = len(sink.results)
    assert sink.wait_for(lambda s: len(s.results) > seen + 2)  # frames flow again
    assert worker.stop(timeout=WAIT)
    assert camera.reopen_count == 1


def test_missing_camera_at_start_keeps_retrying_until_stopped() -> None:
    factory = CaptureFactory([FakeCapture(opened=False)])
    camera = CameraSource(capture_factory=factory, probe=lambda device: False)
    sink = Recorder()
    worker = ScanWorker(camera, sink, backoff_s=(0.01, 0.01))
    worker.start()
    assert sink.wait_for(lambda s: len(s.statuses) >= 3)
    assert {st.code for st in sink.statuses} == {"camera_not_found"}
    assert worker.stop(timeout=WAIT)
    assert sink.statuses[-1].state is WorkerState.STOPPED


def test_broken_video_file_fails_the_worker(tmp_path: Path) -> None:
    sink = Recorder()
    worker = ScanWorker(VideoFileSource(tmp_path / "missing.avi"), sink)
    worker.start()
    assert sink.wait_for(lambda s: s.statuses and s.statuses[-1].state is WorkerState.FINISHED)
    assert sink.statuses[0].state is WorkerState.FAILED
    assert sink.statuses[0].code == "video_missing"


def test_sink_errors_do_not_stop_scanning() -> None:
    class BadSink(Recorder):
        def on_preview(self, preview: PreviewFrame) -> None:
            raise RuntimeError("UI bug")

    sink = BadSink()
    source = SyntheticSource([EAN13_A], fps=None, max_frames=4, frame_interval_s=0.1)
    worker = ScanWorker(source, sink, preview_interval_s=0.0)
    worker.start()
    assert sink.wait_for(lambda s: s.statuses and s.statuses[-1].state is WorkerState.FINISHED)
    assert len(sink.results) >= 1


def test_previews_are_throttled_by_the_injected_clock() -> None:
    sink = Recorder()
    source = SyntheticSource([], fps=None, max_frames=6, frame_interval_s=0.1)
    frozen = FakeClock(0.0)  # time stands still: only the first preview is due
    worker = ScanWorker(FastToSlow(source), sink, clock=frozen, preview_interval_s=0.1)
    worker.start()
    assert sink.wait_for(lambda s: s.statuses and s.statuses[-1].state is WorkerState.FINISHED)
    assert len(sink.results) >= 2
    assert len(sink.previews) == 1


class FastToSlow:
    """Wraps a source so the reader waits for the decoder (no frames dropped)."""

    def __init__(self, inner: SyntheticSource) -> None:
        self.inner = inner
        self.name = inner.name

    def open(self) -> None:
        self.inner.open()

    def read(self) -> Frame | None:
        threading.Event().wait(0.02)
        return self.inner.read()

    def close(self) -> None:
        self.inner.close()


def test_preview_is_downscaled_mirrored_and_outlines_follow() -> None:
    image = np.zeros((720, 1280, 3), np.uint8)
    image[:, :10] = 255
    frame = make_frame(image, timestamp=1.0, index=0, source="t")
    corners = ((100.0, 100.0), (300.0, 100.0), (300.0, 300.0), (100.0, 300.0))
    symbol = Symbol(SymbolKind.GTIN, Symbology.EAN13, EAN13_A, b"", corners, "zxing")
    preview = make_preview(frame, (symbol,), max_width=640, mirror=True)
    assert preview.image.shape == (360, 640, 3)
    assert preview.image[0, -1, 0] == 255  # left edge moved to the right
    assert preview.outlines[0][0] == pytest.approx((640 - 50.0, 50.0))
    assert preview.image.base is not image


def test_queue_sink_bridges_results_for_polling(token: str) -> None:
    sink = QueueSink()
    source = SyntheticSource([token], fps=None, max_frames=3, frame_interval_s=0.05)
    worker = ScanWorker(FastToSlow(source), sink)
    worker.start()
    deadline = time.monotonic() + WAIT
    items: list[tuple[str, object]] = []
    while time.monotonic() < deadline:
        tag, value = sink.queue.get(timeout=WAIT)
        items.append((tag, value))
        if isinstance(value, WorkerStatus) and value.state is WorkerState.FINISHED:
            break
    tags = {tag for tag, _ in items}
    assert tags == {"status", "result", "preview"}
    events = [e for _, r in items if isinstance(r, ScanResult) for e in r.events]
    assert [e.text for e in events] == [token]


def test_a_worker_starts_once() -> None:
    worker = ScanWorker(SyntheticSource([], fps=None, max_frames=1), Recorder())
    worker.start()
    with pytest.raises(RuntimeError):
        worker.start()
    assert worker.stop(timeout=WAIT)


def test_reset_filter_allows_the_same_product_again() -> None:
    sink = Recorder()
    source = SyntheticSource([EAN13_A], fps=None, max_frames=500, frame_interval_s=0.01)
    wrapped = FastToSlow(source)
    worker = ScanWorker(wrapped, sink)
    worker.start()
    assert sink.wait_for(lambda s: len(s.events) == 1)
    worker.reset_filter()
    assert sink.wait_for(lambda s: len(s.events) == 2)
    worker.stop(timeout=WAIT)
    assert [e.text for e in sink.events] == [EAN13_A, EAN13_A]


def test_the_worker_pays_a_lone_phone_from_its_first_clear_frame_but_not_a_product() -> None:
    """The live path hands ``DecodeResult.clear`` to the filter: one phone on
    a plain background is paid from the first decoded frame; a product held
    the same way still needs a second frame."""
    token = payment_text(9)
    for code, frames in ((token, 1), (EAN13_A, 2)):
        sink = Recorder()
        source = SyntheticSource([code], fps=None, max_frames=4, frame_interval_s=0.1)
        worker = ScanWorker(FastToSlow(source), sink)
        worker.start()
        assert sink.wait_for(lambda s: any(e.action is ScanAction.ACCEPTED for e in s.events))
        worker.stop(timeout=WAIT)
        accepting = next(i for i, r in enumerate(sink.results) if r.events)
        assert accepting == frames - 1, code
        assert [e.text for e in sink.events] == [code]
