"""Sales-log events (RISK-EVENTS.md): one JSON object per line.

``parse_event`` turns one line into a :class:`TopUpEvent` or a :class:`SaleEvent` (the
sale's facts plus its optional scoring label), or raises :class:`EventError`
with a short reason. Unknown fields are ignored. The label is kept apart from
the facts so that no rule can read it.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from pos_app.core.categories import Category
from pos_app.core.risk.model import SaleFacts, SaleLine

LABELS = ("legit", "fraud")


class EventError(ValueError):
    """A line that is not a valid event; the message says why."""


class TopUpEvent(NamedTuple):
    time: int
    wallet_id: str
    amount: int


class SaleEvent(NamedTuple):
    facts: SaleFacts
    label: str | None


Event = TopUpEvent | SaleEvent


def _get(obj: dict[str, Any], key: str, kind: type, *, where: str = "") -> Any:
    if key not in obj:
        raise EventError(f"missing {where}{key!r}")
    value = obj[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise EventError(f"{where}{key!r} must be an integer")
    if not isinstance(value, kind):
        raise EventError(f"{where}{key!r} must be {kind.__name__}")
    return value


def _amount(obj: dict[str, Any], key: str, *, where: str = "") -> int:
    value: int = _get(obj, key, int, where=where)
    if value < 0:
        raise EventError(f"{where}{key!r} must not be negative")
    return value


_CATEGORIES: dict[str, Category] = {c.value: c for c in Category}


def _line(obj: Any, index: int) -> SaleLine:
    if type(obj) is dict:
        # The common case in one pass; anything unusual takes the checked path.
        category = _CATEGORIES.get(obj.get("category"))  # type: ignore[arg-type]
        sku, qty, unit, total = (
            obj.get(k) for k in ("sku", "quantity", "unit_price", "line_total")
        )
        if (
            category is not None
            and type(sku) is str
            and type(qty) is int
            and type(unit) is int
            and type(total) is int
            and qty >= 0
            and unit >= 0
            and total >= 0
        ):
            return SaleLine(sku, category, qty, unit, total)
    return _checked_line(obj, index)


def _checked_line(obj: Any, index: int) -> SaleLine:
    where = f"line {index}: "
    if not isinstance(obj, dict):
        raise EventError(f"lines[{index}] must be an object")
    category = _get(obj, "category", str, where=where)
    try:
        cat = Category(category)
    except ValueError:
        raise EventError(f"{where}unknown category {category!r}") from None
    return SaleLine(
        sku=_get(obj, "sku", str, where=where),
        category=cat,
        quantity=_amount(obj, "quantity", where=where),
        unit_price=_amount(obj, "unit_price", where=where),
        line_total=_amount(obj, "line_total", where=where),
    )


def _sale(obj: dict[str, Any]) -> SaleEvent:
    lines = _get(obj, "lines", list)
    label = obj.get("label")
    if label is not None and label not in LABELS:
        raise EventError(f"'label' must be one of {LABELS}")
    age = obj.get("token_age_s")
    if age is not None and (isinstance(age, bool) or not isinstance(age, int)):
        raise EventError("'token_age_s' must be an integer")
    facts = SaleFacts(
        sale_id=_get(obj, "sale_id", str),
        time=_amount(obj, "time"),
        lines=tuple(_line(line, i) for i, line in enumerate(lines)),
        total=_amount(obj, "total"),
        currency=str(obj.get("currency", "JPY")),
        token_flags=_amount(obj, "token_flags"),
        token_age_s=age,
        offline=bool(_get(obj, "offline", bool)),
        pickup_later=bool(obj.get("pickup_later", False)),
        store_id=_get(obj, "store_id", str),
        terminal_id=_get(obj, "terminal_id", str),
        wallet_id=_get(obj, "wallet_id", str),
        device_id=str(obj.get("device_id", "")),
        store_region=str(obj.get("store_region", "")),
    )
    return SaleEvent(facts, label)


def parse_event(text: str) -> Event:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventError(f"not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise EventError("not a JSON object")
    kind = obj.get("type")
    if kind == "top_up":
        return TopUpEvent(_amount(obj, "time"), _get(obj, "wallet_id", str), _amount(obj, "amount"))
    if kind == "sale":
        return _sale(obj)
    raise EventError(f"unknown event type {kind!r}")
