"""The backend's risk verdict in a sale view, as typed values (BACKEND-API.md, wave 2).

A finalize answer (and ``GET /v1/sales/{id}``) carries ``risk``: ``{score, action,
reasons}`` and, since the second revision, ``details``: one ``{code, inputs}`` per
rule the backend fired, so the till can show the same sentence, with its numbers,
as the manager's review. Anything malformed is dropped rather than trusted: a
detail without a string code, inputs that are not an object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_CODES = 100  # the API caps reasons at 100 codes
ACTIONS = frozenset({"allow", "customer_approval", "manager_approval", "decline"})


@dataclass(frozen=True, slots=True)
class RiskDetail:
    """One rule the backend fired and the numbers it compared."""

    code: str
    inputs: tuple[tuple[str, Any], ...]  # JSON values (numbers, strings, lists), key order kept

    def input_map(self) -> dict[str, Any]:
        return dict(self.inputs)


@dataclass(frozen=True, slots=True)
class BackendRisk:
    """``risk`` of a sale view; ``action``/``score`` are None when the view has none."""

    action: str | None
    score: int | None
    reasons: tuple[str, ...]
    details: tuple[RiskDetail, ...]

    def detail(self, code: str) -> RiskDetail | None:
        return next((d for d in self.details if d.code == code), None)


NO_RISK = BackendRisk(action=None, score=None, reasons=(), details=())


def parse_risk(view: Mapping[str, object]) -> BackendRisk | None:
    """The ``risk`` object of a sale view, or None when the view carries none."""
    risk = view.get("risk")
    if not isinstance(risk, dict):
        return None
    action = risk.get("action")
    score = risk.get("score")
    codes = risk.get("reasons")
    return BackendRisk(
        action=action if isinstance(action, str) and action in ACTIONS else None,
        score=score if isinstance(score, int) and not isinstance(score, bool) else None,
        reasons=_codes(codes if isinstance(codes, list) else []),
        details=_details(risk.get("details")),
    )


def _codes(items: list[Any]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c for c in items if isinstance(c, str) and c))[:MAX_CODES]


def _details(items: object) -> tuple[RiskDetail, ...]:
    if not isinstance(items, list):
        return ()
    out: dict[str, RiskDetail] = {}
    for item in items[:MAX_CODES]:
        if not isinstance(item, dict):
            continue
        code, inputs = item.get("code"), item.get("inputs", {})
        if isinstance(code, str) and code and isinstance(inputs, dict) and code not in out:
            out[code] = RiskDetail(code, tuple((str(k), v) for k, v in inputs.items()))
    return tuple(out.values())
