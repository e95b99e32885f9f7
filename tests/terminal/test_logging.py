import logging
from pathlib import Path

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
    content = path.read_text(encoding="utf-8")
    assert "scanned PT1:NCFOXN" in content
    assert "TS3DH0YOJ58S" not in content
    assert "ValueError" in content
    assert path.stat().st_mode & 0o777 == 0o600
