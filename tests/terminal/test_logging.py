import logging
from pathlib import Path

import pytest

from pos_app.terminal.logging_setup import configure_logging, mask_secrets

TOKEN = "PT1:NCFOXN%TS3DH0YOJ58S S-S$X$8NUIJ.VR4$QT7+T8R1H8Q:RZ"
PEM = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHk0bHx1RL0BQ0\n-----END PRIVATE KEY-----"


def test_tokens_keys_and_pins_are_masked() -> None:
    text = mask_secrets(f"read {TOKEN} with key {PEM}; pin=4321 raw=" + "A" * 43)
    assert TOKEN not in text and "TS3DH0YOJ58S" not in text
    assert "BEGIN PRIVATE KEY" not in text and "MC4CAQAw" not in text
    assert "4321" not in text
    assert "A" * 43 not in text
    assert "PT1:NCFOXN" in text  # a short prefix stays, to correlate log lines


def test_rotating_file_is_masked_and_private(tmp_path: Path) -> None:
    path = configure_logging(log_dir=tmp_path / "logs", stderr=False, max_bytes=100_000)
    log = logging.getLogger("pos_app.test")
    log.info("scanned %s", TOKEN)
    try:
        raise ValueError(f"bad token {TOKEN}")
    except ValueError:
        log.exception("verify failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert path is not None
    content = path.read_text(encoding="utf-8")
    assert "scanned PT1:NCFOXN" in content
    assert "TS3DH0YOJ58S" not in content
    assert "ValueError" in content
    assert path.stat().st_mode & 0o777 == 0o600


def test_every_command_logs_per_the_logging_settings(tmp_path: Path) -> None:
    """A real command (config show) writes the log file where [paths] log_dir says, at the
    [logging] level; a record below the level is left out."""
    import subprocess
    import sys

    logs = tmp_path / "logs"
    config = tmp_path / "user.toml"
    config.write_text(f'[paths]\nlog_dir = "{logs}"\n[logging]\nlevel = "INFO"\n')
    run = [sys.executable, "-m", "pos_app", "config", "show", "--config", str(config)]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    assert subprocess.run(run, env=env, capture_output=True, check=False).returncode == 0
    assert "config show, as" in (logs / "pos-app.log").read_text()
    config.write_text(f'[paths]\nlog_dir = "{logs}"\n[logging]\nlevel = "WARNING"\n')
    (logs / "pos-app.log").unlink()
    subprocess.run(run, env=env, capture_output=True, check=True)
    assert (logs / "pos-app.log").read_text() == ""


def test_under_systemd_records_carry_journal_priorities(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(log_dir=None, journal=True)
    log = logging.getLogger("pos_app.test")
    log.error("camera lost: %s", TOKEN)
    log.info("sale s1: approved")
    err = capsys.readouterr().err
    assert "<3>pos_app.test: camera lost: PT1:NCFOXN" in err
    assert "<6>pos_app.test: sale s1: approved" in err
    assert "TS3DH0YOJ58S" not in err
