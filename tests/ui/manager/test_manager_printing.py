"""The manager window reprints a sale's receipt and prints the X report on the receipt printer."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from pos_app.terminal.printing.document import ReceiptIssuer
from pos_app.terminal.printing.printers import NetworkPrinter
from pos_app.terminal.printing.queue import PrintQueue
from pos_app.terminal.printing.render import Paper
from pos_app.terminal.printing.service import ReceiptOptions, ReceiptService
from pos_app.terminal.store.db import LocalStore
from pos_app.ui.manager.window import ManagerWindow
from tests.terminal.fake_printer import FakePrinter


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    p = FakePrinter()
    yield p
    p.close()


def _receipts(store: LocalStore, printer: FakePrinter) -> ReceiptService:
    paper = Paper.of(80)
    queue = PrintQueue(store, NetworkPrinter("127.0.0.1", printer.port, timeout_s=2), paper=paper)
    options = ReceiptOptions(lang="en", auto_print=True, paper=paper)
    issuer = ReceiptIssuer("Store Co.", "T7000012050002")
    return ReceiptService(store, queue, issuer=issuer, options=options)


def test_reprint_and_report_from_the_manager_window(
    window: Callable[..., ManagerWindow], store: LocalStore, printer: FakePrinter, qtbot: QtBot
) -> None:
    receipts = _receipts(store, printer)
    win = window(receipts=receipts)
    assert win.queue is not None and win.report is not None
    assert win.queue.reprint_button.isVisibleTo(win)
    win.queue.select_sale("sale-7p-0002")
    win.queue.reprint_button.click()
    assert "sent to the printer" in win.queue.message.text()
    assert receipts.pump() == 1
    # The fake printer keeps a job once it reads the end of the connection, on its thread.
    qtbot.waitUntil(lambda: len(printer.jobs) == 1, timeout=5000)
    text = printer.jobs[0].decode("cp932", errors="replace")
    assert "T7000012050002" in text and "Sale no." in text
    win.report.print_button.click()
    assert receipts.pump() == 1
    qtbot.waitUntil(lambda: len(printer.jobs) == 2, timeout=5000)
    report = printer.jobs[1].decode("cp932", errors="replace")
    assert "X report" in report and "Flagged" in report


def test_no_printer_buttons_without_receipts(window: Callable[..., ManagerWindow]) -> None:
    win = window()
    assert win.queue is not None and win.report is not None
    assert not win.queue.reprint_button.isVisibleTo(win)
    assert not win.report.print_button.isVisibleTo(win)
