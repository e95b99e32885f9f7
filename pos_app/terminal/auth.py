"""Cashier and manager PINs: memory-hard hashing, sign-in and lockout.

PINs are short, so the hash must be slow and memory-hard to make an offline
guess of all 10^4..10^8 PINs expensive: scrypt (standard library) with
N=2^14, r=8 (16 MiB per guess). Wrong PINs count per terminal, not per
account, so cycling through cashier ids does not buy more guesses. After
``max_attempts`` wrong PINs sign-in locks for ``lock_base_s``, doubling with
each further lockout until a correct PIN resets it. Time is injected.

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
from dataclasses import asdict, dataclass, replace
from enum import StrEnum

from pos_app.core.errors import PosError
from pos_app.terminal.audit.log import AuditAction, append_audit
from pos_app.terminal.pin_pepper import load_pepper
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
    digest = hashlib.scrypt(
        _secret(pin, pepper),
        salt=salt,
        n=n,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=64 * 1024 * 1024,
        dklen=32,
    )
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
        actual = hashlib.scrypt(
            _secret(pin, pepper if scheme == PEPPERED else b""),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=64 * 1024 * 1024,
            dklen=len(expected),
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
class Account:
    user_id: str
    name: str
    role: Role
    pin_hash: str


@dataclass(frozen=True, slots=True)
class LockoutState:
    failures: int = 0  # wrong PINs since the last lockout or success
    lockouts: int = 0  # lockouts since the last success (the delay doubles with each)
    locked_until: float = 0.0


@dataclass(frozen=True, slots=True)
class SignInResult:
    ok: bool
    account: Account | None = None
    attempts_left: int = 0
    locked_for_s: int = 0  # >0: locked, try again after this many seconds
    code: str = ""  # "", wrong_pin, locked, wrong_role, no_accounts


class Authenticator:
    """Checks PINs against the accounts; the caller runs it off the GUI thread (scrypt)."""

    def __init__(
        self,
        store: LocalStore,
        *,
        max_attempts: int = 5,
        lock_base_s: int = 30,
        manager_pin_hash: str = "",
        clock: Callable[[], float] = time.time,
        pepper: bytes | None = None,
    ) -> None:
        self._store = store
        # Kept next to the database, never in it (pin_pepper.py).
        self._pepper = pepper if pepper is not None else load_pepper(store.path.parent)
        # [security] manager_pin_hash: a site-wide manager PIN from the config file,
        # accepted besides the manager accounts (actor "manager" in the audit log).
        self._site_manager = (
            Account("manager", "Manager", Role.MANAGER, manager_pin_hash)
            if manager_pin_hash
            else None
        )
        self._max = max_attempts
        self._base = lock_base_s
        self._clock = clock

    # accounts ----------------------------------------------------------------

    def accounts(self) -> tuple[Account, ...]:
        rows = self._store.query("SELECT value FROM kv WHERE key = ?", (ACCOUNTS_KEY,))
        if not rows:
            return ()
        data = json.loads(rows[0][0])
        return tuple(Account(a["user_id"], a["name"], Role(a["role"]), a["pin_hash"]) for a in data)

    def add_account(self, user_id: str, name: str, role: Role, pin: str) -> Account:
        account = Account(user_id, name, role, hash_pin(pin, pepper=self._pepper))
        others = [a for a in self.accounts() if a.user_id != user_id]
        self._put(ACCOUNTS_KEY, [asdict(a) for a in [*others, account]])
        return account

    # sign-in -----------------------------------------------------------------

    def lockout(self) -> LockoutState:
        rows = self._store.query("SELECT value FROM kv WHERE key = ?", (LOCKOUT_KEY,))
        return LockoutState(**json.loads(rows[0][0])) if rows else LockoutState()

    def sign_in(self, user_id: str, pin: str, *, role: Role = Role.CASHIER) -> SignInResult:
        """A cashier signs in (a manager may sign in as a cashier too)."""
        result = self._check(user_id, pin, role=role)
        if result.ok and result.account is not None:
            self._audit(AuditAction.SIGN_IN, result.account.user_id, {"role": role.value})
            if not result.account.pin_hash.startswith(PEPPERED + "$"):
                # A hash from before the pepper: replace it now that the PIN is known.
                self.add_account(user_id, result.account.name, result.account.role, pin)
        return result

    def sign_out(self, user_id: str, *, why: str = "cashier") -> None:
        self._audit(AuditAction.SIGN_OUT, user_id, {"why": why})

    def verify_manager(self, pin: str, *, for_cashier: str, detail: dict[str, str]) -> SignInResult:
        """A manager's PIN at the till (approval); the cashier stays signed in.

        Any manager account whose PIN matches is accepted; the check is logged."""
        now = self._clock()
        locked = self._locked(now)
        if locked is not None:
            return locked
        site = (self._site_manager,) if self._site_manager else ()
        for account in (*self.accounts(), *site):
            if account.role is Role.MANAGER and verify_pin(
                pin, account.pin_hash, pepper=self._pepper
            ):
                self._put(LOCKOUT_KEY, asdict(LockoutState()))
                self._audit(
                    MANAGER_PIN_VERIFIED,
                    account.user_id,
                    {"cashier": for_cashier, **detail},
                )
                return SignInResult(True, account)
        return self._fail(for_cashier, now, code="wrong_pin")

    def _check(self, user_id: str, pin: str, *, role: Role) -> SignInResult:
        if not self.accounts():
            return SignInResult(False, code="no_accounts")  # setup problem, not a wrong PIN
        now = self._clock()
        locked = self._locked(now)
        if locked is not None:
            return locked
        account = next((a for a in self.accounts() if a.user_id == user_id), None)
        if account is None or not verify_pin(pin, account.pin_hash, pepper=self._pepper):
            return self._fail(user_id, now, code="wrong_pin")
        if role is Role.MANAGER and account.role is not Role.MANAGER:
            return self._fail(user_id, now, code="wrong_role")
        self._put(LOCKOUT_KEY, asdict(LockoutState()))
        return SignInResult(True, account, attempts_left=self._max)

    def _locked(self, now: float) -> SignInResult | None:
        state = self.lockout()
        if state.locked_until > now:
            return SignInResult(
                False, locked_for_s=max(1, round(state.locked_until - now)), code="locked"
            )
        return None

    def _fail(self, user_id: str, now: float, *, code: str) -> SignInResult:
        state = self.lockout()
        state = replace(state, failures=state.failures + 1)
        self._audit(AuditAction.SIGN_IN_FAILED, user_id or "?", {"reason": code})
        if state.failures < self._max:
            self._put(LOCKOUT_KEY, asdict(state))
            return SignInResult(False, attempts_left=self._max - state.failures, code=code)
        delay = self._base * 2**state.lockouts
        state = LockoutState(0, state.lockouts + 1, now + delay)
        self._put(LOCKOUT_KEY, asdict(state))
        self._audit(AuditAction.LOCKOUT, user_id or "?", {"seconds": delay})
        return SignInResult(False, locked_for_s=delay, code="locked")

    # storage -----------------------------------------------------------------

    def _put(self, key: str, value: object) -> None:
        with self._store.transaction() as conn:
            conn.execute(
                "INSERT INTO kv (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    def _audit(self, action: str, actor: str, detail: dict[str, object]) -> None:
        append_audit(self._store, at=int(self._clock()), actor=actor, action=action, detail=detail)
