"""The basket: lines added by scan, quantity changes, totals and tax.

Prices are tax-inclusive. Japanese invoices state the consumption tax once per
rate (8% reduced, 10% standard), computed on the rate's total and rounded
down, which is what ``tax_breakdown`` returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pos_app.core.api_contract import SaleLineBody
from pos_app.core.catalog import Product
from pos_app.core.errors import BasketError
from pos_app.core.money import Money

MAX_QUANTITY = 999
MAX_LINES = 500  # the backend refuses larger baskets (BACKEND-API.md)


@dataclass(frozen=True, slots=True)
class BasketLine:
    product: Product
    quantity: int

    @property
    def line_total(self) -> int:
        return self.product.price * self.quantity

    def as_api(self, lang: str = "en") -> SaleLineBody:
        """The line as BACKEND-API.md's ``lines`` item."""
        return {
            "sku": self.product.gtin,
            "name": self.product.name(lang),
            "category": self.product.category.value,
            "quantity": self.quantity,
            "unit_price": self.product.price,
            "line_total": self.line_total,
            "tax_rate": self.product.tax_rate,  # wave 2 addition: reprints at another till
        }


@dataclass(frozen=True, slots=True)
class TaxLine:
    rate: int  # percent
    gross: int  # tax-inclusive total at this rate
    tax: int  # tax contained in ``gross``


@dataclass(frozen=True, slots=True)
class BasketSnapshot:
    """What the basket shows right now, for views that must not hold the basket itself
    (the customer display lives in another window and only receives copies)."""

    lines: tuple[BasketLine, ...]
    total: int
    currency: str
    taxes: tuple[TaxLine, ...]
    item_count: int


class Basket:
    """Mutable basket owned by one checkout; hands out immutable lines."""

    def __init__(self, currency: str = "JPY") -> None:
        self.currency = currency
        self._lines: list[BasketLine] = []

    @property
    def lines(self) -> tuple[BasketLine, ...]:
        return tuple(self._lines)

    def __len__(self) -> int:
        return len(self._lines)

    def _index(self, gtin: str) -> int | None:
        for i, line in enumerate(self._lines):
            if line.product.gtin == gtin:
                return i
        return None

    def add(self, product: Product, quantity: int = 1) -> BasketLine:
        """Add a scanned product; a product already in the basket gets its quantity raised."""
        _check_quantity(quantity)
        i = self._index(product.gtin)
        if i is None:
            if len(self._lines) >= MAX_LINES:
                raise BasketError(f"a basket holds at most {MAX_LINES} lines: start a second sale")
            self._lines.append(BasketLine(product, quantity))
            return self._lines[-1]
        new_quantity = self._lines[i].quantity + quantity
        _check_quantity(new_quantity)
        self._lines[i] = BasketLine(product, new_quantity)
        return self._lines[i]

    def set_quantity(self, index: int, quantity: int) -> BasketLine:
        line = self._line(index)
        _check_quantity(quantity)
        self._lines[index] = BasketLine(line.product, quantity)
        return self._lines[index]

    def remove(self, index: int) -> BasketLine:
        line = self._line(index)
        del self._lines[index]
        return line

    def clear(self) -> None:
        self._lines.clear()

    def _line(self, index: int) -> BasketLine:
        if not 0 <= index < len(self._lines):
            raise BasketError(f"there is no line {index + 1} in the basket")
        return self._lines[index]

    @property
    def total(self) -> Money:
        return Money(sum(line.line_total for line in self._lines), self.currency)

    def tax_breakdown(self) -> tuple[TaxLine, ...]:
        return tax_by_rate((line.product.tax_rate, line.line_total) for line in self._lines)

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self._lines)

    def snapshot(self) -> BasketSnapshot:
        return BasketSnapshot(
            self.lines, self.total.amount, self.currency, self.tax_breakdown(), self.item_count
        )

    def remove_age_restricted(self) -> tuple[BasketLine, ...]:
        """A "no" to the age check: the tobacco and alcohol leave the basket."""
        removed = tuple(line for line in self._lines if line.product.age_restricted)
        self._lines = [line for line in self._lines if not line.product.age_restricted]
        return removed


def tax_by_rate(rated_totals: Iterable[tuple[int, int]]) -> tuple[TaxLine, ...]:
    """Tax-inclusive totals per rate and the tax each contains, rounded down once per rate.

    ``rated_totals`` are ``(rate_percent, line_total)`` pairs; receipts built from stored
    sales use the same rule as the live basket, so the printed invoice matches the screen.
    """
    gross: dict[int, int] = {}
    for rate, total in rated_totals:
        gross[rate] = gross.get(rate, 0) + total
    return tuple(TaxLine(r, g, g * r // (100 + r)) for r, g in sorted(gross.items()))


def _check_quantity(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise BasketError("quantity must be a whole number")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise BasketError(
            f"quantity must be between 1 and {MAX_QUANTITY}; to remove the line, use Remove"
        )
