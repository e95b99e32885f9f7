"""``[scanner]`` settings to the scanning package's typed configurations."""

from __future__ import annotations

from pos_app.scanning.config import CameraConfig, DecoderConfig, FilterConfig
from pos_app.terminal.settings.schema import Settings

# Exposure times for the named settings. Phone screens are emissive: 8 ms keeps
# them from saturating and a moving phone from smearing at 30 fps.
EXPOSURE_MS: dict[str, float | None] = {"auto": None, "low": 8.0, "high": 33.0}


def camera_config(settings: Settings, device: int | str) -> CameraConfig:
    s = settings.scanner
    return CameraConfig(
        device=device,
        width=s.width,
        height=s.height,
        fps=float(s.fps),
        mirror=s.mirror,
        exposure_ms=EXPOSURE_MS[s.exposure],
        focus=None if s.focus < 0 else float(s.focus),
    )


def decoder_config(settings: Settings) -> DecoderConfig:
    s = settings.scanner
    return DecoderConfig(cascade=s.decoders, formats=s.formats)


def filter_config(settings: Settings) -> FilterConfig:
    return FilterConfig(product_cooldown_s=settings.scanner.product_cooldown_s)
