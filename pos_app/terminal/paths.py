"""Where bundled assets live: a source checkout, an installed wheel, or a PyInstaller bundle."""

from __future__ import annotations

from pathlib import Path

from pos_app.core.resources import data_dir


def assets_dir() -> Path:
    return data_dir("assets")


def catalog_dir(configured: str = "") -> Path:
    return Path(configured) if configured else assets_dir() / "catalog"
