-- The deposits and withdrawals by id (0018) are read by no query since the transfer
-- candidates are read by time (0024, `events_movements_by_time`): every import paid for the
-- index on each deposit and withdrawal it wrote, for nothing (issue #21).
DROP INDEX IF EXISTS events_movements;
