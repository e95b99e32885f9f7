"""Database schema (SQLAlchemy 2 declarative). Migrations in ``migrations/`` mirror it.

Money is integer minor units; times are Unix seconds (BigInteger) so the
injected clock, not the database, decides what "now" is.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # Money (minor units) and times (Unix seconds) are 64-bit: a plain ``Mapped[int]`` is a
    # BigInteger. Row ids and the other small counters say ``Integer`` where declared.
    type_annotation_map: ClassVar[dict[Any, Any]] = {int: BigInteger}


class Terminal(Base):
    __tablename__ = "terminals"
    __table_args__ = (UniqueConstraint("store_id", "terminal_id", name="uq_terminals_store"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(64))
    terminal_id: Mapped[str] = mapped_column(String(64))
    keyid: Mapped[str | None] = mapped_column(String(64), unique=True)
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    region: Mapped[str] = mapped_column(String(32), default="")
    app_version: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[int]
    enrolled_at: Mapped[int | None]
    # The stretch of contact going on: signed requests from this terminal, each less than
    # ``ServerSettings.contact_slack`` after the previous one (closed ones: TerminalContact).
    contact_since: Mapped[int | None]
    contact_last: Mapped[int | None]
    # Per-terminal offline limits (None: the server's settings): how far back an offline
    # claim may reach, and the most one offline sale of this terminal may charge.
    offline_max_age: Mapped[int | None]
    offline_max_sale: Mapped[int | None]


class TerminalContact(Base):
    """A closed stretch of time in which the backend kept hearing from a terminal."""

    __tablename__ = "terminal_contacts"
    __table_args__ = (Index("ix_terminal_contacts_row_end", "terminal_row", "ended_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    terminal_row: Mapped[int] = mapped_column(Integer, ForeignKey("terminals.id"))
    started_at: Mapped[int]
    ended_at: Mapped[int]


class EnrollmentCode(Base):
    __tablename__ = "enrollment_codes"
    # SHA-256 of the code: a database leak does not reveal usable codes.
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    terminal_row: Mapped[int] = mapped_column(Integer, ForeignKey("terminals.id"))
    expires_at: Mapped[int]
    used_at: Mapped[int | None]


class Wallet(Base):
    __tablename__ = "wallets"
    wallet_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(128))
    home_region: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    frozen: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int]
    credential_changed_at: Mapped[int | None]


class Device(Base):
    __tablename__ = "devices"
    device_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    wallet_id: Mapped[str] = mapped_column(ForeignKey("wallets.wallet_id"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[int]
    revoked_at: Mapped[int | None]


class Account(Base):
    __tablename__ = "accounts"
    # "wallet:<id>", "store:<id>", "funding": the balance is a cache of the postings,
    # kept so a debit is one conditional UPDATE; check-ledger proves they agree.
    account_id: Mapped[str] = mapped_column(String(96), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    balance: Mapped[int] = mapped_column(default=0)


class Journal(Base):
    __tablename__ = "journal"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[int]


class Posting(Base):
    __tablename__ = "postings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    journal_id: Mapped[int] = mapped_column(Integer, ForeignKey("journal.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    amount: Mapped[int]


class Sale(Base):
    __tablename__ = "sales"
    __table_args__ = (
        Index("ix_sales_wallet_time", "wallet_id", "created_at"),
        # The store's tobacco baseline reads a week of one store's sales.
        Index("ix_sales_store_time", "store_id", "created_at"),
    )
    sale_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_id: Mapped[str] = mapped_column(String(64), index=True)
    terminal_id: Mapped[str] = mapped_column(String(64))
    cashier_id: Mapped[str] = mapped_column(String(64))
    wallet_id: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(16))
    cti: Mapped[str | None] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[int]
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Denormalised from ``lines`` so the velocity features are plain SUMs.
    cc_total: Mapped[int] = mapped_column(default=0)
    tobacco_total: Mapped[int] = mapped_column(default=0)
    # The distinct categories of ``lines``, sorted, comma-separated (``risk.stored_categories``),
    # so a wallet's kinds of goods are read without decoding every sale's lines; None for
    # sales written before migration 0009.
    categories: Mapped[str | None] = mapped_column(String(200))
    store_region: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(48))
    authorization_id: Mapped[str | None] = mapped_column(String(64))
    risk: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The backend's rules as they fired, with sentences ({rules_version, reasons}); None for
    # sales decided before the rules ran (hard declines) or before migration 0005.
    risk_explanation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    offline_accepted_at: Mapped[int | None]
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    # A manager's approval at the till, as the terminal reported it (kept for review).
    manager_id: Mapped[str | None] = mapped_column(String(64))
    manager_reason: Mapped[str | None] = mapped_column(String(200))
    # The till's short number for the sale (S001-T01-000042), printed on its receipt.
    sale_number: Mapped[str | None] = mapped_column(String(48))
    review_status: Mapped[str | None] = mapped_column(String(24), index=True)
    # The manager reviewing the sale now (across all tills of the store); a claim older
    # than ``ServerSettings.review_claim_ttl`` is abandoned.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[int | None]
    # The wallet owner's dispute of the charge ("not me"), which reopens the review.
    disputed_at: Mapped[int | None]
    dispute_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[int]
    updated_at: Mapped[int]


class Redemption(Base):
    __tablename__ = "redemptions"
    # The primary key is the single-use guarantee: the first INSERT commits, the rest fail.
    cti: Mapped[str] = mapped_column(String(32), primary_key=True)
    sale_id: Mapped[str] = mapped_column(String(64))
    redeemed_at: Mapped[int]
    expires_at: Mapped[int]


class StepUp(Base):
    __tablename__ = "step_ups"
    challenge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sale_id: Mapped[str] = mapped_column(ForeignKey("sales.sale_id"), unique=True)
    wallet_id: Mapped[str] = mapped_column(String(64), index=True)
    device_id: Mapped[str] = mapped_column(String(16))
    store_id: Mapped[str] = mapped_column(String(64))
    total: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[int]
    decided_at: Mapped[int | None]


class Review(Base):
    __tablename__ = "review_decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sale_id: Mapped[str] = mapped_column(ForeignKey("sales.sale_id"), index=True)
    decision: Mapped[str] = mapped_column(String(24))
    reviewer_id: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int]
    # SHA-256 of the manager's signature: one signed decision is applied once.
    proof_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)


class ManagerKey(Base):
    """A manager's public key, enrolled by an administrator (docs/BACKEND.md)."""

    __tablename__ = "manager_keys"
    __table_args__ = (
        UniqueConstraint("store_id", "manager_id", "public_key", name="uq_manager_keys_key"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(String(64), index=True)
    manager_id: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[int]
    revoked_at: Mapped[int | None]


class TopUp(Base):
    __tablename__ = "top_ups"
    __table_args__ = (Index("ix_top_ups_wallet_time", "wallet_id", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    wallet_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int]
    created_at: Mapped[int]


class Nonce(Base):
    __tablename__ = "nonces"
    keyid: Mapped[str] = mapped_column(String(128), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[int] = mapped_column(index=True)


class IdempotencyRecord(Base):
    __tablename__ = "idempotency"
    principal: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(index=True)


class IssuerKey(Base):
    __tablename__ = "issuer_keys"
    kid: Mapped[str] = mapped_column(String(16), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    # next (published, not minting) -> current (minting) -> retired (verify only) -> dropped
    state: Mapped[str] = mapped_column(String(16))
    private_key_path: Mapped[str] = mapped_column(Text)
    issue_not_before: Mapped[int]
    issue_not_after: Mapped[int]
    verify_until: Mapped[int]
    created_at: Mapped[int]


class TrustListRecord(Base):
    __tablename__ = "trust_lists"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    envelope: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[int]


class TerminalAuditEntry(Base):
    """A terminal's audit log as it was sent: a hash chain the store cannot rewrite."""

    __tablename__ = "audit_entries"
    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    entry_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[int]
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[int]
