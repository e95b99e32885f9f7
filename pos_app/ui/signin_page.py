"""Sign-in: cashier ID and PIN. The scrypt check runs on the background lane;
while sign-in is locked the button stays disabled with a live countdown."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QWidget

from pos_app.terminal.auth import Authenticator, SignInResult, StaffAccount
from pos_app.ui.i18n import Texts
from pos_app.ui.payment_flow import error_sentence
from pos_app.ui.tasks import TaskManager
from pos_app.ui.widgets import button, centred_column, label, password_edit


class SignInPage(QWidget):
    signed_in = Signal(object)  # StaffAccount

    def __init__(
        self,
        auth: Authenticator,
        tasks: TaskManager,
        texts: Texts,
        *,
        last_user: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._auth, self._tasks, self._texts, self._clock = auth, tasks, texts, clock
        self._locked_until = 0.0
        self.heading = label("total", align=Qt.AlignmentFlag.AlignCenter)
        self.user = QLineEdit(last_user)
        self.pin = password_edit()
        self.pin.returnPressed.connect(self.submit)
        self.user.returnPressed.connect(self.pin.setFocus)
        self.button = button("pay")
        self.button.clicked.connect(self.submit)
        self.message = label("error", wrap=True)
        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self._tick)
        self._form = QFormLayout()
        self._form.setVerticalSpacing(12)
        self._user_label, self._pin_label = QLabel(), QLabel()
        self._form.addRow(self._user_label, self.user)
        self._form.addRow(self._pin_label, self.pin)
        column = centred_column(self, max_width=560)
        column.addWidget(self.heading)
        column.addLayout(self._form)
        column.addWidget(self.button)
        column.addWidget(self.message)
        self.retranslate()

    def retranslate(self) -> None:
        t = self._texts.t
        self.heading.setText(t("signin.title"))
        self._user_label.setText(t("signin.user"))
        self._pin_label.setText(t("signin.pin"))
        self.button.setText(t("signin.button"))

    def focus_first(self) -> None:
        (self.pin if self.user.text() else self.user).setFocus()

    def submit(self) -> None:
        if not self.button.isEnabled():
            return
        user, pin = self.user.text().strip(), self.pin.text()
        self.pin.clear()
        if not user or not pin:
            self.message.setText(self._texts.t("signin.empty"))
            return
        self.button.setEnabled(False)
        self.message.setText(self._texts.t("signin.checking"))
        self._tasks.run(
            lambda: self._auth.sign_in(user, pin),
            on_success=self._answered,
            on_failure=self._failed,
            lane="io",
        )

    def _answered(self, result: SignInResult) -> None:
        self.button.setEnabled(True)
        if result.ok and isinstance(result.account, StaffAccount):
            self.message.clear()
            self.signed_in.emit(result.account)
            return
        if result.code == "locked":
            self._locked_until = self._clock() + result.locked_for_s
            self.button.setEnabled(False)
            self._timer.start()
            self._tick()
        elif result.code == "no_accounts":
            self.message.setText(self._texts.t("signin.no_accounts"))
        else:
            self.message.setText(self._texts.t("signin.wrong", left=result.attempts_left))
        self.pin.setFocus()

    def _failed(self, exc: BaseException) -> None:
        self.button.setEnabled(True)
        self.message.setText(error_sentence(exc, self._texts))

    def _tick(self) -> None:
        left = math.ceil(self._locked_until - self._clock())
        if left <= 0:
            self._timer.stop()
            self.button.setEnabled(True)
            self.message.clear()
            return
        self.message.setText(self._texts.t("signin.locked", seconds=left))
