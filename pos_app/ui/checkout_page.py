"""The checkout page: basket on the left, camera and payment state on the right.

It routes scans (keyboard wedge and camera) to the basket or the payment
flow, locks the basket while a payment runs, and plays the outcome sounds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from pos_app.core.age_check import AgeCheckMethod, AgeCheckPolicy, may_cashier_confirm
from pos_app.core.basket import Basket
from pos_app.core.catalog import Catalog
from pos_app.terminal.checkout.state import AGE_CHECK_REFUSED
from pos_app.terminal.checkout.types import AgeAnswer, PaymentPhase, PaymentUpdate
from pos_app.ui.basket_view import BasketView
from pos_app.ui.camera import CameraController, CameraView
from pos_app.ui.i18n import Texts
from pos_app.ui.payment_flow import PaymentFlow
from pos_app.ui.payment_view import FINISHED, PaymentView
from pos_app.ui.sound import Sounds
from pos_app.ui.widgets import label

if TYPE_CHECKING:  # scanning modules load numpy/OpenCV: only once scanning starts
    from pos_app.scanning.filter import ScanEvent
    from pos_app.scanning.wedge import WedgeScan
    from pos_app.scanning.worker import ScanResult, WorkerStatus

# Values of the scanning StrEnums (SymbolKind, ScanAction), compared as strings.
_PAYMENT, _GTIN, _ACCEPTED, _REJECTED = "payment_token", "gtin", "accepted", "rejected"

_SOUND = {
    PaymentPhase.APPROVED: "approved",
    PaymentPhase.OFFLINE_ACCEPTED: "approved",
    PaymentPhase.DECLINED: "declined",
    PaymentPhase.CUSTOMER_APPROVAL: "attention",
    PaymentPhase.MANAGER_APPROVAL: "attention",
    PaymentPhase.VOIDED: "attention",
    PaymentPhase.AGE_CHECK: "attention",
}

_GTIN_LEN = {8, 12, 13, 14}
_PAID = {PaymentPhase.APPROVED, PaymentPhase.OFFLINE_ACCEPTED}
# After these the basket belongs to a finished sale: locked, and emptied for the next customer.
_ENDS_SALE = _PAID | {PaymentPhase.VOIDED}


class CheckoutPage(QWidget):
    camera_state = Signal(object)  # WorkerState | None

    def __init__(
        self,
        catalog: Catalog,
        flow: PaymentFlow,
        camera: CameraController,
        texts: Texts,
        *,
        currency: str,
        theme: str,
        store_name: str,
        sounds: Sounds,
        age_policy: AgeCheckPolicy,
    ) -> None:
        super().__init__()
        self._flow, self._camera, self._texts, self._sounds = flow, camera, texts, sounds
        self.cashier_id = ""
        self.age_policy = age_policy
        self.display_attached: Callable[[], bool] = lambda: False  # set by the customer display
        self.confirming_clear = False  # Esc asked "clear the basket?"; Enter confirms
        self.basket_view = BasketView(Basket(currency), catalog, texts)
        self.camera_view = CameraView()
        self.payment_view = PaymentView(texts, theme=theme, store_name=store_name)
        self.message = label("message", wrap=True)
        self._layout()
        self._countdown = QTimer(self)
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self.payment_view.tick)
        self._connect()
        if not camera.available:
            self.camera_view.set_caption(texts.t("camera.none"))

    def _layout(self) -> None:
        right = QVBoxLayout()
        right.addWidget(self.camera_view, 2)
        right.addWidget(self.payment_view, 3)
        left = QVBoxLayout()
        left.addWidget(self.basket_view, 1)
        left.addWidget(self.message)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(right, 2)

    def _connect(self) -> None:
        self.basket_view.message.connect(self.show_message)
        self.basket_view.pay_requested.connect(self.pay)
        self.basket_view.cancel_requested.connect(self.cancel)
        self.payment_view.cancel_requested.connect(self._flow.cancel)
        self.payment_view.next_requested.connect(self.next_customer)
        self.payment_view.manager_submitted.connect(self._manager)
        self.payment_view.void_submitted.connect(self._void)
        self.payment_view.age_answered.connect(self.answer_age_as_cashier)
        self._flow.changed.connect(self._payment_changed)
        self._flow.error.connect(lambda text: self.show_message(text, True))
        self._flow.manager_refused.connect(self.payment_view.manager_refused)
        sink = self._camera.sink
        sink.result.connect(self.on_camera_result)
        sink.preview.connect(self.camera_view.show_preview)
        sink.status.connect(self.on_camera_status)

    def retranslate(self) -> None:
        self.basket_view.retranslate()
        self.payment_view.show_update(self.payment_view.update_shown)
        if not self._camera.available:
            self.camera_view.set_caption(self._texts.t("camera.none"))

    def show_message(self, text: str, error: bool = False) -> None:
        if self.confirming_clear and text != self.message.text():
            self.confirming_clear = False  # anything else happened: the question is gone
        self.message.setObjectName("error" if error else "message")
        self.message.setStyleSheet(self.message.styleSheet())  # re-polish for the new name
        self.message.setText(text)

    # cashier intents -----------------------------------------------------------

    def pay(self) -> None:
        if self._flow.active:
            return
        if not len(self.basket_view.basket):
            self.show_message(self._texts.t("basket.need_items"), True)
            return
        self.show_message("")
        self._camera.reset_filter()  # a code already in view counts again
        self._flow.start(
            self.basket_view.basket.lines,
            cashier_id=self.cashier_id,
            pickup_later=self.basket_view.pickup.isChecked(),
        )

    def cancel(self) -> None:
        """Esc: cancel the running payment or a void being typed; a basket with lines
        is emptied only after Enter confirms (Esc again keeps it)."""
        if self.payment_view.voiding:
            self.payment_view.close_void()
            return
        if self._flow.active:
            self._flow.cancel()
            return
        if self.payment_view.phase in FINISHED:
            self.next_customer()
            return
        if self.confirming_clear:
            self.keep_basket()
        elif len(self.basket_view.basket):
            basket = self.basket_view.basket
            self.show_message(
                self._texts.t("basket.clear_ask", lines=len(basket), total=basket.total.format()),
                True,
            )
            self.confirming_clear = True
            self._sounds.play("attention")

    def confirm_clear(self) -> None:
        """Enter while the clear question is shown."""
        self.confirming_clear = False
        self.basket_view.basket.clear()
        self.basket_view.refresh()
        self.show_message(self._texts.t("basket.cleared"))

    def keep_basket(self) -> None:
        self.confirming_clear = False
        self.show_message(self._texts.t("basket.kept"))

    def next_customer(self) -> None:
        phase = self._flow.phase
        if phase not in FINISHED:
            return
        if phase in _ENDS_SALE:  # paid, or voided: that sale is over, its lines go with it
            self.basket_view.basket.clear()
            self.basket_view.pickup.setChecked(False)
        self._flow.reset()
        self.show_message("")
        self.basket_view.entry.setFocus()

    def _manager(self, pin: str, reason: str) -> None:
        self._flow.approve_as_manager(pin, reason, cashier_id=self.cashier_id)

    def _void(self, pin: str, reason: str) -> None:
        self._flow.void_as_manager(pin, reason, cashier_id=self.cashier_id)

    # age check -----------------------------------------------------------------

    def age_answered_on_display(self, confirmed: bool) -> None:
        self._answer_age(confirmed, AgeCheckMethod.CUSTOMER_DISPLAY)

    def answer_age_as_cashier(self, confirmed: bool) -> None:
        """F7 (20 or older, after looking) / F8 (no); the checkout decides if it may."""
        self._answer_age(confirmed, AgeCheckMethod.CASHIER_VISUAL)

    def _answer_age(self, confirmed: bool, method: AgeCheckMethod) -> None:
        attached = self.display_attached()
        self._flow.answer_age(AgeAnswer(confirmed, method, self.cashier_id, attached))

    def refresh_age_prompt(self) -> None:
        """Who answers depends on whether the customer display is attached right now."""
        attached = self.display_attached()
        if attached:
            mode = "display"
        elif may_cashier_confirm(self.age_policy, display_attached=False):
            mode = "cashier"
        else:
            mode = "blocked"
        self.payment_view.age_mode = mode
        if self.payment_view.phase is PaymentPhase.AGE_CHECK:
            self.payment_view.show_update(self.payment_view.update_shown)

    # scans ---------------------------------------------------------------------

    def on_wedge_scan(self, scan: WedgeScan) -> None:
        """Every scanner burst is acted on, or reported with a sound and a line."""
        if not scan.ok:
            self.report(scan.problem)
        elif scan.kind == _PAYMENT:
            if not self._flow.submit_token(scan.text):
                busy = self._flow.active
                self.report(self._texts.t("scan.payment_busy" if busy else "scan.payment_not_now"))
        elif scan.kind == _GTIN or (scan.text.isdigit() and len(scan.text) in _GTIN_LEN):
            self._add_product(scan.text, None)  # a bad check digit is explained by the catalog
        else:
            self.report(self._texts.t("scan.other"))

    def report(self, text: str) -> None:
        """A scan that cannot be used: heard as well as seen (the cashier may look away)."""
        self.show_message(text, True)
        self._sounds.play("attention")

    def on_camera_result(self, result: ScanResult) -> None:
        for event in result.events:
            self._camera_event(event)

    def _camera_event(self, event: ScanEvent) -> None:
        if event.action == _REJECTED:
            self.show_message(event.message, True)
        elif event.action == _ACCEPTED and event.kind == _PAYMENT:
            self._flow.submit_token(event.text)  # a phone in view between sales is not an error
        elif event.action == _ACCEPTED and event.kind == _GTIN:
            symbology = event.symbology.value if event.symbology else None
            self._add_product(event.text, symbology)

    def _add_product(self, code: str, symbology: str | None) -> None:
        if self._flow.phase in FINISHED:
            self.next_customer()  # the next customer's first item
        if self.basket_view.add_code(code, symbology=symbology) is None:
            self._sounds.play("attention")  # the line under the basket says why

    def on_camera_status(self, status: WorkerStatus) -> None:
        if status.state == "running":
            self.camera_view.set_caption("")
        elif status.state in {"unavailable", "failed"}:
            detail = status.message.rstrip(".") + "." if status.message else ""
            self.camera_view.set_caption(self._texts.t("camera.lost_help", detail=detail))
        self.camera_state.emit(status.state)

    # payment updates -----------------------------------------------------------

    def _payment_changed(self, update: PaymentUpdate | None) -> None:
        previous = self.payment_view.phase
        if update is not None and update.phase is PaymentPhase.AGE_CHECK:
            self.refresh_age_prompt()
        self.payment_view.show_update(update)
        if previous is PaymentPhase.AGE_CHECK and self._flow.phase is PaymentPhase.WAITING_FOR_CODE:
            self._camera.reset_filter()  # a phone held up during the question counts now
        over = update is not None and update.phase in _ENDS_SALE
        self.basket_view.set_locked(self._flow.active or over)  # over: only "next customer"
        phase = None if update is None else update.phase
        if phase is not previous:
            self.show_message("")  # a line about the previous state would contradict this one
        if update is not None and update.reason == AGE_CHECK_REFUSED and previous is not None:
            self.basket_view.remove_age_restricted()  # says which goods were taken out
        if phase is PaymentPhase.CUSTOMER_APPROVAL:
            self._countdown.start()
        else:
            self._countdown.stop()
        if phase is not None and phase is not previous and phase in _SOUND:
            self._sounds.play(_SOUND[phase])
        if phase is PaymentPhase.MANAGER_APPROVAL:
            self.payment_view.reason_edit.setFocus(Qt.FocusReason.OtherFocusReason)
