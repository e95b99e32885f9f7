"""Barcode decoders behind one small interface.

Each decoder takes a grayscale ``uint8`` image and returns :class:`RawSymbol`
values with corners in that image's pixels. Third-party libraries are imported
lazily so a missing ``libzbar0`` shows up as an "unavailable" decoder with a
clear reason instead of an ImportError at start-up.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

from pos_app.scanning import zbar_binary
from pos_app.scanning.errors import DecoderUnavailable
from pos_app.scanning.symbols import Corners, GrayImage, RawSymbol, Symbology, bytes_to_text

ModuleLoader = Callable[[str], ModuleType]

# What Japanese stores print (JAN is EAN-13/EAN-8). UPC-A/UPC-E only when
# configured: a partly seen EAN-13 can decode as a valid UPC-E of another item.
DEFAULT_FORMATS: tuple[str, ...] = ("qr", "ean13", "ean8")

_ZXING_FORMATS = {"qr": "QRCode", "ean13": "EAN13", "ean8": "EAN8", "upca": "UPCA", "upce": "UPCE"}
_ZBAR_FORMATS = {"qr": "QRCODE", "ean13": "EAN13", "ean8": "EAN8", "upca": "UPCA", "upce": "UPCE"}
# zxing-cpp 3's "QRCode" is the whole family, Micro QR and rMQR included: in a
# moire-covered payment code one finder pattern decoded as a Micro QR "1448"
# (an M1 Micro QR has error detection only, no correction). "qr" means QR Code
# proper, the symbology of payment codes.
_ZXING_QR = ("QRCodeModel1", "QRCodeModel2")
_SYMBOLOGY_BY_ZXING = {
    "QRCode": Symbology.QR,
    "QRCodeModel1": Symbology.QR,
    "QRCodeModel2": Symbology.QR,
    "EAN13": Symbology.EAN13,
    "EAN8": Symbology.EAN8,
    "UPCA": Symbology.UPCA,
    "UPCE": Symbology.UPCE,
}
_SYMBOLOGY_BY_ZBAR = {
    "QRCODE": Symbology.QR,
    "EAN13": Symbology.EAN13,
    "EAN8": Symbology.EAN8,
    "UPCA": Symbology.UPCA,
    "UPCE": Symbology.UPCE,
}


@runtime_checkable
class Decoder(Protocol):
    name: str

    @property
    def unavailable_reason(self) -> str | None:
        """``None`` when usable, else why not (shown to store IT)."""

    def decode(self, gray: GrayImage) -> list[RawSymbol]:
        """Decode one grayscale image; may raise anything (the cascade counts it)."""


def _check_formats(formats: Sequence[str], table: dict[str, str]) -> list[str]:
    unknown = [name for name in formats if name not in table]
    if unknown:
        raise ValueError(f"unknown barcode formats {unknown}; use {sorted(table)}")
    return [table[name] for name in formats]


class ZxingDecoder:
    """zxing-cpp: the fastest and strongest reader measured here.

    ``smooth=True`` blurs first and uses the global-histogram binarizer; that
    variant reads halftone-printed and noisy codes the local binarizer misses.
    """

    def __init__(
        self,
        *,
        formats: Sequence[str] = DEFAULT_FORMATS,
        smooth: bool = False,
        try_downscale: bool = True,
        try_rotate: bool = True,
        try_invert: bool = True,
        name: str | None = None,
        loader: ModuleLoader = importlib.import_module,
    ) -> None:
        self.name = name or ("zxing-smooth" if smooth else "zxing")
        self.reads_inverted = True  # zxing-cpp tries light-on-dark itself
        # True when the last decode found a symbol it could not read (checksum,
        # format): the cascade then knows the slow passes are worth their cost.
        self.near_miss = False
        self.near_miss_corners: list[Corners] = []
        # Per near miss: the QR version zxing-cpp read from it, else None.
        self.near_miss_versions: list[int | None] = []
        self._format_names = [
            name
            for family in _check_formats(formats, _ZXING_FORMATS)
            for name in (_ZXING_QR if family == "QRCode" else (family,))
        ]
        self._smooth = smooth
        self._try_downscale = try_downscale
        self._try_rotate = try_rotate
        self._try_invert = try_invert
        self._module: Any = None
        self._reason: str | None = None
        try:
            self._module = loader("zxingcpp")
        except ImportError as exc:
            self._reason = f"zxing-cpp is not installed ({exc})"

    @property
    def unavailable_reason(self) -> str | None:
        return self._reason

    def for_crops(self) -> ZxingDecoder:
        """The same reader for an upright, already upscaled crop: no retries."""
        crop = ZxingDecoder(formats=(), smooth=self._smooth, name=self.name)
        crop._format_names, crop._module, crop._reason = (
            self._format_names,
            self._module,
            self._reason,
        )
        crop._try_downscale = crop._try_rotate = crop._try_invert = False
        return crop

    def decode(self, gray: GrayImage) -> list[RawSymbol]:
        zx = self._module
        if zx is None:
            raise DecoderUnavailable(self._reason or "zxing-cpp unavailable")
        image = gray
        binarizer = zx.Binarizer.LocalAverage
        if self._smooth:
            image = _smooth(gray)
            binarizer = zx.Binarizer.GlobalHistogram
        results = zx.read_barcodes(
            image,
            formats=[getattr(zx.BarcodeFormat, name) for name in self._format_names],
            try_downscale=self._try_downscale,
            try_rotate=self._try_rotate,
            try_invert=self._try_invert,
            text_mode=zx.TextMode.Plain,
            binarizer=binarizer,
            return_errors=True,
        )
        misses = [result for result in results if not result.valid]
        self.near_miss = bool(misses)
        self.near_miss_corners = [_corners(result) for result in misses]
        self.near_miss_versions = [_qr_version(result) for result in misses]
        return [_from_zxing(result) for result in results if result.valid]


def _corners(result: Any) -> Corners:
    pos = result.position
    return tuple(
        (float(p.x), float(p.y))
        for p in (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)
    )


def _qr_version(result: Any) -> int | None:
    """The version of a QR code zxing-cpp located (``extra["Version"]``), if any."""
    if getattr(result.format, "name", "") not in ("QRCode", "QRCodeModel2"):
        return None
    extra = getattr(result, "extra", None)
    version = extra.get("Version") if isinstance(extra, dict) else None
    try:
        return int(version) if version is not None else None
    except (TypeError, ValueError):
        return None


def _from_zxing(result: Any) -> RawSymbol:
    corners = _corners(result)
    symbology = _SYMBOLOGY_BY_ZXING.get(result.format.name, Symbology.OTHER)
    return RawSymbol(symbology, bytes(result.bytes), str(result.text), corners)


def _smooth(gray: GrayImage) -> GrayImage:
    return np.asarray(cv2.GaussianBlur(gray, (5, 5), 0), dtype=np.uint8)


class PyzbarDecoder:
    """ZBar through pyzbar (needs the system library ``libzbar0``).

    ZBar runs in binary mode (see ``zbar_binary``) so ``raw`` is the
    symbol's bytes; where that mode is unavailable ``raw`` is ZBar's UTF-8
    after its own charset guess (PT1 texts are ASCII and unaffected). ZBar
    reads only dark-on-light codes; ``try_invert`` decodes the inverted
    image when the first pass is empty (off by default: in the cascade the
    ``invert`` retry does this only when nothing else read).
    """

    def __init__(
        self,
        *,
        formats: Sequence[str] = DEFAULT_FORMATS,
        try_invert: bool = False,
        loader: ModuleLoader = importlib.import_module,
    ) -> None:
        self.name = "pyzbar"
        self.reads_inverted = try_invert
        self.binary = False
        self._format_names = _check_formats(formats, _ZBAR_FORMATS)
        self._try_invert = try_invert
        self._module: Any = None
        self._wrapper: Any = None
        self._symbols: list[Any] = []
        self._reason: str | None = None
        try:
            self._module = loader("pyzbar.pyzbar")
            self._wrapper = loader("pyzbar.wrapper")
        except (ImportError, OSError) as exc:
            # pyzbar raises ImportError from inside its import when libzbar is missing.
            self._module = None
            self._reason = f"pyzbar needs the system library libzbar0 ({exc})"
        else:
            self._symbols = [getattr(self._module.ZBarSymbol, n) for n in self._format_names]
            self.binary = zbar_binary.supported(self._module, self._wrapper)

    @property
    def unavailable_reason(self) -> str | None:
        return self._reason

    def decode(self, gray: GrayImage) -> list[RawSymbol]:
        if self._module is None:
            raise DecoderUnavailable(self._reason or "pyzbar unavailable")
        found = self._scan(gray)
        if not found and self._try_invert:
            found = self._scan(np.asarray(255 - gray, dtype=np.uint8))
        return [_from_zbar(item, binary=self.binary) for item in found]

    def _scan(self, gray: GrayImage) -> list[Any]:
        if self.binary:
            return zbar_binary.decode_binary(
                self._module, self._wrapper, gray=gray, symbols=self._symbols
            )
        return list(self._module.decode(np.ascontiguousarray(gray), symbols=self._symbols))


def _from_zbar(item: Any, *, binary: bool) -> RawSymbol:
    points = [(float(p.x), float(p.y)) for p in item.polygon]
    if len(points) == 4:
        # ZBar lists QR corners counter-clockwise from top-left.
        corners: Corners = (points[0], points[3], points[2], points[1])
    else:
        left, top, width, height = item.rect
        corners = (
            (float(left), float(top)),
            (float(left + width), float(top)),
            (float(left + width), float(top + height)),
            (float(left), float(top + height)),
        )
    raw = bytes(item.data)
    symbology = _SYMBOLOGY_BY_ZBAR.get(str(item.type), Symbology.OTHER)
    text = bytes_to_text(raw) if binary else raw.decode("utf-8", errors="replace")
    return RawSymbol(symbology, raw, text, corners)


class OpenCVDecoder:
    """OpenCV's ArUco-based QR detector. Kept for the benchmark: it added no
    reads over zxing-cpp here, so the shipped cascade does not use it."""

    def __init__(self) -> None:
        self.name = "opencv"
        self.reads_inverted = False
        self._detector = cv2.QRCodeDetectorAruco()

    @property
    def unavailable_reason(self) -> str | None:
        return None

    def decode(self, gray: GrayImage) -> list[RawSymbol]:
        ok, texts, points, _ = self._detector.detectAndDecodeMulti(gray)
        if not ok or points is None:
            return []
        found = []
        for text, quad in zip(texts, points, strict=False):
            if text:
                corners = tuple((float(x), float(y)) for x, y in quad)
                found.append(RawSymbol(Symbology.QR, text.encode("utf-8"), text, corners))
        return found


def make_decoder(
    name: str, *, formats: Sequence[str] = DEFAULT_FORMATS, try_downscale: bool = True
) -> Decoder:
    """Build a decoder by its configuration name (see ``config.KNOWN_DECODERS``)."""
    if name == "zxing":
        return ZxingDecoder(formats=formats, try_downscale=try_downscale)
    if name == "zxing-smooth":
        return ZxingDecoder(formats=formats, smooth=True, try_downscale=try_downscale)
    if name == "pyzbar":
        return PyzbarDecoder(formats=formats)
    if name == "opencv":
        return OpenCVDecoder()
    raise ValueError(f"unknown decoder {name!r}")
