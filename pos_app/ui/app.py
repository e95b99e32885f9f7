"""Starting the Qt application: ``pos-app run`` (the till) and the demo's two windows.

Ctrl+C in the terminal and closing a window both end the event loop; the
callers then stop the camera, the background sync and the backend in order.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QWidget

from pos_app.core.catalog import Catalog
from pos_app.terminal.auth import Authenticator
from pos_app.terminal.checkout.types import CheckoutPort
from pos_app.terminal.paths import catalog_dir
from pos_app.terminal.settings.schema import Settings
from pos_app.terminal.update_watch import UpdateWatch
from pos_app.ui.camera import settings_worker
from pos_app.ui.kiosk import EXIT_RESTART, RestartWhenIdle, quit_on_signals
from pos_app.ui.main_window import AppContext, MainWindow
from pos_app.ui.theme import FONT_FAMILY

if TYPE_CHECKING:
    from pos_app.scanning.sources import FrameSource
    from pos_app.ui.wallet_window import WalletApi, WalletWindow

log = logging.getLogger(__name__)


def application() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(sys.argv[:1])
    app.setOrganizationName("pos-app")
    app.setApplicationName("pos-app")
    app.setFont(QFont(FONT_FAMILY.split(",")[0].strip('" ')))
    return app


def prefs() -> QSettings:
    return QSettings("pos-app", "cashier")


def quit_on_sigint(app: QApplication) -> QTimer:
    """Ctrl+C and SIGTERM end the event loop; a clean shutdown follows (ui/kiosk.py)."""
    return quit_on_signals(app, before_quit=lambda: None)


def build_window(
    settings: Settings,
    *,
    port: CheckoutPort,
    authenticator: Authenticator,
    camera_source: FrameSource | None,
    store_name: str = "",
    open_manager: Callable[[QWidget], None] | None = None,
    reprint: Callable[[], bool] | None = None,
    catalog: Catalog | None = None,
    settings_store: QSettings | None = None,
    kiosk: bool = False,
) -> MainWindow:
    ctx = AppContext(
        settings=settings,
        catalog=catalog or Catalog.from_dir(catalog_dir(settings.terminal.catalog_dir)),
        port=port,
        authenticator=authenticator,
        prefs=settings_store or prefs(),
        camera_source=camera_source,
        store_name=store_name,
        open_manager=open_manager,
        worker_factory=settings_worker(settings),
        kiosk=kiosk,
        reprint=reprint,
    )
    window = MainWindow(ctx)
    if settings.ui.fullscreen:
        window.showFullScreen()
    else:
        window.show()
    window.start()
    return window


def run_till(window_factory: Callable[[], MainWindow], *, watch: UpdateWatch | None = None) -> int:
    """Run the till; EXIT_RESTART when a new release waits (the caller execs it)."""
    app = application()
    window = window_factory()
    keep = quit_on_signals(app, before_quit=window.allow_close)
    restarting: list[str] = []

    def restart(version: str) -> None:
        restarting.append(version)
        window.allow_close()
        app.quit()

    updates = RestartWhenIdle(watch, idle=window.idle, restart=restart) if watch else None
    log.info("the till window is up")
    code = int(app.exec())
    window.shutdown()
    keep.stop()
    del updates
    return EXIT_RESTART if restarting else code


def _place_customer_display(window: MainWindow, wallet: QWidget) -> None:
    """In the demo the customer display is a window of its own, right of the wallet and
    kept on the screen (it may overlap the wallet, never the cashier's window)."""
    display = window.customer.display
    screen = window.screen()
    if window.customer.mode != "window" or screen is None:
        return
    area = screen.availableGeometry()
    x = min(wallet.frameGeometry().right() + 10, area.right() - display.width())
    display.move(max(x, window.frameGeometry().right() + 10), wallet.frameGeometry().top())


def run_demo_windows(
    window_factory: Callable[[], MainWindow],
    wallets: Sequence[tuple[str, WalletApi]],
    *,
    show_code: Callable[[str], None],
    tour: Callable[[MainWindow, WalletWindow], Any] | None = None,
    store_names: dict[str, str] | None = None,
    below_wallet: Callable[[MainWindow], QWidget] | None = None,
) -> int:
    """The cashier window and the customer's wallet window side by side; ``below_wallet``
    makes what the demo shows under the phone (its cables), once the till's window is up."""
    from pos_app.ui.wallet_window import WalletWindow

    app = application()
    keep = quit_on_sigint(app)
    window = window_factory()
    wallet = WalletWindow(wallets, show_code=show_code, store_names=store_names)
    if below_wallet is not None:
        wallet.add_below(below_wallet(window))
    wallet.resize(420, 820)
    geometry = window.frameGeometry()
    wallet.move(geometry.right() + 10, geometry.top())
    wallet.show()
    wallet.start()
    _place_customer_display(window, wallet)
    window.closing.connect(app.quit)
    wallet.closing.connect(app.quit)
    if tour is not None:
        QTimer.singleShot(300, lambda: tour(window, wallet))
    code = int(app.exec())
    wallet.stop()
    window.shutdown()
    keep.stop()
    return code
