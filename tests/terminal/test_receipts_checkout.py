"""Receipts in a real sale: the till prints on approval, reprints, and a void prints its slip."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

from pos_app.terminal.checkout.types import PaymentPhase
from pos_app.terminal.printing.checkout_hook import PrintingCheckout
from pos_app.terminal.services import build_services
from pos_app.terminal.settings.schema import PrinterSettings, ReceiptSettings
from tests.terminal.checkout_support import (
    TEA,
    Backend,
    Network,
    basket,
    enroll_terminal,
    terminal_settings,
)
from tests.terminal.fake_printer import FakePrinter


def _wait_for(condition: object, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_approved_sale_prints_its_invoice_and_a_void_prints_a_slip(
    backend: Backend, tmp_path: Path, network: Network
) -> None:
    printer = FakePrinter()
    data_dir = tmp_path / "terminal"
    settings = terminal_settings(backend, data_dir)
    settings = replace(
        settings,
        printer=PrinterSettings(url=printer.url, paper_mm=58),
        receipt=ReceiptSettings(issuer_name="テスト商店", registration_number="T7000012050002"),
    )
    enroll_terminal(backend, data_dir, settings)
    services = build_services(settings, transport=network, clock=backend.clock.now)
    assert services.receipts is not None
    services.receipts.queue.start(interval_s=0.2)
    port = PrintingCheckout(services.checkout, services.receipts)
    try:
        wallet = backend.new_wallet(balance=10_000)
        sale = port.start_payment(basket((TEA, 2)), cashier_id="C042")
        printer.paper_out = True  # the roll ran out: the sale must not care
        update = port.submit_token(sale.sale_id, backend.token(wallet))
        assert update.phase is PaymentPhase.APPROVED
        assert _wait_for(lambda: port.status().printer_problem == "paper_out")
        status = port.status()
        assert status.receipts_waiting == 1
        printer.paper_out = False  # a new roll: the waiting receipt prints by itself
        assert _wait_for(lambda: len(printer.jobs) == 1)
        text = printer.jobs[0].decode("cp932", errors="replace")
        assert "テスト商店" in text and "T7000012050002" in text
        assert re.search(r"承認番号\s+" + re.escape(update.authorization_id or "?"), text)
        assert _wait_for(lambda: port.status().receipts_waiting == 0)
        assert port.reprint_last()
        assert _wait_for(lambda: len(printer.jobs) == 2)
        signer = backend.manager(services.store, "M001")
        voided = port.void(
            sale.sale_id, manager_id="M001", reason="customer changed mind", signer=signer
        )
        assert voided.phase is PaymentPhase.VOIDED
        assert _wait_for(lambda: len(printer.jobs) == 3)
        slip = printer.jobs[2].decode("cp932", errors="replace")
        assert "取消伝票" in slip and "customer changed mind" in slip
    finally:
        services.close()
        printer.close()


def test_another_till_reprints_a_sale_from_what_the_backend_keeps(
    backend: Backend, tmp_path: Path, network: Network
) -> None:
    printer = FakePrinter()
    tills = []
    for terminal_id in ("T01", "T02"):
        data_dir = tmp_path / terminal_id
        settings = replace(
            terminal_settings(backend, data_dir),
            printer=PrinterSettings(url=printer.url, auto_print=False),
            receipt=ReceiptSettings(issuer_name="テスト商店", registration_number="T7000012050002"),
        )
        enroll_terminal(backend, data_dir, settings, terminal_id=terminal_id)
        tills.append(build_services(settings, transport=network, clock=backend.clock.now))
    first, second = tills
    try:
        wallet = backend.new_wallet(balance=10_000)
        sale = first.checkout.start_payment(basket((TEA, 2)), cashier_id="C042")
        paid = first.checkout.submit_token(sale.sale_id, backend.token(wallet))
        assert paid.phase is PaymentPhase.APPROVED
        assert second.receipts is not None and first.receipts is not None
        here = first.receipts.receipt(sale.sale_id).text()
        there = second.receipts.receipt(sale.sale_id).text()  # from the backend
        assert "S001-T01-000001" in there and "レジ T01" in there
        # The same invoice: lines, 8% mark, per-rate tax, authorization, masked wallet.
        assert there == here
        second.receipts.reprint(sale.sale_id)
        assert second.receipts.pump() == 1
        assert "S001-T01-000001" in printer.jobs[0].decode("cp932", errors="replace")
    finally:
        for services in tills:
            services.close()
        printer.close()
