"""The till's audit chain reaches the backend on its own, and a tampered chain is not sent."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from pos_app.terminal.audit.log import AuditAction, append_audit
from pos_app.terminal.audit.sync import synced_through
from pos_app.terminal.store.db import DB_NAME
from tests.terminal.checkout_support import Backend, Network, till


def held_by_backend(backend: Backend) -> int:
    engine = sa.create_engine(backend.settings.db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM audit_entries")).scalar_one())
    finally:
        engine.dispose()


def test_background_tick_sends_new_entries_and_refuses_a_tampered_chain(
    backend: Backend, tmp_path: Path
) -> None:
    network = Network()
    services = till(backend, tmp_path, network)
    try:
        assert services.sync is not None
        append_audit(
            services.store,
            at=1,
            actor="M001",
            action=AuditAction.VOID,
            detail={"sale_id": "s1", "reason": "customer changed mind"},
        )
        local = services.store.query("SELECT count(*) FROM audit_log")[0][0]
        report = services.sync.tick().audit
        assert report is not None and report.problem is None
        assert report.pending == 0 and held_by_backend(backend) == local
        assert synced_through(services.store) == local
        assert services.sync.tick().audit is None  # nothing new: no work, no request

        db = services.store.path
        assert db.name == DB_NAME
        raw = sqlite3.connect(db)
        raw.execute("UPDATE audit_log SET actor = 'nobody' WHERE id = 1")
        raw.commit()
        raw.close()
        append_audit(services.store, at=2, actor="M001", action=AuditAction.VOID)
        report = services.sync.tick().audit
        assert report is not None and report.sent == 0
        assert "audit log broken at entry 1" in (report.problem or "")
        assert held_by_backend(backend) == local  # the backend's copy stays the reference
    finally:
        services.close()
        network.close()
