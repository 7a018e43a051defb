-- Lot identification elections (standing orders) with an effective date: from `from_ms` (UTC
-- ms, the start of the day given) the method applies to disposals of one account, or of every
-- account when account_id is NULL. A disposal uses the latest election in force at its time for
-- its account, else the latest for all, else FIFO. `cointally method set|list|remove`.
CREATE TABLE method_elections (
    id         INTEGER PRIMARY KEY,
    method     TEXT NOT NULL CHECK (method IN ('fifo', 'lifo', 'hifo', 'lofo')),
    from_ms    INTEGER NOT NULL,
    account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
) STRICT;
