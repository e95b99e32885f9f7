"""Terminal audit logs kept at the backend (docs/MANAGER.md, "Sync to the backend").

Each batch must continue the chain already held for that terminal, and every
entry's hash is recomputed here, so an entry edited at the store after it was
sent can never replace the backend's copy. Re-sending entries already held is
harmless when they are byte-for-byte the same. ``GET`` gives the chain's head, where
a re-enrolled till continues it (docs/MANAGER.md).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_app.core.audit_chain import GENESIS, detail_json, entry_hash
from pos_app.server.errors import ApiError
from pos_app.server.models import TerminalAuditEntry
from pos_app.server.schemas import AuditEntryIn


def _last(session: Session, store_id: str, terminal_id: str) -> TerminalAuditEntry | None:
    return session.scalars(
        select(TerminalAuditEntry)
        .where(
            TerminalAuditEntry.store_id == store_id, TerminalAuditEntry.terminal_id == terminal_id
        )
        .order_by(TerminalAuditEntry.entry_id.desc())
        .limit(1)
    ).first()


def head(session: Session, store_id: str, terminal_id: str) -> dict[str, Any]:
    """Where this terminal's chain stands here: a replaced till (purged and enrolled
    again under the same id) continues it from this entry instead of starting at id 1,
    which the backend would refuse forever as ``audit_chain_broken``."""
    last = _last(session, store_id, terminal_id)
    return {
        "synced_through": last.entry_id if last else 0,
        "head_hash": last.hash if last else GENESIS,
    }


def append(
    session: Session, store_id: str, terminal_id: str, entries: list[AuditEntryIn], *, now: int
) -> dict[str, int]:
    last = _last(session, store_id, terminal_id)
    last_id, prev = (last.entry_id, last.hash) if last else (0, GENESIS)
    for entry in entries:
        text = detail_json(entry.detail)
        if entry.id <= last_id:
            _check_already_held(session, store_id, terminal_id, entry, text)
            continue
        # What the entry's hash covers beside its detail (core.audit_chain.entry_hash).
        chained = entry.model_dump(include={"prev_hash", "at", "actor", "action"})
        if (
            entry.id != last_id + 1
            or entry.prev_hash != prev
            or entry.hash != entry_hash(**chained, detail_json=text)
        ):
            raise _broken(entry.id)
        session.add(
            TerminalAuditEntry(
                store_id=store_id,
                terminal_id=terminal_id,
                entry_id=entry.id,
                **chained,
                detail=text,
                hash=entry.hash,
                received_at=now,
            )
        )
        last_id, prev = entry.id, entry.hash
    return {"synced_through": last_id}


def _check_already_held(
    session: Session, store_id: str, terminal_id: str, entry: AuditEntryIn, text: str
) -> None:
    held = session.get(TerminalAuditEntry, (store_id, terminal_id, entry.id))
    same = held is not None and (held.hash, held.prev_hash, held.detail, held.at) == (
        entry.hash,
        entry.prev_hash,
        text,
        entry.at,
    )
    if not same:
        raise _broken(entry.id)


def _broken(entry_id: int) -> ApiError:
    return ApiError(
        409, "audit_chain_broken", f"first bad id: {entry_id} (does not continue the chain held)"
    )
