"""Risk reasons the backend names by code only, as sentences for the cashier.

The backend's response carries ``risk.reasons`` as rule codes without the
inputs that made them fire. The shared risk engine's sentence templates
(:mod:`pos_app.core.risk.texts`) are used with the numbers left out; a code
this terminal does not know is shown as the code with a generic sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pos_app.core.risk.texts import TEXTS
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


def backend_reason_view(code: str) -> RiskReasonView:
    """The rule's sentence for a code without inputs; the code itself when unknown."""
    template = TEXTS.get(code)
    if template is None:
        return RiskReasonView(code, _UNKNOWN_EN.format(code=code), _UNKNOWN_JA.format(code=code))
    en, ja = (text.format_map(_NoInputs()) for text in template)
    return RiskReasonView(code, en, ja)


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
    own: Iterable[RiskReasonView], codes: Iterable[str]
) -> tuple[RiskReasonView, ...]:
    """The terminal's reasons (with their numbers) first, then the backend's other codes."""
    merged = {r.code: r for r in own}
    for code in codes:
        if code not in merged:
            merged[code] = backend_reason_view(code)
    return tuple(merged.values())
