"""Schema of the terminal's local database, as an ordered list of migrations.

``PRAGMA user_version`` holds the number of migrations applied. Each migration
runs in its own transaction together with the version bump, so a crash leaves
the database at a known version. Never edit a released migration: add one.
Fixture databases at every earlier version live in tests/terminal/fixtures and
are upgraded by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from pos_app.paytoken.seen_store import SCHEMA_STATEMENTS

# The seen-token table is paytoken's (one definition, pinned by its tests: changing it
# means a new migration here, like any other table).
SEEN_TOKENS = ";\n".join(SCHEMA_STATEMENTS)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "sales, sale lines, seen payment tokens, outbox, audit log",
        f"""
        CREATE TABLE sales (
            sale_id          TEXT PRIMARY KEY,
            store_id         TEXT NOT NULL,
            terminal_id      TEXT NOT NULL,
            cashier_id       TEXT NOT NULL,
            currency         TEXT NOT NULL,
            total            INTEGER NOT NULL CHECK (total >= 0),
            state            TEXT NOT NULL,
            reason           TEXT,
            authorization_id TEXT,
            wallet_masked    TEXT,
            offline          INTEGER NOT NULL DEFAULT 0 CHECK (offline IN (0, 1)),
            created_at       INTEGER NOT NULL,
            updated_at       INTEGER NOT NULL
        );
        CREATE INDEX sales_created ON sales (created_at);
        CREATE TABLE sale_lines (
            sale_id    TEXT NOT NULL REFERENCES sales (sale_id) ON DELETE CASCADE,
            line_no    INTEGER NOT NULL,
            sku        TEXT NOT NULL,
            name       TEXT NOT NULL,
            category   TEXT NOT NULL,
            quantity   INTEGER NOT NULL CHECK (quantity >= 1),
            unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
            line_total INTEGER NOT NULL,
            tax_rate   INTEGER NOT NULL,
            PRIMARY KEY (sale_id, line_no)
        );
        {SEEN_TOKENS};
        CREATE TABLE outbox (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            sale_id         TEXT NOT NULL REFERENCES sales (sale_id),
            kind            TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            payload         TEXT NOT NULL,
            state           TEXT NOT NULL DEFAULT 'pending',
            attempts        INTEGER NOT NULL DEFAULT 0,
            last_error      TEXT,
            created_at      INTEGER NOT NULL,
            next_attempt_at INTEGER NOT NULL
        );
        CREATE TABLE audit_log (
            id        INTEGER PRIMARY KEY AUTOINCREMENT,
            at        INTEGER NOT NULL,
            actor     TEXT NOT NULL,
            action    TEXT NOT NULL,
            detail    TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash      TEXT NOT NULL UNIQUE
        );
        """,
    ),
    Migration(
        2,
        "risk decision, token facts and step timeline of each sale",
        """
        ALTER TABLE sales ADD COLUMN risk TEXT;
        ALTER TABLE sales ADD COLUMN token_facts TEXT;
        ALTER TABLE sales ADD COLUMN pickup_later INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE sale_events (
            id      INTEGER PRIMARY KEY AUTOINCREMENT,
            sale_id TEXT NOT NULL REFERENCES sales (sale_id) ON DELETE CASCADE,
            at      INTEGER NOT NULL,
            state   TEXT NOT NULL,
            detail  TEXT
        );
        CREATE INDEX sale_events_sale ON sale_events (sale_id, id);
        """,
    ),
    Migration(
        3,
        "manager reviews, their decisions, and a key-value table for terminal state",
        """
        CREATE TABLE reviews (
            sale_id    TEXT PRIMARY KEY REFERENCES sales (sale_id),
            status     TEXT NOT NULL DEFAULT 'open',
            claimed_by TEXT,
            claimed_at INTEGER,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE review_decisions (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            sale_id     TEXT NOT NULL REFERENCES sales (sale_id),
            decision    TEXT NOT NULL,
            reviewer_id TEXT NOT NULL,
            note        TEXT NOT NULL,
            at          INTEGER NOT NULL,
            synced      INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE kv (
            key   TEXT PRIMARY KEY,
            value BLOB NOT NULL
        );
        """,
    ),
    Migration(
        4,
        "reviews cover the whole store: no link to this terminal's sales, remote sales cache,"
        " decision sync state",
        """
        CREATE TABLE reviews_v4 (
            sale_id    TEXT PRIMARY KEY,
            status     TEXT NOT NULL DEFAULT 'open',
            claimed_by TEXT,
            claimed_at INTEGER,
            updated_at INTEGER NOT NULL
        );
        INSERT INTO reviews_v4 SELECT sale_id, status, claimed_by, claimed_at, updated_at
            FROM reviews;
        DROP TABLE reviews;
        ALTER TABLE reviews_v4 RENAME TO reviews;
        CREATE TABLE review_decisions_v4 (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            sale_id     TEXT NOT NULL,
            decision    TEXT NOT NULL,
            reviewer_id TEXT NOT NULL,
            note        TEXT NOT NULL,
            at          INTEGER NOT NULL,
            synced      INTEGER NOT NULL DEFAULT 0,
            attempts    INTEGER NOT NULL DEFAULT 0,
            last_error  TEXT
        );
        INSERT INTO review_decisions_v4 (id, sale_id, decision, reviewer_id, note, at, synced)
            SELECT id, sale_id, decision, reviewer_id, note, at, synced FROM review_decisions;
        DROP TABLE review_decisions;
        ALTER TABLE review_decisions_v4 RENAME TO review_decisions;
        CREATE INDEX review_decisions_sale ON review_decisions (sale_id, id);
        CREATE TABLE remote_sales (
            sale_id       TEXT PRIMARY KEY,
            store_id      TEXT NOT NULL,
            terminal_id   TEXT NOT NULL,
            cashier_id    TEXT NOT NULL,
            currency      TEXT NOT NULL,
            total         INTEGER NOT NULL,
            state         TEXT NOT NULL,
            reason        TEXT,
            risk          TEXT,
            offline       INTEGER NOT NULL DEFAULT 0,
            wallet_masked TEXT,
            created_at    INTEGER NOT NULL,
            fetched_at    INTEGER NOT NULL
        );
        CREATE INDEX remote_sales_created ON remote_sales (created_at);
        """,
    ),
    Migration(
        5,
        "a review decision keeps the manager's signature, the backend's proof of who decided",
        """
        ALTER TABLE review_decisions ADD COLUMN signature TEXT;
        """,
    ),
    Migration(
        6,
        "the answer to the age check (20+) of a sale with tobacco or alcohol: who, how, when",
        """
        ALTER TABLE sales ADD COLUMN age_check TEXT;
        """,
    ),
    Migration(
        7,
        "sales settled while nobody watched wait to be shown to the cashier; the outbox is"
        " drained per sale",
        """
        ALTER TABLE sales ADD COLUMN untold INTEGER NOT NULL DEFAULT 0 CHECK (untold IN (0, 1));
        CREATE INDEX sales_untold ON sales (untold) WHERE untold = 1;
        CREATE INDEX outbox_open ON outbox (state, sale_id, id);
        """,
    ),
    Migration(
        8,
        "receipts waiting for the printer",
        """
        CREATE TABLE receipt_jobs (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            sale_id    TEXT,
            kind       TEXT NOT NULL,
            document   TEXT NOT NULL,
            state      TEXT NOT NULL DEFAULT 'pending'
                       CHECK (state IN ('pending', 'printed', 'dropped')),
            attempts   INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at INTEGER NOT NULL,
            printed_at INTEGER
        );
        CREATE INDEX receipt_jobs_pending ON receipt_jobs (state, id);
        """,
    ),
    Migration(
        9,
        "each sale gets this till's running number, printed on receipts (rowid is not stable)",
        """
        ALTER TABLE sales ADD COLUMN seq INTEGER;
        UPDATE sales SET seq = rowid;
        CREATE UNIQUE INDEX sales_seq ON sales (seq);
        """,
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version
