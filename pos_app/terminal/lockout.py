"""Wrong-PIN counting for the till: one counter per account and one for the whole till.

A red-team trial found manager PIN 0420 in 421 guesses because one shared counter
was reset by a cashier's own correct sign-in (four wrong manager PINs, one good
cashier sign-in, repeat). So:

* every account has its own counter, reset only by that account's own correct PIN;
  ``max_attempts`` wrong PINs lock that account, the delay doubling with each lockout;
* the till has a counter too, reset by nobody's success: it forgets only after
  ``till_quiet_s`` without any wrong PIN. ``till_max_attempts`` wrong PINs across all
  accounts lock the whole till, so cycling through many account ids does not buy
  guesses either.

Pure bookkeeping (no storage, no clock): ``auth.Authenticator`` loads and saves the
``LockoutBook`` as one JSON document in the store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

# Wrong PINs for an id that is no account all count against one bucket: guessing ids
# does not open fresh counters (the till counter also sees them).
UNKNOWN_ACCOUNT = "?"


@dataclass(frozen=True, slots=True)
class LockoutState:
    failures: int = 0  # wrong PINs since the last lockout or success
    lockouts: int = 0  # lockouts since the last success (the delay doubles with each)
    locked_until: float = 0.0
    last_failure_at: float = 0.0


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    max_attempts: int = 5
    lock_base_s: int = 30
    till_max_attempts: int = 10
    till_quiet_s: int = 3600

    def delay(self, lockouts: int) -> int:
        return int(self.lock_base_s * 2 ** min(lockouts, 20))


@dataclass(frozen=True, slots=True)
class Failure:
    """What one wrong PIN did: the new book and, if it locked something, for how long."""

    book: LockoutBook
    locked_for_s: int
    attempts_left: int


@dataclass(frozen=True, slots=True)
class LockoutBook:
    till: LockoutState = LockoutState()
    accounts: dict[str, LockoutState] = field(default_factory=dict)

    def account(self, user_id: str) -> LockoutState:
        return self.accounts.get(user_id, LockoutState())

    def locked_for(self, user_ids: tuple[str, ...], *, now: float) -> float:
        """Seconds until the till and every given account are free (0: not locked)."""
        waits = [
            self.till.locked_until - now,
            *(self.account(u).locked_until - now for u in user_ids),
        ]
        return max(0.0, *waits)

    def success(self, user_id: str) -> LockoutBook:
        """The account's own correct PIN clears its own counter, never the till's."""
        accounts = {k: v for k, v in self.accounts.items() if k != user_id}
        return replace(self, accounts=accounts)

    def failure(self, user_ids: tuple[str, ...], *, now: float, policy: LockoutPolicy) -> Failure:
        """One wrong PIN, counted against the till and each account it may have targeted."""
        till = self.till
        if now - till.last_failure_at > policy.till_quiet_s and till.locked_until <= now:
            till = LockoutState()  # a long quiet spell: the till forgets old mistakes
        till, till_lock = _count(till, now=now, limit=policy.till_max_attempts, policy=policy)
        accounts = dict(self.accounts)
        lock, left = till_lock, policy.till_max_attempts - till.failures
        for user_id in user_ids:
            state, locked = _count(
                self.account(user_id), now=now, limit=policy.max_attempts, policy=policy
            )
            accounts[user_id] = state
            lock = max(lock, locked)
            left = min(left, policy.max_attempts - state.failures)
        book = LockoutBook(till=till, accounts=accounts)
        return Failure(book, locked_for_s=lock, attempts_left=0 if lock else max(0, left))

    def as_json(self) -> dict[str, Any]:
        return {
            "till": asdict(self.till),
            "accounts": {k: asdict(v) for k, v in self.accounts.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LockoutBook:
        if "till" not in data:  # the single shared counter of earlier versions
            return cls(till=_state(data))
        accounts = {str(k): _state(v) for k, v in dict(data.get("accounts") or {}).items()}
        return cls(till=_state(data["till"]), accounts=accounts)


def _state(data: Any) -> LockoutState:
    known = {
        k: data[k] for k in ("failures", "lockouts", "locked_until", "last_failure_at") if k in data
    }
    return LockoutState(**known)


def _count(
    state: LockoutState, *, now: float, limit: int, policy: LockoutPolicy
) -> tuple[LockoutState, int]:
    state = replace(state, failures=state.failures + 1, last_failure_at=now)
    if state.failures < limit:
        return state, 0
    delay = policy.delay(state.lockouts)
    return LockoutState(0, state.lockouts + 1, now + delay, now), delay
