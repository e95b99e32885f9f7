"""What every ``pos-app`` command does before its own work (called by pos_app/cli.py).

1. Commands that touch the till's data (they set ``touches_data`` on their parser)
   become the till's OS account or refuse (till_account.py), before anything opens
   a file in the data directory.
2. Logging starts with the ``[logging]`` settings: the log file in the log directory,
   the journal under systemd. A settings error is logged too, then left to the
   command to report (a broken file must not hide ``pos-app doctor``).
"""

from __future__ import annotations

import getpass
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from pos_app import __version__
from pos_app.core.errors import ConfigError
from pos_app.terminal.logging_setup import configure_logging
from pos_app.terminal.settings.loader import LoadedSettings, data_dir, load_settings, log_dir
from pos_app.terminal.till_account import become_till_account

log = logging.getLogger(__name__)


def start_command(
    argv: Sequence[str],
    *,
    touches_data: bool | str,
    config: Path | None = None,
    directory: Path | None = None,
) -> Path | None:
    """Prepare the process for one command; return the log file (None: journal/stderr only).

    Raises DataOwnerError when this account must not touch the till's data."""
    try:
        loaded = load_settings(user_file=config)
    except ConfigError as exc:
        configure_logging(log_dir=None, stderr=False)  # the command prints it itself
        log.error("settings: %s", exc.message)
        return None
    settings = loaded.settings
    if touches_data:
        become_till_account(
            owner=settings.paths.owner,
            directory=directory or data_dir(settings),
            argv=argv,
            system_install=loaded.is_system_source("paths.data_dir"),
            inspect_only=touches_data == "inspect",
        )
    path = configure_logging(
        log_dir=_own_log_dir(loaded),
        level=settings.logging.level,
        max_bytes=settings.logging.max_bytes,
        backups=settings.logging.backups,
    )
    command = " ".join(argv[:2]) if argv else "run"
    log.info("pos-app %s: %s, as %s", __version__, command, _me())
    return path


def _own_log_dir(loaded: LoadedSettings) -> Path | None:
    """The log directory, unless it belongs to another account: a file that root or an
    admin created there would lock the till's account out of its own log."""
    directory = log_dir(loaded.settings)
    if os.name == "posix" and directory.exists() and directory.stat().st_uid != os.geteuid():
        return None
    return directory


def _me() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid()) if os.name == "posix" else "?"
