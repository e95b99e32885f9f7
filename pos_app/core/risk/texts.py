"""Sentences for people: one template per reason code, English here, Japanese in the
gettext catalogue (:mod:`pos_app.core.i18n`).

Templates are filled from the rule's inputs, so the sentence always shows the
numbers that made the rule fire. Written for a cashier or a store manager.
"""

from __future__ import annotations

from typing import Any

from pos_app.core.categories import category_word
from pos_app.core.i18n import N_, Messages, translate

TEXTS = Messages(
    N_("token_reused", "This payment code was already used. A code works only once."),
    N_("wallet_frozen", "This wallet is frozen by the payment network."),
    N_(
        "unknown_token_flags",
        "The payment code carries risk flags this terminal does not know (bits {unknown_bits}); "
        "it must be authorized online.",
    ),
    N_(
        "takeover_token_flags",
        "The account shows signs of takeover ({flags}) and the basket has {cash_convertible:,} "
        "yen of easy-to-resell goods; the owner must approve on their phone.",
    ),
    N_(
        "weak_account_flags",
        "The account is weakly protected ({flags}) and the basket has {cash_convertible:,} yen "
        "of easy-to-resell goods.",
    ),
    N_(
        "cash_convertible_above_history",
        "This wallet is buying {cash_convertible_24h:,} yen of easy-to-resell goods today; its "
        "largest such purchase before was {largest_earlier_cash_convertible:,} yen.",
    ),
    N_(
        "wallet_repeat_cash_convertible",
        "This wallet already bought {earlier_cash_convertible_24h:,} yen of easy-to-resell goods "
        "in the last 24 hours ({cash_convertible_24h:,} yen with this basket).",
    ),
    N_(
        "wallet_weekly_cash_convertible",
        "This wallet has bought {cash_convertible_7d:,} yen of easy-to-resell goods in 7 days, "
        "far more than one household uses.",
    ),
    N_(
        "wallet_spend_spike",
        "This basket ({total:,} yen) is far above what this wallet usually spends "
        "({typical_spend:,} yen).",
    ),
    N_(
        "topup_then_spend",
        "The wallet was topped up with {topup_amount:,} yen {minutes_since_topup} minutes ago and "
        "is now spending it on easy-to-resell goods.",
    ),
    N_(
        "distant_stores_1h",
        "The same wallet paid in a distant region ({distant_regions}) within the last hour.",
    ),
    N_(
        "store_new_for_wallet",
        "This wallet has paid {history_sales} times before, never at this store, and now buys "
        "{cash_convertible:,} yen of easy-to-resell goods here.",
    ),
    N_(
        "category_new_for_wallet",
        "In its history ({history_sales} payments) this wallet never bought {new_categories}; "
        "it now buys {new_value:,} yen of them.",
    ),
    N_(
        "owner_approval_refused",
        "A payment from this wallet held for the owner's approval {hours_since_refused} hours "
        "ago was never approved ({refused_approvals} in its history); the owner must approve "
        "this one ({cash_convertible:,} yen of easy-to-resell goods) on their phone.",
    ),
    N_(
        "device_new_for_wallet",
        "The payment code comes from a phone this wallet has not paid with before.",
    ),
    N_(
        "wallet_rotation_at_terminal",
        "{other_wallets_30m} other wallets bought easy-to-resell goods at this till in the last "
        "30 minutes: wallets may be rotated by one buyer.",
    ),
    N_(
        "terminal_recent_declines",
        "{declines_10m} payments were declined at this till in the last 10 minutes.",
    ),
    N_(
        "bulk_cash_convertible",
        "Bulk quantity of easy-to-resell goods: {cartons} cartons, up to {identical_units} "
        "identical units.",
    ),
    N_(
        "large_cash_convertible_basket",
        "The basket has {cash_convertible:,} yen of easy-to-resell goods; a manager should check.",
    ),
    N_("large_basket", "The basket total of {total:,} yen is far above a normal store purchase."),
    N_(
        "pickup_later_cash_convertible",
        "A 'pick up later' order with {cash_convertible:,} yen of easy-to-resell goods.",
    ),
    N_(
        "old_token",
        "The payment code was created {token_age_s} seconds ago; it may have been sent from "
        "another phone.",
    ),
    N_(
        "store_tobacco_spike",
        "This store sold {store_tobacco_1h:,} yen of tobacco by wallet in the last hour, far "
        "above its usual {store_hourly_baseline:,} yen per hour.",
    ),
    N_(
        "offline_cash_convertible",
        "Offline, easy-to-resell goods over {limit:,} yen ({cash_convertible:,} yen here) need "
        "online authorization.",
    ),
    N_(
        "offline_trust_list_old",
        "The terminal's key list is {trust_list_age_h} hours old; offline payments are not "
        "accepted until it is refreshed.",
    ),
)

# Token risk flags in a sentence ("signs of takeover (new device, overseas)").
FLAGS = Messages(
    N_("new_device", "new device"),
    N_("credential_reset", "credential reset"),
    N_("overseas", "overseas"),
    N_("new_account", "new account"),
    N_("no_user_verification", "no user verification"),
    N_("list_separator", ", "),
)


def template(code: str, lang: str) -> str:
    """The rule's sentence with its ``{placeholders}`` in ``lang`` (KeyError: no such rule)."""
    return translate(lang, code, TEXTS[code])


def sentence(code: str, inputs: dict[str, Any], lang: str) -> str:
    """The fired rule's sentence in ``lang``, filled with its inputs."""
    values = dict(inputs)
    flags = [str(f) for f in inputs.get("flags", [])]
    separator = FLAGS.text("list_separator", lang)
    values["flags"] = separator.join(FLAGS.text(f, lang) for f in flags)
    values["distant_regions"] = ", ".join(str(r) for r in inputs.get("distant_regions_1h", []))
    kinds = inputs.get("new_categories", [])
    values["new_categories"] = separator.join(category_word(str(c), lang) for c in kinds)
    return template(code, lang).format_map(values)


def render(code: str, inputs: dict[str, Any]) -> tuple[str, str]:
    """Return the (English, Japanese) sentences for a fired rule."""
    return sentence(code, inputs, "en"), sentence(code, inputs, "ja")
