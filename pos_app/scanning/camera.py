"""A camera through ``cv2.VideoCapture``, with typed errors and automatic reopen.

The capture factory is injectable so tests drive a fake that fails on cue.
After "disconnected mid-stream" the next ``read()`` reopens the device by
itself; the caller (the worker) only decides how long to wait in between.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2

from pos_app.scanning.config import CameraConfig
from pos_app.scanning.errors import CameraBusy, CameraDisconnected, CameraNotFound, SourceError
from pos_app.scanning.sources import CaptureLike, Frame, make_frame

log = logging.getLogger(__name__)

CaptureFactory = Callable[[int | str, int], CaptureLike]
DeviceProbe = Callable[[int | str], bool | None]

_BACKENDS = {
    "any": cv2.CAP_ANY,
    "v4l2": cv2.CAP_V4L2,
    "dshow": cv2.CAP_DSHOW,
    "msmf": cv2.CAP_MSMF,
    "avfoundation": cv2.CAP_AVFOUNDATION,
}


def _open_capture(device: int | str, backend: int) -> CaptureLike:
    # OpenCV prints its own "[ WARN ] can't open camera" lines to stderr; our typed errors
    # already say what happened and what to do, so keep its console quiet.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    capture: CaptureLike = cv2.VideoCapture(device, backend)
    return capture


def device_exists(device: int | str) -> bool | None:
    """Whether the device node exists; ``None`` where we cannot tell (Windows,
    macOS, URLs), in which case "not found" and "busy" look the same."""
    if isinstance(device, int):
        return Path(f"/dev/video{device}").exists() if sys.platform.startswith("linux") else None
    if device.startswith("/"):
        return Path(device).exists()
    return None


@dataclass(frozen=True, slots=True)
class CameraSetting:
    """One requested camera setting and what the driver reports back."""

    name: str
    requested: str
    value: float
    actual: float
    applied: bool

    def describe(self) -> str:
        if self.applied:
            return f"{self.name} {self.requested}: applied"
        unsupported = "not supported by this camera"
        return f"{self.name} {self.requested}: {unsupported} (reads back {self.actual:g})"


def exposure_units(ms: float, *, backend: str) -> float:
    """Milliseconds in the backend's exposure units."""
    log2_backends = {"dshow", "msmf"}
    if backend in log2_backends or (backend == "any" and sys.platform.startswith("win")):
        return float(round(math.log2(ms / 1000.0)))
    return round(ms * 10.0)  # V4L2 exposure_time_absolute: 100 us steps


def _manual_exposure(backend: str) -> float:
    # V4L2 takes 1 for manual exposure, DirectShow/MSMF 0.25 (OpenCV's mapping).
    windows = backend in {"dshow", "msmf"} or (backend == "any" and sys.platform.startswith("win"))
    return 0.25 if windows else 1.0


def _setting(
    capture: CaptureLike, name: str, prop: int, value: float, requested: str
) -> CameraSetting:
    accepted = bool(capture.set(prop, value))
    actual = float(capture.get(prop))
    applied = accepted and abs(actual - value) <= max(1.0, 0.05 * abs(value))
    if not applied:
        log.info("camera ignored %s %s (reads back %g)", name, requested, actual)
    return CameraSetting(name, requested, value, actual, applied)


class CameraSource:
    """Live frames from a camera. Timestamps come from the injected monotonic clock.

    ``mirror`` is exposed for the preview only: decoders always get the
    unflipped frame (mirrored QR codes do not decode).
    """

    def __init__(
        self,
        config: CameraConfig | None = None,
        *,
        capture_factory: CaptureFactory = _open_capture,
        probe: DeviceProbe = device_exists,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or CameraConfig()
        if self.config.backend not in _BACKENDS:
            raise ValueError(
                f"camera backend {self.config.backend!r}: use one of {sorted(_BACKENDS)}"
            )
        self.name = f"camera:{self.config.device}"
        self.mirror = self.config.mirror
        self._factory = capture_factory
        self._probe = probe
        self._clock = clock
        self._capture: CaptureLike | None = None
        self._pending: Frame | None = None
        self._lost = False
        self._index = 0
        self.reopen_count = 0
        # What the camera did with the exposure and focus settings (doctor shows it).
        self.settings_report: tuple[CameraSetting, ...] = ()

    def open(self) -> None:
        device = self.config.device
        if isinstance(device, str) and device.isdigit():
            device = int(device)  # "0" from a settings file means camera 0
        capture = self._factory(device, _BACKENDS[self.config.backend])
        if not capture.isOpened():
            capture.release()
            self._raise_open_failure(device)
        self._apply_hints(capture)
        ok, image = capture.read()
        if not ok or image is None:
            capture.release()
            raise CameraBusy(
                f"camera {device!r} opened but sends no picture; close other programs using it",
            )
        self._capture = capture
        self._pending = self._frame(image)
        if self._lost:
            self.reopen_count += 1
            log.info("camera %r reopened", device)
        self._lost = False

    def _raise_open_failure(self, device: int | str) -> None:
        exists = self._probe(device)
        if exists is False:
            raise CameraNotFound(f"no camera at {device!r}; check the cable or the camera setting")
        if exists is True:
            raise CameraBusy(
                f"camera {device!r} is present but cannot be opened; another program may be "
                "using it, or this user lacks permission",
            )
        raise CameraNotFound(f"camera {device!r} cannot be opened: not connected or in use")

    def _apply_hints(self, capture: CaptureLike) -> None:
        # Hints only: drivers ignore what they do not support, and that is fine.
        cfg = self.config
        if cfg.fourcc:
            capture.set(cv2.CAP_PROP_FOURCC, float(cv2.VideoWriter.fourcc(*cfg.fourcc[:4])))
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, float(cfg.width))
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, float(cfg.height))
        capture.set(cv2.CAP_PROP_FPS, float(cfg.fps))
        capture.set(cv2.CAP_PROP_BUFFERSIZE, float(cfg.buffer_size))
        self.settings_report = tuple(self._apply_screen_settings(capture))

    def _apply_screen_settings(self, capture: CaptureLike) -> list[CameraSetting]:
        """Exposure and focus, checked by reading them back: many webcams accept
        a ``set`` and ignore it, and store IT should see that in doctor."""
        cfg = self.config
        report = []
        if cfg.exposure_ms is not None:
            units = exposure_units(cfg.exposure_ms, backend=cfg.backend)
            capture.set(cv2.CAP_PROP_AUTO_EXPOSURE, _manual_exposure(cfg.backend))
            report.append(
                _setting(
                    capture, "exposure", cv2.CAP_PROP_EXPOSURE, units, f"{cfg.exposure_ms:g} ms"
                )
            )
        if cfg.focus is not None:
            capture.set(cv2.CAP_PROP_AUTOFOCUS, 0.0)
            report.append(
                _setting(capture, "focus", cv2.CAP_PROP_FOCUS, float(cfg.focus), f"{cfg.focus:g}")
            )
        elif cfg.autofocus is not None:
            value = 1.0 if cfg.autofocus else 0.0
            report.append(
                _setting(
                    capture, "autofocus", cv2.CAP_PROP_AUTOFOCUS, value, str(cfg.autofocus).lower()
                )
            )
        return report

    def read(self) -> Frame:
        """The next frame. Raises ``CameraDisconnected`` when the stream stops;
        the call after that tries to reopen (and raises the open error if the
        camera is still gone)."""
        if self._capture is None:
            if not self._lost:
                raise SourceError(f"{self.name} is not open", code="source_closed")
            self.open()
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame
        assert self._capture is not None
        ok, image = self._capture.read()
        if not ok or image is None:
            self._capture.release()
            self._capture, self._lost = None, True
            raise CameraDisconnected(f"camera {self.config.device!r} stopped sending pictures")
        return self._frame(image)

    def _frame(self, image: object) -> Frame:
        frame = make_frame(image, timestamp=self._clock(), index=self._index, source=self.name)  # type: ignore[arg-type]
        self._index += 1
        return frame

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
        self._capture, self._pending, self._lost = None, None, False
