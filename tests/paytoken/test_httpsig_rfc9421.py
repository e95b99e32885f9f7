"""pos_app/paytoken/httpsig.py against RFC 9421 itself and against another implementation.

1. The RFC's Ed25519 example (Appendix B.2.6, test key of B.1.4): our signature-base and
   parameter serialisation reproduce the RFC's bytes exactly, our signer with the RFC key
   produces the RFC's signature byte for byte, and our structured-field parser reads the
   RFC's headers back to the same text.
2. The same request under our profile (BACKEND-API.md: "@method" "@target-uri"
   "content-digest" "idempotency-key", created/keyid/nonce/alg/tag) gives a fixed vector
   the independent ``http-message-signatures`` package verifies.
3. Interop both ways with that package at the current time: each side verifies what the
   other signed, and each refuses a changed body.
"""

from __future__ import annotations

import base64
import datetime
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
    algorithms,
)
from http_message_signatures.structures import CaseInsensitiveDict

from pos_app.paytoken import httpsig
from pos_app.paytoken.httpsig import SignatureError, sign_request, verify_request

# RFC 9421 Appendix B.1.4: test-key-ed25519.
RFC_KEY_PEM = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
RFC_PUBLIC_RAW_B64 = "JrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs="
RFC_KEYID = "test-key-ed25519"

# Appendix B.2: the test request.
RFC_URL = "https://example.com/foo?param=Value&Pet=dog"
RFC_BODY = b'{"hello": "world"}'
RFC_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": (
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEm"
        "THWXvJwew==:"
    ),
    "Content-Length": "18",
}

# Appendix B.2.6: signature base, Signature-Input and Signature.
B26_COMPONENTS = ["date", "@method", "@path", "@authority", "content-type", "content-length"]
B26_CREATED = 1618884473
B26_PARAMS = (
    '("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_BASE = (
    b'"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    b'"@method": POST\n'
    b'"@path": /foo\n'
    b'"@authority": example.com\n'
    b'"content-type": application/json\n'
    b'"content-length": 18\n'
    b'"@signature-params": ("date" "@method" "@path" "@authority" "content-type" '
    b'"content-length");created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE_INPUT = "sig-b26=" + B26_PARAMS
B26_SIGNATURE = (
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBK"
    "RCw==:"
)


def rfc_key() -> Ed25519PrivateKey:
    key = load_pem_private_key(RFC_KEY_PEM, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def b26_values() -> dict[str, str]:
    """Component values of the B.2 request: header fields through httpsig's own reader;
    @path and @authority (derived components outside our profile) from the URL."""
    lowered = {name.lower(): value for name, value in RFC_HEADERS.items()}
    fields = [name for name in B26_COMPONENTS if not name.startswith("@")]
    values = httpsig._component_values(
        ["@method", *fields], method="post", url=RFC_URL, headers=lowered, body=b""
    )
    parts = urlsplit(RFC_URL)
    values |= {"@path": parts.path, "@authority": parts.netloc}
    return values


def test_rfc9421_b26_signature_base_is_reproduced_byte_for_byte() -> None:
    params = httpsig._serialize_inner(B26_COMPONENTS, {"created": B26_CREATED, "keyid": RFC_KEYID})
    assert params == B26_PARAMS
    assert httpsig._signature_base(B26_COMPONENTS, b26_values(), params) == B26_BASE


def test_rfc9421_b26_signature_is_reproduced_with_the_b14_key() -> None:
    key = rfc_key()
    public_raw = key.public_key().public_bytes_raw()
    assert base64.b64encode(public_raw).decode() == RFC_PUBLIC_RAW_B64
    signature = base64.b64encode(key.sign(B26_BASE)).decode()
    assert f"sig-b26=:{signature}:" == B26_SIGNATURE


def test_rfc9421_b26_headers_parse_back_to_the_same_text_and_verify() -> None:
    inputs = httpsig._parse_dictionary(B26_SIGNATURE_INPUT)
    signatures = httpsig._parse_dictionary(B26_SIGNATURE)
    covered, params = inputs["sig-b26"]
    assert covered == B26_COMPONENTS
    assert params == {"created": B26_CREATED, "keyid": RFC_KEYID}
    assert isinstance(covered, list)
    assert httpsig._serialize_inner(covered, params) == B26_PARAMS
    raw_signature = signatures["sig-b26"][0]
    assert isinstance(raw_signature, bytes) and len(raw_signature) == 64
    rfc_key().public_key().verify(raw_signature, B26_BASE)  # raises when it does not verify


def test_the_rfc_example_is_outside_our_profile_and_refused() -> None:
    """No tag, no alg, no nonce, derived components we never sign: fail closed."""
    headers = {**RFC_HEADERS, "Signature-Input": B26_SIGNATURE_INPUT, "Signature": B26_SIGNATURE}
    with pytest.raises(SignatureError) as refused:
        verify_request(
            "POST",
            RFC_URL,
            headers,
            RFC_BODY,
            tag=httpsig.TAG_TERMINAL,
            resolve_key=lambda _kid: rfc_key().public_key(),
            now=B26_CREATED,
        )
    assert refused.value.reason == "missing"


# --- our profile on the RFC's request: a fixed vector --------------------------------------

PROFILE_NONCE = "b26-profile-nonce"
PROFILE_IDEMPOTENCY_KEY = "sale-0001"
PROFILE_DIGEST = "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
PROFILE_PARAMS = (
    '("@method" "@target-uri" "content-digest" "idempotency-key")'
    ';created=1618884473;keyid="test-key-ed25519";nonce="b26-profile-nonce";alg="ed25519"'
    ';tag="pos-v1"'
)
PROFILE_BASE = (
    '"@method": POST\n'
    f'"@target-uri": {RFC_URL}\n'
    f'"content-digest": {PROFILE_DIGEST}\n'
    f'"idempotency-key": {PROFILE_IDEMPOTENCY_KEY}\n'
    f'"@signature-params": {PROFILE_PARAMS}'
).encode()


def _headers(items: Mapping[str, str]) -> CaseInsensitiveDict:
    # http_message_signatures leaves CaseInsensitiveDict.__init__ unannotated.
    return CaseInsensitiveDict(items)  # type: ignore[no-untyped-call]


@dataclass
class Message:
    """The request shape http-message-signatures reads: method, absolute url, headers."""

    method: str
    url: str
    headers: CaseInsensitiveDict = field(default_factory=CaseInsensitiveDict)


def package_verifier() -> HTTPMessageVerifier:
    return HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519, key_resolver=keys(RFC_KEYID, rfc_key())
    )


def keys(keyid: str, key: Ed25519PrivateKey) -> MappingKeyResolver:
    return MappingKeyResolver(public_keys={keyid: key.public_key()}, private_keys={keyid: key})


def test_our_profile_on_the_rfc_request_is_a_fixed_vector_the_package_verifies() -> None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": PROFILE_IDEMPOTENCY_KEY}
    added = sign_request(
        "POST",
        RFC_URL,
        headers,
        RFC_BODY,
        key=rfc_key(),
        keyid=RFC_KEYID,
        tag=httpsig.TAG_TERMINAL,
        created=B26_CREATED,
        nonce=PROFILE_NONCE,
    )
    assert added["Content-Digest"] == PROFILE_DIGEST
    assert added["Signature-Input"] == f"sig1={PROFILE_PARAMS}"
    # Ed25519 is deterministic: the signature is the one over exactly PROFILE_BASE.
    expected = base64.b64encode(rfc_key().sign(PROFILE_BASE)).decode()
    assert added["Signature"] == f"sig1=:{expected}:"

    message = Message("POST", RFC_URL, _headers({**headers, **added}))
    results = package_verifier().verify(message, expect_tag=httpsig.TAG_TERMINAL, max_age=None)
    (result,) = package_verifier().verify_body(message, results, RFC_BODY)
    assert result.label == "sig1"
    assert result.parameters["keyid"] == RFC_KEYID
    assert result.parameters["nonce"] == PROFILE_NONCE
    assert result.body == RFC_BODY
    assert result.covered_components['"@signature-params"'] == PROFILE_PARAMS


# --- interop at the current time ----------------------------------------------------------

URL = "https://backend.example/v1/sales?store=s-1"
BODY = b'{"sale_id":"s-42","total":1280,"currency":"JPY"}'


def test_the_package_signs_and_our_verifier_accepts() -> None:
    key = Ed25519PrivateKey.generate()
    now = int(time.time())
    message = Message(
        "POST",
        URL,
        _headers(
            {
                "Content-Type": "application/json",
                "Idempotency-Key": "idem-7",
                "Content-Digest": httpsig.content_digest(BODY),
            }
        ),
    )
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519, key_resolver=keys("till-9", key)
    )
    signer.sign(
        message,
        key_id="till-9",
        created=_utc(now),
        nonce="n-from-package",
        label="pkg",
        tag=httpsig.TAG_TERMINAL,
        covered_component_ids=("@method", "@target-uri", "content-digest", "idempotency-key"),
        body=BODY,
        use_existing_digest=True,  # our sha-256 Content-Digest, checked against BODY
    )
    headers = dict(message.headers.items())

    def verify(body: bytes) -> httpsig.VerifiedSignature:
        return verify_request(
            "POST",
            URL,
            headers,
            body,
            tag=httpsig.TAG_TERMINAL,
            resolve_key=lambda kid: key.public_key() if kid == "till-9" else None,
            now=now,
        )

    verified = verify(BODY)
    assert (verified.label, verified.keyid, verified.nonce, verified.created) == (
        "pkg",
        "till-9",
        "n-from-package",
        now,
    )
    assert verified.covered == ("@method", "@target-uri", "content-digest", "idempotency-key")
    with pytest.raises(SignatureError) as changed:
        verify(BODY.replace(b"1280", b"1"))
    assert changed.value.reason == "digest"


def test_we_sign_and_the_package_verifies() -> None:
    key = Ed25519PrivateKey.generate()
    now = int(time.time())
    headers = {"Content-Type": "application/json", "Idempotency-Key": "idem-8"}
    headers |= sign_request(
        "POST",
        URL,
        headers,
        BODY,
        key=key,
        keyid="till-10",
        tag=httpsig.TAG_WALLET,
        created=now,
        nonce="n-from-us",
    )
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=keys("till-10", key),
    )
    message = Message("POST", URL, _headers(headers))
    results = verifier.verify(message, expect_tag=httpsig.TAG_WALLET)
    (result,) = verifier.verify_body(message, results, BODY)
    assert result.parameters["keyid"] == "till-10"
    assert result.parameters["alg"] == "ed25519"
    assert result.covered_components['"idempotency-key"'] == "idem-8"
    with pytest.raises(InvalidSignature):
        verifier.verify_body(message, results, BODY.replace(b"1280", b"1"))
    # A different URL is a different signature base: the package refuses it too.
    moved = Message("POST", URL.replace("s-1", "s-2"), _headers(headers))
    with pytest.raises(InvalidSignature):
        verifier.verify(moved, expect_tag=httpsig.TAG_WALLET)


def _utc(epoch: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
