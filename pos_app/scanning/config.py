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
KNOWN_RETRIES: tuple[str, ...] = (
    "upscale",
    "upscale-sharpen",
    "downscale",
    "invert",
    "clahe",
    "sharpen",
)


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
    exposure: manual exposure hint in the backend's units (V4L2: 100 us
        units; DirectShow: log2 seconds, e.g. -6); ``None`` keeps auto
        exposure. A short exposure cuts motion blur and phone-screen glare.
    autofocus: ``True``/``False`` to force autofocus on or off; ``None``
        leaves the driver default.
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
    exposure: float | None = None
    autofocus: bool | None = None
    fourcc: str | None = "MJPG"
    backend: str = "any"
    buffer_size: int = 1
    reopen_backoff_s: float = 0.5
    reopen_backoff_max_s: float = 5.0


@dataclass(frozen=True, slots=True)
class DecoderConfig:
    """How each frame is decoded.

    cascade: decoders tried in order on the same region until one reads;
        names from ``KNOWN_DECODERS``. A decoder whose library is missing is
        skipped and reported as unavailable.
    roi_fraction: width and height of the centre region tried first, as a
        fraction of the frame (the cashier holds codes in the middle; a
        smaller region decodes faster). 1.0 disables the region pass.
    full_frame_fallback: try the whole frame when the centre region reads
        nothing.
    retries: extra passes on the whole frame when nothing was read, in
        order, with the first decoder: ``"clahe"`` (local contrast
        equalisation; modules next to a glare highlight), ``"sharpen"``
        (unsharp mask; defocus), ``"upscale"`` and ``"upscale-sharpen"``
        (2x, only for frames whose long side is at most
        ``upscale_max_side``; modules of one or two pixels),
        ``"downscale"`` (half size; dense noisy codes), ``"invert"``
        (light-on-dark, with the decoders that do not invert by themselves:
        ZBar, OpenCV). The default set is what the benchmark showed to add
        reads; downscale and invert added none.
    upscale_max_side: frames larger than this are not upscaled (cost).
    try_downscale: let zxing-cpp also scan downscaled copies (dense or
        large codes in big frames).
    formats: symbologies to look for; fewer is faster and avoids false
        positives. Names: qr, ean13, ean8, upca, upce.
    slow_pass_every: run the slow passes (other decoders, retries) on one
        frame in N of those the fast passes could not read; frames where
        zxing-cpp found a symbol it could not decode always get them.
        The default 4 is for a live camera at 30 fps: a held code is seen
        many times, and an empty frame costs two fast zxing passes (about
        10 ms at 640x480) instead of the whole cascade (over 100 ms). Still
        images (``scan-image``, the benchmark) use 1: every pass, every frame.
    """

    cascade: tuple[str, ...] = ("zxing", "zxing-smooth", "pyzbar")
    roi_fraction: float = 0.6
    full_frame_fallback: bool = True
    retries: tuple[str, ...] = ("clahe", "sharpen", "upscale-sharpen", "upscale")
    upscale_max_side: int = 800
    try_downscale: bool = True
    formats: tuple[str, ...] = ("qr", "ean13", "ean8", "upca", "upce")
    slow_pass_every: int = 4

    def __post_init__(self) -> None:
        unknown = [name for name in self.cascade if name not in KNOWN_DECODERS]
        if unknown or not self.cascade:
            raise ValueError(f"decoder cascade {self.cascade!r}: use names from {KNOWN_DECODERS}")
        bad_retries = [name for name in self.retries if name not in KNOWN_RETRIES]
        if bad_retries:
            raise ValueError(f"retries {self.retries!r}: use names from {KNOWN_RETRIES}")
        if not self.formats or not set(self.formats) <= set(KNOWN_FORMATS):
            raise ValueError(f"formats {self.formats!r}: use names from {KNOWN_FORMATS}")
        if self.slow_pass_every < 1:
            raise ValueError(f"slow_pass_every {self.slow_pass_every} must be 1 or more")
        if not 0.1 <= self.roi_fraction <= 1.0:
            raise ValueError(f"roi_fraction {self.roi_fraction} must be between 0.1 and 1.0")


@dataclass(frozen=True, slots=True)
class FilterConfig:
    """Rules that turn per-frame reads into deliberate scans.

    payment_agree_frames: identical reads of a payment code needed before it
        is accepted (a one-frame misread must never pay).
    payment_window_s: those reads must fall within this time.
    product_cooldown_s: the same product barcode is not added again within
        this time unless it left the view.
    left_view_s: a code counts as gone after it has not been read for this
        long. Decoders miss single frames, so "one frame without it" would
        turn a held-still item into repeated scans.
    """

    payment_agree_frames: int = 2
    payment_window_s: float = 0.5
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
