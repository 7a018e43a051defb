-- Whether every leg has a value in the reporting currency, kept between runs (issue #21).
--
-- Every report (and `check`, and `prices missing`) asks whether a leg of history lacks a
-- value; over 1,000,000 events reading every leg beside every value to answer it took longer
-- than the rest of a report from a snapshot. The answer can only turn from "none" to "some"
-- when a leg is added or changed, a value is deleted or changed, or an event moves in time;
-- each notes here the earliest event time it touches, and a check reads only the legs of the
-- events from that time on (`Ledger::missing_legs`), then clears the mark.
--
-- `currency`: every leg had a value in it when the mark was last cleared (NULL: not known, the
-- next check reads all of history). `low_ms`: the earliest event time written since (NULL:
-- nothing). `writes`: counts every noted write, so that a check clears the mark only if
-- nothing was written while it read (another process may import meanwhile, at a time after
-- the mark, which would not lower it). New legs are inserted in one place only,
-- `Writer::event`, which notes the earliest of them when it commits (as it does for
-- `input_changes`, 0023); new values cannot make a leg lack one, so their inserts are not
-- noted.
CREATE TABLE value_changes (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    currency TEXT,
    low_ms   INTEGER,
    writes   INTEGER NOT NULL
) STRICT;
INSERT INTO value_changes (id, currency, low_ms, writes) VALUES (1, NULL, NULL, 0);

CREATE TRIGGER value_changes_event_time AFTER UPDATE OF time_ms ON events
BEGIN
    UPDATE value_changes SET low_ms = min(coalesce(low_ms, OLD.time_ms), OLD.time_ms, NEW.time_ms),
        writes = writes + 1;
END;

CREATE TRIGGER value_changes_leg_update AFTER UPDATE ON legs
BEGIN
    UPDATE value_changes
    SET low_ms = min(coalesce(low_ms, t.time_ms), t.time_ms), writes = writes + 1
    FROM (SELECT time_ms FROM events WHERE id = NEW.event_id) AS t;
END;

CREATE TRIGGER value_changes_value_delete AFTER DELETE ON leg_values
BEGIN
    UPDATE value_changes
    SET low_ms = min(coalesce(low_ms, t.time_ms), t.time_ms), writes = writes + 1
    FROM (SELECT time_ms FROM events WHERE id = OLD.event_id) AS t;
END;

-- A value's price or amount changed is still a value: only a change of what it values counts.
CREATE TRIGGER value_changes_value_update AFTER UPDATE OF event_id, seq, currency ON leg_values
BEGIN
    UPDATE value_changes
    SET low_ms = min(coalesce(low_ms, t.time_ms), t.time_ms), writes = writes + 1
    FROM (SELECT time_ms FROM events WHERE id = OLD.event_id) AS t;
END;
