"""The stored idempotent answer commits with the work: a crash between them cannot double a top-up.

A separate backend process serves one signed top-up and dies (``os._exit``) at the moment
it writes the stored answer. Before the fix the top-up had already committed in its own
transaction and the claim was left without an answer; a retry 121 s later took the stale
claim over and credited the wallet a second time (``wallets.top_up`` has no natural key).
Now the claim, the credit and the answer are one transaction that dies with the process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from pos_app.paytoken import httpsig
from pos_app.server import admin
from pos_app.server.settings import ServerSettings
from tests.server.server_support import World

# Runs a backend on the same database, sends it one request and dies writing the answer.
CRASHING_SERVER = r"""
import json, os, sys
from starlette.testclient import TestClient
from pos_app.server import db, idempotency
from pos_app.server.app import create_app
from tests.fake_clock import FakeClock
from pos_app.server.settings import ServerSettings

data_dir, db_url, now, raw = sys.argv[1:]
settings = ServerSettings.for_data_dir(data_dir, db_url, clock=FakeClock(int(now)))
app = create_app(settings, migrate=False)
run_statement = db.raw

def die_storing_the_answer(session, statement, params=None):
    # The request path runs its statements on the DB-API cursor (db.raw), past
    # SQLAlchemy's execute events: the process dies as the answer is written.
    if statement is idempotency._STORE_ANSWER:
        os._exit(9)  # a process killed between the work and the stored answer
    return run_statement(session, statement, params)

db.raw = die_storing_the_answer

req = json.loads(raw)
with TestClient(app) as client:
    resp = client.request("POST", req["url"], content=req["body"].encode(), headers=req["headers"])
print("survived", resp.status_code)
"""


def test_crash_while_storing_the_answer_never_credits_twice(
    world: World, settings: ServerSettings
) -> None:
    wallet = world.new_wallet(balance=0)
    clock = world.api.clock
    path = f"/v1/wallets/{wallet.wallet_id}/top-ups"
    body = json.dumps({"amount": 5_000}).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": f"top-{uuid.uuid4()}"}
    signed = {
        **headers,
        **httpsig.sign_request(
            "POST",
            world.api.base + path,
            headers,
            body,
            key=wallet.signer.key,
            keyid=wallet.signer.keyid,
            tag=wallet.signer.tag,
            created=clock.now(),
            nonce=uuid.uuid4().hex,
        ),
    }
    request = {"url": world.api.base + path, "body": body.decode(), "headers": signed}
    crashed = subprocess.run(
        [
            sys.executable,
            "-c",
            CRASHING_SERVER,
            str(settings.data_dir),
            settings.db_url,
            str(clock.now()),
            json.dumps(request),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert crashed.returncode == 9, crashed.stdout + crashed.stderr

    clock.advance(121)  # past the old stale-claim takeover
    retry = world.api.post(
        path, {"amount": 5_000}, signer=wallet.signer, idem=headers["Idempotency-Key"]
    )
    assert retry.status_code == 201, retry.text
    again = world.api.post(
        path, {"amount": 5_000}, signer=wallet.signer, idem=headers["Idempotency-Key"]
    )
    assert again.json() == retry.json()  # the stored answer, not a third credit

    info = world.api.get(f"/v1/wallets/{wallet.wallet_id}", signer=wallet.signer).json()
    assert info["balance"] == 5_000
    assert retry.json()["balance"] == 5_000
    assert admin.check_ledger(settings.data_dir, settings.db_url)["ok"] is True
