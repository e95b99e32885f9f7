"""The durable outbox: what the backend must still hear, sent when it answers.

Entries are written in the same transaction as the sale they belong to
(``sales_repo.save_sale``), so a sale is never recorded without its message
nor a message queued without its sale. Kinds:

- ``finalize``: a sale accepted offline (POST /v1/sales with its own
  Idempotency-Key, so a repeat can never charge twice).
- ``reconcile``: the write-ahead entry of an online finalize, open while the
  till waits for the backend (outcome unknown, or the owner's approval); it is
  resolved with GET /v1/sales/{id} and never re-sent from here: the customer
  may have left, and the token expires within minutes anyway.
- ``cancel`` / ``void``: a step-up cancel or a void made while offline.

Order is kept within one sale (a void never overtakes its sale), not across
sales: an entry that must wait (a sale the backend has not seen yet, an owner
still deciding) holds only its own sale's later entries. An entry whose
outcome is unknown (state ``unknown``) is looked up with GET before it is sent
again. An entry the backend answered with a transient error backs off
exponentially with jitter; when the backend cannot be reached (or refuses this
till's signature) the pass stops, since every entry would fail the same way.
An unreachable backend is the link's failure, not the entry's: the drainer waits
(its own backoff, on the monotonic clock) until the next contact with the backend
and the entry stays due, so the sale that happened to be first during an outage
does not wait out a backoff grown while the backend was away (nor one shifted by
the clock offset learned when it came back). A permanent refusal (4xx) marks the
entry ``failed`` and flags the sale for review. This module only runs the queue:
what a verdict does to the local sale is :mod:`pos_app.terminal.sync.verdicts`.
"""

from __future__ import annotations

import json
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, cast

from pos_app.core.api_contract import CancelBody, FinalizeBody, SaleAnswer
from pos_app.core.errors import BackendError
from pos_app.paytoken.seen_store import purge_on
from pos_app.paytoken.verifier import DEFAULT_SKEW
from pos_app.terminal.backend.client import BackendClient, backoff_delay
from pos_app.terminal.errors import BackendAuthError, BackendRejected, OutcomeUnknown
from pos_app.terminal.store.db import LocalStore
from pos_app.terminal.store.sales_repo import OutboxEntry, enqueue, open_review
from pos_app.terminal.sync import verdicts
from pos_app.terminal.sync.verdicts import NOT_RECEIVED, WAITING_STATES, local_state

log = logging.getLogger(__name__)

OPEN_STATES = ("pending", "unknown")
# After the token's expiry plus this margin, a sale the backend never saw can no longer land.
RECONCILE_MARGIN_S = 60
# A sale the cashier is polling right now is the checkout's to resolve: look again after this.
WATCHED_RECHECK_S = 5


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
    blocked_by: str | None  # why an entry still waits (the last one's error)


class _Wait(Exception):
    """This sale's entry cannot be resolved yet; the other sales go on."""

    def __init__(self, message: str, *, until: int | None = None, holds: bool = True) -> None:
        super().__init__(message)
        self.until = until  # when waiting longer is pointless (the window closes)
        self.holds = holds  # the sale's later entries wait behind it


class _Stop(Exception):
    """The backend cannot be reached (or refuses this till): every entry would fail alike."""


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
        watched: Callable[[str], bool] = lambda _sale_id: False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store, self._client = store, client
        self._clock, self._rng = clock, rng
        self._sale_lock = sale_lock or threading.RLock()
        self._base, self._max = backoff_base_s, backoff_max_s
        self._watched = watched
        self._drain_lock = threading.Lock()
        # The link's own backoff while the backend cannot be reached; any answer ends it.
        self._monotonic = monotonic
        self._link_failures, self._link_retry_at = 0, 0.0
        self._link_error: str | None = None
        client.add_contact_listener(self._link_back)

    def _link_back(self) -> None:
        """The backend answered (any request of this process): drain at the next pass."""
        self._link_failures, self._link_retry_at = 0, 0.0

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
        """Send what is due, in order within each sale; a waiting sale holds only itself."""
        if not self._drain_lock.acquire(blocking=False):
            return DrainReport(0, self.pending_count(), "another drain is running")
        try:
            return self._drain(ignore_backoff=ignore_backoff)
        finally:
            self._drain_lock.release()

    def _drain(self, *, ignore_backoff: bool) -> DrainReport:
        if not ignore_backoff and self._monotonic() < self._link_retry_at:
            return DrainReport(0, self.pending_count(), self._link_error)
        sent, waiting = 0, None
        held: set[str] = set()  # sales with an earlier entry still open
        for row in self.open_rows():
            now = int(self._clock())
            if row.sale_id in held or not self._due(row, now=now, ignore_backoff=ignore_backoff):
                held.add(row.sale_id)
                continue
            try:
                self._process(row, now=now)
            except _Wait as exc:
                if exc.holds:
                    held.add(row.sale_id)
                waiting = str(exc)
                continue
            except _Stop as exc:
                return DrainReport(sent, self.pending_count(), str(exc))
            sent += 1
        remaining = self.pending_count()
        return DrainReport(sent, remaining, (waiting or "backing off") if remaining else None)

    def _due(self, row: OutboxRow, *, now: int, ignore_backoff: bool) -> bool:
        if row.kind == "reconcile" and self._watched(row.sale_id):
            return False  # the cashier is looking at this sale: the checkout resolves it
        return ignore_backoff or row.next_attempt_at <= now

    def _process(self, row: OutboxRow, *, now: int) -> None:
        try:
            # No lock around the network: a cashier must never wait for a drain pass.
            _HANDLERS[row.kind](self, row, now)
        except _Wait as exc:
            self._retry_later(row, error=str(exc), until=exc.until)
            raise
        except BackendAuthError as exc:
            # Often a skewed clock or a revoked key: keep the entry, keep the order.
            self._retry_later(row, error=exc.message)
            raise _Stop(exc.message) from None
        except BackendRejected as exc:
            self._refused(row, now=now, code=exc.code, error=f"{exc.status} {exc.code}: {exc}")
        except BackendError as exc:
            # A POST that may have landed is looked up before it is sent again.
            unknown = "unknown" if isinstance(exc, OutcomeUnknown) else None
            if self._client.online:  # the backend answered (5xx, 503): this entry backs off
                self._retry_later(row, error=exc.message, state=unknown)
            else:
                self._link_down(row, error=exc.message, state=unknown)
            raise _Stop(exc.message) from None

    # --- kinds --------------------------------------------------------------------------------

    def _finalize(self, row: OutboxRow, now: int) -> None:
        server_id = str(row.payload["server_sale_id"])
        view = self._lookup(server_id) if row.state == "unknown" else None
        if view is None:
            body = cast(FinalizeBody, row.payload["body"])
            view = self._client.finalize(body, idempotency_key=row.idempotency_key)
        with self._sale_lock, self._store.transaction() as conn:
            verdicts.apply_offline_result(conn, row.sale_id, view, now=now)
            _done(conn, row.id)

    def _reconcile(self, row: OutboxRow, now: int) -> None:
        with self._store.transaction() as conn:
            state = local_state(conn, row.sale_id)
            if state not in WAITING_STATES:
                _done(conn, row.id)  # the checkout resolved it while the cashier waited
                return
        view = self._lookup(str(row.payload["server_sale_id"]))
        if view is None:
            last = int(row.payload.get("token_exp", 0)) + DEFAULT_SKEW + RECONCILE_MARGIN_S
            if now <= last:
                raise _Wait("the backend has no record of the sale yet", until=last + 1)
            view = replace(NOT_RECEIVED, sale_id=str(row.payload["server_sale_id"]))
        if view.status == "step_up_required":
            until = view.step_up.expires_at + 1 if view.step_up is not None else None
            # A cancel queued behind (a till killed while sending it) is the till's answer to
            # this very wait: it goes now, or the owner could still approve what the cashier
            # cancelled. (A sale the backend has not seen yet still holds its cancel: the
            # finalize might land after it.)
            message = "the sale still waits for the customer's approval"
            raise _Wait(message, until=until, holds=False)
        with self._sale_lock, self._store.transaction() as conn:
            # The till may have resolved it meanwhile (the cashier polled): do not apply twice.
            if local_state(conn, row.sale_id) in WAITING_STATES:
                verdicts.apply_online_result(conn, row.sale_id, view, now=now, payload=row.payload)
            _done(conn, row.id)

    def _cancel(self, row: OutboxRow, now: int) -> None:
        server_id = str(row.payload["server_sale_id"])
        # The body cancel_entry stored beside the id: a void's carries the proof signed then.
        body = {name: value for name, value in row.payload.items() if name != "server_sale_id"}
        try:
            self._client.cancel_sale(
                server_id, cast(CancelBody, body), idempotency_key=row.idempotency_key
            )
            with self._sale_lock, self._store.transaction() as conn:
                verdicts.apply_cancelled(conn, row.sale_id, kind=row.kind, now=now)
                _done(conn, row.id)
                _close_reconcile(conn, row.sale_id)  # decided: nothing left to look up
            return
        except BackendRejected as exc:
            # A cancel refused manager_required found the sale approved (the owner's
            # approval came first): like not_cancellable, the till shows it paid. A void's
            # refusal is a permanent one (_refused): the sale is paid again, and said so.
            moot = ("not_cancellable", "unknown_sale", "manager_required")
            if exc.code not in moot or (row.kind == "void" and exc.code == "manager_required"):
                raise
            log.warning("outbox %s for %s: %s", row.kind, row.sale_id, exc.code)
            if exc.code in ("not_cancellable", "manager_required") and row.kind == "cancel":
                # The owner approved before the cancel arrived: the till must say so too.
                view = self._client.get_sale(server_id)
                if view.status == "approved":
                    with self._sale_lock, self._store.transaction() as conn:
                        verdicts.apply_online_result(
                            conn, row.sale_id, view, now=now, payload=row.payload
                        )
        with self._store.transaction() as conn:
            _done(conn, row.id)

    def _lookup(self, server_id: str) -> SaleAnswer | None:
        """GET the sale; None when the backend never saw it (404)."""
        try:
            return self._client.get_sale(server_id)
        except BackendRejected as exc:
            if exc.status == 404:
                return None
            raise

    # --- bookkeeping --------------------------------------------------------------------------

    def _link_down(self, row: OutboxRow, *, error: str, state: str | None) -> None:
        """No answer at all: the entry keeps its turn (still due), the drainer waits for the
        link, with a backoff of its own that any answer from the backend cuts short."""
        delay = backoff_delay(self._link_failures, base=self._base, cap=self._max, rng=self._rng)
        self._link_failures += 1
        self._link_retry_at = self._monotonic() + delay
        self._link_error = error
        self._attempted(row, error=error, state=state, due=None)

    def _retry_later(
        self,
        row: OutboxRow,
        *,
        error: str,
        state: str | None = None,
        until: int | None = None,
    ) -> None:
        delay = backoff_delay(row.attempts, base=self._base, cap=self._max, rng=self._rng)
        delay = max(1, round(delay))
        # The backend's time as of now: the answer just read may have moved the clock offset
        # (a restarted till measures it at its first contact), and due times are on that clock.
        now = int(self._clock())
        at = now + delay if until is None else max(now + 1, min(now + delay, until))
        self._attempted(row, error=error, state=state, due=at)

    def _attempted(self, row: OutboxRow, *, error: str, state: str | None, due: int | None) -> None:
        """One more attempt on *row*: its error, its new state if any, and when it is due
        again (None: unchanged, still due)."""
        with self._store.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?,"
                " next_attempt_at = COALESCE(?, next_attempt_at), state = COALESCE(?, state)"
                " WHERE id = ?",
                (error[:500], due, state, row.id),
            )

    def _refused(self, row: OutboxRow, *, now: int, code: str, error: str) -> None:
        """A permanent refusal: the entry fails and the sale says so where people look."""
        log.error("outbox entry %d (%s) refused by the backend: %s", row.id, row.kind, error)
        with self._sale_lock, self._store.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?"
                " WHERE id = ?",
                (error[:500], row.id),
            )
            if row.kind == "finalize":
                verdicts.record_offline_loss(conn, row.sale_id, code, now=now)
            elif row.kind == "void":
                proof = row.payload.get("manager_approval")
                manager = proof.get("manager_id") if isinstance(proof, dict) else None
                verdicts.record_void_refused(
                    conn, row.sale_id, code, manager_id=str(manager or "?"), now=now
                )
            else:
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


def count_open(store: LocalStore) -> int:
    rows = store.query("SELECT COUNT(*) AS n FROM outbox WHERE state IN ('pending', 'unknown')")
    return int(rows[0]["n"])


def count_failed(store: LocalStore) -> int:
    rows = store.query("SELECT COUNT(*) AS n FROM outbox WHERE state = 'failed'")
    return int(rows[0]["n"])


def has_queued_send(store: LocalStore, sale_id: str) -> bool:
    """An offline finalize, cancel or void of this sale still waits to be sent (a lookup
    of a sale the till is waiting on does not count: the checkout may talk to the backend)."""
    rows = store.query(
        "SELECT 1 FROM outbox WHERE sale_id = ? AND kind != 'reconcile'"
        " AND state IN ('pending', 'unknown')",
        (sale_id,),
    )
    return bool(rows)


def close_reconcile(store: LocalStore, sale_id: str) -> None:
    """The checkout resolved the sale itself: the background lookup is moot."""
    with store.transaction() as conn:
        _close_reconcile(conn, sale_id)


def _close_reconcile(conn: sqlite3.Connection, sale_id: str) -> None:
    conn.execute(
        "UPDATE outbox SET state = 'done' WHERE sale_id = ? AND kind = 'reconcile'"
        " AND state IN ('pending', 'unknown')",
        (sale_id,),
    )


# A cancel or void written ahead of its request: the cashier's own call has this long.
HOLD_S = 60


def write_ahead(store: LocalStore, sale_id: str, entry: OutboxEntry, *, at: int, hold: bool) -> int:
    """Queue ``entry`` before its request goes out (due at once, or held while the checkout
    sends it itself); returns its id. A held entry that outlives its process is sent."""
    with store.transaction() as conn:
        old = conn.execute(
            "SELECT id, state FROM outbox WHERE idempotency_key = ?", (entry.idempotency_key,)
        ).fetchone()
        if old is not None and old[1] in OPEN_STATES:
            entry_id = int(old[0])  # already queued (an earlier try): the same request
        else:
            if old is not None:  # a refused earlier try left its closed entry
                conn.execute("DELETE FROM outbox WHERE id = ?", (old[0],))
            enqueue(conn, sale_id, entry, at=at)
            entry_id = int(conn.execute("SELECT last_insert_rowid()").fetchone()[0])
        if hold:
            conn.execute(
                "UPDATE outbox SET next_attempt_at = ? WHERE id = ?", (at + HOLD_S, entry_id)
            )
    return entry_id


def release_held(store: LocalStore) -> int:
    """At start: a cancel or void held for the cashier's own request (or backing off) in a
    process that is gone is due at once; nobody here is sending it. Due since it was
    written, so no clock is needed (this process's offset is not measured yet). Returns how
    many."""
    with store.transaction() as conn:
        cur = conn.execute(
            "UPDATE outbox SET next_attempt_at = created_at WHERE kind IN ('cancel', 'void')"
            " AND state IN ('pending', 'unknown') AND next_attempt_at > created_at"
        )
        return int(cur.rowcount)


def release_entry(store: LocalStore, entry_id: int, *, at: int) -> None:
    """The checkout could not send it: the outbox's turn now."""
    with store.transaction() as conn:
        conn.execute("UPDATE outbox SET next_attempt_at = ? WHERE id = ?", (at, entry_id))


def drop_entry(store: LocalStore, entry_id: int) -> None:
    """The backend refused the request for good: nothing happened, nothing to send."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM outbox WHERE id = ?", (entry_id,))


def finish_entry(store: LocalStore, entry_id: int) -> None:
    """The checkout has the backend's answer: nothing left to send."""
    with store.transaction() as conn:
        _done(conn, entry_id)
