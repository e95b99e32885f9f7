"""Every database connection of a worker busy beyond the pool's timeout: 503, never a 500.

The threadpool runs up to 40 requests per worker, the pool holds 20 + 10 connections: the
requests beyond them wait for one and, past the pool's timeout, SQLAlchemy raises its
``TimeoutError`` (not an ``OperationalError``)."""

from __future__ import annotations

from typing import Any

from tests.server.server_support import World


def test_a_request_that_gets_no_connection_in_time_is_told_to_retry(world: World) -> None:
    wallet = world.new_wallet(balance=50_000)
    body = world.sale_body(world.token(wallet))
    app: Any = world.api.client.app  # type: ignore[attr-defined]
    engine = app.state.backend.engine
    pool = engine.pool
    pool._timeout = 0.05  # the checkout timeout, 30 s by default
    held = [engine.connect() for _ in range(pool.size() + pool._max_overflow)]
    try:
        busy = world.api.post("/v1/sales", body, signer=world.terminal, idem="pool-key")
    finally:
        for conn in held:
            conn.close()
    assert busy.status_code == 503
    assert busy.json()["error"] == "unavailable"
    # The same request with the same key, once a connection is free: the sale, once.
    again = world.api.post("/v1/sales", body, signer=world.terminal, idem="pool-key")
    assert again.status_code == 200
    assert again.json()["status"] == "approved"
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 50_000 - body["total"]
