"""How times read on the manager screens (store's local time); amounts read through
:func:`pos_app.core.money.format_money`, in the sale's own currency."""

from __future__ import annotations

from datetime import datetime, tzinfo


def when(ts: int, tz: tzinfo) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M")


def clock(ts: int, tz: tzinfo) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%H:%M:%S")


def when_short(ts: int, tz: tzinfo) -> str:
    """For the queue: a week of sales never needs the year."""
    return datetime.fromtimestamp(ts, tz).strftime("%m-%d %H:%M")
