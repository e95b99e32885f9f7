"""Fixtures for the scanning tests; helpers live in scan_testkit.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.scanning.scan_testkit import FakeClock, payment_text


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def token() -> str:
    return payment_text()


@pytest.fixture
def make_token() -> Callable[[int], str]:
    return payment_text
