"""The fault harness (bench/fault_harness.py), short and bounded: real ``pos-app backend
serve`` with 2 workers, 3 till processes driving the till's real services, SIGKILLs of
tills and of the backend, an outage, one till with a clock 45 s fast, tills racing on the
same wallets and codes; then every sale and wallet reconciled with the ledger.

The script's defaults run longer (a 3-minute outage, more kills):
``.venv/bin/python -m bench.fault_harness``.
"""

from __future__ import annotations

import pytest

from bench import fault_harness

SHORT = fault_harness.Options(
    duration_s=16,
    outage_s=4,
    tills=3,
    workers=2,
    till_kills=2,
    backend_kills=0,  # the outage is a SIGKILL of the backend already
    skew_s=45,
    drain_timeout_s=60,
    seed=14,
)


@pytest.mark.slow
@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_no_sale_is_lost_or_charged_twice_under_kills_outage_skew_and_races(db: str) -> None:
    counts = fault_harness.run(db, SHORT)
    print(counts.line())
    assert counts.sales > 0 and counts.kills == 3, counts.line()
    bad = (
        counts.lost,
        counts.charged_twice,
        counts.balance_mismatches,
        counts.disagree,
        counts.stuck,
    )
    assert bad == (0, 0, 0, 0, 0), counts.line()
    assert counts.ledger_ok, counts.line()
