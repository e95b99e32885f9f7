"""``pos-app demo --screenshots DIR``: the screenshot tour's script, one cashier's shift
through every screen state (the runner is ``tour.py``), saved as PNGs, then quit."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from pos_app.demo.tour import Tour, TourStep, product
from pos_app.terminal.checkout.types import PaymentPhase
from pos_app.ui.main_window import MainWindow
from pos_app.ui.wallet_window import WalletWindow

Action = Callable[[], object]


def seq(*actions: Action) -> Action:
    def run() -> None:
        for action in actions:
            action()

    return run


def steps(
    main: MainWindow,
    wallet: WalletWindow,
    tour: Tour,
    *,
    network: Any,
    camera: Any,
    manager_secret: str,
) -> list[TourStep]:
    page, bv, flow = main.checkout, main.checkout.basket_view, main.flow

    def phase_is(phase: PaymentPhase) -> Callable[[], bool]:
        return lambda: flow.phase is phase

    def fresh_code(name: str) -> None:
        """Like a phone: a new code for each payment, from the chosen wallet."""
        index = next(
            i for i in range(wallet.chooser.count()) if wallet.chooser.itemText(i).startswith(name)
        )
        wallet.chooser.setCurrentIndex(index)
        wallet.token = ""
        wallet.refresh_code()

    def basket(*items: tuple[str, int]) -> None:
        if flow.phase is not None:
            page.next_customer()
        bv.basket.clear()
        for name, qty in items:
            bv.basket.add(product(main, name), qty)
        bv.refresh(select=0)

    def hold(on: bool) -> Action:
        return partial(wallet.hold.setChecked, on)

    def sign_in(pin: str) -> None:
        main.signin.user.setText("C042")
        main.signin.pin.setText(pin)
        main.signin.submit()

    def sign_out() -> None:
        bv.basket.clear()
        bv.refresh()
        main.sign_out()

    def pay_with(name: str, *, age_check: bool = False) -> list[TourStep]:
        """Tobacco or alcohol: the customer first answers 「20歳以上です」 on their display."""
        ask = [
            TourStep(seq(hold(False), page.pay), phase_is(PaymentPhase.AGE_CHECK),
                     shot="14-age-check", customer=True),
            TourStep(main.customer.display.age_yes.click, phase_is(PaymentPhase.WAITING_FOR_CODE)),
        ]  # fmt: skip
        return [
            *(ask if age_check else []),
            TourStep(seq(hold(False), page.pay), phase_is(PaymentPhase.WAITING_FOR_CODE)),
            TourStep(partial(fresh_code, name), lambda: bool(wallet.token)),
            TourStep(
                hold(True),
                lambda: (
                    flow.phase not in {None, PaymentPhase.WAITING_FOR_CODE, PaymentPhase.VERIFYING}
                ),
            ),
        ]

    def manager_approves() -> None:
        page.payment_view.pin_edit.setText(manager_secret)
        page.payment_view.approve_button.click()

    def set_network(up: bool) -> None:
        network.up = up
        main.poll_status()

    def set_camera(plugged: bool) -> None:
        camera.plugged = plugged

    def camera_reads(word: str) -> Callable[[], bool]:
        return lambda: main.status.labels["camera"].text().endswith(word)

    def locked() -> bool:
        return "locked" in main.signin.message.text()

    def try_pin() -> TourStep:
        return TourStep(
            partial(sign_in, "0000"), lambda: main.signin.button.isEnabled() or locked()
        )

    reason = "Office catering order, usual customer"
    tour.shoot_on_phase(PaymentPhase.VERIFYING, "04-verifying")
    return [
        TourStep(hold(False), shot="01-sign-in"),
        TourStep(partial(sign_in, "1234"), lambda: main.account is not None),
        TourStep(
            partial(basket, ("Green tea 500ml", 2), ("Onigiri salmon", 1), ("Makunouchi bento", 1)),
            shot="02-basket",
            customer=True,
        ),
        TourStep(
            page.pay,
            phase_is(PaymentPhase.WAITING_FOR_CODE),
            shot="03-waiting-for-code",
            both=True,
            customer=True,
        ),
        TourStep(partial(fresh_code, "Hanako"), lambda: bool(wallet.token)),
        TourStep(
            hold(True),
            phase_is(PaymentPhase.APPROVED),
            shot="05-approved",
            both=True,
            customer=True,
        ),
        TourStep(partial(basket, ("Green tea 500ml", 3), ("Chocolate bar", 2))),
        *pay_with("Yuki"),
        TourStep(lambda: None, phase_is(PaymentPhase.DECLINED), shot="06-declined", customer=True),
        TourStep(partial(basket, ("Cigarettes Mild carton", 1))),
        *pay_with("Kenji", age_check=True),
        TourStep(
            lambda: None,
            lambda: bool(wallet.pending),
            shot="07-customer-approval",
            both=True,
            customer=True,
        ),
        TourStep(partial(wallet.decide, "approve"), phase_is(PaymentPhase.APPROVED)),
        TourStep(partial(basket, ("Hamburg steak bento", 162))),
        *pay_with("Hanako"),
        TourStep(
            partial(page.payment_view.reason_edit.setText, reason),
            phase_is(PaymentPhase.MANAGER_APPROVAL),
            shot="08-manager-approval",
        ),
        TourStep(manager_approves, phase_is(PaymentPhase.APPROVED)),
        TourStep(seq(partial(basket, ("Green tea 500ml", 1)), partial(set_network, False))),
        *pay_with("Hanako"),
        TourStep(main.poll_status, phase_is(PaymentPhase.OFFLINE_ACCEPTED)),
        TourStep(
            lambda: None,
            lambda: "OFFLINE" in main.status.labels["backend"].text(),
            shot="09-offline-accepted",
        ),
        TourStep(
            seq(partial(set_network, True), page.next_customer, partial(set_camera, False)),
            camera_reads("LOST"),
            shot="10-camera-lost",
        ),
        TourStep(partial(set_camera, True), camera_reads("on")),
        TourStep(
            seq(
                partial(basket, ("Green tea 500ml", 2), ("Onigiri salmon", 1)), main.toggle_language
            ),
            shot="11-japanese",
        ),
        TourStep(
            seq(main.toggle_language, partial(main.contrast_box.setChecked, True)),
            shot="12-high-contrast",
            customer=True,
        ),
        TourStep(seq(partial(main.contrast_box.setChecked, False), sign_out)),
        *[try_pin() for _ in range(5)],
        TourStep(lambda: None, lambda: "locked" in main.signin.message.text(), shot="13-locked"),
    ]


def screenshot_tour(
    out: Path, *, network: Any, camera: Any, manager_secret: str
) -> Callable[[MainWindow, WalletWindow], Tour]:
    """``network.up`` and ``camera.plugged`` are the demo's cable switches;
    ``manager_secret`` what the manager types to approve (their passphrase)."""

    def begin(main: MainWindow, wallet: WalletWindow) -> Tour:
        main.resize(1280, 800)
        wallet.move(main.frameGeometry().right() + 10, main.frameGeometry().top())
        tour = Tour([], out, main, wallet)
        tour._steps = steps(
            main, wallet, tour, network=network, camera=camera, manager_secret=manager_secret
        )
        tour.start()
        return tour

    return begin
