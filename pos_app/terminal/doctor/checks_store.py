"""Doctor checks of the terminal's own state: enrollment and key, trust list, outbox.

They read the local database read-only (``mode=ro``): doctor runs next to a
live pos-app and must neither migrate nor lock what the till is writing.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pos_app.terminal.doctor.env import CredentialsInfo, DoctorEnv
from pos_app.terminal.doctor.runner import Finding, fail, ok, unavailable, warn
from pos_app.terminal.settings.schema import Settings

DB_NAME = "terminal.db"  # pos_app.terminal.store.db.DB_NAME, kept import-light
# pos_app.terminal.sync.trust.KV_ENVELOPE; read by name so doctor works without that module.
TRUST_LIST_KEYS = ("trust_list.envelope",)
OUTBOX_WARN, OUTBOX_FAIL = 20, 200
OUTBOX_AGE_WARN_S, OUTBOX_AGE_FAIL_S = 3600, 24 * 3600
ENROLL_FIX = (
    "as the till's user: pos-app enroll --backend <https URL> --code <one-time code> "
    "--store <store id> --terminal <terminal id> --root-key <root key file>"
)


@contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        yield conn
    finally:
        conn.close()


def kv_value(path: Path, keys: tuple[str, ...]) -> bytes | None:
    """The first of ``keys`` present in the ``kv`` table; None if none (or no database)."""
    if not path.exists():
        return None
    with read_only(path) as conn:
        for key in keys:
            row = conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
            if row is not None:
                value = row[0]
                return value if isinstance(value, bytes) else str(value).encode()
    return None


def read_credentials(settings: Settings, data_dir: Path) -> CredentialsInfo:
    """The real probe: enrollment metadata from ``kv`` and where the key lives (never the key)."""
    try:
        from pos_app.terminal.backend import credentials
    except ImportError:
        return CredentialsInfo(enrolled=False, available=False)
    raw = kv_value(data_dir / DB_NAME, (credentials.KV_CREDENTIAL,))
    if raw is None:
        return CredentialsInfo(enrolled=False, detail="no enrollment record in the database")
    info: dict[str, Any] = json.loads(raw)
    where = f"store {info.get('store_id')} terminal {info.get('terminal_id')}"
    detail = f"enrolled as {where}, keyid {info.get('keyid')}"
    if info.get("key_storage") == "keyring":
        return CredentialsInfo(enrolled=True, detail=f"{detail}, key in the OS keyring")
    return CredentialsInfo(enrolled=True, key_file=data_dir / credentials.KEY_FILE, detail=detail)


def check_enrollment(env: DoctorEnv) -> Finding:
    name = "enrollment"
    info = env.credentials(env.effective, env.data_dir)
    if not info.available:
        return unavailable(name, "terminal enrollment")
    if not info.enrolled:
        return fail(name, f"this terminal is not enrolled ({info.detail})", ENROLL_FIX)
    if info.key_file is None:
        return ok(name, info.detail)
    if not info.key_file.exists():
        return fail(name, f"{info.detail}, but the key file {info.key_file} is missing", ENROLL_FIX)
    mode = env.file_mode(info.key_file)
    if os.name == "posix" and mode & 0o077:
        detail = f"{info.key_file} is readable by other users (mode {mode:04o})"
        return fail(name, detail, f"chmod 600 {info.key_file}")
    return ok(name, f"{info.detail}, key file mode {mode:04o}")


def trust_list_times(envelope: bytes) -> tuple[int, int, int]:
    """(seq, issued_at, next_update) read from the payload *without* verifying it:
    doctor reports age only; the checkout verifies the signature before using it."""
    doc = json.loads(envelope)
    payload = doc["payload"]
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return int(data["seq"]), int(data["issued_at"]), int(data["next_update"])


def check_trust_list(env: DoctorEnv) -> Finding:
    name = "trust-list"
    fix = "connect the terminal to the backend; it refreshes the list by itself"
    raw = kv_value(env.data_dir / DB_NAME, TRUST_LIST_KEYS)
    if raw is None:
        # Enrollment is what stores the first list; a refresh only replaces it.
        first = "enroll the terminal (pos-app enroll ...): enrollment stores the trust list"
        return fail(name, "no trust list stored: payment codes cannot be verified", first)
    try:
        seq, issued_at, next_update = trust_list_times(raw)
    except (ValueError, KeyError, TypeError) as exc:
        return fail(name, f"the stored trust list is unreadable ({exc})", fix)
    now = env.now()
    grace = env.effective.payment.trust_list_stale_grace_s
    age_h = (now - issued_at) / 3600
    detail = f"seq {seq}, issued {age_h:.1f} h ago"
    if now > next_update + grace:
        return fail(name, f"{detail}: stale, offline payments are refused", fix)
    if now > next_update:
        overdue = (now - next_update) / 3600
        return warn(name, f"{detail}: refresh overdue by {overdue:.1f} h", fix)
    return ok(name, f"{detail}, next update in {(next_update - now) / 3600:.1f} h")


def outbox_backlog(path: Path, *, now: float) -> tuple[int, float]:
    """(items not yet delivered, age in seconds of the oldest one)."""
    if not path.exists():
        return 0, 0.0
    with read_only(path) as conn:
        row = conn.execute(
            "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE state NOT IN ('sent', 'done')"
        ).fetchone()
    count, oldest = int(row[0]), row[1]
    return count, (now - float(oldest)) if oldest is not None else 0.0


def check_outbox(env: DoctorEnv) -> Finding:
    name = "outbox"
    count, age_s = outbox_backlog(env.data_dir / DB_NAME, now=env.now())
    detail = f"{count} item(s) waiting to be sent"
    if count:
        detail += f", oldest {age_s / 3600:.1f} h old"
    fix = (
        "check the backend connection (see 'backend' above); sales made offline are sent "
        "when it is back. If the count does not fall, send 'pos-app doctor --json' to support"
    )
    if count >= OUTBOX_FAIL or age_s >= OUTBOX_AGE_FAIL_S:
        return fail(name, detail, fix)
    if count >= OUTBOX_WARN or age_s >= OUTBOX_AGE_WARN_S:
        return warn(name, detail, fix)
    return ok(name, detail)


AUDIT_FIX_BROKEN = (
    "do not delete anything: keep terminal.db and send 'pos-app audit verify' and "
    "'pos-app doctor --json' to support (the backend keeps the last good copy)"
)


def check_audit_chain(env: DoctorEnv) -> Finding:
    """The audit log: intact here, and continuing the copy the backend acknowledged."""
    name = "audit-chain"
    path = env.data_dir / DB_NAME
    if not path.exists():
        return ok(name, "no audit log yet")
    from pos_app.terminal.audit.log import CHAIN_START_KEY, chain_start, verify_chain
    from pos_app.terminal.audit.sync import CURSOR_KEY, PROBLEM_KEY

    with read_only(path) as conn:
        after_id, start_hash = chain_start(conn)
        rows = conn.execute(
            "SELECT id, at, actor, action, detail, prev_hash, hash FROM audit_log ORDER BY id"
        ).fetchall()
    report = verify_chain(rows, start_hash=start_hash)
    if not report.ok:
        detail = f"the local audit log is broken at entry {report.first_broken_id}"
        return fail(name, f"{detail}: {report.problem}", AUDIT_FIX_BROKEN)
    acked = int(kv_value(path, (CURSOR_KEY,)) or b"0")
    newest = int(rows[-1][0]) if rows else after_id
    detail = f"{len(rows)} entries, the backend holds them through id {acked}"
    if kv_value(path, (CHAIN_START_KEY,)) is not None:
        detail += f"; continues the backend's chain after id {after_id} (a replaced till)"
    problem = kv_value(path, (PROBLEM_KEY,))
    if problem is not None:
        refusal = json.loads(problem)
        return fail(
            name,
            f"{detail}; the backend refuses the next entries: {refusal['message']}",
            AUDIT_FIX_BROKEN,
        )
    if newest - acked >= OUTBOX_FAIL:
        return warn(name, f"{detail}; {newest - acked} not sent yet", "see 'backend' above")
    return ok(name, detail)
