"""Run under Xvfb (``test_customer_display_xvfb.py`` starts it): the till with a customer
monitor that is plugged, touched, unplugged and plugged back with ``xrandr``, driven with
real X key and mouse events from ``xdotool``. Prints one JSON object of observations.

The Xvfb screen is 3840x800 with one output: RandR 1.5 monitors split it into CASHIER
(x 0-1279, the output's own) and CUSTOMER (x 1280-2559, defined and deleted with
``xrandr --setmonitor/--delmonitor``); at the end a SPARE monitor (x 2560-3839) is
plugged for the manager's window. Qt sees monitors come and go (``screenAdded`` /
``screenRemoved``) as with a real cable. Limit: the framebuffer under a removed monitor
stays, so the X pointer could still reach it; the display hides itself anyway.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from pos_app.core.catalog import Catalog
from pos_app.demo.seed_reviews import seed_demo_reviews
from pos_app.demo.tour import side_by_side
from pos_app.terminal.auth import Authenticator, Role
from pos_app.terminal.checkout.types import PaymentPhase
from pos_app.terminal.settings.schema import Settings, UiSettings
from pos_app.terminal.store.db import open_store
from pos_app.ui.main_window import AppContext, MainWindow
from pos_app.ui.manager.queue_model import REASONS
from pos_app.ui.manager.services import ManagerServices, authenticator_sign_in
from pos_app.ui.manager.window import ManagerWindow, manager_opener
from tests.ui.fake_checkout import FakeCheckout

REPO = Path(__file__).resolve().parents[2]
CATALOG = Catalog.from_dir(REPO / "assets" / "catalog")
BEER = next(p for p in CATALOG if p.name_en == "Beer 350ml can")
TEA = next(p for p in CATALOG if p.name_en == "Green tea 500ml")
CUSTOMER_MONITOR = ("CUSTOMER", "1280/338x800/211+1280+0", "none")
SPARE_MONITOR = ("SPARE", "1280/338x800/211+2560+0", "none")
TILL_GEOMETRY = (20, 20, 1220, 740)


def run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True, text=True, timeout=20)


def xrandr(*args: str) -> None:
    run("xrandr", *args)


def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        QTest.qWait(30)
    return condition()


def x_focus_is(window: QWidget) -> bool:
    out = subprocess.run(["xdotool", "getwindowfocus"], capture_output=True, text=True)
    return out.stdout.strip() == str(int(window.winId()))


def typed(text: str) -> None:
    """A person at the keyboard: far slower than a scanner's burst."""
    run("xdotool", "type", "--delay", "150", text)


def keys(*names: str) -> None:
    run("xdotool", "key", "--delay", "40", *names)


def scan(code: str) -> None:
    """A keyboard-wedge scanner: digits 6 ms apart, then Enter."""
    run("xdotool", "type", "--delay", "6", code)
    run("xdotool", "key", "Return")


def touch(widget: QWidget) -> None:
    centre = widget.mapToGlobal(widget.rect().center())
    run("xdotool", "mousemove", str(centre.x()), str(centre.y()), "click", "1")


def monitors() -> None:
    """The cashier's monitor takes the left half of Xvfb's one output (so the pointer can
    still reach the right half), the customer's monitor the right half."""
    xrandr("--setmonitor", "CASHIER", "1280/338x800/211+0+0", "screen")
    xrandr("--setmonitor", *CUSTOMER_MONITOR)


def till(tmp: Path, fake: FakeCheckout) -> MainWindow:
    store = open_store(tmp)
    auth = Authenticator(store)
    auth.add_account("C042", "Sato", Role.CASHIER, "1234")
    auth.add_account("M001", "Tanaka", Role.MANAGER, "24680")
    seed_demo_reviews(store, now=int(time.time()))
    services = ManagerServices(
        store=store,
        store_id="S001",
        terminal_id="T01",
        sign_in=authenticator_sign_in(auth),
        currency="JPY",
    )
    ctx = AppContext(
        settings=Settings(ui=UiSettings(language="en", sound=False)),  # display mode "auto"
        catalog=CATALOG,
        port=fake,
        authenticator=auth,
        prefs=QSettings(str(tmp / "prefs.ini"), QSettings.Format.IniFormat),
        store_name="Demo Store Shibuya",
        open_manager=manager_opener(replace(services, lang="en")),
    )
    window = MainWindow(ctx)
    window.setGeometry(*TILL_GEOMETRY)
    window.show()
    window.activateWindow()
    wait_until(window.isActiveWindow)
    window.start()
    window.signin.user.setText("C042")
    window.signin.pin.setText("1234")
    window.signin.submit()
    wait_until(lambda: window.account is not None, 10)
    return window


def main(shots: Path | None) -> dict[str, object]:
    app = QApplication(sys.argv[:1])
    monitors()
    wait_until(lambda: len(QGuiApplication.screens()) == 2)
    seen: dict[str, object] = {"screens": [s.name() for s in QGuiApplication.screens()]}
    fake = FakeCheckout()
    window = till(Path(tempfile.mkdtemp()), fake)
    customer, display, page = window.customer, window.customer.display, window.checkout
    wait_until(display.isVisible)
    seen["attached"] = customer.attached
    seen["display_monitor"] = display.screen().name()
    seen["display_geometry"] = display.geometry().getRect()
    seen["cashier_active_after_display_shown"] = wait_until(window.isActiveWindow, 1)
    seen["x_focus_on_cashier_at_start"] = x_focus_is(window)

    scan(TEA.gtin)
    scan(BEER.gtin)
    wait_until(lambda: display.table.rowCount() == 2)
    seen["display_rows_after_scans"] = display.table.rowCount()
    keys("F12")
    seen["age_prompt"] = wait_until(lambda: display.phase is PaymentPhase.AGE_CHECK)
    seen["age_buttons_visible"] = display.age_yes.isVisible() and display.age_no.isVisible()
    if shots is not None:
        QTest.qWait(400)
        side_by_side(window, display).save(str(shots / "14-age-check-customer-display.png"))
        display.grab().save(str(shots / "15-customer-display-age-check.png"))
    touch(display.age_yes)  # the customer's finger on 「20歳以上です」
    seen["paid_after_touch"] = wait_until(
        lambda: window.flow.phase is PaymentPhase.WAITING_FOR_CODE
    )
    seen["answered_by"] = [c for c in fake.calls if c[0] == "age"]
    QTest.qWait(300)
    seen["x_focus_on_cashier_after_touch"] = x_focus_is(window)
    seen["cashier_active_after_touch"] = window.isActiveWindow()
    if shots is not None:
        display.grab().save(str(shots / "16-customer-display-show-code.png"))
    keys("Escape")  # the cashier's keys still reach the till
    seen["escape_reached_till"] = wait_until(lambda: window.flow.phase is PaymentPhase.CANCELLED)

    xrandr("--delmonitor", "CUSTOMER")  # the customer's cable comes out
    seen["detached"] = wait_until(lambda: not customer.attached)
    seen["display_hidden"] = not display.isVisible()
    seen["cashier_message"] = page.message.text()
    seen["cashier_still_active"] = wait_until(window.isActiveWindow, 1)
    keys("F12")
    wait_until(lambda: window.flow.phase is PaymentPhase.AGE_CHECK)
    seen["age_mode_without_display"] = page.payment_view.age_mode
    keys("F7")  # the cashier looked at the customer
    seen["cashier_confirmed"] = wait_until(
        lambda: window.flow.phase is PaymentPhase.WAITING_FOR_CODE
    )
    seen["answered_by"] = [c for c in fake.calls if c[0] == "age"]
    keys("Escape")
    wait_until(lambda: window.flow.phase is PaymentPhase.CANCELLED)

    xrandr("--setmonitor", *CUSTOMER_MONITOR)  # plugged back in
    seen["reattached"] = wait_until(lambda: customer.attached and display.isVisible())
    seen["display_monitor_again"] = display.screen().name()
    seen["cashier_active_at_end"] = wait_until(window.isActiveWindow, 1)
    seen["x_focus_on_cashier_at_end"] = x_focus_is(window)
    seen.update(manager_beside_the_till(window, shots))
    window.close()
    app.processEvents()
    return seen


def opened_manager(window: MainWindow) -> ManagerWindow:
    keys("ctrl+m")
    wait_until(lambda: bool(window.findChildren(ManagerWindow)))
    manager = window.findChildren(ManagerWindow)[0]
    wait_until(lambda: manager.isVisible() and manager.isActiveWindow())
    QTest.qWait(200)
    return manager


def manager_beside_the_till(window: MainWindow, shots: Path | None) -> dict[str, object]:
    """Ctrl+M with the till, the customer display and no spare monitor; then with one."""
    seen: dict[str, object] = {}
    display, basket = window.customer.display, window.checkout.basket_view.basket
    manager = opened_manager(window)
    seen["manager_monitor"] = manager.screen().name()
    seen["manager_over_till"] = manager.frameGeometry().intersects(window.frameGeometry())
    seen["manager_over_display"] = manager.frameGeometry().intersects(display.frameGeometry())
    seen["till_while_shared"] = window.frameGeometry().getRect()
    pay = window.checkout.basket_view.buttons["pay"]
    seen["till_pay_visible"] = not pay.visibleRegion().isEmpty()
    touch(manager.sign_in_page.manager_id)
    before = basket.item_count
    scan(TEA.gtin)  # a customer's tea, scanned while the manager has the keyboard
    seen["scan_reached_basket"] = wait_until(lambda: basket.item_count == before + 1)
    seen["manager_id_after_scan"] = manager.sign_in_page.manager_id.text()
    typed("M001")
    keys("Tab")
    typed("24680")
    keys("Return")
    seen["manager_signed_in"] = wait_until(lambda: manager.queue is not None, 20)
    queue = manager.queue
    assert queue is not None
    QTest.qWait(300)
    header = queue.table.horizontalHeader()
    cell = queue.model.index(0, REASONS)
    seen["reason_width"] = header.sectionSize(REASONS)
    seen["reason_text"] = queue.model.data(cell)
    seen["reason_tooltip"] = queue.model.data(cell, 3)  # Qt.ItemDataRole.ToolTipRole
    seen["reason_visible"] = (
        not queue.table.visualRect(cell).intersected(queue.table.viewport().rect()).isEmpty()
    )
    seen["manager_over_till_signed_in"] = manager.frameGeometry().intersects(window.frameGeometry())
    if shots is not None:
        cashier_monitor = window.screen()  # the X server's pixels, both windows as drawn
        cashier_monitor.grabWindow(0).save(str(shots / "17-manager-beside-till.png"))
    keys("Escape")  # the manager leaves; the till gets its place back
    wait_until(lambda: not window.findChildren(ManagerWindow))
    QTest.qWait(200)
    seen["till_after_manager"] = window.geometry().getRect()

    seen["till_active_after_manager"] = window.isActiveWindow()
    # Without a window manager nobody hands the focus back to the till: the cashier's click.
    window.activateWindow()
    wait_until(window.isActiveWindow)
    xrandr("--setmonitor", *SPARE_MONITOR)  # a monitor for the back office
    wait_until(lambda: len(QGuiApplication.screens()) == 3)
    manager = opened_manager(window)
    seen["manager_monitor_with_spare"] = manager.screen().name()
    seen["till_with_spare"] = window.geometry().getRect()
    keys("Escape")
    wait_until(lambda: not window.findChildren(ManagerWindow))
    return seen


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)), flush=True)
