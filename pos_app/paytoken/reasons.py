"""Reason codes (stable strings) and the cashier-facing text for each.

Codes of PT1-TOKEN.md section 4 (steps 1-21), ``trust_list_invalid``, and the
backend's decline codes from BACKEND-API.md, so the UI has one place for texts.
Every text says what happened and what the cashier should do next.
"""

from __future__ import annotations

from typing import Literal

# Steps 1-17: authenticity.
TOO_LONG = "too_long"
BAD_PREFIX = "bad_prefix"
BAD_BASE45 = "bad_base45"
BAD_CBOR = "bad_cbor"
NOT_SIGN1 = "not_sign1"
BAD_HEADER = "bad_header"
UNKNOWN_KID = "unknown_kid"
BAD_SIGNATURE = "bad_signature"
BAD_CLAIMS = "bad_claims"
WRONG_AUDIENCE = "wrong_audience"
WRONG_CURRENCY = "wrong_currency"
LIFETIME_TOO_LONG = "lifetime_too_long"
NOT_YET_VALID = "not_yet_valid"
EXPIRED = "expired"
KEY_REVOKED = "key_revoked"
KEY_NOT_VALID_FOR_IAT = "key_not_valid_for_iat"
KEY_EXPIRED = "key_expired"
# Steps 18-21: acceptance for a sale.
REPLAYED = "replayed"
TRUST_LIST_STALE = "trust_list_stale"
ONLINE_REQUIRED = "online_required"
OVER_OFFLINE_LIMIT = "over_offline_limit"
# Trust-list envelope problems.
TRUST_LIST_INVALID = "trust_list_invalid"
# Backend declines (BACKEND-API.md).
TOKEN_ALREADY_USED = "token_already_used"  # noqa: S105 (a reason code, not a secret)
INSUFFICIENT_FUNDS = "insufficient_funds"
WALLET_FROZEN = "wallet_frozen"
DEVICE_REVOKED = "device_revoked"
LIMIT_EXCEEDED = "limit_exceeded"
RISK_DECLINED = "risk_declined"
STEP_UP_DENIED = "step_up_denied"
STEP_UP_EXPIRED = "step_up_expired"
# 403 from the backend: a manager action without the manager's valid signature.
MANAGER_REQUIRED = "manager_required"
# The till, not the code: its clock is off, or it restarted while a sale waited.
TILL_CLOCK_WRONG = "till_clock_wrong"
TILL_RESTARTED = "till_restarted"
# A manager's void the backend refused (sent later from the outbox): the sale stays paid.
VOID_REFUSED = "void_refused"
# The backend answered moments ago: offline acceptance waits (its contact stretch).
BACKEND_JUST_LOST = "backend_just_lost"

VERIFY_REASONS: tuple[str, ...] = (
    TOO_LONG,
    BAD_PREFIX,
    BAD_BASE45,
    BAD_CBOR,
    NOT_SIGN1,
    BAD_HEADER,
    UNKNOWN_KID,
    BAD_SIGNATURE,
    BAD_CLAIMS,
    WRONG_AUDIENCE,
    WRONG_CURRENCY,
    LIFETIME_TOO_LONG,
    NOT_YET_VALID,
    EXPIRED,
    KEY_REVOKED,
    KEY_NOT_VALID_FOR_IAT,
    KEY_EXPIRED,
)
ACCEPTANCE_REASONS: tuple[str, ...] = (
    REPLAYED,
    TRUST_LIST_STALE,
    ONLINE_REQUIRED,
    OVER_OFFLINE_LIMIT,
)
BACKEND_REASONS: tuple[str, ...] = (
    TOKEN_ALREADY_USED,
    INSUFFICIENT_FUNDS,
    WALLET_FROZEN,
    DEVICE_REVOKED,
    LIMIT_EXCEEDED,
    RISK_DECLINED,
    STEP_UP_DENIED,
    STEP_UP_EXPIRED,
    MANAGER_REQUIRED,
)
# PT1 steps 1-21 in step order, then the trust-list code.
ALL_REASONS: tuple[str, ...] = (*VERIFY_REASONS, *ACCEPTANCE_REASONS, TRUST_LIST_INVALID)
# Everything the UI may have to show.
ALL_CODES: tuple[str, ...] = (*ALL_REASONS, *BACKEND_REASONS)

Lang = Literal["en", "ja"]

_TEXTS: dict[str, tuple[str, str]] = {
    TOO_LONG: (
        (
            "Not a valid payment code: ask the customer to open the payment code in their wallet "
            "app and scan again"
        ),
        (
            "有効な支払いコードではありません。お客様にウォレットアプリの支払いコー"
            "ドを表示していただき、もう一度読み取ってください"
        ),
    ),
    BAD_PREFIX: (
        (
            "This is not a payment code (maybe a product or coupon code): ask the customer to "
            "show the payment code in their wallet app"
        ),
        (
            "支払いコードではありません（商品やクーポンのコードの可能性があります）"
            "。お客様にウォレットアプリの支払いコードを表示していただいてください"
        ),
    ),
    BAD_BASE45: (
        (
            "Not a valid payment code: ask the customer to open the payment code in their wallet "
            "app and scan again"
        ),
        (
            "有効な支払いコードではありません。お客様にウォレットアプリの支払いコー"
            "ドを表示していただき、もう一度読み取ってください"
        ),
    ),
    BAD_CBOR: (
        (
            "Not a valid payment code: ask the customer to open the payment code in their wallet "
            "app and scan again"
        ),
        (
            "有効な支払いコードではありません。お客様にウォレットアプリの支払いコー"
            "ドを表示していただき、もう一度読み取ってください"
        ),
    ),
    NOT_SIGN1: (
        (
            "Not a valid payment code: ask the customer to open the payment code in their wallet "
            "app and scan again"
        ),
        (
            "有効な支払いコードではありません。お客様にウォレットアプリの支払いコー"
            "ドを表示していただき、もう一度読み取ってください"
        ),
    ),
    BAD_HEADER: (
        (
            "Not a valid payment code: ask the customer to open the payment code in their wallet "
            "app and scan again"
        ),
        (
            "有効な支払いコードではありません。お客様にウォレットアプリの支払いコー"
            "ドを表示していただき、もう一度読み取ってください"
        ),
    ),
    UNKNOWN_KID: (
        (
            "Code from an unknown issuer: ask the customer to refresh the code in their app; if "
            "it happens again, update the terminal's trust list (call store IT)"
        ),
        (
            "発行元が不明なコードです。お客様にアプリでコードを更新していただいてく"
            "ださい。繰り返し発生する場合は端末の信頼リストを更新してください（店舗"
            "ITにご連絡ください）"
        ),
    ),
    BAD_SIGNATURE: (
        (
            "Code is not genuine: do not accept it; ask the customer for another payment method "
            "and tell your manager"
        ),
        (
            "正規のコードではありません。受け付けないでください。お客様に別のお支払"
            "い方法をお願いしてください。責任者にも報告してください"
        ),
    ),
    BAD_CLAIMS: (
        "Code content is invalid: ask the customer to refresh the code in their app",
        ("コードの内容が無効です。お客様にアプリでコードを更新していただいてください"),
    ),
    WRONG_AUDIENCE: (
        "Code is for another payment network: ask the customer for another payment method",
        ("別の決済ネットワーク用のコードです。お客様に別のお支払い方法をお願いしてください"),
    ),
    WRONG_CURRENCY: (
        "Code is for another currency: ask the customer for another payment method",
        "別の通貨用のコードです。お客様に別のお支払い方法をお願いしてください",
    ),
    LIFETIME_TOO_LONG: (
        ("Code has an invalid validity period: ask the customer to refresh the code in their app"),
        ("コードの有効期間が不正です。お客様にアプリでコードを更新していただいてください"),
    ),
    NOT_YET_VALID: (
        (
            "Code is not valid yet (the phone's or terminal's clock may be wrong): ask the "
            "customer to refresh the code in their app; if it repeats, check the terminal's clock"
        ),
        (
            "コードがまだ有効ではありません（スマートフォンか端末の時計がずれている"
            "可能性があります）。お客様にアプリでコードを更新していただいてください"
            "。繰り返す場合は端末の時計を確認してください"
        ),
    ),
    EXPIRED: (
        "Code expired: ask the customer to refresh the code in their app",
        ("コードの有効期限が切れています。お客様にアプリでコードを更新していただいてください"),
    ),
    KEY_REVOKED: (
        (
            "Code was issued with a revoked key: do not accept it; ask the customer for another "
            "payment method"
        ),
        (
            "失効した鍵で発行されたコードです。受け付けないでください。お客様に別の"
            "お支払い方法をお願いしてください"
        ),
    ),
    KEY_NOT_VALID_FOR_IAT: (
        (
            "Code was issued with a key not valid at that time: ask the customer to refresh the "
            "code in their app"
        ),
        (
            "発行時点で無効な鍵で発行されたコードです。お客様にアプリでコードを更新"
            "していただいてください"
        ),
    ),
    KEY_EXPIRED: (
        (
            "Code's issuer key has expired: ask the customer to refresh the code in their app; if"
            " it repeats, update the terminal's trust list (call store IT)"
        ),
        (
            "コードの発行鍵の有効期限が切れています。お客様にアプリでコードを更新し"
            "ていただいてください。繰り返す場合は端末の信頼リストを更新してください"
            "（店舗ITにご連絡ください）"
        ),
    ),
    REPLAYED: (
        (
            "Code was already used: ask the customer to refresh the code in their app to get a "
            "new one"
        ),
        ("このコードは使用済みです。お客様にアプリでコードを更新していただいてください"),
    ),
    TRUST_LIST_STALE: (
        (
            "Offline payment unavailable (issuer list out of date): wait for the connection to "
            "return or ask the customer for another payment method"
        ),
        (
            "オフライン決済は利用できません（発行元リストが古くなっています）。接続"
            "の回復を待つか、お客様に別のお支払い方法をお願いしてください"
        ),
    ),
    ONLINE_REQUIRED: (
        (
            "This code needs an online check: wait for the connection to return or ask the "
            "customer for another payment method"
        ),
        (
            "このコードはオンラインでの確認が必要です。接続の回復を待つか、お客様に"
            "別のお支払い方法をお願いしてください"
        ),
    ),
    OVER_OFFLINE_LIMIT: (
        (
            "Amount is over this code's offline limit: wait for the connection to return, reduce "
            "the basket, or ask the customer for another payment method"
        ),
        (
            "金額がこのコードのオフライン上限を超えています。接続の回復を待つか、商"
            "品を減らすか、お客様に別のお支払い方法をお願いしてください"
        ),
    ),
    TRUST_LIST_INVALID: (
        (
            "Issuer list is invalid: payments cannot be checked offline; call store IT to "
            "reinstall the trust list"
        ),
        (
            "発行元リストが無効です。オフラインでの支払い確認ができません。店舗ITに"
            "信頼リストの再設定を依頼してください"
        ),
    ),
    TOKEN_ALREADY_USED: (
        (
            "Code was already used at another till: ask the customer to refresh the code in their"
            " app to get a new one"
        ),
        ("このコードは別のレジで使用済みです。お客様にアプリでコードを更新していただいてください"),
    ),
    INSUFFICIENT_FUNDS: (
        (
            "Not enough balance in the wallet: ask the customer to top up or to use another "
            "payment method"
        ),
        (
            "ウォレットの残高が不足しています。お客様にチャージしていただくか、"
            "別のお支払い方法をお願いしてください"
        ),
    ),
    WALLET_FROZEN: (
        (
            "Wallet is frozen by its owner: do not accept it; ask the customer for another "
            "payment method"
        ),
        (
            "ウォレットは所有者により停止されています。受け付けないでください。お客"
            "様に別のお支払い方法をお願いしてください"
        ),
    ),
    DEVICE_REVOKED: (
        (
            "The phone is no longer registered to this wallet: ask the customer for another "
            "payment method"
        ),
        (
            "このスマートフォンはウォレットに登録されていません。お客様に別のお支払"
            "い方法をお願いしてください"
        ),
    ),
    LIMIT_EXCEEDED: (
        (
            "Wallet spending limit reached: reduce the amount or ask the customer for another "
            "payment method"
        ),
        (
            "ウォレットの利用上限に達しています。金額を減らすか、お客様に別のお支払"
            "い方法をお願いしてください"
        ),
    ),
    RISK_DECLINED: (
        "Payment declined by the security check: ask the customer for another payment method",
        (
            "セキュリティチェックにより支払いが拒否されました。お客様に別のお支払い"
            "方法をお願いしてください"
        ),
    ),
    STEP_UP_DENIED: (
        (
            "The wallet owner refused this payment on their phone: ask the customer for another "
            "payment method"
        ),
        (
            "ウォレットの所有者がスマートフォンでこの支払いを拒否しました。お客様に"
            "別のお支払い方法をお願いしてください"
        ),
    ),
    STEP_UP_EXPIRED: (
        (
            "No approval arrived in time: ask the customer to approve on their phone and try "
            "again, or ask the customer for another payment method"
        ),
        (
            "時間内に承認がありませんでした。お客様にスマートフォンで承認していただ"
            "き再度お試しいただくか、お客様に別のお支払い方法をお願いしてください"
        ),
    ),
    MANAGER_REQUIRED: (
        (
            "The backend did not accept the manager's approval: ask the manager to sign again "
            "with their passphrase, or ask the customer to approve on their phone"
        ),
        (
            "店長の承認がバックエンドで認められませんでした。店長がパスフレーズで"
            "もう一度承認するか、お客様にスマートフォンで承認していただいてください"
        ),
    ),
    BACKEND_JUST_LOST: (
        (
            "The server stopped answering moments ago: wait a minute and ask the customer to"
            " show the code again, or ask for another payment method"
        ),
        (
            "サーバーの応答が止まったばかりです。1分ほど待ってからもう一度コードを表示して"
            "いただくか、別のお支払い方法をお願いしてください"
        ),
    ),
    TILL_CLOCK_WRONG: (
        "This till's clock is wrong: tell your manager (the customer's code is not the problem)",
        "このレジの時計が狂っています。店長に伝えてください（お客様のコードの問題ではありません）",
    ),
    VOID_REFUSED: (
        (
            "The backend refused the void: the sale stays paid and the customer was not"
            " refunded; call a manager to void it again with their passphrase"
        ),
        (
            "取消がサーバーに拒否されました。お支払いは有効のままで、返金されていません。"
            "店長を呼び、パスフレーズでもう一度取り消してもらってください"
        ),
    ),
    TILL_RESTARTED: (
        (
            "The till restarted before this payment was sent: nothing was charged; scan the"
            " products and ask for a new code"
        ),
        (
            "支払いの送信前にレジが再起動しました。請求はされていません。商品をスキャンし直し、"
            "新しいコードをお願いしてください"
        ),
    ),
}

_UNKNOWN = (
    "Payment not accepted ({code}): ask the customer for another payment method",
    "支払いを受け付けられません（{code}）。お客様に別のお支払い方法をお願いしてください",
)


def cashier_text(code: str, lang: Lang = "en") -> str:
    """The cashier-facing text for a code; an unknown code gets a generic text naming it."""
    index = 1 if lang == "ja" else 0
    text = _TEXTS.get(code)
    if text is None:
        return _UNKNOWN[index].format(code=code)
    return text[index]
