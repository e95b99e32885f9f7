"""Money under faults at the till (issue 14, defects 1-4), against the real reference backend.

1. a sale waiting for the owner, a manager or an unknown outcome survives a restart and ends
   in the backend's state;
2. no offline acceptance while the till's known clock skew exceeds the token's tolerance, and
   an offline sale the backend refuses is a visible loss, not a silent "approved";
3. token validity, the signature's ``created`` and ``offline_accepted_at`` use the clock
   offset measured at the last backend contact;
4. one unresolved sale does not hold the outbox: order is kept per sale, not across sales.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pos_app.paytoken.reasons import cashier_text
from pos_app.terminal.checkout.types import PaymentPhase, PaymentUpdate
from pos_app.terminal.services import TerminalServices, build_services
from tests.terminal.checkout_support import (
    CARTON,
    TEA,
    Backend,
    Network,
    TillCrashed,
    Wallet,
    basket,
    enroll_terminal,
    terminal_settings,
)

CARTONS_2 = 12_000


@pytest.fixture
def make_till(
    backend: Backend, tmp_path: Path, network: Network
) -> Iterator[Callable[..., TerminalServices]]:
    """Start (or restart) the enrolled till; ``skew_s`` makes its clock wrong by that much."""
    data_dir = tmp_path / "terminal"
    settings = terminal_settings(backend, data_dir)
    enroll_terminal(backend, data_dir, settings)
    opened: list[TerminalServices] = []

    def start(skew_s: int = 0) -> TerminalServices:
        def clock() -> float:
            return float(backend.clock.now() + skew_s)

        svc = build_services(settings, transport=network, clock=clock)
        opened.append(svc)
        return svc

    yield start
    for svc in opened:
        svc.close()


def _pay(svc: TerminalServices, backend: Backend, wallet: Wallet, *items: object) -> PaymentUpdate:
    sale = svc.checkout.start_payment(basket(*items), cashier_id="C042")  # type: ignore[arg-type]
    return svc.checkout.submit_token(sale.sale_id, backend.token(wallet))


def _row(svc: TerminalServices, sale_id: str) -> dict[str, object]:
    rows = svc.store.query("SELECT * FROM sales WHERE sale_id = ?", (sale_id,))
    return dict(rows[0])


def _open_reviews(svc: TerminalServices) -> list[str]:
    return [r["sale_id"] for r in svc.store.query("SELECT sale_id FROM reviews")]


# --- 1. waiting sales survive a restart ------------------------------------------------------


def test_an_owner_approval_after_the_till_restarted_ends_approved_and_the_cashier_is_told(
    backend: Backend, make_till: Callable[..., TerminalServices], network: Network
) -> None:
    wallet = backend.new_wallet(balance=50_000)  # new device: cartons need the owner
    first = make_till()
    waiting = _pay(first, backend, wallet, (CARTON, 2))
    assert waiting.phase is PaymentPhase.CUSTOMER_APPROVAL
    first.close()  # the till restarts while the customer approves on the phone
    backend.decide_step_up(wallet, "approve")
    assert backend.balance(wallet) == 50_000 - CARTONS_2

    restarted = make_till()
    # The status no longer shows an empty outbox: the sale is still being followed.
    assert restarted.checkout.status().outbox_pending == 1
    assert restarted.drainer is not None
    restarted.drainer.drain_once()
    row = _row(restarted, waiting.sale_id)
    assert row["state"] == "approved" and row["authorization_id"]
    assert waiting.sale_id in _open_reviews(restarted)  # the goods may have left unseen
    assert restarted.checkout.status().outbox_pending == 0
    # The cashier is told once, and can look the sale up by its id.
    told = restarted.checkout.notices()
    assert [(n.sale_id, n.phase) for n in told] == [(waiting.sale_id, PaymentPhase.APPROVED)]
    assert restarted.checkout.notices() == ()
    assert restarted.checkout.poll(waiting.sale_id).phase is PaymentPhase.APPROVED
    assert backend.balance(wallet) == 50_000 - CARTONS_2


def test_an_unanswered_step_up_ends_declined_when_its_window_expires_after_a_restart(
    backend: Backend, make_till: Callable[..., TerminalServices]
) -> None:
    wallet = backend.new_wallet(balance=50_000)
    first = make_till()
    waiting = _pay(first, backend, wallet, (CARTON, 2))
    assert waiting.phase is PaymentPhase.CUSTOMER_APPROVAL and waiting.expires_at
    first.close()

    restarted = make_till()
    assert restarted.drainer is not None
    restarted.drainer.drain_once()  # the window is still open: keep waiting, nothing decided
    assert _row(restarted, waiting.sale_id)["state"] == "step_up"
    backend.clock.set(waiting.expires_at + 1)
    restarted.drainer.drain_once(ignore_backoff=True)
    row = _row(restarted, waiting.sale_id)
    assert (row["state"], row["reason"]) == ("declined", "step_up_expired")
    assert restarted.checkout.status().outbox_pending == 0
    assert backend.balance(wallet) == 50_000


def test_a_sale_waiting_for_a_manager_is_closed_on_restart(
    backend: Backend, make_till: Callable[..., TerminalServices]
) -> None:
    from tests.terminal.checkout_support import BENTO

    wallet = backend.new_wallet(balance=150_000)
    first = make_till()
    waiting = _pay(first, backend, wallet, (BENTO, 100))
    assert waiting.phase is PaymentPhase.MANAGER_APPROVAL
    first.close()  # nothing reached the backend: the code was never sent

    restarted = make_till()
    row = _row(restarted, waiting.sale_id)
    assert (row["state"], row["reason"]) == ("cancelled", "till_restarted")
    told = restarted.checkout.notices()
    assert [(n.sale_id, n.phase, n.reason) for n in told] == [
        (waiting.sale_id, PaymentPhase.CANCELLED, "till_restarted")
    ]
    assert backend.balance(wallet) == 150_000


# --- 2. clock skew and offline acceptance -----------------------------------------------------


def test_no_offline_acceptance_while_the_known_skew_exceeds_the_token_tolerance(
    backend: Backend, regular: Wallet, make_till: Callable[..., TerminalServices], network: Network
) -> None:
    fast = make_till(skew_s=121)
    assert fast.sync is not None
    fast.sync.tick()  # a contact: the backend's time is known
    skew = fast.checkout.status().clock_skew_s
    assert skew is not None and abs(skew) > 30  # the status already shows it
    network.mode = "down"
    update = _pay(fast, backend, regular, (TEA, 1))
    assert (update.phase, update.reason) == (PaymentPhase.DECLINED, "till_clock_wrong")
    assert skew == pytest.approx(-121, abs=1)
    assert "clock is wrong" in cashier_text("till_clock_wrong")
    assert fast.checkout.status().outbox_pending == 0
    assert fast.store.query("SELECT cti FROM seen_tokens") == []


def test_an_offline_sale_the_backend_refuses_is_a_visible_loss(
    backend: Backend, regular: Wallet, make_till: Callable[..., TerminalServices], network: Network
) -> None:
    svc = make_till()
    assert svc.sync is not None and svc.drainer is not None
    svc.sync.tick()
    network.mode = "down"
    update = _pay(svc, backend, regular, (TEA, 1))
    assert update.phase is PaymentPhase.OFFLINE_ACCEPTED
    network.mode = "up"
    network.canned["/v1/sales"] = (
        422,
        {"error": "bad_offline_time", "detail": "the terminal was online at that time"},
    )
    svc.drainer.drain_once()
    row = _row(svc, update.sale_id)
    # The goods left: the sale stays approved at the till, and says why nobody was charged.
    assert (row["state"], row["reason"]) == ("approved", "bad_offline_time")
    events = [r["detail"] for r in svc.store.query("SELECT detail FROM sale_events")]
    assert "offline_loss:bad_offline_time" in events
    assert update.sale_id in _open_reviews(svc)
    status = svc.checkout.status()
    assert (status.outbox_pending, status.outbox_failed) == (0, 1)
    told = svc.checkout.notices()
    assert [(n.sale_id, n.reason) for n in told] == [(update.sale_id, "bad_offline_time")]


def test_offline_acceptance_waits_out_the_backends_contact_slack_and_then_settles(
    backend: Backend, regular: Wallet, tmp_path: Path, network: Network
) -> None:
    """The backend refuses an offline claim made while it was still hearing from the till
    (contacts under contact_slack apart form one stretch): the till waits as long, so every
    sale it accepts offline is one the backend will settle, never a loss."""
    from dataclasses import replace

    data_dir = tmp_path / "terminal"
    settings = terminal_settings(backend, data_dir)
    settings = replace(settings, payment=replace(settings.payment, offline_after_s=90))
    enroll_terminal(backend, data_dir, settings)
    svc = build_services(settings, transport=network, clock=backend.clock.now)
    try:
        assert svc.sync is not None and svc.drainer is not None
        svc.sync.tick()  # a contact
        network.mode = "down"
        backend.clock.advance(30)
        early = _pay(svc, backend, regular, (TEA, 1))
        assert (early.phase, early.reason) == (PaymentPhase.DECLINED, "backend_just_lost")
        assert "moments ago" in cashier_text("backend_just_lost")
        assert svc.store.query("SELECT cti FROM seen_tokens") == []  # the code stays usable
        backend.clock.advance(61)
        late = _pay(svc, backend, regular, (TEA, 1))
        assert late.phase is PaymentPhase.OFFLINE_ACCEPTED
        network.mode = "up"
        svc.drainer.drain_once()
        assert (_row(svc, late.sale_id)["state"], _row(svc, late.sale_id)["reason"]) == (
            "approved",
            None,
        )
        assert svc.checkout.status().outbox_failed == 0
    finally:
        svc.close()


# --- 3. validity with the measured clock offset -----------------------------------------------


@pytest.mark.parametrize("skew_s", [-40, 100, 600], ids=["40s-slow", "100s-fast", "10min-fast"])
def test_a_fresh_code_is_accepted_online_whatever_the_till_clock_says(
    backend: Backend, make_till: Callable[..., TerminalServices], skew_s: int
) -> None:
    wallet = backend.new_wallet(balance=1_000)
    till = make_till(skew_s=skew_s)
    update = _pay(till, backend, wallet, (TEA, 1))
    assert update.phase is PaymentPhase.APPROVED, update
    assert backend.balance(wallet) == 1_000 - 140
    skew = till.checkout.status().clock_skew_s
    assert skew is not None and skew == pytest.approx(-skew_s, abs=1)


def test_offline_accepted_at_is_the_backend_time_not_the_till_clock(
    backend: Backend, regular: Wallet, make_till: Callable[..., TerminalServices], network: Network
) -> None:
    till = make_till(skew_s=20)  # within the token tolerance: offline still allowed
    assert till.sync is not None and till.drainer is not None
    till.sync.tick()
    network.mode = "down"
    update = _pay(till, backend, regular, (TEA, 1))
    assert update.phase is PaymentPhase.OFFLINE_ACCEPTED
    payload = till.store.query("SELECT payload FROM outbox WHERE kind = 'finalize'")[0][0]
    assert f'"offline_accepted_at":{backend.clock.now()}' in payload
    network.mode = "up"
    till.drainer.drain_once()
    assert _row(till, update.sale_id)["authorization_id"]
    assert backend.balance(regular) == 20_000 - 140


# --- 4. order per sale, not across sales --------------------------------------------------------


def test_a_sale_the_backend_never_received_does_not_hold_the_others(
    backend: Backend, regular: Wallet, make_till: Callable[..., TerminalServices], network: Network
) -> None:
    first = make_till()
    assert first.sync is not None
    first.sync.tick()
    network.mode = "crash_unsent"  # the till dies with the finalize written ahead, never sent
    with pytest.raises(TillCrashed):
        _pay(first, backend, regular, (TEA, 3))
    first.close()

    restarted = make_till()
    network.mode = "down"
    offline = [_pay(restarted, backend, regular, (TEA, 1)) for _ in range(2)]
    assert all(u.phase is PaymentPhase.OFFLINE_ACCEPTED for u in offline)
    network.mode = "up"
    assert restarted.drainer is not None
    report = restarted.drainer.drain_once()
    assert (report.sent, report.remaining) == (2, 1)  # only the unknown sale still waits
    assert backend.balance(regular) == 20_000 - 2 * 140
    kinds = restarted.store.query(
        "SELECT kind FROM outbox WHERE state IN ('pending', 'unknown') ORDER BY id"
    )
    assert [r["kind"] for r in kinds] == ["reconcile"]


def test_a_void_the_till_died_sending_is_sent_again_and_recorded(
    backend: Backend, regular: Wallet, make_till: Callable[..., TerminalServices], network: Network
) -> None:
    first = make_till()
    signer = backend.manager(first.store, "M001")
    paid = _pay(first, backend, regular, (TEA, 2))
    assert paid.phase is PaymentPhase.APPROVED
    network.mode = "crash_after_send"  # the backend voids it, the till dies before recording
    with pytest.raises(TillCrashed):
        first.checkout.void(paid.sale_id, manager_id="M001", reason="wrong item", signer=signer)
    first.close()
    assert backend.balance(regular) == 20_000  # refunded at the backend

    network.mode = "up"
    restarted = make_till()
    assert restarted.checkout.status().outbox_pending == 1
    assert restarted.drainer is not None
    restarted.drainer.drain_once(ignore_backoff=True)
    assert _row(restarted, paid.sale_id)["state"] == "voided"
    assert [(n.sale_id, n.phase) for n in restarted.checkout.notices()] == [
        (paid.sale_id, PaymentPhase.VOIDED)
    ]
    assert backend.balance(regular) == 20_000


def test_a_queued_cancel_that_arrives_after_the_owner_approved_leaves_the_void_to_a_manager(
    backend: Backend, make_till: Callable[..., TerminalServices], network: Network
) -> None:
    wallet = backend.new_wallet(balance=50_000)
    svc = make_till()
    waiting = _pay(svc, backend, wallet, (CARTON, 2))
    assert waiting.phase is PaymentPhase.CUSTOMER_APPROVAL
    network.mode = "down"
    assert svc.checkout.cancel(waiting.sale_id).phase is PaymentPhase.CANCELLED  # queued
    backend.decide_step_up(wallet, "approve")  # the phone was faster than the cancel
    assert backend.balance(wallet) == 50_000 - CARTONS_2
    network.mode = "up"
    assert svc.drainer is not None
    svc.drainer.drain_once(ignore_backoff=True)
    # Reversing an approved sale is a void, and a void needs a manager's proof (a cashier's
    # cancel must never refund a paid sale): the charge stands, and the till says so at
    # once, never "cancelled" while charged. The cashier is told, the sale is on the
    # manager's review list, and the manager's signed void refunds the customer.
    assert _row(svc, waiting.sale_id)["state"] == "approved"
    assert svc.checkout.status().outbox_pending == 0
    assert [(n.sale_id, n.phase) for n in svc.checkout.notices()] == [
        (waiting.sale_id, PaymentPhase.APPROVED)
    ]
    assert svc.store.query("SELECT status FROM reviews WHERE sale_id = ?", (waiting.sale_id,))
    assert backend.balance(wallet) == 50_000 - CARTONS_2
    signer = backend.manager(svc.store, "M001")
    voided = svc.checkout.void(
        waiting.sale_id, manager_id="M001", reason="customer had left", signer=signer
    )
    assert voided.phase is PaymentPhase.VOIDED
    assert backend.balance(wallet) == 50_000


# --- the drain after an outage: bounded by the link, not by a backoff grown meanwhile ---------


@pytest.mark.parametrize("skew_s", [0, 45], ids=["clock-right", "45s-fast"])
def test_the_sale_first_in_the_outbox_during_an_outage_goes_when_the_backend_is_back(
    backend: Backend,
    make_till: Callable[..., TerminalServices],
    network: Network,
    skew_s: int,
) -> None:
    """Found by the fault harness (47.1 s drain, PostgreSQL, loaded machine): a till
    restarted during an outage, with a sale's reconcile entry open, tried it at every pass
    while the backend was away; the entry's own backoff grew (attempt 4: 8-16 s), on the
    restarted till's unmeasured clock (45 s fast), so when the backend came back every
    other entry went at once and this one waited 47 s more. The backend being away is
    the link's failure: the sale goes at the first pass after the backend answers."""
    random.seed(14)  # the backoff's jitter: the same schedule in every run
    wallet = backend.new_wallet(balance=50_000)
    first = make_till(skew_s)
    waiting = _pay(first, backend, wallet, (CARTON, 2))
    assert waiting.phase is PaymentPhase.CUSTOMER_APPROVAL
    network.mode = "down"  # the backend goes away from this till; the till restarts
    first.close()
    backend.decide_step_up(wallet, "approve")  # the phone reaches the backend still
    restarted = make_till(skew_s)
    assert restarted.sync is not None
    for _ in range(60):  # one pass a second (the harness's lane) for a minute's outage
        restarted.sync.tick()
        backend.clock.advance(1)
    assert _row(restarted, waiting.sale_id)["state"] == "step_up"  # nothing could be known
    network.mode = "up"
    for _ in range(2):  # the pass whose heartbeat finds the backend, then the next
        restarted.sync.tick()
        backend.clock.advance(1)
    row = _row(restarted, waiting.sale_id)
    assert (row["state"], row["reason"]) == ("approved", None)
    assert restarted.checkout.status().outbox_pending == 0
    assert backend.balance(wallet) == 50_000 - CARTONS_2


def test_a_cancel_the_till_died_sending_goes_at_the_restarted_tills_first_pass(
    backend: Backend, make_till: Callable[..., TerminalServices], network: Network
) -> None:
    """Found by the fault harness (56 s drain): a cancel is written ahead and held 60 s
    while the cashier's own request is out; a till killed meanwhile left it held, and the
    restarted till waited the hold out, with the owner still free to approve on the phone."""
    wallet = backend.new_wallet(balance=50_000)
    first = make_till()
    waiting = _pay(first, backend, wallet, (CARTON, 2))
    assert waiting.phase is PaymentPhase.CUSTOMER_APPROVAL
    network.mode = "crash_unsent"  # the till dies with the cancel written ahead, not sent
    with pytest.raises(TillCrashed):
        first.checkout.cancel(waiting.sale_id)
    first.close()

    network.mode = "up"
    restarted = make_till()
    assert restarted.sync is not None
    restarted.sync.tick()  # the background lane's first pass
    assert _row(restarted, waiting.sale_id)["state"] == "cancelled"
    assert restarted.checkout.status().outbox_pending == 0
    asked = backend.wallet_request(
        "GET", f"/v1/wallets/{wallet.wallet_id}/step-ups", key=wallet.key, keyid=wallet.device_id
    )
    assert asked.json()["step_ups"] == []  # nothing left on the phone to approve
    assert backend.balance(wallet) == 50_000


def test_a_restarted_fast_till_looks_again_on_the_backends_clock_not_its_own(
    backend: Backend, make_till: Callable[..., TerminalServices]
) -> None:
    """A till 45 s fast, restarted while the owner decides: its first contact is the
    outbox's lookup, which measures the offset; the next look is scheduled on the backend's
    clock as that answer set it (it was 45 s later, on the till's unmeasured clock)."""
    wallet = backend.new_wallet(balance=50_000)
    first = make_till(45)
    waiting = _pay(first, backend, wallet, (CARTON, 2))
    assert waiting.phase is PaymentPhase.CUSTOMER_APPROVAL
    first.close()
    restarted = make_till(45)
    assert restarted.drainer is not None
    assert restarted.drainer.drain_once().sent == 0  # the owner is still deciding
    backend.decide_step_up(wallet, "approve")
    backend.clock.advance(3)  # a backoff's first step is 1-2 s
    assert restarted.drainer.drain_once().sent == 1
    assert _row(restarted, waiting.sale_id)["state"] == "approved"
    assert backend.balance(wallet) == 50_000 - CARTONS_2
