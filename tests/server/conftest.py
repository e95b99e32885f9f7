"""Backend fixtures: every API test runs on SQLite and on PostgreSQL (own schema)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from pos_app.server import admin, db
from pos_app.server.app import create_app
from pos_app.server.settings import ServerSettings
from tests.fake_clock import FakeClock
from tests.server.server_support import (
    Api,
    Trips,
    World,
    drop_postgres_schema,
    enroll_managers,
    enroll_terminal,
    postgres_schema_url,
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("POS_APP_NO_POSTGRES") != "1":
        return
    selected = [i for i in items if "postgres" not in i.keywords]
    deselected = [i for i in items if "postgres" in i.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        message = f"POS_APP_NO_POSTGRES=1: deselected {len(deselected)} PostgreSQL backend tests"
        if reporter is not None:
            reporter.write_line(message, yellow=True)
        else:
            print(message)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'backend.sqlite3'}"
        return
    url, schema = postgres_schema_url()
    try:
        yield url
    finally:
        drop_postgres_schema(schema)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "backend"


@pytest.fixture
def settings(data_dir: Path, db_url: str, clock: FakeClock) -> ServerSettings:
    admin.init_backend(data_dir, db_url, clock=clock)
    return ServerSettings.for_data_dir(data_dir, db_url, clock=clock)


@pytest.fixture
def api(settings: ServerSettings, clock: FakeClock) -> Iterator[Api]:
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield Api(client=client, clock=clock)
    app.state.backend.close()


@pytest.fixture
def world(api: Api, settings: ServerSettings, clock: FakeClock) -> World:
    ticket = admin.create_terminal(
        settings.data_dir, settings.db_url, store_id="S001", terminal_id="T01", clock=clock
    )
    world = World(api=api, terminal=enroll_terminal(api, ticket["enrollment_code"]))
    enroll_managers(settings, world, clock)
    return world


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[Trips]:
    """What the driver runs in PostgreSQL's batched transactions, counted (tests of the
    batched path: test_finalize_batch, test_batch_failures)."""
    seen = Trips()
    send, execute, speculation = db._Batch.send, db._execute, db.Speculation.__init__

    def counted_send(self: Any, *, commit: bool = False) -> None:
        count = len(self.unsent) + len(self.queued) + int(commit)
        if count:
            seen.batches.append(count)
        send(self, commit=commit)

    def counted_execute(*args: Any) -> Any:
        seen.single += 1
        return execute(*args)

    def counted_speculation(self: Any, *args: Any) -> None:
        seen.speculations += 1
        speculation(self, *args)

    monkeypatch.setattr(db._Batch, "send", counted_send)
    monkeypatch.setattr(db, "_execute", counted_execute)
    monkeypatch.setattr(db.Speculation, "__init__", counted_speculation)
    yield seen
