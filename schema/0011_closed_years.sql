-- Closed (filed) tax years (issue #16): a year's result as the user filed it, kept as it was
-- whatever the ledger says later. Later years start from its carried-out lots: the year-end
-- snapshot it names (in `tax_snapshots`, under the options it was closed with), which is never
-- dropped by the triggers of 0010 nor checked against a key while the year is closed.
CREATE TABLE closed_years (
    year          INTEGER PRIMARY KEY,
    jurisdiction  TEXT NOT NULL,
    -- The options as stored with a run (stable JSON, with the year).
    options       TEXT NOT NULL,
    -- The lots (per wallet as the engine held them) and balances carried out of the year.
    snapshot_id   INTEGER NOT NULL UNIQUE REFERENCES tax_snapshots(id),
    inputs_hash   TEXT NOT NULL,
    -- `report --json` and the text report as they were at the close.
    report_json   TEXT NOT NULL,
    report_text   TEXT NOT NULL,
    -- The run manifest (`diff --save`'s layout): totals, rows and a fingerprint of every input,
    -- what `check` and `diff --against-closed` compare today's computation with.
    run_manifest  TEXT NOT NULL,
    -- Units and basis held at the year's end per asset (JSON), compared by `check`.
    holdings      TEXT NOT NULL,
    closed_at     TEXT NOT NULL,
    -- 1 once a write touched what the year read (an event, leg, value or kind before its end:
    -- the triggers' mark of 0010; or a transfer link, election or label: the snapshot's key):
    -- later reports say so; `check` says whether the figures changed.
    inputs_changed INTEGER NOT NULL DEFAULT 0
) STRICT;

-- The gains files of a closed year exactly as `export` wrote them at the close, with their
-- manifests: `export FORMAT --year Y` of a closed year writes these bytes again.
CREATE TABLE closed_year_files (
    year      INTEGER NOT NULL REFERENCES closed_years(year) ON DELETE CASCADE,
    format    TEXT NOT NULL,
    bytes     BLOB NOT NULL,
    manifest  BLOB NOT NULL,
    PRIMARY KEY (year, format)
) STRICT, WITHOUT ROWID;
