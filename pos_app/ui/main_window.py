"""The cashier window: header, sign-in / checkout pages, status bar, shortcuts.

Everything it needs comes in through :class:`AppContext` (no globals), so
tests build it with a fake checkout port and a synthetic camera.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QHBoxLayout,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.age_check import AgeCheckPolicy
from pos_app.core.catalog import Catalog
from pos_app.terminal.auth import Account, Authenticator
from pos_app.terminal.checkout.types import CheckoutPort, PaymentUpdate, TerminalStatus
from pos_app.terminal.settings.schema import Settings
from pos_app.ui.camera import CameraController, WorkerFactory, default_worker
from pos_app.ui.checkout_page import CheckoutPage
from pos_app.ui.customer_display.controller import CustomerDisplayController, link
from pos_app.ui.i18n import Texts, notice_text
from pos_app.ui.payment_flow import PaymentFlow
from pos_app.ui.payment_view import FINISHED
from pos_app.ui.signin_page import SignInPage
from pos_app.ui.sound import Sounds
from pos_app.ui.status_bar import PosStatusBar
from pos_app.ui.tasks import TaskManager
from pos_app.ui.theme import stylesheet
from pos_app.ui.watchdog import StallWatch
from pos_app.ui.wedge_filter import WedgeFilter
from pos_app.ui.widgets import button, label

if TYPE_CHECKING:
    from pos_app.scanning.sources import FrameSource
    from pos_app.scanning.wedge import WedgeScan

log = logging.getLogger(__name__)
STATUS_EVERY_MS = 2000


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    catalog: Catalog
    port: CheckoutPort
    authenticator: Authenticator
    prefs: QSettings
    camera_source: FrameSource | None = None
    store_name: str = ""
    open_manager: Callable[[QWidget], None] | None = None  # issue 8's review screen
    reprint: Callable[[], bool] | None = None  # F6: the last sale's receipt again
    worker_factory: WorkerFactory = default_worker
    kiosk: bool = False  # no accidental close (pos_app/ui/kiosk.py)


class MainWindow(QMainWindow):
    ready = Signal()
    closing = Signal()

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        ui = ctx.settings.ui
        self.texts = Texts(str(ctx.prefs.value("ui/language", ui.language)))
        self.theme = str(ctx.prefs.value("ui/theme", ui.theme))
        self.account: Account | None = None
        self.tasks = TaskManager(self)
        self.tasks.default_failure = lambda exc: log.warning("background task failed: %r", exc)
        self.sounds = Sounds(enabled=ui.sound)
        self.camera = CameraController(
            ctx.camera_source, worker_factory=ctx.worker_factory, parent=self
        )
        self.flow = PaymentFlow(
            ctx.port,
            self.tasks,
            self.texts,
            authenticator=ctx.authenticator,
            poll_interval_s=ctx.settings.backend.poll_interval_s,
            parent=self,
        )
        self._build(ctx)
        self.checkout.payment_view.font_scale = ui.font_scale
        self._shortcuts()
        # Its parser is attached once scanning starts; it listens in every window.
        self._wedge = WedgeFilter(parent=self)
        self._wedge.scanned.connect(self._on_scan)
        self.stall_watch = StallWatch(parent=self)
        self._status_busy = False
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_EVERY_MS)
        self._status_timer.timeout.connect(self.poll_status)
        self.apply_theme()
        self.retranslate()
        self.show_signin()
        self._restore_geometry()

    def _build(self, ctx: AppContext) -> None:
        self.signin = SignInPage(
            ctx.authenticator,
            self.tasks,
            self.texts,
            last_user=str(ctx.prefs.value("signin/last_user", "")),
        )
        self.signin.signed_in.connect(self.on_signed_in)
        self.checkout = CheckoutPage(
            ctx.catalog,
            self.flow,
            self.camera,
            self.texts,
            currency=ctx.settings.terminal.currency,
            theme=self.theme,
            store_name=ctx.store_name or ctx.settings.terminal.store_id,
            sounds=self.sounds,
            age_policy=AgeCheckPolicy(ctx.settings.customer_display.cashier_age_check),
        )
        self.customer = CustomerDisplayController(
            ctx.settings.customer_display,
            store_name=ctx.store_name or ctx.settings.terminal.store_id,
            cashier=self,
            theme=self.theme,
            font_scale=ctx.settings.ui.font_scale,
            parent=self,
        )
        link(self, self.customer)
        self.customer.attached_changed.connect(self._customer_display_changed)
        self.status = PosStatusBar(self.texts, self)
        self.setStatusBar(self.status)
        self.checkout.camera_state.connect(
            lambda state: self.status.set_camera(state, available=self.camera.available)
        )
        self.status.set_camera(None, available=self.camera.available)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.signin)
        self.pages.addWidget(self.checkout)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(self._header())
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

    def _header(self) -> QHBoxLayout:
        self.cashier_label = label("message")
        self.language_button = button(on_click=self.toggle_language)
        self.contrast_box = QCheckBox()
        self.contrast_box.setChecked(self.theme == "high_contrast")
        self.contrast_box.toggled.connect(self.set_high_contrast)
        self.manager_button = button(on_click=self.open_manager)
        self.signout_button = button(on_click=self.sign_out)
        row = QHBoxLayout()
        row.addWidget(self.cashier_label, 1)
        for widget in (
            self.contrast_box,
            self.language_button,
            self.manager_button,
            self.signout_button,
        ):
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            row.addWidget(widget)
        return row

    def _shortcuts(self) -> None:
        bv, page = self.checkout.basket_view, self.checkout
        keys: dict[str, Callable[[], object]] = {
            "F2": lambda: bv.change_quantity(+1),
            "F3": lambda: bv.change_quantity(-1),
            "F4": bv.entry.setFocus,
            "F5": bv.ask_quantity,
            "Del": bv.remove_selected,
            "Esc": page.cancel,
            "F12": page.pay,
            "F7": lambda: page.answer_age_as_cashier(True),
            "F8": lambda: page.answer_age_as_cashier(False),
        }
        for key, action in keys.items():
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(lambda a=action: self._on_checkout(a))
        QShortcut(QKeySequence("F9"), self).activated.connect(self.toggle_language)
        QShortcut(QKeySequence("F6"), self).activated.connect(self.reprint_receipt)
        QShortcut(QKeySequence("Ctrl+M"), self).activated.connect(self.open_manager)
        for key in ("Return", "Enter"):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(self._enter)

    def _on_checkout(self, action: Callable[[], object]) -> None:
        if self.pages.currentWidget() is self.checkout:
            action()

    def _enter(self) -> None:
        """Enter: next customer after a payment; otherwise the focused widget's Enter."""
        focus = QApplication.focusWidget()
        view, on_checkout = self.checkout.payment_view, self.pages.currentWidget() is self.checkout
        if on_checkout and self.checkout.confirming_clear:
            self.checkout.confirm_clear()
            return
        if (
            on_checkout
            and view.manager_box.isVisible()
            and focus in (view.reason_edit, view.pin_edit)
        ):
            self._manager_enter(focus)
            return
        if on_checkout and self.flow.phase in FINISHED:
            self.checkout.next_customer()
            return
        if self.pages.currentWidget() is self.signin:
            if self.signin.pin.text():
                self.signin.submit()
            else:
                self.signin.focus_first()
        elif focus is self.checkout.basket_view.entry:
            self.checkout.basket_view.entry.returnPressed.emit()

    def _manager_enter(self, focus: QWidget) -> None:
        """In the manager box (approval or void): reason, then PIN, then submit."""
        view = self.checkout.payment_view
        if focus is view.reason_edit:
            view.pin_edit.setFocus()
        else:
            view.pin_edit.returnPressed.emit()

    def _on_scan(self, scan: WedgeScan) -> None:
        """A scanner burst from any window: the checkout takes it, or it is reported."""
        if self.pages.currentWidget() is self.checkout:
            self.checkout.on_wedge_scan(scan)
            return
        self.sounds.play("attention")
        self.signin.message.setText(self.texts.t("scan.sign_in_first"))

    # sign-in -------------------------------------------------------------------

    def show_signin(self) -> None:
        self.pages.setCurrentWidget(self.signin)
        self.signin.focus_first()
        self._refresh_header()

    def on_signed_in(self, account: Account) -> None:
        self.account = account
        self.ctx.prefs.setValue("signin/last_user", account.user_id)
        self.checkout.cashier_id = account.user_id
        self.status.set_cashier(account.name)
        self.pages.setCurrentWidget(self.checkout)
        self.checkout.basket_view.entry.setFocus()
        self._refresh_header()

    def sign_out(self) -> None:
        if self.flow.active:
            self.checkout.show_message(self.texts.t("scan.busy"), True)
            return
        if self.account is not None:
            user_id, auth = self.account.user_id, self.ctx.authenticator
            self.tasks.run(lambda: auth.sign_out(user_id), lane="io")
        self.account = None
        self.status.set_cashier("")
        self.show_signin()

    # header actions ------------------------------------------------------------

    def toggle_language(self) -> None:
        self.texts.lang = "en" if self.texts.lang == "ja" else "ja"
        self.ctx.prefs.setValue("ui/language", self.texts.lang)
        self.retranslate()

    def set_high_contrast(self, on: bool) -> None:
        self.theme = "high_contrast" if on else "standard"
        self.ctx.prefs.setValue("ui/theme", self.theme)
        self.checkout.payment_view.theme = self.theme
        self.apply_theme()
        self.checkout.payment_view.show_update(self.checkout.payment_view.update_shown)
        self.customer.display.set_theme(self.theme)

    def apply_theme(self) -> None:
        self.setStyleSheet(stylesheet(self.theme, self.ctx.settings.ui.font_scale))

    def open_manager(self) -> None:
        if self.ctx.open_manager is None:
            self.checkout.show_message(self.texts.t("manager.none"), True)
            return
        self.ctx.open_manager(self)

    def retranslate(self) -> None:
        t = self.texts.t
        self.setWindowTitle(t("app.title"))
        self.language_button.setText(t("header.language"))
        self.contrast_box.setText(t("header.contrast"))
        self.manager_button.setText(t("header.manager"))
        self.signout_button.setText(t("header.signout"))
        self.signin.retranslate()
        self.checkout.retranslate()
        self.status.refresh()
        self._refresh_header()

    def _refresh_header(self) -> None:
        signed_in = self.account is not None
        name = self.account.name if self.account else ""
        self.cashier_label.setText(self.texts.t("header.cashier", name=name) if signed_in else "")
        self.signout_button.setVisible(signed_in)
        self.manager_button.setVisible(signed_in)

    def _customer_display_changed(self, attached: bool) -> None:
        if self.customer.mode == "auto":  # a monitor came or went: say so, the till goes on
            self.checkout.show_message(
                self.texts.t("display.back" if attached else "display.lost"), not attached
            )

    # lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        """After show(): input, camera and status polling begin; emits ``ready``."""
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        self._wedge.install(app)
        self.customer.start()
        QTimer.singleShot(0, self._start_scanning)  # ready first; numpy/OpenCV load right after
        self._status_timer.start()
        self.stall_watch.start()
        self.poll_status()
        self.ready.emit()

    def _start_scanning(self) -> None:
        from pos_app.scanning.config import WedgeConfig
        from pos_app.scanning.wedge import WedgeParser

        gap = self.ctx.settings.scanner.wedge_max_gap_ms / 1000
        self._wedge.parser = WedgeParser(WedgeConfig(max_gap_s=gap))
        self.camera.start()

    def reprint_receipt(self) -> None:
        """F6: queue the last sale's receipt again (off the GUI thread; the printer may be slow)."""
        reprint = self.ctx.reprint
        if reprint is None:
            self.status.showMessage(self.texts.t("receipt.no_printer"), 5000)
            return
        self.tasks.run(reprint, on_success=self._reprinted, lane="io")

    def _reprinted(self, queued: bool) -> None:
        key = "receipt.reprinted" if queued else "receipt.nothing_to_reprint"
        self.status.showMessage(self.texts.t(key), 5000)
        self.poll_status()

    def poll_status(self) -> None:
        if self._status_busy:  # a slow answer must not pile up requests behind it
            return
        self._status_busy = True
        self.tasks.run(
            self.ctx.port.status,
            on_success=self._got_status,
            on_failure=self._status_failed,
            lane="io",
        )

    def _got_status(self, status: TerminalStatus) -> None:
        self._status_busy = False
        self.status.show_status(status)
        # Sales settled while nobody watched (after a restart, an offline sale the backend
        # refused): the cashier is told once, under the basket.
        self.tasks.run(
            self.ctx.port.notices,
            on_success=self._got_notices,
            on_failure=lambda exc: log.warning("notices failed: %r", exc),
            lane="io",
        )

    def _got_notices(self, notices: tuple[PaymentUpdate, ...]) -> None:
        if notices:
            lines = [notice_text(self.texts, n) for n in notices]
            self.checkout.show_message("\n".join(lines), error=True)

    def _status_failed(self, exc: BaseException) -> None:
        self._status_busy = False
        log.warning("terminal status failed: %r", exc)
        self.status.show_status(None)

    def _restore_geometry(self) -> None:
        geometry = self.ctx.prefs.value("window/geometry")
        self.prefs_geometry_restored = False
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.prefs_geometry_restored = self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)

    def allow_close(self) -> None:
        """A deliberate stop (SIGTERM, a restart into a new release) may close a kiosk."""
        self.ctx = replace(self.ctx, kiosk=False)

    def idle(self) -> bool:
        """Nobody is in the middle of a sale: no payment and an empty basket."""
        return not self.flow.active and len(self.checkout.basket_view.basket) == 0

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.ctx.kiosk:
            log.info("close ignored: kiosk mode (stop the kiosk unit to end the till)")
            event.ignore()
            return
        self.ctx.prefs.setValue("window/geometry", self.saveGeometry())
        self.ctx.prefs.sync()
        self.shutdown()
        super().closeEvent(event)
        self.closing.emit()

    def shutdown(self) -> None:
        self._status_timer.stop()
        self.stall_watch.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._wedge)
        self.camera.stop()
        self.customer.close()
        self.tasks.shutdown()
