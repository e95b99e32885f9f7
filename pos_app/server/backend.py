"""The backend's service container: settings, database, keys, and request authentication."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from pos_app.paytoken import httpsig, keys, trust_list
from pos_app.server import db, keystore
from pos_app.server.errors import ApiError, bad_signature
from pos_app.server.models import Device, Nonce, Terminal
from pos_app.server.ratelimit import RateLimiter

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.orm import Session

    from pos_app.server.settings import ServerSettings

# Nonces are kept a little longer than the signature window, then purged.
NONCE_KEEP = 120
PURGE_EVERY = 200


@dataclass(frozen=True)
class Principal:
    """Who signed a request: a terminal (``store_id``/``terminal_id``) or a wallet device."""

    kind: str
    keyid: str
    store_id: str = ""
    terminal_id: str = ""
    wallet_id: str = ""
    device_id: str = ""


@dataclass(frozen=True)
class SignedRequest:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes


class Backend:
    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.engine = db.make_engine(settings.db_url)
        self.sessions = db.session_factory(self.engine)
        self.paths = keystore.KeyPaths(settings.data_dir)
        self.issuer_keys = keystore.IssuerKeyCache()
        self._verifier_cache: tuple[int, object] | None = None
        self._root_public: Ed25519PublicKey | None = None
        self._lock = threading.Lock()
        self._calls = 0
        self.limiter = RateLimiter(settings.rate_limit_per_minute)

    def now(self) -> int:
        return self.settings.clock.now()

    def close(self) -> None:
        self.engine.dispose()

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

    def verifier(self, session: Session) -> object:
        """A PT1 verifier for the newest trust list (rebuilt only when ``seq`` changes)."""
        from pos_app.paytoken.verifier import Verifier

        signed = keystore.latest(session)
        with self._lock:
            if self._verifier_cache is None or self._verifier_cache[0] != signed.seq:
                parsed = trust_list.parse_trust_list(signed.envelope, self.root_public())
                verifier = Verifier(
                    parsed, audience=self.settings.audience, currency=self.settings.currency
                )
                self._verifier_cache = (signed.seq, verifier)
            return self._verifier_cache[1]

    def root_public(self) -> Ed25519PublicKey:
        if self._root_public is None:
            self._root_public = keystore.load_root_public(self.paths)
        return self._root_public

    # --- request authentication ---------------------------------------------------------------

    def authenticate(
        self, request: SignedRequest, *, tag: str, new_key: bytes | None = None
    ) -> Principal:
        """Verify the RFC 9421 signature and burn its nonce; 401 on any failure.

        With *new_key* (enrollment, wallet creation) the request must be signed by
        that not-yet-registered key, named by its kid.
        """
        now = self.now()
        with db.transaction(self.sessions) as session:
            found: dict[str, Principal] = {}

            def resolve(keyid: str) -> Ed25519PublicKey | None:
                key, principal = self._resolve(session, keyid, tag=tag, new_key=new_key)
                if principal is not None:
                    found["p"] = principal
                return key

            try:
                verified = httpsig.verify_request(
                    request.method,
                    request.url,
                    request.headers,
                    request.body,
                    tag=tag,
                    resolve_key=resolve,
                    now=now,
                    max_age=self.settings.signature_max_age,
                    max_future=self.settings.signature_max_future,
                )
            except httpsig.SignatureError as exc:
                raise bad_signature(str(exc)) from None
            self.limiter.check(verified.keyid)
            self._burn_nonce(session, verified.keyid, verified.nonce, now=now)
        return found["p"]

    def _burn_nonce(self, session: Session, keyid: str, nonce: str, *, now: int) -> None:
        try:
            with session.begin_nested():
                session.add(Nonce(keyid=keyid, nonce=nonce, created_at=now))
        except IntegrityError:
            raise bad_signature("nonce already used") from None
        self._calls += 1
        if self._calls % PURGE_EVERY == 0:
            session.execute(delete(Nonce).where(Nonce.created_at < now - NONCE_KEEP))

    def _resolve(
        self, session: Session, keyid: str, *, tag: str, new_key: bytes | None
    ) -> tuple[Ed25519PublicKey | None, Principal | None]:
        if new_key is not None:
            if keyid != keys.kid_hex(new_key):
                return None, None
            kind = "terminal" if tag == httpsig.TAG_TERMINAL else "wallet"
            return keys.public_from_raw(new_key), Principal(kind=kind, keyid=keyid)
        if tag == httpsig.TAG_TERMINAL:
            term = session.scalars(
                select(Terminal).where(Terminal.keyid == keyid, Terminal.status == "active")
            ).first()
            if term is None or term.public_key is None:
                return None, None
            principal = Principal(
                kind="terminal", keyid=keyid, store_id=term.store_id, terminal_id=term.terminal_id
            )
            return keys.public_from_raw(term.public_key), principal
        device = session.get(Device, keyid)
        if device is None or device.revoked_at is not None:
            return None, None
        principal = Principal(
            kind="wallet", keyid=keyid, wallet_id=device.wallet_id, device_id=device.device_id
        )
        return keys.public_from_raw(device.public_key), principal


def require_store(principal: Principal, store_id: str) -> None:
    if principal.store_id != store_id:
        raise ApiError(403, "wrong_store", "this terminal belongs to another store")


def require_wallet(principal: Principal, wallet_id: str) -> None:
    if principal.wallet_id != wallet_id:
        raise ApiError(403, "wrong_wallet", "this device belongs to another wallet")
