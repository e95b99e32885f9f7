"""Money as integers in minor units, with the currency's ISO 4217 exponent.

Floats never touch money: an amount is an ``int`` count of the currency's minor
unit (yen for JPY, cents for USD). This module holds the one ISO 4217 table of
the project (the token codec, the backend and the till read it from here) and
the one formatter every screen, receipt and report uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pos_app.core.errors import MoneyError


@dataclass(frozen=True, slots=True)
class Currency:
    """One ISO 4217 currency: alpha code, numeric code, minor-unit exponent, shown symbol.

    ``symbol`` is empty where a sign would be ambiguous at a counter (``$`` for the
    Australian, Canadian, Hong Kong or Singapore dollar, ``¥`` for the yuan): those
    amounts read ``12.80 AUD``.
    """

    alpha: str
    numeric: int
    exponent: int
    symbol: str = ""


_TABLE = (
    Currency("JPY", 392, 0, "¥"),
    Currency("USD", 840, 2, "$"),
    Currency("EUR", 978, 2, "€"),
    Currency("GBP", 826, 2, "£"),
    Currency("KRW", 410, 0, "₩"),
    Currency("CNY", 156, 2),
    Currency("TWD", 901, 2),
    Currency("HKD", 344, 2),
    Currency("SGD", 702, 2),
    Currency("AUD", 36, 2),
    Currency("CAD", 124, 2),
    Currency("CHF", 756, 2),
    Currency("THB", 764, 2),
)

# ISO 4217 alpha code -> currency; the only such table in the project.
CURRENCIES: Mapping[str, Currency] = MappingProxyType({c.alpha: c for c in _TABLE})
_BY_NUMERIC: Mapping[int, Currency] = MappingProxyType({c.numeric: c for c in _TABLE})
_SYMBOLS = "".join(sorted({c.symbol for c in _TABLE if c.symbol}))


def currency_info(currency: str) -> Currency:
    """The table's entry for an alpha code; :class:`MoneyError` naming the known ones if absent."""
    try:
        return CURRENCIES[currency]
    except (KeyError, TypeError):
        raise MoneyError(
            f"unknown currency {currency!r}: use one of {', '.join(sorted(CURRENCIES))}"
        ) from None


def exponent(currency: str) -> int:
    return currency_info(currency).exponent


def numeric_code(currency: str) -> int:
    return currency_info(currency).numeric


def find_alpha(numeric: int) -> str | None:
    """The alpha code for an ISO 4217 numeric code, or None when the table lacks it."""
    found = _BY_NUMERIC.get(numeric)
    return found.alpha if found is not None else None


def alpha_code(numeric: int) -> str:
    alpha = find_alpha(numeric)
    if alpha is None:
        raise MoneyError(f"unknown ISO 4217 numeric currency code {numeric}")
    return alpha


def format_money(amount: int, currency: str, *, symbol: bool = True) -> str:
    """``¥1,280``, ``$12.80``, ``-¥50``, ``12.80 AUD``: grouped by thousands, in ``currency``.

    The one way an amount in minor units becomes text (screens, receipts, manager pages and
    reports); the currency is always given, never assumed.
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise MoneyError(f"money amounts are integers in minor units, got {amount!r}")
    info = currency_info(currency)
    exp = info.exponent
    sign = "-" if amount < 0 else ""
    units, minor = divmod(abs(amount), 10**exp)
    text = f"{units:,}" + (f".{minor:0{exp}d}" if exp else "")
    if not symbol:
        return f"{sign}{text}"
    if not info.symbol:
        return f"{sign}{text} {info.alpha}"
    return f"{sign}{info.symbol}{text}"


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units of ``currency``."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise MoneyError(f"money amounts are integers in minor units, got {self.amount!r}")
        exponent(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise MoneyError("money can only be multiplied by an integer quantity")
        return Money(self.amount * factor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def format(self, *, symbol: bool = True) -> str:
        """``¥1,280``, ``$12.80``, ``-¥50``: see :func:`format_money`."""
        return format_money(self.amount, self.currency, symbol=symbol)

    def __str__(self) -> str:
        return self.format()


def parse_major(text: str, currency: str) -> Money:
    """Parse a human amount such as ``"12.80"`` or ``"1,280"`` into minor units."""
    exp = exponent(currency)
    cleaned = text.strip().replace(",", "").lstrip(_SYMBOLS)
    whole, dot, frac = cleaned.partition(".")
    if not whole.isdigit() or (dot and (not frac.isdigit() or len(frac) > exp)):
        raise MoneyError(
            f"{text!r} is not an amount in {currency}: "
            f"use digits{' and up to ' + str(exp) + ' decimals' if exp else ' only'}"
        )
    return Money(int(whole) * 10**exp + (int(frac.ljust(exp, "0")) if frac else 0), currency)
