"""The key events a real 2D keyboard-wedge (USB HID) scanner sends.

A HID scanner is a keyboard: for every capital letter (and, on a US layout,
for ``:``) it presses Shift, presses and releases the key, and releases Shift.
``QTest.keyClicks`` sends the characters without any Shift and would hide the
bug these tests guard.

The events are delivered the way Qt delivers a real key: to the focus widget of
the active window (the window itself when nothing has focus), a
ShortcutOverride first and, if nobody claims it, the window's matching shortcut
instead of the key press. Each event carries the timestamp the window system
would give it (the moment the scanner sent it, ``step_ms`` apart), so a busy
test machine does not stretch the burst into a person's typing.
"""

from __future__ import annotations

import string
import time

from PySide6.QtCore import QEvent, QKeyCombination, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

SHIFT = Qt.KeyboardModifier.ShiftModifier
NONE = Qt.KeyboardModifier.NoModifier

# Characters that need Shift on each layout. On a Japanese (JIS) keyboard ':'
# has its own key, '*' is Shift+':' and '+' is Shift+';'.
SHIFTED = {
    "us": frozenset(string.ascii_uppercase + "$%*+:"),
    "jis": frozenset(string.ascii_uppercase + "$%*+"),
}
TERMINATORS = {
    "enter": (Qt.Key.Key_Return, "\r"),
    "tab": (Qt.Key.Key_Tab, "\t"),
    "linefeed": (0x0A, "\n"),  # what X delivers for xdotool's "\n" (keysym Linefeed)
}


class Keyboard:
    """One device's key events with its own timestamps (milliseconds)."""

    def __init__(self, *, step_ms: int = 2) -> None:
        self.step_ms = step_ms
        self.stamp = round(time.monotonic() * 1000)

    def event(self, press: bool, key: int, mods: Qt.KeyboardModifier, text: str) -> None:
        self.stamp += self.step_ms
        target = _target()
        if press and _shortcut_taken(target, key, mods, text, self.stamp):
            return
        kind = QEvent.Type.KeyPress if press else QEvent.Type.KeyRelease
        event = QKeyEvent(kind, key, mods, text)
        event.setTimestamp(self.stamp)
        QApplication.sendEvent(target, event)


def _target() -> QWidget:
    target = QApplication.focusWidget() or QApplication.activeWindow()
    assert target is not None, "no window has the keyboard focus"
    return target


def _shortcut_taken(
    target: QWidget, key: int, mods: Qt.KeyboardModifier, text: str, stamp: int
) -> bool:
    """Qt's shortcut step: unless the focus widget (or an event filter) claims the
    key in ShortcutOverride, a matching shortcut of the window fires instead."""
    override = QKeyEvent(QEvent.Type.ShortcutOverride, key, mods, text)
    override.setTimestamp(stamp)
    override.ignore()
    QApplication.sendEvent(target, override)
    if override.isAccepted():
        return False
    wanted = QKeySequence(QKeyCombination(mods, Qt.Key(key)))
    for shortcut in target.window().findChildren(QShortcut):
        if shortcut.isEnabled() and wanted in list(shortcut.keys()):
            shortcut.activated.emit()
            return True
    return False


def scanner_chars(text: str, *, layout: str = "us", keyboard: Keyboard | None = None) -> None:
    """Type ``text`` as a HID scanner does, with a Shift press/release per shifted character."""
    kb = keyboard or Keyboard()
    shifted = SHIFTED[layout]
    for ch in text:
        key = ord(ch.upper())  # Qt key codes for ASCII are the (upper-case) code points
        if ch in shifted:
            kb.event(True, Qt.Key.Key_Shift, SHIFT, "")
            kb.event(True, key, SHIFT, ch)
            kb.event(False, key, SHIFT, ch)
            kb.event(False, Qt.Key.Key_Shift, NONE, "")
        else:
            kb.event(True, key, NONE, ch)
            kb.event(False, key, NONE, ch)


def scanner(text: str, *, layout: str = "us", end: str = "enter") -> None:
    """A whole scan: the code, then the terminator the scanner is set to send."""
    kb = Keyboard()
    scanner_chars(text, layout=layout, keyboard=kb)
    key, char = TERMINATORS[end]
    kb.event(True, key, NONE, char)
    kb.event(False, key, NONE, char)


def press(key: Qt.Key) -> None:
    """A person pressing one key (F12, Esc...) in the focused window, through
    the window system entry point (shortcuts and all)."""
    window = QApplication.focusWindow()
    assert window is not None
    QTest.simulateEvent(window, True, key, NONE, "", False)
    QTest.simulateEvent(window, False, key, NONE, "", False)
