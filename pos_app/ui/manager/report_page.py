"""Shift report (X: read, Z: close the shift) on screen and as a PDF, with Qt's own printing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from html import escape
from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QFont, QPageLayout, QPageSize, QPdfWriter, QTextDocument
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from pos_app.terminal.audit.log import AuditAction, append_audit
from pos_app.terminal.shift_report import ShiftReport, close_shift, compute_report
from pos_app.ui.manager.filters import date_edit, start_of
from pos_app.ui.manager.formatting import when, yen
from pos_app.ui.manager.services import ManagerServices
from pos_app.ui.manager.texts import reason_label, t


class ReportPage(QWidget):
    def __init__(self, services: ManagerServices, *, manager_id: str) -> None:
        super().__init__()
        self._s = services
        self._manager = manager_id
        lang = services.lang
        today = datetime.fromtimestamp(services.now(), services.tz).date()
        self.since = date_edit(today)
        self.until = date_edit(today)
        self.x_button = QPushButton(t("show_x", lang))
        self.z_button = QPushButton(t("close_z", lang))
        self.pdf_button = QPushButton(t("save_pdf", lang))
        self.print_button = QPushButton(t("print_report", lang))
        self.print_button.setVisible(services.receipts is not None)
        self.view = QTextBrowser()
        self.message = QLabel()
        self.report: ShiftReport | None = None
        layout = QVBoxLayout(self)
        # Dates, then actions: two short rows fit a window sharing the till's monitor.
        for widgets in (
            (QLabel(t("from", lang)), self.since, QLabel(t("to", lang)), self.until),
            (self.x_button, self.z_button, self.pdf_button, self.print_button),
        ):
            row = QHBoxLayout()
            for widget in widgets:
                row.addWidget(widget)
            row.addStretch(1)
            layout.addLayout(row)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)
        self.x_button.clicked.connect(self.show_x)
        self.z_button.clicked.connect(self._z_clicked)
        self.pdf_button.clicked.connect(self._pdf_clicked)
        self.print_button.clicked.connect(self.print_report)
        self.show_x()

    def show_x(self) -> ShiftReport:
        since = start_of(self.since.date(), self._s.tz)
        until = min(start_of(self.until.date().addDays(1), self._s.tz), self._s.now() + 1)
        return self._show(compute_report(self._s.store, self._s.store_id, since=since, until=until))

    def close_shift(self) -> ShiftReport:
        report = close_shift(
            self._s.store, self._s.store_id, manager_id=self._manager, now=self._s.now()
        )
        return self._show(report)

    def save_pdf(self, path: Path) -> None:
        if self.report is None:
            self.show_x()
        assert self.report is not None
        write_pdf(self.html(), path)
        append_audit(
            self._s.store,
            at=self._s.now(),
            actor=self._manager,
            action=AuditAction.EXPORTED,
            detail={
                "what": f"shift_report_{self.report.kind}_pdf",
                "file": path.name,
                "since": self.report.since,
                "until": self.report.until,
            },
        )
        self.message.setText(t("exported", self._s.lang, path=str(path)))

    def print_report(self) -> None:
        """The X/Z report on the receipt printer, queued like a receipt (never blocks)."""
        if self._s.receipts is None:
            return
        if self.report is None:
            self.show_x()
        assert self.report is not None
        title, pairs = report_pairs(self.report, lang=self._s.lang, tz=self._s.tz)
        self._s.receipts.print_report(title, pairs)
        self.message.setText(t("report_queued", self._s.lang))

    def html(self) -> str:
        assert self.report is not None
        return render_report(self.report, lang=self._s.lang, tz=self._s.tz, printed=self._s.now())

    def _show(self, report: ShiftReport) -> ShiftReport:
        self.report = report
        self.view.setHtml(self.html())
        return report

    def _z_clicked(self) -> None:
        if self._s.confirm(self, t("confirm_z", self._s.lang)):
            self.close_shift()

    def _pdf_clicked(self) -> None:
        kind = self.report.kind if self.report else "X"
        stamp = datetime.fromtimestamp(self._s.now(), self._s.tz).strftime("%Y%m%d-%H%M")
        name = f"shift-{kind}-{self._s.store_id}-{self._s.terminal_id}-{stamp}.pdf"
        chosen = self._s.ask_path(self, name, "PDF (*.pdf)")
        if chosen:
            self.save_pdf(Path(chosen))


def write_pdf(html: str, path: Path) -> None:
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter)
    writer.setTitle(path.stem)
    writer.setCreator("pos-app")
    doc = QTextDocument()
    font = QFont(doc.defaultFont())
    for tag in ("liga", "clig"):  # "fi"/"ffl" ligatures make the PDF's text unsearchable
        font.setFeature(QFont.Tag(tag), 0)
    doc.setDefaultFont(font)
    doc.setHtml(html)
    doc.print_(writer)


def _e(value: object) -> str:
    return escape(str(value))


def _row(label: str, count: object, value: int | None = None) -> str:
    amount = _e(yen(value)) if value is not None else ""
    cells = f"<td>{_e(label)}</td><td align='right'>{_e(count)}</td>"
    return f"<tr>{cells}<td align='right'>{amount}</td></tr>"


def _counts(
    title: str, pairs: tuple[tuple[str, int], ...], *, lang: str, label: Callable[[str], str] = str
) -> str:
    body = "".join(_row(label(k), v) for k, v in pairs) or _row(t("none", lang), "")
    return f"<h3>{_e(title)}</h3><table width='60%'>{body}</table>"


def report_pairs(r: ShiftReport, *, lang: str, tz: tzinfo) -> tuple[str, list[tuple[str, str]]]:
    """The report as label/value lines for the receipt printer (the same figures as the page)."""
    last = r.until - 1 if r.until > r.since else r.until
    title = t("z_report" if r.kind == "Z" else "x_report", lang)
    pairs = [
        (t("store", lang), r.store_id),
        (t("period", lang), f"{when(r.since, tz) if r.since else '—'} –"),
        ("", when(last, tz)),
        (t("sales", lang), f"{r.sales_count}  {yen(r.sales_value)}"),
        (t("wallet_paid", lang), yen(r.wallet_paid_value)),
        (t("declined", lang), str(r.declined_count)),
        (t("flagged", lang), str(r.flagged_count)),
        (t("voids", lang), f"{r.voids_count}  {yen(r.voids_value)}"),
        (t("offline_sales", lang), f"{r.offline_count}  {yen(r.offline_value)}"),
        (t("offline_losses", lang), f"{r.offline_losses_count}  {yen(r.offline_losses_value)}"),
    ]
    pairs += [(reason_label(code, lang), str(n)) for code, n in r.flagged_by_reason]
    pairs += [(f"{t('approvals_by_manager', lang)} {m}", str(n)) for m, n in r.approvals_by_manager]
    return title, pairs


def render_report(r: ShiftReport, *, lang: str, tz: tzinfo, printed: int) -> str:
    last = r.until - 1 if r.until > r.since else r.until
    title = t("z_report" if r.kind == "Z" else "x_report", lang)
    since = when(r.since, tz) if r.since else "—"
    head = (
        f"<h2>{_e(title)}</h2><p>{_e(t('store', lang))}: <b>{_e(r.store_id)}</b> &nbsp; "
        f"{_e(t('period', lang))}: <b>{_e(since)} – {_e(when(last, tz))}</b><br>"
        f"{_e(t('printed', lang))}: {_e(when(printed, tz))}</p>"
    )
    totals = "".join(
        (
            f"<tr><th></th><th align='right'>{_e(t('count', lang))}</th>"
            f"<th align='right'>{_e(t('value', lang))}</th></tr>",
            _row(t("sales", lang), r.sales_count, r.sales_value),
            _row(t("wallet_paid", lang), "", r.wallet_paid_value),
            _row(t("declined", lang), r.declined_count),
            _row(t("flagged", lang), r.flagged_count),
            _row(t("voids", lang), r.voids_count, r.voids_value),
            _row(t("offline_sales", lang), r.offline_count, r.offline_value),
            _row(t("offline_losses", lang), r.offline_losses_count, r.offline_losses_value),
        )
    )
    return (
        head
        + f"<table width='60%' cellpadding='3'>{totals}</table>"
        + _counts(
            t("flagged_by_reason", lang),
            r.flagged_by_reason,
            lang=lang,
            label=lambda code: f"{reason_label(code, lang)} ({code})",
        )
        + _counts(t("approvals_by_manager", lang), r.approvals_by_manager, lang=lang)
        + _counts(t("decisions", lang), r.decisions, lang=lang, label=lambda d: t(d, lang))
    )
