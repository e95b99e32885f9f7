"""Render the manager screens to PNG files (docs/screenshots/manager-*.png).

Run under a display server, e.g. ``xvfb-run -a python -m pos_app.demo.manager_screenshots
docs/screenshots``. Uses a throw-away database seeded with the demo week, a fixed
clock and no backend, so the pictures are the same on every run.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta, timezone
from pathlib import Path

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication, QWidget

from pos_app.demo.seed_reviews import seed_demo_reviews, seed_history
from pos_app.terminal.reviews.queue import ReviewChoice, claim
from pos_app.terminal.store.db import LocalStore, open_store
from pos_app.ui.manager.services import ManagerServices, PinCheck
from pos_app.ui.manager.window import ManagerWindow

NOW = 1_795_000_000
JST = timezone(timedelta(hours=9))


def _services(store: LocalStore, lang: str) -> ManagerServices:
    return ManagerServices(
        store=store,
        store_id="S001",
        terminal_id="T01",
        sign_in=lambda who, _pin: PinCheck(True, who),
        currency="JPY",
        clock=lambda: NOW,
        tz=JST,
        lang=lang,
    )


def _save(widget: QWidget, path: Path) -> None:
    QApplication.processEvents()
    widget.grab().save(str(path))
    print(path)


def _window(store: LocalStore, *, lang: str, manager: str = "M001") -> ManagerWindow:
    win = ManagerWindow(_services(store, lang))
    win.resize(1360, 820)
    win.show()
    win.sign_in(manager, "")
    _wait_for(lambda: win.queue is not None)
    return win


def _wait_for(done: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("the manager window did not get there in time")
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)


def render_all(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    store = open_store(Path(tempfile.mkdtemp()))
    seed_history(store, now=NOW)
    seed_demo_reviews(store, now=NOW)
    signin = ManagerWindow(_services(store, "en"))
    signin.resize(1360, 820)
    signin.show()
    signin.sign_in_page.manager_id.setText("M001")
    _save(signin, out / "manager-signin.png")
    signin.close()
    for lang, suffix in (("en", ""), ("ja", "-ja")):
        win = _window(store, lang=lang)
        _save(win, out / f"manager-queue{suffix}.png")
        win.close()
    _decision_and_claim(store, out)
    win = _window(store, lang="en")
    assert win.report is not None and win.chart is not None
    win.tabs.setCurrentWidget(win.report)
    win.report.since.setDate(win.report.since.date().addDays(-6))
    win.report.show_x()
    _save(win, out / "manager-shift-report.png")
    win.tabs.setCurrentWidget(win.chart)
    _save(win, out / "manager-chart.png")
    win.close()


def _decision_and_claim(store: LocalStore, out: Path) -> None:
    first = _window(store, lang="en")
    assert first.queue is not None
    first.queue.select_sale("sale-7p-0002")
    dialog = first.queue.start_decision(ReviewChoice.CONFIRMED_FRAUD)
    assert dialog is not None
    dialog.note.setPlainText(
        "Owner called the store: she did not buy 12 cartons. New phone and 3 other wallets at "
        "this till in 30 min. Camera shows the same man for all of them."
    )
    _save(dialog, out / "manager-decision.png")
    claim(store, "sale-7p-0001", manager_id="M002", now=NOW - 120)
    first.queue.refresh()
    first.queue.select_sale("sale-7p-0001")
    first.queue.start_decision(ReviewChoice.APPROVE)  # refused: M002 holds it
    _save(first, out / "manager-claimed.png")
    dialog.reject()
    first.close()


def main(argv: list[str]) -> int:
    app = QApplication.instance() or QApplication(argv[:1])
    render_all(Path(argv[1]) if len(argv) > 1 else Path("docs/screenshots"))
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
