"""Reconcile every till sale and every wallet with the backend's ledger (the fault harness's
verdict). Reads the tills' SQLite stores and the backend database directly, after the run."""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from pos_app.server import admin, ledger

# A sale waiting on the backend may wait until its code expires (180 s), plus the skew and
# the reconcile margin (90 s), plus one backoff step (300 s at most) before it must be closed.
WAIT_BOUND_S = 90 + 300


@dataclass
class Counts:
    db: str = ""
    sales: int = 0
    kills: int = 0
    lost: int = 0
    charged_twice: int = 0
    balance_mismatches: int = 0
    disagree: int = 0
    stuck: int = 0
    waiting: int = 0
    offline_losses: int = 0
    ledger_ok: bool = True
    drain_s: float = 0.0
    phases: dict[str, int] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)
    drain_waits: list[str] = field(default_factory=list)  # tills slow to close: what for

    @property
    def clean(self) -> bool:
        bad = self.lost + self.charged_twice + self.balance_mismatches + self.disagree + self.stuck
        return bad == 0 and self.ledger_ok

    def line(self) -> str:
        head = (
            f"{self.db}: sales={self.sales} kills={self.kills} lost={self.lost}"
            f" charged_twice={self.charged_twice} balance_mismatches={self.balance_mismatches}"
            f" disagree={self.disagree} stuck={self.stuck} waiting={self.waiting}"
            f" offline_losses={self.offline_losses} ledger_ok={self.ledger_ok}"
            f" drain={self.drain_s:.1f}s states={dict(sorted(self.phases.items()))}"
        )
        waits = [f"  drain: {w}" for w in self.drain_waits]
        return "\n".join([head, *(f"  {d}" for d in self.details), *waits])


@dataclass(frozen=True)
class BackendView:
    sales: dict[str, tuple[str, int, str | None]]  # sale_id -> (status, total, wallet_id)
    charges: dict[str, int]  # sale_id -> sale journals minus void journals
    debits: dict[str, int]  # sale_id -> sale journals
    balances: dict[str, int]  # account_id -> balance


def read_backend(db_url: str) -> BackendView:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            sales = {
                r[0]: (r[1], int(r[2]), r[3])
                for r in conn.execute(text("SELECT sale_id, status, total, wallet_id FROM sales"))
            }
            journal = Counter(
                (r[0], r[1])
                for r in conn.execute(
                    text("SELECT kind, ref FROM journal WHERE kind IN ('sale', 'void')")
                )
            )
            balances = {
                r[0]: int(r[1])
                for r in conn.execute(text("SELECT account_id, balance FROM accounts"))
            }
    finally:
        engine.dispose()
    refs = {ref for _, ref in journal}
    charges = {ref: journal[("sale", ref)] - journal[("void", ref)] for ref in refs}
    debits = {ref: journal[("sale", ref)] for ref in refs}
    return BackendView(sales, charges, debits, balances)


def read_till(path: Path) -> tuple[list[sqlite3.Row], dict[str, list[dict[str, Any]]]]:
    conn = sqlite3.connect(f"file:{path / 'terminal.db'}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        sales = list(conn.execute("SELECT * FROM sales"))
        open_entries: dict[str, list[dict[str, Any]]] = {}
        for row in conn.execute(
            "SELECT sale_id, kind, payload FROM outbox WHERE state IN ('pending', 'unknown')"
        ):
            payload = json.loads(row["payload"])
            open_entries.setdefault(row["sale_id"], []).append({"kind": row["kind"], **payload})
    finally:
        conn.close()
    return sales, open_entries


def reconcile(
    data_dir: Path,
    db_url: str,
    base_url: str,
    *,
    tills: list[Path],
    wallets: dict[str, list[dict[str, Any]]],
    funded: dict[str, int],
) -> Counts:
    counts = Counts()
    view = read_backend(db_url)
    attempts: dict[str, list[str]] = {}
    for sale_id in view.sales:
        attempts.setdefault(sale_id.split(".")[0], []).append(sale_id)
    seen: set[str] = set()
    now = time.time()
    for path in tills:
        rows, open_entries = read_till(path)
        for row in rows:
            seen.add(row["sale_id"])
            _judge(counts, row, attempts.get(row["sale_id"], []), view, open_entries, now=now)
    for base, ids in attempts.items():  # charged, and no till knows of it
        if base not in seen and sum(view.charges.get(i, 0) for i in ids) > 0:
            counts.lost += 1
            counts.details.append(f"orphan charge {base}")
    _balances(counts, view, funded)
    counts.ledger_ok = bool(admin.check_ledger(data_dir, db_url)["ok"])
    return counts


def _judge(
    counts: Counts,
    row: sqlite3.Row,
    ids: list[str],
    view: BackendView,
    open_entries: dict[str, list[dict[str, Any]]],
    *,
    now: float,
) -> None:
    sale_id, state, reason = row["sale_id"], row["state"], row["reason"]
    counts.sales += 1
    label = f"{state}{'/offline' if row['offline'] else ''}"
    counts.phases[label] = counts.phases.get(label, 0) + 1
    net = sum(view.charges.get(i, 0) for i in ids)
    if net > 1 or any(view.debits.get(i, 0) > 1 for i in ids):
        counts.charged_twice += 1
        counts.details.append(f"charged twice {sale_id} ({state}, net {net})")
    story = f"{sale_id}: till {state} ({reason}), backend {[view.sales[i][0] for i in ids]}"
    if state in ("authorizing", "step_up"):
        entries = open_entries.get(sale_id, [])
        exp = max((int(e.get("token_exp", 0)) for e in entries), default=0)
        if entries and now < exp + WAIT_BOUND_S:
            counts.waiting += 1
        else:
            counts.stuck += 1
            counts.details.append(f"stuck {story}")
    elif state == "approved" and reason is None:
        if net == 0:
            counts.lost += 1
            counts.details.append(f"lost {story}")
    elif state == "approved":  # an offline sale the backend refused: reason and review shown
        counts.offline_losses += 1
        if net != 0:
            counts.disagree += 1
            counts.details.append(f"disagree {story}")
    elif net != 0:  # declined, cancelled, voided: nobody may be charged
        counts.disagree += 1
        counts.details.append(f"disagree {story}")


def _balances(counts: Counts, view: BackendView, funded: dict[str, int]) -> None:
    spent: Counter[str] = Counter()
    for sale_id, (_status, total, wallet_id) in view.sales.items():
        if wallet_id is not None:
            spent[wallet_id] += total * view.charges.get(sale_id, 0)
    for wallet_id, amount in funded.items():
        balance = view.balances.get(ledger.wallet_account(wallet_id), 0)
        if balance != amount - spent[wallet_id] or balance < 0:
            counts.balance_mismatches += 1
            counts.details.append(
                f"balance {wallet_id}: {balance}, expected {amount - spent[wallet_id]}"
            )
