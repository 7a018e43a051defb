-- What own-transfer matching read last time, so the next report re-reads only what changed
-- (issue #21): matching used to read every deposit and withdrawal of all history (with their
-- legs) on every report.
--
-- `transfer_movements` holds the candidates as the last matching read them (one row per
-- deposit or withdrawal moving one crypto asset; amounts as exact decimal text).
-- `transfer_cache.low_ms` is the earliest event time any write touching a candidate made
-- since then (NULL: none): the rows from that time on are stale, the rows before it are what
-- a read of the events would give. The triggers below note it; the next matching reads the
-- events from that time on, replaces those rows and clears the mark, in one transaction with
-- the transfers it stores. `filled` is 0 until a matching has stored the rows (a ledger that
-- gains this table, or one whose rows were thrown away): then the whole history is read.
--
-- `outcome` is what that matching left over (the ambiguous events and their candidates, the
-- unmatched withdrawals and deposits: JSON), and `links_changed` says whether the user's
-- links or unlinks changed since (the triggers at the end set it): with neither the
-- candidates nor those changed, the next matching is the last one, read back, not redone.
CREATE TABLE transfer_cache (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    filled        INTEGER NOT NULL,
    low_ms        INTEGER,
    outcome       TEXT,
    links_changed INTEGER NOT NULL
) STRICT;
INSERT INTO transfer_cache (id, filled, low_ms, outcome, links_changed) VALUES (1, 0, NULL, NULL, 1);

CREATE TABLE transfer_movements (
    event_id   INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL,
    outgoing   INTEGER NOT NULL,
    time_ms    INTEGER NOT NULL,
    asset      TEXT NOT NULL,
    amount     TEXT NOT NULL,
    fee        TEXT NOT NULL,
    tx_hash    TEXT
) STRICT;
CREATE INDEX transfer_movements_by_time ON transfer_movements (time_ms);

-- The deposits and withdrawals in time order: the changed part of history is read by a range
-- of this index (partial, so an import pays for it only on those rows).
CREATE INDEX events_movements_by_time ON events (time_ms, id) WHERE kind IN ('deposit', 'withdrawal');

-- A write can change the candidates when it touches an event stored as a deposit or a
-- withdrawal, or one with a kind override (reclassified into or out of those kinds).
-- New events (and their legs, which only ever go with a new event) are noted by their writer:
-- `Writer::commit` lowers `low_ms` to the earliest event it inserted, whatever its kind (a
-- kind override may name an event before it exists), once per transaction instead of a
-- trigger per inserted event and leg (see 0023_writer_notes_inserts.sql: per-row triggers cost
-- about a third of an import).
CREATE TRIGGER transfer_cache_event_delete AFTER DELETE ON events
WHEN (OLD.kind IN ('deposit', 'withdrawal')
      OR EXISTS (SELECT 1 FROM kind_overrides o WHERE o.account_id = OLD.account_id AND o.external_id = OLD.external_id))
  AND ((SELECT low_ms FROM transfer_cache) IS NULL OR (SELECT low_ms FROM transfer_cache) > OLD.time_ms)
BEGIN UPDATE transfer_cache SET low_ms = OLD.time_ms; END;

CREATE TRIGGER transfer_cache_event_update AFTER UPDATE ON events
WHEN (OLD.kind IN ('deposit', 'withdrawal') OR NEW.kind IN ('deposit', 'withdrawal')
      OR EXISTS (SELECT 1 FROM kind_overrides o WHERE o.account_id = OLD.account_id AND o.external_id = OLD.external_id)
      OR EXISTS (SELECT 1 FROM kind_overrides o WHERE o.account_id = NEW.account_id AND o.external_id = NEW.external_id))
  AND ((SELECT low_ms FROM transfer_cache) IS NULL
       OR (SELECT low_ms FROM transfer_cache) > min(OLD.time_ms, NEW.time_ms))
BEGIN UPDATE transfer_cache SET low_ms = min(OLD.time_ms, NEW.time_ms); END;

-- The legs of such an event (its asset, amount and fees), changed or deleted.
CREATE TRIGGER transfer_cache_leg_update AFTER UPDATE ON legs
BEGIN
    UPDATE transfer_cache SET low_ms = (SELECT min(e.time_ms) FROM events e WHERE e.id IN (OLD.event_id, NEW.event_id))
    WHERE EXISTS (SELECT 1 FROM events e WHERE e.id IN (OLD.event_id, NEW.event_id)
                  AND (e.kind IN ('deposit', 'withdrawal')
                       OR EXISTS (SELECT 1 FROM kind_overrides o
                                  WHERE o.account_id = e.account_id AND o.external_id = e.external_id)))
      AND (low_ms IS NULL OR low_ms > (SELECT min(e.time_ms) FROM events e WHERE e.id IN (OLD.event_id, NEW.event_id)));
END;

-- (A leg deleted with its event is covered by the event's own trigger, which runs first.)
CREATE TRIGGER transfer_cache_leg_delete AFTER DELETE ON legs
BEGIN
    UPDATE transfer_cache SET low_ms = (SELECT e.time_ms FROM events e WHERE e.id = OLD.event_id)
    WHERE EXISTS (SELECT 1 FROM events e WHERE e.id = OLD.event_id
                  AND (e.kind IN ('deposit', 'withdrawal')
                       OR EXISTS (SELECT 1 FROM kind_overrides o
                                  WHERE o.account_id = e.account_id AND o.external_id = e.external_id))
                  AND (transfer_cache.low_ms IS NULL OR transfer_cache.low_ms > e.time_ms));
END;

-- A reclassification: the event it names (whatever its stored kind).
CREATE TRIGGER transfer_cache_override_insert AFTER INSERT ON kind_overrides
BEGIN
    UPDATE transfer_cache SET low_ms = (SELECT min(time_ms) FROM events
        WHERE account_id = NEW.account_id AND external_id = NEW.external_id)
    WHERE low_ms IS NULL OR low_ms > (SELECT min(time_ms) FROM events
        WHERE account_id = NEW.account_id AND external_id = NEW.external_id);
END;

CREATE TRIGGER transfer_cache_override_update AFTER UPDATE ON kind_overrides
BEGIN
    UPDATE transfer_cache SET low_ms = (SELECT min(time_ms) FROM events
        WHERE (account_id = NEW.account_id AND external_id = NEW.external_id)
           OR (account_id = OLD.account_id AND external_id = OLD.external_id))
    WHERE low_ms IS NULL OR low_ms > (SELECT min(time_ms) FROM events
        WHERE (account_id = NEW.account_id AND external_id = NEW.external_id)
           OR (account_id = OLD.account_id AND external_id = OLD.external_id));
END;

CREATE TRIGGER transfer_cache_override_delete AFTER DELETE ON kind_overrides
BEGIN
    UPDATE transfer_cache SET low_ms = (SELECT min(time_ms) FROM events
        WHERE account_id = OLD.account_id AND external_id = OLD.external_id)
    WHERE low_ms IS NULL OR low_ms > (SELECT min(time_ms) FROM events
        WHERE account_id = OLD.account_id AND external_id = OLD.external_id);
END;

-- The user's links and unlinks (automatic links are the matching's own output).
CREATE TRIGGER transfer_cache_manual_insert AFTER INSERT ON transfers WHEN NEW.method = 'manual'
BEGIN UPDATE transfer_cache SET links_changed = 1; END;

CREATE TRIGGER transfer_cache_manual_delete AFTER DELETE ON transfers WHEN OLD.method = 'manual'
BEGIN UPDATE transfer_cache SET links_changed = 1; END;

CREATE TRIGGER transfer_cache_manual_update AFTER UPDATE ON transfers
WHEN OLD.method = 'manual' OR NEW.method = 'manual'
BEGIN UPDATE transfer_cache SET links_changed = 1; END;

CREATE TRIGGER transfer_cache_unlink_insert AFTER INSERT ON transfer_unlinks
BEGIN UPDATE transfer_cache SET links_changed = 1; END;

CREATE TRIGGER transfer_cache_unlink_delete AFTER DELETE ON transfer_unlinks
BEGIN UPDATE transfer_cache SET links_changed = 1; END;

CREATE TRIGGER transfer_cache_unlink_update AFTER UPDATE ON transfer_unlinks
BEGIN UPDATE transfer_cache SET links_changed = 1; END;
