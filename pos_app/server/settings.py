"""Backend settings: code, the environment and a TOML file, in that order of precedence.

One frozen value (pydantic-settings). Every field can be set

- in code or by the CLI (keyword arguments, highest),
- from the environment as ``POS_APP_SERVER_<FIELD>`` (``POS_APP_SERVER_DB_URL``,
  ``POS_APP_SERVER_RATE_LIMIT_PER_MINUTE``...),
- from the TOML file named by ``POS_APP_SERVER_CONFIG`` (``pos-app backend ... --config FILE``
  sets it), top-level keys named like the fields,
- else the defaults below.

Only the clock is code-only (tests and the demo inject one). Unknown keys in the file are
refused, so a typo does not silently leave a default in force.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, PlainValidator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from pos_app.core.money import CURRENCIES, numeric_code
from pos_app.server.clock import Clock, SystemClock
from pos_app.server.db import POOL_OVERFLOW

DB_FILE = "backend.sqlite3"
ENV_PREFIX = "POS_APP_SERVER_"
ENV_CONFIG = ENV_PREFIX + "CONFIG"


def default_db_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / DB_FILE).resolve()}"


def _clock(value: object) -> Clock:
    if not callable(getattr(value, "now", None)):
        raise ValueError("the clock is set in code only (an object with now() -> int)")
    return value  # type: ignore[return-value]


class ServerSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="forbid", validate_default=False
    )

    data_dir: Path
    # Default: the SQLite file in data_dir.
    db_url: str = ""
    # Test each pooled PostgreSQL connection before use (a round trip per transaction).
    # Off: a connection the database dropped fails one request with 503 and the pool is
    # renewed (db.make_engine).
    db_pool_pre_ping: bool = False
    # PostgreSQL connections each worker process keeps open (at most 10 more under a burst,
    # closed when given back), and whether ``serve`` opens them all before the worker takes
    # traffic (otherwise the first requests of a burst each wait for a login). Workers x
    # (size + 10) must stay under the database's ``max_connections``.
    db_pool_size: int = Field(default=20, ge=1, le=500)
    db_pool_warm: bool = True
    # Threads of each worker that run the database work of requests (anyio's limiter; its
    # default, 40, let 16 tills' finalizes share the GIL at once). Requests beyond it wait
    # their turn in order: on the idle 2-core box 8 gave 331-352/s and a p99 of 89-99 ms
    # against 312-331/s and 114-122 ms with 40 (docs/BACKEND.md). Raise it where requests
    # wait on the database (slow disks, lock waits) more than they compute.
    worker_threads: int = Field(default=8, ge=1, le=1000)
    audience: str = "pos.jp"
    currency: str = "JPY"
    clock: Annotated[Clock, PlainValidator(_clock)] = Field(
        default_factory=SystemClock, exclude=True
    )
    # ``pos-app backend serve``: where to listen, how many worker processes, and whether
    # uvicorn logs every request (off by default: a line per request costs CPU).
    host: str = "127.0.0.1"
    port: int = Field(default=8400, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    access_log: bool = False
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
    rate_limit_per_minute: int = Field(default=1200, ge=0)
    # Before any signature is verified: requests per minute per source address and endpoint
    # to the unauthenticated endpoints (enrollment, wallet creation), and failed signatures
    # per source address and endpoint (0 disables).
    address_limit_per_minute: int = Field(default=60, ge=0)
    failed_signatures_per_minute: int = Field(default=120, ge=0)
    # Offline claims (BACKEND-API.md, revisions wave 2): the furthest back an offline sale
    # may be dated, and the silence that ends a stretch of contact with a terminal. The
    # slack covers the till's failed attempt before it accepts offline: connect 3 s + read
    # 10 s, 3 retries with backoff (about 60 s), plus margin.
    offline_max_period: int = 24 * 3600
    contact_slack: int = 90

    @model_validator(mode="after")
    def _resolve(self) -> ServerSettings:
        path = self.data_dir.expanduser().resolve()
        object.__setattr__(self, "data_dir", path)
        if not self.db_url:
            object.__setattr__(self, "db_url", default_db_url(path))
        if self.currency not in CURRENCIES:
            raise ValueError(f"currency must be one of {sorted(CURRENCIES)}")
        # Signed requests run on the backend's own threads and the rest (trust list,
        # health) on anyio's, each up to worker_threads: both can hold a connection.
        connections = self.db_pool_size + POOL_OVERFLOW
        if not self.db_url.startswith("sqlite") and 2 * self.worker_threads > connections:
            raise ValueError(
                f"worker_threads = {self.worker_threads} lets {2 * self.worker_threads}"
                f" requests use the database at once, more than the {connections}"
                f" connections of the pool (db_pool_size {self.db_pool_size} + {POOL_OVERFLOW}):"
                f" set db_pool_size to at least {2 * self.worker_threads - POOL_OVERFLOW}"
                " or lower worker_threads"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config = os.environ.get(ENV_CONFIG)
        if not config:
            return init_settings, env_settings
        path = Path(config).expanduser()
        if not path.is_file():
            raise ValueError(f"{ENV_CONFIG}: no settings file at {path}")
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, path)

    @classmethod
    def for_data_dir(
        cls, data_dir: Path | str, db_url: str | None = None, **kw: Any
    ) -> ServerSettings:
        """Settings for *data_dir* (and *db_url*); the other fields from *kw*, the
        environment, the settings file or the defaults."""
        return cls(data_dir=Path(data_dir), db_url=db_url or "", **kw)

    @classmethod
    def load(cls, **given: Any) -> ServerSettings:
        """Settings from the environment and the file, with the values *given* that are not
        None on top (the CLI passes its flags so: a flag left out does not hide the file)."""
        return cls(**{k: v for k, v in given.items() if v is not None})

    @property
    def currency_numeric(self) -> int:
        return numeric_code(self.currency)
