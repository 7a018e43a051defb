-- The basis per unit a snapshot's lot is ranked by under HIFO/LOFO (issue #21): fixed when the
-- lot was made and kept by its parts, so a computation going on from a snapshot orders and
-- merges the lots as one from the first event does. Exact decimal text.
ALTER TABLE tax_snapshot_lots ADD COLUMN rank_basis TEXT;

-- The snapshots written before have no rank: dropped (the next report computes from the first
-- event and stores them again), all but a closed year's, which is kept as filed (its lots rank
-- by their own basis per unit).
DELETE FROM tax_snapshots WHERE id NOT IN (SELECT snapshot_id FROM closed_years);
DELETE FROM tax_snapshot_lots WHERE snapshot_id NOT IN (SELECT id FROM tax_snapshots);
DELETE FROM tax_snapshot_balances WHERE snapshot_id NOT IN (SELECT id FROM tax_snapshots);
