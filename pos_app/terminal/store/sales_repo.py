"""Writing and reading sales in the local store.

A sale, its lines, its step event, and (when given) the outbox entry and the
payment token's ``cti`` are written in ONE transaction: a sale is never
recorded without its token being marked used, nor queued without being recorded.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from pos_app.core.basket import BasketLine
from pos_app.core.sale import sale_number
from pos_app.paytoken.seen_store import record_on
from pos_app.terminal.store.db import LocalStore


@dataclass(frozen=True, slots=True)
class SaleHeader:
    """A sale as a row of ``sales`` (or ``remote_sales``) names it: where and by whom it
    was sold, its total, and where it stands."""

    sale_id: str
    store_id: str
    terminal_id: str
    cashier_id: str
    currency: str
    total: int  # minor units of ``currency``
    state: str

    @staticmethod
    def fields_of(row: sqlite3.Row) -> dict[str, Any]:
        """The header's fields read from a row of ``sales`` or ``remote_sales``."""
        names = ("sale_id", "store_id", "terminal_id", "cashier_id", "currency", "state")
        return {**{name: row[name] for name in names}, "total": int(row["total"])}


@dataclass(frozen=True, slots=True)
class SaleRecord(SaleHeader):
    lines: tuple[BasketLine, ...]
    at: int
    reason: str | None = None
    authorization_id: str | None = None
    wallet_masked: str | None = None
    offline: bool = False
    pickup_later: bool = False
    risk: dict[str, object] | None = None
    token_facts: dict[str, object] | None = None
    age_check: dict[str, object] | None = None  # core.age_check.AgeCheck.as_record()


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    kind: str  # "finalize", "cancel", "review_decision", ...
    idempotency_key: str
    payload: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SeenToken:
    cti: bytes
    expires_at: int


def save_sale(
    store: LocalStore,
    record: SaleRecord,
    *,
    outbox: OutboxEntry | None = None,
    seen: SeenToken | None = None,
) -> None:
    """Insert a new sale (or update its state) atomically with its side records.

    Raises ``sqlite3.IntegrityError`` if ``seen.cti`` was already recorded: the
    caller treats that as a replayed token, and nothing of the sale is written.
    """
    with store.transaction() as conn:
        _upsert_sale(conn, record)
        conn.execute(
            "INSERT INTO sale_events (sale_id, at, state, detail) VALUES (?, ?, ?, ?)",
            (record.sale_id, record.at, record.state, record.reason),
        )
        if seen is not None and not record_on(
            conn, seen.cti, expires_at=seen.expires_at, now=record.at
        ):
            raise sqlite3.IntegrityError("seen_tokens: this cti is already recorded")
        if outbox is not None:
            enqueue(conn, record.sale_id, outbox, at=record.at)


def _upsert_sale(conn: sqlite3.Connection, r: SaleRecord) -> None:
    exists = conn.execute("SELECT 1 FROM sales WHERE sale_id = ?", (r.sale_id,)).fetchone()
    risk = json.dumps(r.risk) if r.risk is not None else None
    facts = json.dumps(r.token_facts) if r.token_facts is not None else None
    age = json.dumps(r.age_check) if r.age_check is not None else None
    if exists:
        conn.execute(
            "UPDATE sales SET state = ?, reason = ?, authorization_id = ?, wallet_masked ="
            " COALESCE(?, wallet_masked), offline = ?, risk = COALESCE(?, risk), token_facts ="
            " COALESCE(?, token_facts), age_check = COALESCE(?, age_check), updated_at = ?"
            " WHERE sale_id = ?",
            (
                r.state,
                r.reason,
                r.authorization_id,
                r.wallet_masked,
                int(r.offline),
                risk,
                facts,
                age,
                r.at,
                r.sale_id,
            ),
        )
        return
    conn.execute(
        "INSERT INTO sales (sale_id, store_id, terminal_id, cashier_id, currency, total, state,"
        " reason, authorization_id, wallet_masked, offline, created_at, updated_at, risk,"
        " token_facts, pickup_later, age_check, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
        " (SELECT COALESCE(MAX(seq), 0) + 1 FROM sales))",
        (
            r.sale_id,
            r.store_id,
            r.terminal_id,
            r.cashier_id,
            r.currency,
            r.total,
            r.state,
            r.reason,
            r.authorization_id,
            r.wallet_masked,
            int(r.offline),
            r.at,
            r.at,
            risk,
            facts,
            int(r.pickup_later),
            age,
        ),
    )
    conn.executemany(
        "INSERT INTO sale_lines (sale_id, line_no, sku, name, category, quantity, unit_price,"
        " line_total, tax_rate) VALUES (?,?,?,?,?,?,?,?,?)",
        [
            (
                r.sale_id,
                i + 1,
                ln.product.gtin,
                ln.product.name_en,
                ln.product.category.value,
                ln.quantity,
                ln.product.price,
                ln.line_total,
                ln.product.tax_rate,
            )
            for i, ln in enumerate(r.lines)
        ],
    )


def enqueue(
    conn: sqlite3.Connection, sale_id: str, entry: OutboxEntry, *, at: int, state: str = "pending"
) -> None:
    """Add an outbox entry inside the caller's transaction (drained in id order)."""
    conn.execute(
        "INSERT INTO outbox (sale_id, kind, idempotency_key, payload, state, created_at,"
        " next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            sale_id,
            entry.kind,
            entry.idempotency_key,
            json.dumps(entry.payload, separators=(",", ":")),
            state,
            at,
            at,
        ),
    )


def set_sale_state(
    conn: sqlite3.Connection,
    sale_id: str,
    *,
    state: str,
    at: int,
    reason: str | None = None,
    authorization_id: str | None = None,
    event_detail: str | None = None,
) -> None:
    """Change an existing sale's state and log the step, inside the caller's transaction.

    ``authorization_id`` is kept when not given (a void keeps the original one).
    """
    conn.execute(
        "UPDATE sales SET state = ?, reason = ?, authorization_id ="
        " COALESCE(?, authorization_id), updated_at = ? WHERE sale_id = ?",
        (state, reason, authorization_id, at, sale_id),
    )
    conn.execute(
        "INSERT INTO sale_events (sale_id, at, state, detail) VALUES (?, ?, ?, ?)",
        (sale_id, at, state, event_detail or reason),
    )


def open_review(conn: sqlite3.Connection, sale_id: str, *, at: int) -> None:
    """Flag a sale for a manager's review (idempotent)."""
    conn.execute(
        "INSERT OR IGNORE INTO reviews (sale_id, status, updated_at) VALUES (?, 'open', ?)",
        (sale_id, at),
    )


def sale_state(store: LocalStore, sale_id: str) -> str | None:
    rows = store.query("SELECT state FROM sales WHERE sale_id = ?", (sale_id,))
    return str(rows[0]["state"]) if rows else None


def sale_number_of(store: LocalStore, sale_id: str) -> str | None:
    """The sale's short number (``core.sale.sale_number``), once the sale is recorded."""
    rows = store.query("SELECT store_id, terminal_id, seq FROM sales WHERE sale_id = ?", (sale_id,))
    if not rows or rows[0]["seq"] is None:
        return None
    row = rows[0]
    return sale_number(row["store_id"], row["terminal_id"], int(row["seq"]))
