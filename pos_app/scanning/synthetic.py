"""Codes rendered into camera-like frames: the demo's camera and the tests'.

The demo's terminal "camera" shows the wallet window's QR code; the wallet
changes the displayed code over time, so :class:`SyntheticSource` takes either
a fixed list or a callable, and ``codes`` can be set from another thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import segno
import zxingcpp

from pos_app.scanning.sources import Frame, make_frame
from pos_app.scanning.symbols import GrayImage, Symbology

_LINEAR = {13: Symbology.EAN13, 8: Symbology.EAN8, 12: Symbology.UPCA}
_ZXING_WRITE = {Symbology.EAN13: "EAN13", Symbology.EAN8: "EAN8", Symbology.UPCA: "UPCA"}


@dataclass(frozen=True, slots=True)
class SyntheticCode:
    text: str
    symbology: Symbology = Symbology.QR


CodeSpec = str | SyntheticCode
CodesProvider = Callable[[], Sequence[CodeSpec]]


def as_code(spec: CodeSpec) -> SyntheticCode:
    """Plain strings of 8, 12 or 13 digits become EAN-8, UPC-A, EAN-13; the rest QR."""
    if isinstance(spec, SyntheticCode):
        return spec
    if spec.isascii() and spec.isdigit() and len(spec) in _LINEAR:
        return SyntheticCode(spec, _LINEAR[len(spec)])
    return SyntheticCode(spec, Symbology.QR)


def render_code(spec: CodeSpec, *, module_px: int = 4) -> GrayImage:
    """Black on white with the standard quiet zone, ``module_px`` pixels per module."""
    code = as_code(spec)
    if code.symbology is Symbology.QR:
        # Error correction M as PT1 specifies; boost_error=False keeps the level exact.
        qr = segno.make_qr(code.text, error="m", boost_error=False)
        modules = np.array(qr.matrix, dtype=np.uint8)
        padded = np.pad(modules, 4, constant_values=0)
        image = np.where(padded > 0, 0, 255).astype(np.uint8)
        return np.asarray(np.kron(image, np.ones((module_px, module_px), np.uint8)), np.uint8)
    fmt = getattr(zxingcpp.BarcodeFormat, _ZXING_WRITE[code.symbology])
    barcode = zxingcpp.create_barcode(code.text, fmt)
    image = np.array(zxingcpp.write_barcode_to_image(barcode, scale=module_px), dtype=np.uint8)
    return np.asarray(cv2.resize(image, (image.shape[1], module_px * 30)), np.uint8)


def compose(
    codes: Sequence[CodeSpec], *, size: tuple[int, int] = (640, 480), module_px: int = 4
) -> GrayImage:
    """Codes side by side, centred on a light-gray background of ``size`` (w, h)."""
    width, height = size
    frame = np.full((height, width), 200, np.uint8)
    images = [render_code(spec, module_px=module_px) for spec in codes]
    if not images:
        return frame
    total = sum(img.shape[1] for img in images) + 16 * (len(images) - 1)
    x = max(0, (width - total) // 2)
    for img in images:
        h, w = min(img.shape[0], height), min(img.shape[1], width - x)
        if w <= 0:
            break
        y = (height - h) // 2
        frame[y : y + h, x : x + w] = img[:h, :w]
        x += w + 16
    return frame


def camera_look(
    gray: GrayImage, *, blur_sigma: float, noise_std: float, rng: np.random.Generator
) -> npt.NDArray[np.uint8]:
    """A little lens blur and sensor noise, returned as BGR like a camera frame."""
    image: npt.NDArray[Any] = gray.astype(np.float32)
    if blur_sigma > 0:
        image = cv2.GaussianBlur(image, (0, 0), blur_sigma)
    if noise_std > 0:
        image += rng.normal(0.0, noise_std, image.shape).astype(np.float32)
    out = np.clip(image, 0, 255).astype(np.uint8)
    return np.asarray(cv2.cvtColor(out, cv2.COLOR_GRAY2BGR), np.uint8)


class SyntheticSource:
    """Renders the current codes into frames, paced at ``fps`` (``None``: as
    fast as asked). ``frame_interval_s`` gives deterministic timestamps for
    tests; otherwise they come from ``clock``. Thread-safe ``codes``."""

    def __init__(
        self,
        codes: Sequence[CodeSpec] | CodesProvider = (),
        *,
        size: tuple[int, int] = (640, 480),
        module_px: int = 4,
        blur_sigma: float = 0.8,
        noise_std: float = 3.0,
        fps: float | None = 30.0,
        frame_interval_s: float | None = None,
        max_frames: int | None = None,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = "synthetic"
        self._lock = threading.Lock()
        self._provider: CodesProvider | None = codes if callable(codes) else None
        self._codes: tuple[CodeSpec, ...] = () if callable(codes) else tuple(codes)
        self._size, self._module_px = size, module_px
        self._blur, self._noise = blur_sigma, noise_std
        self._fps, self._interval, self._max = fps, frame_interval_s, max_frames
        self._rng = np.random.default_rng(seed)
        self._clock, self._sleep = clock, sleep
        self._cache: tuple[tuple[CodeSpec, ...], GrayImage] | None = None
        self._index = 0
        self._next_due = 0.0

    @property
    def codes(self) -> tuple[CodeSpec, ...]:
        with self._lock:
            provider = self._provider
            if provider is None:
                return self._codes
        return tuple(provider())

    @codes.setter
    def codes(self, value: Sequence[CodeSpec]) -> None:
        with self._lock:
            self._provider, self._codes = None, tuple(value)

    def open(self) -> None:
        self._index, self._next_due = 0, self._clock()

    def read(self) -> Frame | None:
        if self._max is not None and self._index >= self._max:
            return None
        self._pace()
        codes = self.codes
        if self._cache is None or self._cache[0] != codes:
            self._cache = (codes, compose(codes, size=self._size, module_px=self._module_px))
        image = camera_look(
            self._cache[1], blur_sigma=self._blur, noise_std=self._noise, rng=self._rng
        )
        stamp = self._index * self._interval if self._interval is not None else self._clock()
        frame = make_frame(image, timestamp=stamp, index=self._index, source=self.name)
        self._index += 1
        return frame

    def _pace(self) -> None:
        if self._fps is None:
            return
        delay = self._next_due - self._clock()
        if delay > 0:
            self._sleep(delay)
        self._next_due = max(self._next_due, self._clock()) + 1.0 / self._fps

    def close(self) -> None:
        self._cache = None
