"""Fixtures and builders for the risk tests (sales with injected event times).

Tests run with --import-mode=importlib, so builders reach them as the ``kit``
fixture rather than by import.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from pos_app.core.categories import Category
from pos_app.core.risk.backtest import Replay
from pos_app.core.risk.config import RuleSet, default_rules
from pos_app.core.risk.model import SaleFacts, SaleLine

T0 = 1_790_000_000  # an arbitrary event time; rules never read the clock
DAY = 86_400

_ids = itertools.count(1)

SaleMaker = Callable[..., SaleFacts]


def line(category: str, quantity: int, unit_price: int, sku: str = "") -> SaleLine:
    return SaleLine(
        sku=sku or f"{category}-{unit_price}",
        category=Category(category),
        quantity=quantity,
        unit_price=unit_price,
        line_total=quantity * unit_price,
    )


CARTON = ("heated_tobacco", 1, 5800)
PACK = ("tobacco", 1, 600)
LUNCH = ("food", 1, 650)


def make_sale(*items: tuple[str, int, int], **kw: Any) -> SaleFacts:
    lines = tuple(line(*item) for item in items)
    fields: dict[str, Any] = {
        "sale_id": f"s-{next(_ids)}",
        "time": T0,
        "lines": lines,
        "total": sum(x.line_total for x in lines),
        "token_age_s": 5,
        "store_id": "S001",
        "terminal_id": "T01",
        "wallet_id": "w-1",
        "device_id": "dev-1",
        "store_region": "JP-13",
    }
    fields.update(kw)
    return SaleFacts(**fields)


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    return SimpleNamespace(
        make_sale=make_sale, line=line, CARTON=CARTON, PACK=PACK, LUNCH=LUNCH, T0=T0, DAY=DAY
    )


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return default_rules()


@pytest.fixture
def replay(rules: RuleSet) -> Replay:
    return Replay(rules)
