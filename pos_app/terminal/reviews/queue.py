"""Manager review of flagged sales: the queue, claims and decisions (no Qt).

A sale is flagged when the risk engine asked for more than ``allow`` or the
sale was declined (an offline sale the backend later declined is an offline
loss). The queue holds this terminal's flagged sales and, once pulled from the
backend (``reviews_sync``), those of the other terminals of the store.

Deciding needs the sale's claim: two managers never decide the same sale at
once, and the second one is told who holds it. A claim older than
``CLAIM_STALE_S`` is considered abandoned (a manager who walked away). A
decision, its status change and its audit entry commit in one transaction; the
decision stays queued (``synced = 0``) until the backend has it.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pos_app.core.errors import PosError
from pos_app.core.reasons import ReasonCode
from pos_app.core.sale import sale_number
from pos_app.terminal.audit.log import AuditAction, append_audit
from pos_app.terminal.manager_keys import ManagerSigner
from pos_app.terminal.store.db import LocalStore
from pos_app.terminal.store.sales_repo import SaleHeader

CLAIM_STALE_S = 15 * 60
MIN_NOTE_CHARS = 3
OFFLINE_LOSS = "offline_loss"


class ReviewStatus(StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"
    APPROVED = "approved"
    REJECTED = "rejected"
    CONFIRMED_FRAUD = "confirmed_fraud"


class ReviewChoice(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    ESCALATE = "escalate"
    CONFIRMED_FRAUD = "confirmed_fraud"


STATUS_OF_DECISION: dict[ReviewChoice, ReviewStatus] = {
    ReviewChoice.APPROVE: ReviewStatus.APPROVED,
    ReviewChoice.REJECT: ReviewStatus.REJECTED,
    ReviewChoice.ESCALATE: ReviewStatus.ESCALATED,
    ReviewChoice.CONFIRMED_FRAUD: ReviewStatus.CONFIRMED_FRAUD,
}


class ReviewError(PosError):
    code = "review_error"


class ClaimedByOther(ReviewError):
    """Another manager holds the sale; ``claimed_by`` says who, for the screen."""

    code = "review_claimed"

    def __init__(self, sale_id: str, *, claimed_by: str, claimed_at: int) -> None:
        super().__init__(f"sale {sale_id} is being reviewed by {claimed_by}")
        self.claimed_by = claimed_by
        self.claimed_at = claimed_at


@dataclass(frozen=True, slots=True)
class QueueItem(SaleHeader):
    created_at: int
    risk_action: str
    score: int
    reasons: tuple[str, ...]  # risk rule codes, then the decline reason, then offline_loss
    offline: bool
    wallet_masked: str | None
    status: ReviewStatus
    claimed_by: str | None
    claimed_at: int | None
    remote: bool  # pulled from the backend: sold at another terminal of the store
    seq: int = 0  # this terminal's running number of the sale; 0: not known here

    @property
    def number(self) -> str:
        """What people call the sale: store-terminal-sequence, not the UUID."""
        if self.seq:  # the number printed on the sale's receipt
            return sale_number(self.store_id, self.terminal_id, self.seq)
        return f"{self.store_id}-{self.terminal_id}-{self.sale_id[:8]}"


@dataclass(frozen=True, slots=True)
class QueueFilter:
    status: ReviewStatus | None = None
    reason: str | None = None
    cashier_id: str | None = None
    since: int | None = None  # inclusive, Unix seconds
    until: int | None = None  # exclusive
    min_total: int | None = None
    max_total: int | None = None


@dataclass(frozen=True, slots=True)
class ClaimResult:
    ok: bool
    claimed_by: str
    claimed_at: int


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    id: int
    sale_id: str
    decision: ReviewChoice
    reviewer_id: str
    note: str
    at: int
    synced: bool


_LOCAL_SQL = (
    "SELECT sale_id, store_id, terminal_id, cashier_id, currency, total, state, reason, risk,"
    " offline, wallet_masked, created_at, 0 AS remote, seq FROM sales WHERE store_id = ?"
    " AND (state = 'declined' OR COALESCE(json_extract(risk, '$.action'), 'allow') != 'allow'"
    " OR sale_id IN (SELECT sale_id FROM reviews))"
)
_REMOTE_SQL = (
    "SELECT sale_id, store_id, terminal_id, cashier_id, currency, total, state, reason, risk,"
    " offline, wallet_masked, created_at, 1 AS remote, 0 AS seq FROM remote_sales"
    " WHERE store_id = ?"
    " AND sale_id NOT IN (SELECT sale_id FROM sales)"
)


def load_queue(
    store: LocalStore, store_id: str, *, flt: QueueFilter | None = None
) -> list[QueueItem]:
    """Flagged sales of the store matching ``flt``, riskiest first, then newest."""
    flt = flt or QueueFilter()
    items = [i for i in _all_items(store, store_id) if matches(i, flt)]
    return sorted(items, key=lambda i: (-i.score, -i.created_at, i.sale_id))


def status_counts(
    store: LocalStore, store_id: str, *, flt: QueueFilter | None = None
) -> dict[ReviewStatus, int]:
    """Items per status under every filter except the status itself (for the tabs)."""
    base = flt or QueueFilter()
    unfiltered = QueueFilter(**{**_asdict(base), "status": None})
    counts = Counter(i.status for i in load_queue(store, store_id, flt=unfiltered))
    return {s: counts.get(s, 0) for s in ReviewStatus}


def matches(item: QueueItem, flt: QueueFilter) -> bool:
    checks = (
        flt.status is None or item.status == flt.status,
        flt.reason is None or flt.reason in item.reasons,
        flt.cashier_id is None or item.cashier_id == flt.cashier_id,
        flt.since is None or item.created_at >= flt.since,
        flt.until is None or item.created_at < flt.until,
        flt.min_total is None or item.total >= flt.min_total,
        flt.max_total is None or item.total <= flt.max_total,
    )
    return all(checks)


def known_reasons(items: Iterable[QueueItem]) -> list[str]:
    return sorted({code for item in items for code in item.reasons})


def _asdict(flt: QueueFilter) -> dict[str, Any]:
    return {name: getattr(flt, name) for name in QueueFilter.__slots__}


def _all_items(store: LocalStore, store_id: str) -> list[QueueItem]:
    reviews = {r["sale_id"]: r for r in store.query("SELECT * FROM reviews")}
    rows = store.query(_LOCAL_SQL + " UNION ALL " + _REMOTE_SQL, (store_id, store_id))
    return [item_from_row(row, reviews.get(row["sale_id"])) for row in rows]


def item_from_row(row: sqlite3.Row, review: sqlite3.Row | None) -> QueueItem:
    risk = parse_risk(row["risk"])
    reasons = list(reason_codes(risk))
    # "risk_declined" only repeats what the rules above already say.
    if (
        row["state"] == "declined"
        and row["reason"]
        and not (row["reason"] == ReasonCode.RISK_DECLINED and reasons)
    ):
        reasons.append(str(row["reason"]))
    if row["state"] == "declined" and row["offline"]:
        reasons.append(OFFLINE_LOSS)
    return QueueItem(
        **SaleHeader.fields_of(row),
        created_at=int(row["created_at"]),
        risk_action=str(risk.get("action") or "allow"),
        score=int(risk.get("score") or 0),
        reasons=tuple(dict.fromkeys(reasons)),
        offline=bool(row["offline"]),
        wallet_masked=row["wallet_masked"],
        status=ReviewStatus(review["status"]) if review else ReviewStatus.OPEN,
        claimed_by=review["claimed_by"] if review else None,
        claimed_at=review["claimed_at"] if review else None,
        remote=bool(row["remote"]),
        seq=int(row["seq"]) if "seq" in row.keys() else 0,  # noqa: SIM118 - sqlite3.Row
    )


def parse_risk(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def reason_codes(risk: Mapping[str, Any]) -> tuple[str, ...]:
    """Reasons are dicts (code, en, ja, inputs) from the terminal, bare codes from the backend."""
    codes = []
    for reason in risk.get("reasons") or ():
        codes.append(str(reason.get("code")) if isinstance(reason, dict) else str(reason))
    return tuple(codes)


# claims and decisions ------------------------------------------------------------------


def claim(store: LocalStore, sale_id: str, *, manager_id: str, now: int) -> ClaimResult:
    """Take the sale for review; when someone else holds it, say who (``ok`` False)."""
    with store.transaction() as conn:
        _require_sale(conn, sale_id)
        return _claim(conn, sale_id, manager_id=manager_id, now=now)


def release(store: LocalStore, sale_id: str, *, manager_id: str, now: int) -> None:
    with store.transaction() as conn:
        conn.execute(
            "UPDATE reviews SET claimed_by = NULL, claimed_at = NULL, updated_at = ?"
            " WHERE sale_id = ? AND claimed_by = ?",
            (now, sale_id, manager_id),
        )


def decide(
    store: LocalStore,
    sale_id: str,
    *,
    decision: ReviewChoice | str,
    manager_id: str,
    note: str,
    now: int,
    signer: ManagerSigner | None = None,
) -> DecisionRecord:
    """Record a decision (queued for the backend) and its audit entry, atomically.

    ``signer`` is the manager's unlocked key: the decision is signed now, as the
    manager makes it, so it can wait in the queue while the till is offline and the
    backend still knows who decided (docs/BACKEND.md, "Manager proofs")."""
    chosen = ReviewChoice(decision)
    note = note.strip()
    if len(note) < MIN_NOTE_CHARS:
        raise ReviewError("a note saying why is required for every decision", code="note_required")
    if signer is not None and signer.manager_id != manager_id:
        raise ReviewError("the decision is signed by another manager", code="wrong_manager")
    with store.transaction() as conn:
        _require_sale(conn, sale_id)
        held = _claim(conn, sale_id, manager_id=manager_id, now=now)
        if not held.ok:
            raise ClaimedByOther(sale_id, claimed_by=held.claimed_by, claimed_at=held.claimed_at)
        signature = (
            signer.sign_decision(
                backend_sale_id(conn, sale_id), decision=chosen.value, note=note, at=now
            )
            if signer is not None
            else None
        )
        cursor = conn.execute(
            "INSERT INTO review_decisions (sale_id, decision, reviewer_id, note, at, signature)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (sale_id, chosen.value, manager_id, note, now, signature),
        )
        conn.execute(
            "UPDATE reviews SET status = ?, claimed_by = NULL, claimed_at = NULL,"
            " updated_at = ? WHERE sale_id = ?",
            (STATUS_OF_DECISION[chosen].value, now, sale_id),
        )
        decision_id = int(cursor.lastrowid or 0)
        append_audit(
            conn,
            at=now,
            actor=manager_id,
            action=AuditAction.REVIEW_DECISION,
            detail={"sale_id": sale_id, "decision": chosen.value, "note": note, "id": decision_id},
        )
    return DecisionRecord(decision_id, sale_id, chosen, manager_id, note, now, synced=False)


def backend_sale_id(conn: sqlite3.Connection, sale_id: str) -> str:
    """The backend's id of a sale (a retried payment is "<id>.<attempt>" there)."""
    row = conn.execute(
        "SELECT COALESCE(json_extract(token_facts, '$.server_sale_id'), sale_id) FROM sales"
        " WHERE sale_id = ?",
        (sale_id,),
    ).fetchone()
    return str(row[0]) if row is not None else sale_id


def decisions_of(store: LocalStore, sale_id: str) -> list[DecisionRecord]:
    rows = store.query(
        "SELECT id, sale_id, decision, reviewer_id, note, at, synced FROM review_decisions"
        " WHERE sale_id = ? ORDER BY id",
        (sale_id,),
    )
    return [
        DecisionRecord(
            r["id"],
            r["sale_id"],
            ReviewChoice(r["decision"]),
            r["reviewer_id"],
            r["note"],
            r["at"],
            bool(r["synced"]),
        )
        for r in rows
    ]


def _require_sale(conn: sqlite3.Connection, sale_id: str) -> None:
    found = conn.execute(
        "SELECT 1 FROM sales WHERE sale_id = ? UNION ALL SELECT 1 FROM remote_sales"
        " WHERE sale_id = ?",
        (sale_id, sale_id),
    ).fetchone()
    if found is None:
        raise ReviewError(f"no flagged sale {sale_id} on this terminal", code="unknown_sale")


def _claim(conn: sqlite3.Connection, sale_id: str, *, manager_id: str, now: int) -> ClaimResult:
    conn.execute(
        "INSERT OR IGNORE INTO reviews (sale_id, status, updated_at) VALUES (?, 'open', ?)",
        (sale_id, now),
    )
    # One conditional UPDATE is the whole lock: whoever's row count is 1 holds the sale.
    taken = conn.execute(
        "UPDATE reviews SET claimed_by = ?, claimed_at = ?, updated_at = ? WHERE sale_id = ?"
        " AND (claimed_by IS NULL OR claimed_by = ? OR claimed_at < ?)",
        (manager_id, now, now, sale_id, manager_id, now - CLAIM_STALE_S),
    ).rowcount
    if taken == 1:
        return ClaimResult(True, manager_id, now)
    row = conn.execute(
        "SELECT claimed_by, claimed_at FROM reviews WHERE sale_id = ?", (sale_id,)
    ).fetchone()
    return ClaimResult(False, str(row["claimed_by"]), int(row["claimed_at"]))
