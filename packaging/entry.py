"""Entry point of the PyInstaller bundle (the frozen ``pos-app`` executable).

A frozen executable has no ``python -m``. Doctor runs its Qt platform probe in a
child process (a broken plugin can hang or abort the process that loads it),
started as ``<executable> -m pos_app.ui.qt_probe``; this script honours that
form for an allow-list of internal helper modules only.
"""

from __future__ import annotations

import os
import runpy
import sys

INTERNAL_MODULES = frozenset({"pos_app.ui.qt_probe"})
# Left out of the terminal bundle on purpose (packaging/pos-app.spec).
BACKEND_ONLY = (
    "pos_app.server",
    "pos_app.demo",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "pydantic",
)


def main() -> int:
    if sys.platform == "linux":
        # The .deb leaves OpenCV's FFmpeg out (packaging/ffmpeg_stubs.py): never try it.
        os.environ.setdefault("OPENCV_VIDEOIO_PRIORITY_FFMPEG", "0")
    argv = sys.argv
    if len(argv) >= 3 and argv[1] == "-m" and argv[2] in INTERNAL_MODULES:
        sys.argv = [argv[0], *argv[3:]]
        runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
        return 0
    from pos_app.cli import main as cli_main

    try:
        return cli_main()
    except ImportError as exc:
        if not (exc.name or "").startswith(BACKEND_ONLY):
            raise
        print(
            "pos-app: this command needs the reference backend, which the terminal package "
            "does not include; run it from a source install (see README.md)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
