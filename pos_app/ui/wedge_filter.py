"""Application-wide keyboard-wedge scanning: a QObject event filter.

Installed on the QApplication, it sees every key press whatever has focus,
feeds printable characters to :class:`WedgeParser` and obeys it: scanner
bursts are swallowed and emitted as ``scanned``; characters a person typed
are handed back to the focused widget (after at most ``max_gap_s``).
Keys with Ctrl/Alt and function keys pass straight through (shortcuts).
It acts only while its ``home`` window (the cashier window) is the active
window: the manager's review window, the demo wallet and dialogs get their
keys untouched, whatever their typing speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget

if TYPE_CHECKING:
    from pos_app.scanning.wedge import WedgeParser, WedgeScan

_ENTER = {Qt.Key.Key_Return, Qt.Key.Key_Enter}


class WedgeFilter(QObject):
    scanned = Signal(object)  # WedgeScan

    def __init__(
        self,
        parser: WedgeParser | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        home: QWidget | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.parser = parser
        self.home = home  # None: every window (a filter on its own, in tests)
        self._clock = clock
        self._replaying = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._poll)
        self.enabled = True

    def install(self, app: QApplication) -> None:
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._replaying or not self.enabled or self.parser is None:
            return False
        if not _is_target(watched) or not self._at_home(watched):
            return False
        if event.type() == QEvent.Type.ShortcutOverride:
            return self._override(event)
        if event.type() != QEvent.Type.KeyPress:
            return False
        assert isinstance(event, QKeyEvent)
        char = _char_of(event)
        if char is None:
            self._release(self.parser.feed("\x00", self._clock()).release)
            return False
        assert self.parser is not None
        result = self.parser.feed(char, self._clock())
        self._release(result.release)
        if result.scan is not None:
            self._emit(result.scan)
        self._arm()
        return result.consume

    def _at_home(self, watched: QObject) -> bool:
        """The key goes to the cashier window while it is the active one."""
        home = self.home
        if home is None:
            return True
        assert isinstance(watched, QWidget)  # checked by _is_target
        return QApplication.activeWindow() is home and watched.window() is home

    def _override(self, event: QEvent) -> bool:
        """Keep a scanner's characters and its closing Enter away from shortcuts."""
        assert isinstance(event, QKeyEvent)
        char = _char_of(event)
        held = self.parser is not None and self.parser.deadline is not None
        if char is None or (char == "\r" and not held):
            return False
        event.accept()  # "the widget wants this key": no shortcut, KeyPress follows
        return True

    def _emit(self, scan: WedgeScan) -> None:
        # Emit after this event returns: a slot may open dialogs or change focus.
        QTimer.singleShot(0, lambda: self.scanned.emit(scan))

    def _arm(self) -> None:
        deadline = None if self.parser is None else self.parser.deadline
        if deadline is None:
            self._timer.stop()
            return
        self._timer.start(max(1, round((deadline - self._clock()) * 1000) + 1))

    def _poll(self) -> None:
        if self.parser is not None:
            self._release(self.parser.poll(self._clock()))
        self._arm()

    def _release(self, text: str) -> None:
        if not text:
            return
        target = QApplication.focusWidget()
        if target is None:
            return
        self._replaying = True
        try:
            for ch in text:
                press = QKeyEvent(QEvent.Type.KeyPress, 0, Qt.KeyboardModifier.NoModifier, ch)
                QApplication.sendEvent(target, press)
        finally:
            self._replaying = False


def _is_target(watched: QObject) -> bool:
    """Count each key press once: at the focus widget, or the window when nothing has focus."""
    if not isinstance(watched, QWidget):
        return False
    focus = QApplication.focusWidget()
    return watched is focus if focus is not None else watched.isWindow()


def _char_of(event: QKeyEvent) -> str | None:
    """The character a scanner could have sent, ``"\\r"`` for Enter, else ``None``."""
    mods = event.modifiers() & ~(
        Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier
    )
    if mods != Qt.KeyboardModifier.NoModifier:
        return None
    if event.key() in _ENTER:
        return "\r"
    text = event.text()
    if len(text) == 1 and text.isprintable():
        return text
    return None
