-- A stored run's rows in blocks (issue #21). `report --all-years` over a million events stores
-- 1.28 million disposal rows; inserted one SQL row each (16 columns, amounts as text, into a
-- B-tree kept in key order) they took 3 of the command's 6.5 seconds. Each block of 1,024 rows
-- is now one row holding them as a JSON array (each row an array of its columns, amounts as
-- JSON strings: the same decimal text as before), with the SHA-256 of that text, which is what
-- a later report of the same year compares to find the first block that changed.
--
-- `tax_disposals`, `tax_income` and `tax_holdings` stay, as views with the columns, names and
-- order of the tables they replace, for audits and for other tools reading the ledger.
--
-- The runs stored before are dropped with their rows: they are derived from the ledger (the
-- next report of a year stores it again) and nothing else refers to them; closed years are
-- snapshots, which stay.
DROP TABLE tax_disposals;
DROP TABLE tax_income;
DROP TABLE tax_holdings;
DROP TABLE tax_row_blocks;
DELETE FROM tax_runs;

-- `tbl`: which rows (`tax_disposals`, `tax_income`, `tax_holdings`); `block`: the block's
-- number in the run's rows of that kind (its first row's `seq` is `block * 1024`); `rows`: how
-- many rows it holds (1,024 but in the last block); `body`: the rows, a JSON array of arrays;
-- `digest`: the SHA-256 of `body`.
CREATE TABLE tax_row_blocks (
    run_id INTEGER NOT NULL,
    tbl    TEXT NOT NULL CHECK (tbl IN ('tax_disposals', 'tax_income', 'tax_holdings')),
    block  INTEGER NOT NULL,
    rows   INTEGER NOT NULL,
    digest BLOB NOT NULL,
    body   TEXT NOT NULL,
    PRIMARY KEY (run_id, tbl, block)
) STRICT;

-- A disposal of one lot fragment (one Form 8949 row); the columns of version 4's table.
CREATE VIEW tax_disposals AS
SELECT b.run_id AS run_id, b.block * 1024 + r.key AS seq,
       r.value ->> 0 AS event_id, r.value ->> 1 AS account_id, r.value ->> 2 AS kind,
       r.value ->> 3 AS asset, r.value ->> 4 AS amount, r.value ->> 5 AS acquired_ms,
       r.value ->> 6 AS disposed_ms, r.value ->> 7 AS proceeds, r.value ->> 8 AS cost_basis,
       r.value ->> 9 AS gain, r.value ->> 10 AS term, r.value ->> 11 AS lot_event_id,
       r.value ->> 12 AS basis_missing, r.value ->> 13 AS price_missing
FROM tax_row_blocks b, json_each(b.body) r
WHERE b.tbl = 'tax_disposals';

-- Income received in the year, at its value when received.
CREATE VIEW tax_income AS
SELECT b.run_id AS run_id, b.block * 1024 + r.key AS seq,
       r.value ->> 0 AS event_id, r.value ->> 1 AS account_id, r.value ->> 2 AS kind,
       r.value ->> 3 AS asset, r.value ->> 4 AS amount, r.value ->> 5 AS received_ms,
       r.value ->> 6 AS value, r.value ->> 7 AS price_missing
FROM tax_row_blocks b, json_each(b.body) r
WHERE b.tbl = 'tax_income';

-- The lots still held at the end of the year (`account_id` NULL under universal tracking).
CREATE VIEW tax_holdings AS
SELECT b.run_id AS run_id, b.block * 1024 + r.key AS seq,
       r.value ->> 0 AS lot_event_id, r.value ->> 1 AS account_id, r.value ->> 2 AS asset,
       r.value ->> 3 AS amount, r.value ->> 4 AS acquired_ms, r.value ->> 5 AS cost_basis,
       r.value ->> 6 AS basis_missing
FROM tax_row_blocks b, json_each(b.body) r
WHERE b.tbl = 'tax_holdings';
