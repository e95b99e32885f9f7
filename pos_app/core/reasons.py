"""Reason codes: the one enumeration of why a payment did not go through.

Stable strings (PT1-TOKEN.md section 4, BACKEND-API.md ``reason``, and the till's own),
used in logs, the UI, the backend's answers and the tests. :class:`ReasonCode` is a
``StrEnum``: a member equals its string, and JSON, SQLite and f-strings write the string.
The cashier's sentence for each code lives in :mod:`pos_app.paytoken.reasons`.
"""

from __future__ import annotations

from enum import StrEnum


class ReasonCode(StrEnum):
    # PT1 steps 1-17: authenticity.
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
    # PT1 steps 18-21: acceptance for a sale.
    REPLAYED = "replayed"
    TRUST_LIST_STALE = "trust_list_stale"
    ONLINE_REQUIRED = "online_required"
    OVER_OFFLINE_LIMIT = "over_offline_limit"
    # Trust-list envelope problems.
    TRUST_LIST_INVALID = "trust_list_invalid"
    # Backend declines (BACKEND-API.md, POST /v1/sales ``reason``).
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
    # 422 from the backend: an offline claim at an implausible moment (wave 2 revisions).
    BAD_OFFLINE_TIME = "bad_offline_time"
    # The till's own: not the customer's code.
    NOT_ENROLLED = "not_enrolled"
    BACKEND_UNAVAILABLE = "backend_unavailable"
    # A finalize whose answer was lost: the sale waits for the backend's word.
    OUTCOME_UNKNOWN = "outcome_unknown"
    TERMINAL_REFUSED = "terminal_refused"
    # The till's clock is off, or it restarted while a sale waited.
    TILL_CLOCK_WRONG = "till_clock_wrong"
    TILL_RESTARTED = "till_restarted"
    # A manager's void the backend refused (sent later from the outbox): the sale stays paid.
    VOID_REFUSED = "void_refused"
    # The backend answered moments ago: offline acceptance waits (its contact stretch).
    BACKEND_JUST_LOST = "backend_just_lost"


VERIFY_REASONS: tuple[ReasonCode, ...] = (
    ReasonCode.TOO_LONG,
    ReasonCode.BAD_PREFIX,
    ReasonCode.BAD_BASE45,
    ReasonCode.BAD_CBOR,
    ReasonCode.NOT_SIGN1,
    ReasonCode.BAD_HEADER,
    ReasonCode.UNKNOWN_KID,
    ReasonCode.BAD_SIGNATURE,
    ReasonCode.BAD_CLAIMS,
    ReasonCode.WRONG_AUDIENCE,
    ReasonCode.WRONG_CURRENCY,
    ReasonCode.LIFETIME_TOO_LONG,
    ReasonCode.NOT_YET_VALID,
    ReasonCode.EXPIRED,
    ReasonCode.KEY_REVOKED,
    ReasonCode.KEY_NOT_VALID_FOR_IAT,
    ReasonCode.KEY_EXPIRED,
)
ACCEPTANCE_REASONS: tuple[ReasonCode, ...] = (
    ReasonCode.REPLAYED,
    ReasonCode.TRUST_LIST_STALE,
    ReasonCode.ONLINE_REQUIRED,
    ReasonCode.OVER_OFFLINE_LIMIT,
)
# What the backend may put in a declined sale's ``reason`` beside the PT1 codes.
BACKEND_REASONS: tuple[ReasonCode, ...] = (
    ReasonCode.TOKEN_ALREADY_USED,
    ReasonCode.INSUFFICIENT_FUNDS,
    ReasonCode.WALLET_FROZEN,
    ReasonCode.DEVICE_REVOKED,
    ReasonCode.LIMIT_EXCEEDED,
    ReasonCode.RISK_DECLINED,
    ReasonCode.STEP_UP_DENIED,
    ReasonCode.STEP_UP_EXPIRED,
    ReasonCode.MANAGER_REQUIRED,
)
# PT1 steps 1-21 in step order, then the trust-list code.
ALL_REASONS: tuple[ReasonCode, ...] = (
    *VERIFY_REASONS,
    *ACCEPTANCE_REASONS,
    ReasonCode.TRUST_LIST_INVALID,
)
# Everything a cashier may have to read a sentence for about the customer's code.
ALL_CODES: tuple[ReasonCode, ...] = (*ALL_REASONS, *BACKEND_REASONS)
# A declined sale's ``reason`` in the backend's answer (BACKEND-API.md): every PT1 code,
# the backend's own, and the wave-2 offline bound.
DECLINE_REASONS: tuple[ReasonCode, ...] = (*ALL_CODES, ReasonCode.BAD_OFFLINE_TIME)
