-- The lots of a year-end snapshot in blocks (issue #21): each row holds up to 4,096 lots one
-- after another, encoded by `ledger::snapshots` (integers little-endian, names with their
-- length, amounts as the 16 bytes of an exact decimal). A report of all years over a large
-- history stores hundreds of thousands of lots at each year-end and the next report reads them
-- back whole; as rows of 15 columns with decimal text both cost more than the computation
-- they save. Nothing reads a snapshot's lots but the computation that goes on from it, so they
-- need no columns of their own.
CREATE TABLE tax_snapshot_lot_blocks (
    snapshot_id INTEGER NOT NULL REFERENCES tax_snapshots(id) ON DELETE CASCADE,
    block       INTEGER NOT NULL,
    lots        INTEGER NOT NULL,
    body        BLOB NOT NULL,
    UNIQUE (snapshot_id, block)
) STRICT;

-- The snapshots stored before are dropped (the next report computes from the first event and
-- stores them again), all but a closed year's: its lots are what was filed, so the ledger's
-- migration encodes them into blocks (`ledger::snapshots::lot_rows_to_blocks`) before the old
-- table goes.
DELETE FROM tax_snapshots WHERE id NOT IN (SELECT snapshot_id FROM closed_years);
DELETE FROM tax_snapshot_lots WHERE snapshot_id NOT IN (SELECT id FROM tax_snapshots);
DELETE FROM tax_snapshot_balances WHERE snapshot_id NOT IN (SELECT id FROM tax_snapshots);
