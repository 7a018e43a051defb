-- Sync coverage: the spans of exchange time that a stream's walk has proven fetched.
-- `cointally coverage` shows them and the gaps between them. Spans of one stream are merged
-- when they touch or overlap, so a stream usually has one row. Times are Unix milliseconds,
-- `from_ms` included, `to_ms` excluded.
CREATE TABLE sync_coverage (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    endpoint   TEXT NOT NULL,
    scope      TEXT NOT NULL DEFAULT '',
    from_ms    INTEGER NOT NULL,
    to_ms      INTEGER NOT NULL,
    fetched_ms INTEGER NOT NULL,
    PRIMARY KEY (account_id, endpoint, scope, from_ms)
) STRICT, WITHOUT ROWID;
