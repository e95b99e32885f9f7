"""Root and issuer keys, the signed trust list, and issuer key rotation.

Rotation is three explicit steps so terminals always hold a key before tokens
signed with it appear: ``publish`` (the next key enters the trust list, not yet
minting), ``activate`` (it mints; the old key is retired, verify-only, until
its last tokens have expired), ``drop`` (retired keys past ``verify_until``
leave the list). Every step re-signs the trust list with a higher ``seq``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_app.paytoken import keys, trust_list
from pos_app.server.errors import ApiError
from pos_app.server.models import IssuerKey, TrustListRecord

ROOT_PRIVATE = "root_private.pem"
ROOT_PUBLIC = "root_public.pem"
TRUST_LIST = "trust_list.json"
ISSUER_DIR = "issuer"
KEY_YEAR = 365 * 86400
TRUST_LIST_VALIDITY = 86400
# Retired keys stay verifiable for an hour: far past the 300 s maximum token life.
RETIRED_GRACE = 3600
# The reference backend may re-sign the list on demand once it is this close to stale.
REFRESH_BEFORE = 12 * 3600
STATUS_OF_STATE = {"next": "active", "current": "active", "retired": "retired"}


@dataclass(frozen=True)
class SignedList:
    seq: int
    envelope: bytes


class KeyPaths:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.root_private = data_dir / ROOT_PRIVATE
        self.root_public = data_dir / ROOT_PUBLIC
        self.trust_list = data_dir / TRUST_LIST
        self.issuer_dir = data_dir / ISSUER_DIR

    def issuer_private(self, kid: str) -> Path:
        return self.issuer_dir / f"{kid}.pem"


def ensure_root(paths: KeyPaths) -> Ed25519PrivateKey:
    """Load the root key, creating it (0600) on first use."""
    if paths.root_private.exists():
        return keys.load_private_key(paths.root_private)
    root = keys.generate_keypair()
    keys.write_private_key(paths.root_private, root)
    keys.write_public_key(paths.root_public, root.public_key())
    return root


def new_issuer_key(session: Session, paths: KeyPaths, *, state: str, now: int) -> IssuerKey:
    private = keys.generate_keypair()
    kid = keys.kid_hex(private)
    paths.issuer_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys.write_private_key(paths.issuer_private(kid), private)
    keys.write_public_key(paths.issuer_dir / f"{kid}.pub.pem", private.public_key())
    row = IssuerKey(
        kid=kid,
        public_key=keys.public_raw(private),
        state=state,
        private_key_path=str(paths.issuer_private(kid)),
        issue_not_before=now,
        issue_not_after=now + KEY_YEAR,
        verify_until=now + KEY_YEAR + RETIRED_GRACE,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def sign_current(session: Session, paths: KeyPaths, *, now: int) -> SignedList:
    """Sign the listed keys into a new trust list (seq + 1), store it and write the file."""
    root = keys.load_private_key(paths.root_private)
    last = session.scalar(select(TrustListRecord.seq).order_by(TrustListRecord.seq.desc()))
    seq = (last or 0) + 1
    listed = session.scalars(
        select(IssuerKey).where(IssuerKey.state.in_(tuple(STATUS_OF_STATE))).order_by(IssuerKey.kid)
    )
    entries = [
        trust_list.key_entry(
            keys.public_from_raw(row.public_key),
            status=STATUS_OF_STATE[row.state],
            issue_not_before=row.issue_not_before,
            issue_not_after=row.issue_not_after,
            verify_until=row.verify_until,
        )
        for row in listed
    ]
    payload = {
        "seq": seq,
        "issued_at": now,
        "next_update": now + TRUST_LIST_VALIDITY,
        "keys": entries,
    }
    envelope = trust_list.sign_trust_list(root, payload)
    session.add(TrustListRecord(seq=seq, envelope=envelope, issued_at=now))
    session.flush()
    _write_atomic(paths.trust_list, envelope)
    return SignedList(seq=seq, envelope=envelope)


def latest(session: Session) -> SignedList:
    row = session.scalars(select(TrustListRecord).order_by(TrustListRecord.seq.desc())).first()
    if row is None:
        raise ApiError(503, "not_initialized", "the backend has no trust list; run backend init")
    return SignedList(seq=row.seq, envelope=row.envelope)


def needs_refresh(envelope: bytes, now: int) -> bool:
    payload = json.loads(keys.b64url_decode(json.loads(envelope)["payload"]))
    return bool(now > int(payload["next_update"]) - REFRESH_BEFORE)


def rotate(session: Session, paths: KeyPaths, *, step: str, now: int) -> dict[str, object]:
    """Run one rotation step; return what changed (for the CLI's JSON output)."""
    states = {row.kid: row for row in session.scalars(select(IssuerKey))}
    by_state: dict[str, list[IssuerKey]] = {}
    for row in states.values():
        by_state.setdefault(row.state, []).append(row)
    if step == "publish":
        if by_state.get("next"):
            raise ValueError("a next key is already published; activate it first")
        changed = [new_issuer_key(session, paths, state="next", now=now).kid]
    elif step == "activate":
        if not by_state.get("next"):
            raise ValueError("no published next key; run the publish step first")
        changed = _activate(by_state, now=now)
    elif step == "drop":
        changed = [row.kid for row in by_state.get("retired", []) if row.verify_until <= now]
        if not changed:
            raise ValueError("no retired key is past verify_until yet")
        for kid in changed:
            states[kid].state = "dropped"
    else:
        raise ValueError(f"unknown rotation step {step!r}")
    signed = sign_current(session, paths, now=now)
    return {"step": step, "changed": changed, "trust_list_seq": signed.seq}


def _activate(by_state: dict[str, list[IssuerKey]], *, now: int) -> list[str]:
    changed = []
    for old in by_state.get("current", []):
        old.state = "retired"
        old.issue_not_after = now
        old.verify_until = now + RETIRED_GRACE
        changed.append(old.kid)
    nxt = by_state["next"][0]
    nxt.state = "current"
    nxt.issue_not_before = min(nxt.issue_not_before, now)
    changed.append(nxt.kid)
    return changed


class IssuerKeyCache:
    """Private keys are read from disk once per kid (the file is the HSM stand-in)."""

    def __init__(self) -> None:
        self._keys: dict[str, Ed25519PrivateKey] = {}
        self._lock = threading.Lock()

    def current(self, session: Session) -> Ed25519PrivateKey:
        row = session.scalars(select(IssuerKey).where(IssuerKey.state == "current")).first()
        if row is None:
            raise ApiError(503, "not_initialized", "no current issuer key")
        with self._lock:
            if row.kid not in self._keys:
                self._keys[row.kid] = keys.load_private_key(row.private_key_path)
            return self._keys[row.kid]


def load_root_public(paths: KeyPaths) -> Ed25519PublicKey:
    return keys.load_public_key(paths.root_public)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
