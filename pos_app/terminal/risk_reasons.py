"""Risk reasons the backend sent, as sentences for the cashier.

The backend's response carries ``risk.reasons`` (rule codes) and ``risk.details``
(each fired rule's inputs, :mod:`pos_app.terminal.backend.verdict`). The shared
risk engine's sentence templates (:mod:`pos_app.core.risk.texts`) are filled with
those inputs, so the till shows the same sentence and numbers as the manager's
review; a code without inputs (a terminal-only code, an older backend) is shown
with the numbers left out, and a code this terminal does not know as the code
with a generic sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pos_app.core.i18n import N_, Messages
from pos_app.core.risk.texts import TEXTS, render, template
from pos_app.terminal.backend.verdict import RiskDetail
from pos_app.terminal.checkout.types import RiskReasonView

_UNKNOWN = Messages(
    N_("unknown_risk_rule", "The payment network's risk check {code} asks for extra approval.")
)
_NOT_SENT = "…"  # an input the backend did not send


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
    """The rule's sentence, with the backend's numbers when it sent them."""
    if code not in TEXTS:
        en, ja = (_UNKNOWN.text("unknown_risk_rule", lang, code=code) for lang in ("en", "ja"))
        return RiskReasonView(code, en, ja)
    if inputs:
        try:
            en, ja = render(code, inputs)
        except (KeyError, IndexError, TypeError, ValueError):
            pass  # inputs of another rules version: the sentence without numbers
        else:
            shown = tuple((str(k), str(v)) for k, v in sorted(inputs.items()))
            return RiskReasonView(code, en, ja, shown)
    en, ja = (template(code, lang).format_map(_NoInputs()) for lang in ("en", "ja"))
    return RiskReasonView(code, en, ja)


def merge_reasons(
    own: Iterable[RiskReasonView], codes: Iterable[str], details: Iterable[RiskDetail] = ()
) -> tuple[RiskReasonView, ...]:
    """The terminal's reasons (with their numbers) first, then the backend's other codes."""
    merged = {r.code: r for r in own}
    inputs = {d.code: d.input_map() for d in details}
    for code in codes:
        if code not in merged:
            merged[code] = backend_reason_view(code, inputs.get(code))
    return tuple(merged.values())
