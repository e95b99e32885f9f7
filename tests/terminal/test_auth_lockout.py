"""The PIN lockout counts per account and per till; no other account's success resets it.

The red-team attack: four wrong manager PINs at the approval prompt, then the
cashier's own correct sign-in, repeated, found manager PIN 0420 in 421 guesses
with no lockout, because one shared counter was cleared by the cashier.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_app.terminal.audit.log import AuditAction, read_entries
from pos_app.terminal.auth import Authenticator, Role
from pos_app.terminal.store.db import open_store

MANAGER_PIN = "0420"


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def till(tmp_path: Path) -> tuple[Authenticator, Clock]:
    clock = Clock()
    a = Authenticator(open_store(tmp_path), max_attempts=5, lock_base_s=30, clock=clock)
    a.add_account("C042", "Sato", Role.CASHIER, "1234")
    a.add_account("C043", "Ito", Role.CASHIER, "5678")
    a.add_account("M001", "Tanaka", Role.MANAGER, MANAGER_PIN)
    return a, clock


def _guesses() -> Iterator[str]:
    for n in range(10_000):
        pin = f"{n:04d}"
        if pin != MANAGER_PIN:
            yield pin
    yield MANAGER_PIN  # worst case for the defender would be earlier; keep the order honest


def test_interleaved_attack_locks_at_the_fifth_manager_guess(
    till: tuple[Authenticator, Clock],
) -> None:
    a, clock = till
    answers = []
    for round_ in range(2):
        for pin in ("0000", "0001", "0002", "0003")[: 4 if round_ == 0 else 1]:
            answers.append(a.verify_manager(pin, for_cashier="C042", detail={}))
            clock.t += 0.05
        assert a.sign_in("C042", "1234").ok  # the cashier's own success
    assert [r.code for r in answers] == ["wrong_pin"] * 4 + ["locked"]
    assert answers[-1].locked_for_s == 30
    # locked: the right manager PIN is refused too, yet the cashier can still work
    assert a.verify_manager(MANAGER_PIN, for_cashier="C042", detail={}).code == "locked"
    assert a.sign_in("C042", "1234").ok
    assert a.account_lockout("M001").lockouts == 1


def test_a_day_of_interleaved_guessing_never_finds_0420(
    till: tuple[Authenticator, Clock],
) -> None:
    """The attacker waits out every lock and signs the cashier in after each four guesses;
    in 24 h the doubling locks allow a few dozen guesses, far from the 421 that found 0420."""
    a, clock = till
    start, tried, found = clock.t, 0, False
    guesses = _guesses()
    while clock.t - start < 86_400:
        for _ in range(4):
            result = a.verify_manager(next(guesses), for_cashier="C042", detail={})
            tried += result.code != "locked"
            found |= result.ok
            if result.code == "locked":
                clock.t += result.locked_for_s  # wait exactly as long as needed
            clock.t += 0.05
        assert a.sign_in("C042", "1234").ok
    assert not found
    assert tried <= 5 * 12  # 5 per lock; 30 s doubling passes 24 h after 12 locks
    lockouts = [e for e in read_entries(a._store) if e.action == AuditAction.LOCKOUT]
    assert len(lockouts) >= 10


def test_wrong_pins_spread_over_accounts_lock_the_till(
    till: tuple[Authenticator, Clock],
) -> None:
    """Four wrong PINs per account stay under each account's limit; the till counts them all,
    and cashiers' correct sign-ins in between do not clear it."""
    a, clock = till
    codes = []
    for user in ("C043", "M001", "NOBODY"):
        for _ in range(4):
            codes.append(a.sign_in(user, "9876").code)
            clock.t += 1
        assert a.sign_in("C042", "1234").ok or codes[-1] == "locked"
    assert codes[:9] == ["wrong_pin"] * 9
    assert codes[9] == "locked"  # the 10th wrong PIN on the till
    assert a.sign_in("C042", "1234").code == "locked"  # the whole till waits
    assert a.lockout().lockouts == 1
    clock.t += 31
    assert a.sign_in("C042", "1234").ok


def test_till_counter_forgets_after_a_quiet_hour(till: tuple[Authenticator, Clock]) -> None:
    a, clock = till
    for _ in range(3):
        for user in ("C042", "C043", "M001"):
            a.sign_in(user, "9876")
        clock.t += 1
    assert a.lockout().failures == 9
    clock.t += 3601
    assert a.sign_in("C043", "9876").code == "wrong_pin"
    assert a.lockout().failures == 1


def test_unknown_ids_share_one_bucket(till: tuple[Authenticator, Clock]) -> None:
    a, _ = till
    codes = [a.sign_in(f"X{i}", "1111").code for i in range(5)]
    assert codes == ["wrong_pin"] * 4 + ["locked"]
    assert a.sign_in("C042", "1234").ok  # real accounts are not locked by it


def test_a_wrong_role_counts_against_that_account(till: tuple[Authenticator, Clock]) -> None:
    a, _ = till
    for _ in range(4):
        assert a.sign_in("C042", "1234", role=Role.MANAGER).code == "wrong_role"
    assert a.sign_in("C042", "1234", role=Role.MANAGER).code == "locked"


def test_the_old_shared_counter_is_read_as_the_till_counter(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    clock = Clock()
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO kv (key, value) VALUES ('auth.lockout', ?)",
            ('{"failures": 2, "lockouts": 1, "locked_until": %f}' % (clock.t + 10),),
        )
    a = Authenticator(store, clock=clock)
    a.add_account("C042", "Sato", Role.CASHIER, "1234")
    assert a.sign_in("C042", "1234").code == "locked"
    assert a.lockout().lockouts == 1
