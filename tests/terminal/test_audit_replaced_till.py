"""A replaced till (purged, enrolled again under the same id) continues the backend's
audit chain instead of being refused at id 1 forever (issue 16.7)."""

from __future__ import annotations

import shutil
from pathlib import Path

from pos_app.terminal.audit.log import AuditAction, append_audit, verify_store
from pos_app.terminal.doctor.checks_store import check_audit_chain
from pos_app.terminal.doctor.env import DoctorEnv
from pos_app.terminal.doctor.runner import Finding, Status
from tests.terminal.checkout_support import Backend, Network, till


def doctor_line(data_dir: Path) -> Finding:
    return check_audit_chain(DoctorEnv(settings=None, data_dir=data_dir))


def test_a_replaced_till_continues_the_chain_and_doctor_says_so(
    backend: Backend, tmp_path: Path
) -> None:
    first = till(backend, tmp_path, Network())
    for n in range(3):
        append_audit(first.store, at=n, actor="M001", action=AuditAction.VOID)
    assert first.sync is not None
    audit = first.sync.tick().audit
    assert audit is not None and audit.problem is None
    held = first.store.query("SELECT max(id) FROM audit_log")[0][0]
    first.close()
    assert doctor_line(tmp_path / "terminal").status is Status.OK

    shutil.rmtree(tmp_path / "terminal")  # purge, then the same terminal id again
    second = till(backend, tmp_path, Network())
    try:
        ids = [r[0] for r in second.store.query("SELECT id FROM audit_log ORDER BY id")]
        # Its first entry (the enrollment) follows the backend's head.
        assert ids == list(range(held + 1, held + 1 + len(ids)))
        append_audit(second.store, at=9, actor="M001", action=AuditAction.VOID)
        assert verify_store(second.store).ok
        assert second.sync is not None
        report = second.sync.tick().audit
        assert report is not None and report.problem is None and report.pending == 0
        assert report.synced_through == held + len(ids) + 1
        line = doctor_line(tmp_path / "terminal")
        assert line.status is Status.OK
        assert f"continues the backend's chain after id {held}" in line.detail
        assert f"through id {held + len(ids) + 1}" in line.detail
    finally:
        second.close()


def test_doctor_names_a_chain_the_backend_refuses(backend: Backend, tmp_path: Path) -> None:
    first = till(backend, tmp_path, Network())
    append_audit(first.store, at=1, actor="M001", action=AuditAction.VOID)
    assert first.sync is not None
    audit = first.sync.tick().audit
    assert audit is not None and audit.problem is None
    first.close()
    # What a purge did before: a fresh log at id 1 the backend already holds, differently.
    shutil.rmtree(tmp_path / "terminal")
    second = till(backend, tmp_path, Network())
    try:
        second.store.query("DELETE FROM kv WHERE key = 'audit.chain_start'")
        with second.store.transaction() as conn:
            conn.execute(
                "DELETE FROM kv WHERE key IN ('audit.chain_start', 'audit.synced_through')"
            )
            conn.execute("DELETE FROM audit_log")
            conn.execute("DELETE FROM sqlite_sequence WHERE name = 'audit_log'")
        append_audit(second.store, at=5, actor="M001", action=AuditAction.VOID)
        assert second.sync is not None
        report = second.sync.tick().audit
        assert report is not None and "first bad id: 1" in (report.problem or "")
        line = doctor_line(tmp_path / "terminal")
        assert line.status is Status.FAIL
        assert "the backend refuses the next entries" in line.detail
        assert "first bad id: 1" in line.detail
    finally:
        second.close()
