from datetime import UTC, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pos_app.core.basket import BasketLine
from pos_app.demo.seed_reviews import ONIGIRI, seed_demo_reviews
from pos_app.terminal.audit.log import AuditAction, append_audit, read_entries, verify_store
from pos_app.terminal.reviews.queue import decide
from pos_app.terminal.shift_report import close_shift, compute_report, flag_stats, last_z_at
from pos_app.terminal.store.db import LocalStore, open_store
from pos_app.terminal.store.sales_repo import SaleRecord, save_sale

NOW = 1_795_000_000
JST = timezone(timedelta(hours=9))


def sale(sale_id: str, state: str, *, at: int, qty: int = 1, **kw: object) -> SaleRecord:
    fields: dict[str, Any] = {"risk": {"action": "allow", "score": 0}, **kw}
    return SaleRecord(
        sale_id,
        "S001",
        "T01",
        "C042",
        "JPY",
        150 * qty,
        state,
        (BasketLine(ONIGIRI, qty),),
        at,
        **fields,
    )


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    s = open_store(tmp_path)
    seed_demo_reviews(s, now=NOW)
    save_sale(s, sale("ok-1", "approved", at=NOW - 100, qty=2, authorization_id="a1"))
    save_sale(s, sale("ok-2", "approved", at=NOW - 90, qty=1, offline=True))  # not settled yet
    save_sale(s, sale("void-1", "approved", at=NOW - 80, qty=3, authorization_id="a3"))
    save_sale(s, sale("void-1", "voided", at=NOW - 70))
    append_audit(
        s,
        at=NOW - 70,
        actor="M002",
        action=AuditAction.VOID,
        detail={"sale_id": "void-1", "reason": "customer changed mind"},
    )
    for n, manager in enumerate(["M001", "M001", "M002"]):
        append_audit(
            s,
            at=NOW - 60 + n,
            actor=manager,
            action=AuditAction.MANAGER_APPROVAL,
            detail={"sale_id": f"x{n}", "reason": "ID checked"},
        )
    return s


def test_shift_report_totals(store: LocalStore) -> None:
    r = compute_report(store, "S001", currency="JPY", since=NOW - 4 * 3600, until=NOW)
    # approved in range: sale-7p-0003 (30,140) + ok-1 (300) + ok-2 (150)
    assert (r.sales_count, r.sales_value) == (3, 30_590)
    assert r.wallet_paid_value == 30_440  # the offline sale is not confirmed yet
    assert (r.voids_count, r.voids_value) == (1, 450)
    assert (r.offline_count, r.offline_value) == (1, 150)
    assert r.declined_count == 1 and r.flagged_count == 3
    assert dict(r.flagged_by_reason)["takeover_token_flags"] == 1
    assert r.approvals_by_manager == (("M001", 2), ("M002", 1))
    week = compute_report(store, "S001", currency="JPY", since=NOW - 7 * 86400, until=NOW)
    assert (week.offline_losses_count, week.offline_losses_value) == (1, 12_300)
    assert dict(week.flagged_by_reason)["offline_loss"] == 1 and week.flagged_count == 5


def test_z_report_closes_the_shift_into_the_audit_log(store: LocalStore) -> None:
    decide(store, "sale-7p-0001", decision="reject", manager_id="M001", note="cartons", now=NOW - 5)
    z = close_shift(store, "S001", currency="JPY", manager_id="M001", now=NOW)
    assert z.kind == "Z" and z.since == 0 and last_z_at(store) == NOW
    assert z.decisions == (("reject", 1),)
    entry = read_entries(store)[-1]
    assert entry.action == AuditAction.SHIFT_CLOSED and entry.detail["sales_value"] == z.sales_value
    assert verify_store(store).ok
    save_sale(store, sale("next-1", "approved", at=NOW + 10, authorization_id="a9"))
    z2 = close_shift(store, "S001", currency="JPY", manager_id="M002", now=NOW + 3600)
    assert z2.since == NOW and (z2.sales_count, z2.sales_value) == (1, 150)


def test_flags_per_hour_and_reason(store: LocalStore) -> None:
    stats = flag_stats(store, "S001", now=NOW, tz=JST)
    assert len(stats.per_hour) == 7 * 24 and stats.total == 5
    assert stats.hour_starts[-1] <= NOW < stats.hour_starts[-1] + 3600
    assert stats.hour_starts[-1] % 3600 == 0
    # NOW is 400 s into its hour: sale-7p-0001 (26 min ago) falls in the hour before.
    assert stats.per_hour[-2:] == (1, 0) and stats.per_hour[-3] == 1
    assert dict(stats.per_reason)["offline_loss"] == 1
    assert flag_stats(store, "S001", now=NOW, tz=UTC, days=1).total == 3


def test_empty_period_is_all_zero(tmp_path: Path) -> None:
    r = compute_report(open_store(tmp_path), "S001", currency="JPY", since=0, until=NOW)
    assert (r.sales_count, r.sales_value, r.flagged_count) == (0, 0, 0)
    assert r.flagged_by_reason == () and r.approvals_by_manager == ()
