"""One frame in, every code in it out: whole frame first, then found regions.

Steps, on the grayscale frame:

1. **full**: the first decoder (zxing-cpp) once over the whole frame, without
   its rotated and inverted retries (regions below handle those for less);
   it reads every clear code in view, two phones included.
2. **region**: :func:`~pos_app.scanning.locate.find_regions` finds code-like
   patches at low resolution (about 1 ms); each one no read covers is cut out,
   turned so a barcode's bars stand upright, upscaled 2-4x so a module spans
   several pixels, and decoded with one variant after another until one reads:
   sharpened with the local binarizer, smoothed with the global one (the
   second binarizer reads what the first misses: glare, halftone), stretched
   and thickened for overexposed screens, then the other decoders. Symbols
   zxing-cpp saw but could not decode (a "near miss") are regions too.
3. **whole-frame fallbacks**: the other decoders over the whole frame, when
   nothing at all was read (still photos where the code fills the picture).

Regions keep being searched after a read, because the live filter must know
when a second phone is in view and ``scan-image`` reports every code.

Steps 2 and 3 stop when ``budget_ms`` is spent (checked before each decode,
so a frame overruns by at most one crop decode): an empty frame costs the
budget, not the sum of every pass. A linear (EAN/JAN) read is kept only when
a second, differently made view of it gives the same digits: one misread
line of a partly seen EAN-13 must never put a wrong item in the basket.
Decoder exceptions are caught and counted here and never reach the pipeline.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from pos_app.scanning.config import DecoderConfig
from pos_app.scanning.decoders import Decoder, ZxingDecoder, make_decoder
from pos_app.scanning.locate import Region, find_regions
from pos_app.scanning.symbols import GrayImage, RawSymbol, Symbol, Symbology, classify

log = logging.getLogger(__name__)

LINEAR = frozenset({Symbology.EAN13, Symbology.EAN8, Symbology.UPCA, Symbology.UPCE})
_CROP_TARGET = 320  # upscale a crop until its long side is about this many pixels
_CROP_MAX = 640
_THICKEN = np.ones((3, 3), np.uint8)
# Local contrast equalisation brings back modules next to a glare highlight.
_CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4))
_MAX_CONFIRM = 3


@dataclass(frozen=True, slots=True)
class DecodeResult:
    """What one frame gave. ``stage`` names the step that read first (``""`` if
    none); ``errors`` lists the decoder failures swallowed on this frame."""

    symbols: tuple[Symbol, ...]
    stage: str
    ms: float
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _View:
    """A decoded image and how its pixels map back to the frame (2x3 affine)."""

    stage: str
    image: GrayImage
    to_frame: npt.NDArray[np.float64]


def to_gray(frame: npt.NDArray[np.uint8]) -> GrayImage:
    """Grayscale once per frame; accepts gray, BGR and BGRA."""
    if frame.ndim == 2:
        return frame
    if frame.ndim == 3 and frame.shape[2] == 3:
        return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY), dtype=np.uint8)
    raise ValueError(f"unsupported frame shape {frame.shape}")


def sharpen(gray: GrayImage, *, sigma: float = 2.0, amount: float = 1.0) -> GrayImage:
    """Unsharp mask: restores module edges softened by defocus and upscaling."""
    soft = cv2.GaussianBlur(gray, (0, 0), sigma)
    return np.asarray(cv2.addWeighted(gray, 1.0 + amount, soft, -amount, 0), dtype=np.uint8)


def thicken(gray: GrayImage) -> GrayImage:
    """Overexposed screen: bloom eats the dark modules. Stretch the contrast and
    grow the dark parts back (a minimum filter) before binarizing."""
    stretched = cv2.normalize(gray, None, 0, 255, cv2.NORM_MINMAX)
    return np.asarray(cv2.erode(stretched, _THICKEN), dtype=np.uint8)


class DecodeCascade:
    """Decodes frames; thread-confined (one per worker): counters are not locked."""

    def __init__(
        self,
        config: DecoderConfig | None = None,
        *,
        decoders: Sequence[Decoder] | None = None,
        clock: Callable[[], float] = time.perf_counter,
        budget_clock: Callable[[], float] = time.thread_time,
    ) -> None:
        self.config = config or DecoderConfig()
        built = decoders if decoders is not None else self._build(self.config)
        self.unavailable = {d.name: d.unavailable_reason for d in built if d.unavailable_reason}
        self.decoders = tuple(d for d in built if not d.unavailable_reason)
        for name, reason in self.unavailable.items():
            log.warning("decoder %s unavailable: %s", name, reason)
        self.error_counts: Counter[str] = Counter()
        self.variants = _variants(self.decoders)
        self._clock = clock
        # The budget counts this thread's CPU time: on a busy machine wall time
        # would cut the search short for reasons that have nothing to do with it.
        self._budget_clock = budget_clock

    @staticmethod
    def _build(config: DecoderConfig) -> list[Decoder]:
        built: list[Decoder] = []
        for name in config.cascade:
            if name == "zxing" and not built:
                # The whole-frame pass: rotated/inverted retries are the regions' job.
                built.append(
                    ZxingDecoder(
                        formats=config.formats,
                        try_downscale=config.try_downscale,
                        try_rotate=False,
                        try_invert=False,
                    )
                )
            else:
                built.append(
                    make_decoder(name, formats=config.formats, try_downscale=config.try_downscale)
                )
        return built

    def decode(self, frame: npt.NDArray[np.uint8]) -> DecodeResult:
        run = _FrameRun(self, to_gray(frame))
        run.full()
        run.regions()
        run.fallbacks()
        run.confirm_linear()
        symbols = run.confirmed()
        ms = (self._clock() - run.start) * 1000.0
        return DecodeResult(symbols, run.first_stage if symbols else "", ms, tuple(run.errors))

    def allowed(self, raw: RawSymbol) -> bool:
        """UPC only when configured. An EAN-13 starting with 0 *is* a UPC code
        (ZBar reports UPC-A and UPC-E that way, zxing-cpp reads UPC-A bars so
        with EAN-13 on): without upca/upce in the formats it is not taken."""
        if raw.symbology is not Symbology.EAN13 or not raw.text.startswith("0"):
            return True
        return bool({"upca", "upce"} & set(self.config.formats))

    def run_decoder(
        self, decoder: Decoder, image: GrayImage, *, errors: list[str]
    ) -> list[RawSymbol]:
        try:
            return decoder.decode(image)
        except Exception as exc:  # a decoder bug must never stop the till
            self.error_counts[decoder.name] += 1
            errors.append(f"{decoder.name}: {type(exc).__name__}: {exc}")
            log.debug("decoder %s failed", decoder.name, exc_info=True)
            return []


class _FrameRun:
    """The state of one frame's decode: what was read, by which view, time left."""

    def __init__(self, cascade: DecodeCascade, gray: GrayImage) -> None:
        self.cascade = cascade
        self.gray = gray
        self.start = cascade._clock()
        self.cpu_start = cascade._budget_clock()
        self.errors: list[str] = []
        self.first_stage = ""
        # (symbology, raw) -> (first Symbol, set of view stages that read it)
        self.found: dict[tuple[Symbology, bytes], tuple[Symbol, set[str]]] = {}
        self.near_misses: list[Region] = []

    @property
    def config(self) -> DecoderConfig:
        return self.cascade.config

    def time_left(self) -> bool:
        spent = (self.cascade._budget_clock() - self.cpu_start) * 1000.0
        return spent < self.config.budget_ms

    def read(self, decoder: Decoder, view: _View) -> int:
        raws = self.cascade.run_decoder(decoder, view.image, errors=self.errors)
        raws = [raw for raw in raws if self.cascade.allowed(raw)]
        for raw in raws:
            symbol = classify(_mapped(raw, view.to_frame), decoder=decoder.name)
            key = (raw.symbology, raw.raw)
            entry = self.found.setdefault(key, (symbol, set()))
            entry[1].add(view.stage)
            self.first_stage = self.first_stage or view.stage
        for corners in getattr(decoder, "near_miss_corners", ()):
            self.near_misses.append(_region_of(_map_points(corners, view.to_frame), score=1e12))
        return len(raws)

    def full(self) -> None:
        if not self.cascade.decoders:
            return
        identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        self.read(self.cascade.decoders[0], _View("full", self.gray, identity))

    def regions(self) -> None:
        """Variant by variant over all regions (breadth first): the cheap variant
        that reads most is tried on every region before a costlier one on any."""
        if not self.cascade.decoders:
            return
        cfg = self.config
        located = find_regions(self.gray, width=cfg.locate_width, limit=cfg.max_regions)
        # Payment codes first: QR-like (edges every way) before bar-like regions.
        located.sort(key=lambda region: region.angle is not None)
        pending: list[Region | None] = [*self.near_misses[:2], *located]
        crops: dict[int, _Crop | None] = {}
        for stage, prepare, decoder in self.cascade.variants:
            for index, region in enumerate(pending):
                if not self.time_left():
                    return
                if region is None or self.covered(region):
                    pending[index] = None
                    continue
                if index not in crops:
                    crops[index] = _crop(self.gray, region)
                crop = crops[index]
                if crop is None:
                    continue
                if self.read(decoder, _View(stage, prepare(crop.image), crop.to_frame)):
                    pending[index] = None

    def covered(self, region: Region) -> bool:
        return any(region.covered_by(symbol.corners) for symbol, _ in self.found.values())

    def confirm_linear(self) -> None:
        """A second view of each linear read that has only one: its own crop,
        upscaled. Not bound by the budget (a read is worth 2 ms), but capped."""
        single = [
            s for s, stages in self.found.values() if s.symbology in LINEAR and len(stages) < 2
        ]
        for symbol in single[:_MAX_CONFIRM]:
            crop = _crop(self.gray, _region_of(symbol.corners, score=0.0, linear=True))
            if crop is None:
                continue
            view = _View("confirm", sharpen(crop.image), crop.to_frame)
            key = (symbol.symbology, symbol.raw)
            for decoder in self.cascade.decoders:
                self.read(decoder, view)
                if len(self.found[key][1]) > 1:
                    break

    def fallbacks(self) -> None:
        """Nothing read: the whole frame inverted (light-on-dark codes), then
        with the other decoders (a code that fills a still photo)."""
        if self.found or not self.cascade.decoders:
            return
        identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        first, *others = self.cascade.decoders
        steps = [("full-invert", np.asarray(255 - self.gray, np.uint8), first)]
        steps += [("full-" + d.name, self.gray, d) for d in others]
        for stage, image, decoder in steps:
            if not self.time_left():
                return
            if self.read(decoder, _View(stage, image, identity)):
                return

    def confirmed(self) -> tuple[Symbol, ...]:
        out = []
        for symbol, stages in self.found.values():
            if symbol.symbology in LINEAR and len(stages) < 2:
                log.debug("dropped an unconfirmed %s read", symbol.symbology)
                continue
            out.append(symbol)
        return tuple(out)


def _same(image: GrayImage) -> GrayImage:
    return image


def _clahe_sharpen(image: GrayImage) -> GrayImage:
    return sharpen(np.asarray(_CLAHE.apply(image), dtype=np.uint8))


Variant = tuple[str, Callable[[GrayImage], GrayImage], Decoder]


def _variants(decoders: Sequence[Decoder]) -> tuple[Variant, ...]:
    """How a region crop is tried, in order of reads per millisecond measured on
    the tuning split: sharpened (small modules), the other binarizers (moire,
    halftone), contrast-equalised and sharpened (glare, overexposure, motion),
    contrast-stretched and thickened (bloom). ZBar is last: it costs 5x more."""
    if not decoders:
        return ()
    crop_decoders = [_for_crops(d) for d in decoders]
    first, others = crop_decoders[0], crop_decoders[1:]
    cheap = [d for d in others if d.name != "pyzbar"]
    costly = [d for d in others if d.name == "pyzbar"]
    variants: list[Variant] = [("region", sharpen, first)]
    variants += [("region-" + d.name, _same, d) for d in cheap]
    variants += [("region-clahe", _clahe_sharpen, first), ("region-thick", thicken, first)]
    variants += [("region-" + d.name, _same, d) for d in costly]
    return tuple(variants)


def _for_crops(decoder: Decoder) -> Decoder:
    """A crop is already sized and turned upright: no downscaled or rotated retries."""
    make = getattr(decoder, "for_crops", None)
    return make() if callable(make) else decoder


def _region_of(
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
class _Crop:
    image: GrayImage
    to_frame: npt.NDArray[np.float64]


def _crop(gray: GrayImage, region: Region) -> _Crop | None:
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
    factor = min(4.0, max(2.0, _CROP_TARGET / max(side_w, side_h)))
    factor = min(factor, _CROP_MAX / max(side_w, side_h))
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
    return _Crop(np.asarray(image, dtype=np.uint8), to_frame)


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


def _map_points(
    points: Sequence[tuple[float, float]], to_frame: npt.NDArray[np.float64]
) -> tuple[tuple[float, float], ...]:
    return tuple(
        (
            float(to_frame[0, 0] * x + to_frame[0, 1] * y + to_frame[0, 2]),
            float(to_frame[1, 0] * x + to_frame[1, 1] * y + to_frame[1, 2]),
        )
        for x, y in points
    )


def _mapped(raw: RawSymbol, to_frame: npt.NDArray[np.float64]) -> RawSymbol:
    return RawSymbol(raw.symbology, raw.raw, raw.text, _map_points(raw.corners, to_frame))
