"""Manager keys at the till: the backend's proof that a manager, not a cashier, acted.

A manager's signing key is derived from their passphrase each time they act
(``pos_app.paytoken.manager_proof``, scrypt 128 MiB) and dropped afterwards; the
till keeps only the managers' public keys, so it can say "wrong passphrase" at
once, even offline, instead of learning it from a 403 hours later. A copy of the
till's files holds no PIN-sized secret that yields a manager key: the passphrase
must not be a PIN, and the public key only lets an attacker guess passphrases at
one 128 MiB scrypt each.

``pos-app manager-key`` derives the key and records the public key here; the
administrator enrolls the same public key at the backend
(``pos-app backend enroll-manager``). The same passphrase gives the same key on
every till of the store, so a manager enrolls once per store, not per till.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.core.api_contract import FinalizeBody, ManagerApprovalBody, VoidApprovalBody
from pos_app.paytoken import manager_proof
from pos_app.terminal.store import kv
from pos_app.terminal.store.db import LocalStore

KEYRING_KEY = "manager.public_keys"


@dataclass(frozen=True, slots=True)
class ManagerSigner:
    """A manager's unlocked key, for the approval or decision at hand only."""

    manager_id: str
    store_id: str
    key: Ed25519PrivateKey

    def approve_sale(self, body: FinalizeBody, *, reason: str, at: int) -> ManagerApprovalBody:
        """The signed ``manager_approval`` object for this POST /v1/sales body."""
        signed = manager_proof.SaleApproval(
            manager_id=self.manager_id,
            reason=reason,
            sale_id=body["sale_id"],
            store_id=body["store_id"],
            terminal_id=body["terminal_id"],
            total=body["total"],
            currency=body["currency"],
            token_sha256=manager_proof.token_digest(body["token"]),
            approved_at=at,
        )
        return {
            "manager_id": self.manager_id,
            "reason": reason,
            "approved_at": at,
            "signature": manager_proof.sign(self.key, signed),
        }

    def approve_void(
        self, sale_id: str, *, total: int, currency: str, reason: str | None, at: int
    ) -> VoidApprovalBody:
        """The signed ``manager_approval`` of a cancel that voids ``sale_id`` (the backend's
        sale id): a void refunds the wallet, so the backend wants the manager's proof."""
        signed = manager_proof.Void(
            manager_id=self.manager_id,
            reason=reason or "",
            sale_id=sale_id,
            store_id=self.store_id,
            total=total,
            currency=currency,
            approved_at=at,
        )
        return {
            "manager_id": self.manager_id,
            "approved_at": at,
            "signature": manager_proof.sign(self.key, signed),
        }

    def sign_decision(self, sale_id: str, *, decision: str, note: str, at: int) -> str:
        """The signature of a review decision on ``sale_id`` (the backend's sale id)."""
        signed = manager_proof.ReviewDecision(
            reviewer_id=self.manager_id,
            sale_id=sale_id,
            store_id=self.store_id,
            decision=decision,
            note=note,
            decided_at=at,
        )
        return manager_proof.sign(self.key, signed)


class ManagerKeyring:
    """The managers' public keys known to this till (``kv`` row, one JSON object)."""

    def __init__(self, store: LocalStore, *, store_id: str, kdf_n: int | None = None) -> None:
        self._store = store
        self._store_id = store_id
        self._kdf_n = kdf_n  # tests only: the product uses manager_proof.KDF_N

    @property
    def store_id(self) -> str:
        return self._store_id

    def public_keys(self) -> dict[str, str]:
        raw = kv.get(self._store, KEYRING_KEY)
        return dict(json.loads(raw)) if raw is not None else {}

    def add(self, manager_id: str, passphrase: str) -> str:
        """Derive a manager's key from a passphrase strong enough; keep its public key."""
        manager_proof.check_passphrase(passphrase)
        public = manager_proof.public_key_b64(self._derive(manager_id, passphrase))
        known = {**self.public_keys(), manager_id: public}
        with self._store.transaction() as conn:
            kv.put(conn, KEYRING_KEY, json.dumps(known, sort_keys=True))
        return public

    def unlock(self, passphrase: str, *, manager_id: str | None = None) -> ManagerSigner | None:
        """The signer of the manager whose passphrase this is (any, or the one named)."""
        try:
            manager_proof.check_passphrase(passphrase)
        except manager_proof.PassphraseError:
            return None  # no enrolled key can come from it (``add`` refused such ones)
        for known_id, public in sorted(self.public_keys().items()):
            if manager_id is not None and known_id != manager_id:
                continue
            key = self._derive(known_id, passphrase)
            if manager_proof.public_key_b64(key) == public:
                return ManagerSigner(known_id, self._store_id, key)
        return None

    def _derive(self, manager_id: str, passphrase: str) -> Ed25519PrivateKey:
        return manager_proof.derive_key(
            passphrase, store_id=self._store_id, manager_id=manager_id, n=self._kdf_n
        )
