"""The screenshot tour's runner (``pos-app demo --screenshots DIR``; its script of steps
is ``tour_script.py``): steps run from timers (the event loop keeps running, the backend
answers for real); each waits for its state, lets the window settle, and grabs the
cashier window (and the wallet window where the customer's side matters)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

from pos_app.core.catalog import Product
from pos_app.terminal.checkout.types import PaymentPhase, PaymentUpdate
from pos_app.ui.main_window import MainWindow
from pos_app.ui.wallet_window import WalletWindow

log = logging.getLogger(__name__)
SETTLE_MS = 600


@dataclass
class TourStep:
    act: Callable[[], object]
    ready: Callable[[], bool] = lambda: True
    shot: str = ""  # file stem; empty: no screenshot
    both: bool = False  # include the wallet window
    customer: bool = False  # also save NAME-customer-display.png: the till beside its display
    timeout_s: float = 25.0


def side_by_side(*widgets: QWidget) -> QPixmap:
    shots = [w.grab() for w in widgets]
    width = sum(s.width() for s in shots) + 12 * (len(shots) - 1)
    height = max(s.height() for s in shots)
    out = QPixmap(width, height)
    out.fill(QColor("#607d8b"))
    painter = QPainter(out)
    x = 0
    for shot in shots:
        painter.drawPixmap(x, 0, shot)
        x += shot.width() + 12
    painter.end()
    return out


class Tour(QObject):
    def __init__(self, steps: list[TourStep], out: Path, main: MainWindow, wallet: WalletWindow):
        super().__init__(main)
        self._steps, self._out, self._main, self._wallet = steps, out, main, wallet
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._poll)
        self._current: TourStep | None = None
        self._deadline = 0.0
        self._phase_shots: dict[PaymentPhase, str] = {}
        self.saved: list[Path] = []
        main.flow.changed.connect(self._on_phase)

    def shoot_on_phase(self, phase: PaymentPhase, name: str) -> None:
        """Grab the moment a short-lived state (verifying) appears."""
        self._phase_shots[phase] = name

    def start(self) -> None:
        self._out.mkdir(parents=True, exist_ok=True)
        QTimer.singleShot(0, self._next)

    def _next(self) -> None:
        if not self._steps:
            print(f"screenshots: saved {len(self.saved)} files in {self._out}", flush=True)
            QApplication.quit()
            return
        self._current = self._steps.pop(0)
        try:
            self._current.act()
        except Exception:
            log.exception("screenshot step failed")
        self._deadline = time.monotonic() + self._current.timeout_s
        self._timer.start()

    def _poll(self) -> None:
        step = self._current
        assert step is not None
        timed_out = time.monotonic() > self._deadline
        if not (step.ready() or timed_out):
            return
        self._timer.stop()
        if timed_out:
            print(f"screenshots: step {step.shot or '(no shot)'} timed out", flush=True)
        QTimer.singleShot(SETTLE_MS if step.shot else 50, lambda: self._finish(step))

    def _finish(self, step: TourStep) -> None:
        if step.shot:
            self._save(step.shot, both=step.both)
        if step.shot and step.customer:
            self._save_customer(f"{step.shot}-customer-display")
        self._next()

    def _save_customer(self, name: str) -> None:
        path = self._out / f"{name}.png"
        side_by_side(self._main, self._main.customer.display).save(str(path))
        self.saved.append(path)

    def _save(self, name: str, *, both: bool) -> None:
        widgets: list[QWidget] = [self._main, self._wallet] if both else [self._main]
        path = self._out / f"{name}.png"
        side_by_side(*widgets).save(str(path))
        self.saved.append(path)

    def _on_phase(self, update: PaymentUpdate | None) -> None:
        if update is not None and update.phase in self._phase_shots:
            self._save(self._phase_shots.pop(update.phase), both=False)


def product(main: MainWindow, name_en: str) -> Product:
    return next(p for p in main.ctx.catalog if p.name_en == name_en)
