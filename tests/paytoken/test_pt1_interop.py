"""Interop: our tokens are real COSE_Sign1, checked by pycose as an independent oracle.

pycose 1.1 predates RFC 9864's fully-specified ``Ed25519`` (alg -19), so the
test registers that identifier, using pycose's own EdDSA implementation.
Nothing outside the tests uses pycose.
"""

from __future__ import annotations

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pycose.algorithms import CoseAlgorithm, EdDSA
from pycose.keys.curves import Ed25519
from pycose.keys.okp import OKPKey
from pycose.messages.sign1message import Sign1Message

from pos_app.paytoken import base45, cose, dcbor
from pos_app.paytoken.issuer import Issuer
from pos_app.paytoken.keys import kid_of, public_raw
from pos_app.paytoken.verifier import Verifier
from tests.paytoken.pt1_forge import NOW, good_claims, text_of


@CoseAlgorithm.register_attribute()
class FullySpecifiedEd25519(EdDSA):
    """RFC 9864: Ed25519 as its own COSE algorithm identifier."""

    identifier = -19
    fullname = "PT1_TEST_ED25519"


def _cose(text: str) -> bytes:
    assert text.startswith("PT1:")
    return base45.decode(text[4:])


def _pycose_decode(raw: bytes) -> Sign1Message:
    # pycose 1.1's own decode() expects cbor2 5's mutable containers; cbor2 6 yields a
    # tuple and a frozendict inside tags. Convert just those and let pycose do the rest.
    item = cbor2.loads(raw)
    assert item.tag == 18
    members = list(item.value)
    members[1] = dict(members[1])
    message = Sign1Message.from_cose_obj(members, True)
    assert isinstance(message, Sign1Message)
    return message


def _pycose_key(private: Ed25519PrivateKey, *, with_private: bool = False) -> OKPKey:
    if with_private:
        raw = private.private_bytes_raw()
        return OKPKey(crv=Ed25519, x=public_raw(private), d=raw)
    return OKPKey(crv=Ed25519, x=public_raw(private))


def test_our_token_verifies_in_pycose_with_the_external_aad(
    issuer_key: Ed25519PrivateKey,
) -> None:
    raw = _cose(Issuer(issuer_key).mint(good_claims()))
    message = _pycose_decode(raw)
    assert message.phdr_encoded == cose.protected_header(kid_of(issuer_key))
    assert message.uhdr == {}
    assert message.payload is not None
    assert cbor2.loads(message.payload) == good_claims().to_cbor_map()
    message.key = _pycose_key(issuer_key)
    message.external_aad = cose.EXTERNAL_AAD  # type: ignore[misc]  # pycose's setter is not next to its getter: mypy sees a read-only property
    assert message.verify_signature() is True


def test_our_token_fails_in_pycose_without_the_external_aad(
    issuer_key: Ed25519PrivateKey,
) -> None:
    message = _pycose_decode(_cose(Issuer(issuer_key).mint(good_claims())))
    message.key = _pycose_key(issuer_key)
    assert message.verify_signature() is False  # external_aad defaults to b""
    message.external_aad = b"pos-pay-token/v2"  # type: ignore[misc]  # as above
    assert message.verify_signature() is False


def test_pycose_made_token_verifies_in_our_verifier(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    message = Sign1Message(
        phdr={1: -19, 4: kid_of(issuer_key)},
        payload=dcbor.encode(good_claims().to_cbor_map()),
        external_aad=cose.EXTERNAL_AAD,
    )
    message.key = _pycose_key(issuer_key, with_private=True)
    raw = message.encode(tag=True)
    assert verifier.verify(text_of(raw), now=NOW).ok


def test_pycose_token_without_aad_is_rejected_by_us(
    verifier: Verifier, issuer_key: Ed25519PrivateKey
) -> None:
    message = Sign1Message(
        phdr={1: -19, 4: kid_of(issuer_key)},
        payload=dcbor.encode(good_claims().to_cbor_map()),
    )
    message.key = _pycose_key(issuer_key, with_private=True)
    assert verifier.verify(text_of(message.encode(tag=True)), now=NOW).reason == "bad_signature"


@pytest.mark.parametrize("claims_sub", ["w", "x" * 40])
def test_token_size_budget(issuer_key: Ed25519PrivateKey, claims_sub: str) -> None:
    text = Issuer(issuer_key).mint(good_claims(sub=claims_sub))
    assert len(_cose(text)) <= 204 and len(text) <= 4 + 306
