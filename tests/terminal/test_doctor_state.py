"""Doctor: enrollment, trust list and outbox checks fail on cue."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from pos_app.terminal.doctor.checks_store import (
    check_enrollment,
    check_outbox,
    check_trust_list,
    read_credentials,
)
from pos_app.terminal.doctor.env import CredentialsInfo
from pos_app.terminal.doctor.runner import Status
from pos_app.terminal.settings.schema import Settings
from pos_app.terminal.store.db import open_store
from tests.terminal.doctor_support import NOW, healthy_env, store_trust_list

# --- enrollment and the key file ------------------------------------------------------------


def test_enrolled_terminal_with_a_private_key_file_passes(tmp_path: Path) -> None:
    finding = check_enrollment(healthy_env(tmp_path))
    assert finding.status is Status.OK and "mode 0600" in finding.detail


def test_key_file_readable_by_others_fails_with_chmod(tmp_path: Path) -> None:
    env = healthy_env(tmp_path)
    key = env.data_dir / "terminal_key.pem"
    key.chmod(0o644)
    finding = check_enrollment(env)
    assert finding.status is Status.FAIL and "mode 0644" in finding.detail
    assert finding.fix == f"chmod 600 {key}"
    assert "not a real key" not in finding.detail + finding.fix  # never the key itself


def test_not_enrolled_fails_with_the_enroll_command(tmp_path: Path) -> None:
    env = healthy_env(tmp_path, credentials=lambda s, d: CredentialsInfo(False, detail="none"))
    finding = check_enrollment(env)
    assert finding.status is Status.FAIL and "pos-app enroll" in finding.fix


def test_enrolled_but_key_file_missing_fails(tmp_path: Path) -> None:
    env = healthy_env(tmp_path)
    (env.data_dir / "terminal_key.pem").unlink()
    assert check_enrollment(env).status is Status.FAIL


def test_build_without_enrollment_is_a_warning(tmp_path: Path) -> None:
    env = healthy_env(tmp_path, credentials=lambda s, d: CredentialsInfo(False, available=False))
    finding = check_enrollment(env)
    assert finding.status is Status.WARN and "not available in this build" in finding.detail


def _store_credential(data_dir: Path, *, storage: str = "file") -> None:
    info = {
        "keyid": "k-123",
        "store_id": "S001",
        "terminal_id": "T07",
        "backend_url": "https://backend.example",
        "enrolled_at": 1,
        "key_storage": storage,
        "public_key": "AAAA",
    }
    store = open_store(data_dir)
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO kv (key, value) VALUES ('terminal.credential', ?)", (json.dumps(info),)
        )
    store.close()


def test_real_credentials_probe_reads_the_enrollment_record(tmp_path: Path) -> None:
    assert not read_credentials(Settings(), tmp_path).enrolled
    _store_credential(tmp_path)
    info = read_credentials(Settings(), tmp_path)
    assert info.enrolled and info.key_file == tmp_path / "terminal_key.pem"
    assert "store S001 terminal T07" in info.detail
    _store_credential(tmp_path / "kr", storage="keyring")
    assert read_credentials(Settings(), tmp_path / "kr").key_file is None


# --- trust list ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("next_update", "expected"),
    [
        (int(NOW) + 3600, Status.OK),
        (int(NOW) - 3600, Status.WARN),  # refresh overdue, still inside the grace period
        (int(NOW) - 86400 - 1, Status.FAIL),  # stale: offline payments stop
    ],
)
def test_trust_list_age(tmp_path: Path, next_update: int, expected: Status) -> None:
    env = healthy_env(tmp_path)
    store_trust_list(env.data_dir, issued_at=int(NOW) - 7200, next_update=next_update)
    finding = check_trust_list(env)
    assert finding.status is expected, finding.detail
    assert "seq 7, issued 2.0 h ago" in finding.detail


def test_stale_trust_list_follows_the_configured_grace(tmp_path: Path) -> None:
    env = healthy_env(tmp_path, now=lambda: NOW + 120)
    store_trust_list(env.data_dir, issued_at=int(NOW) - 7200, next_update=int(NOW))
    assert check_trust_list(env).status is Status.WARN
    strict = dataclasses.replace(
        env.effective,
        payment=dataclasses.replace(env.effective.payment, trust_list_stale_grace_s=60),
    )
    assert check_trust_list(dataclasses.replace(env, settings=strict)).status is Status.FAIL


def test_no_trust_list_fails(tmp_path: Path) -> None:
    open_store(tmp_path / "data").close()
    assert check_trust_list(healthy_env(tmp_path)).status is Status.FAIL


def test_unreadable_trust_list_fails(tmp_path: Path) -> None:
    store = open_store(tmp_path / "data")
    with store.transaction() as conn:
        conn.execute("INSERT INTO kv (key, value) VALUES ('trust_list.envelope', ?)", (b"{}",))
    store.close()
    finding = check_trust_list(healthy_env(tmp_path))
    assert finding.status is Status.FAIL and "unreadable" in finding.detail


# --- outbox --------------------------------------------------------------------------------


def _fill_outbox(data_dir: Path, count: int, *, created_at: float) -> None:
    store = open_store(data_dir)
    with store.transaction() as conn:
        for i in range(count):
            conn.execute(
                "INSERT INTO sales (sale_id, store_id, terminal_id, cashier_id, currency, total, "
                "state, created_at, updated_at) VALUES (?, 'S', 'T', 'C', 'JPY', 100, 'approved', "
                "?, ?)",
                (f"s{i}", int(created_at), int(created_at)),
            )
            conn.execute(
                "INSERT INTO outbox (sale_id, kind, idempotency_key, payload, created_at, "
                "next_attempt_at) VALUES (?, 'finalize', ?, '{}', ?, ?)",
                (f"s{i}", f"idem-{i}", int(created_at), int(created_at)),
            )
        conn.execute("UPDATE outbox SET state = 'sent' WHERE sale_id = 's0'")
    store.close()


@pytest.mark.parametrize(
    ("count", "age_s", "expected"),
    [
        (0, 0, Status.OK),
        (5, 60, Status.OK),
        (21, 60, Status.WARN),  # 20 waiting: the link is slow or down
        (5, 2 * 3600, Status.WARN),  # something has waited over an hour
        (201, 60, Status.FAIL),
        (3, 25 * 3600, Status.FAIL),  # a sale unsent for a day
    ],
)
def test_outbox_backlog(tmp_path: Path, count: int, age_s: float, expected: Status) -> None:
    env = healthy_env(tmp_path)
    _fill_outbox(env.data_dir, count, created_at=NOW - age_s)
    finding = check_outbox(env)
    assert finding.status is expected, finding.detail
    assert finding.detail.startswith(f"{max(count - 1, 0)} item(s) waiting")
