"""Logging: a rotating file in the platform log directory plus stderr.

A filter masks anything that looks like a PT1 token or key material before any
handler sees it, so a careless ``log.info("%s", token)`` cannot leak a payment
code or a key into a log file or a support ticket.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

# base45 alphabet: 0-9 A-Z space $ % * + - . / :
_PT1 = re.compile(r"PT1:[0-9A-Z $%*+\-./:]{4,}")
_PEM = re.compile(r"-----BEGIN [A-Z ]+-----.*?(?:-----END [A-Z ]+-----|$)", re.DOTALL)
# Long base64/base64url/hex runs: raw keys, signatures, enrollment codes.
_BLOB = re.compile(r"(?<![A-Za-z0-9_\-+/])[A-Za-z0-9_\-+/]{40,}={0,2}")
_PIN = re.compile(r"(?i)\b(pin|password|passcode)(\s*[=:]\s*)\S+")


def mask_secrets(text: str) -> str:
    text = _PEM.sub("[key material masked]", text)
    text = _PT1.sub(lambda m: f"PT1:{m.group(0)[4:10]}…[{len(m.group(0))} chars masked]", text)
    text = _PIN.sub(lambda m: f"{m.group(1)}{m.group(2)}****", text)
    return _BLOB.sub(lambda m: f"{m.group(0)[:6]}…[masked]", text)


class SecretMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None:
            # Exception texts can quote a token too; render and mask them now.
            record.exc_text = mask_secrets(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(
    *,
    log_dir: Path,
    level: str = "INFO",
    max_bytes: int = 5_000_000,
    backups: int = 5,
    stderr: bool = True,
) -> Path:
    """Install the handlers on the root logger; return the log file path."""
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = log_dir / "pos-app.log"
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_pos_app", False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = [
        logging.handlers.RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
    ]
    if stderr:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(SecretMaskingFilter())
        handler._pos_app = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    path.chmod(0o600)
    return path
