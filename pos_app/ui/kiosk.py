"""Kiosk behaviour of the till window (``pos-app run --kiosk``, the kiosk unit).

- The window cannot be closed by accident (Alt+F4, a window manager's close button):
  only SIGTERM (``systemctl --user stop``), SIGINT, or a restart into a new release end
  it, and each ends it cleanly: the event loop returns, then the caller stops the camera,
  the sync and the database in order, so a write in progress finishes first.
- A newly installed release is picked up at the next idle moment (signed out, or no
  basket and no payment), never during a sale.
- A settings or start-up error shows full screen with its fix, instead of a restart
  loop of a window nobody sees.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from pos_app.terminal.update_watch import UpdateWatch
from pos_app.ui.i18n import Texts

log = logging.getLogger(__name__)

EXIT_RESTART = 75  # the caller execs the newly installed release
UPDATE_CHECK_MS = 30_000


def quit_on_signals(app: QApplication, *, before_quit: Callable[[], None]) -> QTimer:
    """SIGINT and SIGTERM end the event loop (Python runs handlers between bytecodes,
    so a timer wakes it every 200 ms); ``before_quit`` lets a kiosk window close."""

    def handler(signum: int, _frame: object) -> None:
        log.info("stopping on %s", signal.Signals(signum).name)
        before_quit()
        # Posted, not called: a signal that lands while the windows are still being
        # built (before exec) would otherwise be ignored and the process would hang.
        QTimer.singleShot(0, app.quit)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    timer = QTimer()
    timer.start(200)
    timer.timeout.connect(lambda: None)
    return timer


class RestartWhenIdle(QObject):
    """Every ``interval_ms``: a new release installed and the till idle -> ``restart()``."""

    def __init__(
        self,
        watch: UpdateWatch,
        *,
        idle: Callable[[], bool],
        restart: Callable[[str], None],
        interval_ms: int = UPDATE_CHECK_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._watch, self._idle, self._restart = watch, idle, restart
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        if watch.running:
            self._timer.start()

    def check(self) -> bool:
        version = self._watch.pending()
        if not version:
            return False
        if not self._idle():
            log.info("pos-app %s is installed; restarting after this sale", version)
            return False
        log.info("restarting into pos-app %s (installed while running)", version)
        self._timer.stop()
        self._restart(version)
        return True


def fatal_screen(message: str, *, language: str = "ja") -> QWidget:
    """Full screen: what is wrong (the one-line error with its fix) and who fixes it."""
    texts = Texts(language)
    page = QWidget()
    page.setObjectName("fatal")
    page.setStyleSheet("#fatal { background: #7a0000; } QLabel { color: white; }")
    layout = QVBoxLayout(page)
    layout.setContentsMargins(80, 80, 80, 80)
    for text, size in (
        (texts.t("fatal.title"), 40),
        (message, 22),
        (texts.t("fatal.next"), 22),
    ):
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = label.font()
        font.setPointSize(size)
        label.setFont(font)
        layout.addWidget(label)
    layout.addStretch(1)
    return page


def show_fatal(message: str) -> int:
    """Run the error screen until the kiosk unit stops it (exit 0: no restart loop)."""
    from pos_app.ui.app import application

    app = application()
    page = fatal_screen(message)
    page.showFullScreen()
    keep = quit_on_signals(app, before_quit=lambda: None)
    code = int(app.exec())
    keep.stop()
    return code
