"""Ed25519 keys: generation, kid, PEM files and raw/base64url helpers.

kid = SHA-256(raw 32-byte public key)[0:8] (PT1 section 1). Private keys are
PKCS#8 PEM written atomically with mode 0600, public keys SubjectPublicKeyInfo
PEM. Failures to read or parse key files become :class:`KeyFileError`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from pos_app.paytoken.errors import KeyFileError

KID_LENGTH = 8
RAW_KEY_LENGTH = 32

KeyLike = Ed25519PublicKey | Ed25519PrivateKey | bytes


def generate_keypair() -> Ed25519PrivateKey:
    """A fresh Ed25519 private key (its public key is ``.public_key()``)."""
    return Ed25519PrivateKey.generate()


def public_raw(key: KeyLike) -> bytes:
    """The raw 32-byte public key of a public key, private key or raw bytes."""
    if isinstance(key, bytes):
        if len(key) != RAW_KEY_LENGTH:
            raise ValueError("a raw Ed25519 public key is 32 bytes")
        return key
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_from_raw(raw: bytes) -> Ed25519PublicKey:
    """Build a public key object from 32 raw bytes."""
    if len(raw) != RAW_KEY_LENGTH:
        raise ValueError("a raw Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def kid_of(key: KeyLike) -> bytes:
    """The 8-byte kid of a key (public, private or raw public bytes)."""
    return hashlib.sha256(public_raw(key)).digest()[:KID_LENGTH]


def kid_hex(key: KeyLike) -> str:
    """The kid as 16 lowercase hex characters, as in trust lists and the CLI."""
    return kid_of(key).hex()


def scrypt(
    secret: bytes, salt: bytes, *, n: int, r: int, p: int, max_mib: int, length: int = 32
) -> bytes:
    """scrypt (RFC 7914) of *secret*: *length* bytes. A cost needing more than *max_mib*
    MiB raises ValueError instead of taking the machine's memory (a stored hash may
    carry any N)."""
    return hashlib.scrypt(
        secret, salt=salt, n=n, r=r, p=p, maxmem=max_mib * 1024 * 1024, dklen=length
    )


def b64url_encode(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding; the canonical form is the only accepted one."""
    if not isinstance(text, str) or "=" in text or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not unpadded base64url") from None
    # Unused low bits in the last character would give one value many spellings.
    if b64url_encode(data) != text:
        raise ValueError("base64url is not canonical")
    return data


def write_private_key(path: str | os.PathLike[str], key: Ed25519PrivateKey) -> None:
    """Write PKCS#8 PEM with mode 0600, atomically (temp file, fsync, rename)."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    atomic_write(Path(path), pem, mode=0o600)


def write_public_key(path: str | os.PathLike[str], pub: Ed25519PublicKey) -> None:
    """Write SubjectPublicKeyInfo PEM (mode 0644), atomically."""
    pem = pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    atomic_write(Path(path), pem, mode=0o644)


def load_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """Load a PKCS#8 PEM Ed25519 private key (unencrypted)."""
    data = _read(Path(path))
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path}: not a PKCS#8 PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 private key")
    return key


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """Load a SubjectPublicKeyInfo PEM Ed25519 public key."""
    data = _read(Path(path))
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path}: not a SubjectPublicKeyInfo PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path}: not an Ed25519 public key")
    return key


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read key file ({exc.strerror})") from None


def atomic_write(path: Path, data: bytes, *, mode: int) -> None:
    """Write ``data`` to ``path`` via a temp file, fsync and rename, ending with ``mode``."""
    # mkstemp creates the file 0600 from the start, so a private key is never
    # readable by others, not even for a moment.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
