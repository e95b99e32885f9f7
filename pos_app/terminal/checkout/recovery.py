"""Sales that outlive the process that served them: closed at start, told to the cashier.

A sale's working state (``ActiveSale``) lives in memory; what survives a
restart is its row and its outbox entries. Sales waiting for the backend
(``authorizing``, ``step_up``) keep their write-ahead ``reconcile`` entry, and
the outbox follows them to the backend's answer. A sale that never reached the
backend (waiting for its code, or for a manager's PIN) cannot be resumed
without the customer, so a restart closes it: nothing was charged.
"""

from __future__ import annotations

import json

from pos_app.core.reasons import ReasonCode
from pos_app.core.sale import SaleState
from pos_app.terminal.checkout.state import ActiveSale, update_of_row
from pos_app.terminal.checkout.types import PaymentUpdate
from pos_app.terminal.store.db import LocalStore
from pos_app.terminal.store.sales_repo import set_sale_state


def close_abandoned(store: LocalStore, *, now: int) -> int:
    """At start: cancel the sales no process serves any more; the cashier is told of those
    that had a customer's code (a manager was about to approve). Returns how many."""
    with store.transaction() as conn:
        rows = conn.execute(
            "SELECT sale_id, token_facts FROM sales WHERE state = ?", (SaleState.AWAITING_PAYMENT,)
        ).fetchall()
        for sale_id, facts in rows:
            set_sale_state(
                conn, sale_id, state=SaleState.CANCELLED, at=now, reason=ReasonCode.TILL_RESTARTED
            )
            if facts and "cti" in json.loads(facts):
                conn.execute("UPDATE sales SET untold = 1 WHERE sale_id = ?", (sale_id,))
    return len(rows)


def settled_in_background(store: LocalStore, sale: ActiveSale) -> bool:
    """The outbox decided a sale this process still shows as waiting: take its outcome."""
    with store.transaction() as conn:
        row = conn.execute(
            "SELECT state, reason, authorization_id FROM sales WHERE sale_id = ?",
            (sale.sale_id,),
        ).fetchone()
        if row is None or row[0] == sale.state:
            return False
        conn.execute("UPDATE sales SET untold = 0 WHERE sale_id = ?", (sale.sale_id,))
    sale.state, sale.reason = str(row[0]), row[1]
    sale.authorization_id = row[2] or sale.authorization_id
    sale.extra.pop("pending_body", None)
    return True


def take_notices(store: LocalStore) -> tuple[PaymentUpdate, ...]:
    """Sales settled while nobody watched, each returned once (oldest first)."""
    with store.transaction() as conn:
        rows = conn.execute(
            "SELECT * FROM sales WHERE untold = 1 ORDER BY updated_at, sale_id"
        ).fetchall()
        conn.execute("UPDATE sales SET untold = 0 WHERE untold = 1")
    return tuple(update_of_row(row) for row in rows)
