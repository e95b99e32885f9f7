import re
from collections.abc import Callable

from PySide6.QtCore import QDate, QUrl
from pytestqt.qtbot import QtBot

from pos_app.terminal.audit.log import read_entries
from pos_app.terminal.reviews.queue import ReviewChoice, ReviewStatus
from pos_app.ui.manager.services import ManagerServices, PinCheck
from pos_app.ui.manager.window import ManagerWindow

from .conftest import NOW, sign_in


def column(win: ManagerWindow, col: int) -> list[str]:
    model = win.queue.model  # type: ignore[union-attr]
    return [model.index(r, col).data() for r in range(model.rowCount())]


def sale_ids(win: ManagerWindow) -> list[str]:
    return [item.sale_id for item in win.queue.model.items]  # type: ignore[union-attr]


def test_wrong_pin_keeps_the_queue_closed(
    qtbot: QtBot, services: Callable[..., ManagerServices]
) -> None:
    attempts: list[str] = []

    def check_pin(manager_id: str, pin: str) -> PinCheck:
        attempts.append(manager_id)
        return (
            PinCheck(False, locked_for_s=30)
            if len(attempts) > 1
            else PinCheck(False, attempts_left=4)
        )

    win = ManagerWindow(services(sign_in=check_pin))
    qtbot.addWidget(win)
    win.sign_in_page.manager_id.setText("M001")
    win.sign_in_page.pin.setText("0000")
    win.sign_in_page.button.click()
    qtbot.waitUntil(lambda: "Attempts left: 4" in win.sign_in_page.message.text())
    assert win.sign_in_page.pin.text() == ""  # never left on screen
    assert not sign_in(qtbot, win, "M001", "0000")
    assert "30 s" in win.sign_in_page.message.text()
    assert win.queue is None and win.stack.currentWidget() is win.sign_in_page


def test_manager_walks_the_queue_riskiest_first(window: Callable[..., ManagerWindow]) -> None:
    win = window()
    assert win.queue is not None
    numbers = column(win, 1)  # what a manager reads: store-terminal-sequence, no UUID
    assert all(re.fullmatch(r"S001-T01-\d{6}", n) for n in numbers), numbers
    assert sale_ids(win) == [
        "sale-7p-0001",
        "sale-7p-0002",
        "sale-7p-0003",
        "sale-7p-0005",
        "sale-7p-0004",
    ]
    assert column(win, 3)[0] == "¥60,000"
    assert "account takeover signs" in column(win, 5)[0]
    assert "OFFLINE LOSS" in column(win, 5)[-1]
    assert win.queue.filters.status.currentText() == "Open (5)"
    html = win.queue.detail.toPlainText()
    assert "¥60,000" in html and "S001-T01-000001" in html
    assert "sale-7p-0001" not in html  # the UUID and token internals are folded away
    detail = win.queue.detail
    detail.anchorClicked.emit(QUrl("technical"))  # "Show technical details"
    assert "sale-7p-0001" in detail.toPlainText() and detail.technical
    detail.anchorClicked.emit(QUrl("technical"))
    assert "sale-7p-0001" not in detail.toPlainText()
    assert "signs of takeover" in html and "乗っ取り" in html  # both languages of the rule
    assert "cash_convertible = 60000" in html
    assert "new device, password recently reset" in html and "w-0b6…a93e" in html
    assert "C042" in html and "No decision yet." in html
    win.queue.table.selectRow(4)
    text = win.queue.detail.toPlainText()
    assert "OFFLINE" in text and "insufficient funds" in text


def test_filters_narrow_the_queue(window: Callable[..., ManagerWindow]) -> None:
    win = window()
    f = win.queue.filters  # type: ignore[union-attr]
    f.cashier.setCurrentIndex(f.cashier.findData("C017"))
    assert sale_ids(win) == ["sale-7p-0003", "sale-7p-0004"]
    f.reason.setCurrentIndex(f.reason.findData("offline_loss"))
    assert sale_ids(win) == ["sale-7p-0004"]
    f.reset_button.click()
    f.min_total.setValue(30_000)
    assert sale_ids(win) == ["sale-7p-0001", "sale-7p-0002", "sale-7p-0003"]
    f.max_total.setValue(40_000)
    assert sale_ids(win) == ["sale-7p-0003"]
    f.reset_button.click()
    today = QDate(2026, 11, 18)
    f.since.setDate(today)
    assert sale_ids(win) == ["sale-7p-0001", "sale-7p-0002", "sale-7p-0003"]
    f.since.setDate(today.addDays(-1))
    f.until.setDate(today.addDays(-1))
    assert sale_ids(win) == ["sale-7p-0004"]
    f.until.setDate(today.addDays(-3))
    assert sale_ids(win) == [] and win.queue.empty.isVisible()  # type: ignore[union-attr]


def test_status_counts_follow_decisions(window: Callable[..., ManagerWindow]) -> None:
    win = window()
    q = win.queue
    assert q is not None
    dialog = q.start_decision(ReviewChoice.APPROVE)  # the riskiest sale is selected first
    assert dialog is not None
    dialog.note.setPlainText("owner called, confirmed it was their purchase")
    dialog.ok_button.click()
    assert q.filters.status.currentText() == "Open (4)"
    f = q.filters
    f.status.setCurrentIndex(f.status.findData(ReviewStatus.APPROVED))
    assert f.status.currentText() == "Approved (1)" and sale_ids(win) == ["sale-7p-0001"]
    f.status.setCurrentIndex(0)
    assert f.status.currentText() == "All (5)" and len(sale_ids(win)) == 5
    assert read_entries(q._s.store)[-1].detail["sale_id"] == "sale-7p-0001"


def test_japanese_screens(window: Callable[..., ManagerWindow]) -> None:
    win = window(lang="ja")
    assert win.windowTitle() == "店長レビュー"
    assert win.queue is not None
    assert win.queue.filters.status.currentText() == "未対応 (5)"
    assert "乗っ取りの兆候" in column(win, 5)[0]
    assert "アカウントに乗っ取りの兆候" in win.queue.detail.toPlainText()
    assert NOW  # the clock is the injected one: dates above follow it


def test_evidence_names_the_products_in_the_managers_language(
    window: Callable[..., ManagerWindow],
) -> None:
    from pos_app.demo.seed_reviews import CARTON

    def names(sku: str, lang: str) -> str | None:
        return CARTON.name(lang) if sku == CARTON.gtin else None

    win = window(lang="ja", product_names=names)
    assert win.queue is not None
    win.queue.select_sale("sale-7p-0001")
    text = win.queue.detail.toPlainText()
    assert CARTON.name_ja in text and CARTON.name_en not in text
