"""The backend's history features, defined once.

Both the fast backtest (:class:`~pos_app.core.risk.velocity.VelocityTracker`,
history in memory) and the reference backend (``pos_app.server.risk``, history
read from its database) gather the same raw history and hand it to these
functions, so a feature means the same thing in a backtest as in production.

- A wallet's history is its completed sales within ``windows.wallet_history_s``
  before the sale (``time >= now - wallet_history_s``), the sale itself excluded,
  oldest first. The backend also knows sales still held for the owner's approval
  (``held``): they count wherever a feature measures exposure (counts, spend, the
  stores of the last hour; more attempts are more suspicious, never less) and vouch
  for nothing: only a completed sale makes a phone, a store or a kind of goods
  known, or sets the wallet's usual amounts. The backtest's owner answers at once,
  so it has no held sales.
- Its last top-up counts for ``windows.topup_memory_s``.
- Its step-ups the owner never approved count within ``windows.wallet_history_s``.
- A store's tobacco history is its wallet-paid tobacco-family sales within
  ``windows.store_baseline_s``.

Every window is inclusive at its old end: an event exactly ``span`` seconds old
is still inside it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from operator import attrgetter
from statistics import median_low
from typing import Any, NamedTuple

HOUR = 3600
DAY = 86_400
WEEK = 7 * DAY
MIN_TYPICAL_SALES = 3  # a "typical spend" needs a few sales to mean anything
MIN_BASELINE_S = DAY  # a store's hourly baseline needs a day of history
_NO_KINDS: frozenset[str] = frozenset()


class PastSale(NamedTuple):
    """One sale of a wallet (completed, or held for the owner), as its later sales see it."""

    time: int
    total: int
    cc: int  # cash-convertible value (Basket.cash_convertible)
    store_id: str
    region: str
    device_id: str
    # The owner approved this sale on this device (a passed step-up); the
    # approval is remembered for later, similar baskets from the same device.
    owner_approved: bool = False
    # The easy-to-resell categories in the sale (``resale_categories``).
    categories: frozenset[str] = frozenset()


_KINDS = attrgetter("categories")


def resale_categories(
    categories: Iterable[str], cash_convertible: Collection[str]
) -> frozenset[str]:
    """The easy-to-resell categories among a sale's line categories, as history keeps them."""
    return frozenset(str(c) for c in categories if c in cash_convertible)


def wallet_features(
    past: Sequence[PastSale],
    *,
    now: int,
    store_id: str,
    device_id: str,
    held: Sequence[PastSale] = (),
) -> dict[str, Any]:
    """Velocity and history features of a wallet (RiskContext keyword arguments).

    ``past`` are its completed sales, ``held`` those still waiting for the owner: both
    count in its exposure, only ``past`` vouches (module docstring).
    """
    c1 = c24 = c7 = s1 = s24 = s7 = cc1 = cc24 = cc7 = 0
    regions: set[str] = set()
    for sale in (*past, *held) if held else past:
        age = now - sale.time
        if age <= WEEK:
            c7 += 1
            s7 += sale.total
            cc7 += sale.cc
            if age <= DAY:
                c24 += 1
                s24 += sale.total
                cc24 += sale.cc
                if age <= HOUR:
                    c1 += 1
                    s1 += sale.total
                    cc1 += sale.cc
                    if sale.store_id != store_id:
                        regions.add(sale.region)
    cc_max_old = 0
    approvals: list[tuple[int, tuple[str, ...]]] = []
    devices: set[str] = set()
    stores: set[str] = set()
    for sale in past:  # what vouches: completed sales only
        if now - sale.time > DAY and sale.cc > cc_max_old:
            cc_max_old = sale.cc
        if sale.owner_approved and sale.device_id == device_id:
            approvals.append((sale.cc, tuple(sorted(sale.categories))))
        devices.add(sale.device_id)
        stores.add(sale.store_id)
    kinds = _NO_KINDS.union(*map(_KINDS, past))
    typical = median_low([s.total for s in past]) if len(past) >= MIN_TYPICAL_SALES else None
    # A wallet with only held sales has history, but no phone or store it paid from yet:
    # every one is new to it (a held sale never makes a later one look less new).
    history = bool(past) or bool(held)
    return {
        "wallet_sales_1h": c1,
        "wallet_sales_24h": c24,
        "wallet_sales_7d": c7,
        "wallet_spend_1h": s1,
        "wallet_spend_24h": s24,
        "wallet_spend_7d": s7,
        "wallet_cc_spend_1h": cc1,
        "wallet_cc_spend_24h": cc24,
        "wallet_cc_spend_7d": cc7,
        "wallet_typical_spend": typical,
        "wallet_cc_max_before_24h": cc_max_old,
        "wallet_history_age_s": now - past[0].time if past else 0,
        "wallet_history_sales": len(past) + len(held),
        # "New" means the wallet has paid (or tried to) before, never from this phone.
        "device_new_for_wallet": history and device_id not in devices,
        # What the owner approved on this phone: (easy-to-resell value, its kinds), oldest first.
        "device_owner_approvals": tuple(approvals),
        # "New" means the wallet has paid (or tried to) before, never at this store.
        "store_new_for_wallet": history and store_id not in stores,
        # The easy-to-resell categories the wallet bought in its history.
        "wallet_cc_categories": tuple(sorted(kinds)) if kinds else (),
        "other_store_regions_1h": tuple(sorted(regions)),
    }


def refused_features(refused: Sequence[int], *, now: int, history_s: int) -> dict[str, Any]:
    """Step-ups of the wallet the owner never approved (denied, expired, cancelled).

    ``refused`` holds the times they ended; those within ``history_s`` count.
    """
    recent = [t for t in refused if 0 <= now - t <= history_s]
    return {
        "wallet_refused_approvals": len(recent),
        "wallet_last_refused_age_s": now - max(recent) if recent else None,
    }


def topup_features(last: tuple[int, int] | None, *, now: int) -> dict[str, Any]:
    """The wallet's last remembered top-up as (time, amount), or None."""
    if last is None:
        return {"last_topup_age_s": None, "last_topup_amount": None}
    return {"last_topup_age_s": now - last[0], "last_topup_amount": last[1]}


def store_tobacco_features(
    *, now: int, last_hour: int, in_window: int, earliest: int | None, window_s: int
) -> dict[str, Any]:
    """A store's wallet-paid tobacco in the last hour against its usual hourly rate.

    ``in_window`` is the store's total over ``window_s`` (last hour included) and
    ``earliest`` the time of its oldest sale in that window. The baseline is the
    average hour before the last one, known once a day of history is there.
    """
    if earliest is None:
        return {"store_tobacco_1h": 0, "store_tobacco_hourly_baseline": None}
    observed = min(now - earliest, window_s) - HOUR
    if observed < MIN_BASELINE_S - HOUR:
        return {"store_tobacco_1h": last_hour, "store_tobacco_hourly_baseline": None}
    baseline = max(1, round((in_window - last_hour) * HOUR / observed))
    return {"store_tobacco_1h": last_hour, "store_tobacco_hourly_baseline": baseline}
