"""``pos-app manager-key`` on a till and ``pos-app backend enroll-manager`` / ``revoke-manager``,
run the way an administrator runs them."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from pos_app.cli import main
from pos_app.paytoken import manager_proof
from pos_app.terminal.manager_keys import ManagerKeyring
from pos_app.terminal.store.db import open_store


def test_manager_key_then_enroll_and_revoke(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The product's KDF (128 MiB) runs twice here: derive at the till, check the passphrase.
    till_dir, backend_dir = tmp_path / "till", tmp_path / "backend"
    assert main(["backend", "init", "--data-dir", str(backend_dir)]) == 0
    capsys.readouterr()
    assert main(["manager-key", "--manager", "M001", "--store", "S001",
                 "--data-dir", str(till_dir)]) == 0  # fmt: skip
    out = capsys.readouterr().out
    passphrase = re.search(r"shown once; the manager keeps it\): (\S+)", out)
    public = re.search(r"--public-key (\S+)", out)
    assert passphrase and public, out
    manager_proof.check_passphrase(passphrase[1])
    store = open_store(till_dir)
    try:
        keyring = ManagerKeyring(store, store_id="S001")
        assert keyring.public_keys() == {"M001": public[1]}
        signer = keyring.unlock(passphrase[1])
        assert signer is not None and signer.manager_id == "M001"
    finally:
        store.close()
    args = ["--data-dir", str(backend_dir), "--store", "S001", "--manager", "M001"]
    assert main(["backend", "enroll-manager", *args, "--public-key", public[1]]) == 0
    assert json.loads(capsys.readouterr().out)["public_key"] == public[1]
    assert main(["backend", "enroll-manager", *args, "--public-key", "not-a-key"]) == 2
    assert "error:" in capsys.readouterr().err
    assert main(["backend", "revoke-manager", *args]) == 0
    assert json.loads(capsys.readouterr().out)["revoked_keys"] == 1


def test_a_pin_is_refused_as_a_passphrase(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("0420\n"))
    code = main(["manager-key", "--manager", "M001", "--store", "S001",
                 "--data-dir", str(tmp_path), "--passphrase-stdin"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("pos-app manager-key:") and "12 characters" in err
