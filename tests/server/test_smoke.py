from __future__ import annotations

from server_support import World


def test_happy_sale(world: World) -> None:
    wallet = world.new_wallet(balance=10_000)
    resp = world.sell(world.sale_body(world.token(wallet)))
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "approved", resp.json()
