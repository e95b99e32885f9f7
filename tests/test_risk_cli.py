"""``pos-app risk backtest`` / ``risk explain`` on a small log with malformed lines."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from pos_app import risk_cli

T = 1_790_000_000


def _sale(
    sale_id: str, t: int, wallet: str, lines: list[tuple[str, int, int]], **kw: object
) -> str:
    items = [
        {"sku": f"sku-{c}-{p}", "name": c, "category": c, "quantity": q, "unit_price": p,
         "line_total": q * p}
        for c, q, p in lines
    ]  # fmt: skip
    event: dict[str, object] = {
        "type": "sale", "time": t, "sale_id": sale_id, "store_id": "S001", "terminal_id": "T01",
        "cashier_id": "C1", "wallet_id": wallet, "device_id": "d1", "token_flags": 0,
        "token_age_s": 5, "offline": False, "pickup_later": False, "store_region": "JP-13",
        "currency": "JPY", "total": sum(q * p for _c, q, p in lines), "lines": items,
        "label": "legit",
    }  # fmt: skip
    event.update(kw)
    return json.dumps(event)


LOG_LINES = [
    json.dumps({"type": "top_up", "time": T, "wallet_id": "w-x", "amount": 100_000}),
    _sale("s-1", T + 10, "w-a", [("food", 2, 300)]),
    "{not json",
    _sale("s-2", T + 60, "w-x", [("heated_tobacco", 16, 5800)], label="fraud"),
    json.dumps({"type": "refund", "time": T + 70}),
    _sale("s-3", T + 80, "w-b", [("tobacco", 1, 5800)]),
    "",
    _sale("s-4", T + 90, "w-c", [("food", 1, 500)], token_flags="x"),
    _sale("s-5", T + 5, "w-c", [("food", 1, 500)]),
    _sale("s-6", T + 100, "w-d", [("e_cig", 1, 600)], label="fraud"),
]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(LOG_LINES) + "\n", encoding="utf-8")
    return path


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="pos-app")
    risk_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def test_backtest_writes_decisions_then_summary_last(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["risk", "backtest", "--events", str(log)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    decisions = [json.loads(x) for x in lines[:-1]]
    assert [d["sale_id"] for d in decisions] == ["s-1", "s-2", "s-3", "s-6"]
    assert decisions[0] == {"sale_id": "s-1", "action": "allow", "score": 0, "reasons": []}
    assert decisions[1]["action"] == "customer_approval"
    assert "topup_then_spend" in decisions[1]["reasons"]
    summary = json.loads(lines[-1])
    assert summary["summary"] == "risk-backtest"
    assert (summary["events"], summary["sales"], summary["top_ups"]) == (9, 4, 1)
    assert summary["malformed"] == 4
    assert summary["actions"] == {
        "allow": 2, "customer_approval": 2, "manager_approval": 0, "decline": 0,
    }  # fmt: skip
    assert summary["reasons"]["topup_then_spend"] == 1
    assert summary["fraud_value_stopped"] == round(92_800 / 93_400, 6)
    assert summary["legit_friction"] == 0.5
    assert summary["legit_declined"] == 0
    assert summary["baselines"]["allow_all"]["fraud_value_stopped_share"] == 0.0
    assert (
        summary["baselines"]["customer_approval_any_cash_convertible"]["legit_friction_share"]
        == 0.5
    )
    reported = err.splitlines()
    assert len(reported) == 4
    assert reported[0].endswith(":3: malformed event skipped: not JSON: Expecting property name "
                                "enclosed in double quotes at column 2")  # fmt: skip
    assert ":5: malformed event skipped: unknown event type 'refund'" in reported[1]
    assert ":8: malformed event skipped: 'token_flags' must be an integer" in reported[2]
    assert ":9: malformed event skipped: time" in reported[3]


def test_backtest_out_file_keeps_stdout_to_the_summary(
    log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "decisions.jsonl"
    assert _run(["risk", "backtest", "--events", str(log), "--out", str(out_file)]) == 0
    out, _ = capsys.readouterr()
    assert len(out.splitlines()) == 1
    assert json.loads(out)["sales"] == 4
    assert len(out_file.read_text().splitlines()) == 4


def test_backtest_with_a_bad_rule_file_is_a_usage_error(
    log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "risk.toml"
    repo_rules = Path(__file__).resolve().parents[1] / "config" / "risk.toml"
    bad.write_text(repo_rules.read_text().replace("max_age_s = 120", 'max_age_s = "abc"'))
    assert _run(["risk", "backtest", "--events", str(log), "--rules", str(bad)]) == 2
    _, err = capsys.readouterr()
    assert f'{bad}: rule "old_token": key "max_age_s" must be an integer' in err
    assert _run(["risk", "backtest", "--events", str(tmp_path / "none.jsonl")]) == 2


def test_explain_prints_the_reasoning(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["risk", "explain", "--events", str(log), "--sale", "s-2"]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("sale s-2  store S001/T01  wallet w-x")
    assert "action: customer_approval" in out
    assert "[topup_then_spend]" in out
    assert "minutes_since_topup" in out
    assert "last_topup_amount: 100000" in out
    assert "manager may override: no" in out


def test_explain_unknown_sale(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["risk", "explain", "--events", str(log), "--sale", "s-404"]) == 2
    assert "not found" in capsys.readouterr().err


def test_score_from_replays_earlier_sales_as_history_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day = 86_400
    first = _sale("s-a", T, "w-r", [("heated_tobacco", 1, 5800)])
    later = _sale("s-b", T + 2 * day, "w-r", [("heated_tobacco", 1, 5800)])
    both, alone = tmp_path / "both.jsonl", tmp_path / "alone.jsonl"
    both.write_text(first + "\n" + later + "\n", encoding="utf-8")
    alone.write_text(later + "\n", encoding="utf-8")

    # From an empty history the wallet's first carton asks its owner.
    assert _run(["risk", "backtest", "--events", str(alone)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert json.loads(lines[0])["action"] == "customer_approval"
    assert "score_from" not in json.loads(lines[-1])

    # After a day of history (the owner approved the first carton on this phone),
    # the same carton passes; the history sale is neither written nor scored.
    iso = "2026-09-22T23:13:20+09:00"  # T + 1 day
    assert _run(["risk", "backtest", "--events", str(both), "--score-from", iso]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(x)["sale_id"] for x in lines[:-1]] == ["s-b"]
    assert json.loads(lines[0])["action"] == "allow"
    summary = json.loads(lines[-1])
    assert (summary["sales"], summary["history_sales"]) == (1, 1)
    assert summary["score_from"] == T + day
    assert summary["labelled"]["legit_sales"] == 1
    assert summary["legit_friction"] == 0.0

    assert _run(["risk", "backtest", "--events", str(both), "--score-from", str(T + day)]) == 0
    assert capsys.readouterr().out.splitlines()[:-1] == lines[:-1]


@pytest.mark.parametrize("bad", ["2026-09-23T15:33:20", "yesterday", "-5"])
def test_score_from_needs_unix_seconds_or_a_time_with_its_offset(
    bad: str, log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        _run(["risk", "backtest", "--events", str(log), "--score-from", bad])
    assert exited.value.code == 2
    assert "neither Unix seconds nor an ISO 8601 time with a UTC offset" in capsys.readouterr().err
