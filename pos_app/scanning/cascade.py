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
_CROP_TARGET = 360  # upscale a crop until its long side is about this many pixels
_CROP_MAX = 720
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
    low, high = np.percentile(gray, (2, 98)) if gray.size < 400_000 else (0, 255)
    span = max(1.0, float(high) - float(low))
    stretched = cv2.convertScaleAbs(gray, alpha=255.0 / span, beta=-float(low) * 255.0 / span)
    return np.asarray(cv2.erode(stretched, np.ones((3, 3), np.uint8)), dtype=np.uint8)


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
        if not self.cascade.decoders:
            return
        cfg = self.config
        located = find_regions(self.gray, width=cfg.locate_width, limit=cfg.max_regions)
        for region in [*self.near_misses, *located]:
            if not self.time_left():
                return
            if any(region.covered_by(s.corners) for s, _ in self.found.values()):
                continue
            self.decode_region(region)

    def decode_region(self, region: Region) -> None:
        crop = _crop(self.gray, region)
        if crop is None:
            return
        variants: list[tuple[str, Callable[[GrayImage], GrayImage], Decoder]] = [
            ("region", sharpen, self.cascade.decoders[0])
        ]
        variants += [("region-" + d.name, _same, d) for d in self.cascade.decoders[1:]]
        variants.append(("region-thick", thicken, self.cascade.decoders[0]))
        for stage, prepare, decoder in variants:
            if not self.time_left():
                return
            view = _View(stage, prepare(crop.image), crop.to_frame)
            if self.read(decoder, view):
                return

    def confirm_linear(self) -> None:
        """A second view of each linear read that has only one: its own crop,
        upscaled. Not bound by the budget (a read is worth 2 ms), but capped."""
        single = [
            s for s, stages in self.found.values() if s.symbology in LINEAR and len(stages) < 2
        ]
        for symbol in single[:_MAX_CONFIRM]:
            crop = _crop(self.gray, _region_of(symbol.corners, score=0.0, linear=True))
            if crop is not None:
                view = _View("confirm", sharpen(crop.image), crop.to_frame)
                self.read(self.cascade.decoders[0], view)

    def fallbacks(self) -> None:
        if self.found:
            return
        identity = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        for decoder in self.cascade.decoders[1:]:
            if not self.time_left():
                return
            if self.read(decoder, _View("full-" + decoder.name, self.gray, identity)):
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
    rotate = cv2.getRotationMatrix2D((cx, cy), math.degrees(turn), factor)
    rotate[0, 2] += out_w / 2 - cx
    rotate[1, 2] += out_h / 2 - cy
    image = cv2.warpAffine(
        gray, rotate, (out_w, out_h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    return _Crop(np.asarray(image, dtype=np.uint8), cv2.invertAffineTransform(rotate))


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
