"""Sentences for people: one English and one Japanese template per reason code.

Templates are filled from the rule's inputs, so the sentence always shows the
numbers that made the rule fire. Written for a cashier or a store manager.
"""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, tuple[str, str]] = {
    "token_reused": (
        "This payment code was already used. A code works only once.",
        "この支払いコードは使用済みです。コードは一度しか使えません。",
    ),
    "wallet_frozen": (
        "This wallet is frozen by the payment network.",
        "このウォレットは決済ネットワークにより凍結されています。",
    ),
    "unknown_token_flags": (
        "The payment code carries risk flags this terminal does not know "
        "(bits {unknown_bits}); it must be authorized online.",
        "支払いコードに未知のリスクフラグ（ビット {unknown_bits}）があるため、"
        "オンライン承認が必要です。",
    ),
    "takeover_token_flags": (
        "The account shows signs of takeover ({flags_en}) and the basket has "
        "{cash_convertible:,} yen of easy-to-resell goods; the owner must approve on their phone.",
        "アカウントに乗っ取りの兆候（{flags_ja}）があり、換金しやすい商品が "
        "{cash_convertible:,} 円含まれています。本人のスマートフォンでの承認が必要です。",
    ),
    "weak_account_flags": (
        "The account is weakly protected ({flags_en}) and the basket has "
        "{cash_convertible:,} yen of easy-to-resell goods.",
        "アカウントの保護が弱い状態（{flags_ja}）で、換金しやすい商品が "
        "{cash_convertible:,} 円含まれています。",
    ),
    "cash_convertible_above_history": (
        "This wallet is buying {cash_convertible_24h:,} yen of easy-to-resell goods today; "
        "its largest such purchase before was {largest_earlier_cash_convertible:,} yen.",
        "このウォレットは本日、換金しやすい商品を {cash_convertible_24h:,} 円購入しようとしています"
        "（過去の最大は {largest_earlier_cash_convertible:,} 円）。",
    ),
    "wallet_repeat_cash_convertible": (
        "This wallet already bought {earlier_cash_convertible_24h:,} yen of easy-to-resell "
        "goods in the last 24 hours ({cash_convertible_24h:,} yen with this basket).",
        "このウォレットは過去24時間に換金しやすい商品を {earlier_cash_convertible_24h:,} 円"
        "購入済みです（今回を含め {cash_convertible_24h:,} 円）。",
    ),
    "wallet_weekly_cash_convertible": (
        "This wallet has bought {cash_convertible_7d:,} yen of easy-to-resell goods in 7 days, "
        "far more than one household uses.",
        "このウォレットは7日間で換金しやすい商品を {cash_convertible_7d:,} 円購入しており、"
        "一世帯の消費を大きく超えています。",
    ),
    "wallet_spend_spike": (
        "This basket ({total:,} yen) is far above what this wallet usually spends "
        "({typical_spend:,} yen).",
        "今回の金額（{total:,} 円）は、このウォレットの通常の利用額（{typical_spend:,} 円）を"
        "大きく上回っています。",
    ),
    "topup_then_spend": (
        "The wallet was topped up with {topup_amount:,} yen {minutes_since_topup} minutes ago "
        "and is now spending it on easy-to-resell goods.",
        "{minutes_since_topup} 分前に {topup_amount:,} 円チャージされ、すぐに換金しやすい商品に"
        "使われようとしています。",
    ),
    "distant_stores_1h": (
        "The same wallet paid in a distant region ({distant_regions}) within the last hour.",
        "同じウォレットが過去1時間以内に遠方の地域（{distant_regions}）で支払いをしています。",
    ),
    "store_new_for_wallet": (
        "This wallet has paid {history_sales} times before, never at this store, and now buys "
        "{cash_convertible:,} yen of easy-to-resell goods here.",
        "このウォレットは過去 {history_sales} 回の支払いで一度もこの店舗を利用しておらず、"
        "今回この店舗で換金しやすい商品を {cash_convertible:,} 円購入しようとしています。",
    ),
    "owner_approval_refused": (
        "A payment from this wallet held for the owner's approval {hours_since_refused} hours "
        "ago was never approved ({refused_approvals} in its history); the owner must approve "
        "this one ({cash_convertible:,} yen of easy-to-resell goods) on their phone.",
        "このウォレットでは {hours_since_refused} 時間前に本人承認待ちとなった支払いが"
        "承認されませんでした（履歴内で {refused_approvals} 件）。今回（換金しやすい商品 "
        "{cash_convertible:,} 円）は本人のスマートフォンでの承認が必要です。",
    ),
    "device_new_for_wallet": (
        "The payment code comes from a phone this wallet has not paid with before.",
        "このウォレットが以前に使ったことのないスマートフォンから支払いコードが出ています。",
    ),
    "wallet_rotation_at_terminal": (
        "{other_wallets_30m} other wallets bought easy-to-resell goods at this till in the "
        "last 30 minutes: wallets may be rotated by one buyer.",
        "過去30分にこのレジで他の {other_wallets_30m} 個のウォレットが換金しやすい商品を購入して"
        "います。一人が複数のウォレットを使い回している可能性があります。",
    ),
    "terminal_recent_declines": (
        "{declines_10m} payments were declined at this till in the last 10 minutes.",
        "過去10分にこのレジで {declines_10m} 件の支払いが拒否されています。",
    ),
    "bulk_cash_convertible": (
        "Bulk quantity of easy-to-resell goods: {cartons} cartons, up to {identical_units} "
        "identical units.",
        "換金しやすい商品の大量購入です"
        "（カートン {cartons} 個、同一商品 最大 {identical_units} 個）。",
    ),
    "large_cash_convertible_basket": (
        "The basket has {cash_convertible:,} yen of easy-to-resell goods; a manager should check.",
        "換金しやすい商品が {cash_convertible:,} 円あります。店長の確認が必要です。",
    ),
    "large_basket": (
        "The basket total of {total:,} yen is far above a normal store purchase.",
        "合計 {total:,} 円は通常の店舗での購入額を大きく超えています。",
    ),
    "pickup_later_cash_convertible": (
        "A 'pick up later' order with {cash_convertible:,} yen of easy-to-resell goods.",
        "換金しやすい商品 {cash_convertible:,} 円の「後で受け取り」注文です。",
    ),
    "old_token": (
        "The payment code was created {token_age_s} seconds ago; it may have been sent from "
        "another phone.",
        "支払いコードは {token_age_s} 秒前に作成されました。別の端末から送られた可能性があります。",
    ),
    "store_tobacco_spike": (
        "This store sold {store_tobacco_1h:,} yen of tobacco by wallet in the last hour, far "
        "above its usual {store_hourly_baseline:,} yen per hour.",
        "この店舗では過去1時間にウォレット払いのたばこが {store_tobacco_1h:,} 円売れており、"
        "通常（1時間あたり {store_hourly_baseline:,} 円）を大きく上回っています。",
    ),
    "offline_cash_convertible": (
        "Offline, easy-to-resell goods over {limit:,} yen ({cash_convertible:,} yen here) "
        "need online authorization.",
        "オフライン時は、換金しやすい商品が {limit:,} 円を超える場合"
        "（今回 {cash_convertible:,} 円）オンライン承認が必要です。",
    ),
    "offline_trust_list_old": (
        "The terminal's key list is {trust_list_age_h} hours old; offline payments are not "
        "accepted until it is refreshed.",
        "端末の鍵リストが {trust_list_age_h} 時間前のものです。更新されるまでオフライン決済は"
        "できません。",
    ),
}

FLAG_JA: dict[str, str] = {
    "new_device": "新しい端末",
    "credential_reset": "パスワード等の変更",
    "overseas": "海外からの利用",
    "new_account": "新規アカウント",
    "no_user_verification": "本人確認なし",
}


def render(code: str, inputs: dict[str, Any]) -> tuple[str, str]:
    """Return the (English, Japanese) sentences for a fired rule."""
    en, ja = TEXTS[code]
    values = dict(inputs)
    flags = [str(f) for f in inputs.get("flags", [])]
    values["flags_en"] = ", ".join(f.replace("_", " ") for f in flags)
    values["flags_ja"] = "、".join(FLAG_JA.get(f, f) for f in flags)
    values["distant_regions"] = ", ".join(str(r) for r in inputs.get("distant_regions_1h", []))
    return en.format_map(values), ja.format_map(values)
