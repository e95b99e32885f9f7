"""Age check (20+) at the till: the checkout refuses payment until "20 or older?" is answered,
and keeps who answered, how and when with the sale and in the audit chain."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pos_app.core.age_check import (
    AgeCheckError,
    AgeCheckMethod,
    AgeCheckPolicy,
    AgeCheckResult,
    check_method,
    may_cashier_confirm,
    needs_age_check,
    without_restricted,
)
from pos_app.core.catalog import Product
from pos_app.core.categories import Category
from pos_app.terminal.audit.log import AuditAction, read_entries, verify_store
from pos_app.terminal.checkout.types import AgeAnswer, PaymentPhase
from pos_app.terminal.errors import CheckoutError
from pos_app.terminal.services import TerminalServices
from pos_app.terminal.store.db import DB_NAME, LocalStore, open_store
from tests.terminal.checkout_support import TEA, Backend, basket, offline_till

pytestmark = pytest.mark.age_check

FIXTURES = Path(__file__).parent / "fixtures"
BEER = Product("4901553300707", "Beer 350ml can", "ビール", Category.ALCOHOL, 228, 10, True)
SMOKES = Product("4901234567019", "Cigarettes", "たばこ", Category.TOBACCO, 600, 10, True)
DISPLAY = AgeCheckMethod.CUSTOMER_DISPLAY
CASHIER = AgeCheckMethod.CASHIER_VISUAL


def age_answer(confirmed: bool, method: AgeCheckMethod, *, attached: bool) -> AgeAnswer:
    """Cashier C042's till took this answer."""
    return AgeAnswer(confirmed, method, "C042", display_attached=attached)


def age_record(store: LocalStore, sale_id: str) -> dict[str, object] | None:
    row = store.query("SELECT age_check FROM sales WHERE sale_id = ?", (sale_id,))[0]
    return None if row[0] is None else json.loads(row[0])


# the rule (core) --------------------------------------------------------------------------


def test_only_baskets_with_tobacco_or_alcohol_need_the_check() -> None:
    assert not needs_age_check(basket((TEA, 3)))
    assert needs_age_check(basket((TEA, 1), (BEER, 1)))
    assert without_restricted(basket((TEA, 1), (BEER, 2), (SMOKES, 1))) == basket((TEA, 1))


@pytest.mark.parametrize(
    ("method", "attached", "cashier_may", "allowed"),
    [
        (DISPLAY, True, False, True),
        (DISPLAY, False, True, False),  # nobody pressed a button on a screen that is not there
        (CASHIER, True, True, False),  # with a display, the customer answers
        (CASHIER, False, True, True),
        (CASHIER, False, False, False),  # the store requires the display
    ],
)
def test_who_may_answer(
    method: AgeCheckMethod, attached: bool, cashier_may: bool, allowed: bool
) -> None:
    policy = AgeCheckPolicy(cashier_may_confirm=cashier_may)
    if allowed:
        check_method(policy, method, display_attached=attached)
    else:
        with pytest.raises(AgeCheckError):
            check_method(policy, method, display_attached=attached)
    if method is CASHIER:
        assert may_cashier_confirm(policy, display_attached=attached) is allowed


# the checkout service -----------------------------------------------------------------------


def test_payment_cannot_start_before_the_customer_confirms_on_the_display(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path)
    till = offline_till(store)
    sale = till.start_payment(basket((BEER, 2), (TEA, 1)), cashier_id="C042")
    assert sale.phase is PaymentPhase.AGE_CHECK
    with pytest.raises(CheckoutError, match="age .*not confirmed"):
        till.submit_token(sale.sale_id, "PT1:ANY")
    assert store.query("SELECT state FROM sales")[0][0] == "open"

    update = till.answer_age_check(
        sale.sale_id,
        AgeAnswer(confirmed=True, method=DISPLAY, cashier_id="C042", display_attached=True),
    )
    assert update.phase is PaymentPhase.WAITING_FOR_CODE
    assert update.age_check is not None
    assert (update.age_check.result, update.age_check.confirmed_by) == (
        AgeCheckResult.CONFIRMED,
        "customer",
    )
    assert age_record(store, sale.sale_id) == {
        "result": "confirmed",
        "method": "customer_display",
        "confirmed_by": "customer",
        "at": 1_795_000_000,
    }
    entry = read_entries(store)[-1]
    assert (entry.action, entry.actor) == (AuditAction.AGE_CHECK, "customer")
    assert entry.detail["sale_id"] == sale.sale_id
    assert (entry.detail["cashier_id"], entry.detail["restricted_items"]) == ("C042", 2)
    assert verify_store(store).ok
    # The answer is given once; the sale now waits for the code.
    with pytest.raises(CheckoutError, match="does not wait for an age check"):
        till.answer_age_check(
            sale.sale_id,
            AgeAnswer(confirmed=True, method=DISPLAY, cashier_id="C042", display_attached=True),
        )


def test_a_basket_without_restricted_items_goes_straight_to_the_code(tmp_path: Path) -> None:
    till = offline_till(open_store(tmp_path))
    sale = till.start_payment(basket((TEA, 2)), cashier_id="C042")
    assert sale.phase is PaymentPhase.WAITING_FOR_CODE
    assert sale.age_check is None


def test_the_cashier_can_cancel_while_the_question_is_open(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    till = offline_till(store)
    sale = till.start_payment(basket((BEER, 1)), cashier_id="C042")
    assert till.cancel(sale.sale_id).phase is PaymentPhase.CANCELLED
    assert age_record(store, sale.sale_id) is None  # nobody answered
    assert not [e for e in read_entries(store) if e.action == AuditAction.AGE_CHECK]


def test_no_cancels_the_sale_and_is_kept_in_the_chain(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    till = offline_till(store)
    sale = till.start_payment(basket((SMOKES, 1), (TEA, 1)), cashier_id="C042")
    update = till.answer_age_check(
        sale.sale_id,
        AgeAnswer(confirmed=False, method=DISPLAY, cashier_id="C042", display_attached=True),
    )
    assert (update.phase, update.reason) == (PaymentPhase.CANCELLED, "age_check_refused")
    assert store.query("SELECT state, reason FROM sales")[0][:] == (
        "cancelled",
        "age_check_refused",
    )
    assert age_record(store, sale.sale_id)["result"] == "refused"  # type: ignore[index]
    assert read_entries(store)[-1].detail["result"] == "refused"
    # The rest of the basket is a new sale with no question.
    rest = till.start_payment(without_restricted(basket((SMOKES, 1), (TEA, 1))), cashier_id="C042")
    assert rest.phase is PaymentPhase.WAITING_FOR_CODE


def test_cashier_confirms_only_without_a_display_and_when_the_store_allows(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path)
    strict = offline_till(store, cashier_may_confirm=False)
    sale = strict.start_payment(basket((BEER, 1)), cashier_id="C042")
    with pytest.raises(AgeCheckError, match="need the customer display"):
        strict.answer_age_check(
            sale.sale_id,
            AgeAnswer(confirmed=True, method=CASHIER, cashier_id="C042", display_attached=False),
        )
    # A "no" from the cashier is always taken: it only removes goods.
    refused = strict.answer_age_check(
        sale.sale_id,
        AgeAnswer(confirmed=False, method=CASHIER, cashier_id="C042", display_attached=False),
    )
    assert refused.reason == "age_check_refused"

    lenient = offline_till(store)
    sale = lenient.start_payment(basket((BEER, 1)), cashier_id="C042")
    with pytest.raises(AgeCheckError, match="customer display"):
        lenient.answer_age_check(
            sale.sale_id,
            AgeAnswer(confirmed=True, method=CASHIER, cashier_id="C042", display_attached=True),
        )
    update = lenient.answer_age_check(
        sale.sale_id,
        AgeAnswer(confirmed=True, method=CASHIER, cashier_id="C042", display_attached=False),
    )
    assert update.phase is PaymentPhase.WAITING_FOR_CODE
    assert age_record(store, sale.sale_id) == {
        "result": "confirmed",
        "method": "cashier_visual",
        "confirmed_by": "C042",
        "at": 1_795_000_000,
    }
    assert read_entries(store)[-1].actor == "C042"


def test_age_checked_sale_is_paid_online_and_keeps_its_answer(
    backend: Backend, services: TerminalServices
) -> None:
    wallet = backend.new_wallet(balance=10_000)
    checkout = services.checkout
    sale = checkout.start_payment(basket((BEER, 2)), cashier_id="C042")
    checkout.answer_age_check(
        sale.sale_id,
        AgeAnswer(confirmed=True, method=DISPLAY, cashier_id="C042", display_attached=True),
    )
    update = checkout.submit_token(sale.sale_id, backend.token(wallet))
    assert update.phase is PaymentPhase.APPROVED, update
    assert update.age_check is not None and update.age_check.result is AgeCheckResult.CONFIRMED
    row = services.store.query("SELECT state, age_check FROM sales")[0]
    assert row["state"] == "approved"
    assert json.loads(row["age_check"])["method"] == "customer_display"


def test_the_answer_reaches_the_backend_in_the_audit_chain(
    backend: Backend, services: TerminalServices
) -> None:
    """No new field on POST /v1/sales: the chained audit entry is the backend's record."""
    import sqlalchemy as sa

    sale = services.checkout.start_payment(basket((BEER, 1)), cashier_id="C042")
    services.checkout.answer_age_check(
        sale.sale_id,
        AgeAnswer(confirmed=True, method=DISPLAY, cashier_id="C042", display_attached=True),
    )
    assert services.sync is not None
    report = services.sync.tick().audit
    assert report is not None and report.problem is None and report.pending == 0
    engine = sa.create_engine(backend.settings.db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT actor, detail FROM audit_entries WHERE action = 'age_check'")
            ).all()
    finally:
        engine.dispose()
    assert len(rows) == 1 and rows[0][0] == "customer"
    detail = rows[0][1] if isinstance(rows[0][1], dict) else json.loads(rows[0][1])
    assert (detail["sale_id"], detail["method"]) == (sale.sale_id, "customer_display")


# the local store ------------------------------------------------------------------------------


def test_migration_from_the_previous_schema_adds_the_age_check(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "terminal-v5.db", tmp_path / DB_NAME)
    store = open_store(tmp_path)
    columns = {r["name"] for r in store.query("PRAGMA table_info(sales)")}
    assert "age_check" in columns
    assert age_record(store, "sale-1") is None  # sales from before had no check
    till = offline_till(store)
    sale = till.start_payment(basket((BEER, 1)), cashier_id="C042")
    till.answer_age_check(
        sale.sale_id,
        AgeAnswer(confirmed=True, method=DISPLAY, cashier_id="C042", display_attached=True),
    )
    assert age_record(store, sale.sale_id)["confirmed_by"] == "customer"  # type: ignore[index]


# the manager's evidence ------------------------------------------------------------------------


def test_the_answer_is_in_the_managers_evidence(tmp_path: Path) -> None:
    from pos_app.terminal.reviews.detail import load_detail

    store = open_store(tmp_path)
    till = offline_till(store)
    asked = till.start_payment(basket((BEER, 1)), cashier_id="C042")
    till.answer_age_check(
        asked.sale_id,
        AgeAnswer(confirmed=True, method=CASHIER, cashier_id="C042", display_attached=False),
    )
    plain = till.start_payment(basket((TEA, 1)), cashier_id="C042")
    detail = load_detail(store, asked.sale_id)
    assert detail.age_check is not None
    assert (detail.age_check.method, detail.age_check.confirmed_by) == (CASHIER, "C042")
    assert detail.age_check.at == 1_795_000_000
    assert load_detail(store, plain.sale_id).age_check is None
