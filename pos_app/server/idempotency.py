"""Idempotency keys: a retry with the same key and body gets the stored response.

The claim on the key, the work and the stored answer are one database
transaction (with the caller's signature nonce when the route authenticates
inside it): a crash anywhere leaves no trace, so a retry runs the work exactly
once, and no stale claim can let a retry run it twice. A concurrent duplicate
waits on the claim's key (PostgreSQL) or the write lock (SQLite) and then
replays the answer. Error responses (4xx) are stored too, after the work's own
writes are rolled back: a retry of a rejected request is rejected the same way.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Table, bindparam, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pos_app.server import db
from pos_app.server.errors import ApiError
from pos_app.server.models import IdempotencyRecord

_KEY_RE = re.compile(r"[\x21-\x7e][\x20-\x7e]{0,254}")
# A claim without an answer exists only if written by a version that stored the answer in a
# second transaction and crashed in between; older than this, a retry may take it over.
STALE_CLAIM_S = 120
# Lost races on a unique key (a token's cti, a sale_id) are retried this often; the next
# attempt sees the winner's committed row.
ATTEMPTS = 4
PURGE_EVERY = 200
_RECORDS: Table = IdempotencyRecord.__table__  # type: ignore[assignment]
# Built once (Core): an ORM UPDATE per request cost more to build than to run.
_STORE_ANSWER = (
    _RECORDS.update()
    .where(_RECORDS.c.principal == bindparam("b_principal"), _RECORDS.c.key == bindparam("b_key"))
    .values(status_code=bindparam("b_status"), response=bindparam("b_response"))
)
_calls = itertools.count(1)


db.usual(IdempotencyRecord, _STORE_ANSWER)


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: dict[str, Any]
    # The body as stored, encoded as JSONResponse encodes it: sent as it is (one encoding).
    text: str | None = None


def check_key(key: str | None) -> str:
    if key is None or key == "":
        raise ApiError(400, "idempotency_key_required", "the Idempotency-Key header is required")
    if not _KEY_RE.fullmatch(key) or key != key.strip():
        raise ApiError(400, "bad_idempotency_key", "Idempotency-Key must be 1..255 printable ASCII")
    return key


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(f"{method} {path}\n".encode() + body).hexdigest()


Principal = Callable[[Session], str]
Work = Callable[[Session], tuple[int, dict[str, Any]]]
# Batches the transaction and prefetches the statements its usual path runs (``db.ahead``).
Prefetch = Callable[[Session], None]


@dataclass(frozen=True)
class _Request:
    principal: Principal
    key: str
    digest: str
    now: int
    keep: int
    work: Work
    prefetch: Prefetch | None


def run(
    sessions: sessionmaker[Session],
    *,
    principal: Principal,
    key: str,
    digest: str,
    now: int,
    keep: int,
    work: Work,
    prefetch: Prefetch | None = None,
) -> StoredResponse:
    """Authenticate (*principal*), claim *key*, run *work* and store its answer, atomically.

    No savepoint on the way (two statements saved on every request): when the work is
    refused (4xx) or loses a race on a unique key, the whole transaction rolls back and
    runs again, from the signature on, to store the refusal or to meet the race's winner.
    With *prefetch* (PostgreSQL) the first attempt is batched; when the request goes
    another way than the prefetch assumed, it runs again without (``db.Speculation``).
    """
    request = _Request(principal, key, digest, now, keep, work, prefetch)
    refusal: StoredResponse | None = None
    for _ in range(ATTEMPTS):
        try:
            return _once(sessions, request, refusal=refusal)
        except IntegrityError:
            continue
        except db.Speculation:
            request = replace(request, prefetch=None)
            continue
        except _Refused as refused:
            refusal = refused.response
            request = replace(request, prefetch=None)
    raise ApiError(409, "request_in_progress", "a request for this sale is still being processed")


class _Refused(Exception):
    def __init__(self, response: StoredResponse) -> None:
        self.response = response


def _once(
    sessions: sessionmaker[Session], request: _Request, *, refusal: StoredResponse | None
) -> StoredResponse:
    key, now = request.key, request.now
    with db.transaction(sessions) as session:
        if request.prefetch is not None:
            request.prefetch(session)
        who = request.principal(session)
        stored = _claim(session, principal=who, key=key, digest=request.digest, now=now)
        if stored is not None:
            return stored
        result = refusal or _work(session, request.work)
        text = json.dumps(result.body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        db.write(
            session,
            _STORE_ANSWER,
            {"b_principal": who, "b_key": key, "b_status": result.status, "b_response": text},
        )
        if next(_calls) % PURGE_EVERY == 0:
            session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - request.keep)
            )
        return replace(result, text=text)


def claim_ahead(session: Session, *, principal: str, key: str, digest: str, now: int) -> None:
    """Send the claim of :func:`_claim` ahead (a batched transaction)."""
    db.insert_new_ahead(session, IdempotencyRecord, **_claim_row(principal, key, digest, now))


def _claim_row(principal: str, key: str, digest: str, now: int) -> dict[str, Any]:
    return {"principal": principal, "key": key, "request_hash": digest, "created_at": now}


def _work(session: Session, work: Work) -> StoredResponse:
    try:
        return StoredResponse(*work(session))
    except ApiError as exc:
        if exc.status >= 500 or exc.status == 409:
            raise  # not an answer to keep: the same request may succeed later
        body = {**exc.extra, "error": exc.code, "detail": exc.message}
        raise _Refused(StoredResponse(exc.status, body)) from None


def _claim(
    session: Session, *, principal: str, key: str, digest: str, now: int
) -> StoredResponse | None:
    if db.insert_new(session, IdempotencyRecord, **_claim_row(principal, key, digest, now)):
        return None
    record = session.get(IdempotencyRecord, (principal, key), populate_existing=True)
    if record is None:  # purged between the two statements: an answer older than ``keep``
        raise ApiError(409, "request_in_progress", "a request with this key is in progress")
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
