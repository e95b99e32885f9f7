"""The payment panel: one distinct state per step, in colour and in words.

It only renders a :class:`PaymentUpdate` (or "idle") and reports intents
(cancel, manager approval, next customer); the flow is in ``payment_flow``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pos_app.core.reasons import ReasonCode
from pos_app.terminal.checkout.state import AGE_CHECK_REFUSED
from pos_app.terminal.checkout.types import PaymentPhase, PaymentUpdate
from pos_app.ui.i18n import Texts
from pos_app.ui.payment_flow import VOIDABLE
from pos_app.ui.theme import SYMBOLS, phase_style
from pos_app.ui.widgets import button, label, password_edit

_TITLES = {
    PaymentPhase.WAITING_FOR_CODE: "pay.waiting.title",
    PaymentPhase.VERIFYING: "pay.verifying.title",
    PaymentPhase.APPROVED: "pay.approved.title",
    PaymentPhase.DECLINED: "pay.declined.title",
    PaymentPhase.CUSTOMER_APPROVAL: "pay.customer.title",
    PaymentPhase.MANAGER_APPROVAL: "pay.manager.title",
    PaymentPhase.OFFLINE_ACCEPTED: "pay.offline.title",
    PaymentPhase.CANCELLED: "pay.cancelled.title",
    PaymentPhase.VOIDED: "pay.voided.title",
    PaymentPhase.AGE_CHECK: "pay.age.title",
}
_CANCELLABLE = {
    PaymentPhase.AGE_CHECK,
    PaymentPhase.WAITING_FOR_CODE,
    PaymentPhase.CUSTOMER_APPROVAL,
    PaymentPhase.MANAGER_APPROVAL,
}
SHORT_LIST = 3  # reasons shown while the customer approves; the rest: "and N more"
FINISHED = {
    PaymentPhase.APPROVED,
    PaymentPhase.DECLINED,
    PaymentPhase.OFFLINE_ACCEPTED,
    PaymentPhase.CANCELLED,
    PaymentPhase.VOIDED,
}


class PaymentView(QFrame):
    cancel_requested = Signal()
    next_requested = Signal()
    manager_submitted = Signal(str, str)  # pin, reason
    void_submitted = Signal(str, str)  # pin, reason
    age_answered = Signal(bool)  # the cashier's answer after looking at the customer

    def __init__(
        self, texts: Texts, *, theme: str, store_name: str, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__()
        self._texts, self.theme, self._store, self._clock = texts, theme, store_name, clock
        self.update_shown: PaymentUpdate | None = None
        self.voiding = False  # the manager box asks for a void of the paid sale
        self.font_scale = 1.0  # ui.font_scale: the panel is read from two metres
        self.symbol = label("phaseSymbol", align=Qt.AlignmentFlag.AlignCenter)
        # Who answers "20 or older?": "display" (the customer), "cashier", or "blocked".
        self.age_mode = "display"
        self.title = label("phaseTitle", align=Qt.AlignmentFlag.AlignCenter)
        self.body = label(
            "phaseBody", align=Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, wrap=True
        )
        self.detail = label("phaseReasons", wrap=True)  # risk reasons for the manager
        self.manager_box = self._manager_box()
        self.cancel_button = button("cancel")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.next_button = QPushButton()
        self.next_button.clicked.connect(self.next_requested)
        self.void_button = QPushButton()
        self.void_button.clicked.connect(self.open_void)
        self.age_yes_button = button(on_click=lambda: self.age_answered.emit(True))
        self.age_no_button = button(on_click=lambda: self.age_answered.emit(False))
        layout = QVBoxLayout(self)
        layout.addWidget(self.symbol)
        layout.addWidget(self.title)
        layout.addSpacing(12)
        layout.addWidget(self.body)
        layout.addWidget(self.detail)  # right under the amount
        layout.addStretch(1)
        layout.addWidget(self.manager_box)
        row = QHBoxLayout()
        row.addWidget(self.age_yes_button)
        row.addWidget(self.age_no_button)
        row.addWidget(self.cancel_button)
        row.addWidget(self.void_button)
        row.addWidget(self.next_button)
        layout.addLayout(row)
        self.show_update(None)

    def _manager_box(self) -> QWidget:
        box = QWidget()
        box.setObjectName("managerBox")
        self.reason_edit = QLineEdit()
        self.pin_edit = password_edit()
        self.pin_edit.returnPressed.connect(self._submit_manager)
        self.approve_button = QPushButton()
        self.approve_button.clicked.connect(self._submit_manager)
        self.manager_error = label("managerError", wrap=True)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.reason_edit)
        row = QHBoxLayout()
        row.addWidget(self.pin_edit, 1)
        row.addWidget(self.approve_button, 1)
        layout.addLayout(row)
        layout.addWidget(self.manager_error)
        return box

    def _submit_manager(self) -> None:
        reason, pin = self.reason_edit.text().strip(), self.pin_edit.text()
        if not reason or not pin:
            self.manager_error.setText(self._texts.t("pay.manager.need_reason"))
            return
        self.pin_edit.clear()
        (self.void_submitted if self.voiding else self.manager_submitted).emit(pin, reason)

    def open_void(self) -> None:
        """ "Void sale": ask for the manager's reason and PIN in the manager box."""
        if self.phase not in VOIDABLE:
            return
        self.voiding = True
        self._open_manager_box()
        self.show_update(self.update_shown)

    def close_void(self) -> None:
        self.voiding = False
        self.pin_edit.clear()
        self.show_update(self.update_shown)

    def _open_manager_box(self) -> None:
        self.reason_edit.clear()
        self.pin_edit.clear()
        self.manager_error.clear()
        self.reason_edit.setFocus()

    def manager_refused(self, text: str) -> None:
        self.manager_error.setText(text)

    @property
    def phase(self) -> PaymentPhase | None:
        return None if self.update_shown is None else self.update_shown.phase

    def show_update(self, update: PaymentUpdate | None) -> None:
        previous, self.update_shown = self.update_shown, update
        phase = None if update is None else update.phase
        style = phase_style(phase or "idle", self.theme)
        border = "3px solid #ffffff" if self.theme == "high_contrast" else "none"
        self.setStyleSheet(
            f"PaymentView {{ background: {style.background}; border-radius: 10px;"
            f" border: {border}; }}"
            f"PaymentView QLabel {{ background: transparent; color: {style.foreground}; }}"
            "QWidget#managerBox { background: transparent; }"
            f"QLabel#managerError {{ color: {style.foreground}; font-weight: bold; }}"
            + self._font_sizes()
        )
        self.symbol.setText(SYMBOLS.get(phase, "") if phase else "")
        self.symbol.setVisible(phase is not None)
        t = self._texts.t
        self.title.setText(t(_TITLES[phase]) if phase else t("pay.idle.title"))
        self.body.setText(self._body(update))
        self.detail.setText(self._reasons(update))
        explain = {PaymentPhase.MANAGER_APPROVAL, PaymentPhase.CUSTOMER_APPROVAL}
        self.detail.setVisible(phase in explain and bool(self.detail.text()))
        self.voiding = self.voiding and phase in VOIDABLE
        manager = phase is PaymentPhase.MANAGER_APPROVAL and update is not None
        may = manager and bool(update and update.manager_may_override)
        self.manager_box.setVisible(may or self.voiding)
        if manager and (previous is None or previous.phase is not PaymentPhase.MANAGER_APPROVAL):
            self._open_manager_box()
        self.cancel_button.setVisible(phase in _CANCELLABLE)
        self.void_button.setVisible(phase in VOIDABLE and not self.voiding)
        self.next_button.setVisible(phase in FINISHED)
        asking = phase is PaymentPhase.AGE_CHECK
        self.age_yes_button.setVisible(asking and self.age_mode == "cashier")
        self.age_no_button.setVisible(asking)
        self.retranslate_buttons()

    def _font_sizes(self) -> str:
        def px(size: int) -> int:
            return round(size * self.font_scale)

        return (
            f"QLabel#phaseSymbol {{ font-size: {px(88)}px; font-weight: bold; }}"
            f"QLabel#phaseTitle {{ font-size: {px(40)}px; font-weight: bold; }}"
            f"QLabel#phaseBody {{ font-size: {px(24)}px; }}"
            f"QLabel#phaseReasons {{ font-size: {px(20)}px; }}"
        )

    def retranslate_buttons(self) -> None:
        t = self._texts.t
        self.cancel_button.setText(t("pay.cancel"))
        done = self.phase in {PaymentPhase.APPROVED, PaymentPhase.OFFLINE_ACCEPTED}
        self.next_button.setText(t("btn.next") if done else t("btn.back"))
        self.reason_edit.setPlaceholderText(t("pay.manager.reason"))
        self.pin_edit.setPlaceholderText(t("pay.manager.pin"))
        approve = "pay.void.confirm" if self.voiding else "pay.manager.approve"
        self.approve_button.setText(t(approve))
        self.void_button.setText(t("pay.void"))
        self.age_yes_button.setText(t("pay.age.yes"))
        self.age_no_button.setText(t("pay.age.no"))

    def tick(self) -> None:
        """Once a second while the customer approves: refresh the countdown."""
        if self.phase is PaymentPhase.CUSTOMER_APPROVAL:
            self.body.setText(self._body(self.update_shown))

    def seconds_left(self) -> int:
        update = self.update_shown
        if update is None or update.expires_at is None:
            return 0
        return max(0, int(update.expires_at - self._clock()))

    def _body(self, update: PaymentUpdate | None) -> str:  # noqa: PLR0911 - one per phase
        t = self._texts.t
        if update is None:
            return t("pay.idle.body")
        amount = self._texts.money(update.total, update.currency)
        phase = update.phase
        if phase is PaymentPhase.WAITING_FOR_CODE:
            return t("pay.waiting.body", amount=amount)
        if phase is PaymentPhase.APPROVED:
            wallet, auth = update.wallet_masked or "—", update.authorization_id or "—"
            return t("pay.approved.body", amount=amount, wallet=wallet, auth=auth)
        if phase is PaymentPhase.DECLINED:
            text = self._texts.reason(update.reason or "unknown").rstrip("。.")
            return t("pay.declined.body", text=text + ("。" if self._texts.lang == "ja" else "."))
        if phase is PaymentPhase.CUSTOMER_APPROVAL:
            return t(
                "pay.customer.body", store=self._store, amount=amount, seconds=self.seconds_left()
            )
        if phase is PaymentPhase.MANAGER_APPROVAL:
            if not update.manager_may_override:
                return t("pay.manager.no_override")
            return f"{amount}\n{t('pay.manager.body')}"
        if phase is PaymentPhase.OFFLINE_ACCEPTED:
            return t("pay.offline.body", amount=amount)
        if phase is PaymentPhase.VOIDED:
            return t("pay.voided.body", amount=amount)
        if phase is PaymentPhase.AGE_CHECK:
            return t(f"pay.age.{self.age_mode}", amount=amount)
        if phase is PaymentPhase.CANCELLED and update.reason == AGE_CHECK_REFUSED:
            return t("pay.age.refused")
        if phase is PaymentPhase.VERIFYING:
            lost = update.reason == ReasonCode.OUTCOME_UNKNOWN
            return t("pay.verifying.lost" if lost else "pay.verifying.body")
        return t("pay.cancelled.body")

    def _reasons(self, update: PaymentUpdate | None) -> str:
        """Every rule for the manager; a short list for the customer's approval."""
        if update is None:
            return ""
        ja = self._texts.lang == "ja"
        reasons = update.risk_reasons
        short = update.phase is PaymentPhase.CUSTOMER_APPROVAL and len(reasons) > SHORT_LIST
        shown = reasons[: SHORT_LIST - 1] if short else reasons
        lines = [f"• {r.ja if ja and r.ja else r.en}" for r in shown]
        if short:
            lines.append(self._texts.t("pay.reasons.more", n=len(reasons) - len(shown)))
        return "\n".join(lines)
