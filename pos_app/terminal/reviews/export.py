"""The review queue written out as CSV, for head office or the police.

The wallet stays masked, as on every screen, and cells that a spreadsheet would
run as formulas are neutralised.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from pos_app.terminal.reviews.queue import QueueItem

CSV_HEADER = (
    "sale_id",
    "created_at_utc",
    "store_id",
    "terminal_id",
    "cashier_id",
    "currency",
    "total",
    "state",
    "risk_action",
    "score",
    "reasons",
    "offline",
    "wallet",
    "review_status",
    "claimed_by",
)


def queue_csv(items: Iterable[QueueItem]) -> str:
    """The (filtered) queue as CSV; the wallet stays masked, as everywhere else."""
    from datetime import UTC, datetime

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for i in items:
        when = datetime.fromtimestamp(i.created_at, UTC).strftime("%Y-%m-%d %H:%M:%S")
        row = (
            i.sale_id,
            when,
            i.store_id,
            i.terminal_id,
            i.cashier_id,
            i.currency,
            i.total,
            i.state,
            i.risk_action,
            i.score,
            " ".join(i.reasons),
            int(i.offline),
            i.wallet_masked or "",
            i.status.value,
            i.claimed_by or "",
        )
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _cell(value: object) -> object:
    # A spreadsheet runs a cell starting with = + - @ as a formula; ids come from the network.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
