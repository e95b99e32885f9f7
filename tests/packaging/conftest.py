"""The two .deb versions, built once per session and input hash (debbuild.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.packaging.debbuild import built_debs


@pytest.fixture(scope="session")
def debs() -> Iterator[tuple[Path, Path]]:
    """Version N and N+upgrade1 of the package."""
    with built_debs() as pair:
        yield pair
