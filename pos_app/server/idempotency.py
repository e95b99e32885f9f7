"""Idempotency keys: a retry with the same key and body gets the stored response.

The record is claimed in its own short transaction before the work runs, so a
concurrent duplicate sees "in progress" (409) instead of doing the work twice;
the response is stored when the work is done. Error responses (4xx) are stored
too: a retry of a rejected request is rejected the same way.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pos_app.server import db
from pos_app.server.errors import ApiError
from pos_app.server.models import IdempotencyRecord

_KEY_RE = re.compile(r"[\x21-\x7e][\x20-\x7e]{0,254}")
# A claim older than this is a crashed request: a retry may take it over.
STALE_CLAIM_S = 120


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict[str, Any]


def check_key(key: str | None) -> str:
    if key is None or key == "":
        raise ApiError(400, "idempotency_key_required", "the Idempotency-Key header is required")
    if not _KEY_RE.fullmatch(key) or key != key.strip():
        raise ApiError(400, "bad_idempotency_key", "Idempotency-Key must be 1..255 printable ASCII")
    return key


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(f"{method} {path}\n".encode() + body).hexdigest()


def run(
    sessions: sessionmaker[Session],
    *,
    principal: str,
    key: str,
    digest: str,
    now: int,
    keep: int,
    work: Callable[[], StoredResponse],
) -> StoredResponse:
    stored = _claim(sessions, principal=principal, key=key, digest=digest, now=now, keep=keep)
    if stored is not None:
        return stored
    try:
        result = work()
    except ApiError as exc:
        if exc.status >= 500 or exc.status == 409:
            _release(sessions, principal, key)
            raise
        result = StoredResponse(exc.status, {"error": exc.code, "detail": exc.message})
    except BaseException:
        _release(sessions, principal, key)
        raise
    with db.transaction(sessions) as session:
        record = session.get(IdempotencyRecord, (principal, key))
        if record is not None:
            record.status_code = result.status
            record.response = json.dumps(result.body, separators=(",", ":"))
    return result


def _claim(
    sessions: sessionmaker[Session], *, principal: str, key: str, digest: str, now: int, keep: int
) -> StoredResponse | None:
    try:
        with db.transaction(sessions) as session:
            record = session.get(IdempotencyRecord, (principal, key))
            if record is None:
                session.execute(
                    delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - keep)
                )
                session.add(
                    IdempotencyRecord(
                        principal=principal, key=key, request_hash=digest, created_at=now
                    )
                )
                return None
            if record.request_hash != digest:
                raise ApiError(
                    422, "idempotency_key_reused", "this Idempotency-Key was used for another body"
                )
            if record.status_code is not None and record.response is not None:
                return StoredResponse(record.status_code, json.loads(record.response))
            if now - record.created_at > STALE_CLAIM_S:
                record.created_at = now
                return None
            raise ApiError(409, "request_in_progress", "a request with this key is in progress")
    except IntegrityError:
        raise ApiError(
            409, "request_in_progress", "a request with this key is in progress"
        ) from None


def _release(sessions: sessionmaker[Session], principal: str, key: str) -> None:
    with db.transaction(sessions) as session:
        session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.principal == principal,
                IdempotencyRecord.key == key,
                IdempotencyRecord.status_code.is_(None),
            )
        )


def to_error(result: StoredResponse) -> ApiError | None:
    """Stored error responses are re-raised so the app renders them uniformly."""
    if result.status >= 400:
        return ApiError(
            result.status, str(result.body.get("error")), str(result.body.get("detail"))
        )
    return None
