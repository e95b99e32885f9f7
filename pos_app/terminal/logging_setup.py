"""Logging: a rotating file in the log directory, and the journal under systemd.

Every ``pos-app`` command calls :func:`configure_logging` (pos_app/cli.py) with the
``[logging]`` settings. Under systemd (``JOURNAL_STREAM`` names our stderr) records go
to stderr with ``<N>`` priority prefixes, which journald stores as the record's
level, so ``journalctl --user -u pos-app-kiosk -p err`` works without libsystemd. At an
interactive terminal only warnings and errors reach stderr: a command's own output
stays readable.

A filter masks anything that looks like a PT1 token or key material before any
handler sees it, so a careless ``log.info("%s", token)`` cannot leak a payment
code or a key into a log file or a support ticket.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
JOURNAL_FORMAT = "%(name)s: %(message)s"  # journald adds the time and the process
LOG_FILE = "pos-app.log"
_PRIORITY = {"CRITICAL": 2, "ERROR": 3, "WARNING": 4, "INFO": 6, "DEBUG": 7}


class JournalFormatter(logging.Formatter):
    """sd-daemon(3) priority prefixes, one per line so a traceback keeps its level."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{_PRIORITY.get(record.levelname, 6)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines())


def under_journal(environ: Mapping[str, str] | None = None) -> bool:
    """True when stderr is connected to the systemd journal (systemd.exec(5) JOURNAL_STREAM)."""
    value = (os.environ if environ is None else environ).get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in value.split(":"))
        info = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (info.st_dev, info.st_ino) == (device, inode)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Whatever ``sys.stderr`` is when a record comes (tests and tools swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


class _RotatingFile(logging.handlers.RotatingFileHandler):
    """Each file it opens (the first and every one after a rotation) gets ``bits``."""

    def __init__(self, path: Path, *, bits: int, **kwargs: Any) -> None:
        self._bits = bits
        super().__init__(path, **kwargs)

    def _open(self) -> Any:
        stream = super()._open()
        os.chmod(self.baseFilename, self._bits)
        return stream


def configure_logging(
    *,
    log_dir: Path | None,
    level: str = "INFO",
    max_bytes: int = 5_000_000,
    backups: int = 5,
    stderr: bool = True,
    journal: bool | None = None,
) -> Path | None:
    """Install the handlers on the root logger; return the log file path (None: no file).

    A log directory this account cannot write (a command run by an admin on a till)
    costs the file, not the command: records still reach stderr or the journal."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_pos_app", False):
            root.removeHandler(handler)
            handler.close()
    path, handlers = _file_handler(log_dir, max_bytes=max_bytes, backups=backups)
    if journal if journal is not None else under_journal():
        stream = _Stderr()
        stream.setFormatter(JournalFormatter(JOURNAL_FORMAT))
        handlers.append(stream)
    elif stderr:
        stream = _Stderr()
        stream.setLevel(logging.WARNING)
        stream.setFormatter(logging.Formatter("pos-app: %(levelname)s %(name)s: %(message)s"))
        handlers.append(stream)
    for handler in handlers:
        if handler.formatter is None:
            handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(SecretMaskingFilter())
        handler._pos_app = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    return path


def _file_handler(
    log_dir: Path | None, *, max_bytes: int, backups: int
) -> tuple[Path | None, list[logging.Handler]]:
    if log_dir is None:
        return None, []
    path = log_dir / LOG_FILE
    try:
        log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Group-readable in a group-owned directory (pos-app setup: group pos-app, 2750),
        # so store IT reads logs without the till's account; logs never hold secrets.
        bits = 0o640 if log_dir.stat().st_mode & stat.S_ISGID else 0o600
        handler = _RotatingFile(
            path, bits=bits, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
    except OSError:
        return None, []
    return path, [handler]
