"""Reading a QR code's module grid ourselves, for codes zxing-cpp sees but cannot read.

When zxing-cpp finds a QR code's finder patterns and format but Reed-Solomon
fails (a "near miss": glare, bloom on an overexposed screen, modules of
1.5 px under defocus), it still reports the code's outline and version. From
there, on the frame itself:

1. **rectify**: the outline's homography maps module coordinates to frame
   pixels; the code is resampled upright at ``PX`` pixels per module.
2. **polish**: the outline zxing-cpp reports for a code it could not read
   is often off by half a module or more, too much for sampling module
   centres. The modules every code of that version has (finders with their
   separators, timing, alignment patterns, version information) are sampled
   where the outline puts them, and the four corners are nudged (coordinate
   descent, 0.35 down to 0.07 module) while those samples correlate better
   with what they must be. (Matching the finder and alignment patterns as
   templates was tried first: it moved exact outlines off by 0.1-0.3 module
   and read fewer codes.)
3. **sample and equalise**: one value per module centre, normalised by the
   local light and dark levels (glare, bloom). Blur spreads each module into
   its neighbours; the spread (a 5x5 kernel in module units) is fitted by
   least squares on the modules whose value is known (finders, separators,
   timing, alignment, version information), then cancelled from each module
   given its neighbours' current decisions, a few rounds (decision-feedback
   equalisation: what a modem does against inter-symbol interference).
4. **decode**: the bit matrix is drawn as a clean picture and handed to the
   decoder, whose Reed-Solomon check decides; a wrong grid cannot produce a
   valid code of another text (beyond RS's own negligible miscorrection).

About 2-4 ms for a version 9 code (53x53 modules).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from pos_app.scanning.codewords import repair, sureness
from pos_app.scanning.symbols import GrayImage

PX = 5  # rectified pixels per module (odd: the centre is a pixel)
QUIET = 4  # modules of quiet zone drawn around a rendered bit matrix
_RENDER_PX = 3
_KERNEL_R = 2  # blur kernel radius, in modules
_ROUNDS = 4
_POLISH_STEPS = (0.35, 0.15, 0.07)  # modules

# Alignment pattern centres per version (ISO/IEC 18004 Annex E), versions 1-20.
_ALIGNMENT: dict[int, tuple[int, ...]] = {
    1: (),
    2: (6, 18),
    3: (6, 22),
    4: (6, 26),
    5: (6, 30),
    6: (6, 34),
    7: (6, 22, 38),
    8: (6, 24, 42),
    9: (6, 26, 46),
    10: (6, 28, 50),
    11: (6, 30, 54),
    12: (6, 32, 58),
    13: (6, 34, 62),
    14: (6, 26, 46, 66),
    15: (6, 26, 48, 70),
    16: (6, 26, 50, 74),
    17: (6, 30, 54, 78),
    18: (6, 30, 56, 82),
    19: (6, 30, 58, 86),
    20: (6, 34, 62, 90),
}
MAX_VERSION = max(_ALIGNMENT)

BoolGrid = npt.NDArray[np.bool_]
FloatImage = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Pattern:
    """What every code of one version has, wherever its data is."""

    size: int
    known: BoolGrid  # modules whose value is fixed by the version
    dark: BoolGrid  # their value (True = dark), False elsewhere


def dimension(version: int) -> int:
    return 17 + 4 * version


@lru_cache(maxsize=MAX_VERSION)
def pattern(version: int) -> Pattern:
    """The function patterns of ``version`` (1-20): finders with their light
    separators, timing rows, alignment patterns, the dark module and, from
    version 7, the two version-information blocks."""
    if version not in _ALIGNMENT:
        raise ValueError(f"QR version {version} is not supported here (1-{MAX_VERSION})")
    n = dimension(version)
    known = np.zeros((n, n), np.bool_)
    dark = np.zeros((n, n), np.bool_)
    ring = np.ones((7, 7), np.bool_)
    ring[1:6, 1:6] = False
    ring[2:5, 2:5] = True
    for row, col in ((0, 0), (0, n - 7), (n - 7, 0)):
        r0, c0 = max(0, row - 1), max(0, col - 1)
        known[r0 : row + 8, c0 : col + 8] = True  # finder and separator
        dark[row : row + 7, col : col + 7] = ring
    known[6, 8 : n - 8] = True
    known[8 : n - 8, 6] = True
    dark[6, 8 : n - 8 : 2] = True
    dark[8 : n - 8 : 2, 6] = True
    small = np.ones((5, 5), np.bool_)
    small[1:4, 1:4] = False
    small[2, 2] = True
    spots = _ALIGNMENT[version]
    for cy in spots:
        for cx in spots:
            if (cy, cx) in ((6, 6), (6, spots[-1]), (spots[-1], 6)):
                continue
            known[cy - 2 : cy + 3, cx - 2 : cx + 3] = True
            dark[cy - 2 : cy + 3, cx - 2 : cx + 3] = small
    known[n - 8, 8] = dark[n - 8, 8] = True
    if version >= 7:
        bits = _version_bits(version)
        for i in range(18):
            bit = bool((bits >> i) & 1)
            a, b = i // 3, n - 11 + i % 3
            known[a, b] = known[b, a] = True
            dark[a, b] = dark[b, a] = bit
    known.setflags(write=False)
    dark.setflags(write=False)
    return Pattern(n, known, dark)


def _version_bits(version: int) -> int:
    """The 18-bit version information: 6 bits and a BCH(18,6) remainder."""
    value = version << 12
    for shift in range(5, -1, -1):
        if value & (1 << (shift + 12)):
            value ^= 0x1F25 << shift
    return (version << 12) | value


def module_homography(corners: Sequence[tuple[float, float]], size: int) -> npt.NDArray[np.float64]:
    """Module coordinates (0..size, x right, y down) to frame pixels, from the
    code's outer corners (top-left, top-right, bottom-right, bottom-left)."""
    src = np.array([[0, 0], [size, 0], [size, size], [0, size]], np.float32)
    return np.asarray(cv2.getPerspectiveTransform(src, np.array(corners, np.float32)), np.float64)


def rectify(
    gray: GrayImage, to_frame: npt.NDArray[np.float64], size: int, margin: int
) -> FloatImage:
    """The code resampled upright, ``PX`` pixels per module, ``margin`` modules around."""
    # Pixel i of the result is module coordinate (i + 0.5) / PX - margin.
    shift = margin * PX - 0.5
    scale = np.array([[PX, 0, shift], [0, PX, shift], [0, 0, 1]], np.float64)
    matrix = scale @ np.linalg.inv(to_frame)
    side = (size + 2 * margin) * PX
    out = cv2.warpPerspective(
        gray,
        matrix,
        (side, side),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return np.asarray(out, np.float32)


def sample(gray: GrayImage, to_frame: npt.NDArray[np.float64], size: int) -> FloatImage:
    """One value per module: the rectified image's centre pixel of each module."""
    image = rectify(gray, to_frame, size, 0)
    centre = PX // 2
    return np.ascontiguousarray(image[centre::PX, centre::PX][:size, :size])


def darkness(samples: FloatImage, window: int = 3) -> FloatImage:
    """0 (light) to 1 (dark) against the light and dark levels of the modules
    around (3x3 by default: on the dev split a 3-module window read glare,
    bloom and small modules where 5, 7 and 9 read fewer; module error rate on
    glare phones 4.5% against 6.7% at 7)."""
    kernel = np.ones((window, window), np.uint8)
    light = cv2.blur(cv2.dilate(samples, kernel), (window, window))
    dark = cv2.blur(cv2.erode(samples, kernel), (window, window))
    return np.asarray((light - samples) / np.maximum(light - dark, 8.0), np.float32)


def equalise(x: FloatImage, pat: Pattern, rounds: int = _ROUNDS) -> list[BoolGrid]:
    """Bit matrices, one per round of decision-feedback equalisation (the
    first is the plain threshold with known modules forced)."""
    bits = np.where(pat.known, pat.dark, x > 0.5)
    out = [bits]
    kernel = _fit(x, bits, pat.known)
    for _ in range(rounds):
        if kernel is None:
            break
        weights, bias = kernel
        r = weights.shape[0] // 2
        centre = float(weights[r, r])
        if centre < 0.05:
            break
        others = weights.copy()
        others[r, r] = 0.0
        spill = cv2.filter2D(bits.astype(np.float32), -1, others, borderType=cv2.BORDER_CONSTANT)
        decided = (x - bias - spill) / centre > 0.5
        bits = np.where(pat.known, pat.dark, decided)
        out.append(bits)
        kernel = _fit(x, bits, None)
    return out


def _fit(x: FloatImage, bits: BoolGrid, only: BoolGrid | None) -> tuple[FloatImage, float] | None:
    """Least-squares blur kernel (``2*_KERNEL_R+1`` square) and offset with
    ``x ~ kernel * bits + bias``, over modules whose whole neighbourhood is in
    ``only`` (all modules if ``None``)."""
    r = _KERNEL_R
    n = x.shape[0]
    if only is None:
        use = np.ones((n, n), np.bool_)
    else:
        grown = cv2.erode(
            only.astype(np.uint8),
            np.ones((2 * r + 1, 2 * r + 1), np.uint8),
            borderType=cv2.BORDER_CONSTANT,
            borderValue=1,
        )
        use = grown > 0
    count = int(use.sum())
    if count < 3 * (2 * r + 1) ** 2:
        return None
    padded = np.pad(bits.astype(np.float32), r)
    columns = [
        padded[r + dy : r + dy + n, r + dx : r + dx + n][use]
        for dy in range(-r, r + 1)
        for dx in range(-r, r + 1)
    ]
    design = np.stack([*columns, np.ones(count, np.float32)], axis=1).astype(np.float64)
    # Normal equations (26 unknowns): a fraction of lstsq's SVD cost.
    gram = design.T @ design + 1e-6 * np.eye(design.shape[1])
    coef = np.linalg.solve(gram, design.T @ x[use].astype(np.float64))
    return np.asarray(coef[:-1].reshape(2 * r + 1, 2 * r + 1), np.float32), float(coef[-1])


def render(bits: BoolGrid) -> GrayImage:
    """A bit matrix drawn as a clean code: dark modules black, quiet zone around."""
    n = bits.shape[0]
    side = (n + 2 * QUIET) * _RENDER_PX
    image = np.full((side, side), 255, np.uint8)
    block = np.kron(bits.astype(np.uint8), np.ones((_RENDER_PX, _RENDER_PX), np.uint8))
    start = QUIET * _RENDER_PX
    image[start : start + n * _RENDER_PX, start : start + n * _RENDER_PX] = 255 - 255 * block
    return image


@dataclass(frozen=True, slots=True)
class GridViews:
    """Renderings of one code's module grid, best first, and the 2x3 affine
    map from their pixels to the frame's (exact at three corners; the
    code's outline is all it is used for)."""

    images: tuple[GrayImage, ...]
    to_frame: npt.NDArray[np.float64]


def grid_views(
    gray: GrayImage, corners: Sequence[tuple[float, float]], version: int
) -> GridViews | None:
    """Clean renderings of the module grid of the QR code at ``corners``
    (outer corners from a decoder's near miss), or ``None`` when the version
    is out of range or the outline is degenerate."""
    if not 1 <= version <= MAX_VERSION or len(corners) != 4:
        return None
    pat = pattern(version)
    to_frame = module_homography(corners, pat.size)
    if not np.all(np.isfinite(to_frame)) or abs(np.linalg.det(to_frame[:2, :2])) < 1e-6:
        return None
    to_frame = polish(gray, to_frame, pat)
    samples = sample(gray, to_frame, pat.size)
    x = darkness(samples)
    rounds = equalise(x, pat)
    # The last round's codewords corrected with the clipped and least sure
    # modules as erasures (``codewords.repair``) first, when that succeeds.
    repaired = repair(rounds[-1], sureness(x, samples), version, pat.known)
    best = [] if repaired is None else [render(repaired)]
    images = (*best, *(render(bits) for bits in reversed(rounds)))
    # Rendered pixel -> module -> frame, as an affine map through three corners.
    n, q, px = pat.size, QUIET, _RENDER_PX
    rendered = np.array(
        [[q * px, q * px], [(q + n) * px, q * px], [q * px, (q + n) * px]], np.float32
    )
    modules = np.array([[0, 0], [n, 0], [0, n]], np.float32).reshape(-1, 1, 2)
    frame = cv2.perspectiveTransform(modules, to_frame).reshape(3, 2)
    affine = np.asarray(cv2.getAffineTransform(rendered, np.array(frame, np.float32)), np.float64)
    return GridViews(images, affine)


def polish(
    gray: GrayImage, to_frame: npt.NDArray[np.float64], pat: Pattern
) -> npt.NDArray[np.float64]:
    """Nudge the code's four corners (coordinate descent, steps of 0.35 down to
    0.07 module) while the known modules sampled at their centres correlate
    better with what they must be."""
    n = pat.size
    rows, cols = np.nonzero(pat.known)
    centres = np.stack([cols + 0.5, rows + 0.5], axis=1).astype(np.float32).reshape(-1, 1, 2)
    want = pat.dark[rows, cols].astype(np.float32)
    want = (want - want.mean()) / max(float(want.std()), 1e-6)
    image = np.asarray(gray, np.float32)
    unit = np.array([[0, 0], [n, 0], [n, n], [0, n]], np.float32)
    corners = cv2.perspectiveTransform(unit.reshape(-1, 1, 2), to_frame).reshape(4, 2)
    module = float(np.linalg.norm(corners[1] - corners[0])) / n

    homogeneous = np.concatenate([centres.reshape(-1, 2), np.ones((len(want), 1), np.float32)], 1)
    count = float(len(want))

    def score(points: npt.NDArray[np.float32]) -> float:
        matrix = cv2.getPerspectiveTransform(unit, points)
        at = homogeneous @ matrix.T.astype(np.float32)
        at = at[:, :2] / at[:, 2:3]
        values = cv2.remap(image, at[:, 0:1], at[:, 1:2], cv2.INTER_LINEAR).ravel()
        mean = float(values.sum()) / count
        spread = float(values @ values) / count - mean * mean
        if spread <= 1e-6:
            return 0.0
        # ``want`` has mean 0: the correlation needs no centred copy of values.
        return -float(values @ want) / (count * math.sqrt(spread))

    best = np.asarray(corners, np.float32)
    best_score = score(best)
    for step in _POLISH_STEPS:
        delta = step * module
        improved = True
        rounds = 0
        while improved and rounds < 2:
            improved = False
            rounds += 1
            for k in range(8):
                for sign in (1.0, -1.0):
                    trial = best.copy()
                    trial[k // 2, k % 2] += sign * delta
                    value = score(trial)
                    if value > best_score:
                        best, best_score, improved = trial, value, True
                        break
    return np.asarray(cv2.getPerspectiveTransform(unit, best), np.float64)
