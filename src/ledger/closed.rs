//! Closed (filed) tax years (`schema/0011_closed_years.sql`): the result as filed, the files
//! as written, and the year-end snapshot later years start from.

use chrono::Utc;
use rusqlite::{OptionalExtension, params};

use super::snapshots::OPEN;
use super::{Ledger, LedgerError};

/// A closed year as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedYear {
    /// The tax year.
    pub year: i32,
    /// The jurisdiction's code (`us`).
    pub jurisdiction: String,
    /// The options it was computed with (stable JSON, with the year).
    pub options: String,
    /// The snapshot of the lots carried out (0 before it is stored).
    pub snapshot_id: i64,
    /// Its `inputs_hash` at the close.
    pub inputs_hash: String,
    /// `report --json` at the close.
    pub report_json: String,
    /// The text report at the close.
    pub report_text: String,
    /// The run manifest at the close ([`crate::diff::RunManifest`] as JSON).
    pub run_manifest: String,
    /// Units and basis held at the year's end per asset (JSON).
    pub holdings: String,
    /// When it was closed (RFC 3339, UTC).
    pub closed_at: String,
    /// A write touched what it read since it was closed (the figures may or may not differ).
    pub inputs_changed: bool,
}

/// One file written at the close: format, bytes, manifest bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedFile {
    /// The export format's name.
    pub format: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Its manifest's bytes.
    pub manifest: Vec<u8>,
}

const COLUMNS: &str = "year, jurisdiction, options, snapshot_id, inputs_hash, report_json, report_text, run_manifest, holdings, closed_at";
const READ: &str = "year, jurisdiction, options, snapshot_id, inputs_hash, report_json, report_text, run_manifest, \
    holdings, closed_at, inputs_changed";

fn closed_year(r: &rusqlite::Row<'_>) -> rusqlite::Result<ClosedYear> {
    Ok(ClosedYear {
        year: r.get(0)?,
        jurisdiction: r.get(1)?,
        options: r.get(2)?,
        snapshot_id: r.get(3)?,
        inputs_hash: r.get(4)?,
        report_json: r.get(5)?,
        report_text: r.get(6)?,
        run_manifest: r.get(7)?,
        holdings: r.get(8)?,
        closed_at: r.get(9)?,
        inputs_changed: r.get(10)?,
    })
}

impl Ledger {
    /// Every closed year, oldest first.
    pub fn closed_years(&self) -> Result<Vec<ClosedYear>, LedgerError> {
        let mut stmt = self.conn.prepare(&format!("SELECT {READ} FROM closed_years ORDER BY year"))?;
        let rows = stmt.query_map([], closed_year)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The closed year `year`, if it is closed.
    pub fn closed_year(&self, year: i32) -> Result<Option<ClosedYear>, LedgerError> {
        let sql = format!("SELECT {READ} FROM closed_years WHERE year = ?1");
        Ok(self.conn.query_row(&sql, [year], closed_year).optional()?)
    }

    /// A file written when `year` was closed, if one of `format` was.
    pub fn closed_file(&self, year: i32, format: &str) -> Result<Option<ClosedFile>, LedgerError> {
        Ok(self
            .conn
            .query_row(
                "SELECT format, bytes, manifest FROM closed_year_files WHERE year = ?1 AND format = ?2",
                params![year, format],
                |r| Ok(ClosedFile { format: r.get(0)?, bytes: r.get(1)?, manifest: r.get(2)? }),
            )
            .optional()?)
    }

    /// Closes a year in one transaction: its row, its files, and the snapshot at `end_ms` of its
    /// jurisdiction and `snapshot_options` (the options, year aside) made the one later years
    /// start from. The other snapshots that end after it are dropped (computed before the close,
    /// they did not start from it).
    pub fn close_year(
        &mut self,
        closed: &ClosedYear,
        (snapshot_options, end_ms): (&str, i64),
        files: &[ClosedFile],
    ) -> Result<(), LedgerError> {
        let tx = self.transaction()?;
        let snapshot: Option<i64> = tx
            .query_row(
                "SELECT id FROM tax_snapshots WHERE jurisdiction = ?1 AND options = ?2 AND end_ms = ?3",
                params![closed.jurisdiction, snapshot_options, end_ms],
                |r| r.get(0),
            )
            .optional()?;
        let snapshot = snapshot.ok_or_else(|| {
            LedgerError::Corrupt(format!("no year-end snapshot of {} to close it with (compute it again)", closed.year))
        })?;
        tx.execute(
            &format!("INSERT INTO closed_years ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
            params![
                closed.year,
                closed.jurisdiction,
                closed.options,
                snapshot,
                closed.inputs_hash,
                closed.report_json,
                closed.report_text,
                closed.run_manifest,
                closed.holdings,
                Utc::now().to_rfc3339()
            ],
        )?;
        let mut insert =
            tx.prepare("INSERT INTO closed_year_files (year, format, bytes, manifest) VALUES (?1, ?2, ?3, ?4)")?;
        for f in files {
            insert.execute(params![closed.year, f.format, f.bytes, f.manifest])?;
        }
        drop(insert);
        tx.execute(&format!("DELETE FROM tax_snapshots WHERE end_ms > ?1 AND {OPEN}"), [end_ms])?;
        tx.commit()?;
        Ok(())
    }

    /// Notes that the inputs of the closed year whose snapshot is `snapshot_id` changed.
    pub fn mark_closed_year_changed(&mut self, snapshot_id: i64) -> Result<(), LedgerError> {
        self.conn.execute("UPDATE closed_years SET inputs_changed = 1 WHERE snapshot_id = ?1", [snapshot_id])?;
        Ok(())
    }

    /// Reopens `year`: drops what was filed, its snapshot, and the snapshots after it (they
    /// started from the filed lots); returns whether it was closed.
    pub fn reopen_year(&mut self, year: i32) -> Result<bool, LedgerError> {
        let tx = self.transaction()?;
        let snapshot: Option<(i64, i64)> = tx
            .query_row(
                "SELECT c.snapshot_id, t.end_ms FROM closed_years c JOIN tax_snapshots t ON t.id = c.snapshot_id
                 WHERE c.year = ?1",
                [year],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((snapshot, end_ms)) = snapshot else { return Ok(false) };
        tx.execute("DELETE FROM closed_years WHERE year = ?1", [year])?;
        tx.execute("DELETE FROM tax_snapshots WHERE id = ?1", [snapshot])?;
        tx.execute(&format!("DELETE FROM tax_snapshots WHERE end_ms > ?1 AND {OPEN}"), [end_ms])?;
        tx.commit()?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::OpenMode;
    use crate::ledger::snapshots::{Snapshot, SnapshotHead};

    fn snapshot(year: i32, end_ms: i64, key: &str) -> Snapshot {
        let head = SnapshotHead {
            id: 0,
            jurisdiction: "us".into(),
            options: "{}".into(),
            year,
            end_ms,
            key_hash: key.into(),
            events_digest: "0".repeat(64),
            events: 0,
            state: "{}".into(),
            closed: false,
        };
        Snapshot { head, lots: Vec::new(), balances: Vec::new() }
    }

    fn closed(year: i32) -> ClosedYear {
        ClosedYear {
            year,
            jurisdiction: "us".into(),
            options: "{}".into(),
            snapshot_id: 0,
            inputs_hash: "h".into(),
            report_json: "{}".into(),
            report_text: String::new(),
            run_manifest: "{}".into(),
            holdings: "{}".into(),
            closed_at: String::new(),
            inputs_changed: false,
        }
    }

    /// How many times the snapshots' mark was cleared: what a report stores its snapshots with.
    fn cleared(ledger: &Ledger) -> i64 {
        crate::ledger::snapshots::marks_cleared(&ledger.conn).unwrap()
    }

    #[test]
    fn snapshots_made_before_another_report_cleared_the_mark_are_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        // Nothing written: clearing nothing counts nothing.
        let before = ledger.invalidate_snapshots().unwrap().cleared;
        assert_eq!(ledger.invalidate_snapshots().unwrap().cleared, before);
        // A write by another process, whose mark another report clears while this one computes.
        ledger.conn.execute("UPDATE input_changes SET low_ms = 1000", []).unwrap();
        assert_eq!(ledger.invalidate_snapshots().unwrap().cleared, before + 1);
        assert!(ledger.store_snapshots(&[snapshot(2025, 3_000, "a")], before).unwrap().is_empty());
        assert!(ledger.snapshot_heads("us", "{}", i64::MAX).unwrap().is_empty());
        // A pass that started after that clearing stores its snapshots.
        assert_eq!(ledger.store_snapshots(&[snapshot(2025, 3_000, "a")], before + 1).unwrap().len(), 1);
    }

    #[test]
    fn a_closed_years_snapshot_outlives_writes_and_replacements_until_reopened() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        ledger.store_snapshots(&[snapshot(2024, 2_000, "a"), snapshot(2025, 3_000, "a")], 0).unwrap();
        let file = ClosedFile { format: "form8949".into(), bytes: b"x,y\n".to_vec(), manifest: b"{}".to_vec() };
        ledger.close_year(&closed(2024), ("{}", 2_000), std::slice::from_ref(&file)).unwrap();
        // The close drops the snapshot after it (it did not start from the filed lots).
        let heads = ledger.snapshot_heads("us", "{}", i64::MAX).unwrap();
        assert_eq!(heads.iter().map(|h| (h.year, h.closed)).collect::<Vec<_>>(), [(2024, true)]);
        assert_eq!(ledger.closed_file(2024, "form8949").unwrap(), Some(file));

        // A write before its end drops every open snapshot, marks the closed one, keeps it.
        ledger.store_snapshots(&[snapshot(2025, 3_000, "b")], cleared(&ledger)).unwrap();
        ledger.conn.execute("UPDATE input_changes SET low_ms = 1000", []).unwrap();
        assert_eq!(ledger.invalidate_snapshots().unwrap().dropped, 1);
        let heads = ledger.snapshot_heads("us", "{}", i64::MAX).unwrap();
        assert_eq!(heads.len(), 1);
        assert!(ledger.closed_year(2024).unwrap().unwrap().inputs_changed);
        // Neither a new snapshot of the same end nor a delete replaces it.
        ledger.store_snapshots(&[snapshot(2024, 2_000, "c")], cleared(&ledger)).unwrap();
        ledger.delete_snapshot(heads[0].id).unwrap();
        let kept = ledger.snapshot_heads("us", "{}", i64::MAX).unwrap();
        assert_eq!((kept.len(), kept[0].key_hash.as_str(), kept[0].id), (1, "a", heads[0].id));

        assert!(ledger.reopen_year(2024).unwrap());
        assert!(!ledger.reopen_year(2024).unwrap());
        assert!(ledger.snapshot_heads("us", "{}", i64::MAX).unwrap().is_empty());
        assert_eq!(ledger.closed_file(2024, "form8949").unwrap(), None);
    }
}
