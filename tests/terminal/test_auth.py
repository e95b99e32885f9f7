from pathlib import Path

import pytest

from pos_app.terminal.audit.log import AuditAction, read_entries
from pos_app.terminal.auth import (
    MANAGER_PIN_VERIFIED,
    Authenticator,
    AuthError,
    Role,
    hash_pin,
    verify_pin,
)
from pos_app.terminal.store.db import open_store


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def auth(tmp_path: Path) -> tuple[Authenticator, Clock]:
    clock = Clock()
    store = open_store(tmp_path)
    a = Authenticator(store, max_attempts=5, lock_base_s=30, clock=clock)
    a.add_account("C042", "Sato", Role.CASHIER, "1234")
    a.add_account("M001", "Tanaka", Role.MANAGER, "9999")
    return a, clock


def test_hash_is_salted_scrypt_and_verifies() -> None:
    one, two = hash_pin("1234"), hash_pin("1234")
    assert one.startswith("scrypt$16384$8$1$") and one != two
    assert verify_pin("1234", one) and not verify_pin("1235", one)
    assert not verify_pin("1234", "garbage") and not verify_pin("1234", "md5$1$2$3$4$5")


def test_pin_format_is_checked() -> None:
    for bad in ("123", "123456789", "12a4", "１２３４"):
        with pytest.raises(AuthError):
            hash_pin(bad)


def test_sign_in_and_audit(auth: tuple[Authenticator, Clock]) -> None:
    a, _ = auth
    ok = a.sign_in("C042", "1234")
    assert ok.ok and ok.account is not None and ok.account.name == "Sato"
    bad = a.sign_in("C042", "0000")
    assert not bad.ok and bad.code == "wrong_pin" and bad.attempts_left == 4
    actions = [e.action for e in read_entries(a._store)]
    assert actions == [AuditAction.SIGN_IN, AuditAction.SIGN_IN_FAILED]


def test_five_wrong_pins_lock_the_account_with_growing_delay(
    auth: tuple[Authenticator, Clock],
) -> None:
    a, clock = auth
    for left in (4, 3, 2, 1):
        assert a.sign_in("C042", "0000").attempts_left == left
    locked = a.sign_in("C042", "0000")
    assert locked.code == "locked" and locked.locked_for_s == 30
    # even the right PIN is refused while locked; another account is not locked by it
    assert a.sign_in("C042", "1234").code == "locked"
    assert a.sign_in("M001", "9999").ok
    clock.t += 31
    for _ in range(5):
        result = a.sign_in("C042", "0000")
    assert result.code == "locked" and result.locked_for_s == 60
    clock.t += 61
    assert a.sign_in("C042", "1234").ok
    assert a.account_lockout("C042").lockouts == 0
    assert AuditAction.LOCKOUT in [e.action for e in read_entries(a._store)]


def test_lockout_survives_restart(auth: tuple[Authenticator, Clock], tmp_path: Path) -> None:
    a, clock = auth
    for _ in range(5):
        a.sign_in("C042", "0000")
    again = Authenticator(a._store, clock=clock)
    assert again.sign_in("C042", "1234").code == "locked"


def test_manager_role_and_approval(auth: tuple[Authenticator, Clock]) -> None:
    a, _ = auth
    assert a.sign_in("C042", "1234", role=Role.MANAGER).code == "wrong_role"
    assert not a.verify_manager("1234", for_cashier="C042", detail={}).ok
    ok = a.verify_manager("9999", for_cashier="C042", detail={"sale_id": "s1", "reason": "known"})
    assert ok.ok and ok.account is not None and ok.account.user_id == "M001"
    last = read_entries(a._store)[-1]
    assert last.action == MANAGER_PIN_VERIFIED and last.actor == "M001"
    assert AuditAction.MANAGER_APPROVAL not in [e.action for e in read_entries(a._store)]
    assert last.detail == {"cashier": "C042", "sale_id": "s1", "reason": "known"}


def test_a_till_without_accounts_says_so(tmp_path: Path) -> None:
    a = Authenticator(open_store(tmp_path))
    result = a.sign_in("C042", "1234")
    assert result.code == "no_accounts" and a.lockout().failures == 0


def test_site_manager_pin_from_settings(tmp_path: Path) -> None:
    a = Authenticator(open_store(tmp_path), manager_pin_hash=hash_pin("24680"))
    a.add_account("C042", "Sato", Role.CASHIER, "1234")
    ok = a.verify_manager("24680", for_cashier="C042", detail={"sale_id": "s9"})
    assert ok.ok and ok.account is not None and ok.account.user_id == "manager"
    assert not a.verify_manager("1234", for_cashier="C042", detail={}).ok


def test_sign_out_is_audited(auth: tuple[Authenticator, Clock]) -> None:
    a, _ = auth
    a.sign_out("C042")
    last = read_entries(a._store)[-1]
    assert last.action == AuditAction.SIGN_OUT and last.actor == "C042"
