"""Kiosk mode (issue 16.6) and restarting into a new release when idle (issue 16.9)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from pos_app.terminal.update_watch import UpdateWatch, installed_version
from pos_app.ui.kiosk import RestartWhenIdle, fatal_screen

from .helpers import MakeWindow, key, sign_in, wedge

REPO = Path(__file__).resolve().parents[2]
ONIGIRI = "4549010000007"  # a product of the demo catalog


def test_a_kiosk_window_cannot_be_closed_by_accident(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = make_window(kiosk=True)
    window.close()  # what Alt+F4 or a window manager's close button does
    QApplication.processEvents()
    assert window.isVisible()
    window.allow_close()
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=2000)


def test_an_ordinary_window_still_closes(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = make_window()
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=2000)


class Versions:
    def __init__(self) -> None:
        self.installed = "0.1.0"

    def __call__(self) -> str:
        return self.installed


def test_restart_waits_for_the_sale_to_end(qtbot: QtBot, make_window: MakeWindow) -> None:
    window = make_window()
    sign_in(qtbot, window)
    versions, restarted = Versions(), list[str]()
    watch = UpdateWatch(versions)
    updates = RestartWhenIdle(watch, idle=window.idle, restart=restarted.append)
    assert not updates.check()  # nothing new
    wedge(window, ONIGIRI)
    qtbot.waitUntil(lambda: len(window.checkout.basket_view.basket) == 1, timeout=2000)
    versions.installed = "0.2.0"
    assert not updates.check() and restarted == []  # a basket: never during a sale
    key(window, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: len(window.checkout.basket_view.basket) == 0, timeout=2000)
    assert updates.check() and restarted == ["0.2.0"]


def test_a_half_installed_release_is_not_a_new_version() -> None:
    def dpkg(status: str) -> Callable[..., subprocess.CompletedProcess[str]]:
        def run(*_args: object, **_kwargs: object) -> subprocess.CompletedProcess[str]:
            return subprocess.CompletedProcess([], 0, f"{status}\t0.2.0", "")

        return run

    assert installed_version(dpkg("install ok installed")) == "0.2.0"
    assert installed_version(dpkg("install ok half-configured")) == ""
    assert installed_version(dpkg("install ok unpacked")) == ""


def test_the_error_screen_says_what_is_wrong_and_who_fixes_it(qtbot: QtBot, tmp_path: Path) -> None:
    page = fatal_screen("/etc/pos-app/config.d/10-site.toml: [scanner] fps = 500 is invalid")
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    shot = tmp_path / "fatal.png"
    assert page.grab().save(str(shot))
    texts = [label.text() for label in page.findChildren(QLabel)]
    assert any("fps = 500" in text for text in texts)
    assert any("systemctl --user restart pos-app-kiosk" in text for text in texts)
    if os.environ.get("POS_APP_SCREENSHOT_DIR"):  # for a person to look at
        shot.replace(Path(os.environ["POS_APP_SCREENSHOT_DIR"]) / "kiosk-fatal.png")


def _till(tmp_path: Path, config: str) -> subprocess.Popen[str]:
    user = tmp_path / "user.toml"
    user.write_text(f'[paths]\ndata_dir = "{tmp_path / "data"}"\nlog_dir = "{tmp_path}"\n' + config)
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "POS_APP_SCANNER_CAMERA": "none",
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
    }
    (tmp_path / "xdg" / "pos-app").mkdir(parents=True)
    (tmp_path / "xdg" / "pos-app" / "config.toml").write_text(user.read_text())
    return subprocess.Popen(
        [sys.executable, "-m", "pos_app", "run", "--kiosk"],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _wait_for(path: Path, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text() if path.exists() else ""
        if text in content:
            return content
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not in {path}: {content}")


def test_sigterm_stops_the_kiosk_till_cleanly(tmp_path: Path) -> None:
    till = _till(tmp_path, "")
    try:
        _wait_for(tmp_path / "pos-app.log", "the till window is up")
        assert till.poll() is None
        till.send_signal(signal.SIGTERM)
        out, _ = till.communicate(timeout=30)
    finally:
        till.kill()
    assert till.returncode == 0, out
    log = (tmp_path / "pos-app.log").read_text()
    assert "stopping on SIGTERM" in log
    check = subprocess.run(
        ["sqlite3", str(tmp_path / "data" / "terminal.db"), "PRAGMA integrity_check"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert check.stdout.strip() == "ok" or check.returncode != 0  # sqlite3 CLI may be absent


def test_a_settings_error_in_kiosk_mode_stays_on_screen(tmp_path: Path) -> None:
    till = _till(tmp_path, "[scanner]\nfps = 500\n")
    try:
        time.sleep(6)
        assert till.poll() is None  # no exit, so no restart loop of an invisible window
        till.send_signal(signal.SIGTERM)
        out, _ = till.communicate(timeout=30)
    finally:
        till.kill()
    assert till.returncode == 0
    assert "fps = 500 is invalid" in out
