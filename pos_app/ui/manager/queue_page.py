"""The review queue: filters, the flagged sales, the evidence, and the four decisions."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QEvent, QItemSelection, QObject, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QGridLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.errors import PosError
from pos_app.terminal.audit.log import AuditAction, append_audit
from pos_app.terminal.manager_keys import ManagerSigner
from pos_app.terminal.reviews import claims as reviews_claims
from pos_app.terminal.reviews import queue as reviews
from pos_app.terminal.reviews.detail import load_detail
from pos_app.terminal.reviews.export import queue_csv
from pos_app.terminal.reviews.queue import ClaimedByOther, Decision, QueueItem
from pos_app.ui.manager.decision_dialog import DecisionDialog
from pos_app.ui.manager.detail import DetailPane
from pos_app.ui.manager.filters import FilterBar
from pos_app.ui.manager.formatting import when
from pos_app.ui.manager.queue_model import REASONS, QueueModel
from pos_app.ui.manager.services import ManagerServices
from pos_app.ui.manager.texts import t
from pos_app.ui.tasks import TaskManager

_BUTTON_STYLE = {
    Decision.APPROVE: "background: #e3f4e6;",
    Decision.REJECT: "background: #f2f2f2;",
    Decision.ESCALATE: "background: #fff4d6;",
    Decision.CONFIRMED_FRAUD: "background: #fde2e1; color: #b00020; font-weight: bold;",
}


class QueuePage(QWidget):
    decided = Signal(str)  # sale id, after a decision is recorded
    dialog_opened = Signal(object)  # the DecisionDialog, once the claim is held

    def __init__(
        self,
        services: ManagerServices,
        *,
        manager_id: str,
        tasks: TaskManager | None = None,
        signer: ManagerSigner | None = None,
    ) -> None:
        super().__init__()
        self._s = services
        self._manager = manager_id
        self._signer = signer  # ManagerSigner: signs decisions for the backend (or None)
        self._tasks = tasks
        lang = services.lang
        today = datetime.fromtimestamp(services.now(), services.tz).date()
        self.filters = FilterBar(lang=lang, tz=services.tz, today=today)
        self.model = QueueModel(lang=lang, tz=services.tz)
        self.table = _table(self.model)
        self.detail = DetailPane(lang=lang, tz=services.tz)
        self.empty = QLabel(t("empty_queue", lang))
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.buttons = {d: QPushButton(t(d.value, lang)) for d in Decision}
        self.reprint_button = QPushButton(t("reprint", lang))
        self.reprint_button.setVisible(services.receipts is not None)
        self.reprint_button.clicked.connect(self.reprint_selected)
        self._layout()
        self.filters.changed.connect(self.refresh)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        for decision, button in self.buttons.items():
            button.setStyleSheet(_BUTTON_STYLE[decision])
            button.clicked.connect(lambda _=False, d=decision: self.start_decision(d))
        self.refresh()

    def _layout(self) -> None:
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.table)
        column.addWidget(self.empty)
        right = QWidget()
        pane = QVBoxLayout(right)
        pane.setContentsMargins(0, 0, 0, 0)
        pane.addWidget(self.detail, 1)
        self._decisions = QGridLayout()
        for n, button in enumerate(self.buttons.values()):
            button.setMinimumHeight(40)
            self._decisions.addWidget(button, 0, n)
        pane.addLayout(self._decisions)
        pane.addWidget(self.reprint_button, 0, Qt.AlignmentFlag.AlignLeft)
        pane.addWidget(self.message)
        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([760, 600])  # the reasons column must stay readable
        layout = QVBoxLayout(self)
        layout.addWidget(self.filters)
        layout.addWidget(splitter, 1)

    def resizeEvent(self, event: QResizeEvent) -> None:
        # Beside the till on a shared monitor: the evidence goes under the queue, the
        # filters take two per row and the four decisions two rows.
        narrow = event.size().width() < NARROW
        want = Qt.Orientation.Vertical if narrow else Qt.Orientation.Horizontal
        if self.splitter.orientation() != want:
            self.splitter.setOrientation(want)
            self.splitter.setSizes([1, 1] if narrow else [760, 600])  # evidence half the height
            self.filters.set_columns(2 if narrow else 3)
            per_row = 2 if narrow else len(self.buttons)
            for n, button in enumerate(self.buttons.values()):
                self._decisions.removeWidget(button)
                self._decisions.addWidget(button, *divmod(n, per_row))
        super().resizeEvent(event)

    # queue -------------------------------------------------------------------------

    def refresh(self) -> None:
        keep = self.selected_sale()
        store, store_id = self._s.store, self._s.store_id
        everything = reviews.load_queue(store, store_id)
        self.filters.set_choices(
            reasons=reviews.known_reasons(everything),
            cashiers=sorted({i.cashier_id for i in everything}),
        )
        flt = self.filters.current()
        self.filters.set_counts(reviews.status_counts(store, store_id, flt=flt))
        self.model.set_items(reviews.load_queue(store, store_id, flt=flt))
        self.empty.setVisible(self.model.rowCount() == 0)
        row = self.model.row_of(keep) if keep else None
        if row is None and self.model.rowCount():
            row = 0
        if row is None:
            self.detail.show_empty()
            self._enable(False)
        else:
            self.table.selectRow(row)
            self._show(self.model.item_at(row))

    def reprint_selected(self) -> None:
        """The selected sale's receipt again, from what this till recorded of it."""
        sale_id, receipts = self.selected_sale(), self._s.receipts
        if sale_id is None or receipts is None:
            return
        try:
            receipts.reprint(sale_id)
        except PosError as exc:
            self.message.setText(t("print_failed", self._s.lang, why=exc.message))
            return
        self.message.setText(t("reprint_queued", self._s.lang, sale=sale_id))

    def selected_sale(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.item_at(rows[0].row()).sale_id if rows else None

    def select_sale(self, sale_id: str) -> None:
        row = self.model.row_of(sale_id)
        if row is not None:
            self.table.selectRow(row)

    def visible_items(self) -> list[QueueItem]:
        return self.model.items

    def _selected(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self._show(self.model.item_at(rows[0].row()))

    def _show(self, item: QueueItem) -> None:
        names, lang = self._s.product_names, self._s.lang
        product_name = (lambda sku: names(sku, lang)) if names else None
        self.detail.show_detail(load_detail(self._s.store, item.sale_id, product_name=product_name))
        # Buttons off while another manager holds the sale (the pane says who); the
        # claim itself is still checked atomically when a decision starts.
        held_by_other = (
            item.claimed_by not in (None, self._manager)
            and (item.claimed_at or 0) >= self._s.now() - reviews.CLAIM_STALE_S
        )
        self._enable(not held_by_other)

    def _enable(self, on: bool) -> None:
        for button in self.buttons.values():
            button.setEnabled(on)

    # decisions ---------------------------------------------------------------------

    def start_decision(self, decision: Decision) -> DecisionDialog | None:
        """Claim the sale, ask for the note (modal), record; returns the dialog it opened.

        With a backend for claims the claim is a network call: it runs off the GUI
        thread and the dialog arrives later through ``dialog_opened`` (None returned).
        """
        sale_id = self.selected_sale()
        if sale_id is None:
            return None
        claims, store, now = self._s.claims, self._s.store, self._s.now()
        if claims is None or self._tasks is None:
            held = reviews.claim(store, sale_id, manager_id=self._manager, now=now)
            return self._claim_done(decision, sale_id, held)

        def claimed(held: reviews.ClaimResult) -> None:
            self._claim_done(decision, sale_id, held)

        self._enable(False)
        # The same lane as the backend sync: this till's database work stays serial.
        self._tasks.run(
            lambda: reviews_claims.claim(store, claims, sale_id, manager_id=self._manager, now=now),
            on_success=claimed,
            on_failure=self._claim_failed,
        )
        return None

    def _claim_done(
        self, decision: Decision, sale_id: str, held: reviews.ClaimResult
    ) -> DecisionDialog | None:
        if not held.ok:
            self._claimed(sale_id, held.claimed_by, held.claimed_at)
            return None
        self._enable(True)
        row = self.model.row_of(sale_id)
        number = sale_id if row is None else self.model.item_at(row).number
        dialog = DecisionDialog(decision, number, lang=self._s.lang, parent=self)
        dialog.finished.connect(lambda result: self._finish(dialog, sale_id, result))
        dialog.open()
        self.dialog_opened.emit(dialog)
        return dialog

    def _claim_failed(self, exc: BaseException) -> None:
        self._enable(True)
        self.message.setStyleSheet("color: #b00020; font-weight: bold;")
        self.message.setText(exc.message if isinstance(exc, PosError) else str(exc))

    def _finish(self, dialog: DecisionDialog, sale_id: str, result: int) -> None:
        if result != QDialog.DialogCode.Accepted:
            self._release(sale_id)
            return
        try:
            reviews.decide(
                self._s.store,
                sale_id,
                decision=dialog.decision,
                manager_id=self._manager,
                note=dialog.note_text(),
                now=self._s.now(),
                signer=self._signer,
            )
        except ClaimedByOther as exc:  # taken over after our claim went stale
            self._claimed(sale_id, exc.claimed_by, exc.claimed_at)
            return
        label = t(dialog.decision.value, self._s.lang)
        self.message.setStyleSheet("color: #1b5e20;")
        self.message.setText(t("decided", self._s.lang, decision=label, sale=sale_id))
        self.refresh()
        self.decided.emit(sale_id)

    def forget_key(self) -> None:
        self._signer = None

    def _release(self, sale_id: str) -> None:
        store, claims, now = self._s.store, self._s.claims, self._s.now()
        reviews.release(store, sale_id, manager_id=self._manager, now=now)
        self.refresh()
        if claims is not None and self._tasks is not None:  # best effort; it lapses anyway
            self._tasks.run(
                lambda: reviews_claims.release(
                    store, claims, sale_id, manager_id=self._manager, now=now
                )
            )

    def _claimed(self, sale_id: str, manager: str, at: int) -> None:
        self.message.setStyleSheet("color: #b00020; font-weight: bold;")
        self.message.setText(
            t("claimed_by_other", self._s.lang, manager=manager, time=when(at, self._s.tz))
        )
        self.refresh()
        self.select_sale(sale_id)

    # export ------------------------------------------------------------------------

    def export_csv(self, path: Path) -> None:
        items = self.visible_items()
        path.write_text(queue_csv(items), encoding="utf-8-sig")  # Excel reads UTF-8 BOM
        append_audit(
            self._s.store,
            at=self._s.now(),
            actor=self._manager,
            action=AuditAction.EXPORTED,
            detail={"what": "review_queue_csv", "rows": len(items), "file": path.name},
        )
        self.message.setStyleSheet("")
        self.message.setText(t("exported", self._s.lang, path=str(path)))


NARROW = 900  # px: narrower than this, the queue and the evidence stack
REASON_MIN_WIDTH = 240  # about two reason names; longer lists elide, the tooltip has all


def _table(model: QueueModel) -> QTableView:
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(REASONS, QHeaderView.ResizeMode.Interactive)
    header.moveSection(REASONS, 2)  # why, right after when and which sale: seen first
    _ReasonWidth(table)
    return table


class _ReasonWidth(QObject):
    """The reasons column takes the table's spare width but never less than
    ``REASON_MIN_WIDTH`` (a stretched column shrinks to nothing in a narrow window;
    here the table scrolls sideways instead)."""

    def __init__(self, table: QTableView) -> None:
        super().__init__(table)
        self._table = table
        table.viewport().installEventFilter(self)
        table.model().modelReset.connect(self.fit)
        table.horizontalHeader().sectionResized.connect(self._resized)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:
            self.fit()
        return False

    def _resized(self, section: int, _old: int, _new: int) -> None:
        if section != REASONS:
            self.fit()

    def fit(self) -> None:
        header = self._table.horizontalHeader()
        others = sum(header.sectionSize(n) for n in range(header.count()) if n != REASONS)
        spare = self._table.viewport().width() - others
        width = max(REASON_MIN_WIDTH, spare)
        if header.sectionSize(REASONS) != width:
            header.resizeSection(REASONS, width)
