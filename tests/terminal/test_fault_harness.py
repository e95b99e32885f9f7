"""The fault harness (bench/fault_harness.py), short and bounded: real ``pos-app backend
serve`` with 2 workers, 3 till processes driving the till's real services, SIGKILLs of
tills and of the backend, an outage, one till with a clock 45 s fast, tills racing on the
same wallets and codes; then every sale and wallet reconciled with the ledger.

The script's defaults run longer (a 3-minute outage, more kills):
``.venv/bin/python -m bench.fault_harness``.
"""

from __future__ import annotations

import json
from pathlib import Path

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


def test_a_till_slow_to_close_says_what_its_last_entry_waited_for(tmp_path: Path) -> None:
    """The harness reads the till's trace lines (bench/fault_till.py) after the drain."""
    till = fault_harness.Till("till3", tmp_path, tmp_path / "harness.json", seed=1)
    entry = {
        "id": 96, "sale": "f5c37c5b", "kind": "reconcile", "state": "pending", "attempts": 4,
        "due": 1_000_047, "error": "backend unreachable (ConnectError)", "token_exp": 1_000_156,
    }  # fmt: skip
    lines = [
        {"sale_id": "x", "scenario": "plain", "phase": "approved", "s": 0.1, "end": 999.9},
        # printed when the entry last changed, before the stop: still the state at the stop
        {"outbox": 990.5, "now": 1_000_000, "blocked_by": "backing off", "open": [entry]},
        {"stopped": 1000.6},
        {"outbox": 1047.0, "now": 1_000_047, "blocked_by": None, "open": []},
        {"drained": 1047.2},
    ]
    (tmp_path / "till.log").write_text("".join(json.dumps(d) + "\n" for d in lines) + "noise\n")
    story = fault_harness.drain_story(till, stopped_at=1000.0, note_s=3.0)
    assert story is not None
    assert story.startswith("till3 closed at +47.2s; outbox at the stop: #96 reconcile f5c37c5b")
    assert "attempts=4 due in 47s token_exp in 156s (backend unreachable" in story
    assert story.endswith("): a backoff grown while the backend was unreachable [backing off]")
    assert "last sale" not in story  # it sold its last sale before the stop
    assert fault_harness.drain_story(till, stopped_at=1045.0, note_s=3.0) is None


def test_a_sale_the_backend_never_received_is_named_as_the_documented_wait(
    tmp_path: Path,
) -> None:
    till = fault_harness.Till("till1", tmp_path, tmp_path / "harness.json", seed=1)
    entry = {
        "id": 116, "sale": "c68fdf65", "kind": "reconcile", "state": "pending", "attempts": 8,
        "due": 1_000_116, "error": "the backend has no record of the sale yet",
        "token_exp": 1_000_025,
    }  # fmt: skip
    lines = [
        {"scenario": "retry", "phase": "verifying", "s": 150.0, "end": 1150.0},
        {"stopped": 1150.1},
        {"outbox": 1150.5, "now": 1_000_000, "blocked_by": "backing off", "open": [entry]},
        {"drained": 1266.0},
    ]
    (tmp_path / "till.log").write_text("".join(json.dumps(d) + "\n" for d in lines))
    story = fault_harness.drain_story(till, stopped_at=1000.0, note_s=3.0)
    assert story is not None and story.startswith("till1 closed at +266.0s")
    assert "its last sale (retry, verifying, 150.0s) ended at +150.0s" in story
    assert "a sale the backend never received: given up at token_exp + 90 s (in 115s)" in story
