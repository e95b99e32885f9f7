"""Request bodies (pydantic). Unknown fields are rejected; every value is bounded.

Bounds keep bad input away from the database: integers stay within 64 bits,
strings carry no control characters (PostgreSQL refuses NUL in text).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from pos_app.core import api_contract as contract

Id = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")
]
# Text of one line: no control characters (PostgreSQL refuses NUL in a text column).
ONE_LINE = r"^[^\x00-\x1f\x7f]+$"
Text = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=200, pattern=ONE_LINE)
]
SaleNumber = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=48, pattern=ONE_LINE)
]
Actor = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=128, pattern=ONE_LINE)
]
Action = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=64, pattern=ONE_LINE)
]
Region = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9\-]+$")
]
Note = Annotated[
    str, StringConstraints(strict=True, max_length=2000, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$")
]
# Raw 32-byte Ed25519 public key, base64url without padding.
PublicKey = Annotated[
    str, StringConstraints(strict=True, min_length=43, max_length=43, pattern=r"^[A-Za-z0-9_\-]+$")
]
Signature = Annotated[
    str, StringConstraints(strict=True, min_length=86, max_length=86, pattern=r"^[A-Za-z0-9_\-]+$")
]
Token = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=2000, pattern=r"^[\x20-\x7e]+$")
]
Currency = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Z]{3}$")]
Amount = Annotated[StrictInt, Field(ge=0, le=10**12)]
Category = Literal[
    "tobacco",
    "heated_tobacco",
    "e_cig",
    "gift_card",
    "alcohol",
    "electronics",
    "food",
    "beverage",
    "household",
    "other",
]
RiskAction = Literal["allow", "customer_approval", "manager_approval", "decline"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnrollRequest(Strict):
    enrollment_code: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=128)]
    public_key: PublicKey
    app_version: Text


class SaleLineIn(Strict):
    sku: Id
    name: Text
    category: Category
    # Quantity bounds are wide on purpose: quantity < 1 is the contract's total_mismatch.
    quantity: Annotated[StrictInt, Field(ge=-1_000_000, le=1_000_000)]
    unit_price: Amount
    line_total: Annotated[StrictInt, Field(ge=-(10**12), le=10**12)]
    # Optional (wave 2 addition): the line's consumption-tax rate in percent (8 reduced,
    # 10 standard), kept so another till can reprint the sale's invoice.
    tax_rate: Annotated[StrictInt, Field(ge=0, le=100)] | None = None


class TerminalRiskIn(Strict):
    score: Annotated[StrictInt, Field(ge=0, le=1_000_000)]
    action: RiskAction
    reasons: Annotated[
        list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=100)
    ]


UnixTime = Annotated[StrictInt, Field(ge=0, le=2**40)]


class ManagerApproval(Strict):
    """Optional: a manager already approved this sale at the till. ``approved_at`` and
    ``signature`` are the manager's proof (docs/BACKEND.md); without them 403."""

    manager_id: Id
    reason: Text
    approved_at: UnixTime | None = None
    signature: Signature | None = None


class SaleRequest(Strict):
    sale_id: Id
    store_id: Id
    terminal_id: Id
    cashier_id: Id
    token: Token
    currency: Currency
    total: Amount
    # The 500-line limit is checked after parsing so it can answer too_many_lines.
    lines: list[SaleLineIn]
    terminal_risk: TerminalRiskIn | None = None
    offline_accepted_at: Annotated[StrictInt, Field(ge=0, le=2**40)] | None = None
    manager_approval: ManagerApproval | None = None
    # Optional (wave 2 addition): the till's sale number printed on the receipt.
    # No control characters, as every other text field: PostgreSQL refuses NUL in a text
    # column, and a NUL here was a 500 there (and a stored NUL on SQLite) instead of a 422.
    sale_number: SaleNumber | None = None


class VoidApproval(Strict):
    """A manager's proof for a void (docs/BACKEND.md, "Manager proofs"): required to cancel
    an approved sale, which refunds the wallet; without a valid one 403."""

    manager_id: Id
    approved_at: UnixTime
    signature: Signature


class CancelRequest(Strict):
    reason: Text | None = None
    # Optional (wave 2 addition): needed only when the cancel is a void of an approved sale.
    manager_approval: VoidApproval | None = None


class ReviewDecisionRequest(Strict):
    decision: Literal["approve", "reject", "escalate", "confirmed_fraud"]
    reviewer_id: Id
    note: Note = ""
    # The reviewing manager's proof (docs/BACKEND.md, "Manager proofs"); without it 403.
    decided_at: UnixTime | None = None
    signature: Signature | None = None


class ReviewClaimRequest(Strict):
    reviewer_id: Id


class WalletCreateRequest(Strict):
    display_name: Text
    device_public_key: PublicKey
    home_region: Region


class TopUpRequest(Strict):
    amount: Annotated[StrictInt, Field(ge=1, le=10**9)]


class TokenRequest(Strict):
    """Optional facts the wallet app reports when asking for a token."""

    region: Region | None = None
    user_verified: StrictBool | None = None


class StepUpSignatureRequest(Strict):
    signature: Signature


class FreezeRequest(Strict):
    reason: Text | None = None


class DisputeRequest(Strict):
    """The wallet owner's words on a charge they dispute (optional)."""

    reason: Text | None = None


HexHash = Annotated[str, StringConstraints(strict=True, pattern=r"^[0-9a-f]{64}$")]


class AuditEntryIn(Strict):
    id: Annotated[StrictInt, Field(ge=1, le=2**62)]
    at: Annotated[StrictInt, Field(ge=0, le=2**40)]
    actor: Actor
    action: Action
    detail: dict[str, Any]
    prev_hash: HexHash
    hash: HexHash


class AuditBatch(Strict):
    entries: Annotated[list[AuditEntryIn], Field(min_length=1, max_length=500)]


# --- answers ---------------------------------------------------------------------------
# The till reads the backend's answers as the dataclasses of pos_app.core.api_contract; the
# backend documents them from those very types (pydantic reads standard dataclasses), so
# the shape is written once. tests/server/test_api_contract.py checks /openapi.json against
# them and the backend's real answers against /openapi.json.

# The answer type of each operation the till reads ("METHOD /path"). The success status
# is the route's own (201 for enrollment), which FastAPI documents.
ANSWERS: dict[type, tuple[str, ...]] = {
    contract.EnrollAnswer: ("POST /v1/terminals/enroll",),
    contract.HeartbeatAnswer: ("GET /v1/terminals/heartbeat",),
    contract.SaleAnswer: (
        "POST /v1/sales",
        "GET /v1/sales/{sale_id}",
        "POST /v1/sales/{sale_id}/cancel",
    ),
    contract.ReceiptAnswer: ("GET /v1/sales/{sale_id}/receipt",),
    contract.ReviewsAnswer: ("GET /v1/reviews",),
    contract.DecisionAnswer: ("POST /v1/reviews/{sale_id}/decision",),
    contract.ClaimAnswer: (
        "POST /v1/reviews/{sale_id}/claim",
        "POST /v1/reviews/{sale_id}/release",
    ),
    contract.AuditHead: ("GET /v1/terminals/{terminal_id}/audit",),
    contract.AuditAppended: ("POST /v1/terminals/{terminal_id}/audit",),
}


def answered_operations() -> Iterator[tuple[str, str, type]]:
    """``(path, method, answer type)`` for each operation of :data:`ANSWERS`."""
    for kind, operations in ANSWERS.items():
        for operation in operations:
            method, path = operation.split(" ", 1)
            yield path, method.lower(), kind
