"""Manager mode window: PIN sign-in, then the review queue, shift report and flag chart.

It opens beside the cashier window, never over it (``placement.py``: a monitor of
its own when there is one), and leaves the cashier's session alone;
signing out (or closing it) returns to the till as it was. Backend work runs on
a background lane; the screens only ever read and write the local store, so
they keep working when the backend is unreachable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QWidget,
)

from pos_app.core.errors import PosError
from pos_app.terminal.audit.log import AuditAction, append_audit
from pos_app.terminal.audit.sync import AuditSyncReport, sync_audit
from pos_app.terminal.manager_keys import ManagerSigner
from pos_app.terminal.reviews.sync import (
    PushReport,
    pending_decisions,
    pull_reviews,
    push_decisions,
)
from pos_app.terminal.shift_report import flag_stats
from pos_app.ui.manager.chart import FlagsChart
from pos_app.ui.manager.placement import place_beside
from pos_app.ui.manager.queue_page import QueuePage
from pos_app.ui.manager.report_page import ReportPage
from pos_app.ui.manager.services import ManagerServices, PinCheck
from pos_app.ui.manager.texts import t
from pos_app.ui.tasks import TaskManager
from pos_app.ui.widgets import centred_column

_ACTIVITY = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.Wheel})


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    listed: int
    pushed: PushReport
    audit: AuditSyncReport | None


class ManagerSignInPage(QWidget):
    def __init__(self, lang: str) -> None:
        super().__init__()
        self.manager_id = QLineEdit()
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.button = QPushButton(t("sign_in", lang))
        self.message = QLabel()
        self.message.setStyleSheet("color: #b00020; font-weight: bold;")
        form = QFormLayout()
        form.addRow(t("manager_id", lang), self.manager_id)
        form.addRow(t("pin", lang), self.pin)
        # Read at arm's length at a counter: large type, tall fields.
        self.setStyleSheet(
            "QLabel, QLineEdit, QPushButton { font-size: 15pt; }"
            " QLineEdit, QPushButton { min-height: 40px; }"
        )
        column = centred_column(self, max_width=520)
        column.addWidget(QLabel(f"<h2>{t('signin_heading', lang)}</h2>"))
        hint = QLabel(t("signin_hint", lang))
        hint.setWordWrap(True)
        column.addWidget(hint)
        column.addLayout(form)
        column.addWidget(self.button)
        column.addWidget(self.message)
        self.pin.returnPressed.connect(self.button.click)


class ManagerWindow(QMainWindow):
    signed_in = Signal(str)  # manager id
    sign_in_failed = Signal(str)  # the message shown
    signed_out = Signal()

    def __init__(self, services: ManagerServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._s = services
        self.manager_id: str | None = None
        self.tasks = TaskManager(self)
        self._closing_why = "manager"
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(services.idle_sign_out_ms)
        self._idle.timeout.connect(self._idle_timeout)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.setWindowTitle(t("title", services.lang))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, parent is not None)
        self.resize(1280, 800)
        self.stack = QStackedWidget()
        self.sign_in_page = ManagerSignInPage(services.lang)
        self.stack.addWidget(self.sign_in_page)
        # Beside a till on a shared monitor the window may be narrower than its screens:
        # they scroll rather than push the window over the till.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.stack)
        self.setCentralWidget(scroll)
        self.sign_in_page.button.clicked.connect(self._sign_in_clicked)
        QShortcut(QKeySequence("Esc"), self, self.close)
        self.queue: QueuePage | None = None
        self.report: ReportPage | None = None
        self.chart: FlagsChart | None = None

    # sign-in ----------------------------------------------------------------------

    def sign_in(self, manager_id: str, pin: str) -> None:
        """Check the PIN off the GUI thread (scrypt is slow on purpose); the result arrives
        as ``signed_in`` or a message on the sign-in page."""
        page = self.sign_in_page
        page.pin.clear()  # never left on screen
        page.button.setEnabled(False)
        page.message.setText("")
        check = self._s.sign_in
        self.tasks.run(
            lambda: check(manager_id.strip(), pin),
            on_success=self._pin_checked,
            on_failure=self._pin_failed,
            lane="io",
        )

    def _pin_checked(self, result: PinCheck) -> None:
        page = self.sign_in_page
        page.button.setEnabled(True)
        if not result.ok:
            if result.locked_for_s:
                message = t("locked", self._s.lang, seconds=result.locked_for_s)
            else:
                message = t("wrong_pin", self._s.lang, left=result.attempts_left)
            page.message.setText(message)
            self.sign_in_failed.emit(message)
            return
        self.manager_id = result.manager_id
        self._build_main(result.manager_id, signer=result.signer)
        self._idle.start()
        self.signed_in.emit(result.manager_id)

    def _pin_failed(self, exc: BaseException) -> None:
        self.sign_in_page.button.setEnabled(True)
        message = exc.message if isinstance(exc, PosError) else str(exc)
        self.sign_in_page.message.setText(message)
        self.sign_in_failed.emit(message)

    def _sign_in_clicked(self) -> None:
        self.sign_in(self.sign_in_page.manager_id.text(), self.sign_in_page.pin.text())

    def sign_out(self, *, why: str = "manager") -> None:
        self._idle.stop()
        if self.manager_id is not None:
            append_audit(
                self._s.store,
                at=self._s.now(),
                actor=self.manager_id,
                action=AuditAction.SIGN_OUT,
                detail={"mode": "manager", "why": why},
            )
        self.manager_id = None
        if self.queue is not None:
            self.queue.forget_key()  # the manager's key lives only while they are signed in
        self.signed_out.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.tasks.shutdown()
        self.sign_out(why=self._closing_why)
        super().closeEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Any key or click in this window (or its dialogs) counts as the manager still here.
        if event.type() in _ACTIVITY and isinstance(watched, QWidget) and self._owns(watched):
            self._idle.start()
        return False

    def _owns(self, widget: QWidget) -> bool:
        window = widget.window()
        owner = window.parentWidget()
        return window is self or (owner is not None and owner.window() is self)

    def _idle_timeout(self) -> None:
        # A manager who walks away must not leave the review screens open at the counter.
        self._closing_why = "idle"
        self.close()

    # main screens -----------------------------------------------------------------

    def _build_main(self, manager_id: str, *, signer: ManagerSigner | None = None) -> None:
        lang = self._s.lang
        self.queue = QueuePage(self._s, manager_id=manager_id, tasks=self.tasks, signer=signer)
        self.report = ReportPage(self._s, manager_id=manager_id)
        self.chart = FlagsChart(lang=lang, tz=self._s.tz)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.queue, t("tab_queue", lang))
        self.tabs.addTab(self.report, t("tab_report", lang))
        self.tabs.addTab(self.chart, t("tab_chart", lang))
        self.tabs.currentChanged.connect(self._tab_changed)
        self.queue.decided.connect(lambda _sale: self._after_change())
        toolbar = QToolBar()
        toolbar.setMovable(False)
        self.who = QLabel(t("signed_in_as", lang, manager=manager_id))
        self.who.setStyleSheet("font-weight: bold; padding: 0 12px;")
        toolbar.addWidget(self.who)
        self.sync_action = toolbar.addAction(t("sync", lang), self.sync_now)
        toolbar.addAction(t("export_csv", lang), self._export_clicked)
        toolbar.addAction(t("sign_out", lang), self.close)
        self.addToolBar(toolbar)
        self.stack.addWidget(self.tabs)
        self.stack.setCurrentWidget(self.tabs)
        self._after_change()

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.chart:
            self.refresh_chart()

    def refresh_chart(self) -> None:
        assert self.chart is not None
        self.chart.set_stats(
            flag_stats(self._s.store, self._s.store_id, now=self._s.now(), tz=self._s.tz)
        )

    def _after_change(self) -> None:
        pending = pending_decisions(self._s.store)
        key = "pending_sync_one" if pending == 1 else "pending_sync"
        text = t(key, self._s.lang, pending=pending) if pending else ""
        self.statusBar().showMessage(text)

    def _export_clicked(self) -> None:
        assert self.queue is not None
        stamp = f"{self._s.store_id}-{self._s.terminal_id}-{self._s.now()}"
        chosen = self._s.ask_path(self, f"reviews-{stamp}.csv", "CSV (*.csv)")
        if chosen:
            self.queue.export_csv(Path(chosen))

    # backend ----------------------------------------------------------------------

    def sync_now(self) -> None:
        s = self._s
        if s.backend is None:
            self.statusBar().showMessage(t("no_backend", s.lang))
            return
        backend, sink = s.backend, s.audit_sink

        def work() -> SyncOutcome:
            pushed = push_decisions(s.store, backend, terminal_id=s.terminal_id, now=s.now())
            listed = pull_reviews(s.store, backend, store_id=s.store_id, now=s.now())
            audit = sync_audit(s.store, sink, terminal_id=s.terminal_id) if sink else None
            return SyncOutcome(listed, pushed, audit)

        self.sync_action.setEnabled(False)
        self.tasks.run(work, on_success=self._synced, on_failure=self._sync_failed)

    def _synced(self, outcome: SyncOutcome) -> None:
        self.sync_action.setEnabled(True)
        p = outcome.pushed
        if p.last_error:
            self._sync_failed(PosError(p.last_error))
            return
        self.statusBar().showMessage(
            t("sync_done", self._s.lang, sent=p.sent, pending=p.pending, listed=outcome.listed)
        )
        if self.queue is not None:
            self.queue.refresh()

    def _sync_failed(self, exc: BaseException) -> None:
        self.sync_action.setEnabled(True)
        message = exc.message if isinstance(exc, PosError) else str(exc)
        pending = pending_decisions(self._s.store)
        self.statusBar().showMessage(t("sync_failed", self._s.lang, pending=pending, error=message))
        if self.queue is not None:
            self.queue.refresh()


def manager_opener(services: ManagerServices) -> Callable[[QWidget], None]:
    """The cashier window's ``open_manager`` hook: one manager window at a time, in the
    cashier's current language; the cashier's session is not touched."""
    opened: list[ManagerWindow] = []

    def open_manager(parent: QWidget) -> None:
        if opened and opened[0].isVisible():
            opened[0].raise_()
            opened[0].activateWindow()
            return
        texts = getattr(parent, "texts", None)
        lang = getattr(texts, "lang", services.lang)
        window = ManagerWindow(replace(services, lang=lang), parent=parent)
        opened[:] = [window]
        window.destroyed.connect(lambda *_: opened.clear())
        customer = getattr(getattr(parent, "customer", None), "display", None)
        place_beside(window, parent, customer=customer)
        window.show()

    return open_manager
