"""Property: any input yields a reason code (or a genuine token), never an exception.

The examples add up to 100,000+ under the 'ci' Hypothesis profile (the default,
tests/conftest.py: no deadline, no example database, so CI time stays bounded) and
1,000,000+ under POS_APP_HYPOTHESIS=thorough. Strategies are deliberately flat and cheap
(a single ``binary`` draw decoded by the test where possible) because hypothesis'
per-example overhead, not the verifier, dominates the run time.
"""

from __future__ import annotations

from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from pos_app.core import reasons
from pos_app.paytoken import base45, dcbor
from pos_app.paytoken.errors import CborError
from pos_app.paytoken.verifier import Verifier, VerifyResult
from tests.fuzz_budget import examples
from tests.paytoken.pt1_forge import NOW, claims_map, cose_bytes, entry, make_trust_list, text_of

KEY = Ed25519PrivateKey.generate()
VERIFIER = Verifier(
    make_trust_list(Ed25519PrivateKey.generate(), [entry(KEY)]), audience="pos.jp", currency="JPY"
)
GOOD_RAW = cose_bytes(KEY)
GOOD_TEXT = text_of(GOOD_RAW)
REASONS = frozenset(reasons.VERIFY_REASONS)
# Examples per test under the 'ci' profile; POS_APP_HYPOTHESIS=thorough runs ten times as many.
BUDGETS = {
    "text": 14_000,
    "latin1": 14_000,
    "base45": 10_000,
    "bytes": 20_000,
    "mutated_bytes": 22_000,
    "mutated_text": 10_000,
    "shapes": 6_000,
    "claims": 4_000,
}


def fuzz(name: str) -> settings:
    return settings(
        max_examples=examples(BUDGETS[name]),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def outcome(text: str) -> VerifyResult:
    result = VERIFIER.verify(text, now=NOW)
    assert isinstance(result, VerifyResult)
    if result.ok:
        assert result.reason is None and result.claims is not None
    else:
        assert result.reason in REASONS
    return result


@fuzz("text")
@given(st.text(max_size=650))
def test_random_text(text: str) -> None:
    assert not outcome(text).ok


@fuzz("latin1")
@given(st.binary(max_size=700))
def test_random_latin1_text(raw: bytes) -> None:
    assert not outcome(raw.decode("latin-1")).ok
    assert not outcome("PT1:" + raw.decode("latin-1")).ok


_B45 = (base45.ALPHABET * 6)[:256]  # maps every byte to an alphabet character


@fuzz("base45")
@given(st.binary(max_size=620), st.integers(0, 3))
def test_random_base45_after_prefix(raw: bytes, tail: int) -> None:
    body = "".join(_B45[b] for b in raw) + "a\u00e9~"[:tail]
    assert not outcome("PT1:" + body).ok


@fuzz("bytes")
@given(st.binary(max_size=300))
def test_random_bytes_as_cbor(raw: bytes) -> None:
    assert not outcome(text_of(raw)).ok


def _mutate(raw: bytes, op: bytes) -> bytes:
    kind, at, value, length = op[0] % 6, op[1] * 256 + op[2], op[3], op[3] % 4 + 1
    at %= len(raw) + 1
    if kind == 0:  # overwrite one byte
        return raw[:at] + bytes([value]) + raw[at + 1 :]
    if kind == 1:  # insert
        return raw[:at] + bytes([value]) * length + raw[at:]
    if kind == 2:  # delete
        return raw[:at] + raw[at + length :]
    if kind == 3:  # truncate
        return raw[:at]
    if kind == 4 and raw:  # flip one bit
        index = at % len(raw)
        return raw[:index] + bytes([raw[index] ^ (1 << (value % 8))]) + raw[index + 1 :]
    return raw + bytes([value]) * length  # trailing bytes


@fuzz("mutated_bytes")
@given(st.binary(min_size=4, max_size=16))
def test_mutated_valid_tokens(program: bytes) -> None:
    raw = GOOD_RAW
    for i in range(0, len(program) - 3, 4):
        raw = _mutate(raw, program[i : i + 4])
    result = outcome(text_of(raw))
    assert not result.ok or raw == GOOD_RAW


_TEXT_CHARS = base45.ALPHABET + "a~\u3042\r\n"


@fuzz("mutated_text")
@given(st.binary(min_size=3, max_size=6))
def test_mutated_valid_text(program: bytes) -> None:
    text = GOOD_TEXT
    for i in range(0, len(program) - 2, 3):
        index = (program[i] * 256 + program[i + 1]) % len(text)
        char = _TEXT_CHARS[program[i + 2] % len(_TEXT_CHARS)]
        text = text[:index] + char + text[index + 1 :]
    result = outcome(text)
    assert not result.ok or text == GOOD_TEXT


INTERESTING = [
    0, 1, -1, 23, 24, -19, -8, 392, 2**32, 2**64 - 1, -(2**64), True, False, None, 1.5,
    b"", bytes(7), bytes(8), bytes(9), bytes(15), bytes(16), bytes(17), bytes(64),
    "", "pos.jp", "x" * 32, "x" * 33, "w" * 64, "w" * 65, [], [1, 2, 3, 4],
    [5000, 392, bytes(8), 0], [5000, 392, bytes(8), 0, 0], {}, {1: -19}, cbor2.CBORTag(2, b"\x01"),
]  # fmt: skip
VALUES = st.sampled_from(INTERESTING)


@fuzz("shapes")
@given(VALUES, VALUES, VALUES, VALUES, st.sampled_from([16, 17, 18, 96, 97, 98]))
def test_random_sign1_shapes(
    protected: Any, unprotected: Any, payload: Any, sig: Any, tag: int
) -> None:
    members = [cbor2.dumps(protected), unprotected, cbor2.dumps(payload), sig]
    assert not outcome(text_of(cbor2.dumps(cbor2.CBORTag(tag, members)))).ok


@fuzz("claims")
@given(st.dictionaries(st.sampled_from([2, 3, 4, 6, 7, 8, -65537, -1]), VALUES, max_size=4))
def test_signed_random_claims(changes: dict[int, Any]) -> None:
    # Correctly signed, so every claim check (step 9 onwards) sees the junk.
    claims: dict[Any, Any] = {**claims_map(), **changes}
    try:
        payload = dcbor.encode(claims)
    except CborError:  # floats: let cbor2 write them
        payload = cbor2.dumps(claims)
    result = outcome(text_of(cose_bytes(KEY, payload=payload)))
    if result.ok:  # accepted claims are canonical and round-trip exactly
        assert result.claims is not None
        assert dcbor.encode(result.claims.to_cbor_map()) == payload


def test_example_budget_is_at_least_100k() -> None:
    assert sum(BUDGETS.values()) >= 100_000
    assert outcome(GOOD_TEXT).ok
