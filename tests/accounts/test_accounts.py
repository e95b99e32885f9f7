"""One OS account owns the till's data (issue 16.1, 15.4), tried with real accounts.

A throwaway overlay of this machine (tests/packaging/sandbox.sh) gets a kiosk account
(the till's), an admin in group pos-app, and root; each runs this checkout's pos-app
with runuser, as store IT would. Needs root (unshare, mount, useradd in the overlay).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from pos_app.terminal.auth import verify_pin

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = ROOT / "tests" / "packaging" / "sandbox.sh"

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def till(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.geteuid() != 0:
        pytest.fail("these tests create OS accounts in a mount namespace: run them as root")
    work = tmp_path_factory.mktemp("accounts")
    command = [
        "unshare", "--mount", "--propagation", "private", str(SANDBOX), str(work),
        str(Path(__file__).with_name("accounts.sh")), str(ROOT / ".venv" / "bin" / "python"),
    ]  # fmt: skip
    env = {**os.environ, "SANDBOX_BIND": str(ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env)
    log = (work / "results" / "script.log").read_text() if (work / "results").exists() else ""
    assert done.returncode == 0, done.stderr + log
    return work / "results"


def out(till: Path, step: str) -> str:
    return (till / f"{step}.out").read_text()


def rc(till: Path, step: str) -> int:
    return int((till / f"{step}.rc").read_text())


def findings(till: Path, step: str) -> dict[str, dict[str, str]]:
    text = out(till, step)
    doc = json.loads(text[text.index("{") :])
    return {f["name"]: f for f in doc["findings"]}


def test_root_cannot_become_the_owner_before_an_account_is_named(till: Path) -> None:
    assert rc(till, "root_before_setup") == 2
    assert "sudo pos-app setup --owner ACCOUNT" in out(till, "root_before_setup")
    assert rc(till, "setup") == 0, out(till, "setup")
    assert 'owner = "kiosk"' in (till / "owner_drop_in.toml").read_text()


def test_commands_run_by_root_leave_every_file_to_the_till_account(till: Path) -> None:
    assert rc(till, "root_adds") == 0, out(till, "root_adds")
    assert "running as kiosk" in out(till, "root_adds")
    rows = [line.split() for line in (till / "after_root.txt").read_text().splitlines()]
    data = {path: (owner, mode) for path, owner, mode in rows if path.startswith("/var/lib")}
    assert data["/var/lib/pos-app"] == ("kiosk:kiosk", "700")
    for name in ("terminal.db", "pin_pepper.key"):
        assert data[f"/var/lib/pos-app/{name}"] == ("kiosk:kiosk", "600")
    assert all(owner.startswith("kiosk:") for owner, _ in data.values()), data
    assert all(mode in {"600", "700"} for _, mode in data.values()), data


def test_empty_pin_on_stdin_is_a_clear_error(till: Path) -> None:
    assert rc(till, "empty_pin") == 1
    assert "no PIN for C043 on standard input" in out(till, "empty_pin")
    assert "Traceback" not in out(till, "empty_pin")


def test_an_admin_is_refused_told_what_to_run_and_leaves_nothing(till: Path) -> None:
    assert rc(till, "admin_doctor") == 2
    assert "sudo -u kiosk pos-app doctor --offline" in out(till, "admin_doctor")
    assert (till / "after_admin.txt").read_text() == (till / "after_root.txt").read_text()


def test_an_admin_cannot_read_pin_verifiers_or_the_pepper(till: Path) -> None:
    for step in ("admin_reads_db", "admin_reads_pepper"):
        assert rc(till, step) == 1 and "Permission denied" in out(till, step)


def test_an_admin_reads_the_log_which_names_commands_never_pins(till: Path) -> None:
    assert rc(till, "admin_reads_log") == 0
    log = out(till, "admin_reads_log")
    assert "cashier add, as kiosk" in log
    assert "1234" not in log and "9876" not in log
    listed = (till / "after_root.txt").read_text()
    assert "/var/log/pos-app/pos-app.log kiosk:pos-app 640" in listed
    assert "/var/log/pos-app kiosk:pos-app 2750" in listed


def test_the_till_account_works_and_doctor_says_ok(till: Path) -> None:
    assert rc(till, "kiosk_list") == 0
    assert "C042\tcashier\tHanako" in out(till, "kiosk_list")
    assert "M001\tmanager\tTaro" in out(till, "kiosk_list")
    assert findings(till, "kiosk_doctor")["data-dir"]["status"] == "OK"


def test_a_foreign_file_is_named_with_one_exact_fix_and_setup_repairs_it(till: Path) -> None:
    assert rc(till, "kiosk_list_broken") == 2
    message = out(till, "kiosk_list_broken")
    assert "/var/lib/pos-app/terminal.db-shm belongs to alice, not to kiosk" in message
    assert "fix: sudo pos-app setup --owner kiosk" in message
    broken = findings(till, "kiosk_doctor_broken")["data-dir"]
    assert broken["status"] == "FAIL"
    assert "terminal.db-shm belongs to alice" in broken["detail"]
    assert broken["fix"] == "sudo pos-app setup --owner kiosk"
    assert rc(till, "repair") == 0
    assert rc(till, "kiosk_list_repaired") == 0, out(till, "kiosk_list_repaired")
    assert findings(till, "kiosk_doctor_repaired")["data-dir"]["status"] == "OK"
    assert "alice" not in (till / "after_repair.txt").read_text()


def test_a_copied_database_does_not_give_up_the_pins(till: Path) -> None:
    conn = sqlite3.connect(till / "stolen.db")
    (raw,) = conn.execute("SELECT value FROM kv WHERE key = 'auth.accounts'").fetchone()
    conn.close()
    hashes = {a["user_id"]: a["pin_hash"] for a in json.loads(raw)}
    assert all(h.startswith("scrypt-pep$") for h in hashes.values())
    # Even the right PIN does not match without the pepper: guessing has nothing to test.
    assert not verify_pin("1234", hashes["C042"])
    assert verify_pin("1234", hashes["C042"], pepper=(till / "pepper.key").read_bytes())
