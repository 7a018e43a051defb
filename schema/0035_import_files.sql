-- An imported file kept whole, once, instead of one raw record per row (issue #21).
--
-- Until now every CSV row was archived as its own raw record (a JSON object of column name ->
-- text) and linked to its event: a third of an import's time, and half of a ledger's bytes.
-- The file's own bytes are the truer record of what was received, and an event only needs to
-- say which of its lines it was made from. Raw records stay for what the APIs send (and for
-- rows imported before this version, which are left as they were).

-- One imported file of one account: its name (without the folder), the SHA-256 of its bytes,
-- their number, and the format it was read as (`csv:<format>`). A file is kept only when at
-- least one of its rows made an event that no earlier source had made.
CREATE TABLE import_files (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    source      TEXT NOT NULL,
    name        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    imported_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX import_files_by_account ON import_files (account_id);

-- The file's bytes exactly as read, in pieces of up to 1 MiB, in order.
CREATE TABLE import_file_chunks (
    file_id INTEGER NOT NULL REFERENCES import_files(id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (file_id, seq)
) STRICT;

-- Which lines of which file an event was made from (1-based line numbers as the import's
-- messages give them, space-separated, in the order the rows were read). One file per event:
-- the first that made it (a later, overlapping file finds the event there and adds nothing).
-- `file_id` is not declared a foreign key: removing a file would have SQLite read all of this
-- table for its lines (no index on it, which would cost every import a B-tree more). A file is
-- removed only with its account, after the account's events (and so their lines) are gone, or
-- at the end of an import that gave it no line.
CREATE TABLE event_lines (
    event_id INTEGER PRIMARY KEY REFERENCES events(id) ON DELETE CASCADE,
    file_id  INTEGER NOT NULL,
    lines    TEXT NOT NULL
) STRICT;
