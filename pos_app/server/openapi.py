"""The OpenAPI document lists every answer an operation gives, with the real error body.

FastAPI documents the success code and its own validation error shape; this
backend answers errors as ``{"error", "detail"}`` (BACKEND-API.md), from the
routes, the signature check, the idempotency layer, the body-size middleware
and the rate limiters. Which of those reach an operation is decided here, in
one table, from how the operation is served (signed or not, Idempotency-Key or
not, path ids or not), so a new route is documented without a list to keep in
step.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import TypeAdapter

from pos_app.server import schemas

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "stable machine-readable code"},
        "detail": {"type": "string", "description": "what went wrong, for a person"},
    },
    # A few errors carry context beside the two fields (409 review_claimed: the holder).
    "additionalProperties": True,
}

ERROR_REF = {"$ref": "#/components/schemas/Error"}
REF = "#/components/schemas/{model}"
DESCRIPTIONS = {
    400: "malformed JSON, a bad Content-Length, or a missing/bad Idempotency-Key",
    401: "bad_signature: the RFC 9421 signature is missing, invalid, stale or replayed",
    403: "the signer may not act on this store, terminal, wallet or enrollment code",
    404: "unknown sale, wallet or challenge",
    409: "the same request (or a decision on the same sale) is still in progress, or conflicts",
    413: "body_too_large: the body is over the size limit",
    422: "validation failed, or the request is refused for a stated reason",
    429: "rate_limited: too many requests from this signer or source address",
    503: "unavailable: the database is busy or not initialised; retry with the same key",
}
# Every operation: the middleware (400, 413), validation (422), overload (503).
ALWAYS = (400, 413, 422, 503)
# Signed operations: the signature check and the signer's rate limit.
SIGNED = (401, 403, 429)
UNSIGNED = {("/v1/trust-list", "get"), ("/healthz", "get")}


def install(app: FastAPI) -> None:
    """Replace ``app.openapi`` with a builder that adds the error answers."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            document_errors(doc)
            document_answers(doc)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


# The RFC 9421 / 9530 headers of every signed operation. Declared here, not as a FastAPI
# dependency: verification reads them raw, and a dependency would parse three headers
# on every request only to say so.
SIGNATURE_HEADERS = (
    ("Signature", "RFC 9421 signature (label=:base64:)"),
    ("Signature-Input", "RFC 9421 covered components and parameters"),
    ("Content-Digest", "RFC 9530 sha-256 of the body (requests with a body)"),
)


def document_errors(doc: dict[str, Any]) -> None:
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if (path, method) not in UNSIGNED:
                parameters = operation.setdefault("parameters", [])
                parameters.extend(
                    {
                        "name": name,
                        "in": "header",
                        "required": False,
                        "description": text,
                        "schema": {"type": "string"},
                    }
                    for name, text in SIGNATURE_HEADERS
                )
            responses = operation.setdefault("responses", {})
            codes = codes_of(path, method, operation)
            if 422 not in codes:  # FastAPI's default, pointing at the schema removed above
                responses.pop("422", None)
            for code in sorted(codes):
                responses[str(code)] = {
                    "description": DESCRIPTIONS[code],
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }


def document_answers(doc: dict[str, Any]) -> None:
    """The success answers of the operations the till reads (schemas.ANSWERS), from the
    till's own contract types: the routes build their bodies by hand, so FastAPI alone
    would document them as anything."""
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for path, method, kind in schemas.answered_operations():
        operation = doc.get("paths", {}).get(path, {}).get(method)
        if operation is None:
            continue
        status = next(code for code in operation.get("responses", {}) if code.startswith("2"))
        schema = TypeAdapter(kind).json_schema(mode="serialization", ref_template=REF)
        components.update(schema.pop("$defs", {}))
        components[kind.__name__] = schema
        answer = operation["responses"][status]
        answer.setdefault("description", "the answer")
        answer["content"] = {
            "application/json": {"schema": {"$ref": REF.format(model=kind.__name__)}}
        }


def codes_of(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses this operation can answer."""
    if (path, method) == ("/healthz", "get"):
        return {400, 413}
    codes = set(ALWAYS)
    if (path, method) not in UNSIGNED:
        codes.update(SIGNED)
    if "{" in path:
        codes.add(404)
    params = {p.get("name") for p in operation.get("parameters", [])}
    if "Idempotency-Key" in params:
        codes.add(409)  # request_in_progress; decisions on a claimed sale
    if (path, method) == ("/v1/trust-list", "get"):
        codes.discard(422)
    return codes
