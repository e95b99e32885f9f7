"""The pieces under the window: background tasks, sounds, status bar, wedge filter."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from pos_app.core.errors import BackendError
from pos_app.scanning.wedge import WedgeParser, WedgeScan
from pos_app.terminal.checkout.types import TerminalStatus
from pos_app.ui.i18n import Texts
from pos_app.ui.sound import Sounds
from pos_app.ui.status_bar import PosStatusBar
from pos_app.ui.tasks import TaskManager
from pos_app.ui.wedge_filter import WedgeFilter


def test_tasks_run_off_the_gui_thread_and_answer_on_it(qtbot: QtBot) -> None:
    tasks = TaskManager()
    gui = threading.get_ident()
    seen: dict[str, object] = {}
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(10)

    def slow() -> int:
        seen["worker"] = threading.get_ident()
        time.sleep(0.3)
        return 42

    tasks.run(slow, on_success=lambda v: seen.update(value=v, cb=threading.get_ident()))
    tasks.run(
        lambda: (_ for _ in ()).throw(BackendError("no answer")),
        on_failure=lambda e: seen.update(error=e),
        lane="io",
    )
    qtbot.waitUntil(lambda: "value" in seen and "error" in seen, timeout=3000)
    timer.stop()
    assert seen["value"] == 42 and seen["cb"] == gui and seen["worker"] != gui
    assert isinstance(seen["error"], BackendError)
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) > 10 and max(gaps) < 0.15  # the GUI kept ticking during the 300 ms task
    assert tasks.shutdown()


def test_a_sound_that_cannot_play_never_breaks_checkout(tmp_path: Path) -> None:
    sounds = Sounds(enabled=True, folder=tmp_path / "missing")
    sounds.play("approved")
    sounds.play("declined")
    assert sounds.played == ["approved", "declined"] and not sounds.enabled


def test_status_bar_warns_in_words(qtbot: QtBot) -> None:
    bar = PosStatusBar(Texts("en"))
    qtbot.addWidget(bar)
    bar.show_status(TerminalStatus(True, 0, 200_000, True, 45.0, True))
    assert bar.labels["trust"].text() == "Trust list STALE: 2 d old"
    assert "c62828" in bar.labels["trust"].styleSheet()
    assert bar.labels["skew"].text() == "Clock +45.0 s" and bar.labels["skew"].styleSheet()
    bar.show_status(TerminalStatus(True, 0, 600, False, 0.2, True))
    assert bar.labels["trust"].text() == "Trust list: 10 min old"
    assert not bar.labels["trust"].styleSheet()
    bar.set_camera(None, available=False)
    assert bar.labels["camera"].text() == "Camera: off"


def test_wedge_filter_repairs_a_us_scanner_on_a_japanese_layout(qtbot: QtBot) -> None:
    edit = QLineEdit()
    qtbot.addWidget(edit)
    with qtbot.waitActive(edit):
        edit.show()
        edit.activateWindow()
    edit.setFocus()
    wedge = WedgeFilter(WedgeParser())
    from PySide6.QtWidgets import QApplication

    wedge.install(QApplication.instance())  # type: ignore[arg-type]
    scans: list[WedgeScan] = []
    wedge.scanned.connect(scans.append)
    try:
        QTest.keyClicks(edit, "PT1+ABC$DEF")  # ':' arrives as '+' on a JIS layout
        QTest.keyClick(edit, "\r")  # type: ignore[call-overload]  # PySide6's stub lacks Qt's keyClick(widget, char)
        qtbot.waitUntil(lambda: bool(scans), timeout=2000)
    finally:
        QApplication.instance().removeEventFilter(wedge)  # type: ignore[union-attr]
    assert scans[0].text == "PT1:ABC$DEF" and "Japanese" in scans[0].layout_note
    assert edit.text() == ""


def test_customer_approval_lists_the_backend_reasons_under_the_amount(qtbot: QtBot) -> None:
    from pos_app.terminal.checkout.types import PaymentPhase, PaymentUpdate
    from pos_app.terminal.risk_reasons import backend_reason_view
    from pos_app.ui.i18n import Texts
    from pos_app.ui.payment_view import PaymentView

    codes = ("wallet_repeat_cash_convertible", "device_new_for_wallet", "old_token", "x_rule")
    update = PaymentUpdate(
        "s1",
        PaymentPhase.CUSTOMER_APPROVAL,
        3000,
        "JPY",
        expires_at=2_000_000_000,
        risk_reasons=tuple(backend_reason_view(c) for c in codes),
    )
    view = PaymentView(Texts("en"), theme="standard", store_name="Shop", clock=lambda: 1.0)
    qtbot.addWidget(view)
    view.show()
    view.show_update(update)
    assert view.detail.isVisible()
    lines = view.detail.text().splitlines()
    assert len(lines) == 3 and lines[-1] == "• and 2 more"
    assert "easy-to-resell goods in the last 24 hours" in lines[0]
    assert view.detail.geometry().top() >= view.body.geometry().bottom()  # under the amount
    gap = view.detail.geometry().top() - view.body.geometry().bottom()
    assert gap < 40


def test_demo_switches_pull_the_tills_cables(qtbot: QtBot) -> None:
    from types import SimpleNamespace

    from pos_app.demo.switches import DemoSwitches

    network, camera = SimpleNamespace(up=True), SimpleNamespace(plugged=True)
    switches = DemoSwitches(Texts("ja"), network=network, camera=camera)
    qtbot.addWidget(switches)
    assert "カメラ" in switches.camera_off.text()
    switches.network_down.setChecked(True)
    switches.camera_off.setChecked(True)
    assert network.up is False and camera.plugged is False
    switches.network_down.setChecked(False)
    assert network.up is True
