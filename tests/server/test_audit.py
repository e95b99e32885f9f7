"""POST /v1/terminals/{terminal_id}/audit: the backend keeps an unrewritable copy."""

from __future__ import annotations

import json
from typing import Any

import httpx

# The terminal's own hash rule: the backend must agree with it byte for byte.
from pos_app.core.audit_chain import GENESIS, entry_hash
from tests.server.server_support import World


def _chain(n: int, *, start: int = 1, prev: str = GENESIS) -> list[dict[str, Any]]:
    entries = []
    for i in range(start, start + n):
        detail = {"sale_id": f"s-{i}", "note": "レジ"}
        digest = entry_hash(
            prev_hash=prev,
            at=1_795_000_000 + i,
            actor="M1",
            action="void",
            detail_json=json.dumps(detail, sort_keys=True, separators=(",", ":")),
        )
        entries.append(
            {
                "id": i,
                "at": 1_795_000_000 + i,
                "actor": "M1",
                "action": "void",
                "detail": detail,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    return entries


def _push(
    world: World, entries: list[dict[str, Any]], terminal: str = "T01", **kw: Any
) -> httpx.Response:
    return world.api.post(
        f"/v1/terminals/{terminal}/audit", {"entries": entries}, signer=world.terminal, **kw
    )


def test_chain_is_appended_in_batches(world: World) -> None:
    chain = _chain(5)
    first = _push(world, chain[:3])
    assert first.status_code == 200 and first.json() == {"synced_through": 3}
    # A re-send overlapping what is held is fine when identical.
    second = _push(world, chain[2:])
    assert second.status_code == 200 and second.json() == {"synced_through": 5}


def test_edited_entry_is_refused(world: World) -> None:
    chain = _chain(3)
    assert _push(world, chain).status_code == 200
    edited = [dict(chain[1], detail={"sale_id": "other"})]
    resp = _push(world, edited)
    assert resp.status_code == 409 and resp.json()["error"] == "audit_chain_broken"
    assert "first bad id: 2" in resp.json()["detail"]


def test_gap_or_wrong_hash_is_refused(world: World) -> None:
    chain = _chain(4)
    assert _push(world, chain[:1]).status_code == 200
    assert _push(world, chain[2:]).status_code == 409  # entry 2 is missing
    forged = [dict(chain[1], hash="0" * 64)]
    assert _push(world, forged).status_code == 409
    assert _push(world, chain[1:]).json() == {"synced_through": 4}


def test_only_its_own_log(world: World) -> None:
    resp = _push(world, _chain(1), terminal="T02")
    assert resp.status_code == 403 and resp.json()["error"] == "wrong_terminal"
    bad = _push(world, [dict(_chain(1)[0], hash="xyz")])
    assert bad.status_code == 422


def test_head_is_where_a_replaced_till_continues_the_chain(world: World) -> None:
    empty = world.api.get("/v1/terminals/T01/audit", signer=world.terminal)
    assert empty.status_code == 200
    assert empty.json() == {"synced_through": 0, "head_hash": GENESIS}
    chain = _chain(3)
    assert _push(world, chain).status_code == 200
    head = world.api.get("/v1/terminals/T01/audit", signer=world.terminal).json()
    assert head == {"synced_through": 3, "head_hash": chain[-1]["hash"]}
    # The replacement till starts its own log after that head: the backend accepts it.
    continued = _chain(2, start=4, prev=head["head_hash"])
    assert _push(world, continued).json() == {"synced_through": 5}
    # Starting again at id 1 (what a purged till did) is refused, naming the entry.
    again = _push(world, [dict(_chain(1)[0], detail={"sale_id": "new"})])
    assert again.status_code == 409 and "first bad id: 1" in again.json()["detail"]
    other = world.api.get("/v1/terminals/T02/audit", signer=world.terminal)
    assert other.status_code == 403
