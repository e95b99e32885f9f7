import csv
import subprocess
from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from pos_app.core.i18n import placeholders
from pos_app.terminal.audit.log import AuditAction, read_entries
from pos_app.terminal.reviews.queue import ReviewChoice
from pos_app.terminal.store.db import LocalStore
from pos_app.ui.manager.texts import TEXTS, t
from pos_app.ui.manager.window import ManagerWindow

from .conftest import NOW


def pdf_text(path: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_filtered_queue_to_csv(
    window: Callable[..., ManagerWindow], saved: dict[str, Path], store: LocalStore
) -> None:
    win = window()
    assert win.queue is not None
    f = win.queue.filters
    f.cashier.setCurrentIndex(f.cashier.findData("C017"))
    win._export_clicked()  # the toolbar action; the path comes from the injected dialog
    rows = list(csv.DictReader(saved["csv"].read_text(encoding="utf-8-sig").splitlines()))
    assert [r["sale_id"] for r in rows] == ["sale-7p-0003", "sale-7p-0004"]
    assert rows[1]["reasons"] == "insufficient_funds offline_loss"
    assert rows[0]["total"] == "30140" and rows[0]["wallet"] == "w-71c…0f12"
    entry = read_entries(store)[-1]
    assert entry.action == AuditAction.EXPORTED and entry.detail["rows"] == 2
    assert "Saved" in win.queue.message.text()


def test_x_report_on_screen_and_as_pdf(
    window: Callable[..., ManagerWindow], saved: dict[str, Path], store: LocalStore
) -> None:
    win = window()
    assert win.report is not None and win.queue is not None
    win.queue.select_sale("sale-7p-0002")
    dialog = win.queue.start_decision(ReviewChoice.REJECT)
    assert dialog is not None
    dialog.note.setPlainText("pick-up-later cartridges, rotating wallets")
    dialog.ok_button.click()
    page = win.report
    page.since.setDate(page.since.date().addDays(-1))
    report = page.show_x()
    assert report.kind == "X" and report.flagged_count == 4
    screen = page.view.toPlainText()
    assert "X report (shift so far)" in screen and "¥30,140" in screen
    page._pdf_clicked()
    text = pdf_text(saved["pdf"])
    assert "X report (shift so far)" in text
    assert "Store: S001" in text
    for words in (
        "Sales",
        "Wallet-paid (confirmed)",
        "Offline losses",
        "Flagged by reason",
        "account takeover signs (takeover_token_flags)",
        "OFFLINE LOSS (offline_loss)",
        "30,140",
        "12,300",
        "Reject",
    ):
        assert words in text, words
    assert read_entries(store)[-1].detail["what"] == "shift_report_X_pdf"


def test_z_report_closes_the_shift(
    window: Callable[..., ManagerWindow], saved: dict[str, Path], store: LocalStore
) -> None:
    win = window(lang="ja")
    assert win.report is not None
    win.report.z_button.click()  # the confirmation is injected: yes
    assert win.report.report is not None and win.report.report.kind == "Z"
    assert read_entries(store)[-1].action == AuditAction.SHIFT_CLOSED
    win.report.save_pdf(saved["pdf"])
    text = pdf_text(saved["pdf"])
    assert "Zレポート（締め）" in text and "オフライン損失" in text and "12,300" in text


def test_flags_chart_last_7_days(qtbot: QtBot, window: Callable[..., ManagerWindow]) -> None:
    win = window()
    assert win.chart is not None
    win.tabs.setCurrentWidget(win.chart)
    stats = win.chart.stats
    assert stats is not None and stats.total == 5 and len(stats.per_hour) == 168
    assert stats.hour_starts[-1] <= NOW
    image = win.chart.grab().toImage()
    reds = sum(
        1
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
        if image.pixelColor(x, y) == QColor("#c0392b")
    )
    assert reds > 20  # bars were painted


def test_every_text_has_both_languages() -> None:
    for key in TEXTS:
        en, ja = t(key, "en"), t(key, "ja")
        assert en.strip() and ja.strip(), key
        assert placeholders(en) == placeholders(ja), key
