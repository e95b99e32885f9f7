"""What the demo terminal's camera "sees" when there is no real camera.

:class:`CodeBoard` is the customer's phone screen as the camera sees it: the
wallet window puts its current QR text there (thread-safe). :class:`Unpluggable`
wraps any source so a test or the demo can pull the camera's cable.
"""

from __future__ import annotations

import threading

from pos_app.scanning.errors import CameraDisconnected
from pos_app.scanning.sources import Frame, FrameSource
from pos_app.scanning.synthetic import CodeSpec, SyntheticSource


class CodeBoard:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._codes: tuple[CodeSpec, ...] = ()

    def show(self, *codes: CodeSpec) -> None:
        with self._lock:
            self._codes = tuple(codes)

    def codes(self) -> tuple[CodeSpec, ...]:
        with self._lock:
            return self._codes


class Unpluggable:
    """A source whose cable can be pulled (``plugged = False``) and put back."""

    def __init__(self, inner: FrameSource) -> None:
        self.inner = inner
        self.name = inner.name
        self.plugged = True

    def open(self) -> None:
        self._check()
        self.inner.open()

    def read(self) -> Frame | None:
        self._check()
        return self.inner.read()

    def close(self) -> None:
        self.inner.close()

    def _check(self) -> None:
        if not self.plugged:
            raise CameraDisconnected("the camera stopped sending pictures (cable pulled?)")


def synthetic_camera(board: CodeBoard, *, fps: float = 15.0) -> Unpluggable:
    """The wallet window's QR rendered into frames with a little blur and noise."""
    return Unpluggable(
        SyntheticSource(
            board.codes, size=(640, 480), module_px=4, blur_sigma=0.7, noise_std=3.0, fps=fps
        )
    )
