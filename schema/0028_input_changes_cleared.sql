-- How many times the mark of `input_changes` was cleared (issue #21).
--
-- A report clears the mark before it reads (dropping the snapshots and cutting the kept copy of
-- events after it), and stores its snapshots and its copy after it read. Should another process
-- write meanwhile and a third report clear that write's mark before the first one stores, the
-- first would store what it computed without the write, and nothing would say so any more. So
-- every clearing counts here, and a report stores its snapshots and its copy only if the count
-- is still the one it saw when it cleared the mark (or read the copy).
ALTER TABLE input_changes ADD COLUMN cleared INTEGER NOT NULL DEFAULT 0;
