"""Applying the backend's verdicts to the local store (the outbox runner only fetches them).

Each function runs inside the caller's transaction. A sale settled here was
settled while nobody at the till was looking at it (a restart, a cashier who
moved on, an offline sale): it is marked ``untold`` until the checkout has
shown it (``CheckoutService.notices``), and a manager reviews what may have
left the store unseen.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from pos_app.core.sale import SaleState
from pos_app.paytoken.reasons import VOID_REFUSED
from pos_app.paytoken.seen_store import record_on
from pos_app.paytoken.verifier import DEFAULT_SKEW
from pos_app.terminal.audit.log import AuditAction, append_audit
from pos_app.terminal.store.sales_repo import open_review, set_sale_state

# States in which the till is still waiting for the backend to decide (write-ahead entry open).
WAITING_STATES = frozenset({SaleState.AUTHORIZING, SaleState.STEP_UP})


def mark_untold(conn: sqlite3.Connection, sale_id: str) -> None:
    conn.execute("UPDATE sales SET untold = 1 WHERE sale_id = ?", (sale_id,))


def apply_offline_result(
    conn: sqlite3.Connection, sale_id: str, view: dict[str, Any], *, now: int
) -> None:
    """An offline sale settled: approved, or declined and so an offline loss to review.

    A sale voided while its finalize waited stays voided: its void is queued right
    behind (found by the fault harness: the settlement used to overwrite the void, so
    the till showed approved a sale whose customer the backend then refunded).
    """
    voided = local_state(conn, sale_id) == SaleState.VOIDED
    if view.get("status") == "approved":
        set_sale_state(
            conn,
            sale_id,
            state=SaleState.VOIDED if voided else SaleState.APPROVED,
            at=now,
            authorization_id=view.get("authorization_id"),
            event_detail="settled",
        )
        return
    reason = str(view.get("reason") or view.get("status"))
    if voided:  # the goods came back: nothing was lost
        set_sale_state(conn, sale_id, state=SaleState.VOIDED, at=now, event_detail=reason)
        return
    record_offline_loss(conn, sale_id, reason, now=now)


def record_offline_loss(conn: sqlite3.Connection, sale_id: str, reason: str, *, now: int) -> None:
    """The backend will not charge an offline sale (declined, or its request refused).

    The goods left with the customer: the sale stays approved locally, its reason
    says why nobody was charged, a manager reviews the loss, and the cashier is told.
    """
    set_sale_state(
        conn,
        sale_id,
        state=SaleState.APPROVED,
        at=now,
        reason=reason,
        event_detail=f"offline_loss:{reason}",
    )
    open_review(conn, sale_id, at=now)
    mark_untold(conn, sale_id)


def apply_online_result(
    conn: sqlite3.Connection,
    sale_id: str,
    view: dict[str, Any],
    *,
    now: int,
    payload: dict[str, Any],
) -> None:
    """An online sale nobody at the till saw decided: record what the backend decided."""
    status = view.get("status")
    mark_untold(conn, sale_id)
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
        if isinstance(cti, str) and isinstance(exp, int):  # already there after a step-up
            record_on(conn, bytes.fromhex(cti), expires_at=exp + DEFAULT_SKEW, now=now)
        # Nobody at the till saw this approval: a manager checks the goods were handed over.
        open_review(conn, sale_id, at=now)
        return
    state = SaleState.CANCELLED if status == "cancelled" else SaleState.DECLINED
    reason = None if status == "cancelled" else str(view.get("reason") or "declined")
    set_sale_state(conn, sale_id, state=state, at=now, reason=reason, event_detail="reconciled")


def apply_cancelled(conn: sqlite3.Connection, sale_id: str, *, kind: str, now: int) -> None:
    """A cancel or void the backend carried out: the till shows it too, even if it died
    between sending it and recording it."""
    state = local_state(conn, sale_id)
    before = (SaleState.APPROVED,) if kind == "void" else tuple(WAITING_STATES)
    if state not in before:
        return  # recorded already (or the sale moved on: nothing to undo)
    final = SaleState.VOIDED if kind == "void" else SaleState.CANCELLED
    set_sale_state(conn, sale_id, state=final, at=now, event_detail="reconciled")
    mark_untold(conn, sale_id)


def record_void_refused(
    conn: sqlite3.Connection, sale_id: str, code: str, *, manager_id: str, now: int
) -> None:
    """A void sent from the outbox was refused (a revoked manager key, a forged or stale
    proof, ...): the backend kept the customer's payment, so the till shows the sale paid
    again, tells the cashier, puts it on the manager's review list and logs who asked."""
    if local_state(conn, sale_id) != SaleState.VOIDED:
        return
    set_sale_state(
        conn,
        sale_id,
        state=SaleState.APPROVED,
        at=now,
        reason=VOID_REFUSED,
        event_detail=f"{VOID_REFUSED}:{code}",
    )
    append_audit(
        conn,
        at=now,
        actor=manager_id,
        action=AuditAction.VOID_REFUSED,
        detail={"sale_id": sale_id, "refusal": code},
    )
    open_review(conn, sale_id, at=now)
    mark_untold(conn, sale_id)


def local_state(conn: sqlite3.Connection, sale_id: str) -> str | None:
    row = conn.execute("SELECT state FROM sales WHERE sale_id = ?", (sale_id,)).fetchone()
    return None if row is None else str(row[0])
