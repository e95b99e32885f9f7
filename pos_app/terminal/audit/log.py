"""Append-only, hash-chained audit log of every sensitive action.

Each entry's hash covers its content and the previous entry's hash, so editing,
deleting or reordering any row breaks the chain from that row on, and
``verify_chain`` names the first broken entry. The chain starts from a fixed
genesis value, or, on a till that replaced another under the same terminal id, right
after the head of the chain the backend holds (``audit.chain_start``, set at
enrollment: audit/sync.py), so the backend's copy continues instead of breaking.
Entries are written inside the caller's transaction when one is given, so an action
and its audit entry commit together.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pos_app.core.audit_chain import GENESIS, detail_json, entry_hash
from pos_app.terminal.store import kv
from pos_app.terminal.store.db import LocalStore

__all__ = ["GENESIS", "AuditAction", "AuditEntry", "ChainReport", "append_audit", "entry_hash"]


class AuditAction:
    """Stable action names (strings, so new ones never need a schema change)."""

    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    LOCKOUT = "lockout"
    SIGN_OUT = "sign_out"
    MANAGER_APPROVAL = "manager_approval"
    VOID = "void"
    VOID_REFUSED = "void_refused"  # the backend refused a manager's void: the sale stays paid
    AGE_CHECK = "age_check"  # "20 or older?" answered: by whom, how, yes or no
    REVIEW_DECISION = "review_decision"
    SETTINGS_CHANGED = "settings_changed"
    ENROLLED = "enrolled"
    TRUST_LIST_UPDATED = "trust_list_updated"
    TRUST_LIST_REJECTED = "trust_list_rejected"
    SHIFT_CLOSED = "shift_closed"  # a Z report: the shift's totals, frozen in the chain
    EXPORTED = "exported"  # review queue or shift report written out of the terminal


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: int
    actor: str
    action: str
    detail: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    entries: int
    first_broken_id: int | None = None
    problem: str | None = None


def append_audit(
    target: LocalStore | sqlite3.Connection,
    *,
    at: int,
    actor: str,
    action: str,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry; pass the open transaction's connection to commit it with the action."""
    if isinstance(target, LocalStore):
        with target.transaction() as conn:
            return _append(conn, at=at, actor=actor, action=action, detail=detail or {})
    return _append(target, at=at, actor=actor, action=action, detail=detail or {})


CHAIN_START_KEY = "audit.chain_start"


def chain_start(conn: sqlite3.Connection) -> tuple[int, str]:
    """(the id the local log follows, its hash): (0, GENESIS) unless it continues a chain."""
    raw = kv.get(conn, CHAIN_START_KEY)
    if raw is None:
        return 0, GENESIS
    start = json.loads(raw)
    return int(start["after_id"]), str(start["prev_hash"])


def _append(
    conn: sqlite3.Connection, *, at: int, actor: str, action: str, detail: Mapping[str, Any]
) -> AuditEntry:
    row = conn.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    prev = row[0] if row else chain_start(conn)[1]
    text = detail_json(detail)
    digest = entry_hash(prev_hash=prev, at=at, actor=actor, action=action, detail_json=text)
    cursor = conn.execute(
        "INSERT INTO audit_log (at, actor, action, detail, prev_hash, hash) VALUES (?,?,?,?,?,?)",
        (at, actor, action, text, prev, digest),
    )
    return AuditEntry(int(cursor.lastrowid or 0), at, actor, action, dict(detail), prev, digest)


def read_entries(store: LocalStore, *, after_id: int = 0) -> list[AuditEntry]:
    rows = store.query(
        "SELECT id, at, actor, action, detail, prev_hash, hash FROM audit_log WHERE id > ?"
        " ORDER BY id",
        (after_id,),
    )
    return [
        AuditEntry(
            r["id"],
            r["at"],
            r["actor"],
            r["action"],
            json.loads(r["detail"]),
            r["prev_hash"],
            r["hash"],
        )
        for r in rows
    ]


def verify_chain(
    rows: Iterable[sqlite3.Row | tuple[Any, ...]], *, start_hash: str = GENESIS
) -> ChainReport:
    """Check every link; rows are (id, at, actor, action, detail_json, prev_hash, hash)."""
    prev, count = start_hash, 0
    for row in rows:
        id_, at, actor, action, text, prev_hash, digest = tuple(row)
        count += 1
        if prev_hash != prev:
            return ChainReport(
                False,
                count,
                id_,
                "does not follow the entry before it (an entry was deleted, inserted or reordered)",
            )
        expected = entry_hash(
            prev_hash=prev_hash, at=at, actor=actor, action=action, detail_json=text
        )
        if expected != digest:
            return ChainReport(False, count, id_, "its content was changed after it was written")
        prev = digest
    return ChainReport(True, count)


def verify_store(store: LocalStore) -> ChainReport:
    raw = kv.get(store, CHAIN_START_KEY)
    start = json.loads(raw)["prev_hash"] if raw is not None else GENESIS
    return verify_chain(
        store.query(
            "SELECT id, at, actor, action, detail, prev_hash, hash FROM audit_log ORDER BY id"
        ),
        start_hash=start,
    )
