-- Digests of a stored run's rows, one per block of 1,024 rows in order (issue #21). A report
-- of a year already stored brings the stored run up to date from its first changed row; it
-- used to find that row by reading every stored row back (a fifth of a report from a
-- snapshot over a large year). It now compares the blocks' digests with those of the new
-- rows and reads back only the rows of the first block that differs.
--
-- `tbl` names the table of the rows (`tax_disposals`, `tax_income`, `tax_holdings`), `rows`
-- how many rows the block holds (the last block of a table may hold fewer than 1,024),
-- `digest` the SHA-256 of the rows as stored (`src/ledger/tax.rs`, `RowDigest`). The blocks
-- of a run are written and removed with its rows, in the same transaction; a run stored
-- before this table has none, and its next update compares every row once and writes them.
CREATE TABLE tax_row_blocks (
    run_id INTEGER NOT NULL,
    tbl    TEXT NOT NULL CHECK (tbl IN ('tax_disposals', 'tax_income', 'tax_holdings')),
    block  INTEGER NOT NULL,
    rows   INTEGER NOT NULL,
    digest BLOB NOT NULL,
    PRIMARY KEY (run_id, tbl, block)
) STRICT, WITHOUT ROWID;
