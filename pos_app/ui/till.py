"""``pos-app run``: the till with its configured camera and the real checkout service."""

from __future__ import annotations

import logging
import sys

from pos_app.core.errors import PosError
from pos_app.scanning.camera import CameraSource, device_exists
from pos_app.scanning.config import CameraConfig
from pos_app.scanning.sources import FrameSource
from pos_app.terminal.auth import Authenticator
from pos_app.terminal.settings_schema import Settings

log = logging.getLogger(__name__)


def camera_from_settings(settings: Settings) -> FrameSource | None:
    """'none': no camera; 'auto': the first camera if one is plugged in; else that device."""
    s = settings.scanner
    if s.camera == "none":
        return None
    if s.camera == "auto":
        if device_exists(0) is False:
            return None
        device: int | str = 0
    else:
        device = int(s.camera) if s.camera.isdigit() else s.camera
    exposure = {"auto": None, "low": -6.0, "high": -4.0}[s.exposure]
    config = CameraConfig(
        device=device,
        width=s.width,
        height=s.height,
        fps=float(s.fps),
        mirror=s.mirror,
        exposure=exposure,
    )
    return CameraSource(config)


def run_cashier(settings: Settings) -> int:
    from pos_app.terminal.services import build_services
    from pos_app.ui.app import build_window, run_till

    try:
        services = build_services(settings)
    except PosError as exc:
        print(f"pos-app: {exc.message}", file=sys.stderr)
        return 2
    sec = settings.security
    auth = Authenticator(
        services.store, max_attempts=sec.pin_max_attempts, lock_base_s=sec.pin_lock_base_s
    )
    if services.sync is not None:
        services.sync.start()
    try:
        return run_till(
            lambda: build_window(
                settings,
                port=services.checkout,
                authenticator=auth,
                camera_source=camera_from_settings(settings),
            )
        )
    finally:
        services.close()
