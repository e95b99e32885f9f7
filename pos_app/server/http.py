"""Glue between Starlette requests and the synchronous services (run in the threadpool)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header, Path, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from pos_app.core.errors import PosError
from pos_app.paytoken import keys
from pos_app.server import idempotency
from pos_app.server.backend import Backend, Principal, SignedRequest
from pos_app.server.errors import ApiError

# Ids in paths (sales, wallets, terminals, challenges): short, URL-safe, never a path segment.
ID_PATTERN = r"^[A-Za-z0-9._:\-]{1,64}$"
PathId = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]

IdempotencyHeader = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="1..255 printable ASCII; required on POST"),
]


def signature_headers(
    signature: Annotated[str | None, Header(alias="Signature", description="RFC 9421")] = None,
    signature_input: Annotated[str | None, Header(alias="Signature-Input")] = None,
    content_digest: Annotated[
        str | None, Header(alias="Content-Digest", description="RFC 9530")
    ] = None,
) -> None:
    """Declares the signature headers in the OpenAPI document; verification reads them raw."""


def backend_of(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


async def signed_request(request: Request) -> SignedRequest:
    return SignedRequest(
        method=request.method,
        url=str(request.url),
        headers=dict(request.headers),
        body=await request.body(),
        source=request.client.host if request.client else "",
        endpoint=endpoint_of(request),
    )


def endpoint_of(request: Request) -> str:
    """The route's path template (``/v1/wallets/{wallet_id}``): one bucket per endpoint."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


async def authenticate(request: Request, *, tag: str, new_key: bytes | None = None) -> Principal:
    signed = await signed_request(request)
    return await run_in_threadpool(
        backend_of(request).authenticate, signed, tag=tag, new_key=new_key
    )


async def idempotent(
    request: Request,
    principal: Principal,
    key: str | None,
    work: Callable[[], tuple[int, dict[str, Any]]],
) -> JSONResponse:
    """Run *work* once per (signer, Idempotency-Key); replay the stored response on retry."""
    checked = idempotency.check_key(key)
    return await _run_once(request, checked, lambda: principal.keyid, work)


async def signed_idempotent(
    request: Request,
    *,
    tag: str,
    key: str | None,
    work: Callable[[Principal], tuple[int, dict[str, Any]]],
) -> JSONResponse:
    """Like :func:`idempotent`, with the signature check and its nonce in the same transaction.

    One transaction for nonce, idempotency claim, work and answer (the finalize path).
    """
    backend = backend_of(request)
    signed = await signed_request(request)
    found: list[Principal] = []

    def principal() -> str:
        found.append(backend.authenticate(signed, tag=tag))
        idempotency.check_key(key)
        return found[0].keyid

    return await _run_once(request, key or "", principal, lambda: work(found[0]))


async def _run_once(
    request: Request,
    key: str,
    principal: Callable[[], str],
    work: Callable[[], tuple[int, dict[str, Any]]],
) -> JSONResponse:
    backend = backend_of(request)
    digest = idempotency.request_hash(request.method, request.url.path, await request.body())

    def run_work() -> idempotency.StoredResponse:
        status, payload = work()
        return idempotency.StoredResponse(status, payload)

    result = await run_in_threadpool(
        idempotency.run,
        backend.sessions,
        principal=principal,
        key=key,
        digest=digest,
        now=backend.now(),
        keep=backend.settings.idempotency_keep,
        work=run_work,
    )
    return JSONResponse(result.body, status_code=result.status)


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


def error_body(exc: ApiError) -> dict[str, str]:
    return {"error": exc.code, "detail": exc.message}
