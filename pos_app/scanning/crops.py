"""Crops of a frame for the decoders: cut, turned upright, upscaled, prepared.

A crop keeps the 2x3 affine map from its pixels back to the frame's, so
corners read in a crop are reported in frame pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from pos_app.scanning.locate import Region
from pos_app.scanning.symbols import GrayImage

CROP_TARGET = 320  # upscale a crop until its long side is about this many pixels
CROP_MAX = 640
_THICKEN = np.ones((3, 3), np.uint8)
# Local contrast equalisation brings back modules next to a glare highlight.
_CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4))


def sharpen(gray: GrayImage, *, sigma: float = 2.0, amount: float = 1.0) -> GrayImage:
    """Unsharp mask: restores module edges softened by defocus and upscaling."""
    soft = cv2.GaussianBlur(gray, (0, 0), sigma)
    return np.asarray(cv2.addWeighted(gray, 1.0 + amount, soft, -amount, 0), dtype=np.uint8)


def thicken(gray: GrayImage) -> GrayImage:
    """Overexposed screen: bloom eats the dark modules. Stretch the contrast and
    grow the dark parts back (a minimum filter) before binarizing."""
    stretched = cv2.normalize(gray, None, 0, 255, cv2.NORM_MINMAX)
    return np.asarray(cv2.erode(stretched, _THICKEN), dtype=np.uint8)


def clahe_sharpen(image: GrayImage) -> GrayImage:
    """Local contrast, then a strong wide unsharp mask: on the tuning split this
    read 9 of 20 motion-blurred phones where the plain sharpened crop read 7."""
    return sharpen(np.asarray(_CLAHE.apply(image), dtype=np.uint8), sigma=3.0, amount=2.0)


def flatten(image: GrayImage, factor: float) -> GrayImage:
    """Each pixel over the brightest nearby (a maximum filter about a module
    and a half wide in frame pixels, smoothed), then sharpened. A phone
    screen's pixel grid resampled by the camera (moire) modulates the light
    modules in bands that hide the finder patterns from zxing-cpp; dark
    modules stay dark, so the light envelope follows the bands and dividing
    by it lifts their troughs (partly: bands narrower than the filter stay).
    On the dev split it read 7 of the 10 moire phones the cascade missed."""
    size = max(5, round(3.5 * factor) | 1)
    envelope = cv2.dilate(image, np.ones((size, size), np.uint8))
    envelope = cv2.GaussianBlur(envelope, (0, 0), size / 2)
    flat = np.asarray(image, np.float32) / np.maximum(np.asarray(envelope, np.float32), 1.0)
    return sharpen(np.asarray(np.clip(flat * 230.0, 0, 255), np.uint8))


# Motion deblur: edges running one way this strongly (structure-tensor
# coherence) in a code-like crop mean a smear; a sharp QR code's edges run
# both ways alike (measured on the tuning split: moving phones 0.34-0.76,
# still ones mostly under 0.3).
MOTION_COHERENCE = 0.3
_MOTION_LAGS = (3, 20)  # smear lengths looked for, in frame pixels
_WIENER_NSR = 0.005


def deblur_motion(image: GrayImage, factor: float) -> GrayImage | None:
    """Undo a straight motion smear, or ``None`` when the crop does not look smeared.

    A camera moving (or a phone waved) during the exposure averages each
    point over a line: a box kernel of length L along the motion. Work at the
    frame's own resolution (the crop shrunk by ``factor``): the motion runs
    where the gradients are weakest (the structure tensor's minor axis); turned
    so it runs along rows, the smear's length is where the row derivative's
    autocorrelation dips deepest (an edge smeared over L pixels is a step up
    and a step down L apart); then each row is Wiener-deconvolved with that
    box, turned back and upscaled to the crop's size (same geometry, so the
    crop's map to frame pixels still holds). About 2 ms for a 200 px code.
    """
    f = np.asarray(image, np.float32)
    if factor > 1.0:
        f = np.asarray(
            cv2.resize(f, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA),
            np.float32,
        )
    gx = cv2.Sobel(f, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(f, cv2.CV_32F, 0, 1)
    jxx, jyy, jxy = float((gx * gx).sum()), float((gy * gy).sum()), float((gx * gy).sum())
    total = jxx + jyy
    if total <= 0 or math.hypot(jxx - jyy, 2 * jxy) / total < MOTION_COHERENCE:
        return None
    angle = math.degrees(0.5 * math.atan2(2 * jxy, jxx - jyy)) + 90.0
    turned, matrix = _turn(f, angle)
    rows = np.diff(turned[::2], axis=1)
    rows -= rows.mean(axis=1, keepdims=True)
    n = cv2.getOptimalDFTSize(2 * rows.shape[1])
    spectrum = np.fft.rfft(rows, n=n, axis=1)
    auto = np.fft.irfft((spectrum.real**2 + spectrum.imag**2).sum(0), n=n)
    lags = np.arange(*_MOTION_LAGS)
    length = int(lags[np.argmin(auto[lags])])
    if auto[length] > -0.15 * auto[0]:
        return None  # no clear smear length: not a straight motion blur
    pad = 2 * length
    padded = cv2.copyMakeBorder(turned, 0, 0, pad, pad, cv2.BORDER_REFLECT)
    n = cv2.getOptimalDFTSize(padded.shape[1])
    kernel = np.zeros(n, np.float32)
    kernel[:length] = 1.0 / length
    kernel = np.roll(kernel, -(length // 2))
    k = np.fft.rfft(kernel)
    inverse = np.conj(k) / (np.abs(k) ** 2 + _WIENER_NSR)
    sharp = np.fft.irfft(np.fft.rfft(padded, n=n, axis=1) * inverse, n=n, axis=1)
    sharp = np.asarray(sharp[:, pad : pad + turned.shape[1]], np.float32)
    back = cv2.invertAffineTransform(matrix)
    restored = cv2.warpAffine(sharp, back, (f.shape[1], f.shape[0]), flags=cv2.INTER_LINEAR)
    if factor > 1.0:
        restored = cv2.resize(
            restored, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_CUBIC
        )
    return np.asarray(np.clip(restored, 0, 255), dtype=np.uint8)


def _turn(
    image: npt.NDArray[np.float32], angle: float
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float64]]:
    """``image`` turned by ``angle`` degrees on a canvas that holds all of it."""
    h, w = image.shape[:2]
    matrix = np.asarray(cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0), np.float64)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    out_w, out_h = int(h * sin + w * cos) + 1, int(h * cos + w * sin) + 1
    matrix[0, 2] += out_w / 2 - w / 2
    matrix[1, 2] += out_h / 2 - h / 2
    turned = cv2.warpAffine(
        image, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return np.asarray(turned, np.float32), matrix


IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def region_of(
    corners: Sequence[tuple[float, float]], *, score: float, linear: bool = False
) -> Region:
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    if linear:
        # A barcode's outline from zxing-cpp is its scan lines: give it height and quiet zone.
        width = max(x1 - x0, y1 - y0)
        grow = 0.12 * width
        x0, x1, y0, y1 = x0 - grow, x1 + grow, y0 - grow, y1 + grow
        angle = math.degrees(
            math.atan2(corners[1][1] - corners[0][1], corners[1][0] - corners[0][0])
        )
        return Region(int(x0), int(y0), math.ceil(x1), math.ceil(y1), score, angle)
    return Region(int(x0), int(y0), math.ceil(x1), math.ceil(y1), score, None)


@dataclass(frozen=True, slots=True)
class Crop:
    image: GrayImage
    to_frame: npt.NDArray[np.float64]
    factor: float = 1.0  # crop pixels per frame pixel


def cut(gray: GrayImage, region: Region) -> Crop | None:
    """The region with a margin, turned upright and upscaled in one warp."""
    w, h = region.x1 - region.x0, region.y1 - region.y0
    if w < 8 or h < 8:
        return None
    margin = 0.15 * max(w, h) + 6
    cx, cy = region.centre
    angle = region.angle or 0.0
    turn = math.radians(angle) if abs(angle) > 8 else 0.0
    if turn:
        # Turned upright, a barcode is at most as long as its box's long side.
        side_w = max(w, h) + 2 * margin
        side_h = 0.75 * side_w
    else:
        side_w, side_h = w + 2 * margin, h + 2 * margin
    factor = min(4.0, max(2.0, CROP_TARGET / max(side_w, side_h)))
    factor = min(factor, CROP_MAX / max(side_w, side_h))
    out_w, out_h = max(16, int(side_w * factor)), max(16, int(side_h * factor))
    rotate = np.asarray(cv2.getRotationMatrix2D((cx, cy), math.degrees(turn), factor), np.float64)
    rotate[0, 2] += out_w / 2 - cx
    rotate[1, 2] += out_h / 2 - cy
    if turn:
        image = cv2.warpAffine(
            gray, rotate, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
    else:
        # Upright: a slice and a cubic resize cost a tenth of a cubic warp.
        image = _upscale_slice(gray, rotate, (out_w, out_h), factor)
    to_frame = np.asarray(cv2.invertAffineTransform(rotate), np.float64)
    return Crop(np.asarray(image, dtype=np.uint8), to_frame, factor)


def _upscale_slice(
    gray: GrayImage, matrix: npt.NDArray[np.float64], size: tuple[int, int], factor: float
) -> GrayImage:
    height, width = gray.shape[:2]
    x0, y0 = -matrix[0, 2] / factor, -matrix[1, 2] / factor
    ix0, iy0 = max(0, int(x0)), max(0, int(y0))
    ix1 = min(width, math.ceil(x0 + size[0] / factor))
    iy1 = min(height, math.ceil(y0 + size[1] / factor))
    piece = gray[iy0:iy1, ix0:ix1]
    big = cv2.resize(piece, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    # Where the slice was clipped by the frame edge, the crop starts later:
    # keep the mapping exact by shifting the matrix accordingly.
    matrix[0, 2], matrix[1, 2] = -ix0 * factor, -iy0 * factor
    return np.asarray(big, dtype=np.uint8)


def map_points(
    points: Sequence[tuple[float, float]], to_frame: npt.NDArray[np.float64]
) -> tuple[tuple[float, float], ...]:
    return tuple(
        (
            float(to_frame[0, 0] * x + to_frame[0, 1] * y + to_frame[0, 2]),
            float(to_frame[1, 0] * x + to_frame[1, 1] * y + to_frame[1, 2]),
        )
        for x, y in points
    )
