"""Replace OpenCV's bundled FFmpeg and AVIF libraries with stubs (issue 16.8: size).

The opencv-python wheels link FFmpeg (libavcodec, libavformat, ...; with libaom, dav1d,
libvpx: about 46 MB) into cv2 itself, so they cannot just be left out: cv2 would not
load. The till needs none of it: the camera is read through V4L2, and the videos
'pos-app scan-video' reads are what USB webcams record, MJPEG in AVI, which OpenCV
decodes with its own reader. So each library cv2 links is replaced by a tiny stub with
the same soname and symbol versions, exporting exactly the symbols cv2 imports; the
launcher turns OpenCV's FFmpeg backend off (OPENCV_VIDEOIO_PRIORITY_FFMPEG=0), so a stub
is never called, and if one ever is, it says so and aborts instead of misbehaving.

    python3 packaging/ffmpeg_stubs.py BUNDLE_INTERNAL_DIR
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

STUBBED = re.compile(r"^lib(avcodec|avformat|avutil|swscale|avif)-")
DROPPED = re.compile(r"^lib(aom|dav1d|vpx|swresample)-")  # only the stubbed ones use them


def _run(*args: str) -> str:
    # Only this script's own commands (nm, readelf, gcc) on files of the bundle it builds.
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout  # noqa: S603


def imported(cv2: Path) -> dict[str, str]:
    """symbol -> version ('' when unversioned) of every symbol cv2 imports."""
    out = {}
    for line in _run("nm", "-D", "--undefined-only", str(cv2)).splitlines():
        name = line.split()[-1]
        symbol, _, version = name.partition("@")
        out[symbol] = version
    return out


def defined(lib: Path) -> dict[str, tuple[str, int]]:
    """symbol -> (nm type letter, size) of what the real library exports."""
    out = {}
    for line in _run("nm", "-D", "-S", "--defined-only", str(lib)).splitlines():
        parts = line.split()
        if len(parts) == 4:
            _addr, size, kind, name = parts
            out[name.split("@")[0]] = (kind, int(size, 16))
        elif len(parts) == 3:
            out[parts[2].split("@")[0]] = (parts[1], 0)
    return out


def stub(lib: Path, needs: dict[str, str], work: Path) -> None:
    soname = re.search(r"Library soname: \[(.*?)\]", _run("readelf", "-d", str(lib)))
    assert soname, lib
    exports = defined(lib)
    mine = {s: v for s, v in needs.items() if s in exports}
    lines = ["#include <stdio.h>", "#include <stdlib.h>",
             "static void gone(const char *f) { fprintf(stderr, \"pos-app: %s is not in "
             "this build (OpenCV's FFmpeg was left out): only MJPEG AVI video is read\\n\","
             " f); abort(); }"]  # fmt: skip
    # cv2 registers its AVIF codec at import (it creates and destroys an encoder): AVIF
    # stubs answer "nothing" (NULL, 0); the FFmpeg ones are never reached and abort.
    soft = lib.name.startswith("libavif-")
    for symbol in sorted(mine):
        kind, size = exports[symbol]
        if kind in "TtWi" and soft:
            lines.append(f"long {symbol}(void) {{ return 0; }}")
        elif kind in "TtWi":
            lines.append(f'void {symbol}(void) {{ gone("{symbol}"); }}')
        else:
            lines.append(f"char {symbol}[{max(size, 8)}];")
    source = work / f"{lib.name}.c"
    source.write_text("\n".join(lines) + "\n")
    versions: dict[str, list[str]] = {}
    for symbol, version in mine.items():
        versions.setdefault(version, []).append(symbol)
    script = work / f"{lib.name}.map"
    nodes = [f"{v} {{ global: {'; '.join(sorted(s))}; }};" for v, s in versions.items() if v]
    plain = versions.get("", [])
    nodes.append(f"{{ global: {'; '.join(sorted(plain))}; local: *; }};" if plain else "")
    script.write_text("\n".join(n for n in nodes if n) + "\n")
    _run("gcc", "-shared", "-fPIC", "-O1", "-o", str(lib), f"-Wl,-soname,{soname.group(1)}",
         f"-Wl,--version-script={script}", str(source))  # fmt: skip


def main(internal: Path) -> None:
    cv2 = next((internal / "cv2").glob("cv2*.so"))
    libs = internal / "opencv_python_headless.libs"
    needs = imported(cv2)
    with tempfile.TemporaryDirectory() as tmp:
        for lib in sorted(libs.iterdir()):
            if STUBBED.match(lib.name):
                stub(lib, needs, Path(tmp))
            elif DROPPED.match(lib.name):
                lib.unlink()
    for link in internal.iterdir():  # PyInstaller's top-level links to the dropped ones
        if link.is_symlink() and not link.exists():
            link.unlink()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
