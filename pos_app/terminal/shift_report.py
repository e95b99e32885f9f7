"""Shift (X/Z) report and flag statistics of this terminal, from the local store (no Qt).

An X report reads the totals of a period and changes nothing. A Z report closes
the shift: its totals go into the audit log (so a later edit of a sale shows as
a mismatch with a hash-chained record) and the next shift starts where it ended.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, tzinfo

from pos_app.terminal.audit.log import AuditAction, append_audit
from pos_app.terminal.reviews.queue import QueueFilter, load_queue
from pos_app.terminal.store import kv
from pos_app.terminal.store.db import LocalStore

LAST_Z_KEY = "shift.last_z_at"


@dataclass(frozen=True, slots=True)
class ShiftReport:
    kind: str  # "X" (read only) or "Z" (closes the shift)
    store_id: str
    currency: str  # ISO 4217 alpha: the amounts below are its minor units
    since: int
    until: int
    sales_count: int
    sales_value: int
    wallet_paid_value: int  # confirmed by the backend (has an authorization)
    declined_count: int
    flagged_count: int
    flagged_by_reason: tuple[tuple[str, int], ...]
    approvals_by_manager: tuple[tuple[str, int], ...]
    voids_count: int
    voids_value: int
    offline_count: int
    offline_value: int
    offline_losses_count: int
    offline_losses_value: int
    decisions: tuple[tuple[str, int], ...]  # review decisions made in the period


def compute_report(
    store: LocalStore, store_id: str, *, currency: str, since: int, until: int, kind: str = "X"
) -> ShiftReport:
    """The shift's figures; the sums count the sales in ``currency`` (the till's)."""
    sums = _sale_sums(store, store_id, currency=currency, since=since, until=until)
    flagged = [
        i
        for i in load_queue(store, store_id, flt=QueueFilter(since=since, until=until))
        if not i.remote
    ]
    reasons = Counter(code for i in flagged for code in i.reasons)
    return ShiftReport(
        kind=kind,
        store_id=store_id,
        currency=currency,
        since=since,
        until=until,
        flagged_count=len(flagged),
        flagged_by_reason=_ranked(reasons),
        approvals_by_manager=_audit_counts(
            store, AuditAction.MANAGER_APPROVAL, since=since, until=until
        ),
        decisions=_decision_counts(store, since=since, until=until),
        **sums,
    )


def last_z_at(store: LocalStore) -> int | None:
    value = kv.get_text(store, LAST_Z_KEY)
    return int(value) if value is not None else None


def close_shift(
    store: LocalStore, store_id: str, *, currency: str, manager_id: str, now: int
) -> ShiftReport:
    """Z report: totals since the previous Z, written to the audit log, shift restarted."""
    since = last_z_at(store) or 0
    report = compute_report(store, store_id, currency=currency, since=since, until=now, kind="Z")
    with store.transaction() as conn:
        kv.put(conn, LAST_Z_KEY, str(now))
        append_audit(
            conn, at=now, actor=manager_id, action=AuditAction.SHIFT_CLOSED, detail=asdict(report)
        )
    return report


def _sale_sums(
    store: LocalStore, store_id: str, *, currency: str, since: int, until: int
) -> dict[str, int]:
    row = store.query(
        """
        SELECT
          COALESCE(SUM(state = 'approved'), 0) AS sales_count,
          COALESCE(SUM(CASE WHEN state = 'approved' THEN total END), 0) AS sales_value,
          COALESCE(SUM(CASE WHEN state = 'approved' AND authorization_id IS NOT NULL
                       THEN total END), 0) AS wallet_paid_value,
          COALESCE(SUM(state = 'declined'), 0) AS declined_count,
          COALESCE(SUM(state = 'voided'), 0) AS voids_count,
          COALESCE(SUM(CASE WHEN state = 'voided' THEN total END), 0) AS voids_value,
          COALESCE(SUM(offline = 1 AND state = 'approved'), 0) AS offline_count,
          COALESCE(SUM(CASE WHEN offline = 1 AND state = 'approved' THEN total END), 0)
            AS offline_value,
          COALESCE(SUM(offline = 1 AND state = 'declined'), 0) AS offline_losses_count,
          COALESCE(SUM(CASE WHEN offline = 1 AND state = 'declined' THEN total END), 0)
            AS offline_losses_value
        FROM sales WHERE store_id = ? AND currency = ? AND created_at >= ? AND created_at < ?
        """,
        (store_id, currency, since, until),
    )[0]
    return {name: int(value) for name, value in zip(row.keys(), row, strict=True)}


def _audit_counts(
    store: LocalStore, action: str, *, since: int, until: int
) -> tuple[tuple[str, int], ...]:
    rows = store.query(
        "SELECT actor, COUNT(*) FROM audit_log WHERE action = ? AND at >= ? AND at < ?"
        " GROUP BY actor",
        (action, since, until),
    )
    return _ranked(Counter({r[0]: int(r[1]) for r in rows}))


def _decision_counts(store: LocalStore, *, since: int, until: int) -> tuple[tuple[str, int], ...]:
    rows = store.query(
        "SELECT decision, COUNT(*) FROM review_decisions WHERE at >= ? AND at < ?"
        " GROUP BY decision",
        (since, until),
    )
    return _ranked(Counter({r[0]: int(r[1]) for r in rows}))


def _ranked(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# flags chart ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlagStats:
    hour_starts: tuple[int, ...]  # Unix seconds of each local hour, oldest first
    per_hour: tuple[int, ...]  # flagged sales in each of those hours
    per_reason: tuple[tuple[str, int], ...]  # most frequent first

    @property
    def total(self) -> int:
        return sum(self.per_hour)


def flag_stats(
    store: LocalStore, store_id: str, *, now: int, tz: tzinfo, days: int = 7
) -> FlagStats:
    """Flagged sales of the store per local hour and per reason over the last ``days``."""
    end = datetime.fromtimestamp(now, tz).replace(minute=0, second=0, microsecond=0)
    end += timedelta(hours=1)
    hours = [end - timedelta(hours=h) for h in range(days * 24, 0, -1)]
    starts = tuple(int(h.timestamp()) for h in hours)
    items = load_queue(
        store, store_id, flt=QueueFilter(since=starts[0], until=int(end.timestamp()))
    )
    per_hour = [0] * len(starts)
    for item in items:
        per_hour[(item.created_at - starts[0]) // 3600] += 1
    reasons = Counter(code for i in items for code in i.reasons)
    return FlagStats(starts, tuple(per_hour), _ranked(reasons))
