-- The kept copy of the own-transfer candidates (0024) as encoded blocks (issue #21): a report
-- whose matching is unchanged read all of them back, one row each with its amounts as text
-- (181,000 at a million events: a fifth of a report of the latest year from a snapshot).
--
-- `transfer_movement_blocks` holds the candidates in (time, event id) order, `BLOCK_MOVEMENTS`
-- to a block (src/ledger/movements.rs): each body is the movements encoded one after another
-- (event id, account id, time, flags, asset, amount, fee, transaction hash), with the times of
-- its first and last movement. A matching that reads the events again from a time on rewrites
-- the blocks from the first one holding a movement at or after it.
--
-- The copy is a cache: the old rows are dropped, and `filled = 0` makes the next matching read
-- every candidate from the events and write the blocks (as a ledger new to 0024 did).
DROP INDEX transfer_movements_by_time;
DROP TABLE transfer_movements;
CREATE TABLE transfer_movement_blocks (
    block     INTEGER PRIMARY KEY,
    first_ms  INTEGER NOT NULL,
    last_ms   INTEGER NOT NULL,
    movements INTEGER NOT NULL,
    body      BLOB NOT NULL
) STRICT;
UPDATE transfer_cache SET filled = 0, low_ms = NULL, outcome = NULL WHERE id = 1;
