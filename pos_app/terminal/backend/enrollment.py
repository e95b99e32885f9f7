"""Enrollment: generate the terminal key, present the one-time code, store the result.

Order matters because the code is single use:

1. the new key is written to a *pending* file (0600) before anything is sent,
   so an enrollment the backend accepted is never lost to a crash;
2. the response's trust list must verify with the pinned root key, and its
   store and terminal must be the ones asked for; otherwise nothing is stored;
3. the key becomes the terminal key, then the credential metadata, trust list
   and audit entry are committed in one transaction.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.core.api_contract import EnrollAnswer
from pos_app.core.audit_chain import GENESIS
from pos_app.core.errors import BackendError
from pos_app.paytoken import keys
from pos_app.terminal.audit.log import AuditAction, append_audit
from pos_app.terminal.audit.sync import continue_backend_chain
from pos_app.terminal.backend.client import BackendClient, ClientConfig, SigningIdentity
from pos_app.terminal.backend.credentials import (
    KEY_FILE,
    PENDING_KEY_FILE,
    CredentialInfo,
    FileKeyStorage,
    KeyStorage,
    key_storage_for,
    load_info,
    save_info,
)
from pos_app.terminal.errors import EnrollmentError
from pos_app.terminal.store.db import LocalStore
from pos_app.terminal.sync.trust import TrustListManager, envelope_bytes, pin_root

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EnrollmentInput:
    backend_url: str
    code: str
    store_id: str
    terminal_id: str


@dataclass(frozen=True, slots=True)
class EnrollResult:
    info: CredentialInfo
    trust_list_seq: int
    clock_skew_s: float | None


def enroll(
    request: EnrollmentInput,
    *,
    store: LocalStore,
    data_dir: Path,
    trust: TrustListManager,
    config: ClientConfig,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.time,
    force: bool = False,
    prefer_keyring: bool = True,
) -> EnrollResult:
    """Enroll this terminal; raise EnrollmentError (or a BackendError) saying what to do."""
    existing = load_info(store)
    if existing is not None and not force:
        raise EnrollmentError(
            f"this terminal is already enrolled as {existing.store_id}/{existing.terminal_id}; "
            "pass --force to replace its key (ask for a new enrollment code first)"
        )
    pending = FileKeyStorage(data_dir, PENDING_KEY_FILE)
    key = keys.generate_keypair()
    pending.save(key)
    identity = SigningIdentity(key=key, keyid=keys.kid_hex(key))
    with BackendClient(config, transport=transport, clock=clock) as client:
        response = client.enroll(
            code=request.code,
            public_key_b64=keys.b64url_encode(keys.public_raw(key)),
            app_version=app_version(),
            identity=identity,
            idempotency_key=f"enroll-{uuid.uuid4()}",
        )
        envelope = _checked(response, request, trust=trust)
        head = _audit_head(client, request.terminal_id, identity=identity)
    storage = _install_key(pending, data_dir, prefer_keyring=prefer_keyring)
    now = int(clock())
    info = _commit(store, request, response, key_storage=storage.name, key=key, now=now,
                   replaced=existing is not None, trust=trust, audit_head=head)  # fmt: skip
    decision = trust.offer(envelope, now=now, source="enrollment")
    seq = decision.current.seq if decision is not None else -1
    return EnrollResult(info=info, trust_list_seq=seq, clock_skew_s=client.clock_skew_s)


def app_version() -> str:
    """The installed release (the layer rules keep the terminal off the top-level package)."""
    try:
        return importlib.metadata.version("pos-app")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def _commit(
    store: LocalStore,
    request: EnrollmentInput,
    response: EnrollAnswer,
    *,
    key_storage: str,
    key: Ed25519PrivateKey,
    now: int,
    replaced: bool,
    trust: TrustListManager,
    audit_head: tuple[int, str],
) -> CredentialInfo:
    """The credential and its audit entry, in one transaction."""
    info = CredentialInfo(
        keyid=response.keyid,
        store_id=request.store_id,
        terminal_id=request.terminal_id,
        backend_url=request.backend_url,
        enrolled_at=now,
        key_storage=key_storage,
        public_key=keys.b64url_encode(keys.public_raw(key)),
    )
    detail = {
        "store_id": info.store_id,
        "terminal_id": info.terminal_id,
        "keyid": info.keyid,
        "backend_url": info.backend_url,
        "key_storage": key_storage,
        "replaced": replaced,
    }
    with store.transaction() as conn:
        save_info(store, info, conn=conn)
        pin_root(conn, trust.root_public_key)
        synced, head_hash = audit_head
        if continue_backend_chain(conn, synced_through=synced, head_hash=head_hash, at=now):
            detail["audit_continues_after"] = synced
        append_audit(conn, at=now, actor="installer", action=AuditAction.ENROLLED, detail=detail)
    return info


def _audit_head(
    client: BackendClient, terminal_id: str, *, identity: SigningIdentity
) -> tuple[int, str]:
    """Where the backend's copy of this terminal's audit chain stands (0: none held)."""
    try:
        return client.audit_head(terminal_id, identity=identity)
    except BackendError as exc:
        # A backend without the endpoint: the chain starts fresh, as before.
        log.warning("audit chain head not available (%s); the log starts at id 1", exc.code)
        return 0, GENESIS


def _checked(response: EnrollAnswer, request: EnrollmentInput, *, trust: TrustListManager) -> bytes:
    got = (response.store_id, response.terminal_id)
    if got != (request.store_id, request.terminal_id):
        raise EnrollmentError(
            f"the code enrolls {got[0]}/{got[1]}, not {request.store_id}/{request.terminal_id}: "
            "check --store and --terminal, or ask for the code of this terminal"
        )
    envelope = envelope_bytes(response.trust_list)
    if not _verifies(envelope, trust):
        raise EnrollmentError(
            "the backend's trust list is not signed by the pinned root key: check "
            "[backend] trust_root_key and the backend URL (nothing was stored)"
        )
    return envelope


def _verifies(envelope: bytes, trust: TrustListManager) -> bool:
    from pos_app.paytoken.errors import TrustListInvalid
    from pos_app.paytoken.trust_list import parse_trust_list

    try:
        parse_trust_list(envelope, trust.root_public_key)
    except TrustListInvalid:
        return False
    return True


def _install_key(pending: FileKeyStorage, data_dir: Path, *, prefer_keyring: bool) -> KeyStorage:
    storage = key_storage_for(data_dir, prefer_keyring=prefer_keyring)
    if isinstance(storage, FileKeyStorage):
        pending.promote_to(storage)
        return storage
    key = pending.load()
    if key is None:  # cannot happen: written above; fail loudly rather than lose the key
        raise EnrollmentError(f"{pending.path} vanished during enrollment: enroll again")
    storage.save(key)
    pending.path.unlink(missing_ok=True)
    (data_dir / KEY_FILE).unlink(missing_ok=True)
    return storage


def describe(result: EnrollResult) -> str:
    return json.dumps(
        {
            "store_id": result.info.store_id,
            "terminal_id": result.info.terminal_id,
            "keyid": result.info.keyid,
            "key_storage": result.info.key_storage,
            "trust_list_seq": result.trust_list_seq,
            "clock_skew_s": result.clock_skew_s,
        }
    )
