from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from pos_app.core.api_contract import DecisionBody, ReviewedSale, parse
from pos_app.core.errors import BackendError
from pos_app.demo.seed_reviews import seed_demo_reviews
from pos_app.terminal.audit.log import AuditAction, append_audit
from pos_app.terminal.audit.sync import sync_audit, synced_through
from pos_app.terminal.reviews.detail import load_detail
from pos_app.terminal.reviews.queue import QueueFilter, ReviewStatus, decide, load_queue
from pos_app.terminal.reviews.sync import (
    mask_wallet,
    pending_decisions,
    pull_reviews,
    push_decisions,
)
from pos_app.terminal.store.db import DB_NAME, LocalStore, open_store

NOW = 1_795_000_000


class FakeBackend:
    """Behaves like the reference backend's /v1/reviews; ``online`` False fails every call."""

    def __init__(self) -> None:
        self.online = True
        self.posted: list[dict[str, Any]] = []
        self.keys: set[str] = set()
        self.frozen_wallets: set[str] = set()
        self.remote: list[dict[str, Any]] = []
        self.unknown: set[str] = set()

    def list_reviews(self, store_id: str, status: str | None = None) -> Sequence[ReviewedSale]:
        self._check()
        listed = [r for r in self.remote if status is None or r["review_status"] == status]
        return [parse(ReviewedSale, r) for r in listed]

    def post_decision(
        self, sale_id: str, body: DecisionBody, *, idempotency_key: str
    ) -> Mapping[str, Any]:
        decision, note = body["decision"], body.get("note")
        self._check()
        if sale_id in self.unknown:
            raise BackendError(f"404 unknown sale {sale_id}")
        if idempotency_key not in self.keys:
            self.keys.add(idempotency_key)
            self.posted.append({"sale_id": sale_id, "decision": decision, "note": note})
        if decision == "confirmed_fraud":
            self.frozen_wallets.add(sale_id)
        return {"sale_id": sale_id, "wallet_frozen": decision == "confirmed_fraud"}

    def _check(self) -> None:
        if not self.online:
            raise BackendError("backend unreachable: connection refused")


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    s = open_store(tmp_path)
    seed_demo_reviews(s, now=NOW)
    return s


def remote_sale(sale_id: str, **over: Any) -> dict[str, Any]:
    sale = {
        "sale_id": sale_id,
        "terminal_id": "T02",
        "cashier_id": "C099",
        "wallet_id": "w-3f2a9c0d7e11b4",
        "total": 58_000,
        "currency": "JPY",
        "status": "declined",
        "reason": "risk_declined",
        "risk": {"score": 90, "action": "decline", "reasons": ["bulk_cash_convertible"]},
        "offline": False,
        "review_status": "pending",
        "created_at": NOW - 600,
    }
    return {**sale, **over}


def test_offline_decision_is_queued_then_synced_in_order(store: LocalStore) -> None:
    backend = FakeBackend()
    backend.online = False
    decide(store, "sale-7p-0001", decision="escalate", manager_id="M001", note="call HQ", now=NOW)
    decide(
        store,
        "sale-7p-0001",
        decision="confirmed_fraud",
        manager_id="M001",
        note="owner says not me",
        now=NOW + 60,
    )
    report = push_decisions(store, backend, terminal_id="T01", now=NOW + 61)
    assert (report.sent, report.failed, report.pending) == (0, 1, 2)
    assert "unreachable" in (report.last_error or "")
    backend.online = True
    report = push_decisions(store, backend, terminal_id="T01", now=NOW + 120)
    assert (report.sent, report.pending) == (2, 0)
    assert [p["decision"] for p in backend.posted] == ["escalate", "confirmed_fraud"]
    assert "sale-7p-0001" in backend.frozen_wallets
    assert all(d.synced for d in load_detail(store, "sale-7p-0001").decisions)


def test_one_failing_sale_does_not_block_others(store: LocalStore) -> None:
    backend = FakeBackend()
    backend.unknown.add("sale-7p-0004")  # offline sale not settled at the backend yet
    decide(store, "sale-7p-0004", decision="reject", manager_id="M001", note="loss", now=NOW)
    decide(store, "sale-7p-0003", decision="approve", manager_id="M001", note="ok, ID", now=NOW)
    decide(store, "sale-7p-0004", decision="escalate", manager_id="M001", note="HQ call", now=NOW)
    report = push_decisions(store, backend, terminal_id="T01", now=NOW)
    assert (report.sent, report.failed, report.pending) == (1, 1, 2)
    rows = store.query("SELECT attempts, last_error FROM review_decisions ORDER BY id")
    assert rows[0]["attempts"] == 1 and "404" in rows[0]["last_error"]
    assert rows[2]["attempts"] == 0  # never sent ahead of the earlier decision


def test_retry_after_lost_response_is_not_a_second_decision(store: LocalStore) -> None:
    backend = FakeBackend()
    decide(store, "sale-7p-0002", decision="reject", manager_id="M001", note="no way", now=NOW)
    push_decisions(store, backend, terminal_id="T01", now=NOW)
    with store.transaction() as conn:  # the response was lost: still marked unsent
        conn.execute("UPDATE review_decisions SET synced = 0")
    push_decisions(store, backend, terminal_id="T01", now=NOW + 5)
    assert len(backend.posted) == 1 and pending_decisions(store) == 0


def test_pull_adds_other_terminals_sales_and_decisions_made_elsewhere(store: LocalStore) -> None:
    backend = FakeBackend()
    backend.remote = [
        remote_sale("sale-t2-1"),
        remote_sale("sale-7p-0005", review_status="approved", terminal_id="T01"),
    ]
    assert pull_reviews(store, backend, store_id="S001", now=NOW) == 2
    items = {i.sale_id: i for i in load_queue(store, "S001")}
    remote = items["sale-t2-1"]
    assert remote.remote and remote.terminal_id == "T02" and remote.score == 90
    assert remote.wallet_masked == "w-3f2…11b4"
    assert "w-3f2a9c0d7e11b4" not in str(tuple(store.query("SELECT * FROM remote_sales")[0]))
    assert items["sale-7p-0005"].status is ReviewStatus.APPROVED
    assert not items["sale-7p-0005"].remote
    decide(
        store,
        "sale-t2-1",
        decision="confirmed_fraud",
        manager_id="M001",
        note="cartons again",
        now=NOW + 10,
    )
    pull_reviews(store, backend, store_id="S001", now=NOW + 20)  # local decision is newer
    got = load_queue(store, "S001", flt=QueueFilter(status=ReviewStatus.CONFIRMED_FRAUD))
    assert [i.sale_id for i in got] == ["sale-t2-1"]
    push_decisions(store, backend, terminal_id="T01", now=NOW + 30)
    assert backend.posted[-1]["sale_id"] == "sale-t2-1"


def test_pull_offline_raises_the_backend_error(store: LocalStore) -> None:
    backend = FakeBackend()
    backend.online = False
    with pytest.raises(BackendError):
        pull_reviews(store, backend, store_id="S001", now=NOW)


def test_mask_wallet_never_shows_the_whole_id() -> None:
    assert mask_wallet("w-3f2a9c0d7e11b4") == "w-3f2…11b4"
    assert mask_wallet("short") == "sh…"
    assert mask_wallet(None) is None


class FakeSink:
    def __init__(self) -> None:
        self.batches: list[tuple[str, list[Mapping[str, Any]]]] = []
        self.online = True

    def push_audit(
        self, *, terminal_id: str, entries: Sequence[Mapping[str, Any]], idempotency_key: str
    ) -> None:
        if not self.online:
            raise BackendError("backend unreachable")
        self.batches.append((idempotency_key, list(entries)))


def test_audit_sync_sends_the_chain_in_order_and_resumes(store: LocalStore) -> None:
    sink = FakeSink()
    for n in range(3):
        append_audit(store, at=NOW + n, actor="C042", action=AuditAction.SIGN_IN)
    first = sync_audit(store, sink, terminal_id="T01")
    assert (first.sent, first.pending) == (3, 0) and synced_through(store) == 3
    sent = sink.batches[0][1]
    assert sent[1]["prev_hash"] == sent[0]["hash"] and sink.batches[0][0] == "audit-T01-1-3"
    sink.online = False
    append_audit(store, at=NOW + 9, actor="M001", action=AuditAction.VOID, detail={"sale_id": "x"})
    down = sync_audit(store, sink, terminal_id="T01")
    assert (down.sent, down.pending) == (0, 1) and down.problem == "backend unreachable"
    sink.online = True
    assert sync_audit(store, sink, terminal_id="T01").sent == 1
    assert sink.batches[-1][1][0]["detail"] == {"sale_id": "x"}


def test_audit_sync_refuses_a_tampered_chain(tmp_path: Path) -> None:
    import sqlite3

    store = open_store(tmp_path)
    append_audit(store, at=NOW, actor="M001", action=AuditAction.VOID, detail={"sale_id": "a"})
    append_audit(store, at=NOW, actor="M001", action=AuditAction.VOID, detail={"sale_id": "b"})
    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.execute("UPDATE audit_log SET actor = 'C042' WHERE id = 1")
    conn.commit()
    conn.close()
    sink = FakeSink()
    report = sync_audit(store, sink, terminal_id="T01")
    assert report.sent == 0 and "entry 1" in (report.problem or "") and sink.batches == []


def test_a_retried_payment_is_matched_by_its_backend_sale_id(store: LocalStore) -> None:
    # The checkout sends a second token attempt as "<sale_id>.2"; the backend knows only that.
    with store.transaction() as conn:
        conn.execute(
            "UPDATE sales SET token_facts = json_set(token_facts, '$.server_sale_id',"
            " 'sale-7p-0001.2') WHERE sale_id = 'sale-7p-0001'"
        )
    backend = FakeBackend()
    backend.remote = [remote_sale("sale-7p-0001.2", terminal_id="T01", review_status="escalated")]
    pull_reviews(store, backend, store_id="S001", now=NOW)
    items = {i.sale_id: i for i in load_queue(store, "S001")}
    assert "sale-7p-0001.2" not in items  # not a second copy of our own sale
    assert items["sale-7p-0001"].status is ReviewStatus.ESCALATED
    decide(store, "sale-7p-0001", decision="reject", manager_id="M001", note="cartons", now=NOW)
    push_decisions(store, backend, terminal_id="T01", now=NOW)
    assert backend.posted[-1]["sale_id"] == "sale-7p-0001.2"
