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
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np
import numpy.typing as npt

from pos_app.scanning.config import DecoderConfig
from pos_app.scanning.crops import (
    CROP_MAX,
    IDENTITY,
    Crop,
    Warped,
    clahe_sharpen,
    cut,
    deblur_motion,
    flatten,
    map_points,
    region_of,
    sharpen,
    thicken,
    unsqueeze,
)
from pos_app.scanning.decoders import Decoder, ZxingDecoder, make_decoder
from pos_app.scanning.finders import locate as locate_finders
from pos_app.scanning.grid import grid_views
from pos_app.scanning.locate import Region, code_box, find_regions
from pos_app.scanning.symbols import GrayImage, RawSymbol, Symbol, Symbology, classify

log = logging.getLogger(__name__)

LINEAR = frozenset({Symbology.EAN13, Symbology.EAN8, Symbology.UPCA, Symbology.UPCE})
_MAX_CONFIRM = 3
# EAN-8 guards 7 digits with one check digit and, unlike EAN-13, no parity
# pattern: zxing-cpp can read the same wrong digits in every view of a tilted
# code. Each confirmed EAN-8 not read by ZBar is read once more by ZBar on the
# middle rows of its own crop; a different linear code there drops the read
# (no read is better than a guess; ZBar reading nothing keeps it).
CROSS_CHECKED = frozenset({Symbology.EAN8})
ZBAR = "pyzbar"
# Region variants tried on the own crops of linear reads still seen by one
# view only (at most this many a frame, outside the budget).
_MAX_EXTRA_VIEWS = 2
CONFIRM_WITH_VARIANTS = True
CLAHE = "region-clahe"
CONFIRM_STAGES = frozenset({CLAHE})
# Tracking in a sequence: where a code was read stays a first guess for this
# many frames (a third of a second at 30 fps), for at most this many codes.
TRACK_FRAMES = 10
_MAX_TRACKS = 3
# Located blobs a frame must have under its reads to be ``clear``, at most.
_MAX_LOCATED = 32
# Tight regions added from codes seen but not decoded inside a crop, per frame.
_MAX_REFINED = 2
# QR codes seen but not decoded whose module grid is read by ``grid``, per frame.
_MAX_GRIDS = 2
# Deblurred views searched for finder patterns when no decoder saw a code, per frame.
_MAX_FINDER_TRIES = 2
GRID = "grid"
# The grid of a code located on a motion-deblurred view.
GRID_DEBLUR = "grid-deblur"


@dataclass(frozen=True, slots=True)
class DecodeResult:
    """What one frame gave. ``stage`` names the step that read first (``""`` if
    none); ``errors`` lists the decoder failures swallowed on this frame.
    ``clear``: every code-like patch the locator found in the frame, and every
    code a decoder saw but could not decode, lies under a read symbol: as far
    as this frame tells, nothing else that could be a code is in view (the
    filter may accept a payment code from such a frame alone)."""

    symbols: tuple[Symbol, ...]
    stage: str
    ms: float
    errors: tuple[str, ...] = ()
    clear: bool = False


@dataclass(frozen=True, slots=True)
class _Track:
    """Where a code was read in an earlier frame of the sequence, and how."""

    region: Region
    stage: str
    frames_left: int


@dataclass(frozen=True, slots=True)
class _Seen:
    """A QR code a decoder located but could not decode: the image to sample
    its grid in, its outline there and in the frame, its version, and the
    view it was seen in (``None``: the image is the frame)."""

    image: GrayImage
    corners: tuple[tuple[float, float], ...]
    in_frame: tuple[tuple[float, float], ...]
    version: int
    view: _View | None


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
        self._upc = bool({"upca", "upce"} & set(self.config.formats))
        self._tracks: list[_Track] = []
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

    def decode(self, frame: npt.NDArray[np.uint8], *, sequence: bool = False) -> DecodeResult:
        """Every code in ``frame``. ``sequence=True`` (live camera, video file):
        the frame follows the previous one, so where a code was read in the last
        ``TRACK_FRAMES`` frames is cut out and tried first, with the variant
        that read it, before the search. A still picture (``scan-image``) has no
        such prior and forgets any."""
        run = _FrameRun(self, to_gray(frame))
        run.full()
        if sequence:
            run.tracked(self._tracks)
        run.grid()
        if self.gray_is_crop_sized(run.gray):
            # A picture no larger than a crop (a still photo of one code): the
            # whole-frame steps cost what a crop costs and read more.
            run.fallbacks()
        run.regions()
        run.fallbacks()
        run.confirm_linear()
        run.cross_check()
        symbols = run.confirmed()
        self._tracks = run.next_tracks(self._tracks) if sequence else []
        ms = (self._clock() - run.start) * 1000.0
        stage = run.first_stage if symbols else ""
        return DecodeResult(symbols, stage, ms, tuple(run.errors), run.clear(symbols))

    @staticmethod
    def gray_is_crop_sized(gray: GrayImage) -> bool:
        return gray.size <= CROP_MAX * CROP_MAX // 2

    def allowed(self, raw: RawSymbol) -> bool:
        """UPC only when configured. An EAN-13 starting with 0 *is* a UPC code
        (ZBar reports UPC-A and UPC-E that way, zxing-cpp reads UPC-A bars so
        with EAN-13 on): without upca/upce in the formats it is not taken."""
        return self._upc or raw.symbology is not Symbology.EAN13 or not raw.text.startswith("0")

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
        # QR near misses with their outline in frame pixels and version, for ``grid``.
        self.grid_seen: list[_Seen] = []
        self._grid_tried: list[Region] = []
        self._tightened = 0
        self._finder_tries = 0
        self.fell_back = False
        self._read_order: list[str] = []
        self._refined = 0
        # Reads a cross-check contradicted (``cross_check``): never reported.
        self.vetoed: set[tuple[Symbology, bytes]] = set()
        # Every region the locator found (``None``: it did not run).
        self.located: list[Region] | None = None

    @property
    def config(self) -> DecoderConfig:
        return self.cascade.config

    def time_left(self) -> bool:
        spent = (self.cascade._budget_clock() - self.cpu_start) * 1000.0
        if spent < self.config.budget_ms:
            return True
        # Over the usual budget: go on only for a code seen but not yet read.
        unread = any(not self.covered(region) for region in self.near_misses)
        return unread and spent < self.config.near_miss_budget_ms

    def read(self, decoder: Decoder, view: _View) -> int:
        raws = self.cascade.run_decoder(decoder, view.image, errors=self.errors)
        raws = [raw for raw in raws if self.cascade.allowed(raw)]
        for raw in raws:
            symbol = classify(_mapped(raw, view.to_frame), decoder=decoder.name)
            key = (raw.symbology, raw.raw)
            entry = self.found.setdefault(key, (symbol, set()))
            entry[1].add(view.stage)
            if view.stage not in self._read_order:
                self._read_order.append(view.stage)
            self.first_stage = self.first_stage or view.stage
        versions = getattr(decoder, "near_miss_versions", ())
        for index, corners in enumerate(getattr(decoder, "near_miss_corners", ())):
            in_frame = map_points(corners, view.to_frame)
            self.near_misses.append(region_of(in_frame, score=1e12))
            version = versions[index] if index < len(versions) else None
            if version is not None and view.stage not in (GRID, GRID_DEBLUR):
                # A deblurred view is sampled itself (the frame is still smeared).
                if view.stage == DEBLUR:
                    self.grid_seen.append(_Seen(view.image, corners, in_frame, version, view))
                else:
                    self.grid_seen.append(_Seen(self.gray, in_frame, in_frame, version, None))
        return len(raws)

    def grid(self) -> None:
        """QR codes a decoder located but could not decode: their module grid
        sampled, equalised and rendered clean (``grid.grid_views``), the
        likeliest reads of a frame where they occur. At most ``_MAX_GRIDS``
        codes a frame, within the budget."""
        if not self.cascade.variants:
            return
        while self.grid_seen and len(self._grid_tried) < _MAX_GRIDS:
            seen = self.grid_seen.pop(0)
            region = region_of(seen.in_frame, score=0.0)
            cx, cy = region.centre
            if self.covered(region) or any(
                t.x0 <= cx <= t.x1 and t.y0 <= cy <= t.y1 for t in self._grid_tried
            ):
                continue
            if not self.time_left():
                return
            self._grid_tried.append(region)
            self.read_grid(seen.image, seen.corners, seen.version, seen.view)

    def read_grid(
        self,
        image: GrayImage,
        corners: Sequence[tuple[float, float]],
        version: int,
        view: _View | None,
    ) -> bool:
        """The code at ``corners`` of ``image`` (the frame when ``view`` is
        ``None``) read from its module grid, within the budget."""
        decoder = self.cascade.variants[0][2]
        views = grid_views(image, corners, version)
        if views is None:
            return False
        to_frame = views.to_frame if view is None else _then(views.to_frame, view)
        stage = GRID_DEBLUR if view is not None and view.stage == DEBLUR else GRID
        for rendered in views.images:
            if self.read(decoder, _View(stage, rendered, to_frame)):
                return True
            if not self.time_left():
                return False
        return False

    def full(self) -> None:
        if not self.cascade.decoders:
            return
        identity = IDENTITY
        self.read(self.cascade.decoders[0], _View("full", self.gray, identity))

    def tracked(self, tracks: Sequence[_Track]) -> None:
        """The spots where codes were read in the last frames, each with the
        variant that read it there (the cheapest sharpened crop if the whole
        frame did): a code held in view is read again for one crop decode.
        Not bound by the budget: at most ``_MAX_TRACKS`` crops, the likeliest
        reads of the frame."""
        variants = {stage: (prepare, decoder) for stage, prepare, decoder in self.cascade.variants}
        first = self.cascade.variants[0] if self.cascade.variants else None
        for track in tracks:  # at most _MAX_TRACKS crop decodes, outside the budget
            if first is None or self.covered(track.region):
                continue
            crop = cut(self.gray, track.region)
            if crop is None:
                continue
            prepare, decoder = variants.get(track.stage, (first[1], first[2]))
            stage = track.stage if track.stage in variants else first[0]
            prepared = prepare(crop)
            if prepared is not None:
                self.read(decoder, _view_of(stage, crop, prepared))

    def next_tracks(self, tracks: Sequence[_Track]) -> list[_Track]:
        """This frame's reads become the next frame's first guesses; a spot
        not read again is kept for ``TRACK_FRAMES`` frames."""
        fresh: list[_Track] = []
        for symbol, stages in self.found.values():
            if not symbol.corners:
                continue
            stage = next((s for s in self._read_order if s in stages), "region")
            linear = symbol.symbology in LINEAR
            region = region_of(symbol.corners, score=0.0, linear=linear)
            fresh.append(_Track(region, stage, TRACK_FRAMES))
        for track in tracks:
            if track.frames_left > 1 and not any(
                track.region.covered_by(_box(t.region)) for t in fresh
            ):
                fresh.append(_Track(track.region, track.stage, track.frames_left - 1))
        return fresh[:_MAX_TRACKS]

    def regions(self) -> None:
        """Variant by variant over all regions (breadth first): the cheap variant
        that reads most is tried on every region before a costlier one on any."""
        if not self.cascade.decoders:
            return
        cfg = self.config
        # Every blob the locator finds counts for ``clear`` (a second phone may
        # rank below the regions decoded); the strongest are decoded.
        self.located = find_regions(self.gray, width=cfg.locate_width, limit=_MAX_LOCATED)
        located = self.located[: cfg.max_regions]
        # Payment codes first: QR-like (edges every way) before bar-like regions.
        located.sort(key=lambda region: region.angle is not None)
        pending: list[Region | None] = [*self.near_misses[:2], *located]
        crops: dict[int, Crop | None] = {}
        self._refined = 0
        for stage, prepare, decoder in self.cascade.variants:
            for index, region in enumerate(pending):
                if not self.time_left():
                    return
                if region is None or self.covered(region):
                    pending[index] = None
                    continue
                if stage in (DEBLUR, FLAT, SLANT) and region.angle is not None:
                    continue  # a barcode's own bars look like a smear; no screen
                if index not in crops:
                    crops[index] = cut(self.gray, region)
                crop = crops[index]
                if crop is None:
                    continue
                prepared = prepare(crop)
                if prepared is None:
                    continue
                known = len(self.near_misses)
                view = _view_of(stage, crop, prepared)
                if self.read(decoder, view):
                    pending[index] = None
                    continue
                self.refine(pending, self.near_misses[known:])
                if stage == DEBLUR and len(self.near_misses) == known:
                    # The searches below cost by the pixel: on the crop's own scale.
                    at_crop = _at_size(view, crop.image.shape)
                    self.tighten(pending, at_crop)
                    self.find_finders(at_crop)
                self.grid()

    def refine(self, pending: list[Region | None], seen: Sequence[Region]) -> None:
        """A crop in which zxing-cpp found a code it could not decode gives that
        code's own outline: a tighter region (the phone's region holds the
        screen and bezel too), upscaled more, for the variants still to come."""
        for region in seen:
            if self._refined >= _MAX_REFINED:
                return
            cx, cy = region.centre
            if any(
                p is not None
                and p.score >= region.score
                and p.x0 <= cx <= p.x1
                and p.y0 <= cy <= p.y1
                for p in pending
            ):
                continue  # that code is already a near-miss region of its own
            self._refined += 1
            pending.append(region)

    def tighten(self, pending: list[Region | None], view: _View) -> None:
        """A deblurred phone in which no code was even seen: the code's own
        patch of texture (``locate.code_box``) becomes a region for the
        variants still to come, this one included: cut tighter and upscaled
        more, the smear estimate comes from the code, not the bezel and the
        background. Once a frame."""
        if self._tightened:
            return
        box = code_box(view.image)
        if box is None:
            return
        self._tightened += 1
        pending.append(region_of(map_points(box, view.to_frame), score=0.0))

    def find_finders(self, view: _View) -> None:
        """A deblurred view in which no decoder even saw a code: its three
        finder patterns (``finders.locate``, run ratios 1:1:3:1:1) give an
        outline and the two likeliest versions, read by ``read_grid``. At most
        ``_MAX_FINDER_TRIES`` views a frame; the search itself (1-4 ms) runs
        even when the budget is spent, the grid reads within the near-miss
        budget."""
        if self._finder_tries >= _MAX_FINDER_TRIES:
            return
        self._finder_tries += 1
        located = locate_finders(view.image)
        if located is None:
            return
        in_frame = map_points(located.corners(located.versions[0]), view.to_frame)
        # Three finders in place: a code is surely there (the near-miss budget).
        self.near_misses.append(region_of(in_frame, score=1e12))
        for version in located.versions:
            if not self.time_left() or self.read_grid(
                view.image, located.corners(version), version, view
            ):
                return

    def covered(self, region: Region) -> bool:
        return any(region.covered_by(symbol.corners) for symbol, _ in self.found.values())

    def confirm_linear(self) -> None:
        """A second view of each linear read that has only one: its own crop,
        upscaled. Not bound by the budget (a read is worth 2 ms), but capped."""
        single = [
            s for s, stages in self.found.values() if s.symbology in LINEAR and len(stages) < 2
        ]
        extra = _MAX_EXTRA_VIEWS if CONFIRM_WITH_VARIANTS else 0
        for symbol in single[:_MAX_CONFIRM]:
            crop = cut(self.gray, region_of(symbol.corners, score=0.0, linear=True))
            if crop is None:
                continue
            view = _View("confirm", sharpen(crop.image), crop.to_frame)
            key = (symbol.symbology, symbol.raw)
            for decoder in self.cascade.decoders:
                self.read(decoder, view)
                if len(self.found[key][1]) > 1:
                    break
            # Still one view: the contrast-equalised region variant on this
            # code's own crop (the frame's first read covered its region, or
            # the budget ran out before that variant). A view the cascade
            # already takes as a second opinion, made unlike the first reads
            # (sharpened, or as is: a view made that much like the first
            # confirmed an EAN-8 misread in round 3).
            for stage, prepare, decoder in self.cascade.variants:
                if len(self.found[key][1]) > 1 or extra <= 0:
                    break
                if stage not in CONFIRM_STAGES or stage in self.found[key][1]:
                    continue
                prepared = prepare(crop)
                if prepared is not None:
                    extra -= 1
                    self.read(decoder, _view_of(stage, crop, prepared))

    def cross_check(self) -> None:
        """ZBar on the middle half of the rows of each confirmed ``CROSS_CHECKED``
        read's own crop (turned so the bars stand upright), outside the budget:
        a different EAN/UPC read there vetoes it."""
        zbar = next((d for d in self.cascade.decoders if d.name == ZBAR), None)
        if zbar is None:
            return
        for key, (symbol, stages) in self.found.items():
            if symbol.symbology not in CROSS_CHECKED or len(stages) < 2:
                continue
            if symbol.decoder == ZBAR or any(ZBAR in stage for stage in stages):
                continue
            crop = cut(self.gray, region_of(symbol.corners, score=0.0, linear=True))
            if crop is None:
                continue
            rows = crop.image.shape[0]
            middle = np.ascontiguousarray(crop.image[rows // 4 : rows - rows // 4])
            raws = self.cascade.run_decoder(zbar, middle, errors=self.errors)
            if any(raw.symbology in LINEAR and raw.raw != symbol.raw for raw in raws):
                log.debug("dropped a %s read ZBar reads otherwise", symbol.symbology)
                self.vetoed.add(key)

    def fallbacks(self) -> None:
        """Nothing read: the whole frame inverted (light-on-dark codes), then
        with the other decoders (a code that fills a still photo)."""
        if self.found or self.fell_back or not self.cascade.decoders:
            return
        self.fell_back = True
        identity = IDENTITY
        first, *others = self.cascade.decoders
        steps = [("full-invert", np.asarray(255 - self.gray, np.uint8), first)]
        steps += [("full-" + d.name, self.gray, d) for d in others]
        for stage, image, decoder in steps:
            if not self.time_left():
                return
            if self.read(decoder, _View(stage, image, identity)):
                return

    def clear(self, symbols: Sequence[Symbol]) -> bool:
        """Whether the frame holds nothing code-like beyond ``symbols`` (the
        confirmed reads): each blob the locator found (not only the
        ``max_regions`` decoded) and each near miss lies under one of them.
        A second phone that was located but not read, or seen but not
        decoded, makes the frame not clear; so does a patch of clutter (the
        filter then waits for a second frame, as before)."""
        if self.located is None or not symbols:
            return False
        outlines = [s.corners for s in symbols if s.corners]
        return all(
            any(region.covered_by(corners) for corners in outlines)
            for region in [*self.located, *self.near_misses]
        )

    def confirmed(self) -> tuple[Symbol, ...]:
        out = []
        for key, (symbol, stages) in self.found.items():
            if key in self.vetoed:
                continue
            if symbol.symbology in LINEAR and len(stages) < 2:
                log.debug("dropped an unconfirmed %s read", symbol.symbology)
                continue
            out.append(replace(symbol, moving=True) if stages <= MOTION else symbol)
        return tuple(out)


Prepare = Callable[[Crop], GrayImage | Warped | None]
Variant = tuple[str, Prepare, Decoder]
DEBLUR = "region-deblur"
FLAT = "region-flat"
SLANT = "region-slant"
# Views that undo a motion smear: a code read only through them moved during
# the exposure (``Symbol.moving``).
MOTION = frozenset({DEBLUR, GRID_DEBLUR})


def _on_image(prepare: Callable[[GrayImage], GrayImage]) -> Prepare:
    return lambda crop: prepare(crop.image)


def _deblurred(crop: Crop) -> GrayImage | None:
    return deblur_motion(crop.image, crop.factor)


def _unsqueezed(crop: Crop) -> Warped | None:
    warped = unsqueeze(crop.image)
    return None if warped is None else Warped(sharpen(warped.image), warped.to_crop)


def _flattened(crop: Crop) -> GrayImage | None:
    return flatten(crop.image, crop.factor)


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
    same = _on_image(lambda image: image)
    variants: list[Variant] = [
        ("region", _on_image(sharpen), first),
        (SLANT, _unsqueezed, first),
        (DEBLUR, _deblurred, first),
        (FLAT, _flattened, first),
    ]
    variants += [("region-" + d.name, same, d) for d in cheap]
    variants += [
        (CLAHE, _on_image(clahe_sharpen), first),
        ("region-thick", _on_image(thicken), first),
    ]
    variants += [("region-" + d.name, same, d) for d in costly]
    return tuple(variants)


def _for_crops(decoder: Decoder) -> Decoder:
    """A crop is already sized and turned upright: no downscaled or rotated retries."""
    make = getattr(decoder, "for_crops", None)
    return make() if callable(make) else decoder


def _view_of(stage: str, crop: Crop, prepared: GrayImage | Warped) -> _View:
    """A prepared crop as a view, with its map to frame pixels."""
    if isinstance(prepared, Warped):
        to_frame = _then(prepared.to_crop, _View(stage, crop.image, crop.to_frame))
        return _View(stage, prepared.image, to_frame)
    return _View(stage, prepared, _resized(crop, prepared))


def _resized(crop: Crop, image: GrayImage) -> npt.NDArray[np.float64]:
    """The map to frame pixels of a view made from ``crop`` at another size
    (the deblurred view is upscaled further): the crop's map after the scaling."""
    sy = crop.image.shape[0] / image.shape[0]
    sx = crop.image.shape[1] / image.shape[1]
    if sx == 1.0 and sy == 1.0:
        return crop.to_frame
    return np.asarray(crop.to_frame @ np.diag([sx, sy, 1.0]), np.float64)


def _at_size(view: _View, shape: tuple[int, ...]) -> _View:
    """``view`` resized to ``shape`` (rows, columns), its map to the frame kept."""
    rows, cols = view.image.shape[:2]
    if (rows, cols) == tuple(shape[:2]):
        return view
    image = cv2.resize(view.image, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    scale = np.diag([cols / shape[1], rows / shape[0], 1.0])
    return _View(view.stage, np.asarray(image, np.uint8), np.asarray(view.to_frame @ scale))


def _box(region: Region) -> tuple[tuple[float, float], ...]:
    return (
        (region.x0, region.y0),
        (region.x1, region.y0),
        (region.x1, region.y1),
        (region.x0, region.y1),
    )


def _then(first: npt.NDArray[np.float64], view: _View) -> npt.NDArray[np.float64]:
    """The 2x3 map ``first`` followed by ``view``'s map to the frame."""
    square = np.vstack([first, [0.0, 0.0, 1.0]])
    return np.asarray(view.to_frame @ square, np.float64)


def _mapped(raw: RawSymbol, to_frame: npt.NDArray[np.float64]) -> RawSymbol:
    return RawSymbol(raw.symbology, raw.raw, raw.text, map_points(raw.corners, to_frame))
