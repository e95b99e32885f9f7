"""Application-wide keyboard-wedge scanning: a QObject event filter.

Installed on the QApplication, it sees every key press whatever has focus,
feeds printable characters to :class:`WedgeParser` and obeys it: scanner
bursts are swallowed and emitted as ``scanned``; characters a person typed
are handed back to the focused widget (after at most ``max_gap_s``).
Keys with Ctrl/Alt and function keys pass straight through (shortcuts).

A USB HID scanner is a keyboard: it presses and releases Shift around every
capital letter (and ``:`` on a US layout). Modifier keys type nothing, so
they are let through without touching the burst; taking a bare Shift for a
person typing used to hand whole payment codes back to the field as text.

It works in every window of the till (the manager's window, the demo wallet,
dialogs): the scanner belongs to the till, so a scan is never typed into
whatever field happens to have the focus; the receiver of ``scanned`` acts
on it or reports it.
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
# Keys that only change what the next key types; a scanner sends Shift in a burst.
_MODIFIER_KEYS = frozenset(
    {
        Qt.Key.Key_Shift,
        Qt.Key.Key_Control,
        Qt.Key.Key_Meta,
        Qt.Key.Key_Alt,
        Qt.Key.Key_AltGr,
        Qt.Key.Key_CapsLock,
        Qt.Key.Key_NumLock,
        Qt.Key.Key_Super_L,
        Qt.Key.Key_Super_R,
        Qt.Key.Key_Hyper_L,
        Qt.Key.Key_Hyper_R,
        Qt.Key.Key_Mode_switch,
    }
)
_TERMINATOR_CHARS = frozenset("\r\t")
_RESYNC_S = 1.0  # an event clock this far off our own was restarted or wrapped: start over
_STALL_S = 0.015  # a release timer this late means the GUI thread was busy


class EventClock:
    """When a key was *sent*, on our clock, from the window system's event timestamp.

    Gaps must be measured between the scanner's keys, not between the moments the
    GUI thread got round to them: after a busy moment (a repaint, a slow slot) the
    queued keys of one burst are processed back to back, or late, and a gap taken
    from processing times would split the scan. The window system's timestamps
    (X server milliseconds) run on another clock; the smallest difference seen is
    the offset between the two (queueing only ever adds to it).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._offset: float | None = None
        self.lag = 0.0  # how long the last key waited before we saw it

    def time_of(self, event: QKeyEvent) -> float:
        now = self._clock()
        stamp = event.timestamp()
        if not stamp:  # synthetic events without a timestamp: all we know is now
            self.lag = 0.0
            return now
        offset = now - stamp / 1000
        if self._offset is None or offset < self._offset or offset - self._offset > _RESYNC_S:
            self._offset = offset
        sent = stamp / 1000 + self._offset
        self.lag = now - sent
        return sent

    def now(self) -> float:
        """Our clock, less the last key's lag: a burst is over only when the keys
        *processed* after it have stopped coming for ``max_gap_s``."""
        return self._clock() - self.lag


class WedgeFilter(QObject):
    scanned = Signal(object)  # WedgeScan

    def __init__(
        self,
        parser: WedgeParser | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.parser = parser
        self._clock = clock
        self._keys = EventClock(clock)
        self._due = 0.0  # when the release timer should fire, on our clock
        self._rechecked = False
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
        if not _is_target(watched):
            return False
        if event.type() == QEvent.Type.ShortcutOverride:
            return self._override(event)
        if event.type() != QEvent.Type.KeyPress:
            return False
        assert isinstance(event, QKeyEvent)
        return self._key_press(event)

    def _key_press(self, event: QKeyEvent) -> bool:
        """Feed one key press to the parser; True when the widget must not see it."""
        assert self.parser is not None
        if event.key() in _MODIFIER_KEYS:
            return False  # Shift inside a scanner burst: the burst goes on
        at = self._keys.time_of(event)
        self._rechecked = False
        char = _char_of(event)
        if char is None:
            self._release(self.parser.feed("\x00", at).release)
            return False
        result = self.parser.feed(char, at)
        self._release(result.release)
        if result.scan is not None:
            self._emit(result.scan)
        self._arm()
        return result.consume

    def _override(self, event: QEvent) -> bool:
        """Keep a scanner's characters and its closing Enter/Tab away from shortcuts."""
        assert isinstance(event, QKeyEvent)
        char = _char_of(event)
        held = self.parser is not None and self.parser.deadline is not None
        if char is None or (char in _TERMINATOR_CHARS and not held):
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
        wait = max(0.001, deadline - self._keys.now() + 0.001)
        self._due = self._clock() + wait
        self._timer.start(round(wait * 1000))

    def _poll(self) -> None:
        if self.parser is None:
            return
        if self._clock() - self._due > _STALL_S and not self._rechecked:
            # The GUI thread was busy: keys of the same burst may be queued behind
            # this timer. Let them in before deciding that a person typed.
            self._rechecked = True
            self._due = self._clock() + self.parser.config.max_gap_s
            self._timer.start(round(self.parser.config.max_gap_s * 1000))
            return
        self._release(self.parser.poll(self._keys.now()))
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
    """The character a scanner could have sent, ``"\\r"`` for Enter, ``"\\t"`` for Tab,
    else ``None``."""
    mods = event.modifiers() & ~(
        Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier
    )
    if mods != Qt.KeyboardModifier.NoModifier:
        return None
    if event.key() in _ENTER or event.text() in ("\r", "\n"):
        return "\r"  # Return, keypad Enter, or a Linefeed key (0x0a) some devices send
    if event.key() == Qt.Key.Key_Tab and event.modifiers() == Qt.KeyboardModifier.NoModifier:
        return "\t"  # scanners can be set to end with Tab; Shift+Tab is a person
    text = event.text()
    if len(text) == 1 and text.isprintable():
        return text
    return None
