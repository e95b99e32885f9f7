"""The backend client's own rules, with fake transports (the real server is in other tests)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.core.api_contract import FinalizeBody
from pos_app.paytoken import httpsig, keys
from pos_app.terminal.backend.client import (
    BackendClient,
    ClientConfig,
    SigningIdentity,
    backoff_delay,
)
from pos_app.terminal.errors import (
    BackendAuthError,
    BackendRejected,
    BackendServerError,
    BackendUnavailable,
    InsecureBackendUrl,
    OutcomeUnknown,
)

NOW = 1_795_000_000
KEY = Ed25519PrivateKey.generate()
# A sale to send where only the backend's answer matters (the tests read no body).
BODY: FinalizeBody = {
    "sale_id": "s1", "store_id": "S001", "terminal_id": "T01", "cashier_id": "C042",
    "token": "PT1:X", "currency": "JPY", "total": 0, "lines": [],
}  # fmt: skip
IDENTITY = SigningIdentity(key=KEY, keyid="terminal-key-1")
# A sale answer as BACKEND-API.md documents it (pos_app.core.api_contract.SaleAnswer).
SALE: dict[str, object] = {
    "sale_id": "s",
    "status": "approved",
    "authorization_id": "a1",
    "reason": None,
    "risk": {"score": 0, "action": "allow", "reasons": []},
    "step_up": None,
    "server_time": NOW,
}


def _client(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    url: str = "https://backend.example",
    retries: int = 3,
    sleeps: list[float] | None = None,
    clock: Callable[[], float] = lambda: NOW,
) -> BackendClient:
    return BackendClient(
        ClientConfig(base_url=url, retries=retries),
        identity=IDENTITY,
        transport=httpx.MockTransport(handler),
        clock=clock,
        sleep=(sleeps.append if sleeps is not None else lambda _s: None),
        rng=lambda: 0.5,
    )


def _json(status: int, body: dict[str, object], **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    "url",
    ["http://backend.example", "http://192.168.1.10:8000", "ftp://127.0.0.1", "http://"],
)
def test_plain_http_is_refused_except_to_loopback(url: str) -> None:
    with pytest.raises(InsecureBackendUrl, match="https://"):
        _client(lambda r: _json(200, {}), url=url)


@pytest.mark.parametrize(
    "url", ["https://backend.example", "http://127.0.0.1:8000", "http://[::1]"]
)
def test_https_and_loopback_http_are_allowed(url: str) -> None:
    _client(lambda r: _json(200, {}), url=url).close()


def test_every_request_is_signed_and_the_signature_verifies() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _json(200, SALE)

    client = _client(handler)
    client.finalize({"sale_id": "s1"}, idempotency_key="sale-s1")  # type: ignore[typeddict-item]
    request = seen[0]
    verified = httpsig.verify_request(
        request.method,
        str(request.url),
        dict(request.headers),
        request.content,
        tag=httpsig.TAG_TERMINAL,
        resolve_key=lambda kid: KEY.public_key() if kid == IDENTITY.keyid else None,
        now=NOW,
    )
    assert set(verified.covered) == {"@method", "@target-uri", "content-digest", "idempotency-key"}
    assert request.headers["Idempotency-Key"] == "sale-s1"


def test_server_time_gives_the_clock_skew() -> None:
    client = _client(lambda r: _json(200, {**SALE, "server_time": NOW + 42}))
    assert client.clock_skew_s is None
    client.get_sale("s")
    assert client.clock_skew_s == 42


def test_date_header_gives_the_skew_when_the_body_has_no_server_time() -> None:
    date = "Sun, 22 Nov 2026 04:00:00 GMT"  # 1795320000
    client = _client(lambda r: httpx.Response(200, content=b"{}", headers={"Date": date}))
    client.trust_list()
    assert client.clock_skew_s == 1_795_320_000 - NOW


def test_get_is_retried_with_growing_jittered_backoff() -> None:
    answers = iter([503, 502, 200])
    sleeps: list[float] = []
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.headers["Signature-Input"])
        status = next(answers)
        return _json(status, SALE if status == 200 else {"error": "unavailable", "detail": "busy"})

    assert _client(handler, sleeps=sleeps).get_sale("s").sale_id == "s"
    assert len(calls) == 3 and len(set(calls)) == 3  # each retry is freshly signed (nonce)
    assert sleeps == [backoff_delay(0, base=0.5, cap=8, rng=lambda: 0.5),
                      backoff_delay(1, base=0.5, cap=8, rng=lambda: 0.5)]  # fmt: skip
    assert sleeps[1] > sleeps[0] > 0


def test_backoff_is_capped_and_never_zero() -> None:
    assert backoff_delay(20, base=0.5, cap=8, rng=lambda: 0.0) == 4.0
    assert backoff_delay(20, base=0.5, cap=8, rng=lambda: 1.0) == 8.0


def test_post_that_never_left_is_retried_but_one_that_may_have_arrived_is_not() -> None:
    attempts: list[str] = []

    def refused_then_ok(request: httpx.Request) -> httpx.Response:
        attempts.append("x")
        if len(attempts) == 1:
            raise httpx.ConnectError("refused", request=request)
        return _json(200, SALE)

    answer = _client(refused_then_ok).finalize(BODY, idempotency_key="k")
    assert answer.status == "approved" and answer.authorization_id == "a1"
    assert len(attempts) == 2

    sent: list[str] = []

    def timeout(request: httpx.Request) -> httpx.Response:
        sent.append("x")
        raise httpx.ReadTimeout("no answer", request=request)

    with pytest.raises(OutcomeUnknown):
        _client(timeout).finalize(BODY, idempotency_key="k")
    assert len(sent) == 1


def test_post_answered_by_a_gateway_timeout_is_an_unknown_outcome() -> None:
    with pytest.raises(OutcomeUnknown):
        _client(lambda r: _json(504, {})).finalize(BODY, idempotency_key="k")


def test_post_answered_503_then_unreachable_is_an_unknown_outcome() -> None:
    """The backend answers 503 "retry with the same key" after a COMMIT whose answer it
    lost (the sale may be charged); if the retries then find it busy or gone, the sale is
    not "unreachable" (offline acceptance or a decline would disagree with the charge):
    the till reconciles. A GET and a POST refused before it arrived stay unavailable."""
    replies = iter(["503", "down", "down"])

    def lost_commit_then_down(request: httpx.Request) -> httpx.Response:
        if next(replies) == "503":
            return _json(503, {"error": "unavailable", "detail": "retry with the same key"})
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(OutcomeUnknown, match="503"):
        _client(lost_commit_then_down, retries=2).finalize(BODY, idempotency_key="k")
    with pytest.raises(OutcomeUnknown):
        _client(lambda r: _json(503, {}), retries=1).finalize(BODY, idempotency_key="k")

    with pytest.raises(BackendUnavailable) as caught:
        _client(lambda r: _json(503, {}), retries=1).get_sale("s")
    assert not isinstance(caught.value, OutcomeUnknown)
    with pytest.raises(BackendUnavailable) as busy:
        _client(lambda r: _json(429, {}), retries=1).finalize(BODY, idempotency_key="k")
    assert not isinstance(busy.value, OutcomeUnknown)


def test_unreachable_after_the_retries_is_backend_unavailable() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = _client(down, retries=2)
    with pytest.raises(BackendUnavailable) as caught:
        client.get_sale("s")
    assert not isinstance(caught.value, OutcomeUnknown)
    assert not client.online


def test_errors_are_translated_with_their_stable_code() -> None:
    body: dict[str, object] = {"error": "total_mismatch", "detail": "total is not the sum"}
    with pytest.raises(BackendRejected) as rejected:
        _client(lambda r: _json(422, body)).finalize(BODY, idempotency_key="k")
    assert (rejected.value.code, rejected.value.status) == ("total_mismatch", 422)

    skewed = _client(lambda r: _json(401, {"error": "bad_signature", "detail": "too old",
                                           "server_time": NOW + 120}))  # fmt: skip
    with pytest.raises(BackendAuthError, match="clock"):
        skewed.get_sale("s")


def test_enrollment_is_signed_with_the_new_key_named_by_its_kid() -> None:
    new_key = Ed25519PrivateKey.generate()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _json(
            201,
            {"terminal_id": "T01", "store_id": "S001", "keyid": "k", "trust_list": {},
             "server_time": NOW},
        )  # fmt: skip

    client = BackendClient(
        ClientConfig(base_url="https://backend.example"),
        transport=httpx.MockTransport(handler),
        clock=lambda: NOW,
    )
    client.enroll(
        code="c0de",
        public_key_b64=keys.b64url_encode(keys.public_raw(new_key)),
        app_version="0.1.0",
        identity=SigningIdentity(key=new_key, keyid=keys.kid_hex(new_key)),
        idempotency_key="enroll-1",
    )
    assert f'keyid="{keys.kid_hex(new_key)}"' in seen[0].headers["Signature-Input"]
    assert json.loads(seen[0].content)["enrollment_code"] == "c0de"


def test_post_met_by_in_progress_is_retried_then_unknown_never_unavailable() -> None:
    calls: list[str] = []

    def busy(request: httpx.Request) -> httpx.Response:
        calls.append("x")
        return _json(409, {"error": "request_in_progress", "detail": "in progress"})

    with pytest.raises(OutcomeUnknown):
        _client(busy, retries=2).finalize(BODY, idempotency_key="k")
    assert len(calls) == 3


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        ({k: v for k, v in SALE.items() if k != "status"}, "lacks 'status'"),
        ({**SALE, "status": "maybe"}, "SaleAnswer.status: 'maybe' is not one of"),
        ({**SALE, "server_time": "soon"}, "SaleAnswer.server_time: str"),
        ({**SALE, "step_up": {"challenge_id": "c"}}, "SaleAnswer.step_up: the answer lacks"),
    ],
)
def test_an_answer_off_the_contract_is_the_backends_fault_naming_the_key(
    answer: dict[str, object], named: str
) -> None:
    with pytest.raises(BackendServerError, match=named):
        _client(lambda r: _json(200, answer)).get_sale("s")


def test_an_answer_is_read_into_the_contract_types_keys_added_later_are_skipped() -> None:
    step = {**SALE, "status": "step_up_required", "authorization_id": None, "later": 1,
            "step_up": {"challenge_id": "c1", "expires_at": NOW + 120},
            "risk": {"score": 60, "action": "customer_approval", "reasons": ["r1"],
                     "details": [{"code": "r1", "inputs": {"floor": 5000}}]}}  # fmt: skip
    answer = _client(lambda r: _json(200, step)).get_sale("s")
    assert answer.step_up is not None and answer.step_up.expires_at == NOW + 120
    assert answer.risk is not None and answer.risk.detail("r1") is not None
    assert answer.risk.details[0].input_map() == {"floor": 5000}
