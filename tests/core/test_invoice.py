import pytest

from pos_app.core.basket import tax_by_rate
from pos_app.core.errors import ConfigError
from pos_app.core.invoice import check_digit, parse_registration_number


def test_check_digit_of_published_corporate_numbers() -> None:
    # 国税庁 (the National Tax Agency's own corporate number, 7000012050002)
    assert check_digit("000012050002") == 7
    # By hand: digits from the lowest, weights 1,2,1,2...: 74; 74 % 9 = 2; 9 - 2 = 7
    assert check_digit("123456789012") == 7


@pytest.mark.parametrize(
    "text", ["T7000012050002", "t7000012050002", " T7000-0120-50002 ", "7000012050002"]
)
def test_registration_number_canonical_form(text: str) -> None:
    assert parse_registration_number(text) == "T7000012050002"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("T7000012050003", "check digit"),
        ("T700001205000", "13 digits"),
        ("T70000120500021", "13 digits"),
        ("T70000120500O2", "13 digits"),
        ("", "registration_number"),
    ],
)
def test_bad_registration_numbers_say_what_is_wrong(text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse_registration_number(text)


def test_tax_is_rounded_once_per_rate_not_per_line() -> None:
    # Two 105-yen 8% lines: per line 7 + 7 = 14 yen; once per rate 210 * 8 // 108 = 15 yen.
    (eight,) = tax_by_rate([(8, 105), (8, 105)])
    assert (eight.rate, eight.gross, eight.tax) == (8, 210, 15)
    rates = tax_by_rate([(10, 1100), (8, 108), (10, 550)])
    assert [(t.rate, t.gross, t.tax) for t in rates] == [(8, 108, 8), (10, 1650, 150)]
