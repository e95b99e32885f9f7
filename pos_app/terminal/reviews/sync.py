"""Review queue <-> backend: pull the store's flagged sales, push queued decisions.

Decisions are written locally first (``reviews.decide``) so a manager can work
while the backend is unreachable; ``push_decisions`` sends them later in the
order they were made. A failure for one sale stops that sale's later decisions
(the backend must see "escalate" before "confirmed_fraud") but not other sales'.
The idempotency key is fixed per decision, so a retry after a lost response is
harmless.

The backend speaks through ``ReviewsBackend`` (the signed HTTP client in the
app, a fake in tests); any ``PosError`` it raises counts as "not delivered yet".
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from pos_app.core.api_contract import DecisionBody, ReviewDecisionName, ReviewedSale
from pos_app.core.errors import PosError
from pos_app.terminal.reviews.queue import ReviewStatus
from pos_app.terminal.store.db import LocalStore

_STATUS_FROM_BACKEND = {"pending": ReviewStatus.OPEN, **{s.value: s for s in ReviewStatus}}


class ReviewsBackend(Protocol):
    def list_reviews(self, store_id: str, status: str | None = None) -> Sequence[ReviewedSale]:
        """``GET /v1/reviews``: the ``reviews`` array of the response."""
        ...

    def post_decision(self, sale_id: str, body: DecisionBody, *, idempotency_key: str) -> object:
        """``POST /v1/reviews/{sale_id}/decision``."""
        ...


@dataclass(frozen=True, slots=True)
class PushReport:
    sent: int
    failed: int
    pending: int
    last_error: str | None = None


def pending_decisions(store: LocalStore) -> int:
    return int(store.query("SELECT COUNT(*) FROM review_decisions WHERE synced = 0")[0][0])


def push_decisions(
    store: LocalStore, backend: ReviewsBackend, *, terminal_id: str, now: int
) -> PushReport:
    rows = store.query(
        "SELECT id, sale_id, decision, reviewer_id, note, at, signature FROM review_decisions"
        " WHERE synced = 0 ORDER BY id"
    )
    blocked: set[str] = set()
    sent = failed = 0
    last_error = None
    server_ids = {local: server for server, local in _server_ids(store).items()}
    for row in rows:
        if row["sale_id"] in blocked:
            continue
        try:
            backend.post_decision(
                server_ids.get(row["sale_id"], row["sale_id"]),
                _decision_body(row),
                idempotency_key=f"review-{terminal_id}-{row['id']}",
            )
        except PosError as exc:
            blocked.add(row["sale_id"])
            failed += 1
            last_error = exc.message
            _mark(store, row["id"], error=exc.message)
            continue
        sent += 1
        _mark(store, row["id"], error=None)
    return PushReport(sent, failed, pending_decisions(store), last_error)


def _decision_body(row: sqlite3.Row) -> DecisionBody:
    body: DecisionBody = {
        "decision": cast(ReviewDecisionName, row["decision"]),
        "reviewer_id": row["reviewer_id"],
        "note": row["note"],
    }
    if row["signature"]:  # the manager's proof, signed when the decision was made
        body["decided_at"], body["signature"] = row["at"], row["signature"]
    return body


def _mark(store: LocalStore, decision_id: int, *, error: str | None) -> None:
    with store.transaction() as conn:
        if error is None:
            conn.execute(
                "UPDATE review_decisions SET synced = 1, last_error = NULL WHERE id = ?",
                (decision_id,),
            )
        else:
            conn.execute(
                "UPDATE review_decisions SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                (error[:500], decision_id),
            )


def pull_reviews(store: LocalStore, backend: ReviewsBackend, *, store_id: str, now: int) -> int:
    """Cache the store's flagged sales from other terminals; adopt decisions made elsewhere.

    Returns how many sales the backend listed. A sale with a decision still queued
    here keeps the local status: it is newer than what the backend knows.
    """
    listed = backend.list_reviews(store_id)
    local_of = _server_ids(store)
    with store.transaction() as conn:
        queued = {
            r[0]
            for r in conn.execute("SELECT DISTINCT sale_id FROM review_decisions WHERE synced = 0")
        }
        for sale in listed:
            sale_id = local_of.get(sale.sale_id, sale.sale_id)
            if sale_id not in local_of:
                _upsert_remote(conn, sale, store_id=store_id, now=now)
            status = _STATUS_FROM_BACKEND.get(sale.review_status or "pending")
            if status is not None and sale_id not in queued:
                conn.execute(
                    "INSERT INTO reviews (sale_id, status, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (sale_id) DO UPDATE SET status = excluded.status,"
                    " updated_at = excluded.updated_at WHERE reviews.status != excluded.status",
                    (sale_id, status.value, now),
                )
    return len(listed)


def _server_ids(store: LocalStore) -> dict[str, str]:
    """Backend sale id -> this terminal's sale id (a retried payment gets "<id>.<attempt>")."""
    rows = store.query(
        "SELECT sale_id, COALESCE(json_extract(token_facts, '$.server_sale_id'), sale_id)"
        " FROM sales"
    )
    mapping = {str(r[0]): str(r[0]) for r in rows}
    mapping.update({str(r[1]): str(r[0]) for r in rows})
    return mapping


def mask_wallet(wallet_id: str | None) -> str | None:
    """The same shape the till shows: enough to tell wallets apart, never the whole id."""
    if not wallet_id:
        return None
    if len(wallet_id) <= 10:
        return wallet_id[:2] + "…"
    return f"{wallet_id[:5]}…{wallet_id[-4:]}"


def _upsert_remote(conn: Any, sale: ReviewedSale, *, store_id: str, now: int) -> None:
    conn.execute(
        "INSERT INTO remote_sales (sale_id, store_id, terminal_id, cashier_id, currency, total,"
        " state, reason, risk, offline, wallet_masked, created_at, fetched_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (sale_id) DO UPDATE SET"
        " state = excluded.state, reason = excluded.reason, risk = excluded.risk,"
        " fetched_at = excluded.fetched_at",
        (
            sale.sale_id,
            store_id,
            sale.terminal_id or "?",
            sale.cashier_id or "?",
            sale.currency,
            sale.total,
            sale.status or "?",
            sale.reason,
            json.dumps(sale.risk or {}),
            int(sale.offline),
            mask_wallet(sale.wallet_id),
            sale.created_at or now,
            now,
        ),
    )
