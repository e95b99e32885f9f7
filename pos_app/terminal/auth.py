"""Cashier and manager PINs: memory-hard hashing, sign-in and lockout.

PINs are short, so the hash must be slow and memory-hard to make an offline
guess of all 10^4..10^8 PINs expensive: scrypt (standard library) with
N=2^14, r=8 (16 MiB per guess). Wrong PINs count per account and per till
(``lockout.py``): ``max_attempts`` wrong PINs lock that account for
``lock_base_s``, doubling with each further lockout until that account's own
correct PIN resets it; ``till_max_attempts`` wrong PINs across all accounts
lock the whole till, and no one's success resets that counter. Time is injected.

Accounts live in the local store's ``kv`` table (one JSON document), the
lockout state next to them, so a restart does not reset the count. Every
sign-in, failure, lockout and manager approval is written to the audit log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum

from pos_app.core.errors import PosError
from pos_app.paytoken import keys
from pos_app.terminal.audit.log import AuditAction, append_audit
from pos_app.terminal.lockout import UNKNOWN_ACCOUNT, LockoutBook, LockoutPolicy, LockoutState
from pos_app.terminal.manager_keys import ManagerKeyring, ManagerSigner
from pos_app.terminal.pin_pepper import load_pepper
from pos_app.terminal.store import kv
from pos_app.terminal.store.db import LocalStore

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
ACCOUNTS_KEY = "auth.accounts"
LOCKOUT_KEY = "auth.lockout"
MIN_PIN, MAX_PIN = 4, 8
# The PIN check at the till; the approval itself is logged by the checkout service as
# AuditAction.MANAGER_APPROVAL (one entry per approval, which the shift report counts).
MANAGER_PIN_VERIFIED = "manager_pin_verified"


class AuthError(PosError):
    code = "auth_error"


class Role(StrEnum):
    CASHIER = "cashier"
    MANAGER = "manager"


PEPPERED = "scrypt-pep"  # scrypt of HMAC-SHA256(pepper, PIN): useless without the pepper file


def hash_pin(pin: str, *, salt: bytes | None = None, n: int = SCRYPT_N, pepper: bytes = b"") -> str:
    """``scheme$N$r$p$salt$hash`` (base64url); a fresh random salt unless given.

    With a pepper (pin_pepper.py) the scheme is ``scrypt-pep``; without, ``scrypt``."""
    check_pin_format(pin)
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = keys.scrypt(_secret(pin, pepper), salt, n=n, r=SCRYPT_R, p=SCRYPT_P, max_mib=64)
    scheme = PEPPERED if pepper else "scrypt"
    return "$".join((scheme, str(n), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)))


def _secret(pin: str, pepper: bytes) -> bytes:
    return hmac.new(pepper, pin.encode(), hashlib.sha256).digest() if pepper else pin.encode()


def verify_pin(pin: str, encoded: str, *, pepper: bytes = b"") -> bool:
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme not in {"scrypt", PEPPERED} or (scheme == PEPPERED and not pepper):
            return False
        expected = _unb64(digest)
        actual = keys.scrypt(
            _secret(pin, pepper if scheme == PEPPERED else b""),
            _unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            max_mib=64,
            length=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def check_pin_format(pin: str) -> None:
    if not (pin.isascii() and pin.isdigit() and MIN_PIN <= len(pin) <= MAX_PIN):
        raise AuthError(f"a PIN is {MIN_PIN} to {MAX_PIN} digits", code="bad_pin_format")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class StaffAccount:
    user_id: str
    name: str
    role: Role
    pin_hash: str


@dataclass(frozen=True, slots=True)
class SignInResult:
    ok: bool
    account: StaffAccount | None = None
    attempts_left: int = 0
    locked_for_s: int = 0  # >0: locked, try again after this many seconds
    code: str = ""  # "", wrong_pin, locked, wrong_role, no_accounts
    # A manager's unlocked key (verify_manager with a keyring): the backend's proof.
    signer: ManagerSigner | None = None


class Authenticator:
    """Checks PINs against the accounts; the caller runs it off the GUI thread (scrypt)."""

    def __init__(
        self,
        store: LocalStore,
        *,
        max_attempts: int = 5,
        lock_base_s: int = 30,
        till_max_attempts: int | None = None,
        manager_pin_hash: str = "",
        keyring: ManagerKeyring | None = None,
        clock: Callable[[], float] = time.time,
        pepper: bytes | None = None,
    ) -> None:
        self._store = store
        # With managers' keys on this till, an approval takes the manager's passphrase
        # and yields their signature (docs/BACKEND.md "Manager proofs"), not a PIN check.
        self._keyring = keyring
        # Kept next to the database, never in it (pin_pepper.py).
        self._pepper = pepper if pepper is not None else load_pepper(store.path.parent)
        # [security] manager_pin_hash: a site-wide manager PIN from the config file,
        # accepted besides the manager accounts (actor "manager" in the audit log).
        self._site_manager = (
            StaffAccount("manager", "Manager", Role.MANAGER, manager_pin_hash)
            if manager_pin_hash
            else None
        )
        # The till-wide limit sits above one account's so a cashier's own typos do not
        # lock colleagues out, yet spreading guesses over accounts stops soon.
        self._policy = LockoutPolicy(
            max_attempts=max_attempts,
            lock_base_s=lock_base_s,
            till_max_attempts=till_max_attempts or 2 * max_attempts,
        )
        self._max = max_attempts
        self._clock = clock

    # accounts ----------------------------------------------------------------

    def accounts(self) -> tuple[StaffAccount, ...]:
        raw = kv.get(self._store, ACCOUNTS_KEY)
        if raw is None:
            return ()
        data = json.loads(raw)
        return tuple(
            StaffAccount(a["user_id"], a["name"], Role(a["role"]), a["pin_hash"]) for a in data
        )

    def add_account(self, user_id: str, name: str, role: Role, pin: str) -> StaffAccount:
        account = StaffAccount(user_id, name, role, hash_pin(pin, pepper=self._pepper))
        others = [a for a in self.accounts() if a.user_id != user_id]
        self._put(ACCOUNTS_KEY, [asdict(a) for a in [*others, account]])
        return account

    # sign-in -----------------------------------------------------------------

    def lockout(self) -> LockoutState:
        """The till-wide counter (every account's wrong PINs)."""
        return self._book().till

    def account_lockout(self, user_id: str) -> LockoutState:
        return self._book().account(user_id)

    def sign_in(self, user_id: str, pin: str, *, role: Role = Role.CASHIER) -> SignInResult:
        """A cashier signs in (a manager may sign in as a cashier too)."""
        result = self._check(user_id, pin, role=role)
        if result.ok and result.account is not None:
            self._audit(AuditAction.SIGN_IN, result.account.user_id, {"role": role.value})
            stored = result.account.pin_hash
            if result.signer is None and stored and not stored.startswith(PEPPERED + "$"):
                # A hash from before the pepper: replace it now that the PIN is known
                # (never for a manager key's passphrase: there is no PIN hash to replace).
                self.add_account(user_id, result.account.name, result.account.role, pin)
        return result

    def sign_out(self, user_id: str, *, why: str = "cashier") -> None:
        self._audit(AuditAction.SIGN_OUT, user_id, {"why": why})

    def verify_manager(self, pin: str, *, for_cashier: str, detail: dict[str, str]) -> SignInResult:
        """A manager's PIN at the till (approval); the cashier stays signed in.

        Any manager account whose PIN matches is accepted; the check is logged. A wrong
        PIN counts against every manager it may have been aimed at (and the till), never
        against the cashier, whose own sign-in must not clear it."""
        if self._keyring is not None and self._keyring.public_keys():
            return self._unlock_manager(self._keyring, pin, for_cashier=for_cashier, detail=detail)
        now = self._clock()
        book = self._book()
        site = (self._site_manager,) if self._site_manager else ()
        managers = tuple(a for a in (*self.accounts(), *site) if a.role is Role.MANAGER)
        free = tuple(m for m in managers if book.locked_for((m.user_id,), now=now) == 0)
        if book.till.locked_until > now or (managers and not free):
            return self._locked_result(book, tuple(m.user_id for m in managers), now=now)
        for account in free:
            if verify_pin(pin, account.pin_hash, pepper=self._pepper):
                self._save(book.success(account.user_id))
                self._audit(
                    MANAGER_PIN_VERIFIED,
                    account.user_id,
                    {"cashier": for_cashier, **detail},
                )
                return SignInResult(True, account)
        targets = tuple(m.user_id for m in free) or (UNKNOWN_ACCOUNT,)
        return self._fail(book, targets, actor=for_cashier, now=now, code="wrong_pin")

    def _unlock_manager(
        self,
        keyring: ManagerKeyring,
        passphrase: str,
        *,
        for_cashier: str,
        detail: dict[str, str],
        only: str | None = None,
    ) -> SignInResult:
        """The passphrase unlocks a manager's key; wrong ones count like wrong PINs."""
        now = self._clock()
        book = self._book()
        ids = tuple(i for i in sorted(keyring.public_keys()) if only in (None, i))
        free = tuple(i for i in ids if book.locked_for((i,), now=now) == 0)
        if book.till.locked_until > now or not free:
            return self._locked_result(book, ids, now=now)
        signer = next(
            (s for i in free if (s := keyring.unlock(passphrase, manager_id=i)) is not None), None
        )
        if signer is None:
            return self._fail(book, free, actor=for_cashier, now=now, code="wrong_pin")
        self._save(book.success(signer.manager_id))
        self._audit(
            MANAGER_PIN_VERIFIED,
            signer.manager_id,
            {"cashier": for_cashier, "proof": "manager_key", **detail},
        )
        local = next((a for a in self.accounts() if a.user_id == signer.manager_id), None)
        account = local or StaffAccount(signer.manager_id, signer.manager_id, Role.MANAGER, "")
        return SignInResult(True, account, signer=signer)

    def _check(self, user_id: str, pin: str, *, role: Role) -> SignInResult:
        keyring = self._keyring
        if role is Role.MANAGER and keyring is not None and user_id in keyring.public_keys():
            # Manager mode with a manager key: the passphrase unlocks it for the session.
            return self._unlock_manager(
                keyring, pin, for_cashier=user_id, detail={"mode": "manager"}, only=user_id
            )
        accounts = self.accounts()
        if not accounts:
            return SignInResult(False, code="no_accounts")  # setup problem, not a wrong PIN
        now = self._clock()
        book = self._book()
        account = next((a for a in accounts if a.user_id == user_id), None)
        bucket = account.user_id if account is not None else UNKNOWN_ACCOUNT
        if book.locked_for((bucket,), now=now) > 0:
            return self._locked_result(book, (bucket,), now=now)
        if account is None or not verify_pin(pin, account.pin_hash, pepper=self._pepper):
            return self._fail(book, (bucket,), actor=user_id, now=now, code="wrong_pin")
        if role is Role.MANAGER and account.role is not Role.MANAGER:
            return self._fail(book, (bucket,), actor=user_id, now=now, code="wrong_role")
        book = book.success(account.user_id)
        self._save(book)
        left = min(self._max, self._policy.till_max_attempts - book.till.failures)
        return SignInResult(True, account, attempts_left=left)

    @staticmethod
    def _locked_result(book: LockoutBook, user_ids: tuple[str, ...], *, now: float) -> SignInResult:
        # With several targets (manager approval) the wait is until the first frees up.
        waits = [book.locked_for((u,), now=now) for u in user_ids] or [0.0]
        wait = max(book.till.locked_until - now, min(waits))
        return SignInResult(False, locked_for_s=max(1, round(wait)), code="locked")

    def _fail(
        self, book: LockoutBook, targets: tuple[str, ...], *, actor: str, now: float, code: str
    ) -> SignInResult:
        failed = book.failure(targets, now=now, policy=self._policy)
        self._save(failed.book)
        self._audit(AuditAction.SIGN_IN_FAILED, actor or "?", {"reason": code})
        if not failed.locked_for_s:
            return SignInResult(False, attempts_left=failed.attempts_left, code=code)
        self._audit(
            AuditAction.LOCKOUT,
            actor or "?",
            {"seconds": failed.locked_for_s, "accounts": list(targets)},
        )
        return SignInResult(False, locked_for_s=failed.locked_for_s, code="locked")

    def _book(self) -> LockoutBook:
        raw = kv.get(self._store, LOCKOUT_KEY)
        return LockoutBook.from_json(json.loads(raw)) if raw is not None else LockoutBook()

    def _save(self, book: LockoutBook) -> None:
        self._put(LOCKOUT_KEY, book.as_json())

    # storage -----------------------------------------------------------------

    def _put(self, key: str, value: object) -> None:
        with self._store.transaction() as conn:
            kv.put(conn, key, json.dumps(value))

    def _audit(self, action: str, actor: str, detail: dict[str, object]) -> None:
        append_audit(self._store, at=int(self._clock()), actor=actor, action=action, detail=detail)
