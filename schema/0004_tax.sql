-- Cost basis: own transfers decided by the user, and the rows a report computed.
--
-- The tax engine reads every event in time order, so events get the index on time that
-- version 1 left out.
CREATE INDEX events_by_time ON events (time_ms, id);

-- An event the user unlinked (`transfers unlink`): automatic matching never pairs it again.
-- Links the user made are rows of `transfers` with method 'manual'.
CREATE TABLE transfer_unlinks (
    event_id   INTEGER PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
) STRICT;

-- Version 1 sketched these tables; nothing ever wrote them. They are replaced by the tax_*
-- tables below, which belong to one computed run.
DROP TABLE disposals;
DROP TABLE income;
DROP TABLE lots;
DROP TABLE computed_runs;

-- The rows below name their run, events and accounts by id without foreign keys (checking
-- them made storing a million-event year three times slower): they are derived, replaced
-- together by every report, and removing an account removes the stored run.

-- One computation of a year: its options (JSON), and a SHA-256 of exactly the inputs it read
-- (events, legs, their values, transfers), so a re-run can prove it saw the same ledger. A
-- new run of a report replaces the stored one.
CREATE TABLE tax_runs (
    id          INTEGER PRIMARY KEY,
    year        INTEGER NOT NULL,
    options     TEXT NOT NULL,
    inputs_hash TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

-- A disposal of one lot fragment (one Form 8949 row). `kind`: `sale` (sold, traded, spent),
-- `fee` (crypto paid as a fee), `transfer_fee` (the network fee of an own transfer).
-- `lot_event_id` is the acquisition the lot came from; NULL when more was disposed of than
-- was held (then `basis_missing` is 1 and the basis 0).
CREATE TABLE tax_disposals (
    run_id         INTEGER NOT NULL,
    seq            INTEGER NOT NULL,
    event_id       INTEGER NOT NULL,
    account_id     INTEGER NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('sale', 'fee', 'transfer_fee')),
    asset          TEXT NOT NULL,
    amount         TEXT NOT NULL,
    acquired_ms    INTEGER NOT NULL,
    disposed_ms    INTEGER NOT NULL,
    proceeds       TEXT NOT NULL,
    cost_basis     TEXT NOT NULL,
    gain           TEXT NOT NULL,
    term           TEXT NOT NULL CHECK (term IN ('short', 'long')),
    lot_event_id   INTEGER,
    basis_missing  INTEGER NOT NULL,
    price_missing  INTEGER NOT NULL,
    PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;

-- Income received in the year, at its value when received (also the basis of its lot).
CREATE TABLE tax_income (
    run_id        INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    event_id      INTEGER NOT NULL,
    account_id    INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    asset         TEXT NOT NULL,
    amount        TEXT NOT NULL,
    received_ms   INTEGER NOT NULL,
    value         TEXT NOT NULL,
    price_missing INTEGER NOT NULL,
    PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;

-- The lots still held at the end of the year. `account_id` is the wallet that holds the lot
-- under per-wallet tracking, NULL under universal tracking.
CREATE TABLE tax_holdings (
    run_id        INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    lot_event_id  INTEGER NOT NULL,
    account_id    INTEGER,
    asset         TEXT NOT NULL,
    amount        TEXT NOT NULL,
    acquired_ms   INTEGER NOT NULL,
    cost_basis    TEXT NOT NULL,
    basis_missing INTEGER NOT NULL,
    PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;

-- The user's word on what an event is (`cointally reclassify`): a send to another person that
-- was a gift, an exchange type cointally does not know that was income. Keyed by the source's
-- id so it survives re-normalising; every reader takes the user's kind over the source's.
CREATE TABLE kind_overrides (
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (account_id, external_id)
) STRICT, WITHOUT ROWID;
