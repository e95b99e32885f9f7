"""Load and validate a risk rule set (``config/risk.toml``).

Every rule the engine knows is declared here with the type and range of each of
its keys; the file sets their values. Validation happens once at load, and every
error names the file, the rule (or section) and the key. The rule set's version
is a hash of its normalized content, recorded with every decision.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, cast

from pos_app.core.categories import Category
from pos_app.core.errors import RiskConfigError
from pos_app.core.risk.model import FLAG_NAMES, Action

ParamValue = int | float | bool | str | tuple[str, ...]
Checker = Callable[[Any], "ParamValue | None"]  # None = invalid


def _int_range(low: int, high: int) -> Checker:
    def check(value: Any) -> ParamValue | None:
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return value if ok else None

    check.__doc__ = f"an integer between {low} and {high}"
    return check


def _number_range(low: float, high: float) -> Checker:
    def check(value: Any) -> ParamValue | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value) if low <= value <= high else None

    check.__doc__ = f"a number between {low:g} and {high:g}"
    return check


def _boolean(value: Any) -> ParamValue | None:
    return value if isinstance(value, bool) else None


_boolean.__doc__ = "true or false"


def _name_list(known: Collection[str], what: str) -> Checker:
    """A checker of a non-empty list of names from ``known`` (token flags, categories)."""

    def check(value: Any) -> ParamValue | None:
        if not isinstance(value, list) or not value:
            return None
        if not all(isinstance(v, str) and v in known for v in value):
            return None
        return tuple(sorted(set(value)))

    check.__doc__ = f"a non-empty list of {what} from {sorted(known)}"
    return check


_flag_list = _name_list(FLAG_NAMES, "token flags")
_category_list = _name_list({c.value for c in Category}, "categories")


def _force(value: Any) -> ParamValue | None:
    allowed = {"none", *(a.value for a in Action if a is not Action.ALLOW)}
    return value if isinstance(value, str) and value in allowed else None


_force.__doc__ = '"none", "customer_approval", "manager_approval" or "decline"'

YEN = _int_range(0, 100_000_000)
COUNT = _int_range(0, 1_000_000)
SECONDS = _int_range(0, 400 * 86_400)
FACTOR = _number_range(0.0, 1000.0)
FRACTION = _number_range(0.0, 1.0)

COMMON_KEYS: dict[str, Checker] = {
    "enabled": _boolean,
    "weight": _int_range(0, 1000),
    "force": _force,
    "takeover": _boolean,
}


# The rules this engine implements (pos_app.core.risk.rules) and their own keys.
def _yen(*keys: str) -> dict[str, Checker]:
    """A rule's keys that are all yen amounts."""
    return dict.fromkeys(keys, YEN)


RULE_KEYS: dict[str, dict[str, Checker]] = {
    "token_reused": {},
    "wallet_frozen": {},
    "unknown_token_flags": {},
    "takeover_token_flags": {"flags": _flag_list, "min_cash_convertible": YEN},
    "weak_account_flags": {"flags": _flag_list, "min_cash_convertible": YEN},
    "cash_convertible_above_history": {
        "min_basket_cash_convertible": YEN,
        "floor": YEN,
        "growth_factor": FACTOR,
    },
    "wallet_repeat_cash_convertible": _yen(
        "min_basket_cash_convertible", "min_prior_24h", "min_combined_24h"
    ),
    "wallet_weekly_cash_convertible": _yen("min_basket_cash_convertible", "min_combined_7d"),
    "wallet_spend_spike": {"min_total": YEN, "factor": FACTOR},
    "topup_then_spend": {
        "within_s": SECONDS,
        "min_share_of_topup": FRACTION,
        "min_cash_convertible": YEN,
    },
    "distant_stores_1h": _yen("min_total"),
    "device_new_for_wallet": _yen("min_cash_convertible"),
    "store_new_for_wallet": {"min_cash_convertible": YEN, "min_history_sales": COUNT},
    "category_new_for_wallet": {
        "categories": _category_list,
        "min_new_value": YEN,
    },
    "owner_approval_refused": {"within_s": SECONDS, "min_cash_convertible": YEN},
    "wallet_rotation_at_terminal": {"min_other_wallets": COUNT, "min_cash_convertible": YEN},
    "terminal_recent_declines": {"min_declines": COUNT, "min_cash_convertible": YEN},
    "bulk_cash_convertible": {"min_cartons": COUNT, "min_identical_units": COUNT},
    "large_cash_convertible_basket": _yen("min_cash_convertible"),
    "large_basket": _yen("min_total"),
    "pickup_later_cash_convertible": _yen("min_cash_convertible"),
    "old_token": {"max_age_s": SECONDS, "min_cash_convertible": YEN},
    "store_tobacco_spike": {"factor": FACTOR, "min_store_1h": YEN, "min_basket_tobacco": YEN},
    "offline_cash_convertible": _yen("max_offline_cash_convertible"),
    "offline_trust_list_old": {"max_age_s": SECONDS},
}

POLICY_KEYS: dict[str, Checker] = {
    "customer_approval_score": _int_range(1, 10_000),
    "decline_score": _int_range(1, 10_000),
    "carton_min_unit_price": YEN,
    "discounted_resale_percent": _int_range(0, 100),
    "owner_approval_growth": FACTOR,
}

WINDOW_KEYS: dict[str, Checker] = {
    "terminal_wallets_s": SECONDS,
    "terminal_declines_s": SECONDS,
    "wallet_history_s": SECONDS,
    "topup_memory_s": SECONDS,
    "store_baseline_s": SECONDS,
}


@dataclass(frozen=True, slots=True)
class RuleSpec:
    code: str
    enabled: bool
    weight: int
    force: Action | None
    takeover: bool
    params: Mapping[str, ParamValue]

    # Types were checked at load (RULE_KEYS); no checks here, on the hot path.
    def yen(self, key: str) -> int:
        return cast(int, self.params[key])

    def number(self, key: str) -> float:
        return float(cast(float, self.params[key]))

    def names(self, key: str) -> tuple[str, ...]:
        return cast(tuple[str, ...], self.params[key])

    def flags(self, key: str) -> int:
        value = self.params[key]
        assert isinstance(value, tuple)
        mask = 0
        for name in value:
            mask |= FLAG_NAMES[name]
        return mask


class Policy(NamedTuple):
    """The ``[policy]`` table and the ``[regions]`` groups."""

    customer_approval_score: int
    decline_score: int
    carton_min_unit_price: int
    cash_convertible: frozenset[Category]
    tobacco_family: frozenset[Category]
    # Goods that resell only at a steep discount count for this percentage of
    # their price in the easy-to-resell value (rules.basket_of).
    discounted_resale: frozenset[Category]
    discounted_resale_percent: int
    region_groups: Mapping[str, str]  # region code -> group name
    # A basket the owner approved on a phone vouches, on that phone, for baskets of the
    # same kinds of easy-to-resell goods up to this multiple of its value (rules.py).
    owner_approval_growth: float = 1.0


class Windows(NamedTuple):
    """The time windows of ``[windows]`` (seconds)."""

    terminal_wallets_s: int
    terminal_declines_s: int
    wallet_history_s: int
    topup_memory_s: int
    store_baseline_s: int


class RuleSet(NamedTuple):
    """A parsed rule file: its policy, windows, rules in file order and version."""

    source: str
    policy: Policy
    windows: Windows
    rules: tuple[RuleSpec, ...]
    version: str

    def rule(self, code: str) -> RuleSpec | None:
        return next((r for r in self.rules if r.code == code), None)


def _int(value: ParamValue) -> int:
    assert isinstance(value, int)
    return value


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _fail(
    source: str, where: str, key: str, checker: Checker | None, value: Any
) -> RiskConfigError:
    expected = checker.__doc__ if checker is not None else "a known key"
    return RiskConfigError(
        f"{source}: {where}: key {_show(key)} must be {expected}, got {_show(value)}"
    )


def _check_table(
    source: str, where: str, table: Any, schema: Mapping[str, Checker]
) -> dict[str, ParamValue]:
    if not isinstance(table, dict):
        raise RiskConfigError(f"{source}: {where} must be a table, got {_show(table)}")
    out: dict[str, ParamValue] = {}
    for key, value in table.items():
        if key not in schema:
            known = ", ".join(sorted(schema)) or "none"
            raise RiskConfigError(f"{source}: {where}: unknown key {_show(key)} (known: {known})")
        checked = schema[key](value)
        if checked is None:
            raise _fail(source, where, key, schema[key], value)
        out[key] = checked
    missing = sorted(set(schema) - set(out))
    if missing:
        raise RiskConfigError(f"{source}: {where}: missing key {_show(missing[0])}")
    return out


def _categories(source: str, where: str, key: str, value: Any) -> frozenset[Category]:
    names = {c.value for c in Category}
    if not isinstance(value, list) or not all(isinstance(v, str) and v in names for v in value):
        raise RiskConfigError(
            f"{source}: {where}: key {_show(key)} must be a list of categories "
            f"from {sorted(names)}, got {_show(value)}"
        )
    return frozenset(Category(v) for v in value)


def _region_groups(source: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise RiskConfigError(f"{source}: [regions] must be a table, got {_show(value)}")
    out: dict[str, str] = {}
    for group, regions in value.items():
        if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
            raise RiskConfigError(
                f"{source}: [regions]: key {_show(group)} must be a list of region codes, "
                f"got {_show(regions)}"
            )
        for region in regions:
            if region in out:
                raise RiskConfigError(
                    f"{source}: [regions]: key {_show(group)}: region {_show(region)} "
                    f"is already in group {_show(out[region])}"
                )
            out[region] = group
    return out


def _policy(source: str, table: Any) -> Policy:
    if not isinstance(table, dict):
        raise RiskConfigError(f"{source}: [policy] must be a table, got {_show(table)}")
    lists = ("cash_convertible", "tobacco_family", "discounted_resale")
    plain = {k: v for k, v in table.items() if k not in lists}
    values = _check_table(source, "[policy]", plain, POLICY_KEYS)
    for key in lists:
        if key not in table:
            raise RiskConfigError(f"{source}: [policy]: missing key {_show(key)}")
    approval, decline = _int(values["customer_approval_score"]), _int(values["decline_score"])
    if decline <= approval:
        raise _fail(source, "[policy]", "decline_score", _int_range(approval + 1, 10_000), decline)
    return Policy(
        customer_approval_score=approval,
        decline_score=decline,
        carton_min_unit_price=_int(values["carton_min_unit_price"]),
        cash_convertible=_categories(
            source, "[policy]", "cash_convertible", table["cash_convertible"]
        ),
        tobacco_family=_categories(source, "[policy]", "tobacco_family", table["tobacco_family"]),
        discounted_resale=_categories(
            source, "[policy]", "discounted_resale", table["discounted_resale"]
        ),
        discounted_resale_percent=_int(values["discounted_resale_percent"]),
        region_groups={},
        owner_approval_growth=float(cast(float, values["owner_approval_growth"])),
    )


def _rule(source: str, code: str, table: Any) -> RuleSpec:
    where = f"rule {_show(code)}"
    if code not in RULE_KEYS:
        raise RiskConfigError(
            f"{source}: unknown rule {_show(code)} (known: {', '.join(sorted(RULE_KEYS))})"
        )
    values = _check_table(source, where, table, {**COMMON_KEYS, **RULE_KEYS[code]})
    force = str(values.pop("force"))
    return RuleSpec(
        code=code,
        enabled=bool(values.pop("enabled")),
        weight=_int(values.pop("weight")),
        force=None if force == "none" else Action(force),
        takeover=bool(values.pop("takeover")),
        params=values,
    )


def _version(policy: Policy, windows: Windows, rules: tuple[RuleSpec, ...]) -> str:
    normal = {
        "policy": {
            "customer_approval_score": policy.customer_approval_score,
            "decline_score": policy.decline_score,
            "carton_min_unit_price": policy.carton_min_unit_price,
            "cash_convertible": sorted(policy.cash_convertible),
            "tobacco_family": sorted(policy.tobacco_family),
            "discounted_resale": sorted(policy.discounted_resale),
            "discounted_resale_percent": policy.discounted_resale_percent,
            "owner_approval_growth": policy.owner_approval_growth,
            "regions": sorted(policy.region_groups.items()),
        },
        "windows": {k: getattr(windows, k) for k in WINDOW_KEYS},
        "rules": [
            {
                "code": r.code,
                "enabled": r.enabled,
                "weight": r.weight,
                "force": r.force.value if r.force else "none",
                "takeover": r.takeover,
                "params": {k: list(v) if isinstance(v, tuple) else v for k, v in r.params.items()},
            }
            for r in rules
        ],
    }
    blob = json.dumps(normal, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(blob).hexdigest()[:16]


def parse_rules(text: str, *, source: str = "<string>") -> RuleSet:
    """Parse and validate a rule set from TOML text; raise RiskConfigError naming the key."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RiskConfigError(f"{source}: not valid TOML: {exc}") from exc
    for section in ("policy", "windows", "regions", "rules"):
        if section not in doc:
            raise RiskConfigError(f"{source}: missing section [{section}]")
    unknown = sorted(set(doc) - {"policy", "windows", "regions", "rules"})
    if unknown:
        raise RiskConfigError(f"{source}: unknown section [{unknown[0]}]")
    policy = _policy(source, doc["policy"])
    policy = policy._replace(region_groups=_region_groups(source, doc["regions"]))
    win = _check_table(source, "[windows]", doc["windows"], WINDOW_KEYS)
    windows = Windows(**{k: _int(v) for k, v in win.items()})
    if not isinstance(doc["rules"], dict):
        raise RiskConfigError(f"{source}: [rules] must be a table of rules")
    rules = tuple(_rule(source, code, table) for code, table in doc["rules"].items())
    return RuleSet(
        source=source,
        policy=policy,
        windows=windows,
        rules=rules,
        version=_version(policy, windows, rules),
    )


def load_rules(path: str | Path) -> RuleSet:
    """Read a rule file; an unreadable file is a RiskConfigError naming it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RiskConfigError(f"{path}: cannot read the risk rule file: {exc}") from exc
    return parse_rules(text, source=str(path))


def default_rules() -> RuleSet:
    """The rule set shipped inside the package (a copy of the repository's config/risk.toml)."""
    from pos_app.core.risk.default_rules import DEFAULT_RULES_TOML

    return parse_rules(DEFAULT_RULES_TOML, source="config/risk.toml")
