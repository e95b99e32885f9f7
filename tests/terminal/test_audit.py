import sqlite3
from pathlib import Path

from pos_app.terminal.audit.log import AuditAction, append_audit, read_entries, verify_store
from pos_app.terminal.store.db import DB_NAME, LocalStore, open_store


def filled(tmp_path: Path) -> LocalStore:
    store = open_store(tmp_path)
    append_audit(store, at=100, actor="C042", action=AuditAction.SIGN_IN)
    append_audit(
        store,
        at=110,
        actor="M001",
        action=AuditAction.MANAGER_APPROVAL,
        detail={"sale_id": "s1", "reason": "regular customer, ID checked"},
    )
    append_audit(store, at=120, actor="M001", action=AuditAction.VOID, detail={"sale_id": "s1"})
    return store


def test_a_clean_chain_verifies(tmp_path: Path) -> None:
    store = filled(tmp_path)
    report = verify_store(store)
    assert report.ok and report.entries == 3
    entries = read_entries(store)
    assert entries[1].detail["reason"] == "regular customer, ID checked"
    assert entries[1].prev_hash == entries[0].hash


def tamper(tmp_path: Path, sql: str) -> None:
    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.execute(sql)
    conn.commit()
    conn.close()


def test_an_edited_row_is_named(tmp_path: Path) -> None:
    filled(tmp_path).close()
    tamper(tmp_path, 'UPDATE audit_log SET detail = \'{"sale_id":"s9"}\' WHERE id = 2')
    report = verify_store(open_store(tmp_path))
    assert not report.ok and report.first_broken_id == 2
    assert "changed" in (report.problem or "")


def test_a_deleted_row_is_named(tmp_path: Path) -> None:
    filled(tmp_path).close()
    tamper(tmp_path, "DELETE FROM audit_log WHERE id = 2")
    report = verify_store(open_store(tmp_path))
    assert not report.ok and report.first_broken_id == 3
    assert "deleted" in (report.problem or "")


def test_an_entry_commits_with_the_action_or_not_at_all(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    try:
        with store.transaction() as conn:
            append_audit(conn, at=1, actor="C1", action=AuditAction.VOID)
            raise RuntimeError("the void failed")
    except RuntimeError:
        pass
    assert read_entries(store) == []
