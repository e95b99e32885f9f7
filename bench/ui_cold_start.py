"""Cold start of the cashier window to ready, in a fresh process each time.

"Ready" is the window's ``ready`` signal: the sign-in page is shown, the wedge
filter is installed, the camera worker and the status poll have started. The
time runs from the interpreter's start (before any import) to that signal,
with a fake checkout port and no camera, so it measures the UI itself.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.ui_cold_start [runs]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import time
t0 = time.perf_counter()
import os, sys
from pathlib import Path
from PySide6.QtCore import QSettings, QTimer
from pos_app.terminal.auth import Authenticator
from pos_app.terminal.checkout.types import TerminalStatus
from pos_app.terminal.settings.schema import Settings
from pos_app.terminal.store.db import open_store
from pos_app.ui.app import application, build_window

class Port:
    def status(self):
        return TerminalStatus(True, 0, 10, False, 0.0, True)

app = application()
tmp = Path(sys.argv[1])
store = open_store(tmp)
prefs = QSettings(str(tmp / "p.ini"), QSettings.Format.IniFormat)
box = {}
def go():
    window = build_window(Settings(), port=Port(), authenticator=Authenticator(store),
                          camera_source=None, settings_store=prefs)
    box["w"] = window
go()
QTimer.singleShot(0, lambda: (print(f"{(time.perf_counter() - t0) * 1000:.0f}"), app.quit()))
app.exec()
box["w"].shutdown()
"""


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            start = __import__("time").perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", CHILD, tmp],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            wall = (__import__("time").perf_counter() - start) * 1000
            ready = float(out.stdout.strip().splitlines()[-1])
            times.append((ready, wall))
    ready_ms = [t[0] for t in times]
    wall_ms = [t[1] for t in times]
    print(f"cold start to ready (imports + window + first event loop turn), {runs} runs:")
    print(f"  median {statistics.median(ready_ms):.0f} ms, max {max(ready_ms):.0f} ms")
    print(
        f"  whole process incl. interpreter start and exit: median "
        f"{statistics.median(wall_ms):.0f} ms"
    )
    verdict = "OK" if statistics.median(ready_ms) < 2000 else "OVER"
    print(f"  target: median to ready under 2000 ms: {verdict}")
    print(f"  (load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
