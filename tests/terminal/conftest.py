"""Fixtures shared by the terminal tests: a till store, and the real reference backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_app.terminal.services import TerminalServices
from pos_app.terminal.store.db import LocalStore, open_store
from tests.terminal.checkout_support import DAY, Backend, Network, Wallet, running_backend, till


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    """An empty till store (migrated SQLite) in ``tmp_path``, closed afterwards."""
    opened = open_store(tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    """The reference backend on loopback with a fake clock."""
    with running_backend(tmp_path) as b:
        yield b


@pytest.fixture
def network() -> Iterator[Network]:
    """The till's transport to the backend; tests cut it, lose answers, time out."""
    net = Network()
    yield net
    net.close()


@pytest.fixture
def services(backend: Backend, tmp_path: Path, network: Network) -> Iterator[TerminalServices]:
    """An enrolled till talking to ``backend`` through ``network``."""
    svc = till(backend, tmp_path, network)
    yield svc
    svc.close()


@pytest.fixture
def regular(backend: Backend) -> Wallet:
    """A wallet past its new-device and new-account windows: its codes carry an offline limit."""
    wallet = backend.new_wallet(balance=20_000)
    backend.clock.advance(31 * DAY)
    return wallet
