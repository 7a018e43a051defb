-- The deposits and withdrawals by id (issue #21): matching own transfers reads only them
-- instead of scanning every event. Partial, so an import pays for it only on those rows.
CREATE INDEX events_movements ON events (id) WHERE kind IN ('deposit', 'withdrawal');
