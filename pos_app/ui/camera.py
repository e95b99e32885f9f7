"""The camera on the Qt side: a sink that turns worker callbacks into signals,
a controller that owns the worker's life, and the preview widget with the
outline overlay of detected codes.

The scanning worker calls the sink on its own threads; the sink only emits
signals carrying the worker's frozen values, which Qt queues to the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPointF, QRect, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

if TYPE_CHECKING:  # the worker pulls in OpenCV: imported when the camera starts
    from pos_app.scanning.sources import FrameSource
    from pos_app.scanning.worker import PreviewFrame, ScanResult, ScanWorker, WorkerStatus
    from pos_app.terminal.settings.schema import Settings

log = logging.getLogger(__name__)


class QtScanSink(QObject):
    result = Signal(object)  # ScanResult
    preview = Signal(object)  # PreviewFrame
    status = Signal(object)  # WorkerStatus

    def on_result(self, result: ScanResult) -> None:
        if result.events:
            self.result.emit(result)

    def on_preview(self, preview: PreviewFrame) -> None:
        self.preview.emit(preview)

    def on_status(self, status: WorkerStatus) -> None:
        self.status.emit(status)


WorkerFactory = Callable[["FrameSource", QtScanSink], "ScanWorker"]


def default_worker(source: FrameSource, sink: QtScanSink) -> ScanWorker:
    from pos_app.scanning.worker import ScanWorker

    return ScanWorker(source, sink)


def settings_worker(settings: Settings) -> WorkerFactory:
    """Workers decoding and filtering as ``[scanner]`` says (formats, decoders, cooldown)."""

    def make(source: FrameSource, sink: QtScanSink) -> ScanWorker:
        from pos_app.scanning.cascade import DecodeCascade
        from pos_app.scanning.filter import ScanFilter
        from pos_app.scanning.worker import ScanWorker
        from pos_app.terminal.settings.scanner import decoder_config, filter_config

        cascade = DecodeCascade(decoder_config(settings))
        return ScanWorker(
            source, sink, cascade=cascade, scan_filter=ScanFilter(filter_config(settings))
        )

    return make


class CameraController(QObject):
    """Starts and stops the scan worker; re-emits its signals for the window."""

    def __init__(
        self,
        source: FrameSource | None,
        *,
        worker_factory: WorkerFactory = default_worker,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.sink = QtScanSink(self)
        self._source = source
        self._factory = worker_factory
        self._worker: ScanWorker | None = None
        self.state: str | None = None  # a WorkerState (a str enum)
        self.sink.status.connect(self._on_status)

    @property
    def available(self) -> bool:
        return self._source is not None

    def start(self) -> None:
        if self._source is None or self._worker is not None:
            return
        self._worker = self._factory(self._source, self.sink)
        self._worker.start()

    def stop(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None and not worker.stop(timeout=2.0):
            log.warning("the scan worker did not stop within 2 s (camera driver stuck)")

    def reset_filter(self) -> None:
        if self._worker is not None:
            self._worker.reset_filter()

    def _on_status(self, status: WorkerStatus) -> None:
        self.state = status.state


class CameraView(QWidget):
    """Paints the newest preview and outlines each detected code in green."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(240, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._image: QImage | None = None
        self._outlines: tuple[tuple[tuple[float, float], ...], ...] = ()
        self._caption = ""
        self.frames_shown = 0

    def show_preview(self, preview: PreviewFrame) -> None:
        image = preview.image
        height, width = image.shape[:2]
        # BGR888 matches OpenCV's layout; copy() detaches from the numpy buffer.
        self._image = QImage(
            image.data, width, height, int(image.strides[0]), QImage.Format.Format_BGR888
        ).copy()
        self._outlines = preview.outlines
        self.frames_shown += 1
        self.update()

    def set_caption(self, text: str) -> None:
        """Text over the preview (camera lost, no camera); empty hides it."""
        self._caption = text
        if text:
            self._outlines = ()
        self.update()

    @property
    def outlines(self) -> tuple[tuple[tuple[float, float], ...], ...]:
        return self._outlines

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#202020"))
        if self._image is not None:
            self._paint_image(painter)
        if self._caption:
            painter.fillRect(self.rect(), QColor(0, 0, 0, 215))
            painter.setPen(QColor("#ffffff"))
            font = painter.font()
            font.setPixelSize(max(14, self.height() // 18))
            font.setBold(True)
            painter.setFont(font)
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(self.rect().adjusted(12, 12, -12, -12), int(flags), self._caption)
        painter.end()

    def _paint_image(self, painter: QPainter) -> None:
        assert self._image is not None
        scaled = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        scale = scaled.width() / max(1, self._image.width())
        x0 = (self.width() - scaled.width()) / 2
        y0 = (self.height() - scaled.height()) / 2
        target = QRect(round(x0), round(y0), scaled.width(), scaled.height())
        painter.drawImage(target, self._image)
        pen = QPen(QColor("#00e676"))
        pen.setWidth(4)
        painter.setPen(pen)
        for outline in self._outlines:
            polygon = QPolygonF([QPointF(x0 + x * scale, y0 + y * scale) for x, y in outline])
            painter.drawPolygon(polygon)
