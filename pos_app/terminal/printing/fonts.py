"""The Japanese font every rendering embeds, so a receipt looks the same on any machine.

Debian's ``fonts-noto-cjk`` (a Depends of the package) installs Noto Sans CJK; index 0 of its
collection is the Japanese face (JP). Other layouts of the same files are found under the
system font folders.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from pos_app.core.errors import ConfigError

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
_FILES = {False: "NotoSansCJK-Regular.ttc", True: "NotoSansCJK-Bold.ttc"}
JP_INDEX = 0  # face order in the collection: JP, KR, SC, TC, HK


@dataclass(frozen=True, slots=True)
class FontFile:
    path: Path
    index: int  # face within a .ttc collection


@functools.cache
def japanese_font(*, bold: bool = False) -> FontFile:
    """The Noto Sans CJK JP face, or a ConfigError naming the package to install."""
    name = _FILES[bold]
    for base in FONT_DIRS:
        preferred = base / "opentype" / "noto" / name
        if preferred.is_file():
            return FontFile(preferred, JP_INDEX)
        found = next(iter(sorted(base.rglob(name))), None) if base.is_dir() else None
        if found is not None:
            return FontFile(found, JP_INDEX)
    raise ConfigError(
        "no Japanese font for receipts: install it with 'apt-get install fonts-noto-cjk'",
        code="font_missing",
    )
