"""Where the codes are: candidate regions found at low resolution.

A code is a patch of dense, strong edges: a QR code has them in every
direction, a barcode's bars in one. The frame is shrunk to ``width`` pixels
(a 640x480 frame to 320x240), the Sobel gradients are summed over a window
about as large as a few modules, thresholded, closed into blobs, and each blob
becomes a :class:`Region` in frame pixels with its bars' angle when the edges
run one way (the structure tensor's coherence). This costs about 1 ms and
lets the decoders spend their time on a few upscaled crops instead of on the
whole frame at 2-3x (which reads as much and costs three times more).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from pos_app.scanning.symbols import Corners, GrayImage

# A blob smaller than this (in locator pixels) cannot hold a code we can read.
_MIN_SIDE = 10
# Edge-energy threshold relative to the frame's strongest edge patch, with a floor
# for flat frames where everything would pass a relative threshold.
_RELATIVE = 0.25
_FLOOR = 18.0
# Coherence above this: edges run one way, a linear barcode.
_LINEAR_COHERENCE = 0.6
_OPEN = np.ones((3, 3), np.uint8)
_CLOSE = np.ones((5, 5), np.uint8)


@dataclass(frozen=True, slots=True)
class Region:
    """A candidate in frame pixels. ``angle``: direction of the gradient across
    the bars in degrees (0 = vertical bars) for a linear candidate, else None."""

    x0: int
    y0: int
    x1: int
    y1: int
    score: float
    angle: float | None = None

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)

    def covered_by(self, corners: Corners) -> bool:
        """Whether a read symbol's outline contains this region's centre."""
        if not corners:
            return False
        xs, ys = [p[0] for p in corners], [p[1] for p in corners]
        cx, cy = self.centre
        return min(xs) - 4 <= cx <= max(xs) + 4 and min(ys) - 4 <= cy <= max(ys) + 4


def find_regions(gray: GrayImage, *, width: int = 320, limit: int = 4) -> list[Region]:
    """The ``limit`` strongest candidates, best first."""
    height, full_width = gray.shape[:2]
    scale = min(1.0, width / full_width)
    small = gray
    if scale < 1.0:
        small = np.asarray(
            cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), np.uint8
        )
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)
    energy = cv2.blur(np.abs(gx) + np.abs(gy), (7, 7))
    level = max(_FLOOR, _RELATIVE * float(cv2.minMaxLoc(energy)[1]))
    mask = np.asarray(cv2.morphologyEx((energy > level).astype(np.uint8), cv2.MORPH_OPEN, _OPEN))
    mask = np.asarray(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, _CLOSE), np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    inv = 1.0 / scale
    regions = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        area = cv2.contourArea(contour)
        if w < _MIN_SIDE or h < _MIN_SIDE or area < 0.3 * w * h:
            continue
        window = (slice(y, y + h), slice(x, x + w))
        score = float(cv2.mean(energy[window])[0]) * area
        regions.append(
            Region(
                int(x * inv),
                int(y * inv),
                min(full_width, math.ceil((x + w) * inv)),
                min(height, math.ceil((y + h) * inv)),
                score,
                _bar_angle(gx[window], gy[window]),
            )
        )
    regions.sort(key=lambda r: r.score, reverse=True)
    return regions[:limit]


def _bar_angle(gx: np.ndarray, gy: np.ndarray) -> float | None:
    jxx, jyy, jxy = float((gx * gx).sum()), float((gy * gy).sum()), float((gx * gy).sum())
    total = jxx + jyy
    if total <= 0:
        return None
    coherence = math.hypot(jxx - jyy, 2 * jxy) / total
    if coherence < _LINEAR_COHERENCE:
        return None
    return math.degrees(0.5 * math.atan2(2 * jxy, jxx - jyy))


def code_box(image: GrayImage, *, window: int = 9) -> Corners | None:
    """Where a QR code's texture lies inside a larger crop (a phone with its
    bezel and screen): the biggest patch of high local contrast, after an
    opening about a tenth of the crop wide that removes the bezel's and the
    screen edge's thin lines. Corners of its box, or ``None``."""
    f = np.asarray(image, np.float32)
    mean = cv2.blur(f, (window, window))
    spread = np.sqrt(np.maximum(cv2.blur(f * f, (window, window)) - mean * mean, 0.0))
    top = float(spread.max())
    if top < 1.0:
        return None
    scaled = np.asarray(spread * (255.0 / top), np.uint8)
    _, mask = cv2.threshold(scaled, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((window, window), np.uint8))
    size = max(window, max(image.shape[:2]) // 10) | 1
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((size, size), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    x, y, w, h = cv2.boundingRect(max(contours, key=cv2.contourArea))
    if w < 2 * window or h < 2 * window:
        return None
    return ((x, y), (x + w, y), (x + w, y + h), (x, y + h))
