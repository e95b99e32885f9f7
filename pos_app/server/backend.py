"""The backend's service container: settings, database, keys, and request authentication."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Table, bindparam, delete, func, select
from sqlalchemy.exc import DBAPIError

from pos_app.core.errors import PosError
from pos_app.paytoken import httpsig, keys, trust_list
from pos_app.server import contacts, db, keystore, ratelimit
from pos_app.server.errors import ApiError, bad_signature
from pos_app.server.models import Device, Nonce, Terminal, TrustListRecord
from pos_app.server.ratelimit import RateLimiter

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.orm import Session

    from pos_app.server.settings import ServerSettings

log = logging.getLogger(__name__)
T = TypeVar("T")
# Nonces are kept a little longer than the signature window, then purged.
NONCE_KEEP = 120
PURGE_EVERY = 200
VERIFIER_RECHECK_S = 5.0
PUBLIC_KEY_CACHE = 10_000
NO_CONTACT: tuple[int | None, int | None] = (None, None)
_TERMINALS: Table = Terminal.__table__  # type: ignore[assignment]
_ACTIVE_TERMINAL = select(
    _TERMINALS.c.id,
    _TERMINALS.c.store_id,
    _TERMINALS.c.terminal_id,
    _TERMINALS.c.region,
    _TERMINALS.c.public_key,
    _TERMINALS.c.contact_since,
    _TERMINALS.c.contact_last,
).where(_TERMINALS.c.keyid == bindparam("b_keyid"), _TERMINALS.c.status == "active")


@dataclass(frozen=True)
class Principal:
    """Who signed a request: a terminal (``store_id``/``terminal_id``) or a wallet device."""

    kind: str
    keyid: str
    store_id: str = ""
    terminal_id: str = ""
    wallet_id: str = ""
    device_id: str = ""
    # Terminals: the row id (contacts, offline limits) and the store's region (risk).
    terminal_row: int = 0
    region: str = ""


@dataclass(frozen=True)
class SignedRequest:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes
    # Where it came from and which route (``"POST /v1/wallets"``): rate limits before
    # verification are per source address and endpoint.
    source: str = ""
    endpoint: str = ""


class Backend:
    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.engine = db.make_engine(
            settings.db_url, pre_ping=settings.db_pool_pre_ping, pool_size=settings.db_pool_size
        )
        self.sessions = db.session_factory(self.engine)
        self.paths = keystore.KeyPaths(settings.data_dir)
        self.issuer_keys = keystore.IssuerKeyCache()
        self._verifier_cache: tuple[int | None, object, float] | None = None
        self._root_public: Ed25519PublicKey | None = None
        self._lock = threading.Lock()
        self._calls = 0
        self._public_keys: dict[bytes, Ed25519PublicKey] = {}
        # Active terminals' keys by keyid, as last read from their row: lets a batched
        # request check its signature before it does anything else (:meth:`precheck`).
        self._terminal_keys: dict[str, Ed25519PublicKey] = {}
        # When this process last recorded a contact of each terminal (keyid): whether a
        # batched request may start a new stretch (``contacts.extend_ahead``).
        self._contact_seen: dict[str, int] = {}
        self._threads: ThreadPoolExecutor | None = None
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.address_limiter = RateLimiter(settings.address_limit_per_minute)
        self.failure_limiter = RateLimiter(settings.failed_signatures_per_minute)

    def now(self) -> int:
        return self.settings.clock.now()

    def close(self) -> None:
        """Let go of the request threads and the pooled connections. Work already handed
        to the threads finishes on them; a request that comes after (a server stopped
        while it still drained) gets new ones, as the engine opens new connections after
        ``dispose``, instead of a 500 from a shut executor."""
        with self._lock:
            threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=False)
        self.engine.dispose()

    async def in_thread(self, work: Callable[[], T]) -> T:
        """Run a request's synchronous *work* on this worker's request threads
        (``worker_threads`` of them; more requests wait their turn in order), in a copy of
        the caller's context. The event loop's own executor, not anyio's ``to_thread``:
        the same hand-off costs about half the CPU (measured 41 -> 21 us at 16 requests in
        flight, docs/BACKEND.md)."""
        if self._threads is None:
            with self._lock:
                if self._threads is None:
                    self._threads = ThreadPoolExecutor(
                        self.settings.worker_threads, thread_name_prefix="pos-request"
                    )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, contextvars.copy_context().run, work)

    def warm(self) -> None:
        """Before a worker takes traffic (``serve``): open its pooled connections, each
        planning the usual statements once (:func:`db.warm_pool`), and build what the first
        sale would otherwise build while every till waits (the PT1 verifier, the rule set).
        Best effort: what fails here is built on demand, as without it."""
        from pos_app.server import risk

        db.warm_pool(self.engine, self.settings.db_pool_size)
        risk.default_engine()
        try:
            with db.transaction(self.sessions) as session:
                self.verifier(session)
        except (DBAPIError, PosError, ValueError, OSError) as exc:
            log.warning("PT1 verifier not built ahead: %s", type(exc).__name__)

    # --- trust list and PT1 verifier ----------------------------------------------------------

    def trust_list_envelope(self) -> bytes:
        with db.transaction(self.sessions) as session:
            signed = keystore.latest(session)
            if (
                keystore.needs_refresh(signed.envelope, self.now())
                and self.paths.root_private.exists()
            ):
                signed = keystore.sign_current(session, self.paths, now=self.now())
            return signed.envelope

    def verifier(self, session: Session, *, fresh: bool = False) -> object:
        """A PT1 verifier for the newest trust list.

        Rebuilt only when ``seq`` changes, and ``seq`` is looked up at most every few
        seconds (or when *fresh*: a token named a key this verifier does not know), so a
        finalize does not read the list; a revocation still takes effect within seconds.
        """
        from pos_app.paytoken.verifier import Verifier

        with self._lock:
            cached = self._verifier_cache
            if cached and not fresh and time.monotonic() - cached[2] < VERIFIER_RECHECK_S:
                return cached[1]
        seq = session.scalar(select(func.max(TrustListRecord.seq)))
        with self._lock:
            if self._verifier_cache is None or self._verifier_cache[0] != seq:
                signed = keystore.latest(session)
                parsed = trust_list.parse_trust_list(signed.envelope, self.root_public())
                verifier = Verifier(
                    parsed, audience=self.settings.audience, currency=self.settings.currency
                )
                self._verifier_cache = (signed.seq, verifier, time.monotonic())
            else:
                self._verifier_cache = (seq, self._verifier_cache[1], time.monotonic())
            return self._verifier_cache[1]

    def root_public(self) -> Ed25519PublicKey:
        if self._root_public is None:
            self._root_public = keystore.load_root_public(self.paths)
        return self._root_public

    # --- request authentication ---------------------------------------------------------------

    def authenticate(
        self, request: SignedRequest, *, tag: str, new_key: bytes | None = None
    ) -> Principal:
        """Verify the RFC 9421 signature and burn its nonce in a transaction of its own."""
        self.admit(request, new_key=new_key)
        with db.transaction(self.sessions) as session:
            return self.verify(session, request, tag=tag, new_key=new_key)

    def admit(self, request: SignedRequest, *, new_key: bytes | None = None) -> None:
        """The rate limits that apply before any signature is verified (429).

        Per source address and endpoint: every unauthenticated request (*new_key*:
        enrollment, wallet creation), and any request from an address whose
        signatures keep failing.
        """
        address = ratelimit.address_key(request.source, request.endpoint)
        if new_key is not None:
            self.address_limiter.check(address)
        elif self.failure_limiter.exhausted(address):
            raise ApiError(429, "rate_limited", "too many failed signatures; slow down")

    def verify(
        self,
        session: Session,
        request: SignedRequest,
        *,
        tag: str,
        new_key: bytes | None = None,
        parsed: httpsig.ParsedSignature | None = None,
        now: int | None = None,
        checked: Ed25519PublicKey | None = None,
        limit: bool = True,
    ) -> Principal:
        """Verify the RFC 9421 signature and burn its nonce in *session*; 401 on any failure.

        With *new_key* (enrollment, wallet creation) the request must be signed by
        that not-yet-registered key, named by its kid. Call :meth:`admit` first.
        *parsed*: the request's :meth:`parse` already done (at *now*); *checked*: the key
        :meth:`precheck` verified *parsed* with (not verified again when it is still the
        signer's registered key). *limit*: spend the signer's rate limit (False when an
        earlier attempt of the same request spent it already).
        """
        now = self.now() if now is None else now
        parsed = parsed or self.parse(request, tag=tag, now=now)
        keyid = parsed.signed.keyid
        key, principal, contact = self._resolve(session, keyid, tag=tag, new_key=new_key)
        if key is None or key is not checked:
            verified = self._check(request, parsed, key)
        else:
            verified = parsed.signed
        if new_key is None and limit:
            self.limiter.check(verified.keyid)
        if not self._burn_nonce(session, verified.keyid, verified.nonce, now=now):
            self._failed(request)
            raise bad_signature("nonce already used")
        assert principal is not None  # a key was found: so was its holder
        if principal.terminal_row:
            since, last = contact
            contacts.record(session, principal, since, last, now=now, settings=self.settings)
            if len(self._contact_seen) > PUBLIC_KEY_CACHE:
                self._contact_seen.clear()
            self._contact_seen[principal.keyid] = now
        return principal

    def parse(self, request: SignedRequest, *, tag: str, now: int) -> httpsig.ParsedSignature:
        """The signature's parameters, checked for form and age; 401 when they are not."""
        try:
            return httpsig.parse_request(
                request.method,
                request.url,
                request.headers,
                request.body,
                tag=tag,
                now=now,
                max_age=self.settings.signature_max_age,
                max_future=self.settings.signature_max_future,
            )
        except httpsig.SignatureError as exc:
            self._failed(request)
            raise bad_signature(str(exc)) from None

    def precheck(
        self, request: SignedRequest, parsed: httpsig.ParsedSignature
    ) -> Ed25519PublicKey | None:
        """Check a terminal's signature with the key its keyid had when last read, before
        any other work (401 when it does not verify); None: no key known, nothing checked.
        :meth:`verify` still reads the row: the key must still be registered.

        A keyid this process has not read yet (each till's first request after a start) has
        its key read first, on PostgreSQL, with one statement of its own: otherwise that
        request would take the portable path, about 18 round trips instead of 3, at the
        moment every till comes back at once."""
        keyid = parsed.signed.keyid
        key = self._terminal_keys.get(keyid)
        if key is None and self.engine.dialect.name == "postgresql":
            with db.transaction(self.sessions) as session:
                row = db.raw(session, _ACTIVE_TERMINAL, {"b_keyid": keyid}).fetchone()
            key = None if row is None or row[4] is None else self._terminal_key(keyid, row[4])
        if key is not None:
            self._check(request, parsed, key)
        return key

    def _check(
        self,
        request: SignedRequest,
        parsed: httpsig.ParsedSignature,
        key: Ed25519PublicKey | None,
    ) -> httpsig.VerifiedSignature:
        try:
            return httpsig.check_signature(parsed, key)
        except httpsig.SignatureError as exc:
            self._failed(request)
            raise bad_signature(str(exc)) from None

    def verify_ahead(self, session: Session, parsed: httpsig.ParsedSignature, *, now: int) -> None:
        """Send ahead what :meth:`verify` reads and writes for a terminal (``db.ahead``)."""
        keyid = parsed.signed.keyid
        db.ahead(session, _ACTIVE_TERMINAL, {"b_keyid": keyid})
        db.insert_new_ahead(session, Nonce, **_nonce_row(keyid, parsed.signed.nonce, now))
        seen = self._contact_seen.get(keyid)
        contacts.extend_ahead(session, keyid, now=now, settings=self.settings, seen=seen)

    def _failed(self, request: SignedRequest) -> None:
        self.failure_limiter.spend(ratelimit.address_key(request.source, request.endpoint))

    def _burn_nonce(self, session: Session, keyid: str, nonce: str, *, now: int) -> bool:
        """Record the nonce; False when it was used before."""
        if not db.insert_new(session, Nonce, **_nonce_row(keyid, nonce, now)):
            return False
        self._calls += 1
        if self._calls % PURGE_EVERY == 0:
            session.execute(delete(Nonce).where(Nonce.created_at < now - NONCE_KEEP))
        return True

    def _resolve(
        self, session: Session, keyid: str, *, tag: str, new_key: bytes | None
    ) -> tuple[Ed25519PublicKey | None, Principal | None, tuple[int | None, int | None]]:
        """The signer's public key and who it is (and, for a terminal, its contact stretch)."""
        if new_key is not None:
            if keyid != keys.kid_hex(new_key):
                return None, None, NO_CONTACT
            kind = "terminal" if tag == httpsig.TAG_TERMINAL else "wallet"
            return keys.public_from_raw(new_key), Principal(kind=kind, keyid=keyid), NO_CONTACT
        if tag == httpsig.TAG_TERMINAL:
            row = db.raw(session, _ACTIVE_TERMINAL, {"b_keyid": keyid}).fetchone()
            if row is None or row[4] is None:
                self._terminal_keys.pop(keyid, None)
                return None, None, NO_CONTACT
            term_row, store_id, terminal_id, region, public_key, since, last = row
            principal = Principal(
                kind="terminal",
                keyid=keyid,
                store_id=store_id,
                terminal_id=terminal_id,
                terminal_row=term_row,
                region=region,
            )
            return self._terminal_key(keyid, public_key), principal, (since, last)
        device = session.get(Device, keyid)
        if device is None or device.revoked_at is not None:
            return None, None, NO_CONTACT
        principal = Principal(
            kind="wallet", keyid=keyid, wallet_id=device.wallet_id, device_id=device.device_id
        )
        return self._public_key(device.public_key), principal, NO_CONTACT

    def _terminal_key(self, keyid: str, raw: bytes) -> Ed25519PublicKey:
        """An active terminal's key as just read from its row, kept for :meth:`precheck`."""
        key = self._public_key(bytes(raw))
        if self._terminal_keys.get(keyid) is not key:
            if len(self._terminal_keys) > PUBLIC_KEY_CACHE:
                self._terminal_keys.clear()
            self._terminal_keys[keyid] = key
        return key

    def _public_key(self, raw: bytes) -> Ed25519PublicKey:
        """Parsed public keys, kept by their bytes (a registered key never changes meaning)."""
        key = self._public_keys.get(raw)
        if key is None:
            if len(self._public_keys) > PUBLIC_KEY_CACHE:
                self._public_keys.clear()
            key = self._public_keys[raw] = keys.public_from_raw(raw)
        return key


db.usual(_ACTIVE_TERMINAL, Nonce)


def _nonce_row(keyid: str, nonce: str, now: int) -> dict[str, Any]:
    return {"keyid": keyid, "nonce": nonce, "created_at": now}


def require_store(principal: Principal, store_id: str) -> None:
    if principal.store_id != store_id:
        raise ApiError(403, "wrong_store", "this terminal belongs to another store")


def require_wallet(principal: Principal, wallet_id: str) -> None:
    if principal.wallet_id != wallet_id:
        raise ApiError(403, "wrong_wallet", "this device belongs to another wallet")
