"""Trust lists: envelope signing, forgery, ignored entries, rollback, staleness."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.core.reasons import ReasonCode
from pos_app.paytoken.errors import TrustListInvalid
from pos_app.paytoken.keys import b64url_decode, b64url_encode, kid_hex
from pos_app.paytoken.trust_list import (
    SIGNING_CONTEXT,
    TrustListHolder,
    parse_trust_list,
    read_trust_list,
    replace_if_newer,
    sign_trust_list,
)
from tests.paytoken.pt1_forge import NOW, entry


def payload(keys: list[dict[str, Any]], *, seq: int = 7, **extra: Any) -> dict[str, Any]:
    return {"seq": seq, "issued_at": NOW, "next_update": NOW + 3600, "keys": keys, **extra}


def test_round_trip(root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey) -> None:
    envelope = sign_trust_list(root_key, payload([entry(issuer_key)]))
    doc = json.loads(envelope)
    assert set(doc) == {"format", "root_kid", "payload", "signature"}
    assert doc["format"] == "pos-trust-list/v1" and doc["root_kid"] == kid_hex(root_key)
    signed = b64url_decode(doc["payload"])
    root_key.public_key().verify(b64url_decode(doc["signature"]), SIGNING_CONTEXT + signed)
    listed = parse_trust_list(envelope, root_key.public_key())
    assert (listed.seq, listed.issued_at, listed.next_update) == (7, NOW, NOW + 3600)
    assert [key.kid_hex for key in listed.keys] == [kid_hex(issuer_key)]
    assert listed.keys[0].status == "active" and listed.ignored == ()
    assert listed.payload_bytes == signed


def _envelope(root: Ed25519PrivateKey, issuer: Ed25519PrivateKey) -> dict[str, str]:
    result: dict[str, str] = json.loads(sign_trust_list(root, payload([entry(issuer)])))
    return result


def _reparse(doc: dict[str, Any], root: Ed25519PrivateKey) -> None:
    parse_trust_list(json.dumps(doc).encode(), root.public_key())


def test_forgery_by_another_root(
    root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey
) -> None:
    attacker = Ed25519PrivateKey.generate()
    doc = _envelope(attacker, issuer_key)
    with pytest.raises(TrustListInvalid, match="root_kid") as caught:
        _reparse(doc, root_key)
    assert caught.value.code == ReasonCode.TRUST_LIST_INVALID
    doc["root_kid"] = kid_hex(root_key)  # claims to be ours, signed by the attacker
    with pytest.raises(TrustListInvalid, match="signature"):
        _reparse(doc, root_key)


def test_edited_payload_or_signature(
    root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey
) -> None:
    doc = _envelope(root_key, issuer_key)
    edited = json.loads(b64url_decode(doc["payload"]))
    edited["keys"][0]["verify_until"] = NOW + 10**9
    with pytest.raises(TrustListInvalid):
        _reparse({**doc, "payload": b64url_encode(json.dumps(edited).encode())}, root_key)
    signature = bytearray(b64url_decode(doc["signature"]))
    signature[0] ^= 1
    with pytest.raises(TrustListInvalid):
        _reparse({**doc, "signature": b64url_encode(bytes(signature))}, root_key)
    # Signing without the domain-separation prefix does not verify either.
    raw = b64url_decode(doc["payload"])
    bare = b64url_encode(root_key.sign(raw))
    with pytest.raises(TrustListInvalid):
        _reparse({**doc, "signature": bare}, root_key)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.pop("signature"),
        lambda d: d.update(format="pos-trust-list/v2"),
        lambda d: d.update(payload=d["payload"] + "="),
        lambda d: d.update(signature=d["signature"][:-1] + "!"),
        lambda d: d.update(root_kid=7),
    ],
)
def test_malformed_envelope(
    root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey, damage: Any
) -> None:
    doc = _envelope(root_key, issuer_key)
    damage(doc)
    with pytest.raises(TrustListInvalid):
        _reparse(doc, root_key)


@pytest.mark.parametrize(
    "data", [b"", b"[]", b"\xff\xfe", b'{"format": "a", "format": "b"}', b"not json"]
)
def test_unparseable_envelope(root_key: Ed25519PrivateKey, data: bytes) -> None:
    with pytest.raises(TrustListInvalid):
        parse_trust_list(data, root_key.public_key())


@pytest.mark.parametrize(
    "bad", [{"seq": -1}, {"seq": True}, {"next_update": "soon"}, {"keys": {}}, {"issued_at": 1.5}]
)
def test_invalid_payload_is_refused_when_signing(
    root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey, bad: dict[str, Any]
) -> None:
    with pytest.raises(TrustListInvalid):
        sign_trust_list(root_key, {**payload([entry(issuer_key)]), **bad})


def test_bad_entries_are_ignored_and_reported(
    root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey
) -> None:
    other = Ed25519PrivateKey.generate()
    wrong_kid = {**entry(other), "kid": kid_hex(issuer_key)}  # would shadow a trusted kid
    entries = [
        wrong_kid,
        {**entry(other), "alg": "ES256"},
        {**entry(other), "status": "suspended"},
        {**entry(other), "public_key": "AAAA"},
        {**entry(other), "verify_until": None},
        "not an object",
        entry(issuer_key),
    ]
    # A string among the entries, on purpose: the parser must skip it.
    doc = payload(entries)  # type: ignore[arg-type]
    listed = parse_trust_list(sign_trust_list(root_key, doc), root_key.public_key())
    assert [key.kid_hex for key in listed.keys] == [kid_hex(issuer_key)]
    assert [item.index for item in listed.ignored] == [0, 1, 2, 3, 4, 5]
    assert listed.ignored[0].why == "kid is not the kid of its public key"
    assert listed.ignored[0].kid == kid_hex(issuer_key)


def _listed(root: Ed25519PrivateKey, issuer: Ed25519PrivateKey, seq: int, **extra: Any) -> Any:
    envelope = sign_trust_list(root, payload([entry(issuer)], seq=seq, **extra))
    return parse_trust_list(envelope, root.public_key())


def test_rollback_rule(root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey) -> None:
    five = _listed(root_key, issuer_key, 5)
    six = _listed(root_key, issuer_key, 6)
    five_again = _listed(root_key, issuer_key, 5)
    five_other = _listed(root_key, issuer_key, 5, issued_at=NOW + 1)
    assert replace_if_newer(None, five).why == "installed"
    newer = replace_if_newer(five, six)
    assert newer.replaced and newer.current is six and newer.why == "newer"
    rollback = replace_if_newer(six, five)
    assert not rollback.replaced and rollback.current is six and rollback.why == "rollback"
    same = replace_if_newer(five, five_again)
    assert not same.replaced and same.why == "identical"
    conflict = replace_if_newer(five, five_other)
    assert not conflict.replaced and conflict.current is five
    assert conflict.why == "same_seq_different_content"


def test_holder_keeps_current_list_on_forgery_and_rollback(
    root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey
) -> None:
    holder = TrustListHolder(root_key.public_key())
    assert holder.offer_bytes(sign_trust_list(root_key, payload([entry(issuer_key)], seq=9)))
    current = holder.current
    assert current is not None and current.seq == 9
    forged = sign_trust_list(Ed25519PrivateKey.generate(), payload([], seq=99))
    with pytest.raises(TrustListInvalid):
        holder.offer_bytes(forged)
    assert holder.current is current
    old = holder.offer_bytes(sign_trust_list(root_key, payload([], seq=8)))
    assert old.why == "rollback" and holder.current is current


def test_staleness_edges(root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey) -> None:
    listed = _listed(root_key, issuer_key, 1)
    assert not listed.is_stale(NOW + 3600 + 86_400)
    assert listed.is_stale(NOW + 3600 + 86_401)
    assert not listed.is_stale(NOW + 3600, grace=0)
    assert listed.is_stale(NOW + 3601, grace=0)


def test_read_trust_list_file(
    tmp_path: Path, root_key: Ed25519PrivateKey, issuer_key: Ed25519PrivateKey
) -> None:
    path = tmp_path / "trust.json"
    path.write_bytes(sign_trust_list(root_key, payload([entry(issuer_key)])))
    assert read_trust_list(path, root_key.public_key()).seq == 7
    with pytest.raises(TrustListInvalid, match="cannot read"):
        read_trust_list(tmp_path / "missing.json", root_key.public_key())
