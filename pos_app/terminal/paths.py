"""Where bundled assets live: a source checkout, an installed tree, or a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def assets_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    candidates = [Path(bundle) / "assets"] if bundle else []
    candidates += [Path(__file__).resolve().parents[2] / "assets", Path(sys.prefix) / "assets"]
    for candidate in candidates:
        if (candidate / "catalog").is_dir():
            return candidate
    return candidates[0]


def catalog_dir(configured: str = "") -> Path:
    return Path(configured) if configured else assets_dir() / "catalog"
