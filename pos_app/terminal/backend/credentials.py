"""The terminal credential: its Ed25519 key and what enrollment bound it to.

The private key is a PKCS#8 PEM file, mode 0600, in the data directory, or
in the OS keyring when the optional ``keyring`` package is installed and
has a usable backend (it is not a dependency: file storage is the default).
The metadata (keyid, store, terminal, backend URL) lives in the local
store's ``kv`` table, written in one transaction after the key is safely on
disk, so "enrolled" is true only once both exist.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.paytoken import keys
from pos_app.paytoken.errors import KeyFileError
from pos_app.terminal.backend.client import SigningIdentity
from pos_app.terminal.store import kv
from pos_app.terminal.store.db import LocalStore

KEY_FILE = "terminal_key.pem"
PENDING_KEY_FILE = "terminal_key.pending.pem"
KV_CREDENTIAL = "terminal.credential"
KEYRING_SERVICE = "pos-app-terminal"


@dataclass(frozen=True, slots=True)
class CredentialInfo:
    keyid: str
    store_id: str
    terminal_id: str
    backend_url: str
    enrolled_at: int
    key_storage: str  # "file" or "keyring"
    public_key: str  # base64url raw: proves the stored key is the enrolled one


@dataclass(frozen=True, slots=True)
class Credential:
    info: CredentialInfo
    key: Ed25519PrivateKey

    @property
    def identity(self) -> SigningIdentity:
        return SigningIdentity(key=self.key, keyid=self.info.keyid)


class KeyStorage(Protocol):
    name: str

    def save(self, key: Ed25519PrivateKey) -> None: ...

    def load(self) -> Ed25519PrivateKey | None: ...


class FileKeyStorage:
    """PKCS#8 PEM, 0600, written atomically (pos_app.paytoken.keys)."""

    name = "file"

    def __init__(self, data_dir: Path, filename: str = KEY_FILE) -> None:
        self.path = data_dir / filename

    def save(self, key: Ed25519PrivateKey) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        keys.write_private_key(self.path, key)

    def load(self) -> Ed25519PrivateKey | None:
        if not self.path.exists():
            return None
        mode = self.path.stat().st_mode & 0o777
        if os.name == "posix" and mode & 0o077:
            raise KeyFileError(
                f"{self.path} is readable by other users (mode {mode:o}): run "
                f"'chmod 600 {self.path}', then start again"
            )
        return keys.load_private_key(self.path)

    def promote_to(self, final: FileKeyStorage) -> None:
        os.replace(self.path, final.path)


class KeyringKeyStorage:
    """The OS keyring (Secret Service, Keychain, Credential Locker) via ``keyring``."""

    name = "keyring"

    def __init__(self, module: Any, account: str) -> None:
        self._keyring = module
        self._account = account

    def save(self, key: Ed25519PrivateKey) -> None:
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self._keyring.set_password(KEYRING_SERVICE, self._account, pem.decode("ascii"))

    def load(self) -> Ed25519PrivateKey | None:
        pem = self._keyring.get_password(KEYRING_SERVICE, self._account)
        if pem is None:
            return None
        loaded = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise KeyFileError("the keyring entry is not an Ed25519 private key")
        return loaded


def usable_keyring() -> Any | None:
    """The ``keyring`` module if installed and backed by a real store, else None."""
    try:
        module = importlib.import_module("keyring")
    except ImportError:
        return None
    with contextlib.suppress(Exception):
        backend = module.get_keyring()
        # The "fail" and "null" backends have priority <= 0: nothing would be stored.
        if float(getattr(backend, "priority", 0)) > 0:
            return module
    return None


def key_storage_for(data_dir: Path, *, prefer_keyring: bool = True) -> KeyStorage:
    module = usable_keyring() if prefer_keyring else None
    if module is not None:
        return KeyringKeyStorage(module, str(data_dir.resolve()))
    return FileKeyStorage(data_dir)


def save_info(store: LocalStore, info: CredentialInfo, *, conn: Any = None) -> None:
    value = json.dumps(asdict(info), sort_keys=True)
    if conn is not None:
        kv.put(conn, KV_CREDENTIAL, value)
        return
    with store.transaction() as c:
        kv.put(c, KV_CREDENTIAL, value)


def load_info(store: LocalStore) -> CredentialInfo | None:
    raw = kv.get_text(store, KV_CREDENTIAL)
    return None if raw is None else CredentialInfo(**json.loads(raw))


def load_credential(store: LocalStore, data_dir: Path) -> Credential | None:
    """The stored credential, or None when the terminal is not enrolled."""
    info = load_info(store)
    if info is None:
        return None
    storage: KeyStorage
    if info.key_storage == "keyring":
        module = usable_keyring()
        if module is None:
            raise KeyFileError(
                "the terminal key is in the OS keyring, which is not available now: "
                "unlock the keyring or enroll again with 'pos-app enroll'"
            )
        storage = KeyringKeyStorage(module, str(data_dir.resolve()))
    else:
        storage = FileKeyStorage(data_dir)
    key = storage.load()
    if key is None:
        raise KeyFileError(
            "the terminal key is missing although the terminal is enrolled: "
            "enroll again with 'pos-app enroll'"
        )
    if keys.b64url_encode(keys.public_raw(key)) != info.public_key:
        raise KeyFileError(
            "the terminal key does not match its enrollment: enroll again with 'pos-app enroll'"
        )
    return Credential(info=info, key=key)
