"""N concurrent redemptions of one token: exactly one approval (real uvicorn on loopback).

Two app instances (separate engines and connection pools, as two processes
would have) share the database; a separate test starts ``pos-app backend serve
--workers 2`` as real processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.exc import IntegrityError

from pos_app.server import admin
from pos_app.server.clock import SystemClock
from pos_app.server.runner import BackgroundServer, free_port
from pos_app.server.settings import ServerSettings
from tests.server.server_support import Api, World, backend_of, enroll_terminal

N = 12


def _world(base_url: str, client: httpx.Client, ticket: dict[str, Any]) -> World:
    api = Api(client=client, clock=SystemClock(), base=base_url)
    return World(api=api, terminal=enroll_terminal(api, ticket["enrollment_code"]))


def _race(worlds: list[World], token: str) -> list[dict[str, Any]]:
    bodies = [worlds[0].sale_body(token) for _ in range(N)]

    def sell(i: int) -> dict[str, Any]:
        world = worlds[i % len(worlds)]
        with httpx.Client(timeout=60) as client:
            api = Api(client=client, clock=world.api.clock, base=world.api.base)
            resp = api.post("/v1/sales", bodies[i], signer=world.terminal)
        assert resp.status_code == 200, resp.text
        answer: dict[str, Any] = resp.json()
        return answer

    with ThreadPoolExecutor(N) as pool:
        return list(pool.map(sell, range(N)))


def _assert_one_approval(results: list[dict[str, Any]]) -> None:
    statuses = sorted((r["status"], r["reason"]) for r in results)
    assert statuses.count(("approved", None)) == 1, statuses
    assert statuses.count(("declined", "token_already_used")) == N - 1, statuses


def test_one_token_many_terminals_two_app_instances(tmp_path: Path, db_url: str) -> None:
    data_dir = tmp_path / "backend"
    admin.init_backend(data_dir, db_url)
    settings = ServerSettings.for_data_dir(data_dir, db_url)
    ticket = admin.create_terminal(data_dir, db_url, store_id="S001", terminal_id="T01")
    with (
        BackgroundServer(settings) as one,
        BackgroundServer(settings, port=0) as two,
        httpx.Client(timeout=30) as client,
    ):
        w1 = _world(one.base_url, client, ticket)
        w2 = World(
            api=Api(client=client, clock=SystemClock(), base=two.base_url), terminal=w1.terminal
        )
        wallet = w1.new_wallet(balance=100_000)
        results = _race([w1, w2], w1.token(wallet))
        _assert_one_approval(results)
        info = w1.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
        assert info["balance"] == 100_000 - 280
    assert admin.check_ledger(data_dir, db_url)["ok"] is True


def _wait_ready(url: str, proc: subprocess.Popen[str]) -> None:
    # Two worker processes importing the app take seconds on an idle machine and over 30 s
    # on a loaded one: the bound only has to catch a server that never starts.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("server did not start")


def test_one_token_across_worker_processes(tmp_path: Path, db_url: str) -> None:
    data_dir = tmp_path / "backend"
    admin.init_backend(data_dir, db_url)
    ticket = admin.create_terminal(data_dir, db_url, store_id="S001", terminal_id="T01")
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "pos_app",
        "backend",
        "serve",
        "--data-dir",
        str(data_dir),
        "--db",
        db_url,
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    # The with block closes the stderr pipe (no ResourceWarning) after the wait.
    with subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(base, proc)
            with httpx.Client(timeout=30) as client:
                world = _world(base, client, ticket)
                wallet = world.new_wallet(balance=100_000)
                _assert_one_approval(_race([world], world.token(wallet)))
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    assert admin.check_ledger(data_dir, db_url)["ok"] is True


def _direct_race(world: World, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Concurrent finalizes straight into the service layer (one session per thread)."""
    from pos_app.server import db, finalize
    from pos_app.server.backend import Principal
    from pos_app.server.schemas import SaleRequest

    backend = backend_of(world.api)
    principal = Principal(
        kind="terminal", keyid=world.terminal.keyid, store_id="S001", terminal_id="T01"
    )
    barrier = threading.Barrier(len(bodies))

    def run(body: dict[str, Any]) -> dict[str, Any]:
        req = SaleRequest.model_validate(body)
        barrier.wait()
        for _ in range(4):  # what the request pipeline does: a lost race is retried
            try:
                with db.transaction(backend.sessions) as session:
                    return finalize.finalize(
                        backend, session, principal, req, idem_key=body["sale_id"]
                    )[1]
            except IntegrityError:
                continue
        raise AssertionError("four lost races in a row")

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(run, bodies))


def test_concurrent_sessions_redeem_one_token_once(world: World, settings: ServerSettings) -> None:
    wallet = world.new_wallet(balance=100_000)
    token = world.token(wallet)
    results = _direct_race(world, [world.sale_body(token) for _ in range(16)])
    approved = [r for r in results if r["status"] == "approved"]
    assert len(approved) == 1
    assert {r["reason"] for r in results if r not in approved} == {"token_already_used"}
    assert admin.check_ledger(settings.data_dir, settings.db_url)["ok"] is True


def test_concurrent_tokens_cannot_overdraw_a_wallet(world: World, settings: ServerSettings) -> None:
    wallet = world.new_wallet(balance=1_000)  # pays for three 280-yen sales, not four
    bodies = [world.sale_body(world.token(wallet)) for _ in range(10)]
    results = _direct_race(world, bodies)
    statuses = sorted((r["status"], r["reason"]) for r in results)
    assert statuses.count(("approved", None)) == 3, statuses
    assert statuses.count(("declined", "insufficient_funds")) == 7, statuses
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 1_000 - 3 * 280
    assert admin.check_ledger(settings.data_dir, settings.db_url)["ok"] is True
