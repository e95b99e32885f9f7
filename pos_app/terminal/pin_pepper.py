"""The PIN pepper: a random secret kept outside the database.

A PIN has 10^4..10^8 values, so its scrypt hash alone falls to a patient guesser
(a 4-digit PIN in minutes on one core). The hash is therefore keyed with a 32-byte
pepper in its own file, mode 0600, owned by the till's account (till_account.py):
a copy of ``terminal.db`` taken off the till, or read by another account, does not
give up the PINs. Losing the file makes every PIN unusable (accounts are added again
with ``pos-app cashier add``), like losing the terminal key means enrolling again.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from pos_app.core.errors import StoreError

PEPPER_FILE = "pin_pepper.key"
PEPPER_BYTES = 32


def load_pepper(data_dir: Path) -> bytes:
    """The till's pepper, created on first use."""
    path = data_dir / PEPPER_FILE
    if not path.exists():
        _create(path)
    data = path.read_bytes()
    if len(data) != PEPPER_BYTES:
        raise StoreError(
            f"{path} is damaged ({len(data)} bytes, expected {PEPPER_BYTES}); PINs cannot be "
            "checked. Move it aside, start pos-app, and add every account again "
            "(pos-app cashier add ... --pin-stdin)",
            code="pepper_damaged",
        )
    return data


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process of this till created it first
    try:
        os.write(fd, secrets.token_bytes(PEPPER_BYTES))
        os.fsync(fd)
    except OSError:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    finally:
        os.close(fd)
