import json
from pathlib import Path
from typing import Any

import pytest

from pos_app.demo.seed_reviews import ONIGIRI, seed_demo_reviews
from pos_app.terminal.audit.log import AuditAction, append_audit, read_entries, verify_store
from pos_app.terminal.reviews.detail import load_detail, token_view
from pos_app.terminal.reviews.export import queue_csv
from pos_app.terminal.reviews.queue import (
    CLAIM_STALE_S,
    ClaimedByOther,
    QueueFilter,
    ReviewChoice,
    ReviewError,
    ReviewStatus,
    claim,
    decide,
    known_reasons,
    load_queue,
    release,
    status_counts,
)
from pos_app.terminal.store.db import LocalStore, open_store
from pos_app.terminal.store.sales_repo import SaleRecord, save_sale

NOW = 1_795_000_000


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    s = open_store(tmp_path)
    seed_demo_reviews(s, now=NOW)
    return s


def test_queue_holds_flagged_sales_only_riskiest_first(store: LocalStore) -> None:
    from pos_app.core.basket import BasketLine

    plain = SaleRecord(
        "sale-plain",
        "S001",
        "T01",
        "C042",
        "JPY",
        150,
        "approved",
        (BasketLine(ONIGIRI, 1),),
        NOW - 10,
        risk={"action": "allow", "score": 0},
    )
    save_sale(store, plain)
    items = load_queue(store, "S001")
    assert [i.sale_id for i in items] == [
        "sale-7p-0001",
        "sale-7p-0002",
        "sale-7p-0003",
        "sale-7p-0005",
        "sale-7p-0004",
    ]
    loss = items[-1]
    assert loss.offline and "offline_loss" in loss.reasons and "insufficient_funds" in loss.reasons
    assert load_queue(store, "S999") == []


def test_filters_and_counts(store: LocalStore) -> None:
    def ids(**kw: Any) -> set[str]:
        return {i.sale_id for i in load_queue(store, "S001", flt=QueueFilter(**kw))}

    assert ids(cashier_id="C017") == {"sale-7p-0003", "sale-7p-0004"}
    assert ids(reason="takeover_token_flags") == {"sale-7p-0001"}
    assert ids(min_total=30_000) == {"sale-7p-0001", "sale-7p-0002", "sale-7p-0003"}
    assert ids(max_total=1_000) == {"sale-7p-0005"}
    assert ids(since=NOW - 2 * 3600, until=NOW) == {"sale-7p-0001", "sale-7p-0002"}
    decide(store, "sale-7p-0003", decision="approve", manager_id="M001", note="ID checked", now=NOW)
    assert ids(status=ReviewStatus.APPROVED) == {"sale-7p-0003"}
    counts = status_counts(store, "S001", flt=QueueFilter(status=ReviewStatus.APPROVED))
    assert counts[ReviewStatus.OPEN] == 4 and counts[ReviewStatus.APPROVED] == 1
    counts = status_counts(store, "S001", flt=QueueFilter(cashier_id="C017"))
    assert counts[ReviewStatus.OPEN] == 1 and sum(counts.values()) == 2
    assert "offline_loss" in known_reasons(load_queue(store, "S001"))


@pytest.mark.parametrize(
    ("decision", "status"),
    [
        ("approve", ReviewStatus.APPROVED),
        ("reject", ReviewStatus.REJECTED),
        ("escalate", ReviewStatus.ESCALATED),
        ("confirmed_fraud", ReviewStatus.CONFIRMED_FRAUD),
    ],
)
def test_each_decision_sets_status_queues_and_audits(
    store: LocalStore, decision: str, status: ReviewStatus
) -> None:
    record = decide(
        store,
        "sale-7p-0001",
        decision=decision,
        manager_id="M001",
        note="  looked at the camera  ",
        now=NOW + 5,
    )
    assert record.decision is ReviewChoice(decision) and record.note == "looked at the camera"
    item = next(i for i in load_queue(store, "S001") if i.sale_id == "sale-7p-0001")
    assert item.status is status and item.claimed_by is None
    detail = load_detail(store, "sale-7p-0001")
    assert [(d.decision.value, d.reviewer_id, d.synced) for d in detail.decisions] == [
        (decision, "M001", False)
    ]
    entry = read_entries(store)[-1]
    assert entry.action == AuditAction.REVIEW_DECISION and entry.actor == "M001"
    assert entry.detail == {
        "sale_id": "sale-7p-0001",
        "decision": decision,
        "note": "looked at the camera",
        "id": record.id,
    }
    assert verify_store(store).ok


def test_a_note_is_required(store: LocalStore) -> None:
    with pytest.raises(ReviewError) as err:
        decide(store, "sale-7p-0001", decision="approve", manager_id="M001", note="  ", now=NOW)
    assert err.value.code == "note_required"
    assert load_detail(store, "sale-7p-0001").decisions == ()
    with pytest.raises(ValueError, match="maybe"):
        decide(store, "sale-7p-0001", decision="maybe", manager_id="M001", note="hmm hmm", now=NOW)
    with pytest.raises(ReviewError) as err:
        decide(store, "nope", decision="approve", manager_id="M001", note="fine", now=NOW)
    assert err.value.code == "unknown_sale"


def test_second_manager_sees_who_took_the_sale(store: LocalStore) -> None:
    assert claim(store, "sale-7p-0002", manager_id="M001", now=NOW).ok
    other = claim(store, "sale-7p-0002", manager_id="M002", now=NOW + 60)
    assert not other.ok and other.claimed_by == "M001" and other.claimed_at == NOW
    with pytest.raises(ClaimedByOther) as err:
        decide(
            store, "sale-7p-0002", decision="reject", manager_id="M002", note="not ok", now=NOW + 61
        )
    assert err.value.claimed_by == "M001"
    assert claim(store, "sale-7p-0002", manager_id="M001", now=NOW + 70).ok  # own claim renews
    release(store, "sale-7p-0002", manager_id="M001", now=NOW + 80)
    assert claim(store, "sale-7p-0002", manager_id="M002", now=NOW + 90).ok


def test_an_abandoned_claim_can_be_taken_over(store: LocalStore) -> None:
    claim(store, "sale-7p-0002", manager_id="M001", now=NOW)
    assert not claim(store, "sale-7p-0002", manager_id="M002", now=NOW + CLAIM_STALE_S - 1).ok
    assert claim(store, "sale-7p-0002", manager_id="M002", now=NOW + CLAIM_STALE_S + 1).ok


def test_claims_race_from_two_connections(tmp_path: Path) -> None:
    # Two managers on two processes share the database file: exactly one wins.
    first = open_store(tmp_path)
    seed_demo_reviews(first, now=NOW)
    second = LocalStore(first.path)
    results = [
        claim(first, "sale-7p-0001", manager_id="M001", now=NOW),
        claim(second, "sale-7p-0001", manager_id="M002", now=NOW),
    ]
    assert [r.ok for r in results] == [True, False]
    assert results[1].claimed_by == "M001"


def test_detail_has_the_evidence(store: LocalStore) -> None:
    append_audit(
        store,
        at=NOW - 3 * 3600 + 30,
        actor="M003",
        action=AuditAction.MANAGER_APPROVAL,
        detail={
            "cashier": "C017",
            "sale_id": "sale-7p-0003",
            "reason": "regular customer, company gift order",
        },
    )
    d = load_detail(store, "sale-7p-0003")
    assert d.item.cashier_id == "C017" and d.item.total == 30_140
    assert [(ln.category, ln.quantity) for ln in d.lines] == [("gift_card", 3), ("beverage", 1)]
    assert d.rules[0].code == "large_cash_convertible_basket"
    assert "30,000 yen" in d.rules[0].en and "30,000 円" in d.rules[0].ja
    assert d.rules[0].inputs == (("cash_convertible", "30000"),)
    assert d.rules_version == "2026.11-1"
    assert [s.state for s in d.steps] == ["authorizing", "approved"]
    assert d.till_actions[0].manager_id == "M003"
    assert d.till_actions[0].reason == "regular customer, company gift order"
    takeover = load_detail(store, "sale-7p-0001").token
    assert takeover.flags == ("new_device", "credential_reset") and takeover.age_s == 12
    assert takeover.wallet_masked == "w-0b6…a93e" and not takeover.offline


def test_token_view_tolerates_named_flags() -> None:
    view = token_view(
        {"flags": ["overseas"], "token_age_s": 40.0, "kid": "k1"}, wallet_masked=None, offline=True
    )
    assert view.flags == ("overseas",) and view.age_s == 40 and view.offline
    assert view.other == (("kid", "k1"),)


def test_csv_export_of_the_filtered_queue(store: LocalStore) -> None:
    items = load_queue(store, "S001", flt=QueueFilter(cashier_id="C017"))
    text = queue_csv(items)
    lines = text.strip().split("\r\n")
    assert lines[0].startswith("sale_id,created_at_utc,")
    assert len(lines) == 3 and lines[1].startswith("sale-7p-0003,")
    assert "w-71c…0f12" in text and "offline_loss" in text


def test_csv_neutralises_formulas(store: LocalStore) -> None:
    with store.transaction() as conn:
        conn.execute("UPDATE sales SET cashier_id = '=HYPERLINK(1)' WHERE sale_id = 'sale-7p-0005'")
    text = queue_csv(load_queue(store, "S001"))
    assert ",'=HYPERLINK(1)," in text


def test_risk_reasons_as_bare_codes(store: LocalStore) -> None:
    with store.transaction() as conn:
        conn.execute(
            "UPDATE sales SET risk = ? WHERE sale_id = 'sale-7p-0005'",
            (json.dumps({"action": "decline", "score": 99, "reasons": ["x_rule"]}),),
        )
    first = load_queue(store, "S001")[0]
    assert first.sale_id == "sale-7p-0005" and first.reasons == ("x_rule",)
    assert load_detail(store, "sale-7p-0005").rules[0].code == "x_rule"
