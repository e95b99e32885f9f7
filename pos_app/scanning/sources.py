"""Frame sources behind one interface: camera, video file, image folder, synthetic.

Tests, the demo and the CLI use the same ``FrameSource`` path as the camera.
``read()`` returns the next :class:`Frame` or ``None`` at the end of a finite
source; a live source raises a :class:`~pos_app.scanning.errors.CameraError`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np
import numpy.typing as npt

from pos_app.scanning.errors import SourceError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".pgm"})


@dataclass(frozen=True, slots=True)
class Frame:
    """One picture. ``timestamp``: seconds on the source's clock (monotonic for
    live sources, media time for files); the image is marked read-only."""

    image: npt.NDArray[np.uint8]
    timestamp: float
    index: int
    source: str


def make_frame(image: npt.NDArray[np.uint8], *, timestamp: float, index: int, source: str) -> Frame:
    image.flags.writeable = False
    return Frame(image, timestamp, index, source)


@runtime_checkable
class FrameSource(Protocol):
    name: str

    def open(self) -> None: ...

    def read(self) -> Frame | None: ...

    def close(self) -> None: ...


def iter_frames(source: FrameSource) -> Iterator[Frame]:
    """Open, yield every frame until the end, close (also on error)."""
    source.open()
    try:
        while (frame := source.read()) is not None:
            yield frame
    finally:
        source.close()


class CaptureLike(Protocol):
    """The part of ``cv2.VideoCapture`` we use; fakes implement just this."""

    def isOpened(self) -> bool: ...

    def read(self) -> tuple[bool, Any]: ...

    def get(self, prop: int) -> float: ...

    def set(self, prop: int, value: float) -> bool: ...

    def release(self) -> None: ...


def _default_file_capture(path: str) -> CaptureLike:
    capture: CaptureLike = cv2.VideoCapture(path)
    return capture


class VideoFileSource:
    """A video file. Timestamps are media time, so the scan filter's timing
    rules behave the same however fast the file is decoded. ``realtime=True``
    paces reads to the file's frame rate (for the live worker and the demo)."""

    def __init__(
        self,
        path: str | Path,
        *,
        realtime: bool = False,
        capture_factory: Callable[[str], CaptureLike] = _default_file_capture,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = Path(path)
        self.name = f"video:{self.path.name}"
        self._realtime = realtime
        self._factory = capture_factory
        self._clock = clock
        self._sleep = sleep
        self._capture: CaptureLike | None = None
        self._index = 0
        self._fps = 30.0
        self._started = 0.0

    def open(self) -> None:
        if not self.path.is_file():
            raise SourceError(f"video file {self.path} does not exist", code="video_missing")
        capture = self._factory(str(self.path))
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"cannot decode video file {self.path}", code="video_unreadable")
        fps = capture.get(cv2.CAP_PROP_FPS)
        self._fps = fps if fps and fps > 0 else 30.0
        self._capture, self._index, self._started = capture, 0, self._clock()

    def read(self) -> Frame | None:
        if self._capture is None:
            raise SourceError(f"{self.name} is not open", code="source_closed")
        ok, image = self._capture.read()
        if not ok or image is None:
            return None
        media_time = self._index / self._fps
        if self._realtime:
            delay = self._started + media_time - self._clock()
            if delay > 0:
                self._sleep(delay)
        frame = make_frame(image, timestamp=media_time, index=self._index, source=self.name)
        self._index += 1
        return frame

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def _load_image(path: Path) -> npt.NDArray[np.uint8] | None:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        return None
    if image.dtype != np.uint8:
        # 16-bit PNGs: keep the high byte; decoders want 8-bit gray or BGR.
        image = (image / 257).astype(np.uint8)
    return np.asarray(image, dtype=np.uint8)


class ImageFolderSource:
    """Every image in a folder (or an explicit list of files), sorted by name.

    Each image is delivered ``repeat`` times (the payment rule needs two
    agreeing frames); timestamps advance by ``frame_interval_s``. Unreadable
    files are skipped and counted in ``skipped``.
    """

    def __init__(
        self,
        folder: str | Path | None = None,
        *,
        files: list[Path] | None = None,
        repeat: int = 1,
        frame_interval_s: float = 1 / 30,
        loader: Callable[[Path], npt.NDArray[np.uint8] | None] = _load_image,
    ) -> None:
        if (folder is None) == (files is None):
            raise ValueError("give either a folder or a list of files")
        self._folder = Path(folder) if folder is not None else None
        self._files = files
        self.name = f"images:{self._folder}" if self._folder else "images"
        self._repeat = max(1, repeat)
        self._interval = frame_interval_s
        self._loader = loader
        self._queue: list[Path] = []
        self._current: tuple[Path, npt.NDArray[np.uint8]] | None = None
        self._left = 0
        self._index = 0
        self.skipped: list[Path] = []

    def open(self) -> None:
        if self._folder is not None:
            if not self._folder.is_dir():
                raise SourceError(
                    f"image folder {self._folder} does not exist", code="folder_missing"
                )
            files = [p for p in self._folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
        else:
            files = list(self._files or [])
        self._queue = sorted(files)
        self._current, self._left, self._index = None, 0, 0
        self.skipped = []

    def read(self) -> Frame | None:
        while self._left == 0:
            if not self._queue:
                return None
            path = self._queue.pop(0)
            image = self._loader(path)
            if image is None:
                log.warning("skipping unreadable image %s", path)
                self.skipped.append(path)
                continue
            self._current, self._left = (path, image), self._repeat
        assert self._current is not None
        path, image = self._current
        self._left -= 1
        frame = make_frame(
            image.copy(),
            timestamp=self._index * self._interval,
            index=self._index,
            source=str(path),
        )
        self._index += 1
        return frame

    def close(self) -> None:
        self._queue, self._current, self._left = [], None, 0
