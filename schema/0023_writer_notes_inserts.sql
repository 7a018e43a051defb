-- New events and new values are noted by their writer, not by a trigger per row (issue #21:
-- import and pricing speed).
--
-- `input_changes.low_ms` (0010_snapshots.sql) is the earliest event time written since a report
-- last looked. Events and their legs are inserted in one place only, `Writer::event`, always
-- together (legs only ever go with a new event), so the writer notes the earliest time it
-- inserted once, in the same transaction, when it commits (`Writer::commit`). The triggers
-- that did it per inserted row cost about a third of a 1,000,000-row import. Leg values are
-- inserted in one place only too, `Ledger::store_leg_values`, which notes the earliest event it
-- valued the same way (the trigger's frame and statement journal per value were half the time
-- of `prices`). Updates and deletes of events, legs, values and overrides stay noted by their
-- triggers.
DROP TRIGGER IF EXISTS tax_changes_event_insert;
DROP TRIGGER IF EXISTS tax_changes_leg_insert;
DROP TRIGGER IF EXISTS tax_changes_value_insert;
