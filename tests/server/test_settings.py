"""Server settings: code and CLI flags over POS_APP_SERVER_* over the TOML file over defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from pos_app.cli import main
from pos_app.server.settings import ENV_CONFIG, ServerSettings
from tests.fake_clock import FakeClock


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing from the developer's own environment leaks into these tests.
    import os

    for name in list(os.environ):
        if name.startswith("POS_APP_SERVER_"):
            monkeypatch.delenv(name)
    # The CLI's --config sets this for the worker processes; restored after each test.
    monkeypatch.setenv(ENV_CONFIG, "")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_and_the_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = ServerSettings.for_data_dir(tmp_path / "d")
    assert settings.db_url == f"sqlite:///{(tmp_path / 'd' / 'backend.sqlite3').resolve()}"
    assert settings.address_limit_per_minute == 60
    assert settings.port == 8400 and settings.workers == 1 and settings.access_log is False


def test_environment_over_file_and_code_over_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(
        tmp_path / "server.toml",
        'data_dir = "/srv/pos"\nrate_limit_per_minute = 30\naddress_limit_per_minute = 5\n'
        "port = 9001\n",
    )
    monkeypatch.setenv(ENV_CONFIG, str(config))
    monkeypatch.setenv("POS_APP_SERVER_ADDRESS_LIMIT_PER_MINUTE", "0")
    monkeypatch.setenv("POS_APP_SERVER_PORT", "9002")
    from_file_and_env = ServerSettings.load()
    assert from_file_and_env.data_dir == Path("/srv/pos")
    assert from_file_and_env.rate_limit_per_minute == 30  # the file
    assert from_file_and_env.address_limit_per_minute == 0  # the environment beats the file
    assert from_file_and_env.port == 9002
    flags = ServerSettings.load(data_dir=str(tmp_path), port=9003, workers=None)
    assert flags.port == 9003 and flags.data_dir == tmp_path.resolve()
    assert flags.workers == 1  # a flag left out (None) leaves the lower layers in force


def test_a_typo_or_a_bad_value_is_refused_not_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_CONFIG, str(write(tmp_path / "s.toml", "rate_limit_per_mintue = 1\n")))
    with pytest.raises(ValidationError, match="rate_limit_per_mintue"):
        ServerSettings.for_data_dir(tmp_path)
    monkeypatch.setenv(ENV_CONFIG, str(tmp_path / "missing.toml"))
    with pytest.raises(ValueError, match="no settings file"):
        ServerSettings.for_data_dir(tmp_path)
    monkeypatch.delenv(ENV_CONFIG)
    monkeypatch.setenv("POS_APP_SERVER_WORKERS", "0")
    with pytest.raises(ValidationError, match="workers"):
        ServerSettings.for_data_dir(tmp_path)


def test_the_clock_is_set_in_code_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock(1_800_000_000)
    assert ServerSettings.for_data_dir(tmp_path, clock=clock).clock.now() == 1_800_000_000
    monkeypatch.setenv("POS_APP_SERVER_CLOCK", "1900000000")
    with pytest.raises(ValidationError, match="set in code only"):
        ServerSettings.for_data_dir(tmp_path)


def test_cli_reads_the_file_and_flags_win(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from_file = tmp_path / "from-file"
    config = write(tmp_path / "server.toml", f'data_dir = "{from_file}"\n')
    assert main(["backend", "init", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out)["data_dir"] == str(from_file)
    flagged = tmp_path / "flagged"
    assert main(["backend", "init", "--config", str(config), "--data-dir", str(flagged)]) == 0
    assert json.loads(capsys.readouterr().out)["data_dir"] == str(flagged)
    assert (flagged / "backend.sqlite3").exists()


def test_cli_says_what_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backend", "check-ledger"]) == 2
    err = capsys.readouterr().err
    assert "data_dir" in err and "Traceback" not in err
    bad = write(tmp_path / "bad.toml", "prot = 8400\n")
    assert main(["backend", "check-ledger", "--data-dir", str(tmp_path), "--config", str(bad)]) == 2
    assert "prot" in capsys.readouterr().err


def test_more_threads_than_pooled_connections_is_refused_with_what_to_set(
    tmp_path: Path,
) -> None:
    """Signed work and anyio's threads each run up to ``worker_threads`` requests: twice
    that must fit the PostgreSQL pool (size + overflow), or a burst answers 503."""
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    ok = ServerSettings.for_data_dir(tmp_path, db_url=url, worker_threads=15, db_pool_size=20)
    assert ok.worker_threads == 15
    with pytest.raises(ValidationError, match="set db_pool_size to at least 22"):
        ServerSettings.for_data_dir(tmp_path, db_url=url, worker_threads=16, db_pool_size=20)
    # SQLite serialises its writers on one file: no pool to exhaust.
    assert ServerSettings.for_data_dir(tmp_path, worker_threads=64).worker_threads == 64
