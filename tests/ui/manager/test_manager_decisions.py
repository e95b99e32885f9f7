import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from pos_app.demo.seed_reviews import seed_demo_reviews
from pos_app.terminal.audit.log import AuditAction, read_entries, verify_store
from pos_app.terminal.auth import Authenticator
from pos_app.terminal.reviews.queue import ReviewChoice, ReviewStatus, load_queue
from pos_app.terminal.store.db import DB_NAME, LocalStore, open_store
from pos_app.ui.manager.decision_dialog import DecisionDialog
from pos_app.ui.manager.services import ManagerServices, authenticator_sign_in
from pos_app.ui.manager.window import ManagerWindow, manager_opener

from .conftest import JST, NOW, FakeBackend, FakeSink, sign_in


def status_of(store: LocalStore, sale_id: str) -> ReviewStatus:
    return next(i.status for i in load_queue(store, "S001") if i.sale_id == sale_id)


def decide_in(win: ManagerWindow, decision: ReviewChoice, note: str) -> DecisionDialog:
    assert win.queue is not None
    dialog = win.queue.start_decision(decision)
    assert dialog is not None and dialog.isVisible()
    assert not dialog.ok_button.isEnabled()  # no note, no decision
    dialog.note.setPlainText(note)
    assert dialog.ok_button.isEnabled()
    dialog.ok_button.click()
    return dialog


@pytest.mark.parametrize(
    ("decision", "status"),
    [
        (ReviewChoice.APPROVE, ReviewStatus.APPROVED),
        (ReviewChoice.REJECT, ReviewStatus.REJECTED),
        (ReviewChoice.ESCALATE, ReviewStatus.ESCALATED),
        (ReviewChoice.CONFIRMED_FRAUD, ReviewStatus.CONFIRMED_FRAUD),
    ],
)
def test_each_decision_with_its_required_note(
    window: Callable[..., ManagerWindow],
    store: LocalStore,
    decision: ReviewChoice,
    status: ReviewStatus,
) -> None:
    win = window()
    assert win.queue is not None
    win.queue.select_sale("sale-7p-0002")
    decide_in(win, decision, "checked the camera and the basket")
    assert status_of(store, "sale-7p-0002") is status
    assert "recorded for sale-7p-0002" in win.queue.message.text()
    entry = read_entries(store)[-1]
    assert (entry.action, entry.actor) == (AuditAction.REVIEW_DECISION, "M001")
    assert entry.detail["decision"] == decision.value
    assert "1 decision waiting to be sent" in win.statusBar().currentMessage()
    win.queue.filters.status.setCurrentIndex(0)
    win.queue.select_sale("sale-7p-0002")
    history = win.queue.detail.toPlainText()
    assert "checked the camera and the basket" in history and "waiting to be sent" in history


def test_confirmed_fraud_warns_and_freezes_the_wallet_at_the_backend(
    qtbot: QtBot, window: Callable[..., ManagerWindow], backend: FakeBackend
) -> None:
    win = window()
    assert win.queue is not None
    dialog = win.queue.start_decision(ReviewChoice.CONFIRMED_FRAUD)
    assert dialog is not None
    assert any(
        "freezes the customer's wallet" in w.text() for w in dialog.findChildren(type(win.who))
    )
    dialog.note.setPlainText("owner phoned: not their purchase")
    dialog.ok_button.click()
    win.sync_now()
    qtbot.waitUntil(lambda: "Synced" in win.statusBar().currentMessage())
    assert backend.frozen == {"sale-7p-0001"}
    assert backend.posted[0]["note"] == "owner phoned: not their purchase"


def test_cancelling_releases_the_sale(
    window: Callable[..., ManagerWindow], store: LocalStore
) -> None:
    win = window()
    assert win.queue is not None
    dialog = win.queue.start_decision(ReviewChoice.REJECT)
    assert dialog is not None
    assert load_queue(store, "S001")[0].claimed_by == "M001"
    dialog.reject()
    assert load_queue(store, "S001")[0].claimed_by is None
    assert status_of(store, "sale-7p-0001") is ReviewStatus.OPEN


def test_two_managers_cannot_decide_the_same_sale(
    window: Callable[..., ManagerWindow], store: LocalStore
) -> None:
    first, second = window("M001"), window("M002")
    assert first.queue is not None and second.queue is not None
    dialog = first.queue.start_decision(ReviewChoice.ESCALATE)
    assert dialog is not None
    assert second.queue.buttons[ReviewChoice.APPROVE].isEnabled()  # its queue was read before
    assert second.queue.start_decision(ReviewChoice.APPROVE) is None  # no dialog for the second
    assert not second.queue.buttons[ReviewChoice.APPROVE].isEnabled()
    assert "M001 is reviewing this sale (since 2026-11-18 20:06)" in second.queue.message.text()
    assert "Being reviewed by M001" in second.queue.detail.toPlainText()
    assert second.queue.model.index(0, 7).data() == "M001"
    dialog.note.setPlainText("needs head office")
    dialog.ok_button.click()
    assert status_of(store, "sale-7p-0001") is ReviewStatus.ESCALATED
    second.queue.refresh()  # the escalated sale is no longer open; the next one is free
    assert second.queue.selected_sale() == "sale-7p-0002"
    assert second.queue.start_decision(ReviewChoice.APPROVE) is not None


def test_offline_decision_is_synced_later(
    qtbot: QtBot,
    window: Callable[..., ManagerWindow],
    backend: FakeBackend,
    sink: FakeSink,
    store: LocalStore,
) -> None:
    backend.online = False
    win = window()
    decide_in(win, ReviewChoice.REJECT, "tobacco cartons, new device, owner unreachable")
    win.sync_now()
    qtbot.waitUntil(lambda: "not reachable" in win.statusBar().currentMessage())
    assert "1 waiting" in win.statusBar().currentMessage() and backend.posted == []
    assert status_of(store, "sale-7p-0001") is ReviewStatus.REJECTED  # kept locally
    backend.online = True
    backend.remote = [
        {
            "sale_id": "sale-t2-9",
            "terminal_id": "T02",
            "cashier_id": "C099",
            "wallet_id": "w-99887766554433",
            "total": 62_000,
            "currency": "JPY",
            "status": "declined",
            "reason": "risk_declined",
            "risk": {"score": 92, "action": "decline", "reasons": ["bulk_cash_convertible"]},
            "offline": False,
            "review_status": "pending",
            "created_at": 1_794_999_000,
        }
    ]
    win.sync_now()
    qtbot.waitUntil(lambda: "Synced" in win.statusBar().currentMessage())
    assert [p["decision"] for p in backend.posted] == ["reject"]
    assert "0 waiting" in win.statusBar().currentMessage()
    assert win.queue is not None and win.queue.model.index(0, 1).data().startswith("S001-T02-")
    assert {e["action"] for e in sink.entries} >= {AuditAction.REVIEW_DECISION}


def test_no_backend_means_working_offline(window: Callable[..., ManagerWindow]) -> None:
    win = window(backend=None)
    win.sync_now()
    assert "Working offline" in win.statusBar().currentMessage()


def test_cashier_session_stays_as_it_was(qtbot: QtBot, make_window: Any, store_dir: Path) -> None:
    # The real cashier window, its Ctrl+M hook, and the real PIN check (manager M001, 9999).
    store = open_store(store_dir)
    seed_demo_reviews(store, now=NOW)
    services = ManagerServices(
        store=store,
        store_id="S001",
        terminal_id="T01",
        sign_in=authenticator_sign_in(Authenticator(store)),
        currency="JPY",
        clock=lambda: NOW,
        tz=JST,
    )
    cashier = make_window(open_manager=manager_opener(services))
    cashier.signin.user.setText("C042")
    cashier.signin.pin.setText("1234")
    cashier.signin.submit()
    qtbot.waitUntil(lambda: cashier.account is not None, timeout=5000)
    entry = cashier.checkout.basket_view.entry
    entry.setText("4901089190018")  # onigiri, typed as a cashier would
    entry.returnPressed.emit()
    qtbot.waitUntil(lambda: len(cashier.checkout.basket_view.basket) == 1, timeout=3000)
    before = [(ln.product.gtin, ln.quantity) for ln in cashier.checkout.basket_view.basket.lines]
    assert before
    QTest.keySequence(cashier, QKeySequence("Ctrl+M"))
    qtbot.waitUntil(lambda: bool(cashier.findChildren(ManagerWindow)), timeout=3000)
    manager = cashier.findChildren(ManagerWindow)[0]
    assert manager.windowTitle() == "Manager review"  # the cashier's language (English)
    assert not sign_in(qtbot, manager, "C042", "1234")  # a cashier is not a manager
    assert sign_in(qtbot, manager, "M001", "9999")
    assert manager.queue is not None and manager.queue.model.rowCount() == 5
    manager.close()
    assert cashier.account is not None and cashier.account.user_id == "C042"
    assert [
        (ln.product.gtin, ln.quantity) for ln in cashier.checkout.basket_view.basket.lines
    ] == before
    actions = [e.action for e in read_entries(store)]
    assert actions[-3:] == [AuditAction.SIGN_IN_FAILED, AuditAction.SIGN_IN, AuditAction.SIGN_OUT]


def test_tampering_with_a_decision_is_detected(
    window: Callable[..., ManagerWindow], store: LocalStore
) -> None:
    win = window()
    decide_in(win, ReviewChoice.CONFIRMED_FRAUD, "owner says it was not them")
    assert verify_store(store).ok
    entry_id = read_entries(store)[-1].id
    conn = sqlite3.connect(store.path)  # someone at the store softens the record
    conn.execute(
        "UPDATE audit_log SET detail = json_set(detail, '$.decision', 'approve') WHERE id = ?",
        (entry_id,),
    )
    conn.commit()
    conn.close()
    done = subprocess.run(
        [sys.executable, "-m", "pos_app", "audit", "verify", "--data-dir", str(store.path.parent)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    result = json.loads(done.stdout)
    assert done.returncode == 1 and result["first_broken_id"] == entry_id
    assert "changed" in result["problem"]
    assert store.path.name == DB_NAME


def test_an_idle_manager_is_signed_out(
    qtbot: QtBot, window: Callable[..., ManagerWindow], store: LocalStore
) -> None:
    win = window(idle_sign_out_ms=300)
    assert win.queue is not None
    for _ in range(3):  # activity keeps the screens open
        qtbot.wait(150)
        QTest.mouseClick(win.queue.table.viewport(), Qt.MouseButton.LeftButton)
    assert win.isVisible()
    with qtbot.waitSignal(win.signed_out, timeout=3000):
        pass
    assert not win.isVisible()
    last = read_entries(store)[-1]
    assert (last.action, last.actor, last.detail["why"]) == (AuditAction.SIGN_OUT, "M001", "idle")
