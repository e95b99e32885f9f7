"""The payment flow on the UI side: sends the cashier's intents to the
checkout port on the background lane and publishes each update it gets back.

No business rule lives here: which phase comes next is the port's answer.
This object only sequences calls, polls while the answer is pending (customer
approval, or a finalize whose answer was lost), and turns failures into sentences.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from pos_app.core.basket import BasketLine
from pos_app.core.errors import PosError
from pos_app.core.reasons import ReasonCode
from pos_app.terminal.auth import Authenticator, SignInResult
from pos_app.terminal.checkout.types import AgeAnswer, CheckoutPort, PaymentPhase, PaymentUpdate
from pos_app.ui.i18n import Texts
from pos_app.ui.tasks import TaskManager

log = logging.getLogger(__name__)

# A paid sale a manager may void (an offline one is voided once it has been sent).
VOIDABLE = frozenset({PaymentPhase.APPROVED, PaymentPhase.OFFLINE_ACCEPTED})


def awaits_backend(update: PaymentUpdate | None) -> bool:
    """The backend's answer is pending: poll the port until the phase changes."""
    if update is None:
        return False
    if update.phase is PaymentPhase.CUSTOMER_APPROVAL:
        return True
    return update.phase is PaymentPhase.VERIFYING and update.reason == ReasonCode.OUTCOME_UNKNOWN


def error_sentence(exc: BaseException, texts: Texts) -> str:
    """Never a traceback: our errors carry a sentence; anything else gets a generic one."""
    if isinstance(exc, PosError):
        return exc.message
    log.error("unexpected error in a background task", exc_info=exc)
    return texts.t("error.generic", what=type(exc).__name__)


class PaymentFlow(QObject):
    changed = Signal(object)  # PaymentUpdate | None
    error = Signal(str)
    manager_refused = Signal(str)

    def __init__(
        self,
        port: CheckoutPort,
        tasks: TaskManager,
        texts: Texts,
        *,
        authenticator: Authenticator | None,
        poll_interval_s: float = 2.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._port, self._tasks, self._texts = port, tasks, texts
        self._auth = authenticator
        self.current: PaymentUpdate | None = None
        self.busy = False  # a call to the port is in flight
        self._poll_timer = QTimer(self)
        self._poll_timer.setInterval(round(poll_interval_s * 1000))
        self._poll_timer.timeout.connect(self._poll)

    @property
    def phase(self) -> PaymentPhase | None:
        return None if self.current is None else self.current.phase

    @property
    def active(self) -> bool:
        """A sale is frozen for payment and not finished."""
        return self.busy or self.phase in {
            PaymentPhase.WAITING_FOR_CODE,
            PaymentPhase.VERIFYING,
            PaymentPhase.CUSTOMER_APPROVAL,
            PaymentPhase.MANAGER_APPROVAL,
            PaymentPhase.AGE_CHECK,
        }

    def start(
        self, lines: tuple[BasketLine, ...], *, cashier_id: str, pickup_later: bool = False
    ) -> None:
        if self.active:
            return
        self._call(
            lambda: self._port.start_payment(
                lines, cashier_id=cashier_id, pickup_later=pickup_later
            )
        )

    def submit_token(self, text: str) -> bool:
        """A payment code was scanned; ignored unless the sale is waiting for one."""
        current = self.current
        if self.busy or current is None or current.phase is not PaymentPhase.WAITING_FOR_CODE:
            return False
        self._publish(dataclasses.replace(current, phase=PaymentPhase.VERIFYING))
        sale_id = current.sale_id
        self._call(lambda: self._port.submit_token(sale_id, text), revert=current)
        return True

    def answer_age(self, answer: AgeAnswer) -> None:
        current = self.current
        if self.busy or current is None or current.phase is not PaymentPhase.AGE_CHECK:
            return
        self._call(lambda: self._port.answer_age_check(current.sale_id, answer))

    def cancel(self) -> None:
        current = self.current
        if current is None or not self.active or self.busy:
            return
        self._call(lambda: self._port.cancel(current.sale_id))

    def approve_as_manager(self, pin: str, reason: str, *, cashier_id: str) -> None:
        current = self.current
        if self.busy or current is None or current.phase is not PaymentPhase.MANAGER_APPROVAL:
            return
        approve = self._port.manager_approve
        self._as_manager(pin, reason, cashier_id=cashier_id, action=approve, what="approve")

    def void_as_manager(self, pin: str, reason: str, *, cashier_id: str) -> None:
        """A manager reverses a paid sale (passphrase and reason); the cashier stays signed in."""
        current = self.current
        if self.busy or current is None or current.phase not in VOIDABLE:
            return
        self._as_manager(pin, reason, cashier_id=cashier_id, action=self._port.void, what="void")

    def _as_manager(
        self,
        pin: str,
        reason: str,
        *,
        cashier_id: str,
        action: Callable[..., PaymentUpdate],
        what: str,
    ) -> None:
        """Check a manager's PIN, then run ``action`` as that manager, off the GUI thread."""
        current, auth = self.current, self._auth
        assert current is not None
        if auth is None:
            self.manager_refused.emit(self._texts.t("manager.none"))
            return
        sale_id = current.sale_id
        detail = {"sale_id": sale_id, "reason": reason, "action": what}

        def work() -> PaymentUpdate | SignInResult:
            checked = auth.verify_manager(pin, for_cashier=cashier_id, detail=detail)
            if not checked.ok or checked.account is None:
                return checked
            # An approval or a void carries the manager's key, the backend's proof of who
            # acted (a void refunds: the backend refuses one without it).
            signed = {"signer": checked.signer} if checked.signer else {}
            return action(sale_id, manager_id=checked.account.user_id, reason=reason, **signed)

        self._call(work)

    def reset(self) -> None:
        """Back to idle (next customer)."""
        self._poll_timer.stop()
        self._publish(None)

    # plumbing ------------------------------------------------------------------

    def _call(self, fn: object, *, revert: PaymentUpdate | None = None) -> None:
        self.busy = True

        def failed(exc: BaseException) -> None:
            self.busy = False
            if revert is not None:
                self._publish(revert)
            self.error.emit(error_sentence(exc, self._texts))

        self._tasks.run(fn, on_success=self._answered, on_failure=failed)  # type: ignore[arg-type]

    def _answered(self, value: object) -> None:
        self.busy = False
        if isinstance(value, SignInResult):
            self._refused(value)
            return
        assert isinstance(value, PaymentUpdate)
        self._publish(value)

    def _refused(self, result: SignInResult) -> None:
        if result.code == "locked":
            text = self._texts.t("signin.locked", seconds=result.locked_for_s)
        else:
            text = self._texts.t("pay.manager.wrong", left=result.attempts_left)
        self.manager_refused.emit(text)

    def _publish(self, update: PaymentUpdate | None) -> None:
        previous = self.current
        if update is not None and (previous is None or previous.phase != update.phase):
            # The sale's outcome in the till's log (amounts, reason codes; never a token).
            log.info(
                "sale %s: %s, %d %s%s%s",
                update.sale_id,
                update.phase.value,
                update.total,
                update.currency,
                f", reason {update.reason}" if update.reason else "",
                " (offline)" if update.offline else "",
            )
        self.current = update
        waiting = awaits_backend(update)
        if waiting and not self._poll_timer.isActive():
            self._poll_timer.start()
        elif not waiting:
            self._poll_timer.stop()
        self.changed.emit(update)

    def _poll(self) -> None:
        current = self.current
        if self.busy or current is None or not awaits_backend(current):
            return
        self.busy = True

        def done(value: object) -> None:
            self.busy = False
            assert isinstance(value, PaymentUpdate)
            if value != self.current:
                self._publish(value)

        def failed(exc: BaseException) -> None:
            self.busy = False  # a failed poll is retried on the next tick
            log.warning("payment poll failed: %s", exc)

        self._tasks.run(
            lambda: self._port.poll(current.sale_id), on_success=done, on_failure=failed
        )
