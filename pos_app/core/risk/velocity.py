"""History features from a stream of events, with memory bounded by time windows.

:class:`VelocityTracker` is the backend's view: per wallet (sales and top-ups
across the network) and per store (wallet-paid tobacco). :class:`TerminalTracker`
is what one terminal knows: wallets and declines at the till. Both evict by event
time, so memory stays flat however long the stream is. Time is always the
event's time, passed in; nothing here reads the clock.

Usage: ``ctx = tracker.context_for(facts, base)`` before deciding, then
``tracker.record_sale(facts, ...)`` after. The reference backend reads the same
raw history from its database and derives the features with the same functions
(:mod:`pos_app.core.risk.features`).
"""

from __future__ import annotations

import sys
from collections import OrderedDict, deque
from dataclasses import replace
from typing import Any

from pos_app.core.risk import features as feat
from pos_app.core.risk.config import RuleSet
from pos_app.core.risk.model import Action, RiskContext, SaleFacts
from pos_app.core.risk.rules import BasketTotals, basket_of

_SWEEP_EVERY_S = feat.HOUR


class _Wallet:
    __slots__ = ("last_seen", "refused", "sales", "topup")

    def __init__(self) -> None:
        # A list, not a deque: a wallet holds a handful of sales, and an empty
        # deque alone costs ~600 bytes per wallet.
        self.sales: list[feat.PastSale] = []
        self.topup: tuple[int, int] | None = None  # (time, amount)
        self.refused: list[int] = []  # times of step-ups the owner never approved
        self.last_seen = 0

    def prune(self, now: int, history_s: int, topup_s: int) -> None:
        stale = 0
        for sale in self.sales:
            if now - sale.time <= history_s:
                break
            stale += 1
        if stale:
            del self.sales[:stale]
        if self.topup is not None and now - self.topup[0] > topup_s:
            self.topup = None
        if self.refused and now - self.refused[0] > history_s:
            self.refused = [t for t in self.refused if now - t <= history_s]


class _WindowSum:
    """Running sum of (time, value) over a trailing window."""

    __slots__ = ("items", "span_s", "total")

    def __init__(self, span_s: int) -> None:
        self.span_s = span_s
        self.items: deque[tuple[int, int]] = deque()
        self.total = 0

    def add(self, time: int, value: int) -> None:
        self.items.append((time, value))
        self.total += value

    def prune(self, now: int) -> None:
        while self.items and now - self.items[0][0] > self.span_s:
            self.total -= self.items.popleft()[1]


class _Store:
    __slots__ = ("baseline", "hour")

    def __init__(self, baseline_s: int) -> None:
        self.hour = _WindowSum(feat.HOUR)
        self.baseline = _WindowSum(baseline_s)


class VelocityTracker:
    """Backend features derived from top-ups and sales, in event-time order.

    It keeps the raw history the backend keeps in its database and derives the
    features with the same functions (:mod:`pos_app.core.risk.features`).
    """

    def __init__(self, rules: RuleSet) -> None:
        self._policy = rules.policy
        self._win = rules.windows
        # Least recently active first, so idle wallets are evicted from the front
        # in amortized O(1) per event.
        self._wallets: OrderedDict[str, _Wallet] = OrderedDict()
        self._stores: dict[str, _Store] = {}
        self._kinds: dict[frozenset[str], frozenset[str]] = {}
        self._last_sweep = 0

    def __len__(self) -> int:
        """Number of wallets currently remembered (for memory checks)."""
        return len(self._wallets)

    def record_topup(self, wallet_id: str, time: int, amount: int) -> None:
        self._sweep(time)
        self._touch(wallet_id, time).topup = (time, amount)

    def record_refused(self, wallet_id: str, time: int) -> None:
        """Remember a step-up of the wallet that its owner never approved."""
        self._sweep(time)
        self._touch(wallet_id, time).refused.append(time)

    def record_sale(
        self, facts: SaleFacts, basket: BasketTotals | None = None, *, owner_approved: bool = False
    ) -> None:
        """Remember a completed sale (``owner_approved``: a passed step-up on its device)."""
        self._sweep(facts.time)
        basket = basket or basket_of(facts, self._policy)
        # Interned: thousands of remembered sales share a few store, region and
        # device strings.
        sale = feat.PastSale(
            facts.time,
            facts.total,
            basket.cash_convertible,
            sys.intern(facts.store_id),
            sys.intern(facts.store_region),
            sys.intern(facts.device_id),
            owner_approved,
            self._categories(facts),
        )
        self._touch(facts.wallet_id, facts.time).sales.append(sale)
        if basket.tobacco > 0:
            store = self._stores.get(facts.store_id)
            if store is None:
                store = self._stores[facts.store_id] = _Store(self._win.store_baseline_s)
            store.hour.add(facts.time, basket.tobacco)
            store.baseline.add(facts.time, basket.tobacco)

    def _categories(self, facts: SaleFacts) -> frozenset[str]:
        kinds = feat.resale_categories(
            (line.category for line in facts.lines), self._policy.cash_convertible
        )
        # Interned: a handful of distinct sets for every remembered sale.
        return self._kinds.setdefault(kinds, kinds)

    def context_for(self, facts: SaleFacts, base: RiskContext | None = None) -> RiskContext:
        """The backend's features for this sale (the sale itself not yet recorded)."""
        return replace(base or RiskContext(), **self.features_for(facts))

    def features_for(self, facts: SaleFacts) -> dict[str, Any]:
        """The same as :meth:`context_for`, as RiskContext keyword arguments."""
        now = facts.time
        wallet = self._wallets.get(facts.wallet_id) or _Wallet()
        wallet.prune(now, self._win.wallet_history_s, self._win.topup_memory_s)
        features = feat.wallet_features(
            wallet.sales, now=now, store_id=facts.store_id, device_id=facts.device_id
        )
        features.update(feat.topup_features(wallet.topup, now=now))
        features.update(
            feat.refused_features(wallet.refused, now=now, history_s=self._win.wallet_history_s)
        )
        features.update(self._store_features(facts.store_id, now))
        return features

    def _store_features(self, store_id: str, now: int) -> dict[str, Any]:
        store = self._stores.get(store_id)
        if store is not None:
            store.hour.prune(now)
            store.baseline.prune(now)
        items = store.baseline.items if store is not None else None
        return feat.store_tobacco_features(
            now=now,
            last_hour=store.hour.total if store is not None else 0,
            in_window=store.baseline.total if store is not None else 0,
            earliest=items[0][0] if items else None,
            window_s=self._win.store_baseline_s,
        )

    def _touch(self, wallet_id: str, now: int) -> _Wallet:
        wallet = self._wallets.get(wallet_id)
        if wallet is None:
            wallet = self._wallets[wallet_id] = _Wallet()
        else:
            self._wallets.move_to_end(wallet_id)
        wallet.last_seen = now
        wallet.prune(now, self._win.wallet_history_s, self._win.topup_memory_s)
        return wallet

    def _sweep(self, now: int) -> None:
        keep = max(self._win.wallet_history_s, self._win.topup_memory_s)
        while self._wallets:
            oldest = next(iter(self._wallets.values()))
            if now - oldest.last_seen <= keep:
                break
            self._wallets.popitem(last=False)
        if now - self._last_sweep < _SWEEP_EVERY_S:
            return
        self._last_sweep = now
        for store_id in list(self._stores):
            store = self._stores[store_id]
            store.baseline.prune(now)
            store.hour.prune(now)
            if not store.baseline.items:
                del self._stores[store_id]


class TerminalTracker:
    """What tills know offline: wallets seen and declines, per terminal."""

    def __init__(self, rules: RuleSet) -> None:
        self._policy = rules.policy
        self._wallet_s = rules.windows.terminal_wallets_s
        self._decline_s = rules.windows.terminal_declines_s
        self._seen: dict[tuple[str, str], deque[tuple[int, str, int]]] = {}
        self._declines: dict[tuple[str, str], deque[int]] = {}
        self._last_sweep = 0

    def context_for(self, facts: SaleFacts, base: RiskContext | None = None) -> RiskContext:
        return replace(base or RiskContext(), **self.features_for(facts))

    def features_for(self, facts: SaleFacts) -> dict[str, Any]:
        """The till's features, as RiskContext keyword arguments."""
        key = (facts.store_id, facts.terminal_id)
        seen = self._seen.get(key, deque())
        declines = self._declines.get(key, deque())
        self._prune(seen, declines, facts.time)
        largest: dict[str, int] = {}
        for _, wallet, cc in seen:
            largest[wallet] = max(cc, largest.get(wallet, 0))
        return {
            "terminal_wallets_30m": tuple(sorted(largest.items())),
            "terminal_declines_10m": len(declines),
        }

    def record_sale(
        self, facts: SaleFacts, action: Action, basket: BasketTotals | None = None
    ) -> None:
        self._sweep(facts.time)
        key = (facts.store_id, facts.terminal_id)
        cc = (basket or basket_of(facts, self._policy)).cash_convertible
        self._seen.setdefault(key, deque()).append((facts.time, facts.wallet_id, cc))
        if action is Action.DECLINE:
            self._declines.setdefault(key, deque()).append(facts.time)

    def _prune(self, seen: deque[tuple[int, str, int]], declines: deque[int], now: int) -> None:
        while seen and now - seen[0][0] > self._wallet_s:
            seen.popleft()
        while declines and now - declines[0] > self._decline_s:
            declines.popleft()

    def _sweep(self, now: int) -> None:
        if now - self._last_sweep < _SWEEP_EVERY_S:
            return
        self._last_sweep = now
        for key in list(self._seen):
            seen, declines = self._seen[key], self._declines.get(key, deque())
            self._prune(seen, declines, now)
            if not seen:
                del self._seen[key]
            if not declines:
                self._declines.pop(key, None)
