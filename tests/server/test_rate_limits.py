"""Rate limits that a fresh key cannot escape (issue 15, item 5).

Unauthenticated endpoints and failed signatures are limited per source address and
endpoint before any signature is verified; signed requests of enrolled terminals stay
limited per terminal (stores sit behind NAT); and the limiter's memory is bounded
without ever clearing everyone's buckets.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from pos_app.paytoken import httpsig
from pos_app.server import admin
from pos_app.server.app import create_app
from pos_app.server.ratelimit import RateLimiter, address_key
from pos_app.server.settings import ServerSettings
from tests.fake_clock import FakeClock
from tests.server.server_support import Api, Signer, enroll_terminal


@pytest.fixture
def limited(tmp_path: Path, db_url: str, clock: FakeClock) -> Iterator[ServerSettings]:
    data_dir = tmp_path / "rl"
    admin.init_backend(data_dir, db_url, clock=clock)
    yield ServerSettings.for_data_dir(
        data_dir,
        db_url,
        clock=clock,
        address_limit_per_minute=4,
        failed_signatures_per_minute=3,
        rate_limit_per_minute=5,
    )


_APPS: list[FastAPI] = []


@pytest.fixture(autouse=True)
def _close_backends() -> Iterator[None]:
    """Each app's backend holds a database pool: closed after the test, not by the GC."""
    yield
    while _APPS:
        _APPS.pop().state.backend.close()


def client_from(settings: ServerSettings, address: str) -> tuple[TestClient, Api]:
    app = create_app(settings, migrate=False)
    _APPS.append(app)
    client = TestClient(app, client=(address, 40000))
    return client, Api(client=client, clock=settings.clock)


def new_wallet(api: Api) -> int:
    signer = Signer.new(httpsig.TAG_WALLET)
    body = {"display_name": "x", "device_public_key": signer.public_b64, "home_region": "JP-13"}
    return api.post("/v1/wallets", body, signer=signer).status_code


def test_fresh_keys_share_their_address_bucket(limited: ServerSettings) -> None:
    client, api = client_from(limited, "203.0.113.7")
    with client:
        codes = [new_wallet(api) for _ in range(6)]  # six fresh self-signed keys
    assert codes == [201, 201, 201, 201, 429, 429]
    other, other_api = client_from(limited, "198.51.100.9")
    with other:  # another address has its own bucket
        assert new_wallet(other_api) == 201


def test_failed_signatures_are_limited_before_verification(
    limited: ServerSettings, clock: FakeClock
) -> None:
    ticket = admin.create_terminal(
        limited.data_dir, limited.db_url, store_id="S001", terminal_id="T01", clock=clock
    )
    good_client, good = client_from(limited, "192.0.2.10")
    bad_client, bad = client_from(limited, "192.0.2.66")
    with good_client, bad_client:
        terminal = enroll_terminal(good, ticket["enrollment_code"])
        forger = Signer(
            key=Signer.new(httpsig.TAG_TERMINAL).key, keyid=terminal.keyid, tag="pos-v1"
        )
        codes = [bad.get("/v1/sales/x", signer=forger).status_code for _ in range(5)]
        assert codes == [401, 401, 401, 429, 429]
        # The terminal's own requests, from its store's address, are not affected.
        assert good.get("/v1/sales/x", signer=terminal).status_code == 404


def test_enrolled_terminals_behind_one_address_are_limited_each(
    limited: ServerSettings, clock: FakeClock
) -> None:
    tickets = [
        admin.create_terminal(
            limited.data_dir, limited.db_url, store_id="S001", terminal_id=t, clock=clock
        )
        for t in ("T01", "T02")
    ]
    client, api = client_from(limited, "192.0.2.10")  # one store NAT address
    with client:
        one, two = (enroll_terminal(api, t["enrollment_code"]) for t in tickets)
        first = [api.get("/v1/sales/x", signer=one).status_code for _ in range(6)]
        second = [api.get("/v1/sales/x", signer=two).status_code for _ in range(5)]
    assert first == [404] * 5 + [429]
    assert second == [404] * 5


def test_memory_is_bounded_without_resetting_everyone() -> None:
    now = [0.0]
    limiter = RateLimiter(2, monotonic=lambda: now[0], max_tracked=100)
    for _ in range(2):
        limiter.check("attacker")
    for i in range(1_000):  # a flood of fresh buckets while the attacker keeps trying
        limiter.spend(f"fresh-{i}")
        if i % 10 == 0:
            assert limiter.exhausted("attacker")
    assert len(limiter) == 100
    assert not limiter.spend("attacker")  # never reset by the flood
    # The newest buckets are kept (one token spent, one left); the idle oldest went first.
    assert limiter.spend("fresh-999") and not limiter.spend("fresh-999")
    assert limiter.spend("fresh-0") and limiter.spend("fresh-0")


def test_ipv6_addresses_count_per_64() -> None:
    a = address_key("2001:db8:1:2:aaaa::1", "POST /v1/wallets")
    b = address_key("2001:db8:1:2:bbbb::99", "POST /v1/wallets")
    c = address_key("2001:db8:1:3::1", "POST /v1/wallets")
    assert a == b != c
    assert address_key("::ffff:192.0.2.1", "x") == address_key("192.0.2.1", "x")
