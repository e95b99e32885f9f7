"""Fixtures for the scanning tests; helpers live in scan_testkit.py."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from scan_testkit import FakeClock, payment_text


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def token() -> str:
    return payment_text()


@pytest.fixture
def make_token() -> Callable[[int], str]:
    return payment_text
