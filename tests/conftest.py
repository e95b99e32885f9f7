"""Settings for the whole suite: the Hypothesis profiles.

``ci`` (the default) keeps every property test fast enough for the 15-minute CI run;
``thorough`` runs ten times the examples and keeps Hypothesis' example database
(.hypothesis/), for a night run or before a release:

    POS_APP_HYPOTHESIS=thorough .venv/bin/python -m pytest -q tests/paytoken tests/server

Tests that need more examples than the profile's default say how many in ``ci`` terms
with ``tests.fuzz_budget.examples(n)``, which the profile scales.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis.errors import InvalidArgument

PROFILE_VARIABLE = "POS_APP_HYPOTHESIS"

# No deadline: a loaded 2-core CI machine makes per-example timing meaningless.
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _load_profile() -> None:
    name = os.environ.get(PROFILE_VARIABLE, "ci")
    try:
        settings.load_profile(name)
    except InvalidArgument as exc:
        raise SystemExit(
            f"{PROFILE_VARIABLE}={name!r} is not a Hypothesis profile; use 'ci' or 'thorough'"
        ) from exc


_load_profile()
