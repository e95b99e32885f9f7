"""The fleet recipe (issue 16.9): a signed apt repository and the Ansible playbook,
run for real with reprepro, gpg, apt and ansible-playbook -c local in a throwaway
overlay of this machine (sandbox.sh), enrolling the till with a real reference backend
(`pos-app backend serve` on loopback). Reuses the two .deb versions of test_deb.py."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@pytest.fixture(scope="module")
def fleet(debs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("fleet")
    command = [
        "unshare", "--mount", "--propagation", "private", str(HERE / "sandbox.sh"), str(work),
        str(HERE / "fleet.sh"), str(ROOT), str(debs[0]), str(debs[1]),
    ]  # fmt: skip
    env = {**os.environ, "SANDBOX_BIND": str(ROOT)}  # the packages are under ROOT/build
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, env=env)
    log = (work / "results" / "script.log").read_text() if (work / "results").exists() else ""
    assert done.returncode == 0, done.stderr + log
    yield work / "results"


def read(fleet: Path, name: str) -> str:
    return (fleet / name).read_text()


def rc(fleet: Path, step: str) -> int:
    return int(read(fleet, f"{step}.rc"))


def test_signed_repository_is_made_with_reprepro(fleet: Path) -> None:
    assert rc(fleet, "key") == 0 and rc(fleet, "repo1") == 0, read(fleet, "repo1.out")


def doctor(fleet: Path, step: str) -> dict[str, dict[str, str]]:
    return {f["name"]: f for f in json.loads(read(fleet, f"{step}.out"))["findings"]}


def test_playbook_installs_sets_up_enrolls_and_checks_a_till(fleet: Path) -> None:
    assert rc(fleet, "backend_init") == 0, read(fleet, "backend_init.out")
    assert rc(fleet, "terminal") == 0, read(fleet, "terminal.out")
    assert rc(fleet, "backend_up") == 0, read(fleet, "backend.log")
    out = read(fleet, "play1.out")
    assert rc(fleet, "play1") == 0, out
    assert read(fleet, "version1.txt").endswith(" install ok installed\n")
    assert read(fleet, "data_owner.txt").strip() == "kiosk 700"
    assert read(fleet, "key_owner.txt").strip() == "kiosk 600"  # enrolled by root, the till's
    assert 'url = "http://127.0.0.1:' in read(fleet, "site.toml")
    accounts = read(fleet, "accounts.txt")
    assert "C042\tcashier\tHanako Sato" in accounts and "M001\tmanager\tTaro Suzuki" in accounts
    for secret in ("4711", "8642", read(fleet, "enroll_code.txt").strip()):
        assert secret not in out  # no_log: PINs and the enrollment code never in the output


def test_the_enrolled_till_reaches_the_backend_and_every_check_passes(fleet: Path) -> None:
    assert rc(fleet, "doctor1") == 0, read(fleet, "doctor1.out")
    assert json.loads(read(fleet, "doctor1.out"))["ok"] is True
    found = doctor(fleet, "doctor1")
    assert found["enrollment"]["status"] == "OK"
    assert "store S001 terminal T07" in found["enrollment"]["detail"]
    assert found["backend"]["status"] == found["trust-list"]["status"] == "OK", found
    assert "plain HTTP on this machine" in found["backend"]["detail"]
    assert found["clock"]["status"] == "OK", found["clock"]


def test_a_new_release_in_the_repository_is_installed_unattended(fleet: Path) -> None:
    assert rc(fleet, "repo2") == 0, read(fleet, "repo2.out")
    assert rc(fleet, "play2") == 0, read(fleet, "play2.out")
    assert "+upgrade1 install ok installed" in read(fleet, "version2.txt")
    assert doctor(fleet, "doctor2")["enrollment"]["status"] == "OK"  # no second enrollment


def test_playbook_fails_a_till_whose_doctor_fails_naming_the_check(fleet: Path) -> None:
    assert rc(fleet, "play3") == 2  # the backend is gone
    assert "backend" in read(fleet, "play3.out")
    assert "failed: see 'pos-app doctor' on the till" in read(fleet, "play3.out")


def test_apt_refuses_a_repository_signed_by_another_key(fleet: Path) -> None:
    assert "NO_PUBKEY" in read(fleet, "forged.out") or "not signed" in read(fleet, "forged.out")
