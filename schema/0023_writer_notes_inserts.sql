-- New events are noted by their writer, not by a trigger per row (issue #21: import speed).
--
-- `input_changes.low_ms` (0010_snapshots.sql) is the earliest event time written since a report
-- last looked. Events and their legs are inserted in one place only, `Writer::event`, always
-- together (legs only ever go with a new event), so the writer notes the earliest time it
-- inserted once, in the same transaction, when it commits (`Writer::commit`). The triggers
-- that did it per inserted row cost about a third of a 1,000,000-row import. Updates and
-- deletes of events, legs, values and overrides, and inserted values (prices), stay noted by
-- their triggers.
DROP TRIGGER IF EXISTS tax_changes_event_insert;
DROP TRIGGER IF EXISTS tax_changes_leg_insert;
