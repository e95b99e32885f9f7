import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from pos_app.core.api_contract import DecisionBody, ReviewedSale, parse
from pos_app.core.errors import BackendError
from pos_app.demo.seed_reviews import seed_demo_reviews
from pos_app.terminal.store.db import LocalStore, open_store
from pos_app.ui.manager.services import ManagerServices, PinCheck
from pos_app.ui.manager.window import ManagerWindow

NOW = 1_795_000_000  # 2026-11-18 (Wed) 20:06 JST
JST = timezone(timedelta(hours=9))
PINS = {"M001": "2468", "M002": "1357"}


class FakeBackend:
    """The reference backend's /v1/reviews as far as the terminal can tell."""

    def __init__(self) -> None:
        self.online = True
        self.posted: list[dict[str, Any]] = []
        self.keys: set[str] = set()
        self.frozen: set[str] = set()
        self.remote: list[dict[str, Any]] = []

    def list_reviews(self, store_id: str, status: str | None = None) -> Sequence[ReviewedSale]:
        self._check()
        return [parse(ReviewedSale, r) for r in self.remote]

    def post_decision(
        self, sale_id: str, body: DecisionBody, *, idempotency_key: str
    ) -> Mapping[str, Any]:
        decision, note = body["decision"], body.get("note")
        self._check()
        if idempotency_key not in self.keys:
            self.keys.add(idempotency_key)
            self.posted.append({"sale_id": sale_id, "decision": decision, "note": note})
        if decision == "confirmed_fraud":
            self.frozen.add(sale_id)
        return {"sale_id": sale_id}

    def _check(self) -> None:
        if not self.online:
            raise BackendError("backend unreachable (connection refused)")


class FakeSink:
    def __init__(self) -> None:
        self.entries: list[Mapping[str, Any]] = []

    def push_audit(
        self, *, terminal_id: str, entries: Sequence[Mapping[str, Any]], idempotency_key: str
    ) -> None:
        self.entries.extend(entries)


def fake_sign_in(manager_id: str, pin: str) -> PinCheck:
    if PINS.get(manager_id) == pin:
        return PinCheck(True, manager_id, attempts_left=5)
    return PinCheck(False, attempts_left=4)


def sign_in(qtbot: QtBot, win: ManagerWindow, manager_id: str, pin: str) -> bool:
    """Start the PIN check (it runs off the GUI thread) and wait for its answer."""
    win.sign_in(manager_id, pin)
    qtbot.waitUntil(win.sign_in_page.button.isEnabled, timeout=5000)
    return win.queue is not None and win.manager_id == manager_id


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = open_store(tmp_path / "data")
    seed_demo_reviews(s, now=NOW)
    yield s
    s.close()


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def sink() -> FakeSink:
    return FakeSink()


@pytest.fixture
def saved(tmp_path: Path) -> dict[str, Path]:
    return {"csv": tmp_path / "queue.csv", "pdf": tmp_path / "shift.pdf"}


@pytest.fixture
def services(
    store: LocalStore, backend: FakeBackend, sink: FakeSink, saved: dict[str, Path]
) -> Callable[..., ManagerServices]:
    def make(**over: Any) -> ManagerServices:
        def ask(_parent: object, suggested: str, _filter: str) -> str:
            return str(saved["pdf" if suggested.endswith(".pdf") else "csv"])

        fields: dict[str, Any] = {
            "store": store,
            "store_id": "S001",
            "terminal_id": "T01",
            "sign_in": fake_sign_in,
            "currency": "JPY",
            "clock": lambda: NOW,
            "backend": backend,
            "audit_sink": sink,
            "tz": JST,
            "lang": "en",
            "ask_path": ask,
            "confirm": lambda _parent, _question: True,
        }
        return ManagerServices(**{**fields, **over})

    return make


@pytest.fixture
def window(qtbot: QtBot, services: Callable[..., ManagerServices]) -> Callable[..., ManagerWindow]:
    def open_as(manager_id: str = "M001", **over: Any) -> ManagerWindow:
        win = ManagerWindow(services(**over))
        qtbot.addWidget(win)
        win.show()
        assert sign_in(qtbot, win, manager_id, PINS[manager_id])
        return win

    return open_as
