-- The events of the latest year a report read, each kept whole in one row, so the next report
-- of that year (from the snapshot at the end of the year before) reads them in one ordered
-- range instead of three B-tree look-ups per leg (issue #21).
--
-- `tax_event_cache` holds each event as a report reads it (its kind after any override, its
-- legs with their values in the span's currency), encoded by `ledger::event_cache`; rows are
-- keyed by time and id, the order a pass reads. `tax_event_cache_span` says which events those
-- are: every event from `from_ms` (inclusive) to `until_ms` (exclusive), in `currency`. Nothing
-- else is trusted: a row outside the span is never read.
--
-- The copy follows the same mark as the year-end snapshots (`input_changes`, 0010 and 0023):
-- every write that can change what a report reads of an event notes its earliest time there,
-- and the step that clears the mark (`Ledger::invalidate_snapshots`) cuts the copy at that
-- time in the same transaction. A read uses the copy only before the mark as it stands, so a
-- write not yet seen by that step is never read around.
CREATE TABLE tax_event_cache (
    time_ms INTEGER NOT NULL,
    id      INTEGER NOT NULL,
    body    BLOB NOT NULL,
    PRIMARY KEY (time_ms, id)
) STRICT, WITHOUT ROWID;

CREATE TABLE tax_event_cache_span (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    currency TEXT NOT NULL,
    from_ms  INTEGER NOT NULL,
    until_ms INTEGER NOT NULL
) STRICT;
