"""Where the customer display goes, and what happens when its monitor is unplugged.

``mode`` (setting ``customer_display.mode``): ``auto`` puts it full screen on a
monitor other than the cashier's, when there is one, and re-attaches when one
is plugged in; ``window`` shows it as an ordinary window (the demo); ``off``
never shows it. When its monitor goes away (``QGuiApplication.screenRemoved``)
the display is hidden, never moved over the cashier's window, and
``attached_changed(False)`` tells the till: the sale goes on, and the age
check falls back to the cashier where the store allows it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRect, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QWidget

from pos_app.terminal.settings.schema import CustomerDisplaySettings
from pos_app.ui.customer_display.window import CustomerDisplay

if TYPE_CHECKING:
    from pos_app.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class CustomerDisplayController(QObject):
    attached_changed = Signal(bool)

    def __init__(
        self,
        settings: CustomerDisplaySettings,
        *,
        store_name: str,
        cashier: QWidget,
        theme: str = "standard",
        font_scale: float = 1.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.mode = settings.mode
        self._cashier = cashier
        self.display = CustomerDisplay(
            store_name=store_name,
            lang=settings.language,
            framed=self.mode == "window",
            theme=theme,
            font_scale=font_scale,
        )
        self.display.closed.connect(self._closed)
        self.screen: QScreen | None = None  # the monitor it is on (auto mode)
        self.attached = False
        self._started = False

    def start(self) -> None:
        """After the cashier window is shown: its screen decides which one is the customer's."""
        app = QGuiApplication.instance()
        assert isinstance(app, QGuiApplication)
        app.screenAdded.connect(self._screen_added)
        app.screenRemoved.connect(self._screen_removed)
        self._started = True
        self.place()

    def place(self) -> None:
        if self.mode == "off" or not self._started:
            return
        if self.mode == "window":
            self.display.show()  # WA_ShowWithoutActivating: the cashier keeps the focus
            self._set_attached(True)
            return
        screen = self.customer_screen()
        if screen is None:
            self._detach()
            return
        self.screen = screen
        self.display.setScreen(screen)
        self.display.setGeometry(screen.geometry())
        self.display.show()
        log.info("customer display on monitor %s", screen.name())
        self._set_attached(True)

    def customer_screen(self) -> QScreen | None:
        """A monitor that does not overlap the cashier's (a mirrored output is not a second
        screen: the customer would see the cashier's window)."""
        cashier = self._cashier.screen()
        area = cashier.geometry() if cashier is not None else QRect()
        for screen in QGuiApplication.screens():
            if screen is not cashier and not screen.geometry().intersects(area):
                return screen
        return None

    def close(self) -> None:
        self._started = False
        self.display.close()

    def _screen_added(self, _screen: QScreen) -> None:
        if not self.attached:
            QTimer.singleShot(0, self.place)  # let Qt finish adding it first

    def _screen_removed(self, screen: QScreen) -> None:
        if self.mode == "auto" and screen is self.screen:
            log.warning("customer display monitor %s removed; the till goes on", screen.name())
            self._detach()
            QTimer.singleShot(0, self.place)  # another monitor may still be there

    def _closed(self) -> None:
        """Someone closed the window: nobody can answer on it any more."""
        if self._started:
            self._set_attached(False)

    def _detach(self) -> None:
        self.screen = None
        self.display.hide()
        self._set_attached(False)

    def _set_attached(self, attached: bool) -> None:
        if attached != self.attached:
            self.attached = attached
            self.attached_changed.emit(attached)


def link(window: MainWindow, controller: CustomerDisplayController) -> None:
    """Drive the display from the cashier window's signals; its answers go back as intents."""
    page, display = window.checkout, controller.display
    page.basket_view.changed.connect(display.show_basket)
    window.flow.changed.connect(display.show_payment)
    display.age_answered.connect(page.age_answered_on_display)
    page.display_attached = lambda: controller.attached
    controller.attached_changed.connect(lambda _attached: page.refresh_age_prompt())
