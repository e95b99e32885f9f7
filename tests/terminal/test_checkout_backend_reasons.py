"""A step-up the backend asks for shows the backend's reasons, not an empty list."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pos_app.terminal.checkout.types import PaymentPhase
from pos_app.terminal.services import TerminalServices
from tests.terminal.checkout_support import CARTON, TEA, Backend, Network, basket, till


class StricterBackend(Network):
    """The backend's own rules (history the till cannot see) add codes and ask for step-up."""

    def __init__(self) -> None:
        super().__init__()
        self.add_codes: list[str] = []
        self.add_details: list[object] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method != "POST" or request.url.path != "/v1/sales" or not self.add_codes:
            return response
        body = json.loads(response.read())
        risk = body.get("risk") or {"score": 0, "action": "allow", "reasons": []}
        risk["reasons"] = [*risk["reasons"], *self.add_codes]
        risk["details"] = [*risk.get("details", []), *self.add_details]
        risk["action"] = "customer_approval"
        body["risk"] = risk
        if body["status"] != "step_up_required":
            expires = int(body["server_time"]) + 90
            body.update(status="step_up_required", authorization_id=None)
            body["step_up"] = {"challenge_id": "c-test", "expires_at": expires}
        return httpx.Response(200, json=body, request=request)


@pytest.fixture
def network() -> Iterator[StricterBackend]:
    net = StricterBackend()
    yield net
    net.close()


@pytest.fixture
def services(
    backend: Backend, tmp_path: Path, network: StricterBackend
) -> Iterator[TerminalServices]:
    svc = till(backend, tmp_path, network)
    yield svc
    svc.close()


def test_backend_step_up_shows_the_rule_texts_of_its_codes(
    backend: Backend, services: TerminalServices, network: StricterBackend
) -> None:
    wallet = backend.new_wallet(balance=10_000)
    network.add_codes = ["wallet_repeat_cash_convertible", "brand_new_backend_rule"]
    sale = services.checkout.start_payment(basket((TEA, 1)), cashier_id="C042")
    update = services.checkout.submit_token(sale.sale_id, backend.token(wallet))
    assert update.phase is PaymentPhase.CUSTOMER_APPROVAL, update
    assert update.risk_action == "allow"  # the terminal itself saw nothing
    codes = [r.code for r in update.risk_reasons]
    assert codes == ["wallet_repeat_cash_convertible", "brand_new_backend_rule"]
    known, unknown = update.risk_reasons
    assert known.en.startswith("This wallet already bought")
    assert "easy-to-resell goods in the last 24 hours" in known.en
    assert "{" not in known.en and "{" not in known.ja
    assert "換金しやすい商品" in known.ja
    assert "brand_new_backend_rule" in unknown.en and "brand_new_backend_rule" in unknown.ja
    assert "extra approval" in unknown.en


def test_backend_codes_merge_with_the_terminal_reasons_without_duplicates(
    backend: Backend, services: TerminalServices, network: StricterBackend
) -> None:
    wallet = backend.new_wallet(balance=50_000)  # a new device: cartons need the owner
    network.add_codes = ["takeover_token_flags", "wallet_weekly_cash_convertible"]
    sale = services.checkout.start_payment(basket((CARTON, 2)), cashier_id="C042")
    update = services.checkout.submit_token(sale.sale_id, backend.token(wallet))
    assert update.phase is PaymentPhase.CUSTOMER_APPROVAL, update
    codes = [r.code for r in update.risk_reasons]
    assert len(codes) == len(set(codes))
    assert codes.count("takeover_token_flags") == 1
    assert codes[-1] == "wallet_weekly_cash_convertible"  # the terminal's own come first
    takeover = next(r for r in update.risk_reasons if r.code == "takeover_token_flags")
    assert "12,000 yen" in takeover.en  # the terminal's sentence, with its numbers
    assert takeover.inputs


def test_backend_details_put_the_backends_numbers_in_the_sentence(
    backend: Backend, services: TerminalServices, network: StricterBackend
) -> None:
    wallet = backend.new_wallet(balance=10_000)
    network.add_codes = ["cash_convertible_above_history", "wallet_repeat_cash_convertible"]
    inputs = {
        "cash_convertible_24h": 17_400,
        "largest_earlier_cash_convertible": 5_800,
        "established_wallet": True,
        "floor": 10_000,
    }
    network.add_details = [
        {"code": "cash_convertible_above_history", "inputs": inputs},
        "not an object",
        {"code": "wallet_repeat_cash_convertible", "inputs": {"wrong_key": 1}},
    ]
    sale = services.checkout.start_payment(basket((TEA, 1)), cashier_id="C042")
    update = services.checkout.submit_token(sale.sale_id, backend.token(wallet))
    assert update.phase is PaymentPhase.CUSTOMER_APPROVAL, update
    above, repeat = update.risk_reasons
    assert "17,400 yen" in above.en and "5,800 yen" in above.en
    assert "17,400" in above.ja and "5,800" in above.ja
    assert ("largest_earlier_cash_convertible", "5800") in above.inputs
    # Inputs of another rules version: the sentence without numbers, never a crash.
    assert repeat.en.startswith("This wallet already bought") and "{" not in repeat.en
    assert repeat.inputs == ()


def test_backend_details_put_the_numbers_in_the_tills_sentence_and_the_evidence(
    backend: Backend, services: TerminalServices, network: StricterBackend
) -> None:
    """Issue 13 #6: the till and the manager show the same sentence, with the numbers."""
    from datetime import UTC

    from pos_app.terminal.reviews.detail import load_detail
    from pos_app.ui.manager.detail import render_detail

    wallet = backend.new_wallet(balance=10_000)
    network.add_codes = ["cash_convertible_above_history", "wallet_repeat_cash_convertible"]
    network.add_details = [
        {
            "code": "cash_convertible_above_history",
            "inputs": {"cash_convertible_24h": 48_000, "largest_earlier_cash_convertible": 6_000},
        },
        {"code": "wallet_repeat_cash_convertible", "inputs": {"wrong_name": 1}},  # old version
    ]
    sale = services.checkout.start_payment(basket((TEA, 1)), cashier_id="C042")
    update = services.checkout.submit_token(sale.sale_id, backend.token(wallet))
    assert update.phase is PaymentPhase.CUSTOMER_APPROVAL, update
    above, repeat = update.risk_reasons
    assert "buying 48,000 yen" in above.en and "before was 6,000 yen" in above.en
    assert "48,000 円" in above.ja and "6,000 円" in above.ja
    assert "…" not in above.en
    assert "{" not in repeat.en and "…" in repeat.en  # unusable inputs: no numbers, no crash

    detail = load_detail(services.store, sale.sale_id)
    codes = [r.code for r in detail.rules]
    assert codes == ["cash_convertible_above_history", "wallet_repeat_cash_convertible"]
    assert detail.rules[0].en == above.en  # the manager reads the till's sentence
    html = render_detail(detail, lang="en", tz=UTC)
    assert "buying 48,000 yen" in html
    assert "payment network" in html.lower()


def test_a_new_kind_of_goods_is_named_in_words_for_the_cashier_and_the_manager(
    backend: Backend, services: TerminalServices, network: StricterBackend
) -> None:
    """category_new_for_wallet names the goods as people say them, in both languages,
    never as the wire's category codes ("heated_tobacco")."""
    from datetime import UTC

    from pos_app.terminal.reviews.detail import load_detail
    from pos_app.ui.manager.detail import render_detail

    wallet = backend.new_wallet(balance=10_000)
    network.add_codes = ["category_new_for_wallet"]
    inputs = {"history_sales": 12, "new_categories": ["gift_card", "heated_tobacco"]}
    network.add_details = [
        {"code": "category_new_for_wallet", "inputs": {**inputs, "new_value": 7640}}
    ]
    sale = services.checkout.start_payment(basket((TEA, 1)), cashier_id="C042")
    update = services.checkout.submit_token(sale.sale_id, backend.token(wallet))
    assert update.phase is PaymentPhase.CUSTOMER_APPROVAL, update
    (reason,) = update.risk_reasons
    assert "never bought gift / prepaid card, heated tobacco" in reason.en
    assert "ギフト・プリペイドカード、加熱式たばこ" in reason.ja and "7,640 円" in reason.ja
    for text in (reason.en, reason.ja):
        assert "gift_card" not in text and "heated_tobacco" not in text
    html = render_detail(load_detail(services.store, sale.sale_id), lang="ja", tz=UTC)
    assert "初めての種類の商品" in html and "加熱式たばこ" in html
