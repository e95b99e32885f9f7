"""``pos-app token ...``: JSON on stdout, messages on stderr, exit 0/1/2."""

from __future__ import annotations

import argparse
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pos_app.paytoken import keys
from pos_app.paytoken.cli import register
from pos_app.paytoken.trust_list import key_entry
from tests.paytoken.pt1_forge import NOW

REPO = Path(__file__).resolve().parents[2]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="pos-app")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code = args.handler(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def setup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    for name in ("root", "iss"):
        code, out, _ = run(["token", "keygen", "--out", str(tmp_path / name)], capsys)
        assert code == 0
    issuer_pub = keys.load_public_key(tmp_path / "iss.pub")
    entry = key_entry(
        issuer_pub, issue_not_before=NOW - 100, issue_not_after=NOW + 100, verify_until=NOW + 900
    )
    payload = {"seq": 4, "issued_at": NOW, "next_update": NOW + 3600, "keys": [entry]}
    (tmp_path / "payload.json").write_text(json.dumps(payload))
    code, out, _ = run(
        ["token", "sign-trust-list", "--root-key", str(tmp_path / "root.key"),
         "--payload", str(tmp_path / "payload.json"), "--out", str(tmp_path / "tl.json")],
        capsys,
    )  # fmt: skip
    assert code == 0 and json.loads(out)["seq"] == 4
    return {"dir": tmp_path, "kid": keys.kid_hex(issuer_pub)}


def mint(d: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    code, out, _ = run(
        ["token", "mint", "--issuer-key", str(d / "iss.key"), "--sub", "w-1", "--aud", "pos.jp",
         "--limit", "3000", "--currency", "JPY", "--device", "0011223344556677", "--flags", "1",
         "--iat", str(NOW), *extra],
        capsys,
    )  # fmt: skip
    assert code == 0
    return out.rstrip("\n")


def verify_args(d: Path, *extra: str) -> list[str]:
    return ["token", "verify", "--trust-list", str(d / "tl.json"),
            "--root-key", str(d / "root.pub"), "--now", str(NOW + 5), *extra]  # fmt: skip


def test_keygen_files_and_kid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["token", "keygen", "--out", str(tmp_path / "k")], capsys)
    assert code == 0
    kid = json.loads(out)["kid"]
    assert kid == keys.kid_hex(keys.load_public_key(tmp_path / "k.pub"))
    assert stat.S_IMODE(os.stat(tmp_path / "k.key").st_mode) == 0o600
    assert "PRIVATE" not in err and "PRIVATE" not in out
    again, out, _ = run(["token", "keygen", "--out", str(tmp_path / "k")], capsys)
    assert again == 2 and json.loads(out)["error"] == "file_exists"


def test_mint_and_verify(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = setup["dir"]
    token = mint(d, capsys, "--cti", "00" * 16, "--ttl", "60")
    assert token.startswith("PT1:")
    code, out, err = run([*verify_args(d), token], capsys)
    result = json.loads(out)
    assert code == 0 and result["ok"] is True and result["reason"] is None
    assert result["claims"] == {
        "sub": "w-1", "aud": "pos.jp", "exp": NOW + 60, "iat": NOW, "cti": "00" * 16,
        "limit": 3000, "currency": 392, "device": "0011223344556677", "flags": 1,
    }  # fmt: skip
    late, out, err = run([*verify_args(d)[:-1], str(NOW + 1000), token], capsys)
    assert late == 1 and json.loads(out)["reason"] == "expired"
    assert "refresh" in err and token[4:] not in err  # no full token in messages


def test_mint_usage_errors(setup: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    d = setup["dir"]
    base = ["token", "mint", "--issuer-key", str(d / "iss.key"), "--sub", "w", "--aud", "pos.jp",
            "--limit", "1", "--currency", "JPY", "--flags", "0"]  # fmt: skip
    code, out, _ = run([*base, "--device", "0011"], capsys)
    assert code == 2 and "device" in json.loads(out)["detail"]
    code, out, _ = run([*base, "--device", "00" * 8, "--ttl", "301"], capsys)
    assert code == 2 and json.loads(out)["error"] == "token_encode_error"
    base[3] = str(d / "root.pub")
    code, out, _ = run([*base, "--device", "00" * 8], capsys)
    assert code == 2 and json.loads(out)["error"] == "key_file_invalid"


def test_trust_list_with_wrong_root_is_exit_2(
    setup: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    d = setup["dir"]
    token = mint(d, capsys)
    args = verify_args(d, token)
    args[args.index("--root-key") + 1] = str(d / "iss.pub")
    code, out, _ = run(args, capsys)
    assert code == 2 and json.loads(out)["error"] == "trust_list_invalid"
    assert "detail" in json.loads(out)


def test_seen_db_and_offline_amount(
    setup: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    d = setup["dir"]
    token = mint(d, capsys)
    seen = ["--seen-db", str(d / "seen.db")]
    over, out, _ = run([*verify_args(d, *seen, "--offline-amount", "3001"), token], capsys)
    assert over == 1 and json.loads(out)["reason"] == "over_offline_limit"
    first, _, _ = run([*verify_args(d, *seen, "--offline-amount", "3000"), token], capsys)
    again, out, _ = run([*verify_args(d, *seen), token], capsys)
    assert (first, again, json.loads(out)["reason"]) == (0, 1, "replayed")


def test_stale_trust_list_blocks_offline_only(
    setup: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    d = setup["dir"]
    payload = json.loads((d / "payload.json").read_text())
    payload["next_update"] = NOW - 10  # past due: stale once the grace is over
    (d / "payload.json").write_text(json.dumps(payload))
    code, _, _ = run(
        ["token", "sign-trust-list", "--root-key", str(d / "root.key"),
         "--payload", str(d / "payload.json"), "--out", str(d / "tl.json")],
        capsys,
    )  # fmt: skip
    assert code == 0
    token = mint(d, capsys)
    offline = ["--offline-amount", "10"]
    code, out, _ = run([*verify_args(d, "--stale-grace", "0", *offline), token], capsys)
    assert code == 1 and json.loads(out)["reason"] == "trust_list_stale"
    code, out, _ = run([*verify_args(d, "--stale-grace", "15", *offline), token], capsys)
    assert code == 0 and json.loads(out)["ok"]
    code, out, _ = run([*verify_args(d, "--stale-grace", "0"), token], capsys)
    assert code == 0, "online verification goes on with a stale list"


def test_batch_mode(setup: dict[str, Any], capsys: pytest.CaptureFixture[str],
                    monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    d = setup["dir"]
    token = mint(d, capsys)
    lines = f"{token}\r\n\nnot a token\n{token} \n{token}".encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines)))
    code, out, _ = run([*verify_args(d), "--batch"], capsys)
    results = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["ok"] for r in results] == [True, False, False, False, True]
    assert results[1]["reason"] == "bad_prefix" and results[2]["reason"] == "bad_prefix"
    # A trailing space is data (base45 has a space), so it is not stripped away.
    assert results[3]["reason"] in {"bad_base45", "bad_cbor"}


def test_end_to_end_through_pos_app(
    setup: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    d = setup["dir"]
    token = mint(d, capsys)
    proc = subprocess.run(
        [sys.executable, "-m", "pos_app", *verify_args(d), "--batch"],
        input=f"{token}\n{token}\r\n".encode(),
        capture_output=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["ok"] for line in proc.stdout.splitlines()] == [True, True]


def test_negative_offline_amount_is_usage_error(
    setup: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    d = setup["dir"]
    code, out, _ = run([*verify_args(d, "--offline-amount", "-1"), mint(d, capsys)], capsys)
    assert code == 2 and json.loads(out)["error"] == "usage"
