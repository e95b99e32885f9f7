"""The fleet recipe (issue 16.9): a signed apt repository and the Ansible playbook,
run for real with reprepro, gpg, apt and ansible-playbook -c local in a throwaway
overlay of this machine (sandbox.sh). Reuses the two .deb versions of test_deb.py."""

from __future__ import annotations

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
    assert rc(fleet, "repo2") == 0, read(fleet, "repo2.out")


def test_playbook_installs_sets_up_and_configures_a_till(fleet: Path) -> None:
    out = read(fleet, "play1.out")
    assert read(fleet, "version1.txt").endswith(" install ok installed\n")
    assert read(fleet, "data_owner.txt").strip() == "kiosk 700"
    assert 'url = "https://pos-backend.example"' in read(fleet, "site.toml")
    accounts = read(fleet, "accounts.txt")
    assert "C042\tcashier\tHanako Sato" in accounts and "M001\tmanager\tTaro Suzuki" in accounts
    assert "4711" not in out and "8642" not in out  # no_log: PINs never in the play's output


def test_playbook_fails_a_till_whose_doctor_fails_naming_the_check(fleet: Path) -> None:
    assert rc(fleet, "play1") == 2  # no backend here: the till is not enrolled
    assert "enrollment" in read(fleet, "play1.out")
    assert "failed: see 'pos-app doctor' on the till" in read(fleet, "play1.out")


def test_a_new_release_in_the_repository_is_installed_unattended(fleet: Path) -> None:
    assert "+upgrade1 install ok installed" in read(fleet, "version2.txt")


def test_apt_refuses_a_repository_signed_by_another_key(fleet: Path) -> None:
    assert "NO_PUBKEY" in read(fleet, "forged.out") or "not signed" in read(fleet, "forged.out")
