"""Product categories, as listed in RISK-EVENTS.md."""

from __future__ import annotations

from enum import StrEnum


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
