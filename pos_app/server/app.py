"""The ASGI application: routers, body limit, and the uniform error format.

Every error leaves as ``{"error": code, "detail": text}``. Bad input is 400
(malformed JSON), 413 (body over the limit) or 422 (validation), never 500.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pos_app import __version__
from pos_app.server import db, openapi, routes_receipts, routes_terminal, routes_wallet
from pos_app.server.backend import Backend
from pos_app.server.date_header import BackendDate
from pos_app.server.errors import ApiError
from pos_app.server.middleware import HttpMiddleware
from pos_app.server.settings import ServerSettings

log = logging.getLogger(__name__)
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


def create_app(settings: ServerSettings, *, migrate: bool = True) -> FastAPI:
    """Build the app for *settings*; with *migrate*, bring the schema up to date first."""
    backend = Backend(settings)
    if migrate:
        db.upgrade(backend.engine)
    app = FastAPI(
        title="pos-app reference backend",
        version=__version__,
        description="Backend API v1 (BACKEND-API.md). Requests are signed (RFC 9421).",
        lifespan=_lifespan,
    )
    app.state.backend = backend
    app.include_router(routes_terminal.router)
    app.include_router(routes_wallet.router)
    app.include_router(routes_receipts.router)
    app.add_api_route("/healthz", _health, methods=["GET"], tags=["ops"])
    openapi.install(app)
    _install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(BackendDate, clock=settings.clock)  # outermost: every answer
    return app


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Size the worker's threadpool (``worker_threads``) before the first request."""
    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = app.state.backend.settings.worker_threads
    yield


async def _health() -> dict[str, str]:
    """Trivial endpoint: the benchmark's baseline."""
    return {"status": "ok"}


def _json_error(
    status: int, code: str, detail: str, extra: dict[str, Any] | None = None
) -> JSONResponse:
    return JSONResponse({**(extra or {}), "error": code, "detail": detail}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_req: Request, exc: ApiError) -> JSONResponse:
        return _json_error(exc.status, exc.code, exc.message, exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_response(list(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return _json_error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _bug(_req: Request, exc: Exception) -> JSONResponse:
        # A bug, never bad input: keep the contract's error shape, log the type only
        # (messages could carry request data such as tokens).
        log.error("unhandled %s", type(exc).__name__)
        return _json_error(500, "internal_error", "internal error")

    async def _db_unavailable(_req: Request, exc: Exception) -> JSONResponse:
        # OperationalError: the database lost or refused. PoolTimeout: every pooled
        # connection of this worker busy beyond the pool's timeout (the threadpool runs more
        # requests than the pool has connections). Either way nothing was done.
        cause = exc.orig if isinstance(exc, OperationalError) else exc
        log.warning("database unavailable: %s", type(cause).__name__)
        return _json_error(503, "unavailable", "the database is busy; retry with the same key")

    for unavailable in (OperationalError, PoolTimeout):
        app.add_exception_handler(unavailable, _db_unavailable)


def _validation_response(errors: list[dict[str, Any]]) -> JSONResponse:
    if any(e.get("type") == "json_invalid" for e in errors):
        return _json_error(400, "malformed_json", "the body is not valid JSON")
    # Only locations and messages: the offending input may be huge or sensitive.
    summary = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in errors[:5]
    )[:1000]
    if any(e.get("type") == "extra_forbidden" for e in errors):
        return _json_error(422, "unknown_field", summary)
    return _json_error(422, "validation_error", summary)


class BodyLimit(HttpMiddleware):
    """Refuse bodies over *limit* bytes (413) before they are read in full."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        super().__init__(app)
        self.limit = limit

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._reject(send, 413 if declared.isdigit() else 400)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._reject(send, 413)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    @staticmethod
    async def _reject(send: Send, status: int) -> None:
        code, detail = (
            ("body_too_large", "the body is over the size limit")
            if status == 413
            else ("bad_request", "invalid Content-Length")
        )
        body = JSONResponse({"error": code, "detail": detail}).body
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
