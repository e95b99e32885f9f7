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
# still ones mostly under 0.3). A cheap first test; the cepstrum decides.
MOTION_COHERENCE = 0.2
DEBLUR_SCALE = 2.0  # the deblurred view, in view pixels per frame pixel, at least
_SHORTEST, _LONGEST = 3.5, 16.0  # smear lengths looked for, in frame pixels
# The cepstrum's dip at the smear must stand out this far (in its own standard
# deviations over the radii looked at) for the crop to count as smeared.
_SMEAR_DEPTH = 3.0
_WIENER_NSR = 0.005
_REACH = int(_LONGEST) + 1
_LAG_Y, _LAG_X = np.mgrid[-_REACH : _REACH + 1, -_REACH : _REACH + 1]
_LAG = np.hypot(_LAG_X, _LAG_Y)
_RING = (_LAG_Y >= 0) & np.logical_and(_LAG >= _SHORTEST, _LAG <= _LONGEST)


@dataclass(frozen=True, slots=True)
class Smear:
    """A straight motion smear: direction in degrees (image axes, y down) and
    length in pixels, with how far its cepstral dip stands out."""

    angle: float
    length: float
    depth: float


def estimate_smear(image: npt.NDArray[np.float32]) -> Smear | None:
    """The smear's direction and length from the image's power cepstrum.

    A box kernel of length L along direction d multiplies the spectrum by
    sinc^2(pi L f.d): zeros on lines across d, 1/L apart. In the log spectrum
    those are a periodic ripple, so its inverse transform (the cepstrum) has
    a sharp negative peak at +-L d, whatever the code underneath: direction
    and length in one step, to a degree or two and a fraction of a pixel
    (the code's own edges, which bias a gradient-based estimate towards its
    axes, only add a smooth background). ``None`` when no dip stands out.
    """
    h, w = image.shape[:2]
    if min(h, w) <= 2 * _REACH + 1:
        return None  # too small to hold a smear as long as those looked for, and a code
    rows, cols = _even_dft_size(h), _even_dft_size(w)
    centred = np.zeros((rows, cols), np.float32)
    centred[:h, :w] = (image - float(image.mean())) * np.outer(_hann(h), _hann(w))
    spectrum = cv2.dft(centred)  # packed (CCS)
    power = cv2.mulSpectrums(spectrum, spectrum, 0, conjB=True)  # |F|^2 in the real slots
    log_power = np.asarray(cv2.log(power + 1e-3 * float(power.mean())), np.float32)
    log_power[:, 2:-1:2] = 0.0  # the imaginary slots: the log power is real
    log_power[2:-1:2, 0] = log_power[2:-1:2, -1] = 0.0
    cepstrum = cv2.idft(log_power, flags=cv2.DFT_REAL_OUTPUT)
    reach = _REACH
    # Lags -reach..reach on both axes (the cepstrum is symmetric: half suffices).
    near = np.roll(cepstrum, (reach, reach), (0, 1))[: 2 * reach + 1, : 2 * reach + 1]
    ring = _RING
    values = near[ring]
    spread = float(values.std())
    if spread <= 0:
        return None
    index = int(np.argmin(np.where(ring, near, np.inf)))
    iy, ix = divmod(index, near.shape[1])
    depth = (float(np.median(values)) - float(near[iy, ix])) / spread
    if depth < _SMEAR_DEPTH:
        return None
    # Sub-pixel: the centroid of the dip over its 3x3 neighbourhood.
    patch = near[max(0, iy - 1) : iy + 2, max(0, ix - 1) : ix + 2]
    weights = np.clip(float(np.median(values)) - patch, 0.0, None)
    py, px = np.mgrid[max(0, iy - 1) : iy + 2, max(0, ix - 1) : ix + 2]
    total = float(weights.sum())
    vy = float((weights * py).sum()) / total - reach
    vx = float((weights * px).sum()) / total - reach
    return Smear(math.degrees(math.atan2(vy, vx)) % 180.0, math.hypot(vx, vy), depth)


def smear_kernel(smear: Smear) -> npt.NDArray[np.float32]:
    """A line segment of the smear's length and direction, anti-aliased,
    summing to 1, centred in an odd square."""
    size = (math.ceil(smear.length) + 3) | 1
    kernel = np.zeros((size, size), np.float32)
    c = (size - 1) / 2
    steps = np.linspace(-smear.length / 2, smear.length / 2, max(8, int(smear.length * 8)))
    rad = math.radians(smear.angle)
    xs, ys = c + steps * math.cos(rad), c + steps * math.sin(rad)
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = (xs - x0).astype(np.float32), (ys - y0).astype(np.float32)
    for ox, oy, weight in (
        (0, 0, (1 - fx) * (1 - fy)),
        (1, 0, fx * (1 - fy)),
        (0, 1, (1 - fx) * fy),
        (1, 1, fx * fy),
    ):
        np.add.at(kernel, (y0 + oy, x0 + ox), weight)
    return np.asarray(kernel / kernel.sum(), np.float32)


def deconvolve(
    image: npt.NDArray[np.float32], kernel: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """Wiener deconvolution of ``image`` by ``kernel`` (noise-to-signal
    ``_WIENER_NSR``), with reflected borders so the edges do not ring."""
    h, w = image.shape[:2]
    pad = kernel.shape[0]
    rows, cols = _even_dft_size(h + 2 * pad), _even_dft_size(w + 2 * pad)
    # Reflected borders all the way to the transform's size: no edge to ring.
    sized = cv2.copyMakeBorder(image, pad, rows - h - pad, pad, cols - w - pad, cv2.BORDER_REFLECT)
    placed = np.zeros((rows, cols), np.float32)
    size = kernel.shape[0]
    placed[:size, :size] = kernel
    placed = np.roll(placed, (-(size // 2), -(size // 2)), (0, 1))
    # The kernel is point-symmetric about its centre, so its spectrum is real
    # and the Wiener filter K / (K^2 + nsr) is a real gain per frequency:
    # applied to the packed (CCS) spectrum, both halves of each complex value
    # get their frequency's gain.
    gain = _packed_gain(np.asarray(cv2.dft(placed), np.float32))
    sharp = cv2.idft(cv2.dft(sized) * gain, flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE)
    return np.asarray(sharp[pad : pad + h, pad : pad + w], np.float32)


def _packed_gain(k: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The Wiener gain of a real spectrum ``k`` in OpenCV's packed (CCS)
    layout (even sizes): each value's real slot holds the kernel's response,
    its imaginary slot (about 0) takes the same gain."""
    real = k.copy()
    real[:, 2:-1:2] = k[:, 1:-1:2]  # interior columns: Re, Im pairs
    for col in (0, -1):  # the first and last columns are packed down the rows
        real[2:-1:2, col] = k[1:-1:2, col]
    return np.asarray(real / (real * real + _WIENER_NSR), np.float32)


def _even_dft_size(n: int) -> int:
    """A fast transform size, even (the packed layout used here assumes it)."""
    size = cv2.getOptimalDFTSize(n)
    return size + (size & 1)


def _hann(n: int) -> npt.NDArray[np.float32]:
    return np.asarray(np.hanning(n), np.float32)


def deblur_motion(image: GrayImage, factor: float) -> GrayImage | None:
    """Undo a straight motion smear, or ``None`` when the crop does not look smeared.

    A camera moving (or a phone waved) during the exposure averages each
    point over a line: a kernel of length L along the motion. Work at the
    frame's own resolution (the crop shrunk by ``factor``): a cheap
    structure-tensor test first (a sharp code's edges run both ways alike),
    then the smear's direction and length from the cepstrum
    (``estimate_smear``), a Wiener deconvolution by that line, and back up to
    the crop's size (same geometry, so the crop's map to frame pixels still
    holds). About 2-3 ms CPU for a 250 px phone at frame resolution.
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
    smear = estimate_smear(f)
    if smear is None:
        return None
    restored = deconvolve(f, smear_kernel(smear))
    # Upscaled at least 2x: the restored modules are sharp but small, and a
    # phone's region (screen and bezel) is often cut at little more than 1x.
    scale = max(factor, DEBLUR_SCALE)
    big = cv2.resize(restored, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    return np.asarray(np.clip(big, 0, 255), dtype=np.uint8)


# A code seen at a slant (a phone turned away from the camera) is squeezed
# along one direction: its gradients there are stronger. Above this ratio of
# gradient energies (square root: about the squeeze), the crop is stretched
# back; a code seen face-on measured 1.0-1.5 on the tuning split.
SQUEEZE_MIN = 1.5
_SQUEEZE_MAX = 3.0


@dataclass(frozen=True, slots=True)
class Warped:
    """A view made from a crop by an affine warp, and the 2x3 map from the
    view's pixels back to the crop's."""

    image: GrayImage
    to_crop: npt.NDArray[np.float64]


def unsqueeze(image: GrayImage) -> Warped | None:
    """The crop stretched along the direction its gradients are strongest,
    by how much stronger they are (the structure tensor's eigenvalues, square
    root), so a code seen at a slant has square modules again; ``None`` when
    the crop is not squeezed (ratio under ``SQUEEZE_MIN``). Motion smear
    weakens gradients one way too; a stretched smear just does not read."""
    f = np.asarray(image, np.float32)
    gx = cv2.Sobel(f, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(f, cv2.CV_32F, 0, 1)
    jxx, jyy, jxy = float((gx * gx).mean()), float((gy * gy).mean()), float((gx * gy).mean())
    half, det = (jxx + jyy) / 2, jxx * jyy - jxy * jxy
    spread = math.sqrt(max(0.0, half * half - det))
    if half - spread <= 0:
        return None
    ratio = math.sqrt((half + spread) / (half - spread))
    if ratio < SQUEEZE_MIN:
        return None
    ratio = min(ratio, _SQUEEZE_MAX)
    theta = 0.5 * math.atan2(2 * jxy, jxx - jyy)  # the squeezed direction
    c, s = math.cos(theta), math.sin(theta)
    turn = np.array([[c, s], [-s, c]])
    stretch = turn.T @ np.diag([ratio, 1.0]) @ turn
    h, w = f.shape
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], np.float64) @ stretch.T
    low, high = corners.min(0), corners.max(0)
    scale = min(1.0, CROP_MAX / float(max(high - low)))  # no larger than a crop
    forward = np.hstack([stretch * scale, -low[:, None] * scale])
    size = (max(16, int((high - low)[0] * scale)), max(16, int((high - low)[1] * scale)))
    out = cv2.warpAffine(
        image, forward, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    to_crop = np.asarray(cv2.invertAffineTransform(forward), np.float64)
    return Warped(np.asarray(out, np.uint8), to_crop)


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
