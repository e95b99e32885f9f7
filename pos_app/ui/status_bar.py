"""The status bar: backend, outbox, trust-list age, clock skew, camera, cashier.

Problems are shown in words on a red background, never as colour alone.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from pos_app.terminal.checkout.types import TerminalStatus
from pos_app.ui.i18n import Texts

SKEW_WARN_S = 30.0


def age_text(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


class PosStatusBar(QStatusBar):
    def __init__(self, texts: Texts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._texts = texts
        self.setSizeGripEnabled(False)
        names = ("backend", "outbox", "printer", "trust", "skew", "camera", "cashier")
        self.labels = {name: QLabel() for name in names}
        for label in self.labels.values():
            self.addPermanentWidget(label)
        self._status: TerminalStatus | None = None
        self._asked = False  # no status yet: the backend is "checking", not offline
        self._camera: str | None = None  # a WorkerState
        self._camera_available = True
        self._cashier = ""
        self.refresh()

    def show_status(self, status: TerminalStatus | None) -> None:
        self._status, self._asked = status, True
        self.refresh()

    def set_camera(self, state: str | None, *, available: bool = True) -> None:
        self._camera, self._camera_available = state, available
        self.refresh()

    def set_cashier(self, name: str) -> None:
        self._cashier = name
        self.refresh()

    def _set(self, name: str, text: str, *, warn: bool = False) -> None:
        label = self.labels[name]
        label.setText(text)
        label.setObjectName("warn" if warn else "")
        label.setStyleSheet(
            "background:#c62828;color:#ffffff;font-weight:bold;padding:0 8px;" if warn else ""
        )

    def refresh(self) -> None:
        t, s = self._texts.t, self._status
        if s is None and not self._asked:
            for name, key in (("backend", "status.checking"), ("trust", "status.trust_checking")):
                self._set(name, t(key))
            self._set("outbox", t("status.outbox", n="?"))
            self._set("skew", t("status.skew_unknown"))
        elif s is None:
            self._set("backend", t("status.offline"), warn=True)
            self._set("outbox", t("status.outbox", n="?"))
            self._set("trust", t("status.trust_none"), warn=True)
            self._set("skew", t("status.skew_unknown"))
        else:
            self._set_backend(s)
            self._set("outbox", t("status.outbox", n=s.outbox_pending), warn=s.outbox_pending > 0)
            self._set_trust(s)
            self._set_skew(s)
            self._set_printer(s)
        self._set_camera()
        self._set("cashier", t("status.cashier", name=self._cashier or "—"))

    def _set_backend(self, s: TerminalStatus) -> None:
        t = self._texts.t
        if not s.backend_known:  # never reached yet: neither online nor offline is known
            self._set("backend", t("status.checking"))
        else:
            key = "status.online" if s.online else "status.offline"
            self._set("backend", t(key), warn=not s.online)

    def _set_printer(self, s: TerminalStatus) -> None:
        """Shown only while receipts wait: a printer that works needs no word on the bar."""
        t = self._texts.t
        if s.printer_problem:
            problem = t(f"printer.{s.printer_problem}")
            self._set(
                "printer",
                t("status.receipts_fault", n=s.receipts_waiting, problem=problem),
                warn=True,
            )
        elif s.receipts_waiting:
            self._set("printer", t("status.receipts_waiting", n=s.receipts_waiting))
        else:
            self._set("printer", "")

    def _set_trust(self, s: TerminalStatus) -> None:
        t = self._texts.t
        if s.trust_list_age_s is None:
            self._set("trust", t("status.trust_none"), warn=True)
        elif s.trust_list_stale:
            self._set("trust", t("status.trust_stale", age=age_text(s.trust_list_age_s)), warn=True)
        else:
            self._set("trust", t("status.trust", age=age_text(s.trust_list_age_s)))

    def _set_skew(self, s: TerminalStatus) -> None:
        t = self._texts.t
        if s.clock_skew_s is None:
            self._set("skew", t("status.skew_unknown"))
            return
        skew = s.clock_skew_s
        self._set("skew", t("status.skew", skew=f"{skew:+.1f} s"), warn=abs(skew) > SKEW_WARN_S)

    def _set_camera(self) -> None:
        t = self._texts.t
        if not self._camera_available:
            state, warn = t("camera.off"), False
        elif self._camera is None:
            state, warn = t("camera.starting"), False
        elif self._camera == "running":
            state, warn = t("camera.running"), False
        else:
            state, warn = t("camera.unavailable"), True
        self._set("camera", t("status.camera", state=state), warn=warn)
