"""One frame in, classified symbols out: region first, then fallbacks.

Order of passes (each stops the frame as soon as something is read):

1. the centre region with the first decoder (the cashier holds codes in the
   middle; a smaller image decodes faster);
2. the whole frame with the first decoder;
3. the slow passes: the whole frame with the other decoders of the cascade,
   then the configured retries (image transforms) with the first decoder;
   ``invert`` uses only the decoders that do not read light-on-dark codes
   by themselves (zxing-cpp does; ZBar does not).

Frames with no code run every pass; ``slow_pass_every`` lets a live camera
run the slow passes on one frame in N only, except that a frame where the
first decoder saw a symbol it could not read always gets them. The benchmark
(``bench/decode_bench.py``) shows what each pass buys and costs.
Decoder exceptions are caught and counted here and never reach the pipeline.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from pos_app.scanning.config import DecoderConfig
from pos_app.scanning.decoders import Decoder, make_decoder
from pos_app.scanning.symbols import GrayImage, Point, RawSymbol, Symbol, classify

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DecodeResult:
    """What one frame gave. ``stage`` names the pass that read (``""`` if none);
    ``errors`` lists the decoder failures swallowed on this frame."""

    symbols: tuple[Symbol, ...]
    stage: str
    ms: float
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Pass:
    stage: str
    image: GrayImage
    offset: Point
    scale: float


def to_gray(frame: npt.NDArray[np.uint8]) -> GrayImage:
    """Grayscale once per frame; accepts gray, BGR and BGRA."""
    if frame.ndim == 2:
        return frame
    if frame.ndim == 3 and frame.shape[2] == 3:
        return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY), dtype=np.uint8)
    raise ValueError(f"unsupported frame shape {frame.shape}")


# Local contrast equalisation brings back modules next to a glare highlight.
_CLAHE = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8))


def sharpen(gray: GrayImage, *, sigma: float = 2.0, amount: float = 1.0) -> GrayImage:
    """Unsharp mask: restores module edges softened by defocus."""
    soft = cv2.GaussianBlur(gray, (0, 0), sigma)
    return np.asarray(cv2.addWeighted(gray, 1.0 + amount, soft, -amount, 0), dtype=np.uint8)


def centre_region(gray: GrayImage, fraction: float) -> tuple[GrayImage, Point]:
    height, width = gray.shape[:2]
    rw, rh = round(width * fraction), round(height * fraction)
    x0, y0 = (width - rw) // 2, (height - rh) // 2
    return gray[y0 : y0 + rh, x0 : x0 + rw], (float(x0), float(y0))


class DecodeCascade:
    """Decodes frames with a configurable decoder cascade; thread-confined
    (one per worker), because the error counters are not locked."""

    def __init__(
        self,
        config: DecoderConfig | None = None,
        *,
        decoders: Sequence[Decoder] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.config = config or DecoderConfig()
        built = decoders if decoders is not None else self._build(self.config)
        self.unavailable = {d.name: d.unavailable_reason for d in built if d.unavailable_reason}
        self.decoders = tuple(d for d in built if not d.unavailable_reason)
        for name, reason in self.unavailable.items():
            log.warning("decoder %s unavailable: %s", name, reason)
        self.error_counts: Counter[str] = Counter()
        self._clock = clock
        self._slow_gate = 0

    @staticmethod
    def _build(config: DecoderConfig) -> list[Decoder]:
        return [
            make_decoder(name, formats=config.formats, try_downscale=config.try_downscale)
            for name in config.cascade
        ]

    def decode(self, frame: npt.NDArray[np.uint8]) -> DecodeResult:
        start = self._clock()
        gray = to_gray(frame)
        errors: list[str] = []
        for stage_pass, decoders in self._passes(gray):
            for decoder in decoders:
                found = self._run(decoder, stage_pass.image, errors=errors)
                if found:
                    symbols = _classified(found, decoder=decoder.name, where=stage_pass)
                    ms = (self._clock() - start) * 1000.0
                    return DecodeResult(symbols, stage_pass.stage, ms, tuple(errors))
        return DecodeResult((), "", (self._clock() - start) * 1000.0, tuple(errors))

    def _passes(self, gray: GrayImage) -> Iterator[tuple[_Pass, Sequence[Decoder]]]:
        if not self.decoders:
            return
        first = self.decoders[:1]
        cfg = self.config
        if cfg.roi_fraction < 1.0:
            roi, offset = centre_region(gray, cfg.roi_fraction)
            yield _Pass("roi", roi, offset, 1.0), first
            if not cfg.full_frame_fallback:
                return
        yield _Pass("full", gray, (0.0, 0.0), 1.0), first
        self._slow_gate += 1
        near_miss = bool(getattr(first[0], "near_miss", False))
        if not near_miss and (self._slow_gate - 1) % cfg.slow_pass_every:
            return
        yield _Pass("full", gray, (0.0, 0.0), 1.0), self.decoders[1:]
        for retry in cfg.retries:
            retry_pass = self._retry_pass(retry, gray)
            if retry_pass is None:
                continue
            if retry == "invert":
                yield retry_pass, [d for d in self.decoders if not _reads_inverted(d)]
            else:
                yield retry_pass, first

    def _retry_pass(self, retry: str, gray: GrayImage) -> _Pass | None:  # noqa: PLR0911
        if retry == "upscale":
            if max(gray.shape[:2]) > self.config.upscale_max_side:
                return None
            big = cv2.resize(gray, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
            return _Pass("upscale", np.asarray(big, dtype=np.uint8), (0.0, 0.0), 2.0)
        if retry == "downscale":
            small = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
            return _Pass("downscale", np.asarray(small, dtype=np.uint8), (0.0, 0.0), 0.5)
        if retry == "invert":
            return _Pass("invert", np.asarray(255 - gray, dtype=np.uint8), (0.0, 0.0), 1.0)
        if retry == "clahe":
            return _Pass("clahe", np.asarray(_CLAHE.apply(gray), dtype=np.uint8), (0.0, 0.0), 1.0)
        if retry == "sharpen":
            return _Pass("sharpen", sharpen(gray), (0.0, 0.0), 1.0)
        if retry == "upscale-sharpen":
            if max(gray.shape[:2]) > self.config.upscale_max_side:
                return None
            big = cv2.resize(gray, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
            return _Pass("upscale-sharpen", sharpen(np.asarray(big, np.uint8)), (0.0, 0.0), 2.0)
        return None

    def _run(self, decoder: Decoder, image: GrayImage, *, errors: list[str]) -> list[RawSymbol]:
        try:
            return decoder.decode(image)
        except Exception as exc:  # a decoder bug must never stop the till
            self.error_counts[decoder.name] += 1
            errors.append(f"{decoder.name}: {type(exc).__name__}: {exc}")
            log.debug("decoder %s failed", decoder.name, exc_info=True)
            return []


def _reads_inverted(decoder: Decoder) -> bool:
    return bool(getattr(decoder, "reads_inverted", False))


def _classified(found: list[RawSymbol], *, decoder: str, where: _Pass) -> tuple[Symbol, ...]:
    seen: set[tuple[str, bytes]] = set()
    symbols = []
    for item in found:
        key = (item.symbology.value, item.raw)
        if key in seen:
            continue
        seen.add(key)
        symbols.append(classify(item, decoder=decoder, offset=where.offset, scale=where.scale))
    return tuple(symbols)
