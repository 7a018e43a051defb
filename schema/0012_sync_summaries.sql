-- The last sync's summary of each account (issue #22): what `sync` printed (records, pages,
-- requests, retries, warnings, balance differences, the error if it stopped), as JSON, so a
-- problem bundle can carry it. Replaced by every sync of the account.
CREATE TABLE sync_summaries (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    finished_at TEXT NOT NULL,
    summary     TEXT NOT NULL
) STRICT;
