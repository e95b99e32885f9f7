"""Send the audit log to the backend, in order, so the store cannot rewrite history.

The log itself is the queue: the id of the last entry the backend acknowledged
is kept in ``kv`` (``audit.synced_through``) and later entries go out in
batches, each with its hashes. The backend keeps the copy and checks that every
batch continues the chain it already holds, so an entry edited here after it
was sent no longer matches. (The outbox table cannot carry these: its rows
belong to a sale.) A chain that fails ``verify_store`` locally is not sent:
the failure is reported and the backend keeps the last good copy.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from pos_app.core.errors import PosError
from pos_app.terminal.audit.log import CHAIN_START_KEY, read_entries, verify_store
from pos_app.terminal.store import kv
from pos_app.terminal.store.db import LocalStore

CURSOR_KEY = "audit.synced_through"
PROBLEM_KEY = "audit.last_problem"  # the backend's last refusal, for doctor
BATCH = 200


class AuditSink(Protocol):
    def push_audit(
        self, *, terminal_id: str, entries: Sequence[Mapping[str, Any]], idempotency_key: str
    ) -> None:
        """``POST /v1/terminals/{terminal_id}/audit`` (see docs/MANAGER.md)."""
        ...


@dataclass(frozen=True, slots=True)
class AuditSyncReport:
    sent: int
    synced_through: int
    pending: int
    problem: str | None = None


def synced_through(store: LocalStore) -> int:
    value = kv.get_text(store, CURSOR_KEY)
    return int(value) if value is not None else 0


def audit_pending(store: LocalStore) -> bool:
    """Cheap check before the full chain verification that a sync does."""
    rows = store.query("SELECT max(id) FROM audit_log")
    newest = rows[0][0] if rows else None
    return newest is not None and int(newest) > synced_through(store)


def sync_audit(store: LocalStore, sink: AuditSink, *, terminal_id: str) -> AuditSyncReport:
    chain = verify_store(store)
    cursor = synced_through(store)
    if not chain.ok:
        problem = f"audit log broken at entry {chain.first_broken_id}: {chain.problem}"
        return AuditSyncReport(0, cursor, _pending(store, cursor), problem)
    sent = 0
    while batch := read_entries(store, after_id=cursor)[:BATCH]:
        key = f"audit-{terminal_id}-{batch[0].id}-{batch[-1].id}"
        try:
            sink.push_audit(
                terminal_id=terminal_id,
                entries=[{**asdict(e), "detail": dict(e.detail)} for e in batch],
                idempotency_key=key,
            )
        except PosError as exc:
            _put(store, PROBLEM_KEY, json.dumps({"code": exc.code, "message": exc.message}))
            return AuditSyncReport(sent, cursor, _pending(store, cursor), exc.message)
        cursor = batch[-1].id
        sent += len(batch)
        _save_cursor(store, cursor)
    if sent:
        _put(store, PROBLEM_KEY, None)
    return AuditSyncReport(sent, cursor, 0)


def continue_backend_chain(
    conn: sqlite3.Connection, *, synced_through: int, head_hash: str, at: int
) -> bool:
    """A till replacing another under the same terminal id (purged, enrolled again):
    its empty log starts right after the head of the chain the backend holds, so the
    next push continues the backend's copy instead of being refused as
    ``audit_chain_broken`` at id 1 forever. Inside the enrollment's transaction."""
    if synced_through <= 0 or conn.execute("SELECT 1 FROM audit_log LIMIT 1").fetchone():
        return False
    # AUTOINCREMENT takes the next id from sqlite_sequence.
    conn.execute("DELETE FROM sqlite_sequence WHERE name = 'audit_log'")
    conn.execute(
        "INSERT INTO sqlite_sequence (name, seq) VALUES ('audit_log', ?)", (synced_through,)
    )
    start = {"after_id": synced_through, "prev_hash": head_hash, "acknowledged_at": at}
    kv.put(conn, CHAIN_START_KEY, json.dumps(start))
    kv.put(conn, CURSOR_KEY, str(synced_through))
    return True


def _pending(store: LocalStore, cursor: int) -> int:
    return int(store.query("SELECT COUNT(*) FROM audit_log WHERE id > ?", (cursor,))[0][0])


def _save_cursor(store: LocalStore, cursor: int) -> None:
    _put(store, CURSOR_KEY, str(cursor))


def _put(store: LocalStore, key: str, value: str | None) -> None:
    with store.transaction() as conn:
        if value is None:
            kv.delete(conn, key)
        else:
            kv.put(conn, key, value)
