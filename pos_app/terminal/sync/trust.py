"""The terminal's trust list: pinned root, stored list, rollback rules, verifier.

The list is kept in the local store (``kv``), so a terminal that restarts
offline still verifies tokens. A candidate list (from enrollment, a refresh or
any contact) replaces the stored one only under PT1 section 3: root signature
valid and ``seq`` greater (an equal ``seq`` must be byte-identical). Every
replacement and every refusal is written to the audit log.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from pos_app.core.errors import ConfigError
from pos_app.paytoken import keys
from pos_app.paytoken.errors import KeyFileError, TrustListInvalid
from pos_app.paytoken.trust_list import (
    ReplaceDecision,
    TrustList,
    parse_trust_list,
    replace_if_newer,
)
from pos_app.paytoken.verifier import Verifier
from pos_app.terminal.audit.log import AuditAction, append_audit
from pos_app.terminal.backend.client import BackendClient
from pos_app.terminal.settings.schema import Settings
from pos_app.terminal.store import kv
from pos_app.terminal.store.db import LocalStore

log = logging.getLogger(__name__)

KV_ENVELOPE = "trust_list.envelope"
KV_FETCHED_AT = "trust_list.fetched_at"
KV_ROOT = "trust_list.root_key"
ACTOR = "terminal"


def load_root_key(value: str) -> Ed25519PublicKey:
    """The pinned root key from a setting: a PEM path or base64url of the raw key."""
    text = value.strip()
    if not text:
        raise ConfigError(
            "no trust-list root key is pinned: set [backend] trust_root_key to the root "
            "public key file your payment operator gave you (or pass --root-key)"
        )
    if Path(text).is_file():
        try:
            return keys.load_public_key(text)
        except KeyFileError as exc:
            raise ConfigError(f"[backend] trust_root_key: {exc.message}") from None
    try:
        return keys.public_from_raw(keys.b64url_decode(text))
    except ValueError:
        raise ConfigError(
            f"[backend] trust_root_key = {text!r} is neither a readable PEM file nor "
            "base64url of a 32-byte Ed25519 key"
        ) from None


class TrustListManager:
    """Thread-safe holder of the verified list, persisted in the local store."""

    def __init__(
        self,
        store: LocalStore,
        root_public_key: Ed25519PublicKey,
        *,
        audience: str,
        currency: str,
        stale_grace_s: int,
    ) -> None:
        self._store = store
        self._root = root_public_key
        self._audience, self._currency = audience, currency
        self.stale_grace_s = stale_grace_s
        self._lock = threading.Lock()
        self._verifier: Verifier | None = None
        self._current = self._load()

    @property
    def root_public_key(self) -> Ed25519PublicKey:
        return self._root

    @property
    def current(self) -> TrustList | None:
        return self._current

    def verifier(self) -> Verifier | None:
        """A verifier for the current list (rebuilt only when the list changes)."""
        with self._lock:
            current = self._current
            if current is None:
                return None
            if self._verifier is None or self._verifier.trust_list is not current:
                self._verifier = Verifier(current, audience=self._audience, currency=self._currency)
            return self._verifier

    def is_stale(self, now: int) -> bool:
        current = self._current
        return current is None or current.is_stale(now, self.stale_grace_s)

    def age_s(self, now: int) -> int | None:
        current = self._current
        return None if current is None else max(0, now - current.issued_at)

    def offer(self, envelope: bytes, *, now: int, source: str) -> ReplaceDecision | None:
        """Offer a candidate envelope; None when it is invalid (the current list stays)."""
        try:
            candidate = parse_trust_list(envelope, self._root)
        except TrustListInvalid as exc:
            log.warning("trust list from %s refused: %s", source, exc.message)
            self._audit_rejected(now, source=source, why=f"invalid: {exc.message}")
            return None
        with self._lock:
            decision = replace_if_newer(self._current, candidate)
            if decision.replaced:
                self._persist(envelope, decision, now=now, source=source)
                self._current = candidate
        if decision.why in ("rollback", "same_seq_different_content"):
            log.warning(
                "trust list seq %d from %s refused: %s", candidate.seq, source, decision.why
            )
            self._audit_rejected(now, source=source, why=decision.why, seq=candidate.seq)
        return decision

    def refresh(self, client: BackendClient, *, now: int) -> ReplaceDecision | None:
        """Fetch the backend's list and offer it (raises BackendError when unreachable)."""
        envelope = client.trust_list()
        decision = self.offer(envelope, now=now, source="refresh")
        with self._store.transaction() as conn:
            kv.put(conn, KV_FETCHED_AT, str(now))
        return decision

    def last_fetched_at(self) -> int | None:
        value = kv.get_text(self._store, KV_FETCHED_AT)
        return int(value) if value is not None else None

    def _persist(
        self, envelope: bytes, decision: ReplaceDecision, *, now: int, source: str
    ) -> None:
        detail = {"seq": decision.current.seq, "why": decision.why, "source": source}
        detail["ignored_entries"] = len(decision.current.ignored)
        with self._store.transaction() as conn:
            kv.put(conn, KV_ENVELOPE, envelope)
            append_audit(
                conn, at=now, actor=ACTOR, action=AuditAction.TRUST_LIST_UPDATED, detail=detail
            )

    def _audit_rejected(self, now: int, *, source: str, why: str, seq: int | None = None) -> None:
        detail: dict[str, object] = {"source": source, "why": why[:300]}
        if seq is not None:
            detail["seq"] = seq
        append_audit(
            self._store, at=now, actor=ACTOR, action=AuditAction.TRUST_LIST_REJECTED, detail=detail
        )

    def _load(self) -> TrustList | None:
        raw = kv.get(self._store, KV_ENVELOPE)
        if raw is None:
            return None
        try:
            return parse_trust_list(raw if isinstance(raw, bytes) else raw.encode(), self._root)
        except TrustListInvalid as exc:
            # A stored list that no longer verifies (root key changed in the settings): start
            # without one; the next refresh installs the backend's list.
            log.error("stored trust list does not verify with the pinned root: %s", exc.message)
            return None


def pin_root(conn: sqlite3.Connection, root_public_key: Ed25519PublicKey) -> None:
    """Remember the root enrollment trusted, so the till runs without the setting."""
    value = keys.b64url_encode(keys.public_raw(root_public_key))
    kv.put(conn, KV_ROOT, value)


def pinned_root(store: LocalStore) -> str:
    return kv.get_text(store, KV_ROOT) or ""


def trust_from_settings(
    store: LocalStore, settings: Settings, *, root_key: str | None = None
) -> TrustListManager:
    """The manager for this terminal: ``root_key``, else the setting, else enrollment's root."""
    return TrustListManager(
        store,
        load_root_key(root_key or settings.backend.trust_root_key or pinned_root(store)),
        audience=settings.terminal.audience,
        currency=settings.terminal.currency,
        stale_grace_s=settings.payment.trust_list_stale_grace_s,
    )


def envelope_bytes(obj: object) -> bytes:
    """The enrollment response carries the envelope as a JSON object; re-serialize it."""
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")
