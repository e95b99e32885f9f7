"""The sample sale of IT's test page: 8% food and drink, 10% goods, an age-checked item."""

from __future__ import annotations

from pos_app.core.age_check import CUSTOMER, AgeCheck, AgeCheckMethod, AgeCheckResult
from pos_app.terminal.printing.document import ReceiptFacts, ReceiptLine

_LINES = (
    # name_ja, name_en, quantity, unit price, tax rate
    ("おにぎり 鮭", "Onigiri salmon", 2, 160, 8),
    ("緑茶 525ml", "Green tea 525ml", 1, 140, 8),
    ("ボールペン 黒", "Ballpoint pen, black", 1, 165, 10),
    ("缶ビール 350ml", "Beer 350ml can", 2, 235, 10),
)


def sample_sale(*, lang: str, at: int) -> ReceiptFacts:
    lines = tuple(
        ReceiptLine(
            name=ja if lang == "ja" else en, quantity=q, unit_price=p, line_total=q * p, tax_rate=r
        )
        for ja, en, q, p, r in _LINES
    )
    return ReceiptFacts(
        sale_number="TEST-0000-000000",
        sale_id="test-page",
        store_id="TEST",
        terminal_id="T00",
        cashier_id="IT",
        at=at,
        currency="JPY",
        total=sum(line.line_total for line in lines),
        lines=lines,
        wallet_masked="****0000",
        authorization_id="TEST-AUTH",
        age_check=AgeCheck(
            AgeCheckResult.CONFIRMED, AgeCheckMethod.CUSTOMER_DISPLAY, confirmed_by=CUSTOMER, at=at
        ),
    )
