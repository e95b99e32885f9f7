"""Issuer key rotation, the trust list, the ledger check, migrations and the CLI."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from pos_app import cli
from pos_app.paytoken import keys, trust_list
from pos_app.paytoken.verifier import Verifier
from pos_app.server import admin, db
from pos_app.server.models import Account
from pos_app.server.settings import ServerSettings
from tests.fake_clock import FakeClock
from tests.server.server_support import Api, World, backend_of


def _listed(api: Api) -> dict[str, str]:
    envelope = api.get("/v1/trust-list", signer=None).content
    root = keys.load_public_key(backend_of(api).paths.root_public)
    parsed = trust_list.parse_trust_list(envelope, root)
    return {k.kid_hex: k.status for k in parsed.keys} | {"seq": str(parsed.seq)}


def _signing_kid(api: Api, token: str, now: int) -> str:
    envelope = api.get("/v1/trust-list", signer=None).content
    root = keys.load_public_key(backend_of(api).paths.root_public)
    verifier = Verifier(
        trust_list.parse_trust_list(envelope, root), audience="pos.jp", currency="JPY"
    )
    result = verifier.verify(token, now=now)
    assert result.ok and result.key is not None, result.reason
    return result.key.kid_hex


def test_init_prints_paths_with_secrets_0600(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "d"
    assert cli.main(["backend", "init", "--data-dir", str(data_dir)]) == 0
    out = json.loads(capsys.readouterr().out)
    for name in ("root_public_key", "trust_list", "issuer_private_key"):
        assert Path(out[name]).is_absolute() and Path(out[name]).exists()
    assert out["db_url"].startswith("sqlite:///")
    assert len(out["issuer_kid"]) == 16
    for secret in (out["issuer_private_key"], out["root_private_key"]):
        assert stat.S_IMODE(Path(secret).stat().st_mode) == 0o600
    again = admin.init_backend(data_dir)  # idempotent: same keys
    assert again["issuer_kid"] == out["issuer_kid"]


def test_cli_create_terminal_and_check_ledger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = str(tmp_path / "d")
    assert cli.main(["backend", "init", "--data-dir", data_dir]) == 0
    capsys.readouterr()
    args = [
        "backend",
        "create-terminal",
        "--data-dir",
        data_dir,
        "--store",
        "S1",
        "--terminal",
        "T1",
    ]
    assert cli.main(args) == 0
    ticket = json.loads(capsys.readouterr().out)
    assert set(ticket) == {"enrollment_code", "expires_at"}
    assert cli.main(["backend", "check-ledger", "--data-dir", data_dir]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert cli.main(["backend", "rotate-keys", "--data-dir", data_dir, "--step", "drop"]) == 2


def test_rotation_publish_activate_drop(
    world: World, settings: ServerSettings, clock: FakeClock
) -> None:
    wallet = world.new_wallet()
    old_token = world.token(wallet)
    before = _listed(world.api)
    (old_kid,) = [k for k in before if k != "seq"]
    published = admin.rotate_keys(settings.data_dir, settings.db_url, step="publish", clock=clock)
    (new_kid,) = published["changed"]
    listed = _listed(world.api)
    assert listed[old_kid] == listed[new_kid] == "active" and int(listed["seq"]) > int(
        before["seq"]
    )
    # Published is not minting: the old key signs until activation.
    assert _signing_kid(world.api, world.token(wallet), clock.now()) == old_kid
    admin.rotate_keys(settings.data_dir, settings.db_url, step="activate", clock=clock)
    listed = _listed(world.api)
    assert (listed[old_kid], listed[new_kid]) == ("retired", "active")
    assert _signing_kid(world.api, world.token(wallet), clock.now()) == new_kid
    # A token minted before the rotation still pays (retired keys verify).
    assert world.sell(world.sale_body(old_token)).json()["status"] == "approved"
    with pytest.raises(ValueError, match="verify_until"):
        admin.rotate_keys(settings.data_dir, settings.db_url, step="drop", clock=clock)
    clock.advance(3601)
    admin.rotate_keys(settings.data_dir, settings.db_url, step="drop", clock=clock)
    listed = _listed(world.api)
    assert old_kid not in listed and listed[new_kid] == "active"
    assert world.sell(world.sale_body(world.token(wallet))).json()["status"] == "approved"


def test_rotation_steps_out_of_order_refused(settings: ServerSettings, clock: FakeClock) -> None:
    with pytest.raises(ValueError):
        admin.rotate_keys(settings.data_dir, settings.db_url, step="activate", clock=clock)
    admin.rotate_keys(settings.data_dir, settings.db_url, step="publish", clock=clock)
    with pytest.raises(ValueError):
        admin.rotate_keys(settings.data_dir, settings.db_url, step="publish", clock=clock)


def test_ledger_balances_and_detects_tampering(world: World, settings: ServerSettings) -> None:
    wallet = world.new_wallet(balance=5_000)
    world.sell(world.sale_body(world.token(wallet)))
    report = admin.check_ledger(settings.data_dir, settings.db_url)
    assert report["ok"] is True and report["sum_of_all_postings"] == 0
    backend = backend_of(world.api)
    with db.transaction(backend.sessions) as session:
        account = session.get(Account, f"wallet:{wallet.wallet_id}")
        assert account is not None
        account.balance += 1
    report = admin.check_ledger(settings.data_dir, settings.db_url)
    assert report["ok"] is False and report["mismatched_accounts"] == [f"wallet:{wallet.wallet_id}"]
    assert (
        cli.main(
            [
                "backend",
                "check-ledger",
                "--data-dir",
                str(settings.data_dir),
                "--db",
                settings.db_url,
            ]
        )
        == 1
    )


def test_migrations_match_models(settings: ServerSettings) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from pos_app.server.models import Base

    engine = create_engine(settings.db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert db.current_revision(engine) == db.head_revision()
    finally:
        engine.dispose()
    assert diff == []


def test_migrations_go_down_and_up(db_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect

    engine = db.make_engine(db_url)
    try:
        db.upgrade(engine)
        cfg = db.alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
        assert "sales" not in inspect(engine).get_table_names()
        db.upgrade(engine)
        assert {"sales", "redemptions", "audit_entries"} <= set(inspect(engine).get_table_names())
        assert db.current_revision(engine) == db.head_revision() == "0009"
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "db",
    [
        "sqlite:////nonexistent-dir/pos/backend.sqlite3",
        "postgresql+psycopg://ledger:s3cret@127.0.0.1:1/none",
    ],
)
def test_unreachable_database_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], db: str
) -> None:
    code = cli.main(["backend", "check-ledger", "--data-dir", str(tmp_path), "--db", db])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: cannot open the database ")
    assert "Traceback" not in err and "s3cret" not in err
    assert "Check --db" in err and len(err.strip().splitlines()) == 1
