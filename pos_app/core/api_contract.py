"""The backend's JSON as the till sends and reads it (BACKEND-API.md): one typed contract.

Requests are ``TypedDict`` s (the till builds them, ``json`` writes them); answers are
frozen dataclasses read with :func:`parse`, which checks every documented key's type and
presence and skips keys it does not know (the API may add optional fields). The reference
backend declares the same shapes in pydantic (``pos_app/server/schemas.py``) and a test
compares both with the backend's ``/openapi.json``, field by field, in both directions.

Standard library only: the till never imports the server, and its bundle has no pydantic.
"""

# No "from __future__ import annotations": TypedDict reads NotRequired[...] only from
# evaluated annotations (Python 3.11).
import functools
import types
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from typing import (
    Any,
    Literal,
    NoReturn,
    NotRequired,
    TypedDict,
    TypeVar,
    Union,
    dataclass_transform,
    get_args,
    get_origin,
)
from typing import get_type_hints as _hints

from pos_app.core.errors import BackendError

T = TypeVar("T")

SaleStatus = Literal["approved", "declined", "step_up_required", "cancelled"]
RiskActionName = Literal["allow", "customer_approval", "manager_approval", "decline"]
ReviewDecisionName = Literal["approve", "reject", "escalate", "confirmed_fraud"]
MAX_CODES = 100  # the API caps risk reasons at 100 codes


class ContractError(BackendError):
    """An answer that does not have the documented shape."""

    code = "bad_answer"


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    return _hints(cls)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_SCALARS: dict[Any, Any] = {
    bool: lambda v: isinstance(v, bool),
    int: _is_int,
    str: lambda v: isinstance(v, str),
}


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def answer(cls: type[T]) -> type[T]:
    """Declares an answer of the API: a frozen, slotted dataclass whose every field has a
    type :func:`parse` can check. A field it could not check is refused here, when the
    module is imported, instead of on the first answer that carries it."""
    made = dataclass(frozen=True, slots=True)(cls)
    for name, tp in _hints(made).items():
        if not _readable(tp):
            raise TypeError(f"{cls.__name__}.{name}: parse cannot check {tp}")
    return made


def _readable(tp: Any) -> bool:
    """Whether :func:`_value` has a case for ``tp``."""
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return len(inner) == 1 and _readable(inner[0])
    if origin is tuple:
        return len(args) == 2 and args[1] is Ellipsis and _readable(args[0])
    return (
        tp is Any
        or tp in _SCALARS
        or origin is Literal
        or dict in (tp, origin)
        or (is_dataclass(tp) and isinstance(tp, type))
    )


# --- requests (what the till sends) ----------------------------------------------------------


class SaleLineBody(TypedDict):
    sku: str
    name: str
    category: str
    quantity: int
    unit_price: int
    line_total: int
    tax_rate: NotRequired[int | None]


class TerminalRiskBody(TypedDict):
    score: int
    action: RiskActionName
    reasons: list[str]


class ManagerApprovalBody(TypedDict):
    manager_id: str
    reason: str
    approved_at: NotRequired[int | None]
    signature: NotRequired[str | None]


class FinalizeBody(TypedDict):
    """``POST /v1/sales``."""

    sale_id: str
    store_id: str
    terminal_id: str
    cashier_id: str
    token: str
    currency: str
    total: int
    lines: list[SaleLineBody]
    terminal_risk: NotRequired[TerminalRiskBody | None]
    offline_accepted_at: NotRequired[int | None]
    manager_approval: NotRequired[ManagerApprovalBody | None]
    sale_number: NotRequired[str | None]


class VoidApprovalBody(TypedDict):
    """A manager's signed proof for a void (403 ``manager_required`` without)."""

    manager_id: str
    approved_at: int
    signature: str


class CancelBody(TypedDict):
    """``POST /v1/sales/{sale_id}/cancel`` (the body itself is optional); a void of an
    approved sale carries ``manager_approval``."""

    reason: NotRequired[str | None]
    manager_approval: NotRequired[VoidApprovalBody | None]


class EnrollBody(TypedDict):
    """``POST /v1/terminals/enroll``."""

    enrollment_code: str
    public_key: str
    app_version: str


class DecisionBody(TypedDict):
    """``POST /v1/reviews/{sale_id}/decision``; ``decided_at`` and ``signature`` are the
    manager's proof (403 ``manager_required`` without)."""

    decision: ReviewDecisionName
    reviewer_id: str
    note: NotRequired[str]
    decided_at: NotRequired[int | None]
    signature: NotRequired[str | None]


class ClaimBody(TypedDict):
    """``POST /v1/reviews/{sale_id}/claim`` and ``/release``."""

    reviewer_id: str


# --- answers (what the till reads) -----------------------------------------------------------


@answer
class RiskDetail:
    """One rule the backend fired and the numbers it compared."""

    code: str
    inputs: dict[str, Any] = field(default_factory=dict)

    def input_map(self) -> dict[str, Any]:
        return dict(self.inputs)


@answer
class RiskVerdict:
    """``risk`` of a sale answer. Read leniently: a malformed part is dropped, never
    trusted, and never costs the sale its answer (``action``/``score`` None then)."""

    score: int | None
    action: str | None
    reasons: tuple[str, ...]
    details: tuple[RiskDetail, ...] = ()

    def detail(self, code: str) -> RiskDetail | None:
        return next((d for d in self.details if d.code == code), None)

    @classmethod
    def from_json(cls, data: object, where: str) -> "RiskVerdict":
        if not isinstance(data, dict):
            raise ContractError(f"{where}: expected an object")
        action, score, codes = data.get("action"), data.get("score"), data.get("reasons")
        return cls(
            score=score if _is_int(score) else None,
            action=action if action in get_args(RiskActionName) else None,
            reasons=tuple(
                dict.fromkeys(c for c in codes if isinstance(c, str) and c)
                if isinstance(codes, list)
                else ()
            )[:MAX_CODES],
            details=_details(data.get("details")),
        )


@answer
class StepUpChallenge:
    """The wallet owner decides on their phone until ``expires_at`` (the till polls)."""

    challenge_id: str
    expires_at: int


@answer
class SaleAnswer:
    """The decision (``POST /v1/sales``, ``GET /v1/sales/{id}``, ``POST .../cancel``)."""

    sale_id: str
    status: SaleStatus
    authorization_id: str | None
    reason: str | None
    risk: RiskVerdict | None
    step_up: StepUpChallenge | None
    server_time: int


@answer
class EnrollAnswer:
    terminal_id: str
    store_id: str
    keyid: str
    trust_list: dict[str, Any]  # the signed envelope (PT1-TOKEN.md section 3), verified apart
    server_time: int


@answer
class ReceiptLineAnswer:
    sku: str | None
    name: str | None
    quantity: int | None
    unit_price: int | None
    line_total: int | None
    tax_rate: int | None


@answer
class ReceiptAnswer:
    """``GET /v1/sales/{id}/receipt``: what another till of the store needs to reprint."""

    sale_id: str
    sale_number: str | None
    store_id: str
    terminal_id: str
    cashier_id: str
    created_at: int
    status: str
    currency: str
    total: int
    authorization_id: str | None
    offline_accepted_at: int | None
    wallet_masked: str | None
    lines: tuple[ReceiptLineAnswer, ...]


@answer
class ClaimAnswer:
    """A review claim taken (all fields) or released (``claimed_by`` None)."""

    sale_id: str
    claimed_by: str | None
    claimed_at: int | None = None
    expires_at: int | None = None


@answer
class DecisionAnswer:
    """A review decision recorded; ``wallet_frozen`` after ``confirmed_fraud``."""

    sale_id: str
    review_status: str | None
    wallet_frozen: bool


@answer
class ReviewClaim:
    """Who holds a flagged sale for review, across the store's tills, and until when."""

    claimed_by: str
    claimed_at: int
    expires_at: int


@answer
class ReviewedSale:
    """One flagged sale of ``GET /v1/reviews``; ``lines``, ``decisions``, ``risk_reasons``
    and the ``risk`` object stay JSON: the till stores them as the backend wrote them."""

    sale_id: str
    terminal_id: str
    cashier_id: str
    wallet_id: str | None
    total: int
    currency: str
    status: str
    reason: str | None
    risk: dict[str, Any] | None
    offline: bool
    review_status: str | None
    created_at: int
    # Additions (wave 2): optional, so a backend that predates one still reads.
    lines: tuple[dict[str, Any], ...] = ()
    manager_approval: dict[str, Any] | None = None
    decisions: tuple[dict[str, Any], ...] = ()
    claim: ReviewClaim | None = None
    risk_reasons: tuple[dict[str, Any], ...] = ()
    rules_version: str | None = None
    offline_accepted_at: int | None = None
    dispute: dict[str, Any] | None = None


@answer
class ReviewsAnswer:
    store_id: str
    reviews: tuple[ReviewedSale, ...]


@answer
class AuditHead:
    """``GET /v1/terminals/{id}/audit``: the last entry the backend holds of this chain."""

    synced_through: int
    head_hash: str


@answer
class AuditAppended:
    """``POST /v1/terminals/{id}/audit``: the batch is held up to this entry."""

    synced_through: int


@answer
class HeartbeatAnswer:
    """``GET /v1/terminals/heartbeat``: the signed contact was recorded."""

    terminal_id: str
    store_id: str
    server_time: int


@answer
class ErrorAnswer:
    """Every refusal (BACKEND-API.md): a stable code and a sentence for people. Some carry
    context beside them (409 ``review_claimed``: ``claimed_by``, ``claimed_at``)."""

    error: str
    detail: str


# --- reading ---------------------------------------------------------------------------------


def parse(cls: type[T], data: object, where: str = "") -> T:
    """``data`` (decoded JSON) as ``cls``; :class:`ContractError` naming the bad key."""
    where = where or cls.__name__
    custom = getattr(cls, "from_json", None)
    if custom is not None:
        return custom(data, where)  # type: ignore[no-any-return]
    if not isinstance(data, dict):
        raise ContractError(f"{where}: expected an object, got {type(data).__name__}")
    hints = _type_hints(cls)  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            values[f.name] = _value(hints[f.name], data[f.name], f"{where}.{f.name}")
        elif f.default is MISSING and f.default_factory is MISSING:
            raise ContractError(f"{where}: the answer lacks {f.name!r}")
    return cls(**values)


def _value(tp: Any, value: object, where: str) -> Any:  # noqa: PLR0911
    """``value`` checked against the type ``tp`` (one return per kind of type)."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _value(inner[0], value, where) if len(inner) == 1 else _refuse(tp, value, where)
    if origin is Literal:
        if value in args:
            return value
        raise ContractError(f"{where}: {value!r} is not one of {', '.join(map(str, args))}")
    if origin is tuple and isinstance(value, list):
        return tuple(_value(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
    if (origin is dict or tp is dict) and isinstance(value, dict):
        return value
    if is_dataclass(tp) and isinstance(tp, type):
        return parse(tp, value, where)
    check = _SCALARS.get(tp)
    if check is not None and check(value):
        return value
    return _refuse(tp, value, where)


def _refuse(tp: Any, value: object, where: str) -> NoReturn:
    raise ContractError(f"{where}: {type(value).__name__} where the contract says {tp}")


def _details(items: object) -> tuple[RiskDetail, ...]:
    if not isinstance(items, list):
        return ()
    out: dict[str, RiskDetail] = {}
    for item in items[:MAX_CODES]:
        if not isinstance(item, dict):
            continue
        code, inputs = item.get("code"), item.get("inputs", {})
        if isinstance(code, str) and code and isinstance(inputs, dict) and code not in out:
            out[code] = RiskDetail(code, {str(k): v for k, v in inputs.items()})
    return tuple(out.values())
