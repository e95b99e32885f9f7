"""Example budgets for property tests, scaled by the Hypothesis profile (tests/conftest.py)."""

from __future__ import annotations

from hypothesis import settings

CI_DEFAULT = 100  # max_examples of the 'ci' profile


def examples(ci: int) -> int:
    """``ci`` examples under the 'ci' profile, proportionally more under 'thorough'."""
    profile = settings.default
    assert profile is not None  # a profile is always loaded (tests/conftest.py)
    return max(1, ci * profile.max_examples // CI_DEFAULT)
