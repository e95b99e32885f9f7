"""What the manager mode needs from the rest of the application, injected.

Everything with a side effect outside the window (the database, the clock, the
PIN check, the backend, file and confirmation dialogs) comes in here, so the
window runs standalone in tests and the cashier window wires it in one line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from pos_app.terminal.audit.sync import AuditSink
from pos_app.terminal.manager_keys import ManagerSigner
from pos_app.terminal.printing.service import ReceiptService
from pos_app.terminal.reviews.claims import ClaimsBackend
from pos_app.terminal.reviews.sync import ReviewsBackend
from pos_app.terminal.store.db import LocalStore


@dataclass(frozen=True, slots=True)
class PinCheck:
    ok: bool
    manager_id: str = ""
    attempts_left: int = 0
    locked_for_s: int = 0
    # The manager's unlocked key (terminal.manager_keys.ManagerSigner) when the till has
    # manager keys: it signs this session's decisions, the backend's proof of who decided.
    signer: ManagerSigner | None = None


SignIn = Callable[[str, str], PinCheck]
AskPath = Callable[[QWidget, str, str], str]  # (parent, suggested name, filter) -> "" if cancelled
Confirm = Callable[[QWidget, str], bool]


def ask_save_path(parent: QWidget, suggested: str, name_filter: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, "", suggested, name_filter)
    return str(path)


def confirm(parent: QWidget, question: str) -> bool:
    answer = QMessageBox.question(parent, "", question)
    return answer == QMessageBox.StandardButton.Yes


def local_tz() -> tzinfo:
    zone = datetime.now().astimezone().tzinfo
    return zone if zone is not None else UTC


@dataclass(frozen=True, slots=True)
class ManagerServices:
    store: LocalStore
    store_id: str
    terminal_id: str
    # manager id + PIN (passphrase with manager keys) -> PinCheck; logs it (auth.Authenticator)
    sign_in: SignIn
    currency: str  # the till's ISO 4217 currency: the shift report's amounts are in it
    clock: Callable[[], float] = time.time
    backend: ReviewsBackend | None = None  # None: work offline, decisions stay queued
    # Claims across the store's tills (ClientReviewsBackend); None: claims on this till only.
    claims: ClaimsBackend | None = None
    audit_sink: AuditSink | None = None
    receipts: ReceiptService | None = None  # reprints and the printed shift report
    # (sku, lang) -> the catalog's product name: evidence in the manager's language
    product_names: Callable[[str, str], str | None] | None = None
    tz: tzinfo = field(default_factory=local_tz)
    lang: str = "ja"
    idle_sign_out_ms: int = 5 * 60 * 1000  # no key or click for this long: signed out
    ask_path: AskPath = ask_save_path
    confirm: Confirm = confirm

    def now(self) -> int:
        return int(self.clock())


def authenticator_sign_in(auth: Any) -> SignIn:
    """Adapt ``pos_app.terminal.auth.Authenticator`` (manager role) to ``SignIn``."""
    from pos_app.terminal.auth import Role

    def check(manager_id: str, pin: str) -> PinCheck:
        result = auth.sign_in(manager_id, pin, role=Role.MANAGER)
        account = result.account
        return PinCheck(
            ok=bool(result.ok),
            manager_id=account.user_id if account is not None else "",
            attempts_left=int(result.attempts_left),
            locked_for_s=int(result.locked_for_s),
            signer=result.signer,
        )

    return check
