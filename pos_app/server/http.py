"""Glue between Starlette requests and the synchronous services (run in the threadpool).

Every signed route takes a :class:`Signed` dependency (``Terminal``, ``TerminalOnce``,
``Owner``...) and hands it its work: the pipeline authenticate -> transaction ->
idempotency is written once, here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Depends, Header, Path, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from pos_app.core.errors import PosError
from pos_app.paytoken import httpsig, keys
from pos_app.server import db, idempotency
from pos_app.server.backend import Backend, Principal, SignedRequest, require_wallet
from pos_app.server.errors import ApiError

# Ids in paths (sales, wallets, terminals, challenges): short, URL-safe, never a path segment.
ID_PATTERN = r"^[A-Za-z0-9._:\-]{1,64}$"
PathId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]

IdempotencyHeader = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="1..255 printable ASCII; required on POST"),
]


def backend_of(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


async def signed_request(request: Request) -> SignedRequest:
    return SignedRequest(
        method=request.method,
        url=str(request.url),
        headers=request.headers,
        body=await request.body(),
        source=request.client.host if request.client else "",
        endpoint=endpoint_of(request),
    )


def endpoint_of(request: Request) -> str:
    """The route's path template (``/v1/wallets/{wallet_id}``): one bucket per endpoint."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


Read = Callable[[Session, Principal], dict[str, Any]]
Work = Callable[[Session, Principal], tuple[int, dict[str, Any]]]


@dataclass(frozen=True)
class Signed:
    """One signed request's pipeline, given to a route as a FastAPI dependency.

    ``read``: authenticate, then *work* in a transaction. ``once``: authenticate,
    claim the Idempotency-Key, run *work* and store its answer, all in one
    transaction (a retry replays the stored answer). A route states only its work.
    """

    request: Request
    tag: str
    key: str | None = None
    # Who may act, checked once the signer is known (e.g. a device on its own wallet);
    # a refusal here is not stored under the key.
    check: Callable[[Principal], None] | None = None

    @property
    def backend(self) -> Backend:
        return backend_of(self.request)

    def now(self) -> int:
        return self.backend.now()

    async def read(
        self, work: Read, *, check: Callable[[Principal], None] | None = None
    ) -> JSONResponse:
        backend = self.backend
        signed = await signed_request(self.request)
        checks = [c for c in (self.check, check) if c is not None]

        def run() -> dict[str, Any]:
            principal = backend.authenticate(signed, tag=self.tag)
            for verify in checks:
                verify(principal)
            with db.transaction(backend.sessions) as session:
                return work(session, principal)

        return JSONResponse(await backend.in_thread(run))

    async def once(
        self,
        work: Work,
        *,
        new_key: bytes | None = None,
        check: Callable[[Principal], None] | None = None,
        ahead: Ahead | None = None,
        now: int | None = None,
    ) -> Response:
        """*ahead*: a terminal's request that sends its usual statements ahead (PostgreSQL:
        ``db.ahead``), after the signature's and the claim's; *now*: the request's time."""
        backend = self.backend
        signed = await signed_request(self.request)
        digest = idempotency.request_hash(signed.method, self.request.url.path, signed.body)
        key = self.key
        found: list[Principal] = []
        checks = [c for c in (self.check, check) if c is not None]
        at = backend.now() if now is None else now
        parsed: list[httpsig.ParsedSignature] = []
        checked: list[Ed25519PublicKey] = []  # the key that verified the signature already
        # The rate limit is spent once per request: a rerun (a batched attempt that went
        # another way, a lost race, a refusal stored) is the same request, not another one.
        limited: list[bool] = []

        def principal(session: Session) -> str:
            found[:] = [
                backend.verify(
                    session,
                    signed,
                    tag=self.tag,
                    new_key=new_key,
                    parsed=parsed[0] if parsed else None,
                    now=at,
                    checked=checked[0] if checked else None,
                    limit=not limited,
                )
            ]
            limited[:] = [True]
            for verify in checks:
                verify(found[0])
            idempotency.check_key(key)
            return found[0].keyid

        def prefetch(session: Session) -> None:
            if ahead is None or not ahead.prepare(session) or not db.batch(session):
                return
            keyid = parsed[0].signed.keyid
            backend.verify_ahead(session, parsed[0], now=at)
            idempotency.claim_ahead(session, principal=keyid, key=key or "", digest=digest, now=at)
            ahead.send(session)

        def run() -> idempotency.StoredResponse:
            backend.admit(signed, new_key=new_key)
            if ahead is not None and new_key is None and self.tag == httpsig.TAG_TERMINAL:
                # The signature first (401 before any sale logic); with no key known yet
                # for its keyid, the portable path, which verifies it before all else.
                parsed.append(backend.parse(signed, tag=self.tag, now=at))
                known = backend.precheck(signed, parsed[0])
                checked.extend([known] if known is not None else [])
            return idempotency.run(
                backend.sessions,
                principal=principal,
                key=key or "",
                digest=digest,
                now=at,
                keep=backend.settings.idempotency_keep,
                work=lambda session: work(session, found[0]),
                prefetch=prefetch if checked else None,
            )

        result = await backend.in_thread(run)
        if result.text is not None:  # the bytes JSONResponse would send, encoded once
            return Response(result.text.encode(), result.status, media_type="application/json")
        return JSONResponse(result.body, status_code=result.status)


class Ahead(Protocol):
    """A route's statements sent ahead of its work (``Signed.once(ahead=...)``)."""

    def prepare(self, session: Session) -> bool:
        """What the route needs before the batch (it may read through the ORM); False:
        send nothing ahead."""

    def send(self, session: Session) -> None:
        """``db.ahead`` the statements the work's usual path runs, in its order."""


async def terminal(request: Request) -> Signed:
    return Signed(request, httpsig.TAG_TERMINAL)


async def terminal_once(request: Request, idempotency_key: IdempotencyHeader = None) -> Signed:
    return Signed(request, httpsig.TAG_TERMINAL, idempotency_key)


async def wallet(request: Request) -> Signed:
    return Signed(request, httpsig.TAG_WALLET)


async def wallet_once(request: Request, idempotency_key: IdempotencyHeader = None) -> Signed:
    return Signed(request, httpsig.TAG_WALLET, idempotency_key)


async def owner(request: Request, wallet_id: PathId) -> Signed:
    return Signed(request, httpsig.TAG_WALLET, check=_owner_of(wallet_id))


async def owner_once(
    request: Request, wallet_id: PathId, idempotency_key: IdempotencyHeader = None
) -> Signed:
    return Signed(request, httpsig.TAG_WALLET, idempotency_key, check=_owner_of(wallet_id))


def _owner_of(wallet_id: str) -> Callable[[Principal], None]:
    return lambda principal: require_wallet(principal, wallet_id)


# Route parameters: a terminal's or a wallet device's signed request, plain or
# with an Idempotency-Key; ``Owner*``: a device acting on the path's own wallet.
Terminal = Annotated[Signed, Depends(terminal)]
TerminalOnce = Annotated[Signed, Depends(terminal_once)]
Wallet = Annotated[Signed, Depends(wallet)]
WalletOnce = Annotated[Signed, Depends(wallet_once)]
Owner = Annotated[Signed, Depends(owner)]
OwnerOnce = Annotated[Signed, Depends(owner_once)]


async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await run_in_threadpool(fn, *args, **kwargs)


def decode_public_key(text: str) -> bytes:
    """A raw Ed25519 public key from base64url; 422 when it is not one."""
    try:
        raw = keys.b64url_decode(text)
        keys.public_from_raw(raw)
    except (ValueError, TypeError, PosError):
        raise ApiError(422, "bad_public_key", "not a base64url raw Ed25519 public key") from None
    return raw
