"""RFC 9421 request signatures as profiled by BACKEND-API.md."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.paytoken import httpsig
from pos_app.paytoken.httpsig import (
    SignatureError,
    VerifiedSignature,
    sign_request,
    step_up_message,
    verify_request,
)

URL = "http://127.0.0.1:8000/v1/sales"
NOW = 1_795_000_000


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _signed(
    key: Ed25519PrivateKey,
    *,
    body: bytes = b'{"a":1}',
    headers: Mapping[str, str] | None = None,
    tag: str = "pos-v1",
    created: int = NOW,
    nonce: str = "n1",
) -> dict[str, str]:
    headers = dict({"Idempotency-Key": "k-1"} if headers is None else headers)
    headers.update(
        sign_request(
            "POST", URL, headers, body, key=key, keyid="kid1", tag=tag, created=created, nonce=nonce
        )
    )
    return headers


def _verify(
    key: Ed25519PrivateKey,
    headers: Mapping[str, str],
    *,
    body: bytes = b'{"a":1}',
    method: str = "POST",
    url: str = URL,
    tag: str = "pos-v1",
    now: int = NOW,
) -> VerifiedSignature:
    return verify_request(
        method,
        url,
        headers,
        body,
        tag=tag,
        resolve_key=lambda kid: key.public_key() if kid == "kid1" else None,
        now=now,
    )


def test_round_trip_returns_parameters(key: Ed25519PrivateKey) -> None:
    headers = _signed(key)
    result = _verify(key, headers)
    assert (result.keyid, result.created, result.nonce, result.tag) == ("kid1", NOW, "n1", "pos-v1")
    assert result.covered == ("@method", "@target-uri", "content-digest", "idempotency-key")


def test_signature_input_and_digest_follow_the_profile(key: Ed25519PrivateKey) -> None:
    headers = _signed(key)
    assert (
        headers["Content-Digest"].startswith("sha-256=:") and headers["Content-Digest"][-1] == ":"
    )
    assert headers["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "content-digest" "idempotency-key")'
        f';created={NOW};keyid="kid1";nonce="n1";alg="ed25519";tag="pos-v1"'
    )


def test_signature_base_matches_rfc_9421_layout(key: Ed25519PrivateKey) -> None:
    headers = _signed(key)
    sig = base64.b64decode(headers["Signature"].split("=", 1)[1].strip(":"))
    base = (
        '"@method": POST\n'
        f'"@target-uri": {URL}\n'
        f'"content-digest": {headers["Content-Digest"]}\n'
        '"idempotency-key": k-1\n'
        f'"@signature-params": {headers["Signature-Input"].split("=", 1)[1]}'
    ).encode()
    key.public_key().verify(sig, base)  # raises if the base differs


def test_get_without_body_has_no_digest(key: Ed25519PrivateKey) -> None:
    headers = sign_request(
        "GET", URL, {}, None, key=key, keyid="kid1", tag="wallet-v1", created=NOW, nonce="x"
    )
    assert "Content-Digest" not in headers
    result = _verify(key, headers, body=b"", method="GET", tag="wallet-v1")
    assert result.covered == ("@method", "@target-uri")


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h: h.pop("Signature"), "missing"),
        (lambda h: h.pop("Signature-Input"), "missing"),
        (lambda h: h.update({"Idempotency-Key": "other"}), "mismatch"),
        (lambda h: h.update({"Signature": "sig1=:AAAA:"}), "mismatch"),
        (lambda h: h.update({"Signature-Input": "garbage"}), "malformed"),
        (lambda h: h.update({"Signature-Input": 'sig1=("@method");tag="pos-v1"'}), "components"),
    ],
)
def test_tampering_is_rejected(
    key: Ed25519PrivateKey, mutate: Callable[[dict[str, str]], object], reason: str
) -> None:
    headers = _signed(key)
    mutate(headers)
    with pytest.raises(SignatureError) as info:
        _verify(key, headers)
    assert info.value.reason == reason
    assert info.value.code == "bad_signature"


def test_tampered_body_fails_digest(key: Ed25519PrivateKey) -> None:
    headers = _signed(key)
    with pytest.raises(SignatureError) as info:
        _verify(key, headers, body=b'{"a":2}')
    assert info.value.reason == "digest"


def test_body_without_digest_component_is_rejected(key: Ed25519PrivateKey) -> None:
    headers = sign_request(
        "POST", URL, {}, None, key=key, keyid="kid1", tag="pos-v1", created=NOW, nonce="x"
    )
    with pytest.raises(SignatureError) as info:
        _verify(key, headers, body=b"{}")
    assert info.value.reason == "components"


def test_idempotency_key_must_be_covered_when_present(key: Ed25519PrivateKey) -> None:
    headers = _signed(key, headers={})
    headers["Idempotency-Key"] = "added-later"
    with pytest.raises(SignatureError) as info:
        _verify(key, headers)
    assert info.value.reason == "components"


def test_other_url_or_method_fails(key: Ed25519PrivateKey) -> None:
    headers = _signed(key)
    with pytest.raises(SignatureError):
        _verify(key, headers, url=URL + "x")
    with pytest.raises(SignatureError):
        _verify(key, headers, method="PUT")


@pytest.mark.parametrize(
    ("created", "ok"), [(NOW - 60, True), (NOW - 61, False), (NOW + 5, True), (NOW + 6, False)]
)
def test_time_window(key: Ed25519PrivateKey, created: int, ok: bool) -> None:
    headers = _signed(key, created=created)
    if ok:
        assert _verify(key, headers).created == created
    else:
        with pytest.raises(SignatureError) as info:
            _verify(key, headers)
        assert info.value.reason in {"stale", "future"}


def test_unknown_key(key: Ed25519PrivateKey) -> None:
    headers = _signed(key)
    with pytest.raises(SignatureError) as info:
        verify_request(
            "POST", URL, headers, b'{"a":1}', tag="pos-v1", resolve_key=lambda _k: None, now=NOW
        )
    assert info.value.reason == "unknown_key"


def test_other_key_fails(key: Ed25519PrivateKey) -> None:
    headers = _signed(key)
    other = Ed25519PrivateKey.generate()
    with pytest.raises(SignatureError) as info:
        _verify(other, headers)
    assert info.value.reason == "mismatch"


def test_selected_by_tag_whatever_the_label(key: Ed25519PrivateKey) -> None:
    wallet = sign_request(
        "POST",
        URL,
        {},
        b"{}",
        key=key,
        keyid="kid1",
        tag="wallet-v1",
        created=NOW,
        nonce="w",
        label="zz",
    )
    other = Ed25519PrivateKey.generate()
    term = sign_request(
        "POST", URL, {}, b"{}", key=other, keyid="t", tag="pos-v1", created=NOW, nonce="t"
    )
    headers = {
        "Content-Digest": wallet["Content-Digest"],
        "Signature-Input": f"{term['Signature-Input']}, {wallet['Signature-Input']}",
        "Signature": f"{term['Signature']}, {wallet['Signature']}",
    }
    result = _verify(key, headers, body=b"{}", tag="wallet-v1")
    assert result.label == "zz"
    with pytest.raises(SignatureError):
        _verify(key, headers, body=b"{}", tag="other-v1")


def test_wrong_alg_rejected(key: Ed25519PrivateKey) -> None:
    headers = _signed(key)
    headers["Signature-Input"] = headers["Signature-Input"].replace('alg="ed25519"', 'alg="hmac"')
    with pytest.raises(SignatureError) as info:
        _verify(key, headers)
    assert info.value.reason == "alg"


@pytest.mark.parametrize(
    "value",
    [
        "sig1=(",
        'sig1=("a" ',
        "sig1=:!!:",
        'sig1=("@method");tag="x\\q"',
        "=",
        "sig1=x,",
        "a" * 5000,
    ],
)
def test_malformed_headers_raise_typed_error(key: Ed25519PrivateKey, value: str) -> None:
    headers = _signed(key)
    headers["Signature-Input"] = value
    with pytest.raises(SignatureError):
        _verify(key, headers)


def test_step_up_message_is_compact_sorted_json() -> None:
    msg = step_up_message("c1", "JPY", "approve", "s1", "S001", 1280)
    assert msg == (
        b'{"challenge_id":"c1","currency":"JPY","decision":"approve",'
        b'"sale_id":"s1","store_id":"S001","total":1280}'
    )
    assert json.loads(msg)["total"] == 1280
    assert httpsig.step_up_message("c1", "JPY", "deny", "s1", "S001", 1280) != msg
