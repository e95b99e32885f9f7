"""Backend settings: one frozen value built by the CLI, the demo or a test."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pos_app.core.money import numeric_code
from pos_app.server.clock import Clock, SystemClock

DB_FILE = "backend.sqlite3"


def default_db_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / DB_FILE).resolve()}"


@dataclass(frozen=True)
class ServerSettings:
    data_dir: Path
    db_url: str
    audience: str = "pos.jp"
    currency: str = "JPY"
    clock: Clock = field(default_factory=SystemClock)
    max_body_bytes: int = 256 * 1024
    max_lines: int = 500
    signature_max_age: int = 60
    signature_max_future: int = 5
    enrollment_code_ttl: int = 15 * 60
    step_up_ttl: int = 120
    token_lifetime: int = 180
    token_skew: int = 30
    new_device_window: int = 72 * 3600
    new_account_window: int = 30 * 86400
    offline_limit_max: int = 10_000
    idempotency_keep: int = 48 * 3600
    # A manager's claim on a sale under review lapses after this long (walked away).
    review_claim_ttl: int = 15 * 60
    # Signed requests per minute per signer and process (0 disables the limit).
    rate_limit_per_minute: int = 1200
    # Before any signature is verified: requests per minute per source address and endpoint
    # to the unauthenticated endpoints (enrollment, wallet creation), and failed signatures
    # per source address and endpoint (0 disables).
    address_limit_per_minute: int = 60
    failed_signatures_per_minute: int = 120
    # Offline claims (BACKEND-API.md, revisions wave 2): the furthest back an offline sale
    # may be dated, and the silence that ends a stretch of contact with a terminal. The
    # slack covers the till's failed attempt before it accepts offline: connect 3 s + read
    # 10 s, 3 retries with backoff (about 60 s), plus margin.
    offline_max_period: int = 24 * 3600
    contact_slack: int = 90

    @classmethod
    def for_data_dir(
        cls, data_dir: Path | str, db_url: str | None = None, **kw: object
    ) -> ServerSettings:
        path = Path(data_dir).resolve()
        return cls(data_dir=path, db_url=db_url or default_db_url(path), **kw)  # type: ignore[arg-type]

    @property
    def currency_numeric(self) -> int:
        return numeric_code(self.currency)
