"""Finding a QR code by its three finder patterns, for codes no decoder locates.

A phone moving during the exposure smears its code so that zxing-cpp does
not even see it; the deblurred view (``crops.deblur_motion``) is sharper but
still too rough for zxing-cpp's own detector. The finder patterns survive
better than anything else in the code: a dark square ring around a dark
3x3 block, 1:1:3:1:1 dark-light-dark-light-dark along any line through the
centre. Here:

1. **binarize** with a local mean (the window a quarter of the image wide);
2. **runs**: every row and every column is cut into runs of one colour, and
   each five consecutive runs starting dark whose lengths fit 1:1:3:1:1
   (each within half a unit, the middle within 1.5) mark a centre;
3. **cluster** the row and column centres (within 1.5 units); a finder needs
   both (a line through a code's data can fit the ratio by chance, a row and a
   column through the same point rarely);
4. **triple**: three finders forming the code's corner (legs of about equal
   length, 60-120 degrees apart) give, with the module size from their runs,
   the code's size and version, and its outline by an affine map from the
   three centres (3.5 modules in from the corners).

The outline goes to ``grid.grid_views``, which polishes it against the
modules every code of that version has and lets Reed-Solomon decide: a
wrong guess reads nothing. About 1-4 ms CPU on a 300-500 px view.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from pos_app.scanning.grid import MAX_VERSION, dimension
from pos_app.scanning.symbols import GrayImage

_RATIO = np.array([1.0, 1.0, 3.0, 1.0, 1.0], np.float32)
_TOLERANCE = np.array([0.5, 0.5, 1.5, 0.5, 0.5], np.float32)  # units
_MIN_UNIT = 1.5  # px: finders smaller than this cannot be told apart
_MAX_CLUSTERS = 6
_CELL = 4  # px
_STEP = 2  # scan lines


@dataclass(frozen=True, slots=True)
class Finder:
    """One finder pattern: centre in image pixels, module size, supporting lines."""

    x: float
    y: float
    unit: float
    support: int


@dataclass(frozen=True, slots=True)
class Located:
    """Three finder centres (top-left, top-right, bottom-left in the code's
    own orientation) and the two versions their spacing suggests, likeliest
    first."""

    centres: tuple[tuple[float, float], ...]
    versions: tuple[int, ...]

    def corners(self, version: int) -> tuple[tuple[float, float], ...]:
        """The code's outer corners (top-left, top-right, bottom-right,
        bottom-left) for ``version``: the finder centres are 3.5 modules in."""
        n = dimension(version)
        modules = np.array([[3.5, 3.5], [n - 3.5, 3.5], [3.5, n - 3.5]], np.float32)
        affine = cv2.getAffineTransform(modules, np.array(self.centres, np.float32))
        unit = np.array([[0, 0, 1], [n, 0, 1], [n, n, 1], [0, n, 1]], np.float64)
        return tuple((float(x), float(y)) for x, y in unit @ affine.T)


def _centres(binary: npt.NDArray[np.bool_]) -> npt.NDArray[np.float32]:
    """(along, across, unit) of every 1:1:3:1:1 run pattern along the rows of
    ``binary`` (True = dark): ``along`` is the column of the centre."""
    h, w = binary.shape
    padded = np.zeros((h, w + 2), np.int8)
    padded[:, 1:-1] = binary
    flat = np.flatnonzero(np.diff(padded.ravel()))  # a change between two pixels
    rows, cols = np.divmod(flat + 1, w + 2)
    cols -= 1  # a change at ``cols[i]`` starts a run there; runs alternate colour
    m = len(cols) - 5
    if m <= 0:
        return np.zeros((0, 3), np.float32)
    starts = cols[:m].astype(np.float32)
    lengths = np.stack([cols[k + 1 : m + k + 1] - cols[k : m + k] for k in range(5)], 1)
    same_row = rows[5:] == rows[:m]
    first_dark = binary[rows[:m], np.clip(cols[:m], 0, w - 1)]
    lengths = lengths.astype(np.float32)
    unit = lengths.sum(axis=1) / 7.0
    fits = np.all(np.abs(lengths - unit[:, None] * _RATIO) <= unit[:, None] * _TOLERANCE, axis=1)
    ok = same_row & first_dark & fits & (unit >= _MIN_UNIT)
    centre = starts + lengths[:, 0] + lengths[:, 1] + lengths[:, 2] / 2.0
    # The module size from the outer dark runs' centres, 6 modules apart: a
    # threshold or blur that widens dark runs leaves their centres in place.
    pitch = (lengths[:, 0] / 2 + lengths[:, 1:4].sum(axis=1) + lengths[:, 4] / 2) / 6.0
    return np.stack([centre[ok], rows[:m][ok].astype(np.float32) + 0.5, pitch[ok]], 1)


def finders(image: GrayImage) -> list[Finder]:
    """Finder patterns in ``image``, most supported first."""
    h, w = image.shape[:2]
    if min(h, w) < 21:
        return []
    window = max(15, (min(h, w) // 4) | 1)
    binary = cv2.adaptiveThreshold(
        image, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, window, 2
    ).astype(bool)
    # Every other line is enough: a finder's 3-module core spans 4 or more.
    by_row = _centres(binary[::_STEP]) * [1.0, _STEP, 1.0]  # (x, y, unit)
    by_col = _centres(np.ascontiguousarray(binary[:, ::_STEP].T))[:, [1, 0, 2]] * [_STEP, 1.0, 1.0]
    if len(by_row) == 0 or len(by_col) == 0:
        return []
    # Row centres of a finder lie on a short vertical line through it, column
    # centres on a horizontal one: cells (``_CELL`` px) where both meet.
    points = np.concatenate([by_row, by_col])
    is_row = np.concatenate([np.ones(len(by_row), bool), np.zeros(len(by_col), bool)])
    cy = np.minimum((points[:, 1] / _CELL).astype(np.intp), (h - 1) // _CELL)
    cx = np.minimum((points[:, 0] / _CELL).astype(np.intp), (w - 1) // _CELL)
    shape = ((h - 1) // _CELL + 1, (w - 1) // _CELL + 1)
    counts = []
    for which in (is_row, ~is_row):
        grid = np.zeros(shape, np.float32)
        np.add.at(grid, (cy[which], cx[which]), 1.0)
        counts.append(cv2.boxFilter(grid, -1, (3, 3), normalize=False))
    mask = ((counts[0] >= 2) & (counts[1] >= 2)).astype(np.uint8)
    n, labels = cv2.connectedComponents(cv2.dilate(mask, np.ones((3, 3), np.uint8)))
    if n <= 1:
        return []
    label = labels[cy, cx]
    support = np.bincount(label, minlength=n).astype(np.float32)
    mean_x = np.bincount(label, points[:, 0], n) / np.maximum(support, 1)
    mean_y = np.bincount(label, points[:, 1], n) / np.maximum(support, 1)
    unit = np.bincount(label, points[:, 2], n) / np.maximum(support, 1)
    rows = np.bincount(label[is_row], minlength=n)
    cols = np.bincount(label[~is_row], minlength=n)
    found = [
        Finder(float(mean_x[k]), float(mean_y[k]), float(unit[k]), int(support[k]))
        for k in range(1, n)
        if rows[k] >= 2 and cols[k] >= 2
    ]
    found.sort(key=lambda f: -f.support)
    return found[:_MAX_CLUSTERS]


def locate(image: GrayImage) -> Located | None:
    """The QR code whose three finder patterns are likeliest in ``image``, or
    ``None`` when no three finders form a code's corner."""
    best: tuple[float, Located] | None = None
    for triple in itertools.combinations(finders(image), 3):
        for corner in range(3):
            a = triple[corner]
            b, c = (triple[k] for k in range(3) if k != corner)
            abx, aby, acx, acy = b.x - a.x, b.y - a.y, c.x - a.x, c.y - a.y
            lab, lac = math.hypot(abx, aby), math.hypot(acx, acy)
            if lab <= 0 or lac <= 0 or not 0.7 <= lab / lac <= 1.4:
                continue
            cos = (abx * acx + aby * acy) / (lab * lac)
            if abs(cos) > 0.5:
                continue
            units = [a.unit, b.unit, c.unit]
            # A line across a square turned by t crosses 1/cos(t) of its side.
            turn = math.atan2(aby, abx)
            unit = sum(units) / 3.0 * max(abs(math.cos(turn)), abs(math.sin(turn)))
            if max(units) > 1.6 * min(units):
                continue
            if abx * acy - aby * acx < 0:
                b, c = c, b  # b is top-right, c bottom-left
            size = (lab + lac) / 2.0 / unit + 7.0
            estimate = (size - 17.0) / 4.0
            version = round(estimate)
            if not 1 <= version <= MAX_VERSION:
                continue
            other = version + 1 if estimate > version else version - 1
            versions = (version, other) if 1 <= other <= MAX_VERSION else (version,)
            located = Located(((a.x, a.y), (b.x, b.y), (c.x, c.y)), versions)
            score = a.support + b.support + c.support - 40.0 * abs(cos)
            if best is None or score > best[0]:
                best = (score, located)
    return None if best is None else best[1]
