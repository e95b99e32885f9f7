"""Trust lists (PT1 section 3): root-signed envelopes of issuer keys.

:func:`parse_trust_list` checks the envelope and root signature (any failure is
:class:`TrustListInvalid`, code ``trust_list_invalid``) and then the entries:
an entry that is malformed or whose kid is not the kid of its own key is
ignored and reported in ``TrustList.ignored``; the rest of the list stays usable.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from pos_app.paytoken.errors import TrustListInvalid
from pos_app.paytoken.keys import (
    b64url_decode,
    b64url_encode,
    kid_hex,
    public_from_raw,
    public_raw,
)

FORMAT = "pos-trust-list/v1"
SIGNING_CONTEXT = b"pos-trust-list/v1\x00"
STATUSES = ("active", "retired", "revoked")
DEFAULT_STALE_GRACE = 24 * 3600
_ENVELOPE_FIELDS = ("format", "root_kid", "payload", "signature")
_TIME_FIELDS = ("issue_not_before", "issue_not_after", "verify_until")


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """One usable issuer key of a trust list."""

    kid: bytes
    public_key: Ed25519PublicKey
    public_raw: bytes
    status: str
    issue_not_before: int
    issue_not_after: int
    verify_until: int

    @property
    def kid_hex(self) -> str:
        return self.kid.hex()


@dataclass(frozen=True, slots=True)
class IgnoredEntry:
    """An entry left out of the usable keys, and why (for logs and the doctor)."""

    index: int
    kid: str | None
    why: str


@dataclass(frozen=True, slots=True)
class TrustList:
    """A verified trust list. ``payload_bytes`` are the exact root-signed bytes."""

    seq: int
    issued_at: int
    next_update: int
    keys: tuple[TrustedKey, ...]
    ignored: tuple[IgnoredEntry, ...]
    payload_bytes: bytes
    root_kid: str

    def keys_for(self, kid: bytes) -> tuple[TrustedKey, ...]:
        """Every usable key carrying this kid (several when kids collide)."""
        return tuple(key for key in self.keys if key.kid == kid)

    def is_stale(self, now: int, grace: int = DEFAULT_STALE_GRACE) -> bool:
        """Section 3: stale when ``now > next_update + grace``."""
        return now > self.next_update + grace


def sign_trust_list(root_private_key: Ed25519PrivateKey, payload: dict[str, Any]) -> bytes:
    """Sign a payload dict into envelope JSON bytes (validated first)."""
    payload_bytes = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    _parse_payload(payload_bytes, root_kid=kid_hex(root_private_key))  # refuse to sign garbage
    envelope = {
        "format": FORMAT,
        "root_kid": kid_hex(root_private_key),
        "payload": b64url_encode(payload_bytes),
        "signature": b64url_encode(root_private_key.sign(SIGNING_CONTEXT + payload_bytes)),
    }
    return (json.dumps(envelope, indent=2) + "\n").encode("utf-8")


def parse_trust_list(envelope_bytes: bytes, root_public_key: Ed25519PublicKey) -> TrustList:
    """Verify the envelope against the pinned root key and parse the payload."""
    envelope = _json_object(envelope_bytes, what="envelope")
    missing = [name for name in _ENVELOPE_FIELDS if type(envelope.get(name)) is not str]
    if missing:
        raise TrustListInvalid(f"envelope field(s) missing or not text: {', '.join(missing)}")
    if envelope["format"] != FORMAT:
        raise TrustListInvalid(f"unsupported format {envelope['format']!r}")
    root_kid = kid_hex(root_public_key)
    if envelope["root_kid"] != root_kid:
        raise TrustListInvalid("root_kid is not the kid of the pinned root key")
    try:
        payload_bytes = b64url_decode(envelope["payload"])
        signature = b64url_decode(envelope["signature"])
    except ValueError as exc:
        raise TrustListInvalid(f"envelope encoding: {exc}") from None
    try:
        root_public_key.verify(signature, SIGNING_CONTEXT + payload_bytes)
    except InvalidSignature:
        raise TrustListInvalid("root signature does not verify") from None
    return _parse_payload(payload_bytes, root_kid=root_kid)


def read_trust_list(path: str | os.PathLike[str], root_public_key: Ed25519PublicKey) -> TrustList:
    """Read and verify a trust-list file; an unreadable file is also ``trust_list_invalid``."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise TrustListInvalid(f"{path}: cannot read trust list ({exc.strerror})") from None
    return parse_trust_list(data, root_public_key)


def _json_object(data: bytes, *, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as exc:
        raise TrustListInvalid(f"{what} is not UTF-8 JSON ({exc})") from None
    if not isinstance(value, dict):
        raise TrustListInvalid(f"{what} is not a JSON object")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads would keep the last of two equal names; a signed document
    # must mean one thing to every reader.
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"duplicate name {name!r}")
        result[name] = value
    return result


def _parse_payload(payload_bytes: bytes, *, root_kid: str) -> TrustList:
    payload = _json_object(payload_bytes, what="payload")
    for name in ("seq", "issued_at", "next_update"):
        if not _is_uint(payload.get(name)):
            raise TrustListInvalid(f"payload field {name!r} must be a non-negative integer")
    entries = payload.get("keys")
    if not isinstance(entries, list):
        raise TrustListInvalid("payload field 'keys' must be a list")
    keys: list[TrustedKey] = []
    ignored: list[IgnoredEntry] = []
    for index, entry in enumerate(entries):
        key_or_why = _parse_entry(entry)
        if isinstance(key_or_why, TrustedKey):
            keys.append(key_or_why)
        else:
            kid = entry.get("kid") if isinstance(entry, dict) else None
            ignored.append(IgnoredEntry(index, kid if isinstance(kid, str) else None, key_or_why))
    return TrustList(
        seq=payload["seq"],
        issued_at=payload["issued_at"],
        next_update=payload["next_update"],
        keys=tuple(keys),
        ignored=tuple(ignored),
        payload_bytes=payload_bytes,
        root_kid=root_kid,
    )


def _parse_entry(entry: object) -> TrustedKey | str:
    """A usable key, or the reason the entry is ignored."""
    if not isinstance(entry, dict):
        return "entry is not an object"
    why = _entry_problem(entry)
    if why is not None:
        return why
    try:
        public_key = public_from_raw(b64url_decode(entry["public_key"]))
    except ValueError:
        return "public_key is not base64url of 32 bytes"
    if entry["kid"] != kid_hex(public_key):
        return "kid is not the kid of its public key"
    return TrustedKey(
        kid=bytes.fromhex(entry["kid"]),
        public_key=public_key,
        public_raw=public_raw(public_key),
        status=entry["status"],
        issue_not_before=entry["issue_not_before"],
        issue_not_after=entry["issue_not_after"],
        verify_until=entry["verify_until"],
    )


def _entry_problem(entry: dict[str, Any]) -> str | None:
    if entry.get("alg") != "Ed25519":
        return "alg is not Ed25519"
    if entry.get("status") not in STATUSES:
        return "status is not active, retired or revoked"
    if not all(_is_uint(entry.get(name)) for name in _TIME_FIELDS):
        return "a validity time is missing or not a non-negative integer"
    if type(entry.get("kid")) is not str or type(entry.get("public_key")) is not str:
        return "kid or public_key missing"
    return None


def _is_uint(value: object) -> bool:
    return type(value) is int and value >= 0


def key_entry(
    public_key: Ed25519PublicKey,
    *,
    status: str = "active",
    issue_not_before: int,
    issue_not_after: int,
    verify_until: int,
) -> dict[str, object]:
    """A payload ``keys`` entry for a public key (helper for issuers and tests)."""
    return {
        "kid": kid_hex(public_key),
        "alg": "Ed25519",
        "public_key": b64url_encode(public_raw(public_key)),
        "status": status,
        "issue_not_before": issue_not_before,
        "issue_not_after": issue_not_after,
        "verify_until": verify_until,
    }


@dataclass(frozen=True, slots=True)
class ReplaceDecision:
    """Outcome of offering a candidate list: the list to keep and why."""

    replaced: bool
    current: TrustList
    why: str  # "installed", "newer", "identical", "rollback", "same_seq_different_content"


def replace_if_newer(current: TrustList | None, candidate: TrustList) -> ReplaceDecision:
    """Section 3 rollback rule. Both lists must already be root-verified."""
    if current is None:
        return ReplaceDecision(replaced=True, current=candidate, why="installed")
    if candidate.seq > current.seq:
        return ReplaceDecision(replaced=True, current=candidate, why="newer")
    if candidate.seq == current.seq and candidate.payload_bytes == current.payload_bytes:
        return ReplaceDecision(replaced=False, current=current, why="identical")
    if candidate.seq == current.seq:
        # Two different documents with one seq mean the root key signed
        # conflicting lists; keep what we have and make it loud.
        return ReplaceDecision(replaced=False, current=current, why="same_seq_different_content")
    return ReplaceDecision(replaced=False, current=current, why="rollback")


class TrustListHolder:
    """The current trust list of a process, replaced only by the rollback rule (thread-safe)."""

    def __init__(self, root_public_key: Ed25519PublicKey, current: TrustList | None = None) -> None:
        self._root = root_public_key
        self._current = current
        self._lock = threading.Lock()

    @property
    def current(self) -> TrustList | None:
        return self._current

    def offer(self, candidate: TrustList) -> ReplaceDecision:
        """Offer a list parsed with :func:`parse_trust_list`; keep the better one."""
        with self._lock:
            decision = replace_if_newer(self._current, candidate)
            self._current = decision.current
            return decision

    def offer_bytes(self, envelope_bytes: bytes) -> ReplaceDecision:
        """Parse with the pinned root key, then :meth:`offer`.

        Raises :class:`TrustListInvalid` (the current list stays) when the
        envelope or its signature is bad.
        """
        return self.offer(parse_trust_list(envelope_bytes, self._root))
