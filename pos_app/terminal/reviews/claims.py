"""Claims that hold across the store's tills: the backend first, then this terminal.

Online, the backend's claim (``POST /v1/reviews/{id}/claim``) decides who reviews a
sale; a refusal names the manager at another till, and that holder is written into
the local ``reviews`` row so the queue and the evidence pane show it. When the
backend cannot be reached the local claim (``reviews.claim``) is all there is, as
before: the decision is recorded and queued, and the backend accepts it later
unless another manager holds a live claim there by then.
"""

from __future__ import annotations

import logging
from typing import Protocol

from pos_app.core.errors import PosError
from pos_app.terminal.errors import BackendRejected
from pos_app.terminal.reviews import queue as reviews
from pos_app.terminal.reviews.queue import ClaimedByOther, ClaimResult
from pos_app.terminal.store.db import LocalStore

log = logging.getLogger(__name__)


class ClaimsBackend(Protocol):
    def claim(self, sale_id: str, *, reviewer_id: str) -> object:
        """Raises ``ClaimedByOther`` when another reviewer holds the sale."""
        ...

    def release(self, sale_id: str, *, reviewer_id: str) -> None: ...


def claim(
    store: LocalStore,
    backend: ClaimsBackend | None,
    sale_id: str,
    *,
    manager_id: str,
    now: int,
) -> ClaimResult:
    """Take the sale for review: at the backend when reachable, then locally."""
    server_id = server_sale_id(store, sale_id)
    remote = False
    if backend is not None:
        try:
            backend.claim(server_id, reviewer_id=manager_id)
            remote = True
        except ClaimedByOther as exc:
            _note_holder(store, sale_id, exc.claimed_by, exc.claimed_at)
            return ClaimResult(False, exc.claimed_by, exc.claimed_at)
        except BackendRejected as exc:
            if exc.status != 404:  # a sale the backend never saw (offline) is claimed locally
                raise
        except PosError as exc:  # unreachable: the local claim is all there is
            log.info("review claim of %s kept local: %s", sale_id, exc.message)
    held = reviews.claim(store, sale_id, manager_id=manager_id, now=now)
    if held.ok or not remote:
        return held
    # The backend granted it, so the local row's holder is out of date (released there).
    _note_holder(store, sale_id, manager_id, now)
    return ClaimResult(True, manager_id, now)


def release(
    store: LocalStore,
    backend: ClaimsBackend | None,
    sale_id: str,
    *,
    manager_id: str,
    now: int,
) -> None:
    """Give the sale back here and, best effort, at the backend (else the claim lapses)."""
    reviews.release(store, sale_id, manager_id=manager_id, now=now)
    if backend is not None:
        _release_remote(backend, server_sale_id(store, sale_id), manager_id)


def server_sale_id(store: LocalStore, sale_id: str) -> str:
    """The backend's id of a local sale (a retried payment was sent as another id)."""
    rows = store.query(
        "SELECT COALESCE(json_extract(token_facts, '$.server_sale_id'), sale_id) FROM sales"
        " WHERE sale_id = ?",
        (sale_id,),
    )
    return str(rows[0][0]) if rows else sale_id


def _release_remote(backend: ClaimsBackend, sale_id: str, manager_id: str) -> None:
    try:
        backend.release(sale_id, reviewer_id=manager_id)
    except PosError as exc:
        log.info("review claim of %s not released at the backend: %s", sale_id, exc.message)


def _note_holder(store: LocalStore, sale_id: str, holder: str, at: int) -> None:
    """Write the backend's holder into the local row (the same 15-minute lapse applies)."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT OR IGNORE INTO reviews (sale_id, status, updated_at) VALUES (?, 'open', ?)",
            (sale_id, at),
        )
        conn.execute(
            "UPDATE reviews SET claimed_by = ?, claimed_at = ?, updated_at = ? WHERE sale_id = ?",
            (holder, at, at, sale_id),
        )
