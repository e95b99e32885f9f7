"""Doctor shows what the camera did with the [scanner] exposure and focus settings,
through the real CameraSource and settings mapping over a capture that records them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2

from pos_app.scanning.camera import CameraSource
from pos_app.terminal.doctor.checks import check_camera
from pos_app.terminal.doctor.runner import Status
from pos_app.terminal.settings.scanner import camera_config
from pos_app.terminal.settings.schema import ScannerSettings, Settings
from tests.scanning.scan_testkit import CaptureFactory, FakeCapture
from tests.terminal.doctor_support import healthy_env, settings


def opener(capture: FakeCapture) -> Callable[[int | str, Settings], CameraSource]:
    def open_camera(device: int | str, s: Settings) -> CameraSource:
        camera = CameraSource(camera_config(s, device), capture_factory=CaptureFactory([capture]))
        camera.open()
        return camera

    return open_camera


def test_doctor_shows_screen_settings_the_camera_applied(tmp_path: Path) -> None:
    capture = FakeCapture()
    scanner = ScannerSettings(camera="/dev/video3", exposure="low", focus=120)
    env = healthy_env(tmp_path, settings=settings(scanner=scanner), open_camera=opener(capture))
    finding = check_camera(env)
    assert finding.status is Status.OK, finding.detail
    assert "exposure 8 ms: applied, focus 120: applied" in finding.detail
    assert capture.settings[cv2.CAP_PROP_FOCUS] == 120.0
    assert capture.settings[cv2.CAP_PROP_AUTOFOCUS] == 0.0


def test_doctor_warns_when_the_camera_ignores_exposure(tmp_path: Path) -> None:
    capture = FakeCapture(ignores=(cv2.CAP_PROP_EXPOSURE,))
    scanner = ScannerSettings(camera="/dev/video3", exposure="low")
    env = healthy_env(tmp_path, settings=settings(scanner=scanner), open_camera=opener(capture))
    finding = check_camera(env)
    assert finding.status is Status.WARN
    assert "exposure 8 ms: not supported by this camera" in finding.detail
    assert "[scanner]" in finding.fix


def test_automatic_settings_touch_nothing(tmp_path: Path) -> None:
    capture = FakeCapture()
    env = healthy_env(
        tmp_path,
        settings=settings(scanner=ScannerSettings(camera="/dev/video3")),
        open_camera=opener(capture),
    )
    finding = check_camera(env)
    assert finding.status is Status.OK and "exposure" not in finding.detail
    assert cv2.CAP_PROP_EXPOSURE not in capture.settings
    assert cv2.CAP_PROP_FOCUS not in capture.settings
