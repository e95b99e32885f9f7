import pytest

from pos_app.core.errors import BarcodeError
from pos_app.core.gtin import (
    GtinKind,
    check_digit,
    expand_upce,
    is_valid_gtin,
    make_gtin,
    parse_gtin,
)

# Published examples: GS1's check digit calculator examples, well-known retail codes.
VALID = [
    ("4006381333931", GtinKind.EAN13),  # Stabilo pen, the Wikipedia EAN-13 example
    ("9780306406157", GtinKind.EAN13),  # ISBN-13 example
    ("4902102072618", GtinKind.EAN13),  # a JAN (Japan, prefix 49)
    ("96385074", GtinKind.EAN8),  # Wikipedia EAN-8 example
    ("73513537", GtinKind.EAN8),
    ("036000291452", GtinKind.UPCA),  # Wikipedia UPC-A example
    ("042100005264", GtinKind.UPCA),
]


@pytest.mark.parametrize(("code", "kind"), VALID)
def test_published_codes_are_valid(code: str, kind: GtinKind) -> None:
    gtin = parse_gtin(code)
    assert gtin.kind is kind
    assert len(gtin.key) == 13 and gtin.key.endswith(code)


@pytest.mark.parametrize(("code", "_kind"), VALID)
def test_every_wrong_check_digit_is_refused(code: str, _kind: GtinKind) -> None:
    for digit in "0123456789":
        if digit != code[-1]:
            assert not is_valid_gtin(code[:-1] + digit)


def test_check_digit_examples() -> None:
    assert check_digit("400638133393") == 1
    assert check_digit("03600029145") == 2
    assert make_gtin("490210207261") == "4902102072618"


@pytest.mark.parametrize(
    ("upce", "upca"),
    [
        ("04252614", "042100005264"),  # Wikipedia's example; 6th digit 0-2
        ("01234565", "012345000065"),  # the common textbook pair; 6th digit 5-9
        ("01234531", "012300000451"),  # 6th digit 3: X1X2X3 00000 X4X5
        ("01234543", "012340000053"),  # 6th digit 4: X1X2X3X4 00000 X5
    ],
)
def test_upce_expansion(upce: str, upca: str) -> None:
    assert expand_upce(upce)[:-1] == upca[:-1]


def test_upce_parse_uses_the_symbology_hint() -> None:
    gtin = parse_gtin("04252614", symbology="UPC-E")
    assert gtin.kind is GtinKind.UPCE
    assert gtin.key == "0042100005264"
    with pytest.raises(BarcodeError, match="check digit"):
        parse_gtin("04252615", symbology="UPC-E")
    with pytest.raises(BarcodeError, match="UPC-E"):
        expand_upce("24252614")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("", "digits only"),
        ("49021020726a", "digits only"),
        ("123", "has 3 digits"),
        ("４９０２１０２０７２６１８", "digits only"),
        ("425261", "6-digit UPC-E"),
    ],
)
def test_bad_input_says_what_is_wrong(bad: str, message: str) -> None:
    with pytest.raises(BarcodeError, match=message):
        parse_gtin(bad)
