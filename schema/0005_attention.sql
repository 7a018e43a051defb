-- Raw records the normalisers of this version could not read (malformed JSON, a missing amount):
-- the record itself stays in raw_records (the archive); this row says why it made no event. A
-- later sync that reads it, or `renormalize` after an upgrade, removes the row.
CREATE TABLE unreadable_records (
    raw_record_id INTEGER PRIMARY KEY REFERENCES raw_records(id) ON DELETE CASCADE,
    reason        TEXT NOT NULL,
    seen_ms       INTEGER NOT NULL
) STRICT;
