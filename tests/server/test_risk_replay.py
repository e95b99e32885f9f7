"""The backend engine of ``pos-app risk backtest`` decides like the fast backtest.

The 2-day public log (``tests/data``, a gzip copy of
shared/benchdata/risk/public-events.jsonl) is replayed through the backend's own
feature reads and decision (a scratch SQLite database with the real migrations)
and through the in-memory default engine; every sale must get the same
decision line. A difference means the backtest measures rules production does
not run.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from pos_app import risk_cli

PUBLIC_LOG = Path(__file__).resolve().parents[1] / "data" / "risk-public-events-2d.jsonl.gz"
PUBLIC_SHA256 = "496d168f67fa4e46a847bc7b7c8c36980e47d7e91e783586b004e6e216248520"


@pytest.fixture(scope="module")
def public_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = gzip.decompress(PUBLIC_LOG.read_bytes())
    assert hashlib.sha256(raw).hexdigest() == PUBLIC_SHA256  # the published file, unchanged
    path = tmp_path_factory.mktemp("risk") / "public-events.jsonl"
    path.write_bytes(raw)
    return path


def _backtest(
    engine: str, events: Path, out: Path, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="pos-app")
    risk_cli.register(parser.add_subparsers(dest="command"))
    argv = ["risk", "backtest", "--engine", engine, "--events", str(events), "--out", str(out)]
    args = parser.parse_args(argv)
    assert args.handler(args) == 0
    summary: dict[str, Any] = json.loads(capsys.readouterr().out.splitlines()[-1])
    return summary


def test_backend_engine_decides_every_sale_like_the_default_engine(
    public_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fast = _backtest("default", public_log, tmp_path / "default.jsonl", capsys)
    backend = _backtest("backend", public_log, tmp_path / "backend.jsonl", capsys)
    fast_lines = (tmp_path / "default.jsonl").read_text().splitlines()
    backend_lines = (tmp_path / "backend.jsonl").read_text().splitlines()
    assert len(fast_lines) == fast["sales"] == 2809
    differ = [(a, b) for a, b in zip(fast_lines, backend_lines, strict=True) if a != b]
    assert differ == []
    assert backend["actions"] == fast["actions"]
    # Not a trivial agreement: the log exercises every kind of outcome but manager approval.
    assert fast["actions"]["customer_approval"] > 50 and fast["actions"]["allow"] > 2000
    assert len(fast["reasons"]) >= 10
    # The history the backend reads from its tables: approvals remembered on the phone,
    # step-ups the owner never approved (stored as denied step-ups), new stores.
    for code in ("owner_approval_refused", "store_new_for_wallet", "device_new_for_wallet"):
        assert fast["reasons"].get(code, 0) > 5, code


def test_terminal_engine_is_the_till_alone_offline(
    public_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    till = _backtest("terminal", public_log, tmp_path / "till.jsonl", capsys)
    reasons = set(till["reasons"])
    # Only what a till can know: no wallet history, no top-ups, no other stores.
    assert reasons.isdisjoint(
        {"cash_convertible_above_history", "topup_then_spend", "distant_stores_1h"}
    )
    # Offline, more than 3,000 yen of easy-to-resell goods cannot be accepted alone.
    assert "offline_cash_convertible" in reasons
    decisions = [json.loads(x) for x in (tmp_path / "till.jsonl").read_text().splitlines()]
    assert len(decisions) == 2809
    assert all(
        d["action"] != "allow" for d in decisions if "offline_cash_convertible" in d["reasons"]
    )
