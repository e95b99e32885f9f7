"""Flagged sales per hour over the last 7 days, and per reason, painted by hand.

Painting keeps it to one small widget with no extra dependency, and the same
picture on screen, in screenshots and in tests.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from pos_app.terminal.shift_report import FlagStats
from pos_app.ui.manager.texts import reason_label, t

BAR = QColor("#c0392b")
GRID = QColor("#dddddd")
TEXT = QColor("#333333")
TOP_REASONS = 6


class FlagsChart(QWidget):
    def __init__(self, *, lang: str, tz: tzinfo) -> None:
        super().__init__()
        self._lang, self._tz = lang, tz
        self.stats: FlagStats | None = None
        self.setMinimumSize(480, 360)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_stats(self, stats: FlagStats) -> None:
        self.stats = stats
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("white"))
        stats = self.stats
        if stats is None or stats.total == 0:
            painter.setPen(TEXT)
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, t("chart_empty", self._lang)
            )
            return
        width, height = float(self.width()), float(self.height())
        title = QFont(self.font())
        title.setBold(True)
        painter.setFont(title)
        painter.setPen(TEXT)
        painter.drawText(
            QRectF(12, 6, width - 24, 22), t("chart_title", self._lang, total=stats.total)
        )
        painter.setFont(self.font())
        hours_area = QRectF(44, 40, width - 60, height * 0.5 - 60)
        self._hours(painter, stats, hours_area)
        # Below the hour bars: their date labels, a gap, then the reasons' heading and bars.
        reasons_area = QRectF(12, height * 0.5 + 36, width - 24, height * 0.5 - 46)
        self._reasons(painter, stats, reasons_area)

    def _hours(self, p: QPainter, stats: FlagStats, area: QRectF) -> None:
        peak = max(stats.per_hour) or 1
        slot = area.width() / len(stats.per_hour)
        p.setPen(QPen(GRID))
        for level in sorted({0, peak // 2, peak}):
            y = area.bottom() - area.height() * level / peak
            p.drawLine(int(area.left()), int(y), int(area.right()), int(y))
            p.setPen(TEXT)
            p.drawText(
                QRectF(0, y - 8, area.left() - 6, 16), Qt.AlignmentFlag.AlignRight, str(level)
            )
            p.setPen(QPen(GRID))
        for n, start in enumerate(stats.hour_starts):
            x = area.left() + n * slot
            local = datetime.fromtimestamp(start, self._tz)
            if local.hour == 0:  # a line and a date at each midnight
                p.setPen(QPen(GRID))
                p.drawLine(int(x), int(area.top()), int(x), int(area.bottom()))
                p.setPen(TEXT)
                p.drawText(QRectF(x + 2, area.bottom() + 2, 60, 16), local.strftime("%m/%d"))
            count = stats.per_hour[n]
            if count:
                bar = area.height() * count / peak
                p.fillRect(QRectF(x, area.bottom() - bar, max(slot - 1, 1.5), bar), BAR)

    def _reasons(self, p: QPainter, stats: FlagStats, area: QRectF) -> None:
        p.setPen(TEXT)
        bold = QFont(self.font())
        bold.setBold(True)
        p.setFont(bold)
        p.drawText(
            QRectF(area.left(), area.top() - 22, area.width(), 18), t("chart_reasons", self._lang)
        )
        p.setFont(self.font())
        top = stats.per_reason[:TOP_REASONS]
        peak = max(count for _, count in top)
        row = min(26.0, area.height() / max(len(top), 1))
        label_w = area.width() * 0.35
        for n, (code, count) in enumerate(top):
            y = area.top() + n * row
            p.setPen(TEXT)
            p.drawText(
                QRectF(area.left(), y, label_w - 8, row - 4),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                reason_label(code, self._lang),
            )
            bar_w = (area.width() - label_w - 40) * count / peak
            p.fillRect(QRectF(area.left() + label_w, y + 3, bar_w, row - 10), BAR)
            p.drawText(
                QRectF(area.left() + label_w + bar_w + 6, y, 40, row - 4),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                str(count),
            )
