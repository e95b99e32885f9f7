"""Manager window with claims across tills: the backend decides who holds a sale."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pytestqt.qtbot import QtBot

from pos_app.core.errors import BackendError
from pos_app.terminal.reviews.queue import (
    ClaimedByOther,
    ReviewChoice,
    ReviewStatus,
    decisions_of,
    load_queue,
)
from pos_app.terminal.store.db import LocalStore
from pos_app.ui.manager.window import ManagerWindow

NOW = 1_795_000_000  # the seeded queue's clock (conftest.NOW)


def status_of(store: LocalStore, sale_id: str) -> ReviewStatus:
    return next(i.status for i in load_queue(store, "S001") if i.sale_id == sale_id)


class FakeClaims:
    """The backend's claim endpoints: one holder per sale, shared by every till."""

    def __init__(self) -> None:
        self.holders: dict[str, tuple[str, int]] = {}
        self.online = True
        self.calls: list[tuple[str, str, str]] = []

    def claim(self, sale_id: str, *, reviewer_id: str) -> Mapping[str, Any]:
        self.calls.append(("claim", sale_id, reviewer_id))
        if not self.online:
            raise BackendError("backend unreachable")
        holder = self.holders.setdefault(sale_id, (reviewer_id, NOW))
        if holder[0] != reviewer_id:
            raise ClaimedByOther(sale_id, claimed_by=holder[0], claimed_at=holder[1])
        return {"sale_id": sale_id, "claimed_by": reviewer_id}

    def release(self, sale_id: str, *, reviewer_id: str) -> None:
        self.calls.append(("release", sale_id, reviewer_id))
        if self.holders.get(sale_id, (reviewer_id,))[0] == reviewer_id:
            self.holders.pop(sale_id, None)


def test_claim_held_at_another_till_shows_who(
    qtbot: QtBot, window: Callable[..., ManagerWindow], store: LocalStore
) -> None:
    claims = FakeClaims()
    claims.holders["sale-7p-0001"] = ("M777", NOW - 60)  # a manager at till T02
    win = window("M001", claims=claims)
    assert win.queue is not None and win.queue.selected_sale() == "sale-7p-0001"
    opened: list[object] = []
    win.queue.dialog_opened.connect(opened.append)
    assert win.queue.start_decision(ReviewChoice.APPROVE) is None  # the claim runs off the GUI
    queue = win.queue
    assert queue is not None
    qtbot.waitUntil(lambda: "M777" in queue.message.text(), timeout=5000)
    assert opened == []
    assert not win.queue.buttons[ReviewChoice.APPROVE].isEnabled()
    assert "Being reviewed by M777" in win.queue.detail.toPlainText()
    assert load_queue(store, "S001")[0].claimed_by == "M777"


def test_claim_granted_opens_the_dialog_and_cancel_releases_everywhere(
    qtbot: QtBot, window: Callable[..., ManagerWindow], store: LocalStore
) -> None:
    claims = FakeClaims()
    win = window("M001", claims=claims)
    assert win.queue is not None
    with qtbot.waitSignal(win.queue.dialog_opened, timeout=5000) as opened:
        win.queue.start_decision(ReviewChoice.REJECT)
    dialog = opened.args[0]
    assert claims.holders["sale-7p-0001"][0] == "M001"
    assert load_queue(store, "S001")[0].claimed_by == "M001"
    dialog.reject()
    qtbot.waitUntil(lambda: "sale-7p-0001" not in claims.holders, timeout=5000)
    assert load_queue(store, "S001")[0].claimed_by is None
    assert ("release", "sale-7p-0001", "M001") in claims.calls


def test_offline_claim_is_local(
    qtbot: QtBot, window: Callable[..., ManagerWindow], store: LocalStore
) -> None:
    claims = FakeClaims()
    claims.online = False
    win = window("M001", claims=claims)
    assert win.queue is not None
    with qtbot.waitSignal(win.queue.dialog_opened, timeout=5000) as opened:
        win.queue.start_decision(ReviewChoice.ESCALATE)
    dialog = opened.args[0]
    dialog.note.setPlainText("needs head office")
    dialog.ok_button.click()
    assert [c[0] for c in claims.calls] == ["claim"]
    assert status_of(store, "sale-7p-0001") is ReviewStatus.ESCALATED
    assert [(d.decision, d.synced) for d in decisions_of(store, "sale-7p-0001")] == [
        (ReviewChoice.ESCALATE, False)
    ]  # queued for the backend
