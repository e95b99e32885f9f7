"""Can Qt start here? The probe behind ``pos-app doctor``'s "Qt platform plugin" check.

It runs in a child process (``python -m pos_app.ui.qt_probe``, or the frozen
executable with the same arguments): a missing system library makes Qt print
"could not load the Qt platform plugin" and *abort* the process, and a display
that does not answer can hang it, so the parent only reads one JSON line from
stdout and enforces a timeout. The platform is whatever ``QT_QPA_PLATFORM``
says, exactly as ``pos-app run`` would see it.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def probe() -> dict[str, Any]:
    """Create a QGuiApplication in this process and describe what Qt loaded."""
    try:
        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion
        from PySide6.QtGui import QGuiApplication
    except ImportError as exc:
        return {"ok": False, "detail": f"PySide6 cannot be imported ({exc})"}
    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0] or "pos-app"])
    return {
        "ok": True,
        "platform": QGuiApplication.platformName(),
        "requested": os.environ.get("QT_QPA_PLATFORM", ""),
        "qt_version": qVersion(),
        "pyside_version": pyside_version,
        "screens": len(QGuiApplication.screens()) if app is not None else 0,
    }


def main() -> int:
    print(json.dumps(probe()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
