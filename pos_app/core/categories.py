"""Product categories, as listed in RISK-EVENTS.md."""

from __future__ import annotations

from enum import StrEnum

from pos_app.core.i18n import N_, Messages


class Category(StrEnum):
    TOBACCO = "tobacco"
    HEATED_TOBACCO = "heated_tobacco"
    E_CIG = "e_cig"
    GIFT_CARD = "gift_card"
    ALCOHOL = "alcohol"
    ELECTRONICS = "electronics"
    FOOD = "food"
    BEVERAGE = "beverage"
    HOUSEHOLD = "household"
    OTHER = "other"

    @property
    def cash_convertible(self) -> bool:
        return self in CASH_CONVERTIBLE


CASH_CONVERTIBLE: frozenset[Category] = frozenset(
    {
        Category.TOBACCO,
        Category.HEATED_TOBACCO,
        Category.E_CIG,
        Category.GIFT_CARD,
        Category.ALCOHOL,
        Category.ELECTRONICS,
    }
)


# Each category as a cashier or a manager says it (message key ``category_<value>``).
CATEGORY_WORDS: tuple[tuple[str, str], ...] = (
    N_("category_tobacco", "tobacco"),
    N_("category_heated_tobacco", "heated tobacco"),
    N_("category_e_cig", "e-cigarette"),
    N_("category_gift_card", "gift / prepaid card"),
    N_("category_alcohol", "alcohol"),
    N_("category_electronics", "electronics"),
    N_("category_food", "food"),
    N_("category_beverage", "beverage"),
    N_("category_household", "household"),
    N_("category_other", "other"),
)
_WORDS = Messages(*CATEGORY_WORDS)


def category_word(value: str, lang: str) -> str:
    """The category in words in ``lang``; a category this code does not know shows as itself."""
    return _WORDS.text(f"category_{value}", lang) if f"category_{value}" in _WORDS else value
