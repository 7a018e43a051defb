-- cointally ledger, version 1.
-- Amounts and prices are exact decimals stored as TEXT and computed in Rust (rust_decimal);
-- never SQL arithmetic on them. Times are UTC milliseconds since the Unix epoch.

-- Ledger-wide settings (reporting currency, ...).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

-- An exchange account or a wallet. Credentials are NOT stored here: at most the NAMES of
-- the environment variables that hold them.
CREATE TABLE accounts (
    id                 INTEGER PRIMARY KEY,
    label              TEXT NOT NULL UNIQUE,
    exchange           TEXT NOT NULL,
    base_url           TEXT,
    credential_source  TEXT NOT NULL CHECK (credential_source IN ('none', 'env', 'file')),
    key_env            TEXT,
    secret_env         TEXT,
    allow_withdraw_key INTEGER NOT NULL DEFAULT 0,
    created_at         TEXT NOT NULL
) STRICT;

-- Every record exactly as received (API JSON, or a CSV row as column -> text): the audit
-- trail and the input of re-normalising. `source` is the endpoint, or `csv:<format>`.
CREATE TABLE raw_records (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    source      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    payload     TEXT NOT NULL,
    fetched_ms  INTEGER NOT NULL,
    UNIQUE (account_id, source, external_id)
) STRICT;

-- Where the next page of (account, endpoint, scope) starts.
CREATE TABLE sync_cursors (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL,
    scope      TEXT NOT NULL DEFAULT '',
    cursor     TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (account_id, endpoint, scope)
) STRICT;

-- One balance-changing happening. (account_id, external_id) is the source's stable id:
-- the same happening from a file and from the API is one row.
CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    external_id   TEXT NOT NULL,
    kind          TEXT NOT NULL,
    time_ms       INTEGER NOT NULL,
    tx_hash       TEXT,
    address       TEXT,
    network       TEXT,
    note          TEXT,
    fiat_value    TEXT,
    fiat_currency TEXT,
    source        TEXT NOT NULL,
    UNIQUE (account_id, external_id)
) STRICT;
-- No index on time yet: every current reader scans all events of a ledger anyway, and an
-- index costs a million-row import 8%. A migration adds one when a query needs it.

-- The signed amounts an event moves. The sum per account and asset is the balance.
-- (Clustered by event: the tax engine and balances read legs in event order.)
CREATE TABLE legs (
    event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    role     TEXT NOT NULL CHECK (role IN ('sent', 'received', 'fee')),
    asset    TEXT NOT NULL,
    amount   TEXT NOT NULL,
    PRIMARY KEY (event_id, seq)
) STRICT, WITHOUT ROWID;

-- Which raw records an event was made from (a Kraken trade is two ledger rows; a Binance
-- dust conversion is one record and many events).
CREATE TABLE event_sources (
    event_id      INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    raw_record_id INTEGER NOT NULL REFERENCES raw_records(id) ON DELETE CASCADE,
    PRIMARY KEY (event_id, raw_record_id)
) STRICT, WITHOUT ROWID;

-- A withdrawal matched to the deposit it became (own wallets, other exchanges).
CREATE TABLE transfers (
    id                  INTEGER PRIMARY KEY,
    withdrawal_event_id INTEGER NOT NULL UNIQUE REFERENCES events(id) ON DELETE CASCADE,
    deposit_event_id    INTEGER NOT NULL UNIQUE REFERENCES events(id) ON DELETE CASCADE,
    method              TEXT NOT NULL CHECK (method IN ('tx_hash', 'amount_time', 'manual')),
    created_at          TEXT NOT NULL
) STRICT;

-- Balances the exchange itself reported at the end of a sync, for reconciliation.
CREATE TABLE reported_balances (
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    asset       TEXT NOT NULL,
    amount      TEXT NOT NULL,
    reported_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, asset)
) STRICT;

-- Cached prices: one unit of `asset` in `currency` at `time_ms`, from `source`.
CREATE TABLE prices (
    asset       TEXT NOT NULL,
    currency    TEXT NOT NULL,
    time_ms     INTEGER NOT NULL,
    source      TEXT NOT NULL,
    granularity TEXT NOT NULL,
    price       TEXT NOT NULL,
    PRIMARY KEY (asset, currency, time_ms, source, granularity)
) STRICT;

-- Computed by the last report, read by exports and audits.
CREATE TABLE lots (
    id            INTEGER PRIMARY KEY,
    event_id      INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    asset         TEXT NOT NULL,
    acquired_ms   INTEGER NOT NULL,
    amount        TEXT NOT NULL,
    remaining     TEXT NOT NULL,
    cost_basis    TEXT NOT NULL,
    basis_missing INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE disposals (
    id          INTEGER PRIMARY KEY,
    event_id    INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    lot_id      INTEGER NOT NULL REFERENCES lots(id) ON DELETE CASCADE,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    asset       TEXT NOT NULL,
    amount      TEXT NOT NULL,
    acquired_ms INTEGER NOT NULL,
    disposed_ms INTEGER NOT NULL,
    proceeds    TEXT NOT NULL,
    cost_basis  TEXT NOT NULL,
    gain        TEXT NOT NULL,
    term        TEXT NOT NULL CHECK (term IN ('short', 'long'))
) STRICT;

CREATE TABLE income (
    id          INTEGER PRIMARY KEY,
    event_id    INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    asset       TEXT NOT NULL,
    amount      TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL
) STRICT;

-- What options the computed tables were made with.
CREATE TABLE computed_runs (
    id          INTEGER PRIMARY KEY,
    options     TEXT NOT NULL,
    inputs_hash TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

INSERT INTO settings (key, value) VALUES ('reporting_currency', 'USD');
-- A random identity for the ledger: the credentials file keys secrets by it and the label,
-- so two client ledgers with an account called `binance` never share a key.
INSERT INTO settings (key, value) VALUES ('ledger_id', lower(hex(randomblob(16))));
