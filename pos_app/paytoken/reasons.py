"""The cashier-facing text for each reason code (:class:`pos_app.core.reasons.ReasonCode`).

Codes of PT1-TOKEN.md section 4 (steps 1-21), ``trust_list_invalid``, and the
backend's decline codes from BACKEND-API.md, so the UI has one place for texts.
Every text says what happened and what the cashier should do next; English here,
Japanese in the gettext catalogue (:mod:`pos_app.core.i18n`).
"""

from __future__ import annotations

from pos_app.core.i18n import N_, Messages

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
