"""The terminal's backend client (BACKEND-API.md) on httpx.

- Every request is signed with the terminal key (RFC 9421, ``tag="pos-v1"``),
  with a fresh ``created`` and nonce per attempt: a retry is a new signature.
- TLS verification is always on; plain HTTP is refused except to loopback.
- Retries with exponential backoff and jitter only where repeating is harmless:
  a GET, or a POST that provably never reached the backend (connect failure) or
  that the backend refused before doing anything (429, 503, 409 in progress).
  A POST that may have been processed (read timeout, dropped connection, 5xx)
  raises :class:`OutcomeUnknown`: the caller reconciles with a GET first.
- The backend's ``server_time`` (or ``Date``) on each response gives the
  clock skew, which the status bar and the doctor show. Signatures are dated
  with the offset measured at the last contact (``now()``), so a till whose own
  clock is wrong is still understood; a ``bad_signature`` answer that reveals a
  new offset is signed again once (nothing was done with the refused request).
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self, TypedDict, TypeVar, Unpack
from urllib.parse import quote, urlencode

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pos_app.core.api_contract import (
    AuditAppended,
    AuditHead,
    CancelBody,
    ClaimAnswer,
    ClaimBody,
    ContractError,
    DecisionAnswer,
    DecisionBody,
    EnrollAnswer,
    EnrollBody,
    FinalizeBody,
    HeartbeatAnswer,
    ReceiptAnswer,
    ReviewsAnswer,
    SaleAnswer,
    parse,
)
from pos_app.core.reasons import ReasonCode
from pos_app.paytoken import httpsig
from pos_app.terminal.backend.answers import auth_hint, error_of, extra_of, server_time
from pos_app.terminal.errors import (
    BackendAuthError,
    BackendRejected,
    BackendServerError,
    BackendUnavailable,
    InsecureBackendUrl,
    OutcomeUnknown,
)
from pos_app.terminal.settings.loader import is_allowed_backend_url
from pos_app.terminal.settings.schema import Settings

log = logging.getLogger(__name__)

Clock = Callable[[], float]
A = TypeVar("A")
# Statuses meaning "nothing was done, ask again later" for any request.
_RETRY_ALWAYS = frozenset({409, 429, 503})
# 409s that are answers, not "still working on it": retrying cannot change them.
_FINAL_CONFLICTS = frozenset({"review_claimed"})
# Statuses after which a POST's effect is unknown (a proxy timed out, the server crashed).
_UNKNOWN_AFTER_POST = frozenset({500, 502, 504})
# Answered without a signature check: the backend records no contact for them.
_NOT_CONTACTS = frozenset({"/v1/trust-list", "/healthz"})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


@dataclass(frozen=True, slots=True)
class SigningIdentity:
    key: Ed25519PrivateKey
    keyid: str


class _SendOptions(TypedDict, total=False):
    """What a request may add to its method and path (see ``BackendClient._send``)."""

    body: Mapping[str, Any] | None
    key: str | None  # the Idempotency-Key
    identity: SigningIdentity | None  # signs instead of the enrolled key
    retries: int | None  # instead of the configured number


@dataclass(frozen=True, slots=True)
class ClientConfig:
    base_url: str
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 10.0
    retries: int = 3
    backoff_base_s: float = 0.5
    backoff_max_s: float = 8.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ClientConfig:
        b = settings.backend
        return cls(
            base_url=b.url,
            connect_timeout_s=b.connect_timeout_s,
            read_timeout_s=b.read_timeout_s,
            retries=b.retries,
        )


def backoff_delay(attempt: int, *, base: float, cap: float, rng: Callable[[], float]) -> float:
    """Exponential backoff with 'equal jitter': never zero, never a synchronized herd."""
    ceiling = min(cap, base * (2.0**attempt))
    return float(ceiling / 2 + rng() * ceiling / 2)


class BackendClient:
    """Synchronous, thread-safe client; one per process, shared by checkout and sync."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        identity: SigningIdentity | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not is_allowed_backend_url(config.base_url):
            raise InsecureBackendUrl(
                f"backend URL {config.base_url!r} refused: use https://, or http:// only to "
                "this machine (127.0.0.1, ::1, localhost); fix [backend] url"
            )
        self.config = config
        self.identity = identity
        self._clock, self._sleep, self._rng = clock, sleep, rng
        timeout = httpx.Timeout(
            config.read_timeout_s, connect=config.connect_timeout_s, pool=config.connect_timeout_s
        )
        # verify=True is httpx's default; it is spelled out because it must never change.
        self._http = httpx.Client(
            base_url=config.base_url.rstrip("/"),
            timeout=timeout,
            verify=True,
            transport=transport,
            follow_redirects=False,
        )
        self._lock = threading.Lock()
        self.clock_skew_s: float | None = None
        self.last_contact_at: float | None = None
        # The last 2xx answer to a signed request the backend checked: a recorded contact.
        self.last_signed_contact_at: float | None = None
        self.last_failure_at: float | None = None
        self._contact_listeners: list[Callable[[], None]] = []
        self._online = True

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def add_contact_listener(self, listener: Callable[[], None]) -> None:
        """Called (on the calling thread) after every answer from the backend."""
        self._contact_listeners.append(listener)

    @property
    def online(self) -> bool:
        """The last attempt reached the backend (True before any attempt)."""
        return self._online

    @property
    def offset_s(self) -> int:
        """Seconds to add to this till's clock to get the backend's (0 before any contact)."""
        skew = self.clock_skew_s
        return 0 if skew is None else round(skew)

    def seconds_since_contact(self) -> float | None:
        """How long ago (on this till's clock) the backend last answered; None: never."""
        last = self.last_contact_at
        return None if last is None else self._clock() - last

    def now(self) -> float:
        """The backend's time as of the last contact: this till's clock plus the offset."""
        return self._clock() + self.offset_s

    def measure_clock(self) -> float | None:
        """Ask the backend its time (``GET /healthz``); the skew, or None when unreachable."""
        try:
            self._send("GET", "/healthz", retries=0)
        except (BackendUnavailable, BackendRejected, BackendServerError):
            return None
        return self.clock_skew_s

    # --- endpoints ----------------------------------------------------------------------------

    def enroll(
        self,
        *,
        code: str,
        public_key_b64: str,
        app_version: str,
        identity: SigningIdentity,
        idempotency_key: str,
    ) -> EnrollAnswer:
        body: EnrollBody = {
            "enrollment_code": code,
            "public_key": public_key_b64,
            "app_version": app_version,
        }
        path = "/v1/terminals/enroll"
        return self._answer(
            EnrollAnswer, "POST", path, body=body, key=idempotency_key, identity=identity
        )

    def trust_list(self) -> bytes:
        return self._send("GET", "/v1/trust-list").content

    def finalize(self, body: FinalizeBody, *, idempotency_key: str) -> SaleAnswer:
        return self._answer(SaleAnswer, "POST", "/v1/sales", body=body, key=idempotency_key)

    def heartbeat(self) -> HeartbeatAnswer:
        """``GET /v1/terminals/heartbeat``: a signed contact, so the backend knows this till
        was reachable (its offline claims are bounded by such contacts); no retries."""
        return self._answer(HeartbeatAnswer, "GET", "/v1/terminals/heartbeat", retries=0)

    def get_sale(self, sale_id: str) -> SaleAnswer:
        return self._answer(SaleAnswer, "GET", f"/v1/sales/{sale_id}")

    def get_sale_receipt(self, sale_id: str) -> ReceiptAnswer:
        """``GET /v1/sales/{id}/receipt``: a sale of this store as another till reprints it."""
        return self._answer(ReceiptAnswer, "GET", f"/v1/sales/{sale_id}/receipt")

    def cancel_sale(self, sale_id: str, body: CancelBody, *, idempotency_key: str) -> SaleAnswer:
        """Cancel a waiting sale, or void an approved one: a void's ``body`` carries the
        manager's signed proof, ``manager_approval`` (403 ``manager_required`` without)."""
        said = {name: value for name, value in body.items() if value}  # no reason: no body
        path = f"/v1/sales/{sale_id}/cancel"
        return self._answer(SaleAnswer, "POST", path, body=said or None, key=idempotency_key)

    def list_reviews(self, store_id: str, status: str | None = None) -> ReviewsAnswer:
        """``GET /v1/reviews``: the store's flagged sales."""
        query = {"store_id": store_id, **({"status": status} if status else {})}
        return self._answer(ReviewsAnswer, "GET", f"/v1/reviews?{urlencode(query)}")

    def claim_review(self, sale_id: str, *, reviewer_id: str, idempotency_key: str) -> ClaimAnswer:
        """Take the sale for review across tills; 409 ``review_claimed`` is BackendRejected
        with ``details`` ``{claimed_by, claimed_at}``."""
        return self._claim("claim", sale_id, reviewer_id=reviewer_id, key=idempotency_key)

    def release_review(
        self, sale_id: str, *, reviewer_id: str, idempotency_key: str
    ) -> ClaimAnswer:
        return self._claim("release", sale_id, reviewer_id=reviewer_id, key=idempotency_key)

    def decide_review(
        self, sale_id: str, body: DecisionBody, *, idempotency_key: str
    ) -> DecisionAnswer:
        """Without the manager's proof in ``body`` (``decided_at``, ``signature``): 403
        ``manager_required``."""
        path = _review_path(sale_id, "decision")
        return self._answer(DecisionAnswer, "POST", path, body=body, key=idempotency_key)

    def audit_head(
        self, terminal_id: str, *, identity: SigningIdentity | None = None
    ) -> tuple[int, str]:
        """``GET /v1/terminals/{id}/audit``: (last id held, its hash) of this till's chain."""
        path = f"/v1/terminals/{terminal_id}/audit"
        head = self._answer(AuditHead, "GET", path, identity=identity)
        return head.synced_through, head.head_hash

    def push_audit(
        self, *, terminal_id: str, entries: Sequence[Mapping[str, Any]], idempotency_key: str
    ) -> None:
        """``POST /v1/terminals/{id}/audit``: the next batch of this till's audit chain."""
        body = {"entries": [dict(e) for e in entries]}
        path = f"/v1/terminals/{terminal_id}/audit"
        self._answer(AuditAppended, "POST", path, body=body, key=idempotency_key)

    def _claim(self, action: str, sale_id: str, *, reviewer_id: str, key: str) -> ClaimAnswer:
        body: ClaimBody = {"reviewer_id": reviewer_id}
        path = _review_path(sale_id, action)
        return self._answer(ClaimAnswer, "POST", path, body=body, key=key)

    # --- machinery ----------------------------------------------------------------------------

    def _answer(self, kind: type[A], method: str, path: str, **options: Unpack[_SendOptions]) -> A:
        """The answer read as its contract type; a malformed one is the backend's fault."""
        response = self._send(method, path, **options)
        try:
            return parse(kind, response.json())
        except ValueError:
            raise BackendServerError(f"{method} {path}: the backend answered non-JSON") from None
        except ContractError as exc:
            raise BackendServerError(f"{method} {path}: {exc}") from None

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        key: str | None = None,
        identity: SigningIdentity | None = None,
        retries: int | None = None,
    ) -> httpx.Response:
        content = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        attempt, resigned, arrived = 0, False, False
        limit = self.config.retries if retries is None else retries
        while True:
            offset = self.offset_s
            try:
                request = self._build(method, path, content, key=key, identity=identity)
                return self._attempt(method, path, request)
            except BackendAuthError as exc:
                # Refused before anything was done: safe to sign again, once, with the offset
                # this very answer revealed (a till whose clock jumped since the last contact).
                if resigned or exc.code != "bad_signature" or abs(self.offset_s - offset) < 2:
                    raise
                resigned = True
            except (BackendUnavailable, BackendServerError, _Retry) as exc:
                arrived = arrived or (isinstance(exc, _Retry) and exc.arrived)
                if isinstance(exc, OutcomeUnknown) or attempt >= limit:
                    error = exc.error if isinstance(exc, _Retry) else exc
                    if arrived and not isinstance(error, OutcomeUnknown):
                        # A 503 to a POST may follow a COMMIT whose answer was lost: the
                        # work may be done. Never "unreachable" then (offline acceptance or
                        # a decline would disagree with a charge): the caller reconciles.
                        raise OutcomeUnknown(
                            f"{method} {path}: answered 503 earlier, then {error}; reconcile first"
                        ) from None
                    raise error from None
                delay = backoff_delay(
                    attempt,
                    base=self.config.backoff_base_s,
                    cap=self.config.backoff_max_s,
                    rng=self._rng,
                )
                log.info("%s %s: %s; retry %d in %.1fs", method, path, exc, attempt + 1, delay)
                self._sleep(delay)
                attempt += 1

    def _attempt(self, method: str, path: str, request: httpx.Request) -> httpx.Response:
        idempotent = method == "GET"
        try:
            response = self._http.send(request)
        except _NOT_SENT as exc:
            self._online, self.last_failure_at = False, self._clock()
            raise BackendUnavailable(f"backend unreachable ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            self._online, self.last_failure_at = False, self._clock()
            if idempotent:
                raise BackendUnavailable(f"no answer ({type(exc).__name__})") from None
            raise OutcomeUnknown(
                f"{method} {path}: sent, but no answer ({type(exc).__name__}); reconcile first"
            ) from None
        self._record_contact(response)
        if response.status_code < 300 and path not in _NOT_CONTACTS:
            self.last_signed_contact_at = self._clock()
        return self._check(response, method=method, path=path, idempotent=idempotent)

    def _build(
        self,
        method: str,
        path: str,
        content: bytes | None,
        *,
        key: str | None,
        identity: SigningIdentity | None,
    ) -> httpx.Request:
        headers = {"Accept": "application/json"}
        if content is not None:
            headers["Content-Type"] = "application/json"
        if key is not None:
            headers["Idempotency-Key"] = key
        request = self._http.build_request(method, path, content=content, headers=headers)
        signer = identity or self.identity
        if signer is not None:
            request.headers.update(
                httpsig.sign_request(
                    method,
                    str(request.url),
                    headers,
                    content,
                    key=signer.key,
                    keyid=signer.keyid,
                    tag=httpsig.TAG_TERMINAL,
                    created=int(self.now()),
                    nonce=secrets.token_urlsafe(16),
                )
            )
        return request

    def _check(
        self, response: httpx.Response, *, method: str, path: str, idempotent: bool
    ) -> httpx.Response:
        status = response.status_code
        if status < 400:
            return response
        code, detail = error_of(response)
        where = f"{method} {path}"
        if status == 409 and code in _FINAL_CONFLICTS:
            extra = extra_of(response)
            raise BackendRejected(f"{where}: {detail}", code=code, status=status, details=extra)
        if status == 409 and not idempotent:
            # The backend is working on this very key: our earlier attempt did arrive.
            raise _Retry(OutcomeUnknown(f"{where}: {code}: {detail}; reconcile before retrying"))
        if status in _RETRY_ALWAYS:
            error = BackendUnavailable(f"{where}: {status} {code}: {detail}")
            raise _Retry(error, arrived=status == 503 and not idempotent)
        if status >= 500:
            if not idempotent and status in _UNKNOWN_AFTER_POST:
                raise OutcomeUnknown(f"{where}: {status} {code}; reconcile before retrying")
            raise BackendServerError(f"{where}: {status} {code}: {detail}")
        if (
            status in (401, 403) and code != ReasonCode.MANAGER_REQUIRED
        ):  # that one is the manager's
            hint = auth_hint(code, self.clock_skew_s)
            raise BackendAuthError(f"{where}: {detail}; {hint}", code=code, status=status)
        raise BackendRejected(f"{where}: {detail}", code=code, status=status)

    def _record_contact(self, response: httpx.Response) -> None:
        now = self._clock()
        theirs = server_time(response)
        with self._lock:
            self._online, self.last_contact_at = True, now
            if theirs is not None:
                self.clock_skew_s = theirs - now
        for listener in self._contact_listeners:
            try:
                listener()
            except Exception:  # a listener's bug must not fail a payment
                log.exception("contact listener failed")


class _Retry(Exception):
    """Internal: a retryable answer, carrying the error to raise when retries run out."""

    def __init__(self, error: BackendUnavailable, *, arrived: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.arrived = arrived  # a POST the backend took in (its effect is unknown)


def _review_path(sale_id: str, action: str) -> str:
    return f"/v1/reviews/{quote(sale_id, safe='')}/{action}"
