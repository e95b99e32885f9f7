"""The durable outbox: what the backend must still hear, sent in order when it answers.

Entries are written in the same transaction as the sale they belong to
(``sales_repo.save_sale``), so a sale is never recorded without its message
nor a message queued without its sale. Kinds:

- ``finalize``: a sale accepted offline (POST /v1/sales with its own
  Idempotency-Key, so a repeat can never charge twice).
- ``reconcile``: an online finalize whose outcome is unknown (timeout, crash);
  it is resolved with GET /v1/sales/{id} and never re-sent from here: the
  customer may have left, and the token expires within minutes anyway.
- ``cancel`` / ``void``: a step-up cancel or a void made while offline.

Order is strict by id: the head entry blocks the ones behind it (a void must
never overtake its sale). An entry whose outcome is unknown (state ``unknown``)
is reconciled with GET before it is sent again. A transient failure backs off
exponentially with jitter; a permanent refusal (4xx) marks the entry
``failed`` and flags the sale for review, so one bad entry cannot stop the queue.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pos_app.core.errors import BackendError
from pos_app.core.sale import SaleState
from pos_app.paytoken.seen_store import purge_on, record_on
from pos_app.paytoken.verifier import DEFAULT_SKEW
from pos_app.terminal.backend.client import BackendClient, backoff_delay
from pos_app.terminal.errors import BackendAuthError, BackendRejected, OutcomeUnknown
from pos_app.terminal.store.db import LocalStore
from pos_app.terminal.store.sales_repo import open_review, set_sale_state

log = logging.getLogger(__name__)

OPEN_STATES = ("pending", "unknown")
# After the token's expiry plus this margin, a sale the backend never saw can no longer land.
RECONCILE_MARGIN_S = 60


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    sale_id: str
    kind: str
    idempotency_key: str
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: int


@dataclass(frozen=True, slots=True)
class DrainReport:
    sent: int  # entries resolved in this pass
    remaining: int
    blocked_by: str | None  # why the pass stopped early (the head's last error)


class _Blocked(Exception):
    pass


class OutboxDrainer:
    """Drains the outbox; call :meth:`drain_once` from one background lane."""

    def __init__(
        self,
        store: LocalStore,
        client: BackendClient,
        *,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        sale_lock: threading.RLock | None = None,
        backoff_base_s: float = 2.0,
        backoff_max_s: float = 300.0,
    ) -> None:
        self._store, self._client = store, client
        self._clock, self._rng = clock, rng
        self._sale_lock = sale_lock or threading.RLock()
        self._base, self._max = backoff_base_s, backoff_max_s
        self._drain_lock = threading.Lock()

    def purge_seen(self, now: int) -> int:
        """Forget used codes past ``exp + skew``: step 14 refuses them anyway."""
        with self._store.transaction() as conn:
            return purge_on(conn, now)

    def pending_count(self) -> int:
        return count_open(self._store)

    def open_rows(self) -> list[OutboxRow]:
        rows = self._store.query(
            "SELECT id, sale_id, kind, idempotency_key, payload, state, attempts, next_attempt_at"
            " FROM outbox WHERE state IN ('pending', 'unknown') ORDER BY id"
        )
        return [
            OutboxRow(
                r["id"],
                r["sale_id"],
                r["kind"],
                r["idempotency_key"],
                json.loads(r["payload"]),
                r["state"],
                r["attempts"],
                r["next_attempt_at"],
            )
            for r in rows
        ]

    def drain_once(self, *, ignore_backoff: bool = False) -> DrainReport:
        """Send what is due, in order; stop at the first entry that cannot be resolved now."""
        if not self._drain_lock.acquire(blocking=False):
            return DrainReport(0, self.pending_count(), "another drain is running")
        try:
            return self._drain(ignore_backoff=ignore_backoff)
        finally:
            self._drain_lock.release()

    def _drain(self, *, ignore_backoff: bool) -> DrainReport:
        sent = 0
        for row in self.open_rows():
            now = int(self._clock())
            if row.next_attempt_at > now and not ignore_backoff:
                return DrainReport(sent, self.pending_count(), "backing off")
            try:
                self._process(row, now=now)
            except _Blocked as exc:
                return DrainReport(sent, self.pending_count(), str(exc))
            sent += 1
        return DrainReport(sent, 0, None)

    def _process(self, row: OutboxRow, *, now: int) -> None:
        try:
            # No lock around the network: a cashier must never wait for a drain pass.
            _HANDLERS[row.kind](self, row, now)
        except OutcomeUnknown as exc:
            self._retry_later(row, now=now, error=exc.message, state="unknown")
            raise _Blocked(exc.message) from None
        except BackendAuthError as exc:
            # Often a skewed clock or a revoked key: keep the entry, keep the order.
            self._retry_later(row, now=now, error=exc.message)
            raise _Blocked(exc.message) from None
        except BackendRejected as exc:
            self._fail(row, now=now, error=f"{exc.status} {exc.code}: {exc.message}")
        except BackendError as exc:
            self._retry_later(row, now=now, error=exc.message)
            raise _Blocked(exc.message) from None

    # --- kinds --------------------------------------------------------------------------------

    def _finalize(self, row: OutboxRow, now: int) -> None:
        server_id = str(row.payload["server_sale_id"])
        view = self._lookup(server_id) if row.state == "unknown" else None
        if view is None:
            view = self._client.finalize(row.payload["body"], idempotency_key=row.idempotency_key)
        with self._store.transaction() as conn:
            _apply_offline_result(conn, row.sale_id, view, now=now)
            _done(conn, row.id)

    def _reconcile(self, row: OutboxRow, now: int) -> None:
        local = self._store.query("SELECT state FROM sales WHERE sale_id = ?", (row.sale_id,))
        if not local or local[0]["state"] != SaleState.AUTHORIZING:
            with self._store.transaction() as conn:
                _done(conn, row.id)  # the checkout resolved it while the cashier waited
            return
        view = self._lookup(str(row.payload["server_sale_id"]))
        if view is None:
            if now <= int(row.payload.get("token_exp", 0)) + DEFAULT_SKEW + RECONCILE_MARGIN_S:
                raise OutcomeUnknown("the backend has no record of the sale yet")
            view = {"status": "declined", "reason": "not_received"}
        if view.get("status") == "step_up_required":
            raise OutcomeUnknown("the sale still waits for the customer's approval")
        with self._sale_lock, self._store.transaction() as conn:
            # The till may have resolved it meanwhile (the cashier polled): do not apply twice.
            state = conn.execute("SELECT state FROM sales WHERE sale_id = ?", (row.sale_id,))
            if state.fetchone()[0] == SaleState.AUTHORIZING:
                apply_online_result(conn, row.sale_id, view, now=now, payload=row.payload)
            _done(conn, row.id)

    def _cancel(self, row: OutboxRow, now: int) -> None:
        server_id = str(row.payload["server_sale_id"])
        reason = row.payload.get("reason")
        try:
            self._client.cancel_sale(server_id, idempotency_key=row.idempotency_key, reason=reason)
        except BackendRejected as exc:
            if exc.code not in ("not_cancellable", "unknown_sale"):
                raise
            log.warning("outbox %s for %s: %s", row.kind, row.sale_id, exc.code)
        with self._store.transaction() as conn:
            _done(conn, row.id)

    def _lookup(self, server_id: str) -> dict[str, Any] | None:
        """GET the sale; None when the backend never saw it (404)."""
        try:
            return self._client.get_sale(server_id)
        except BackendRejected as exc:
            if exc.status == 404:
                return None
            raise

    # --- bookkeeping --------------------------------------------------------------------------

    def _retry_later(
        self, row: OutboxRow, *, now: int, error: str, state: str | None = None
    ) -> None:
        delay = backoff_delay(row.attempts, base=self._base, cap=self._max, rng=self._rng)
        with self._store.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,"
                " state = COALESCE(?, state) WHERE id = ?",
                (error[:500], now + max(1, round(delay)), state, row.id),
            )

    def _fail(self, row: OutboxRow, *, now: int, error: str) -> None:
        log.error("outbox entry %d (%s) refused by the backend: %s", row.id, row.kind, error)
        with self._store.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?"
                " WHERE id = ?",
                (error[:500], row.id),
            )
            open_review(conn, row.sale_id, at=now)


_HANDLERS: dict[str, Callable[[OutboxDrainer, OutboxRow, int], None]] = {
    "finalize": OutboxDrainer._finalize,
    "reconcile": OutboxDrainer._reconcile,
    "cancel": OutboxDrainer._cancel,
    "void": OutboxDrainer._cancel,
}


def _done(conn: sqlite3.Connection, entry_id: int) -> None:
    conn.execute(
        "UPDATE outbox SET state = 'done', attempts = attempts + 1, last_error = NULL WHERE id = ?",
        (entry_id,),
    )


def _apply_offline_result(
    conn: sqlite3.Connection, sale_id: str, view: dict[str, Any], *, now: int
) -> None:
    """An offline sale settled: approved, or declined and so an offline loss to review."""
    status = view.get("status")
    if status == "approved":
        set_sale_state(
            conn,
            sale_id,
            state=SaleState.APPROVED,
            at=now,
            authorization_id=view.get("authorization_id"),
            event_detail="settled",
        )
        return
    # The goods left with the customer: the sale stays approved locally, its reason
    # says why the backend refused it, and a manager reviews the loss.
    reason = str(view.get("reason") or status)
    set_sale_state(
        conn,
        sale_id,
        state=SaleState.APPROVED,
        at=now,
        reason=reason,
        event_detail=f"offline_loss:{reason}",
    )
    open_review(conn, sale_id, at=now)


def apply_online_result(
    conn: sqlite3.Connection,
    sale_id: str,
    view: dict[str, Any],
    *,
    now: int,
    payload: dict[str, Any],
) -> None:
    """An online sale whose outcome was unknown: record what the backend decided."""
    status = view.get("status")
    if status == "approved":
        set_sale_state(
            conn,
            sale_id,
            state=SaleState.APPROVED,
            at=now,
            authorization_id=view.get("authorization_id"),
            event_detail="reconciled",
        )
        cti, exp = payload.get("cti"), payload.get("token_exp")
        if isinstance(cti, str) and isinstance(exp, int):
            record_on(conn, bytes.fromhex(cti), expires_at=exp + DEFAULT_SKEW, now=now)
        # Nobody at the till saw this approval: a manager checks the goods were handed over.
        open_review(conn, sale_id, at=now)
        return
    state = SaleState.CANCELLED if status == "cancelled" else SaleState.DECLINED
    reason = None if status == "cancelled" else str(view.get("reason") or "declined")
    set_sale_state(conn, sale_id, state=state, at=now, reason=reason, event_detail="reconciled")


def count_open(store: LocalStore) -> int:
    rows = store.query("SELECT COUNT(*) AS n FROM outbox WHERE state IN ('pending', 'unknown')")
    return int(rows[0]["n"])


def has_open_entry(store: LocalStore, sale_id: str) -> bool:
    rows = store.query(
        "SELECT 1 FROM outbox WHERE sale_id = ? AND state IN ('pending', 'unknown')", (sale_id,)
    )
    return bool(rows)


def close_reconcile(store: LocalStore, sale_id: str) -> None:
    """The checkout resolved an unknown outcome itself: the background lookup is moot."""
    with store.transaction() as conn:
        conn.execute(
            "UPDATE outbox SET state = 'done' WHERE sale_id = ? AND kind = 'reconcile'"
            " AND state IN ('pending', 'unknown')",
            (sale_id,),
        )
