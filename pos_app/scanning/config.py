"""Typed settings for scanning. The terminal maps its TOML settings onto these.

Every field has a default that works on a cheap USB webcam and a USB
keyboard-wedge scanner. Times are seconds (float) from a monotonic clock.
"""

from __future__ import annotations

from dataclasses import dataclass

# Decoder names the cascade knows; "zxing-smooth" is zxing-cpp with a global
# binarizer on a smoothed image (reads halftone / noisy photos the default misses).
KNOWN_DECODERS: tuple[str, ...] = ("zxing", "pyzbar", "zxing-smooth", "opencv")
KNOWN_FORMATS: tuple[str, ...] = ("qr", "ean13", "ean8", "upca", "upce")


@dataclass(frozen=True, slots=True)
class CameraConfig:
    """How to open and drive a camera through ``cv2.VideoCapture``.

    device: camera index (0 = first camera) or a device path / URL such as
        ``/dev/video2``; a string of digits counts as an index.
    width, height: requested capture size; the driver may pick the nearest
        mode. 1280x720 because a phone QR at arm's length is only about a
        tenth of the picture wide, and 640 pixels leave barely one per module.
    fps: requested frame rate.
    mirror: flip preview frames left-right (a cashier-facing camera feels
        natural mirrored). Decoding always uses the unflipped frame; outline
        corners are flipped with the preview.
    exposure_ms: manual exposure time in milliseconds, converted to the
        backend's units (V4L2: 100 us steps; DirectShow/MSMF: log2 seconds);
        ``None`` keeps auto exposure. Phone screens are emissive: auto
        exposure set for the room overexposes them, and a long exposure
        smears a moving phone; about 8 ms suits them.
    autofocus: ``True``/``False`` to force autofocus on or off; ``None``
        leaves the driver default (a fixed ``focus`` turns it off).
    focus: fixed focus in the driver's units (UVC: 0 far to 255 near);
        ``None`` leaves focus to the camera.
    fourcc: pixel format request, e.g. ``"MJPG"`` (most cheap webcams only
        reach 30 fps at 720p in MJPG); ``None`` leaves the default.
    backend: ``"any"``, ``"v4l2"``, ``"dshow"``, ``"msmf"`` or ``"avfoundation"``.
    buffer_size: driver frame-queue length hint; 1 keeps latency low.
    reopen_backoff_s: first wait before reopening a lost camera; doubles on
        each failure up to ``reopen_backoff_max_s``.
    """

    device: int | str = 0
    width: int = 1280
    height: int = 720
    fps: float = 30.0
    mirror: bool = False
    exposure_ms: float | None = None
    autofocus: bool | None = None
    focus: float | None = None
    fourcc: str | None = "MJPG"
    backend: str = "any"
    buffer_size: int = 1
    reopen_backoff_s: float = 0.5
    reopen_backoff_max_s: float = 5.0


@dataclass(frozen=True, slots=True)
class DecoderConfig:
    """How each frame is decoded (see ``cascade`` for the steps).

    cascade: decoders in order, names from ``KNOWN_DECODERS``. The first
        reads the whole frame; on each found region the first (sharpened),
        then the others, then the first on a contrast-stretched crop, until
        one reads; with nothing read at all, the others also get the whole
        frame. A decoder whose library is missing is skipped and reported.
    budget_ms: CPU time one frame may take before the region and fallback
        steps stop (checked before each decode, so one crop decode may run
        over). 16 ms keeps the median 640x480 frame under 15 ms on one core
        and an empty frame (the usual live case) near 20 ms, inside the 33 ms
        of a 30 fps frame; the whole-frame pass always runs.
    near_miss_budget_ms: the budget instead, once a decoder has found a
        code it could not decode (finder patterns and format seen, checksum
        failed): a code is surely there, and the variants that read such
        codes (contrast-equalised, thickened) come late in the order. An
        empty frame, the usual live case, still stops at ``budget_ms``; a
        value below ``budget_ms`` changes nothing.
    max_regions: code-like regions tried per frame, strongest first.
    locate_width: the locator shrinks the frame to this width first.
    try_downscale: let zxing-cpp also scan downscaled copies (dense or
        large codes in big frames).
    formats: symbologies to look for: qr, ean13, ean8 by default (JAN is
        EAN-13/EAN-8); upca and upce only when the store sells UPC-labelled
        goods, because a partly seen EAN-13 can decode as a valid UPC-E.
    """

    cascade: tuple[str, ...] = ("zxing", "zxing-smooth", "pyzbar")
    budget_ms: float = 16.0
    near_miss_budget_ms: float = 30.0
    max_regions: int = 4
    locate_width: int = 320
    try_downscale: bool = True
    formats: tuple[str, ...] = ("qr", "ean13", "ean8")

    def __post_init__(self) -> None:
        unknown = [name for name in self.cascade if name not in KNOWN_DECODERS]
        if unknown or not self.cascade:
            raise ValueError(f"decoder cascade {self.cascade!r}: use names from {KNOWN_DECODERS}")
        if not self.formats or not set(self.formats) <= set(KNOWN_FORMATS):
            raise ValueError(f"formats {self.formats!r}: use names from {KNOWN_FORMATS}")
        if not 0 <= self.budget_ms <= 1000:
            raise ValueError(f"budget_ms {self.budget_ms} must be between 0 and 1000")
        if not 0 <= self.near_miss_budget_ms <= 1000:
            raise ValueError(
                f"near_miss_budget_ms {self.near_miss_budget_ms} must be between 0 and 1000"
            )
        if not 0 <= self.max_regions <= 16:
            raise ValueError(f"max_regions {self.max_regions} must be between 0 and 16")
        if not 80 <= self.locate_width <= 1280:
            raise ValueError(f"locate_width {self.locate_width} must be between 80 and 1280")


@dataclass(frozen=True, slots=True)
class FilterConfig:
    """Rules that turn per-frame reads into deliberate scans.

    payment_agree_frames: identical reads of a payment code needed before it
        is accepted (a one-frame misread must never pay).
    payment_window_s: those reads must fall within this time.
    payment_single_clear_read: accept a payment code from one frame when the
        decoder reports that frame *clear* (every code-like patch in it was
        read, the code not through a motion deblur, no other payment code
        seen within ``left_view_s``). A PT1 token is Ed25519-signed and
        single-use, so a misread cannot pay; the agreeing frames guard
        against a second phone, which a clear frame rules out as far as the
        decoder can see. Never applies to products.
    product_agree_frames: identical reads of a product barcode needed before
        it is added (a misread line of a partly seen barcode must not add a
        wrong item); 1 only for still images.
    product_window_s: those reads must fall within this time.
    product_cooldown_s: the same product barcode is not added again within
        this time unless it left the view.
    left_view_s: a code counts as gone after it has not been read for this
        long. Decoders miss single frames, so "one frame without it" would
        turn a held-still item into repeated scans.
    """

    payment_agree_frames: int = 2
    payment_window_s: float = 0.5
    payment_single_clear_read: bool = True
    product_agree_frames: int = 2
    product_window_s: float = 0.5
    product_cooldown_s: float = 1.5
    left_view_s: float = 0.4


@dataclass(frozen=True, slots=True)
class WedgeConfig:
    """Telling a keyboard-wedge scanner burst from a person typing.

    max_gap_s: longest pause between two characters of one scanner burst.
        Scanners send a character every 1-15 ms; people rarely type two keys
        within 50 ms, and never eight in a row.
    min_length: shortest accepted scan (EAN-8 and UPC-E have 8 characters).
    terminators: characters that end a burst (scanners send Enter by default;
        many can be set to send Tab instead). Fewer than ``min_length``
        characters before one is a person's Enter or Tab and passes through.
    fix_layout: undo the characters a US-configured scanner produces on a
        Japanese (JIS) layout, and full-width characters from an active IME.
    """

    max_gap_s: float = 0.05
    min_length: int = 6
    terminators: tuple[str, ...] = ("\r", "\n", "\t")
    fix_layout: bool = True
