-- Year-end snapshots: the state of a computation at the end of a tax year, so that a later
-- report starts from there instead of the first event (issue #21).
--
-- A snapshot is valid while nothing it read has changed. What it read is in two parts:
-- - the rows that are many (events, legs, leg values, kind overrides): every write to them is
--   noted below, by the triggers, as the earliest event time it touches (`low_ms`); a report
--   first drops every snapshot that ends after that time, then clears the mark. So checking
--   costs one row, whatever the size of history, and a writer pays one small UPDATE per row
--   only when it writes before the mark (importing new events at the end of history lowers it
--   once);
-- - the rows that are few and already read whole by every report (transfer links and their
--   amounts, elections, account labels, the reporting currency, the options, the version of the
--   rules): hashed into `key_hash`, compared when the snapshot is used.

-- The earliest event time written since the last report looked (NULL: nothing written).
CREATE TABLE input_changes (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    low_ms INTEGER
) STRICT;
INSERT INTO input_changes (id, low_ms) VALUES (1, NULL);
-- A ledger that already has events when it gains this table has no snapshots: nothing to mark.

CREATE TRIGGER tax_changes_event_insert AFTER INSERT ON events
WHEN (SELECT low_ms FROM input_changes) IS NULL OR (SELECT low_ms FROM input_changes) > NEW.time_ms
BEGIN UPDATE input_changes SET low_ms = NEW.time_ms; END;

CREATE TRIGGER tax_changes_event_delete AFTER DELETE ON events
WHEN (SELECT low_ms FROM input_changes) IS NULL OR (SELECT low_ms FROM input_changes) > OLD.time_ms
BEGIN UPDATE input_changes SET low_ms = OLD.time_ms; END;

CREATE TRIGGER tax_changes_event_update AFTER UPDATE ON events
WHEN (SELECT low_ms FROM input_changes) IS NULL
  OR (SELECT low_ms FROM input_changes) > min(OLD.time_ms, NEW.time_ms)
BEGIN UPDATE input_changes SET low_ms = min(OLD.time_ms, NEW.time_ms); END;

CREATE TRIGGER tax_changes_leg_insert AFTER INSERT ON legs
BEGIN
    UPDATE input_changes SET low_ms = (SELECT time_ms FROM events WHERE id = NEW.event_id)
    WHERE low_ms IS NULL OR low_ms > (SELECT time_ms FROM events WHERE id = NEW.event_id);
END;

CREATE TRIGGER tax_changes_leg_update AFTER UPDATE ON legs
BEGIN
    UPDATE input_changes SET low_ms = (SELECT time_ms FROM events WHERE id = NEW.event_id)
    WHERE low_ms IS NULL OR low_ms > (SELECT time_ms FROM events WHERE id = NEW.event_id);
END;

CREATE TRIGGER tax_changes_leg_delete AFTER DELETE ON legs
BEGIN
    UPDATE input_changes SET low_ms = (SELECT time_ms FROM events WHERE id = OLD.event_id)
    WHERE low_ms IS NULL OR low_ms > (SELECT time_ms FROM events WHERE id = OLD.event_id);
END;

CREATE TRIGGER tax_changes_value_insert AFTER INSERT ON leg_values
BEGIN
    UPDATE input_changes SET low_ms = (SELECT time_ms FROM events WHERE id = NEW.event_id)
    WHERE low_ms IS NULL OR low_ms > (SELECT time_ms FROM events WHERE id = NEW.event_id);
END;

CREATE TRIGGER tax_changes_value_update AFTER UPDATE ON leg_values
BEGIN
    UPDATE input_changes SET low_ms = (SELECT time_ms FROM events WHERE id = NEW.event_id)
    WHERE low_ms IS NULL OR low_ms > (SELECT time_ms FROM events WHERE id = NEW.event_id);
END;

CREATE TRIGGER tax_changes_value_delete AFTER DELETE ON leg_values
BEGIN
    UPDATE input_changes SET low_ms = (SELECT time_ms FROM events WHERE id = OLD.event_id)
    WHERE low_ms IS NULL OR low_ms > (SELECT time_ms FROM events WHERE id = OLD.event_id);
END;

CREATE TRIGGER tax_changes_override_insert AFTER INSERT ON kind_overrides
BEGIN
    UPDATE input_changes SET low_ms = (SELECT time_ms FROM events
        WHERE account_id = NEW.account_id AND external_id = NEW.external_id)
    WHERE low_ms IS NULL OR low_ms > (SELECT time_ms FROM events
        WHERE account_id = NEW.account_id AND external_id = NEW.external_id);
END;

CREATE TRIGGER tax_changes_override_update AFTER UPDATE ON kind_overrides
BEGIN
    UPDATE input_changes SET low_ms = (SELECT min(time_ms) FROM events
        WHERE (account_id = NEW.account_id AND external_id = NEW.external_id)
           OR (account_id = OLD.account_id AND external_id = OLD.external_id))
    WHERE low_ms IS NULL OR low_ms > (SELECT min(time_ms) FROM events
        WHERE (account_id = NEW.account_id AND external_id = NEW.external_id)
           OR (account_id = OLD.account_id AND external_id = OLD.external_id));
END;

CREATE TRIGGER tax_changes_override_delete AFTER DELETE ON kind_overrides
BEGIN
    UPDATE input_changes SET low_ms = (SELECT time_ms FROM events
        WHERE account_id = OLD.account_id AND external_id = OLD.external_id)
    WHERE low_ms IS NULL OR low_ms > (SELECT time_ms FROM events
        WHERE account_id = OLD.account_id AND external_id = OLD.external_id);
END;

-- A computation's state at the end of tax year `year` (events before `end_ms` applied), for
-- one jurisdiction and one set of options (`options`: the stable JSON of the options without
-- the year). `events_digest` continues the chained SHA-256 of the events read
-- (`inputs_hash`), `key_hash` is the SHA-256 of the few inputs checked on use (see above).
CREATE TABLE tax_snapshots (
    id            INTEGER PRIMARY KEY,
    jurisdiction  TEXT NOT NULL,
    options       TEXT NOT NULL,
    year          INTEGER NOT NULL,
    end_ms        INTEGER NOT NULL,
    key_hash      TEXT NOT NULL,
    events_digest TEXT NOT NULL,
    events        INTEGER NOT NULL,
    state         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (jurisdiction, options, end_ms)
) STRICT;
CREATE INDEX tax_snapshots_by_end ON tax_snapshots (end_ms);

-- The lots held at a snapshot (US lots; other lot-keeping countries may use it too): `wallet`
-- is the account under per-wallet tracking, NULL for the universal pool; `method` orders the
-- pool the lot is in. Amounts as exact decimal text.
CREATE TABLE tax_snapshot_lots (
    snapshot_id    INTEGER NOT NULL REFERENCES tax_snapshots(id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    wallet         INTEGER,
    asset          TEXT NOT NULL,
    method         TEXT NOT NULL,
    lot_id         INTEGER NOT NULL,
    event_id       INTEGER NOT NULL,
    acquired_ms    INTEGER NOT NULL,
    amount         TEXT NOT NULL,
    basis          TEXT NOT NULL,
    basis_missing  INTEGER NOT NULL,
    price_missing  INTEGER NOT NULL,
    origin_account INTEGER NOT NULL,
    moved          INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, seq)
) STRICT, WITHOUT ROWID;

-- The crypto balances per account at a snapshot (the US engine re-seats basis by them).
CREATE TABLE tax_snapshot_balances (
    snapshot_id INTEGER NOT NULL REFERENCES tax_snapshots(id) ON DELETE CASCADE,
    account_id  INTEGER NOT NULL,
    asset       TEXT NOT NULL,
    amount      TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, account_id, asset)
) STRICT, WITHOUT ROWID;
