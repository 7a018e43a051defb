-- Details of a movement that another source's event already records (a deposit's or
-- withdrawal's tx hash, address and network from an exchange's deposit/withdrawal history,
-- where its ledger already made the event). Each waits here until it meets its event (same
-- account, kind, asset and amount, close in time); `event_id` is the event it was attached to,
-- NULL while it waits. Amounts are TEXT, as everywhere.
CREATE TABLE event_details (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    raw_record_id INTEGER NOT NULL REFERENCES raw_records(id) ON DELETE CASCADE,
    external_id   TEXT NOT NULL,
    kind          TEXT NOT NULL,
    time_ms       INTEGER NOT NULL,
    asset         TEXT NOT NULL,
    amount        TEXT NOT NULL,
    tx_hash       TEXT,
    address       TEXT,
    network       TEXT,
    event_id      INTEGER REFERENCES events(id) ON DELETE SET NULL,
    UNIQUE (account_id, external_id)
) STRICT;

CREATE INDEX event_details_by_event ON event_details (event_id);
