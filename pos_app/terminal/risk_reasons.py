"""Risk reasons of the backend's verdict, as sentences for the cashier.

The backend's answer carries ``risk.reasons`` (rule codes) and, since wave 2,
``risk.details``: each fired rule's ``{code, inputs}``. The shared risk
engine's sentence templates (:mod:`pos_app.core.risk.texts`) are filled with
those inputs, so the till shows the same sentence, with its numbers, as the
manager's review. Without details (an older backend) the numbers are left
out; a code this terminal does not know is shown with a generic sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pos_app.core.risk.texts import TEXTS, render
from pos_app.terminal.checkout.types import RiskReasonView

_UNKNOWN_EN = "The payment network's risk check {code} asks for extra approval."
_UNKNOWN_JA = "決済ネットワークのリスク判定（{code}）により、追加の承認が必要です。"
_NOT_SENT = "…"  # an input the backend did not send
MAX_CODES = 100  # the API caps reasons at 100 codes


class _Unknown:
    """Stands for any missing template input, whatever its format spec or index."""

    def __format__(self, spec: str) -> str:
        return _NOT_SENT

    def __getitem__(self, key: object) -> _Unknown:
        return self

    def __getattr__(self, name: str) -> _Unknown:
        return self


class _NoInputs(dict[str, Any]):
    def __missing__(self, key: str) -> _Unknown:
        return _Unknown()


def backend_reason_view(code: str, inputs: dict[str, Any] | None = None) -> RiskReasonView:
    """The rule's sentence with the backend's inputs; without them (or with inputs
    from another rule-set version) the sentence without numbers; unknown: the code."""
    template = TEXTS.get(code)
    if template is None:
        return RiskReasonView(code, _UNKNOWN_EN.format(code=code), _UNKNOWN_JA.format(code=code))
    if inputs:
        try:
            en, ja = render(code, inputs)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            pass  # inputs this version's template cannot use: fall back to no numbers
        else:
            pairs = tuple((str(k), str(v)) for k, v in sorted(inputs.items()))
            return RiskReasonView(code, en, ja, inputs=pairs)
    en, ja = (text.format_map(_NoInputs()) for text in template)
    return RiskReasonView(code, en, ja)


def backend_details(
    view: dict[str, object], previous: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """``risk.details`` of a backend sale view as {code: inputs}; ``previous`` when the
    view has no risk object; malformed entries are skipped (the code still shows)."""
    risk = view.get("risk")
    if not isinstance(risk, dict):
        return previous
    details = risk.get("details")
    if not isinstance(details, list):
        return {}
    out: dict[str, dict[str, Any]] = {}
    for item in details[:MAX_CODES]:
        if isinstance(item, dict) and isinstance(item.get("inputs"), dict):
            code = item.get("code")
            if isinstance(code, str) and code:
                out[code] = dict(item["inputs"])
    return out


def backend_codes(view: dict[str, object], previous: tuple[str, ...]) -> tuple[str, ...]:
    """``risk.reasons`` of a backend sale view; ``previous`` when the view has none."""
    risk = view.get("risk")
    if not isinstance(risk, dict):
        return previous
    codes = risk.get("reasons")
    if not isinstance(codes, list):
        return previous
    return tuple(dict.fromkeys(str(c) for c in codes if isinstance(c, str) and c))[:MAX_CODES]


def merge_reasons(
    own: Iterable[RiskReasonView],
    codes: Iterable[str],
    details: dict[str, dict[str, Any]] | None = None,
) -> tuple[RiskReasonView, ...]:
    """The terminal's reasons (with their numbers) first, then the backend's other codes,
    with the backend's inputs when it sent them."""
    merged = {r.code: r for r in own}
    found = details or {}
    for code in codes:
        if code not in merged:
            merged[code] = backend_reason_view(code, found.get(code))
    return tuple(merged.values())
