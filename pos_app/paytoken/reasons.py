"""Reason codes (stable strings) and the cashier-facing text for each.

Codes of PT1-TOKEN.md section 4 (steps 1-21), ``trust_list_invalid``, and the
backend's decline codes from BACKEND-API.md, so the UI has one place for texts.
Every text says what happened and what the cashier should do next; English here,
Japanese in the gettext catalogue (:mod:`pos_app.core.i18n`).
"""

from __future__ import annotations

from pos_app.core.i18n import N_, Messages

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

_TEXTS = Messages(
    N_(
        "too_long",
        "Not a valid payment code: ask the customer to open the payment code in their wallet app "
        "and scan again",
    ),
    N_(
        "bad_prefix",
        "This is not a payment code (maybe a product or coupon code): ask the customer to show "
        "the payment code in their wallet app",
    ),
    N_(
        "bad_base45",
        "Not a valid payment code: ask the customer to open the payment code in their wallet app "
        "and scan again",
    ),
    N_(
        "bad_cbor",
        "Not a valid payment code: ask the customer to open the payment code in their wallet app "
        "and scan again",
    ),
    N_(
        "not_sign1",
        "Not a valid payment code: ask the customer to open the payment code in their wallet app "
        "and scan again",
    ),
    N_(
        "bad_header",
        "Not a valid payment code: ask the customer to open the payment code in their wallet app "
        "and scan again",
    ),
    N_(
        "unknown_kid",
        "Code from an unknown issuer: ask the customer to refresh the code in their app; if it "
        "happens again, update the terminal's trust list (call store IT)",
    ),
    N_(
        "bad_signature",
        "Code is not genuine: do not accept it; ask the customer for another payment method and "
        "tell your manager",
    ),
    N_("bad_claims", "Code content is invalid: ask the customer to refresh the code in their app"),
    N_(
        "wrong_audience",
        "Code is for another payment network: ask the customer for another payment method",
    ),
    N_(
        "wrong_currency",
        "Code is for another currency: ask the customer for another payment method",
    ),
    N_(
        "lifetime_too_long",
        "Code has an invalid validity period: ask the customer to refresh the code in their app",
    ),
    N_(
        "not_yet_valid",
        "Code is not valid yet (the phone's or terminal's clock may be wrong): ask the customer "
        "to refresh the code in their app; if it repeats, check the terminal's clock",
    ),
    N_("expired", "Code expired: ask the customer to refresh the code in their app"),
    N_(
        "key_revoked",
        "Code was issued with a revoked key: do not accept it; ask the customer for another "
        "payment method",
    ),
    N_(
        "key_not_valid_for_iat",
        "Code was issued with a key not valid at that time: ask the customer to refresh the code "
        "in their app",
    ),
    N_(
        "key_expired",
        "Code's issuer key has expired: ask the customer to refresh the code in their app; if it "
        "repeats, update the terminal's trust list (call store IT)",
    ),
    N_(
        "replayed",
        "Code was already used: ask the customer to refresh the code in their app to get a new one",
    ),
    N_(
        "trust_list_stale",
        "Offline payment unavailable (issuer list out of date): wait for the connection to return "
        "or ask the customer for another payment method",
    ),
    N_(
        "online_required",
        "This code needs an online check: wait for the connection to return or ask the customer "
        "for another payment method",
    ),
    N_(
        "over_offline_limit",
        "Amount is over this code's offline limit: wait for the connection to return, reduce the "
        "basket, or ask the customer for another payment method",
    ),
    N_(
        "trust_list_invalid",
        "Issuer list is invalid: payments cannot be checked offline; call store IT to reinstall "
        "the trust list",
    ),
    N_(
        "token_already_used",
        "Code was already used at another till: ask the customer to refresh the code in their app "
        "to get a new one",
    ),
    N_(
        "insufficient_funds",
        "Not enough balance in the wallet: ask the customer to top up or to use another payment "
        "method",
    ),
    N_(
        "wallet_frozen",
        "Wallet is frozen by its owner: do not accept it; ask the customer for another payment "
        "method",
    ),
    N_(
        "device_revoked",
        "The phone is no longer registered to this wallet: ask the customer for another payment "
        "method",
    ),
    N_(
        "limit_exceeded",
        "Wallet spending limit reached: reduce the amount or ask the customer for another payment "
        "method",
    ),
    N_(
        "risk_declined",
        "Payment declined by the security check: ask the customer for another payment method",
    ),
    N_(
        "step_up_denied",
        "The wallet owner refused this payment on their phone: ask the customer for another "
        "payment method",
    ),
    N_(
        "step_up_expired",
        "No approval arrived in time: ask the customer to approve on their phone and try again, "
        "or ask the customer for another payment method",
    ),
    N_(
        "manager_required",
        "The backend did not accept the manager's approval: ask the manager to sign again with "
        "their passphrase, or ask the customer to approve on their phone",
    ),
    N_(
        "backend_just_lost",
        "The server stopped answering moments ago: wait a minute and ask the customer to show the "
        "code again, or ask for another payment method",
    ),
    N_(
        "void_refused",
        "The backend refused the void: the sale stays paid and the customer was not refunded; "
        "call a manager to void it again with their passphrase",
    ),
    N_(
        "till_clock_wrong",
        "This till's clock is wrong: tell your manager (the customer's code is not the problem)",
    ),
    N_(
        "till_restarted",
        "The till restarted before this payment was sent: nothing was charged; scan the products "
        "and ask for a new code",
    ),
)

_UNKNOWN = Messages(
    N_(
        "unknown_reason",
        "Payment not accepted ({code}): ask the customer for another payment method",
    )
)


def cashier_text(code: str, lang: str = "en") -> str:
    """The cashier-facing text for a code (English, or ``lang`` from the gettext
    catalogue); an unknown code gets a generic text naming it."""
    if code not in _TEXTS:
        return _UNKNOWN.text("unknown_reason", lang, code=code)
    return _TEXTS.text(code, lang)
