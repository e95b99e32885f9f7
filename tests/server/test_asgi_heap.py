"""The serve path's app factory leaves the startup heap out of the cyclic collector."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pos_app.server import admin

PROBE = """
import gc, json
from pos_app.server.asgi import app_from_env
app = app_from_env()
frozen = gc.get_freeze_count()

class Cycle:
    pass

a, b = Cycle(), Cycle()
a.peer, b.peer = b, a  # garbage made after startup is still collected
del a, b
print(json.dumps({"frozen": frozen, "collected": gc.collect(), "routes": len(app.routes)}))
"""


def test_startup_objects_are_frozen_and_later_garbage_still_collected(tmp_path: Path) -> None:
    data_dir = tmp_path / "backend"
    db_url = f"sqlite:///{data_dir / 'backend.sqlite3'}"
    admin.init_backend(data_dir, db_url)
    env = {
        **os.environ,
        "POS_APP_SERVER_DATA_DIR": str(data_dir),
        "POS_APP_SERVER_DB_URL": db_url,
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    # The modules, the app and its schemas: tens of thousands of objects no collection
    # walks again (a full collection over them held the GIL for ~90 ms under load).
    assert probe["frozen"] > 20_000
    assert probe["collected"] >= 2
    assert probe["routes"] >= 4  # the app was built: its routers are mounted


def _thread_limit() -> float:
    import anyio.to_thread

    return anyio.to_thread.current_default_thread_limiter().total_tokens


def test_a_worker_runs_requests_on_the_configured_number_of_threads(tmp_path: Path) -> None:
    # anyio's default is 40 threads a worker; 16 tills' finalizes then share the GIL in 16
    # threads at once. The setting is applied when the app starts, in its own event loop.
    from starlette.testclient import TestClient

    from pos_app.server.app import create_app
    from pos_app.server.settings import ServerSettings

    data_dir = tmp_path / "threads"
    admin.init_backend(data_dir)
    assert ServerSettings.for_data_dir(data_dir).worker_threads == 8
    app = create_app(ServerSettings.for_data_dir(data_dir, worker_threads=3))
    with TestClient(app) as client:
        assert client.portal is not None
        assert client.portal.call(_thread_limit) == 3
        assert client.get("/healthz").status_code == 200


def test_signed_work_runs_on_at_most_worker_threads_threads(tmp_path: Path) -> None:
    """``Backend.in_thread`` (every signed request's work): at most ``worker_threads`` at
    once, the rest waiting their turn, each in a copy of the caller's context."""
    import asyncio
    import contextvars
    import threading
    import time

    from pos_app.server.backend import Backend
    from pos_app.server.settings import ServerSettings

    data_dir = tmp_path / "executor"
    admin.init_backend(data_dir)
    backend = Backend(ServerSettings.for_data_dir(data_dir, worker_threads=2))
    request_id: contextvars.ContextVar[int] = contextvars.ContextVar("request_id")
    lock = threading.Lock()
    running, peak, names = [0], [0], set()

    def work() -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            names.add(threading.current_thread().name)
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        return request_id.get()

    async def one(n: int) -> int:
        request_id.set(n)
        return await backend.in_thread(work)

    async def many() -> list[int]:
        return list(await asyncio.gather(*(one(n) for n in range(8))))

    try:
        assert asyncio.run(many()) == list(range(8))
    finally:
        backend.close()
    assert peak[0] == 2 and len(names) == 2
    assert all(name.startswith("pos-request") for name in names)


def test_signed_work_after_close_still_runs(tmp_path: Path) -> None:
    """``Backend.close`` (a server stopped while requests still drain) does not leave the
    next request a shut executor (RuntimeError, a 500 for a till's sale): work handed over
    before it finishes, work after it runs on new threads, as the engine serves after
    ``dispose``."""
    import asyncio
    import threading

    from pos_app.server.backend import Backend
    from pos_app.server.settings import ServerSettings

    data_dir = tmp_path / "closed"
    admin.init_backend(data_dir)
    backend = Backend(ServerSettings.for_data_dir(data_dir, worker_threads=1))
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "drained"

    async def around_close() -> list[str]:
        in_flight = asyncio.ensure_future(backend.in_thread(slow))
        await asyncio.to_thread(started.wait, 5)
        backend.close()
        release.set()
        return [await in_flight, await backend.in_thread(lambda: "after")]

    try:
        assert asyncio.run(around_close()) == ["drained", "after"]
    finally:
        backend.close()
