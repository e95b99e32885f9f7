"""Terminal records and single-use enrollment codes (128-bit, stored hashed, 15 minutes)."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_app.paytoken import keys
from pos_app.server.errors import ApiError
from pos_app.server.models import EnrollmentCode, Terminal


@dataclass(frozen=True)
class EnrollmentTicket:
    enrollment_code: str
    expires_at: int


@dataclass(frozen=True)
class Enrolled:
    terminal_id: str
    store_id: str
    keyid: str


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def create_terminal(
    session: Session, store_id: str, terminal_id: str, *, now: int, ttl: int, region: str = ""
) -> EnrollmentTicket:
    """Create (or re-arm) a terminal record and return a fresh single-use code.

    Re-arming an enrolled terminal revokes its key: the new enrollment replaces it.
    """
    term = session.scalars(
        select(Terminal).where(Terminal.store_id == store_id, Terminal.terminal_id == terminal_id)
    ).first()
    if term is None:
        term = Terminal(store_id=store_id, terminal_id=terminal_id, created_at=now, region=region)
        session.add(term)
    else:
        term.status, term.keyid, term.public_key = "pending", None, None
    session.flush()
    code = secrets.token_hex(16)
    session.add(
        EnrollmentCode(code_hash=code_hash(code), terminal_row=term.id, expires_at=now + ttl)
    )
    return EnrollmentTicket(enrollment_code=code, expires_at=now + ttl)


def enroll(
    session: Session, code: str, *, public_key: bytes, app_version: str, now: int
) -> Enrolled:
    """Redeem a code once: bind the terminal to the key that signed the request."""
    record = session.get(EnrollmentCode, code_hash(code))
    if record is None or record.used_at is not None or now > record.expires_at:
        raise ApiError(403, "bad_enrollment_code", "enrollment code unknown, used or expired")
    term = session.get(Terminal, record.terminal_row)
    if term is None or term.status == "revoked":
        raise ApiError(403, "bad_enrollment_code", "the terminal record is gone or revoked")
    keyid = keys.kid_hex(public_key)
    if session.scalars(select(Terminal).where(Terminal.keyid == keyid)).first() is not None:
        raise ApiError(403, "bad_enrollment_code", "this key is already enrolled")
    record.used_at = now
    term.keyid, term.public_key, term.status = keyid, public_key, "active"
    term.app_version, term.enrolled_at = app_version, now
    return Enrolled(terminal_id=term.terminal_id, store_id=term.store_id, keyid=keyid)


def envelope_object(envelope: bytes) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(envelope)
    return parsed
