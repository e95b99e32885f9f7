"""The demo's customer wallet window: what the customer's phone would show.

Live PT1 QR code (minted again before it expires), balance, top-up, pending
approvals with Approve / Deny (device-signed), and "not me" (freeze). Every
call goes through the background-task API; the QR text is also put on the
demo camera's board so the terminal can "see" the phone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import segno
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QImage, QPixmap
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QVBoxLayout, QWidget

from pos_app.core.money import Money
from pos_app.ui.i18n import Texts
from pos_app.ui.payment_flow import error_sentence
from pos_app.ui.tasks import TaskManager
from pos_app.ui.theme import stylesheet
from pos_app.ui.widgets import button, label

REFRESH_BEFORE_S = 30  # mint a new code this long before the old one expires
QR_PX = 300


class WalletApi(Protocol):
    """The demo's wallet client, as the window uses it."""

    def mint(self) -> tuple[str, int]: ...
    def top_up(self, amount: int) -> int: ...
    def view(self) -> Any: ...
    def step_ups(self) -> tuple[Any, ...]: ...
    def decide(self, step: Any, decision: str) -> None: ...
    def freeze(self) -> None: ...


def qr_pixmap(text: str, size: int = QR_PX) -> QPixmap:
    qr = segno.make_qr(text, error="m", boost_error=False)
    modules = np.pad(np.array(qr.matrix, dtype=np.uint8), 4)
    gray = np.ascontiguousarray(np.where(modules > 0, 0, 255).astype(np.uint8))
    h, w = gray.shape
    image = QImage(gray.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(image).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
    )


class WalletWindow(QWidget):
    closing = Signal()

    def __init__(
        self,
        wallets: Sequence[tuple[str, WalletApi]],
        *,
        show_code: Callable[[str], None],
        clock: Callable[[], float] = time.time,
        store_names: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self._store_names = dict(store_names or {})  # the name the till shows, not its id
        self.setWindowTitle("Customer wallet (demo phone)")
        self.setStyleSheet(stylesheet("standard", 1.0))
        self._wallets, self._show_code, self._clock = list(wallets), show_code, clock
        self._texts = Texts("en")
        self.tasks = TaskManager(self)
        self.token = ""
        self.expires_at = 0
        self.pending: tuple[object, ...] = ()
        self._busy_mint = False
        self._balance: int | None = None
        self._ticks = 0
        self._polling = False
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.tick)

    def _build(self) -> None:
        self.chooser = QComboBox()
        self.chooser.addItems([name for name, _ in self._wallets])
        self.chooser.currentIndexChanged.connect(self._switched)
        self.qr = label(align=Qt.AlignmentFlag.AlignCenter)
        self.qr.setMinimumSize(QR_PX, QR_PX)
        self.qr.setStyleSheet("background: white;")
        self.expiry = label(align=Qt.AlignmentFlag.AlignCenter)
        self.balance = label("total", align=Qt.AlignmentFlag.AlignCenter)
        self.state = label(align=Qt.AlignmentFlag.AlignCenter, wrap=True)
        self.hold = QCheckBox("Hold the phone up to the till's camera")
        self.hold.setChecked(True)
        self.hold.toggled.connect(lambda _on: self._publish())
        self.new_code_button = button(on_click=self.refresh_code)
        self.new_code_button.setText("New code")
        self.approval = label(wrap=True)
        self.approval.setStyleSheet("background:#fff3e0; padding:8px; font-size:16px;")
        self.approve_button = button("pay", lambda: self.decide("approve"))
        self.deny_button = button("cancel", lambda: self.decide("deny"))
        self.approve_button.setText("Approve")
        self.deny_button.setText("Deny")
        self.topup_button = button(on_click=lambda: self.top_up(10_000))
        self.topup_button.setText("Top up ¥10,000")
        self.freeze_button = button("cancel", self.freeze)
        self.freeze_button.setText("Not me: freeze this wallet")
        decide = QHBoxLayout()
        decide.addWidget(self.approve_button)
        decide.addWidget(self.deny_button)
        layout = QVBoxLayout(self)
        for widget in (self.chooser, self.qr, self.expiry, self.new_code_button, self.hold):
            layout.addWidget(widget)
        layout.addWidget(self.balance)
        layout.addWidget(self.state)
        layout.addWidget(self.approval)
        layout.addLayout(decide)
        layout.addWidget(self.topup_button)
        layout.addWidget(self.freeze_button)
        self._layout = layout
        self._render_pending()

    def add_below(self, widget: QWidget) -> None:
        """The demo's switches sit under the phone."""
        self._layout.addWidget(widget)

    @property
    def api(self) -> WalletApi:
        return self._wallets[self.chooser.currentIndex()][1]

    def start(self) -> None:
        self._timer.start()
        self.refresh_code()
        self.refresh_view()

    def stop(self) -> None:
        self._timer.stop()
        self.tasks.shutdown()

    def _switched(self, _index: int) -> None:
        self.token, self.expires_at, self.pending, self._balance = "", 0, (), None
        self._publish()
        self._render_pending()
        self.refresh_code()
        self.refresh_view()

    # periodic work ------------------------------------------------------------------

    def tick(self) -> None:
        left = int(self.expires_at - self._clock())
        self.expiry.setText(f"Code valid for {max(0, left)} s" if self.token else "No code yet")
        if left < REFRESH_BEFORE_S:
            self.refresh_code()
        self._ticks += 1
        if self._ticks % 3 == 0:
            self.refresh_view()
        if self._polling:  # a slow answer must not pile up requests behind it
            return
        self._polling = True
        self.tasks.run(
            self.api.step_ups, on_success=self._got_pending, on_failure=self._poll_failed, lane="io"
        )

    def refresh_code(self) -> None:
        if self._busy_mint:
            return
        self._busy_mint = True
        self.tasks.run(
            self.api.mint, on_success=self._minted, on_failure=self._mint_failed, lane="io"
        )

    def _minted(self, minted: tuple[str, int]) -> None:
        self._busy_mint = False
        self.token, self.expires_at = minted
        self.qr.setPixmap(qr_pixmap(self.token))
        self._publish()
        self.tick_label_only()

    def _mint_failed(self, exc: BaseException) -> None:
        self._busy_mint = False
        self.token = ""
        self.qr.clear()
        self.qr.setText("No payment code")
        self._publish()
        self._error(exc)

    def tick_label_only(self) -> None:
        left = int(self.expires_at - self._clock())
        self.expiry.setText(f"Code valid for {max(0, left)} s")

    def _publish(self) -> None:
        self._show_code(self.token if self.hold.isChecked() else "")

    def refresh_view(self) -> None:
        self.tasks.run(self.api.view, on_success=self._got_view, on_failure=self._error, lane="io")

    def _got_view(self, view: object) -> None:
        amount = int(getattr(view, "balance", 0))
        if self._balance is not None and amount < self._balance:
            self.refresh_code()  # the code paid for something: a phone shows a fresh one
        self._balance = amount
        balance = Money(amount, str(getattr(view, "currency", "JPY")))
        self.balance.setText(f"Balance {balance.format()}")
        frozen = bool(getattr(view, "frozen", False))
        self.state.setText("FROZEN: every payment is refused" if frozen else "Active")
        self.state.setStyleSheet("color:#c62828;font-weight:bold;" if frozen else "")

    def _poll_failed(self, exc: BaseException) -> None:
        self._polling = False
        self._error(exc)

    def _got_pending(self, pending: tuple[object, ...]) -> None:
        self._polling = False
        if pending != self.pending:
            self.pending = pending
            self._render_pending()
            self.refresh_view()

    def _render_pending(self) -> None:
        has = bool(self.pending)
        self.approve_button.setEnabled(has)
        self.deny_button.setEnabled(has)
        if not has:
            self.approval.setText("No payment is waiting for your approval.")
            return
        step = self.pending[0]
        amount = Money(int(getattr(step, "total", 0)), str(getattr(step, "currency", "JPY")))
        store_id = str(getattr(step, "store_id", ""))
        store = self._store_names.get(store_id, store_id)
        self.approval.setText(
            f"<b>Approve this payment?</b><br>{store}: "
            f"<b>{amount.format()}</b><br>{getattr(step, 'summary', '')}"
        )

    # actions ------------------------------------------------------------------------

    def decide(self, decision: str) -> None:
        if not self.pending:
            return
        step, api = self.pending[0], self.api
        self.approve_button.setEnabled(False)
        self.deny_button.setEnabled(False)
        self.tasks.run(
            lambda: api.decide(step, decision),
            on_success=lambda _r: self.tick(),
            on_failure=self._error,
            lane="io",
        )

    def top_up(self, amount: int) -> None:
        api = self.api
        self.tasks.run(
            lambda: api.top_up(amount),
            on_success=lambda _b: self.refresh_view(),
            on_failure=self._error,
            lane="io",
        )

    def freeze(self) -> None:
        api = self.api
        self.tasks.run(
            api.freeze, on_success=lambda _r: self.refresh_view(), on_failure=self._error, lane="io"
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        self.closing.emit()

    def _error(self, exc: BaseException) -> None:
        self.state.setText(error_sentence(exc, self._texts))
