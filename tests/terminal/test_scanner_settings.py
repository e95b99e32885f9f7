"""[scanner] settings reach the scanning configurations the live scanner runs with."""

from __future__ import annotations

import pytest

from pos_app.terminal.settings.scanner import camera_config, decoder_config, filter_config
from pos_app.terminal.settings.schema import ScannerSettings, Settings


def with_scanner(**fields: object) -> Settings:
    return Settings(scanner=ScannerSettings(**fields))  # type: ignore[arg-type]


def test_defaults_read_jan_and_qr_only_and_leave_the_camera_automatic() -> None:
    settings = Settings()
    assert decoder_config(settings).formats == ("qr", "ean13", "ean8")
    camera = camera_config(settings, 0)
    assert (camera.exposure_ms, camera.focus, camera.device) == (None, None, 0)


@pytest.mark.parametrize(("exposure", "ms"), [("low", 8.0), ("high", 33.0), ("auto", None)])
def test_exposure_names_become_milliseconds(exposure: str, ms: float | None) -> None:
    assert camera_config(with_scanner(exposure=exposure), "/dev/video2").exposure_ms == ms


def test_fixed_focus_and_upc_when_configured() -> None:
    settings = with_scanner(
        focus=120, formats=("qr", "ean13", "upca", "upce"), product_cooldown_s=3.0
    )
    assert camera_config(settings, 0).focus == 120.0
    assert decoder_config(settings).formats == ("qr", "ean13", "upca", "upce")
    assert filter_config(settings).product_cooldown_s == 3.0
    assert filter_config(settings).product_agree_frames == 2  # never one frame, live


def test_ui_worker_uses_the_settings() -> None:
    from pos_app.scanning.synthetic import SyntheticSource
    from pos_app.ui.camera import QtScanSink, settings_worker

    worker = settings_worker(with_scanner(formats=("qr",), decoders=("zxing",)))(
        SyntheticSource([]), QtScanSink()
    )
    assert worker._cascade.config.formats == ("qr",)
    assert [d.name for d in worker._cascade.decoders] == ["zxing"]
