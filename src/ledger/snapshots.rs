//! Year-end snapshots of a tax computation (`schema/0010_snapshots.sql`): stored after a year
//! is computed, dropped when a write touches the history before their end, read back so a
//! later report starts from the latest one instead of the first event.

use chrono::Utc;
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, ToSql, params};
use rust_decimal::Decimal;

use super::writer::{CHUNK, multi_row_insert, write_chunk};
use super::{Ledger, LedgerError, decimal};

/// The SQL condition of a snapshot that carries no closed year (which nothing drops).
pub(crate) const OPEN: &str = "id NOT IN (SELECT snapshot_id FROM closed_years)";

/// What identifies a snapshot and proves it still fits, without its lots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotHead {
    /// Row id (0 before it is stored).
    pub id: i64,
    /// The jurisdiction's code (`us`).
    pub jurisdiction: String,
    /// The options without the year (stable text).
    pub options: String,
    /// The tax year it ends.
    pub year: i32,
    /// Events before this time (UTC ms) were applied.
    pub end_ms: i64,
    /// SHA-256 (hex) of the few inputs checked on use (links, elections, labels, options…).
    pub key_hash: String,
    /// The chained digest of the events read so far (hex), continued by the next computation.
    pub events_digest: String,
    /// How many events were read.
    pub events: u64,
    /// The rest of the engine's state, as its jurisdiction writes it (small JSON).
    pub state: String,
    /// It carries a closed year's lots (`closed_years`): used as filed, never dropped or
    /// checked against its key.
    pub closed: bool,
}

/// A lot held at a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotLot {
    /// The wallet under per-wallet tracking; `None` for the universal pool.
    pub wallet: Option<i64>,
    /// Asset.
    pub asset: String,
    /// The method ordering its pool (`fifo`…).
    pub method: String,
    /// The engine's creation order.
    pub lot_id: i64,
    /// The acquiring event.
    pub event_id: i64,
    /// Acquisition time (UTC ms).
    pub acquired_ms: i64,
    /// Units.
    pub amount: Decimal,
    /// Basis.
    pub basis: Decimal,
    /// The basis is unknown.
    pub basis_missing: bool,
    /// A value behind the basis is missing.
    pub price_missing: bool,
    /// The account the units were acquired in.
    pub origin_account: i64,
    /// The units left their account by an own transfer once.
    pub moved: bool,
    /// The basis per unit it ranks by under HIFO/LOFO (`None` in a closed year's snapshot
    /// stored before it was kept: its own basis per unit).
    pub rank: Option<Decimal>,
}

/// A snapshot whole: head, lots, balances (account, asset, amount).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Identity and proofs.
    pub head: SnapshotHead,
    /// Lots held.
    pub lots: Vec<SnapshotLot>,
    /// Crypto balances per account.
    pub balances: Vec<(i64, String, Decimal)>,
}

/// What [`Ledger::invalidate_snapshots`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalidated {
    /// Snapshots dropped.
    pub dropped: usize,
    /// How many times the mark has been cleared, this call included (schema/0028): what a
    /// report hands back when it stores what it computed after this call.
    pub cleared: i64,
}

/// How many times the mark of `input_changes` has been cleared (0 when its row is gone).
pub(super) fn marks_cleared(conn: &rusqlite::Connection) -> Result<i64, LedgerError> {
    Ok(conn.query_row("SELECT cleared FROM input_changes WHERE id = 1", [], |r| r.get(0)).optional()?.unwrap_or(0))
}

impl Ledger {
    /// Drops every snapshot that ends after the earliest event time written since the last
    /// call (the triggers' mark), then clears the mark and counts that it did.
    pub fn invalidate_snapshots(&mut self) -> Result<Invalidated, LedgerError> {
        let tx = self.transaction()?;
        let mark: Option<Option<i64>> =
            tx.query_row("SELECT low_ms FROM input_changes WHERE id = 1", [], |r| r.get(0)).optional()?;
        if let Some(Some(low)) = mark {
            tx.execute(
                "UPDATE closed_years SET inputs_changed = 1
                 WHERE snapshot_id IN (SELECT id FROM tax_snapshots WHERE end_ms > ?1)",
                [low],
            )?;
        }
        let dropped = match mark {
            // Nothing written since the last look.
            Some(None) => 0,
            Some(Some(low)) => tx.execute(&format!("DELETE FROM tax_snapshots WHERE end_ms > ?1 AND {OPEN}"), [low])?,
            // The mark itself is gone (an edited file): nothing can be trusted (but what was filed).
            None => tx.execute(&format!("DELETE FROM tax_snapshots WHERE {OPEN}"), [])?,
        };
        if mark != Some(None) {
            // The kept copy of the latest year's events is cut at the same time, in the same
            // transaction: the mark is its only guard too.
            super::event_cache::cut(&tx, mark.flatten())?;
            tx.execute(
                "INSERT OR REPLACE INTO input_changes (id, low_ms, cleared)
                 VALUES (1, NULL, coalesce((SELECT cleared FROM input_changes WHERE id = 1), 0) + 1)",
                [],
            )?;
        }
        let cleared = marks_cleared(&tx)?;
        tx.commit()?;
        Ok(Invalidated { dropped, cleared })
    }

    /// The snapshots of `jurisdiction` and `options` ending at or before `until_ms`, latest
    /// first (heads only).
    pub fn snapshot_heads(
        &self,
        jurisdiction: &str,
        options: &str,
        until_ms: i64,
    ) -> Result<Vec<SnapshotHead>, LedgerError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, year, end_ms, key_hash, events_digest, events, state,
                    EXISTS (SELECT 1 FROM closed_years c WHERE c.snapshot_id = tax_snapshots.id)
             FROM tax_snapshots
             WHERE jurisdiction = ?1 AND options = ?2 AND end_ms <= ?3 ORDER BY end_ms DESC",
        )?;
        let rows = stmt.query_map(params![jurisdiction, options, until_ms], |r| {
            Ok(SnapshotHead {
                id: r.get(0)?,
                jurisdiction: jurisdiction.to_owned(),
                options: options.to_owned(),
                year: r.get(1)?,
                end_ms: r.get(2)?,
                key_hash: r.get(3)?,
                events_digest: r.get(4)?,
                events: r.get::<_, i64>(5)?.max(0) as u64,
                state: r.get(6)?,
                closed: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Removes one snapshot (it no longer fits its inputs); a closed year's stays.
    pub fn delete_snapshot(&mut self, id: i64) -> Result<(), LedgerError> {
        self.conn.execute(&format!("DELETE FROM tax_snapshots WHERE id = ?1 AND {OPEN}"), [id])?;
        Ok(())
    }

    /// How many snapshots are stored (for tests and `--json` notes).
    pub fn snapshot_count(&self) -> Result<i64, LedgerError> {
        Ok(self.conn.query_row("SELECT count(*) FROM tax_snapshots", [], |r| r.get(0))?)
    }

    /// Reads a stored snapshot's lots and balances.
    pub fn load_snapshot(&self, head: SnapshotHead) -> Result<Snapshot, LedgerError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT wallet, asset, method, lot_id, event_id, acquired_ms, amount, basis, basis_missing,
                    price_missing, origin_account, moved, rank_basis
             FROM tax_snapshot_lots WHERE snapshot_id = ?1 ORDER BY seq",
        )?;
        let mut rows = stmt.query([head.id])?;
        let mut lots = Vec::new();
        while let Some(r) = rows.next()? {
            lots.push(SnapshotLot {
                wallet: r.get(0)?,
                asset: r.get(1)?,
                method: r.get(2)?,
                lot_id: r.get(3)?,
                event_id: r.get(4)?,
                acquired_ms: r.get(5)?,
                amount: decimal(&r.get::<_, String>(6)?, "snapshot lot amount")?,
                basis: decimal(&r.get::<_, String>(7)?, "snapshot lot basis")?,
                basis_missing: r.get(8)?,
                price_missing: r.get(9)?,
                origin_account: r.get(10)?,
                moved: r.get(11)?,
                rank: r.get::<_, Option<String>>(12)?.map(|t| decimal(&t, "snapshot lot rank")).transpose()?,
            });
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT account_id, asset, amount FROM tax_snapshot_balances WHERE snapshot_id = ?1
             ORDER BY account_id, asset",
        )?;
        let mut rows = stmt.query([head.id])?;
        let mut balances = Vec::new();
        while let Some(r) = rows.next()? {
            balances.push((r.get(0)?, r.get(1)?, decimal(&r.get::<_, String>(2)?, "snapshot balance")?));
        }
        Ok(Snapshot { head, lots, balances })
    }

    /// Stores snapshots in one transaction, each replacing the one of the same jurisdiction,
    /// options and end (a closed year's is kept instead: it is what was filed); returns the ids
    /// of those stored. `cleared` is [`Invalidated::cleared`] of the invalidation the pass that
    /// made them started after: if the mark was cleared again since, none is stored.
    pub fn store_snapshots(&mut self, snapshots: &[Snapshot], cleared: i64) -> Result<Vec<i64>, LedgerError> {
        let now = Utc::now().to_rfc3339();
        let tx = self.transaction()?;
        let mut ids = Vec::with_capacity(snapshots.len());
        // The mark was cleared since the pass cleared it: by another report, which may have
        // taken a write this pass did not read with it. Nothing computed here is kept.
        if marks_cleared(&tx)? != cleared {
            return Ok(ids);
        }
        for s in snapshots {
            let h = &s.head;
            let filed: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM tax_snapshots t JOIN closed_years c ON c.snapshot_id = t.id
                 WHERE t.jurisdiction = ?1 AND t.options = ?2 AND t.end_ms = ?3)",
                params![h.jurisdiction, h.options, h.end_ms],
                |r| r.get(0),
            )?;
            if filed {
                continue;
            }
            tx.execute(
                "DELETE FROM tax_snapshots WHERE jurisdiction = ?1 AND options = ?2 AND end_ms = ?3",
                params![h.jurisdiction, h.options, h.end_ms],
            )?;
            tx.execute(
                "INSERT INTO tax_snapshots (jurisdiction, options, year, end_ms, key_hash, events_digest, events, state, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    h.jurisdiction,
                    h.options,
                    h.year,
                    h.end_ms,
                    h.key_hash,
                    h.events_digest,
                    i64::try_from(h.events).unwrap_or(i64::MAX),
                    h.state,
                    now
                ],
            )?;
            let id = tx.last_insert_rowid();
            ids.push(id);
            const LOTS: &str =
                "INSERT INTO tax_snapshot_lots (snapshot_id, seq, wallet, asset, method, lot_id, event_id,
                acquired_ms, amount, basis, basis_missing, price_missing, origin_account, moved, rank_basis)";
            let mut full = tx.prepare_cached(&multi_row_insert(LOTS, 15, CHUNK))?;
            for (c, chunk) in s.lots.chunks(CHUNK).enumerate() {
                let rows: Vec<[Value; 15]> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        [
                            id.into(),
                            ((c * CHUNK + i) as i64).into(),
                            l.wallet.into(),
                            l.asset.clone().into(),
                            l.method.clone().into(),
                            l.lot_id.into(),
                            l.event_id.into(),
                            l.acquired_ms.into(),
                            l.amount.to_string().into(),
                            l.basis.to_string().into(),
                            i64::from(l.basis_missing).into(),
                            i64::from(l.price_missing).into(),
                            l.origin_account.into(),
                            i64::from(l.moved).into(),
                            l.rank.map(|r| r.to_string()).into(),
                        ]
                    })
                    .collect();
                let params: Vec<&dyn ToSql> = rows.iter().flatten().map(|v| v as &dyn ToSql).collect();
                write_chunk(&tx, &mut full, LOTS, 15, &params)?;
            }
            let mut insert = tx.prepare_cached(
                "INSERT INTO tax_snapshot_balances (snapshot_id, account_id, asset, amount) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (account, asset, amount) in &s.balances {
                insert.execute(params![id, account, asset, amount.to_string()])?;
            }
        }
        tx.commit()?;
        Ok(ids)
    }

    /// The calendar years (UTC) of the first and the last event (`report --all-years`); `None`
    /// for a ledger without events.
    pub fn event_years(&self) -> Result<Option<(i32, i32)>, LedgerError> {
        let year = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).map(|t| chrono::Datelike::year(&t));
        Ok(self.event_time_bounds()?.and_then(|(first, last)| Some((year(first)?, year(last)?))))
    }

    /// The times (UTC ms) of the first and the last event; `None` for a ledger without events
    /// (`report --all-years` turns them into years of the ledger's time zone).
    pub fn event_time_bounds(&self) -> Result<Option<(i64, i64)>, LedgerError> {
        let (first, last): (Option<i64>, Option<i64>) =
            self.conn.query_row("SELECT min(time_ms), max(time_ms) FROM events", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(first.zip(last))
    }

    /// The earliest event time written since snapshots were last checked (`None`: none).
    pub fn input_changes_low_ms(&self) -> Result<Option<i64>, LedgerError> {
        Ok(self.conn.query_row("SELECT low_ms FROM input_changes WHERE id = 1", [], |r| r.get(0)).optional()?.flatten())
    }
}
