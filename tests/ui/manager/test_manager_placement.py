"""The manager window never covers the till: a monitor of its own, else the free part of
the till's monitor, else the monitor is shared and the till keeps its basket, state panel
and pay controls in view (the real windows under Xvfb: ``test_manager_window_xvfb.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QRect, QSize, Qt
from pytestqt.qtbot import QtBot

from pos_app.terminal.settings.schema import Settings, UiSettings
from pos_app.ui.manager import placement
from pos_app.ui.manager.placement import MIN_SIZE, Monitor, plan
from pos_app.ui.manager.queue_model import REASONS
from pos_app.ui.manager.queue_page import REASON_MIN_WIDTH
from pos_app.ui.manager.services import ManagerServices
from pos_app.ui.manager.window import ManagerWindow, manager_opener

from ..helpers import MakeWindow, sign_in
from .conftest import sign_in as msign

FULL_HD = Monitor(QRect(0, 0, 1920, 1080), QRect(0, 0, 1920, 1040))
RIGHT = Monitor(QRect(1920, 0, 1280, 800), QRect(1920, 0, 1280, 800))
FAR_RIGHT = Monitor(QRect(3200, 0, 1280, 800), QRect(3200, 0, 1280, 800))
SMALL = Monitor(QRect(0, 0, 1280, 800), QRect(0, 0, 1280, 800))
TILL = QRect(0, 0, 1920, 1040)  # full screen


def test_a_spare_monitor_gets_the_manager_window() -> None:
    placed = plan([FULL_HD, RIGHT], till=TILL)
    assert placed.till is None
    assert RIGHT.available.contains(placed.manager)
    assert placed.manager.size() == QSize(1280, 800)


def test_the_customer_display_monitor_is_never_used() -> None:
    display = RIGHT.geometry
    placed = plan([FULL_HD, RIGHT, FAR_RIGHT], till=TILL, customer=display)
    assert FAR_RIGHT.available.contains(placed.manager)
    shared = plan([FULL_HD, RIGHT], till=TILL, customer=display)
    assert not shared.manager.intersects(display)
    assert FULL_HD.available.contains(shared.manager)


def test_a_till_with_room_beside_it_keeps_its_place() -> None:
    till = QRect(0, 0, 1100, 1040)
    placed = plan([FULL_HD], till=till)
    assert placed.till is None
    assert not placed.manager.intersects(till)
    assert FULL_HD.available.contains(placed.manager)
    assert placed.manager.width() >= MIN_SIZE.width()


def test_a_full_screen_till_on_the_only_monitor_shares_it() -> None:
    placed = plan([FULL_HD], till=TILL, till_min_width=900)
    assert placed.till is not None
    assert not placed.manager.intersects(placed.till)
    assert placed.till.width() >= 900  # basket, state panel and pay controls
    assert placed.manager.united(placed.till) == FULL_HD.available  # no pixel wasted


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_opened_manager_window_does_not_cover_the_till(
    qtbot: QtBot,
    make_window: MakeWindow,
    services: Callable[..., ManagerServices],
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
) -> None:
    # Qt's offscreen screen is 800 px wide, smaller than any till's; a 1280x800 monitor
    # (the smallest the till is sold with) is what the placement sees.
    monkeypatch.setattr(placement, "monitors", lambda: [SMALL])
    settings = Settings(ui=UiSettings(language=lang, sound=False))
    cashier = make_window(settings=settings, open_manager=manager_opener(services(lang=lang)))
    sign_in(qtbot, cashier)
    area = SMALL.available
    cashier.setGeometry(area)  # the till fills its monitor
    before = cashier.geometry()
    cashier.open_manager()
    (manager,) = cashier.findChildren(ManagerWindow)
    qtbot.waitUntil(manager.isVisible, timeout=3000)
    assert not manager.frameGeometry().intersects(cashier.frameGeometry())
    pay = cashier.checkout.payment_view
    assert cashier.checkout.basket_view.table.visibleRegion().boundingRect().width() > 200
    assert pay.visibleRegion().boundingRect().width() > 200
    assert area.contains(manager.frameGeometry())
    assert manager.width() >= 480  # and the manager has room to work
    manager.show()
    assert msign(qtbot, manager, "M001", "2468")  # signed in: its pages are wider
    qtbot.wait(50)
    assert not manager.frameGeometry().intersects(cashier.frameGeometry())
    assert manager.queue is not None
    reasons = manager.queue.table.horizontalHeader().sectionSize(REASONS)
    assert reasons >= REASON_MIN_WIDTH
    manager.close()
    qtbot.waitUntil(lambda: cashier.size() == before.size(), timeout=3000)  # its place back


@pytest.mark.parametrize("width", [1280, 700])
def test_the_reasons_column_is_readable_and_says_all_in_its_tooltip(
    qtbot: QtBot, window: Callable[..., ManagerWindow], width: int
) -> None:
    manager = window()
    manager.resize(width, 800)
    qtbot.wait(50)
    queue = manager.queue
    assert queue is not None
    table, header = queue.table, queue.table.horizontalHeader()
    assert header.visualIndex(REASONS) == 2  # right after when and which sale
    assert header.sectionSize(REASONS) >= REASON_MIN_WIDTH
    assert table.textElideMode() == Qt.TextElideMode.ElideRight
    row = next(
        n for n, item in enumerate(queue.model.items) if len(item.reasons) > 1
    )  # a sale flagged for two reasons
    cell = queue.model.index(row, REASONS)
    words = queue.model.data(cell)
    tip = queue.model.data(cell, Qt.ItemDataRole.ToolTipRole)
    assert tip.splitlines() == [w.strip() for w in words.split(",")]
    assert all("_" not in line for line in tip.splitlines())  # names, not codes
    table.scrollTo(cell)
    shown = table.visualRect(cell).intersected(table.viewport().rect())
    assert shown.width() >= min(REASON_MIN_WIDTH - 1, table.viewport().width() // 2)  # - grid
