-- The 2025 allocation of unused basis (Rev. Proc. 2024-28), made once and kept (issue #16).
--
-- On 1 January 2025 US lots went from one queue per asset (universal) to one per wallet; the
-- basis of the units still held ("unused basis") is allocated once to the units in each wallet.
-- `cointally basis allocate` stores that allocation here; reports from 2025 start from it
-- instead of computing it again, so a later change to the history before 2025 never moves
-- basis between wallets silently (`check` reports it as `allocation_changed`).

-- The allocation itself: one row at most. `rule` is `global` (cointally's written rule) or
-- `specific` (the user's file, `source` names it and its SHA-256); `history_hash` is the
-- SHA-256 of what the history before `as_of_ms` gave when it was stored.
CREATE TABLE basis_allocation (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    rule         TEXT NOT NULL CHECK (rule IN ('global', 'specific')),
    as_of_ms     INTEGER NOT NULL,
    source       TEXT,
    history_hash TEXT NOT NULL,
    created_at   TEXT NOT NULL
) STRICT;

-- Its lots: units of an asset in a wallet with the basis and acquisition date allocated to
-- them. Amounts as exact decimal text. `lot_id`, `event_id`, `origin_account`, `moved`,
-- `price_missing` keep what the engine knew of the lot (the global rule); a specific
-- allocation's lots have event 0 and are marked moved (not bought where they sit, as far as
-- cointally knows).
CREATE TABLE basis_allocation_lots (
    seq            INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    asset          TEXT NOT NULL,
    units          TEXT NOT NULL,
    basis          TEXT NOT NULL,
    acquired_ms    INTEGER NOT NULL,
    lot_id         INTEGER NOT NULL,
    event_id       INTEGER NOT NULL,
    origin_account INTEGER NOT NULL,
    moved          INTEGER NOT NULL,
    basis_missing  INTEGER NOT NULL,
    price_missing  INTEGER NOT NULL
) STRICT;

-- The allocation is an input of every computation from 2025 on: storing, replacing or
-- removing it drops the year-end snapshots that end after 1 January 2025 (the mark the
-- snapshot triggers of 0010 keep; 1735689600000 = 2025-01-01T00:00:00Z).
CREATE TRIGGER tax_changes_allocation_insert AFTER INSERT ON basis_allocation
BEGIN
    UPDATE input_changes SET low_ms = NEW.as_of_ms WHERE low_ms IS NULL OR low_ms > NEW.as_of_ms;
END;

CREATE TRIGGER tax_changes_allocation_delete AFTER DELETE ON basis_allocation
BEGIN
    UPDATE input_changes SET low_ms = OLD.as_of_ms WHERE low_ms IS NULL OR low_ms > OLD.as_of_ms;
END;
