"""Where the repository's ``assets/`` and ``config/`` folders are at run time.

They stay at the top of the repository, where developers and packagers look for them.
At build time ``setup.py`` maps them into the wheel as package data,
``pos_app/_data/assets`` and ``pos_app/_data/config``, read here through
``importlib.resources``; the PyInstaller bundle carries them as ``_internal/assets`` and
``_internal/config`` (packaging/pos-app.spec); a source checkout reads the tree itself.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import Literal

PACKAGE_DATA = "_data"
DataFolder = Literal["assets", "config"]


def data_dir(name: DataFolder) -> Path:
    """The folder *name*: the bundle's, the installed package's, or the checkout's.

    When none exists the checkout's path is returned, and the caller's own check
    (a catalog folder, a rule file) names what is missing.
    """
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle and (Path(bundle) / name).is_dir():
        return Path(bundle) / name
    packaged = resources.files("pos_app").joinpath(PACKAGE_DATA, name)
    # An installed wheel is a folder on disk (never imported from a zip).
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / name
