"""Money as integers in minor units, with the currency's ISO 4217 exponent.

Floats never touch money: an amount is an ``int`` count of the currency's minor
unit (yen for JPY, cents for USD).
"""

from __future__ import annotations

from dataclasses import dataclass

from pos_app.core.errors import MoneyError

# ISO 4217: alpha code -> (numeric code, minor-unit exponent).
CURRENCIES: dict[str, tuple[int, int]] = {
    "JPY": (392, 0),
    "USD": (840, 2),
    "EUR": (978, 2),
    "GBP": (826, 2),
    "KRW": (410, 0),
    "TWD": (901, 2),
}

_SYMBOLS = {"JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "KRW": "₩"}


def exponent(currency: str) -> int:
    try:
        return CURRENCIES[currency][1]
    except KeyError:
        raise MoneyError(
            f"unknown currency {currency!r}: use one of {', '.join(sorted(CURRENCIES))}"
        ) from None


def numeric_code(currency: str) -> int:
    exponent(currency)  # validates
    return CURRENCIES[currency][0]


def alpha_code(numeric: int) -> str:
    for alpha, (num, _exp) in CURRENCIES.items():
        if num == numeric:
            return alpha
    raise MoneyError(f"unknown ISO 4217 numeric currency code {numeric}")


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
        """``¥1,280``, ``$12.80``, ``-¥50``; grouping by thousands."""
        exp = exponent(self.currency)
        sign = "-" if self.amount < 0 else ""
        units, minor = divmod(abs(self.amount), 10**exp) if exp else (abs(self.amount), 0)
        text = f"{units:,}" + (f".{minor:0{exp}d}" if exp else "")
        prefix = _SYMBOLS.get(self.currency, "") if symbol else ""
        if symbol and not prefix:
            return f"{sign}{text} {self.currency}"
        return f"{sign}{prefix}{text}"

    def __str__(self) -> str:
        return self.format()


def parse_major(text: str, currency: str) -> Money:
    """Parse a human amount such as ``"12.80"`` or ``"1,280"`` into minor units."""
    exp = exponent(currency)
    cleaned = text.strip().replace(",", "").lstrip("¥$€£₩")
    whole, dot, frac = cleaned.partition(".")
    if not whole.isdigit() or (dot and (not frac.isdigit() or len(frac) > exp)):
        raise MoneyError(
            f"{text!r} is not an amount in {currency}: "
            f"use digits{' and up to ' + str(exp) + ' decimals' if exp else ' only'}"
        )
    return Money(int(whole) * 10**exp + (int(frac.ljust(exp, "0")) if frac else 0), currency)
