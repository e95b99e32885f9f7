"""``GET /v1/terminals/heartbeat``: an idle till's signed contact (issue 15).

The backend refuses an offline claim dated inside a stretch of contact with the till,
but a till that sends nothing while idle leaves gaps, and a backdated claim can be dated
into them. The heartbeat is a signed request the backend records as contact, like any
other; it reads and writes nothing else.
"""

from __future__ import annotations

import uuid

from pos_app.server.settings import ServerSettings
from tests.server.server_support import World

HEARTBEAT = "/v1/terminals/heartbeat"


def test_the_heartbeat_answers_only_a_terminal_signature(world: World) -> None:
    resp = world.api.get(HEARTBEAT, signer=world.terminal)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "terminal_id": "T01",
        "store_id": "S001",
        "server_time": world.api.clock.now(),
    }
    unsigned = world.api.get(HEARTBEAT, signer=None)
    assert (unsigned.status_code, unsigned.json()["error"]) == (401, "bad_signature")
    wallet = world.new_wallet(balance=0)
    assert world.api.get(HEARTBEAT, signer=wallet.signer).status_code == 401
    nonce = uuid.uuid4().hex
    assert world.api.get(HEARTBEAT, signer=world.terminal, nonce=nonce).status_code == 200
    replayed = world.api.get(HEARTBEAT, signer=world.terminal, nonce=nonce)
    assert replayed.status_code == 401  # a recorded heartbeat cannot be replayed as contact


def test_heartbeats_of_an_idle_till_leave_no_gap_to_date_a_claim_into(world: World) -> None:
    wallet = world.new_wallet(balance=10_000)
    clock = world.api.clock
    clock.advance(73 * 3600)  # past the new-device window: the codes allow offline use
    assert world.api.get(HEARTBEAT, signer=world.terminal).status_code == 200
    token = world.token(wallet)  # a customer's code, photographed at an idle till
    photographed_at = clock.now()
    for _ in range(20):  # ten idle minutes, a heartbeat every 30 s and nothing else
        clock.advance(30)
        assert world.api.get(HEARTBEAT, signer=world.terminal).status_code == 200
    assert ServerSettings.model_fields["contact_slack"].default > 30  # keeps the stretch whole
    body = world.sale_body(token, offline_accepted_at=photographed_at + 20)
    resp = world.sell(body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"] == "bad_offline_time"
    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 10_000
