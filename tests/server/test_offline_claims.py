"""Offline claims are bounded by what the backend knows of the till (issue 15, item 1).

A cashier with a photo of a customer's code used to send it as an "offline" sale dated
back into the code's validity window, up to 30 days later. Now an ``offline_accepted_at``
in the future, older than the maximum offline period, or inside a stretch of contact with
that till is refused 422 ``bad_offline_time``; the sale is kept as an offline loss, on the
manager's review list and on the wallet owner's list, where the owner can dispute it.
"""

from __future__ import annotations

from typing import Any

from pos_app.server import admin
from pos_app.server.settings import ServerSettings
from tests.server.server_support import World

SLACK = ServerSettings.model_fields["contact_slack"].default


def established_wallet(world: World, balance: int = 10_000) -> Any:
    """A wallet whose device is past the new-device window: its tokens allow offline use."""
    wallet = world.new_wallet(balance=balance)
    world.api.clock.advance(73 * 3600)
    return wallet


def contact(world: World) -> None:
    """Any signed request the backend processes counts (a 404 included)."""
    assert world.api.get("/v1/sales/no-such-sale", signer=world.terminal).status_code == 404


def keep_in_contact(world: World, seconds: int, *, every: int = 30) -> None:
    for _ in range(seconds // every):
        world.api.clock.advance(every)
        contact(world)


def offline_body(world: World, token: str, accepted_at: int) -> dict[str, Any]:
    return world.sale_body(token, offline_accepted_at=accepted_at)


def reviews(world: World) -> dict[str, dict[str, Any]]:
    resp = world.api.get("/v1/reviews?store_id=S001", signer=world.terminal)
    return {r["sale_id"]: r for r in resp.json()["reviews"]}


def owner_view(world: World, wallet: Any) -> dict[str, dict[str, Any]]:
    resp = world.api.get(f"/v1/wallets/{wallet.wallet_id}/sales", signer=wallet.signer)
    assert resp.status_code == 200, resp.text
    return {s["sale_id"]: s for s in resp.json()["sales"]}


def balance(world: World, wallet: Any) -> int:
    resp = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer)
    return int(resp.json()["balance"])


def test_backdated_offline_sale_of_an_expired_code_is_refused(world: World) -> None:
    wallet = established_wallet(world)
    clock = world.api.clock
    minted_at = clock.now()
    contact(world)
    token = world.token(wallet)  # the photo is taken now
    keep_in_contact(world, 240)  # the till keeps working online; the code expires
    online = world.sell(world.sale_body(token))
    assert online.json()["reason"] == "expired"

    body = offline_body(world, token, minted_at + 10)  # dated back into the code's window
    resp = world.sell(body, idem="backdated-1")
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"] == "bad_offline_time"
    assert "hearing from this terminal" in resp.json()["detail"]
    assert balance(world, wallet) == 10_000

    again = world.sell(body, idem="backdated-1")  # the refusal is stored under the key
    assert (again.status_code, again.json()) == (422, resp.json())
    sale = world.api.get(f"/v1/sales/{body['sale_id']}", signer=world.terminal).json()
    assert (sale["status"], sale["reason"]) == ("declined", "bad_offline_time")
    flagged = reviews(world)[body["sale_id"]]
    assert flagged["offline"] is True and flagged["review_status"] == "pending"
    seen = owner_view(world, wallet)[body["sale_id"]]
    assert seen["offline_loss"] is True and seen["reason"] == "bad_offline_time"


def test_future_and_too_old_claims_are_refused(world: World) -> None:
    wallet = established_wallet(world)
    clock = world.api.clock
    token = world.token(wallet)
    future = world.sell(offline_body(world, token, clock.now() + 60))
    assert future.status_code == 422 and "future" in future.json()["detail"]
    clock.advance(25 * 3600)
    old = world.sell(offline_body(world, token, clock.now() - 24 * 3600 - 1))
    assert old.status_code == 422 and "maximum offline period" in old.json()["detail"]
    assert balance(world, wallet) == 10_000


def test_a_real_outage_settles_its_offline_sales(world: World) -> None:
    wallet = established_wallet(world)
    clock = world.api.clock
    contact(world)
    clock.advance(150)  # the network is gone: the till hears nothing, the backend neither
    token = world.token(wallet)
    clock.advance(50)
    accepted_at = clock.now()
    clock.advance(100)  # back online; the outbox sends the offline sale
    resp = world.sell(offline_body(world, token, accepted_at))
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "approved"
    assert balance(world, wallet) == 10_000 - 280


def test_a_closed_stretch_of_contact_still_refuses(world: World) -> None:
    """Contact that ended hours ago still rules out a claim dated inside it."""
    wallet = established_wallet(world)
    clock = world.api.clock
    contact(world)
    token = world.token(wallet)
    in_contact_at = clock.now() + 40
    keep_in_contact(world, 120)
    clock.advance(3 * SLACK)  # silence: that stretch is over
    contact(world)  # a new stretch starts
    resp = world.sell(offline_body(world, token, in_contact_at))
    assert resp.status_code == 422 and resp.json()["error"] == "bad_offline_time"


def test_per_terminal_offline_limits(world: World, settings: ServerSettings) -> None:
    wallet = established_wallet(world)
    clock = world.api.clock
    admin.set_offline_limits(
        settings.data_dir,
        settings.db_url,
        store_id="S001",
        terminal_id="T01",
        max_age=120,
        max_sale=200,
    )
    token = world.token(wallet)
    clock.advance(100)
    over = world.sell(offline_body(world, token, clock.now() - 30))
    assert (over.json()["status"], over.json()["reason"]) == ("declined", "limit_exceeded")
    assert reviews(world)[over.json()["sale_id"]]["review_status"] == "pending"
    clock.advance(100)
    token = world.token(wallet)
    clock.advance(30)
    too_far = world.sell(offline_body(world, token, clock.now() - 130))
    assert too_far.status_code == 422 and "(120 s)" in too_far.json()["detail"]
    assert balance(world, wallet) == 10_000


def test_owner_sees_and_disputes_an_offline_charge(world: World) -> None:
    stranger = world.new_wallet(balance=0)
    wallet = established_wallet(world)
    clock = world.api.clock
    token = world.token(wallet)
    clock.advance(60)
    body = offline_body(world, token, clock.now() - 30)
    assert world.sell(body).json()["status"] == "approved"
    charge = owner_view(world, wallet)[body["sale_id"]]
    assert charge["offline"] is True and charge["offline_loss"] is False
    assert charge["total"] == 280 and charge["disputed_at"] is None

    path = f"/v1/wallets/{wallet.wallet_id}/sales/{body['sale_id']}/dispute"
    other = world.api.post(
        f"/v1/wallets/{stranger.wallet_id}/sales/{body['sale_id']}/dispute",
        {"reason": "x"},
        signer=stranger.signer,
    )
    assert other.status_code == 404  # not the stranger's sale
    resp = world.api.post(path, {"reason": "not me: I was at home"}, signer=wallet.signer)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "sale_id": body["sale_id"],
        "review_status": "pending",
        "disputed_at": clock.now(),
    }
    flagged = reviews(world)[body["sale_id"]]
    assert flagged["dispute"] == {"at": clock.now(), "reason": "not me: I was at home"}
    assert flagged["review_status"] == "pending"
    assert owner_view(world, wallet)[body["sale_id"]]["disputed_at"] == clock.now()
