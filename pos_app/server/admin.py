"""Administrative operations behind the CLI, also used by the demo and tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_app.server import db, enrollment, keystore, ledger, wallets
from pos_app.server.clock import Clock, SystemClock
from pos_app.server.models import IssuerKey, Terminal
from pos_app.server.settings import ServerSettings


def _settings(data_dir: Path | str, db_url: str | None, clock: Clock | None) -> ServerSettings:
    return ServerSettings.for_data_dir(data_dir, db_url, clock=clock or SystemClock())


@contextmanager
def _session(settings: ServerSettings, *, upgrade: bool = False) -> Iterator[Session]:
    """One transaction on the backend's database (its schema brought up to date first with
    *upgrade*); the engine is disposed after, as a command-line call ends."""
    engine = db.make_engine(settings.db_url)
    try:
        if upgrade:
            db.upgrade(engine)
        with db.transaction(db.session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def init_backend(
    data_dir: Path | str, db_url: str | None = None, *, clock: Clock | None = None
) -> dict[str, Any]:
    """Create the schema, the root and issuer keys and the signed trust list (idempotent)."""
    settings = _settings(data_dir, db_url, clock)
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    paths = keystore.KeyPaths(settings.data_dir)
    keystore.ensure_root(paths)
    with _session(settings, upgrade=True) as session:
        now = settings.clock.now()
        current = session.scalars(select(IssuerKey).where(IssuerKey.state == "current")).first()
        if current is None:
            current = keystore.new_issuer_key(session, paths, state="current", now=now)
            keystore.sign_current(session, paths, now=now)
        kid, key_path = current.kid, current.private_key_path
    return {
        "data_dir": str(settings.data_dir),
        "db_url": _redact(settings.db_url),
        "root_public_key": str(paths.root_public),
        "root_private_key": str(paths.root_private),
        "trust_list": str(paths.trust_list),
        "issuer_private_key": key_path,
        "issuer_kid": kid,
    }


def create_terminal(
    data_dir: Path | str,
    db_url: str | None = None,
    *,
    store_id: str,
    terminal_id: str,
    region: str = "",
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Create a terminal record; return ``{"enrollment_code", "expires_at"}``."""
    settings = _settings(data_dir, db_url, clock)
    with _session(settings) as session:
        ticket = enrollment.create_terminal(
            session,
            store_id,
            terminal_id,
            now=settings.clock.now(),
            ttl=settings.enrollment_code_ttl,
            region=region,
        )
    return {"enrollment_code": ticket.enrollment_code, "expires_at": ticket.expires_at}


def set_offline_limits(
    data_dir: Path | str,
    db_url: str | None = None,
    *,
    store_id: str,
    terminal_id: str,
    max_age: int | None,
    max_sale: int | None,
) -> dict[str, Any]:
    """Per-terminal offline limits (None: the server's maximum period, the token's limit)."""
    settings = _settings(data_dir, db_url, None)
    if (max_age is not None and max_age < 0) or (max_sale is not None and max_sale < 0):
        raise ValueError("offline limits are seconds and amounts, never negative")
    with _session(settings) as session:
        term = session.scalars(
            select(Terminal).where(
                Terminal.store_id == store_id, Terminal.terminal_id == terminal_id
            )
        ).first()
        if term is None:
            raise ValueError(f"no terminal {terminal_id} in store {store_id}")
        term.offline_max_age, term.offline_max_sale = max_age, max_sale
    return {
        "store_id": store_id,
        "terminal_id": terminal_id,
        "offline_max_age": max_age,
        "offline_max_sale": max_sale,
        "server_offline_max_period": settings.offline_max_period,
    }


def rotate_keys(
    data_dir: Path | str, db_url: str | None = None, *, step: str, clock: Clock | None = None
) -> dict[str, Any]:
    """One issuer-key rotation step: ``publish``, ``activate`` or ``drop`` (see keystore)."""
    settings = _settings(data_dir, db_url, clock)
    with _session(settings) as session:
        return keystore.rotate(
            session, keystore.KeyPaths(settings.data_dir), step=step, now=settings.clock.now()
        )


def check_ledger(data_dir: Path | str, db_url: str | None = None) -> dict[str, object]:
    """Prove the books balance; ``ok`` is False when any check fails."""
    settings = _settings(data_dir, db_url, None)
    with _session(settings) as session:
        return ledger.check(session).as_dict()


def mark_credential_change(
    data_dir: Path | str, db_url: str | None = None, *, wallet_id: str, clock: Clock | None = None
) -> None:
    settings = _settings(data_dir, db_url, clock)
    with _session(settings) as session:
        wallets.mark_credential_change(session, wallet_id, now=settings.clock.now())


def backdate_wallet(
    data_dir: Path | str,
    db_url: str | None = None,
    *,
    wallet_id: str,
    created_at: int,
    device_bound_at: int,
) -> dict[str, Any]:
    """Demo seeding: the wallet (and its top-ups) created at ``created_at``, its devices
    bound at ``device_bound_at`` (Unix seconds). Unknown wallet: ``ApiError`` 404."""
    settings = _settings(data_dir, db_url, None)
    with _session(settings) as session:
        devices = wallets.backdate(
            session, wallet_id, created_at=created_at, device_bound_at=device_bound_at
        )
    return {"wallet_id": wallet_id, "created_at": created_at, "devices": devices}


def enroll_manager(
    data_dir: Path | str,
    db_url: str | None = None,
    *,
    store_id: str,
    manager_id: str,
    public_key: str,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Enroll a manager's public key (``pos-app manager-key`` prints it on the till)."""
    from pos_app.paytoken import keys
    from pos_app.server import managers

    settings = _settings(data_dir, db_url, clock)
    raw = keys.b64url_decode(public_key)
    with _session(settings) as session:
        done = managers.enroll(
            session,
            store_id=store_id,
            manager_id=manager_id,
            public_key=raw,
            now=settings.clock.now(),
        )
    return {"store_id": done.store_id, "manager_id": done.manager_id, "public_key": done.public_key}


def revoke_manager(
    data_dir: Path | str,
    db_url: str | None = None,
    *,
    store_id: str,
    manager_id: str,
    clock: Clock | None = None,
) -> dict[str, Any]:
    from pos_app.server import managers

    settings = _settings(data_dir, db_url, clock)
    with _session(settings) as session:
        count = managers.revoke(
            session, store_id=store_id, manager_id=manager_id, now=settings.clock.now()
        )
    return {"store_id": store_id, "manager_id": manager_id, "revoked_keys": count}


def _redact(url: str) -> str:
    """Never print a database password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
