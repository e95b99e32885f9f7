import pytest

from pos_app.core.errors import MoneyError
from pos_app.core.money import (
    CURRENCIES,
    Money,
    alpha_code,
    exponent,
    find_alpha,
    format_money,
    numeric_code,
    parse_major,
)


def test_exponents_follow_iso_4217() -> None:
    assert exponent("JPY") == 0
    assert exponent("USD") == 2
    assert numeric_code("JPY") == 392
    assert alpha_code(840) == "USD"


def test_unknown_currency_names_the_allowed_ones() -> None:
    with pytest.raises(MoneyError, match="use one of .*JPY"):
        Money(1, "XXX")


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1280, "JPY", "¥1,280"),
        (0, "JPY", "¥0"),
        (-50, "JPY", "-¥50"),
        (1280, "USD", "$12.80"),
        (5, "USD", "$0.05"),
        (123456789, "EUR", "€1,234,567.89"),
    ],
)
def test_format(amount: int, currency: str, text: str) -> None:
    assert Money(amount, currency).format() == text


def test_arithmetic_stays_in_one_currency() -> None:
    assert Money(100, "JPY") + Money(40, "JPY") == Money(140, "JPY")
    assert Money(100, "JPY") * 3 == Money(300, "JPY")
    with pytest.raises(MoneyError):
        Money(100, "JPY") + Money(100, "USD")


@pytest.mark.parametrize("bad", [1.5, True, "100"])
def test_amounts_are_integers_only(bad: object) -> None:
    with pytest.raises(MoneyError):
        Money(bad, "JPY")  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(100, "JPY") * bad  # type: ignore[operator]


def test_parse_major() -> None:
    assert parse_major("1,280", "JPY") == Money(1280, "JPY")
    assert parse_major("12.8", "USD") == Money(1280, "USD")
    assert parse_major("$0.05", "USD") == Money(5, "USD")
    for bad in ("12.5", "abc", "-3"):
        with pytest.raises(MoneyError):
            parse_major(bad, "JPY")
    with pytest.raises(MoneyError, match="decimals"):
        parse_major("1.234", "USD")


@pytest.mark.parametrize(
    ("amount", "currency", "text", "bare"),
    [
        (1280, "JPY", "¥1,280", "1,280"),
        (1280, "USD", "$12.80", "12.80"),
        (-1280, "GBP", "-£12.80", "-12.80"),
        (1_000_000, "KRW", "₩1,000,000", "1,000,000"),
        (1280, "AUD", "12.80 AUD", "12.80"),  # "$" would not say which dollar
        (1280, "CNY", "12.80 CNY", "12.80"),  # "¥" is the yen's at a Japanese counter
    ],
)
def test_format_money_is_the_one_formatter(
    amount: int, currency: str, text: str, bare: str
) -> None:
    assert format_money(amount, currency) == text == Money(amount, currency).format()
    assert format_money(amount, currency, symbol=False) == bare


def test_format_money_needs_a_known_currency_and_integer_minor_units() -> None:
    with pytest.raises(MoneyError, match="unknown currency 'XYZ'"):
        format_money(100, "XYZ")
    with pytest.raises(MoneyError, match="integers in minor units"):
        format_money(12.8, "USD")  # type: ignore[arg-type]


def test_one_iso_4217_table_for_token_backend_and_till() -> None:
    from pos_app.paytoken.claims import currency_alpha, currency_numeric
    from pos_app.server.settings import ServerSettings

    for code, entry in CURRENCIES.items():
        assert entry.alpha == code and 0 < entry.numeric <= 999
        assert currency_numeric(code) == entry.numeric == numeric_code(code)
        assert currency_alpha(entry.numeric) == code == alpha_code(entry.numeric)
        assert ServerSettings.for_data_dir("/tmp", currency=code).currency_numeric == entry.numeric
    assert len({c.numeric for c in CURRENCIES.values()}) == len(CURRENCIES)
    assert currency_alpha(999) is None and find_alpha(999) is None
