"""``@answer``: the contract's answers are frozen and hold only types ``parse`` checks."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from pos_app.core.api_contract import ClaimAnswer, ContractError, answer, parse


def test_an_answer_is_a_frozen_dataclass_that_parse_reads() -> None:
    claim = parse(ClaimAnswer, {"sale_id": "s-1", "claimed_by": "M01", "claimed_at": 5})
    assert claim == ClaimAnswer("s-1", "M01", 5, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        claim.claimed_by = "M02"  # type: ignore[misc]
    with pytest.raises(ContractError, match="claimed_at"):
        parse(ClaimAnswer, {"sale_id": "s-1", "claimed_by": "M01", "claimed_at": "5"})


@pytest.mark.parametrize("field_type", [list[int], int | str, tuple[int, int], set[str], float])
def test_a_field_parse_cannot_check_is_refused_when_declared(field_type: Any) -> None:
    namespace = {"__annotations__": {"value": field_type}}
    with pytest.raises(TypeError, match="parse cannot check"):
        answer(type("Odd", (), namespace))


def test_the_types_parse_checks_are_accepted() -> None:
    fields = {
        "a": int,
        "b": str | None,
        "c": tuple[ClaimAnswer, ...],
        "d": dict[str, Any],
        "e": Any,
        "f": ClaimAnswer | None,
        "g": bool,
    }
    made: type[object] = answer(type("Fine", (), {"__annotations__": fields}))
    assert dataclasses.is_dataclass(made)
    assert [f.name for f in dataclasses.fields(made)] == list(fields)
