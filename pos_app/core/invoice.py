"""Japan's qualified invoice: the issuer's registration number (適格請求書発行事業者登録番号).

A registration number is ``T`` followed by 13 digits. For a corporation the digits are its
corporate number (法人番号), whose first digit is a check digit over the other twelve (the
National Tax Agency's rule: 9 minus the weighted sum modulo 9, weights 1 and 2 alternating
from the lowest digit). Numbers issued to sole proprietors follow the same form, so the check
digit is verified for every number: a typo on the printed invoice makes it invalid for the
customer's tax credit.
"""

from __future__ import annotations

from pos_app.core.errors import ConfigError


def check_digit(base12: str) -> int:
    """The leading check digit of a 13-digit corporate number, from its last 12 digits."""
    if len(base12) != 12 or not base12.isascii() or not base12.isdigit():
        raise ConfigError("the base of a corporate number is exactly 12 digits")
    total = 0
    for n, ch in enumerate(reversed(base12), start=1):
        total += int(ch) * (1 if n % 2 else 2)
    return 9 - total % 9


def parse_registration_number(text: str) -> str:
    """Return the canonical ``T`` + 13 digits form, or raise with what is wrong."""
    raw = text.strip().replace("-", "").replace(" ", "")
    if not raw:
        raise ConfigError(
            "no invoice registration number is set: put the issuer's 'T' + 13 digits in "
            "[receipt] registration_number"
        )
    if raw[0] in "tT":
        raw = raw[1:]
    if len(raw) != 13 or not raw.isascii() or not raw.isdigit():
        raise ConfigError(f"invoice registration number {text!r} is not 'T' followed by 13 digits")
    if int(raw[0]) != check_digit(raw[1:]):
        raise ConfigError(
            f"invoice registration number {text!r} fails its check digit: "
            "copy it again from the registration notice (適格請求書発行事業者の登録通知書)"
        )
    return "T" + raw
