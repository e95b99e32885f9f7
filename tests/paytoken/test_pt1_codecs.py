"""Codecs and keys: strict base45, deterministic CBOR, claims encoding, key files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from pos_app.core.errors import TokenError
from pos_app.paytoken import base45, claims, cose, dcbor, keys
from pos_app.paytoken.errors import Base45Error, CborError, KeyFileError, TokenEncodeError
from pos_app.paytoken.issuer import Issuer, mint_token
from tests.fuzz_budget import examples
from tests.paytoken.pt1_forge import good_claims

RFC9285 = [(b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581")]


@pytest.mark.parametrize(("data", "text"), RFC9285)
def test_base45_rfc_vectors(data: bytes, text: str) -> None:
    assert base45.encode(data) == text
    assert base45.decode(text) == data
    assert base45.decode("QED8WEX0") == b"ietf!"


@pytest.mark.parametrize("bad", ["GGW", "A", "ABCD", "bb8", "BB8\n", "BB\u00c8", ":::", "0:"])
def test_base45_strict(bad: str) -> None:
    with pytest.raises(Base45Error):
        base45.decode(bad)


@settings(max_examples=examples(300))
@given(st.binary(max_size=64))
def test_base45_round_trip(data: bytes) -> None:
    assert base45.decode(base45.encode(data)) == data


def test_dcbor_sorts_keys_bytewise_unlike_cbor2_canonical() -> None:
    value = {24: "a", -1: "b", 2: "c", -65537: "d", 300: "e"}
    ours = dcbor.encode(value)
    theirs = cbor2.dumps(value, canonical=True)
    assert ours.hex() == "a50261631818616119012c61652061623a000100006164"
    assert theirs != ours  # cbor2's canonical is RFC 7049 length-first
    assert dcbor.decode_deterministic(ours) == value
    with pytest.raises(CborError):
        dcbor.decode_deterministic(theirs)


@pytest.mark.parametrize(
    "value", [1.5, 2**64, -(2**64) - 1, cbor2.undefined, cbor2.CBORSimpleValue(16), {1, 2}]
)
def test_dcbor_refuses_values_outside_the_subset(value: object) -> None:
    with pytest.raises(CborError):
        dcbor.encode(value)


def test_dcbor_cycles_and_depth_are_errors_not_crashes() -> None:
    shared = bytes.fromhex("d81c81d81d00")  # a list that contains itself
    with pytest.raises(CborError):
        dcbor.decode_deterministic(shared)
    with pytest.raises(CborError):
        dcbor.encode([[[[[[[[[[[]]]]]]]]]]])


def test_dcbor_ints_and_bools() -> None:
    assert dcbor.encode(True) == b"\xf5" and dcbor.encode(1) == b"\x01"
    assert dcbor.encode(-(2**64)) == b"\x3b" + b"\xff" * 8
    assert dcbor.encode(2**64 - 1) == b"\x1b" + b"\xff" * 8


@settings(max_examples=examples(500))
@given(
    sub=st.text(min_size=1, max_size=16),
    exp=st.integers(0, 2**64 - 1),
    limit=st.integers(0, 2**64 - 1),
    flags=st.integers(0, 2**64 - 1),
)
def test_fast_claims_encoder_equals_generic(sub: str, exp: int, limit: int, flags: int) -> None:
    value = good_claims(sub=sub, exp=exp, limit=limit, flags=flags)
    assert claims.encode_claims(value) == dcbor.encode(value.to_cbor_map())
    if not value.problems():
        assert claims.decode_claims(claims.encode_claims(value)) == value


def test_currency_mapping() -> None:
    assert claims.currency_numeric("JPY") == 392 and claims.currency_numeric("usd") == 840
    assert claims.currency_numeric("978") == 978 and claims.currency_numeric(392) == 392
    assert claims.currency_alpha(392) == "JPY" and claims.currency_alpha(1) is None
    for bad in ("XXX", True, 0, 1000):
        with pytest.raises(ValueError):
            claims.currency_numeric(bad)


def test_flag_bits() -> None:
    assert claims.KNOWN_FLAGS == 0b11111
    assert claims.unknown_flags(0b100011) == 0b100000
    assert claims.FLAG_NO_USER_VERIFICATION == 16


def test_issuer_refuses_invalid_claims_and_oversize() -> None:
    key = Ed25519PrivateKey.generate()
    issuer = Issuer(key)
    assert issuer.kid == keys.kid_of(key)
    for changes in ({"sub": ""}, {"exp": 0}, {"cti": b"short"}, {"exp": 2**40}, {"flags": -1}):
        with pytest.raises(TokenEncodeError):
            issuer.mint(good_claims(**changes))
    with pytest.raises(TokenEncodeError, match="204"):
        issuer.mint(good_claims(sub="s" * 64, aud="a" * 32))
    with pytest.raises(TokenEncodeError):
        mint_token(key, sub="w", aud="pos.jp", limit=1, currency="XXX", device=bytes(8),
                   flags=0, iat=1)  # fmt: skip
    assert issubclass(TokenEncodeError, TokenError)


def test_mint_token_defaults() -> None:
    key = Ed25519PrivateKey.generate()
    one = mint_token(key, sub="w", aud="pos.jp", limit=1, currency="JPY", device=bytes(8),
                     flags=0, iat=100)  # fmt: skip
    two = mint_token(key, sub="w", aud="pos.jp", limit=1, currency=392, device=bytes(8),
                     flags=0, iat=100)  # fmt: skip
    assert one.startswith("PT1:") and one != two  # random cti each time


def test_kid_is_sha256_prefix() -> None:
    import hashlib

    key = Ed25519PrivateKey.generate()
    raw = keys.public_raw(key)
    assert keys.kid_of(key) == hashlib.sha256(raw).digest()[:8]
    assert keys.kid_of(key.public_key()) == keys.kid_of(raw)
    assert keys.kid_hex(key) == keys.kid_of(key).hex() and len(keys.kid_hex(key)) == 16


def test_b64url_strict() -> None:
    assert keys.b64url_encode(b"\xfb\xff") == "-_8"
    assert keys.b64url_decode("-_8") == b"\xfb\xff"
    for bad in ("-_8=", "+/8", "-_9", "a", "ab!c"):
        with pytest.raises(ValueError):
            keys.b64url_decode(bad)


def test_key_files(tmp_path: Path) -> None:
    key = keys.generate_keypair()
    keys.write_private_key(tmp_path / "k.key", key)
    keys.write_public_key(tmp_path / "k.pub", key.public_key())
    assert stat.S_IMODE(os.stat(tmp_path / "k.key").st_mode) == 0o600
    assert (tmp_path / "k.key").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert (tmp_path / "k.pub").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert keys.kid_of(keys.load_private_key(tmp_path / "k.key")) == keys.kid_of(key)
    assert keys.kid_of(keys.load_public_key(tmp_path / "k.pub")) == keys.kid_of(key)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_bad_key_files(tmp_path: Path) -> None:
    key = keys.generate_keypair()
    keys.write_public_key(tmp_path / "k.pub", key.public_key())
    (tmp_path / "junk").write_text("hello")
    for loader, path in [
        (keys.load_private_key, tmp_path / "missing"),
        (keys.load_private_key, tmp_path / "junk"),
        (keys.load_private_key, tmp_path / "k.pub"),
        (keys.load_public_key, tmp_path / "junk"),
    ]:
        with pytest.raises(KeyFileError):
            loader(path)


@pytest.mark.parametrize("size", [0, 13, 23, 24, 255, 256, 65_535, 65_536])
def test_hand_built_cose_structures_equal_generic_encoding(size: int) -> None:
    protected, payload, signature = (
        bytes(13),
        bytes(range(256)) * (size // 256) + bytes(size % 256),
        bytes(64),
    )
    assert cose.sig_structure(protected, payload) == dcbor.encode(
        ["Signature1", protected, cose.EXTERNAL_AAD, payload]
    )
    assert cose.sig_structure(payload, protected) == dcbor.encode(
        ["Signature1", payload, cose.EXTERNAL_AAD, protected]
    )
    parts = cose.Sign1Parts(protected=payload, payload=protected, signature=signature)
    assert cose.sign1_tagged(parts) == dcbor.encode(
        cbor2.CBORTag(18, [payload, {}, protected, signature])
    )


def _reference_base45(text: str) -> bytes | None:
    """RFC 9285 section 4.2 written plainly, to check the lane-parallel decoder."""
    if len(text) % 3 == 1 or any(ch not in base45.ALPHABET for ch in text):
        return None
    values = [base45.ALPHABET.index(ch) for ch in text]
    out = bytearray()
    for i in range(0, len(values), 3):
        group = values[i : i + 3]
        n = sum(v * 45**k for k, v in enumerate(group))
        if n > (0xFFFF if len(group) == 3 else 0xFF):
            return None
        out += n.to_bytes(len(group) - 1, "big")
    return bytes(out)


@settings(max_examples=examples(2000))
@given(st.text(alphabet=base45.ALPHABET[-12:] + "0AZ", max_size=40))
def test_base45_matches_reference(text: str) -> None:
    # The alphabet's tail (high digit values) makes out-of-range groups common.
    try:
        ours: bytes | None = base45.decode(text)
    except Base45Error:
        ours = None
    assert ours == _reference_base45(text)
