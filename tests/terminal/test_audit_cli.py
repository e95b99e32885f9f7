import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from pos_app.cli import main
from pos_app.terminal.audit.log import AuditAction, append_audit
from pos_app.terminal.store.db import DB_NAME, open_store


def filled(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    append_audit(store, at=100, actor="C042", action=AuditAction.SIGN_IN)
    append_audit(
        store,
        at=110,
        actor="M001",
        action=AuditAction.REVIEW_DECISION,
        detail={"sale_id": "s1", "decision": "confirmed_fraud", "note": "not me"},
    )
    append_audit(store, at=120, actor="M001", action=AuditAction.VOID, detail={"sale_id": "s2"})
    store.close()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["audit", "verify", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_a_whole_chain_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    filled(tmp_path)
    code, out = run(capsys, "--data-dir", str(tmp_path))
    assert code == 0 and out["ok"] and out["entries"] == 3 and out["first_broken_id"] is None


def test_an_edited_row_is_named_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    filled(tmp_path)
    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.execute(
        "UPDATE audit_log SET detail = json_set(detail, '$.decision', 'approve') WHERE id = 2"
    )
    conn.commit()
    conn.close()
    code, out = run(capsys, "--data-dir", str(tmp_path))
    assert code == 1 and not out["ok"] and out["first_broken_id"] == 2
    assert "changed" in out["problem"]


def test_a_missing_database_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "--data-dir", str(tmp_path / "nowhere"))
    assert code == 2 and "no terminal database" in out["error"]


def test_verify_does_not_migrate_the_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    filled(tmp_path)
    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.execute("PRAGMA user_version = 3")  # as if written by an older release
    conn.close()
    code, _ = run(capsys, "--data-dir", str(tmp_path))
    conn = sqlite3.connect(tmp_path / DB_NAME)
    assert code == 0 and conn.execute("PRAGMA user_version").fetchone()[0] == 3
    conn.close()
