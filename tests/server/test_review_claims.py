"""Review claims across tills: claim, release, expiry, decisions by the holder only."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from pos_app.server import admin
from pos_app.server.clock import SystemClock
from pos_app.server.runner import BackgroundServer
from pos_app.server.settings import ServerSettings
from tests.fake_clock import FakeClock
from tests.server.server_support import Api, Signer, World, enroll_terminal, line

TOBACCO = [line("4900000000001", "heated_tobacco", 2, 5800, name="Heated tobacco carton")]


def _flagged_sale(world: World) -> str:
    wallet = world.new_wallet(balance=20_000)
    body = world.sale_body(world.token(wallet), lines=TOBACCO)
    assert world.sell(body).json()["status"] == "step_up_required"
    return str(body["sale_id"])


def _second_till(world: World, settings: ServerSettings, clock: FakeClock) -> Signer:
    ticket = admin.create_terminal(
        settings.data_dir, settings.db_url, store_id="S001", terminal_id="T02", clock=clock
    )
    return enroll_terminal(world.api, ticket["enrollment_code"])


def _claim(
    world: World, signer: Signer, sale_id: str, who: str, verb: str = "claim"
) -> httpx.Response:
    return world.api.post(f"/v1/reviews/{sale_id}/{verb}", {"reviewer_id": who}, signer=signer)


def _decide(world: World, signer: Signer, sale_id: str, who: str) -> httpx.Response:
    return world.decide(sale_id, "approve", reviewer=who, note="known customer", signer=signer)


def test_second_till_is_told_who_holds_the_sale(
    world: World, settings: ServerSettings, clock: FakeClock
) -> None:
    sale_id = _flagged_sale(world)
    t02 = _second_till(world, settings, clock)
    first = _claim(world, world.terminal, sale_id, "M1")
    assert first.status_code == 200
    assert first.json() == {
        "sale_id": sale_id,
        "claimed_by": "M1",
        "claimed_at": clock.now(),
        "expires_at": clock.now() + settings.review_claim_ttl,
    }
    clock.advance(10)
    second = _claim(world, t02, sale_id, "M2")
    assert second.status_code == 409
    assert second.json()["error"] == "review_claimed"
    assert second.json()["claimed_by"] == "M1"
    assert second.json()["claimed_at"] == first.json()["claimed_at"]
    # Re-claiming by the holder renews it; a decision by the other manager is refused.
    assert _claim(world, world.terminal, sale_id, "M1").status_code == 200
    refused = _decide(world, t02, sale_id, "M2")
    assert refused.status_code == 409 and refused.json()["claimed_by"] == "M1"
    listed = world.api.get("/v1/reviews?store_id=S001", signer=t02).json()["reviews"]
    (row,) = [r for r in listed if r["sale_id"] == sale_id]
    assert row["review_status"] == "pending" and row["decisions"] == []
    assert row["claim"] == {
        "claimed_by": "M1",
        "claimed_at": clock.now(),
        "expires_at": clock.now() + settings.review_claim_ttl,
    }


def test_holder_decides_and_the_claim_ends(
    world: World, settings: ServerSettings, clock: FakeClock
) -> None:
    sale_id = _flagged_sale(world)
    t02 = _second_till(world, settings, clock)
    assert _claim(world, world.terminal, sale_id, "M1").status_code == 200
    decided = _decide(world, world.terminal, sale_id, "M1")
    assert decided.status_code == 200 and decided.json()["review_status"] == "approved"
    # The claim ended with the decision: another manager may take the sale up again.
    assert _claim(world, t02, sale_id, "M2").status_code == 200


def test_release_only_by_holder(world: World, settings: ServerSettings, clock: FakeClock) -> None:
    sale_id = _flagged_sale(world)
    t02 = _second_till(world, settings, clock)
    assert _claim(world, world.terminal, sale_id, "M1").status_code == 200
    other = _claim(world, t02, sale_id, "M2", "release")
    assert other.status_code == 409 and other.json()["claimed_by"] == "M1"
    mine = _claim(world, world.terminal, sale_id, "M1", "release")
    assert mine.status_code == 200 and mine.json() == {"sale_id": sale_id, "claimed_by": None}
    assert _claim(world, t02, sale_id, "M2").status_code == 200
    # Releasing a sale one does not hold, when nobody else does, is harmless.
    assert _claim(world, world.terminal, sale_id, "M9", "release").status_code == 409
    assert _claim(world, t02, sale_id, "M2", "release").status_code == 200
    assert _claim(world, world.terminal, sale_id, "M9", "release").status_code == 200


def test_claim_expires(world: World, settings: ServerSettings, clock: FakeClock) -> None:
    sale_id = _flagged_sale(world)
    t02 = _second_till(world, settings, clock)
    assert _claim(world, world.terminal, sale_id, "M1").status_code == 200
    clock.advance(settings.review_claim_ttl - 1)
    assert _claim(world, t02, sale_id, "M2").status_code == 409
    clock.advance(2)
    taken = _claim(world, t02, sale_id, "M2")
    assert taken.status_code == 200 and taken.json()["claimed_by"] == "M2"
    # A decision without a claim is accepted when nobody holds the sale (queued offline ones).
    clock.advance(settings.review_claim_ttl + 1)
    assert _decide(world, world.terminal, sale_id, "M1").status_code == 200


def test_claim_needs_key_store_and_sale(
    world: World, settings: ServerSettings, clock: FakeClock
) -> None:
    sale_id = _flagged_sale(world)
    no_key = world.api.post(
        f"/v1/reviews/{sale_id}/claim", {"reviewer_id": "M1"}, signer=world.terminal, idem=None
    )
    assert no_key.status_code == 400 and no_key.json()["error"] == "idempotency_key_required"
    assert _claim(world, world.terminal, "nope", "M1").status_code == 404
    bad = world.api.post(f"/v1/reviews/{sale_id}/claim", {"reviewer": "M1"}, signer=world.terminal)
    assert bad.status_code == 422
    unsigned = world.api.post(f"/v1/reviews/{sale_id}/claim", {"reviewer_id": "M1"}, signer=None)
    assert unsigned.status_code == 401
    ticket = admin.create_terminal(
        settings.data_dir, settings.db_url, store_id="S002", terminal_id="T09", clock=clock
    )
    foreign = enroll_terminal(world.api, ticket["enrollment_code"])
    assert _claim(world, foreign, sale_id, "M7").status_code == 403


def test_concurrent_claims_one_winner(tmp_path: Path, db_url: str) -> None:
    """Real server, many threads, many tills: exactly one manager holds the sale."""
    data_dir = tmp_path / "backend"
    admin.init_backend(data_dir, db_url)
    settings = ServerSettings.for_data_dir(data_dir, db_url)
    tickets = [
        admin.create_terminal(data_dir, db_url, store_id="S001", terminal_id=f"T0{i}")
        for i in range(1, 4)
    ]
    with BackgroundServer(settings, host="127.0.0.1", port=0) as srv, httpx.Client() as client:
        api = Api(client=client, clock=SystemClock(), base=srv.base_url)
        tills = [enroll_terminal(api, t["enrollment_code"]) for t in tickets]
        world = World(api=api, terminal=tills[0])
        sale_id = _flagged_sale(world)

        def claim(i: int) -> httpx.Response:
            with httpx.Client(timeout=60) as own:
                mine = Api(client=own, clock=api.clock, base=api.base)
                path = f"/v1/reviews/{sale_id}/claim"
                return mine.post(path, {"reviewer_id": f"M{i}"}, signer=tills[i % 3])

        with ThreadPoolExecutor(9) as pool:
            answers = list(pool.map(claim, range(9)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] + [409] * 8, [a.text for a in answers]
    (winner,) = [a.json()["claimed_by"] for a in answers if a.status_code == 200]
    assert {a.json()["claimed_by"] for a in answers if a.status_code == 409} == {winner}
