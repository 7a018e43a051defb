//! Year-end snapshots of a tax computation (`schema/0010_snapshots.sql`): stored after a year
//! is computed, dropped when a write touches the history before their end, read back so a
//! later report starts from the latest one instead of the first event.

use chrono::Utc;
use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;

use super::bytes::{Reader, put_decimal, put_decimal_opt, put_i64, put_text};
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
        let mut stmt = self
            .conn
            .prepare_cached("SELECT lots, body FROM tax_snapshot_lot_blocks WHERE snapshot_id = ?1 ORDER BY block")?;
        let mut rows = stmt.query([head.id])?;
        let mut lots = Vec::new();
        while let Some(r) = rows.next()? {
            let count = usize::try_from(r.get::<_, i64>(0)?).ok();
            let body = r.get_ref(1)?.as_blob().ok();
            count.zip(body).and_then(|(count, body)| decode_lots(body, count, &mut lots)).ok_or_else(|| {
                LedgerError::Corrupt(format!(
                    "the lots of the snapshot at the end of {} do not read (run `cointally report --from-scratch`)",
                    head.year
                ))
            })?;
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
            write_lot_blocks(&tx, id, &s.lots)?;
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
        // Two sub-selects: SQLite answers a lone min() or max() from the index on time, but a
        // query holding both scans every event (0.1 s over a million).
        let (first, last): (Option<i64>, Option<i64>) = self.conn.query_row(
            "SELECT (SELECT min(time_ms) FROM events), (SELECT max(time_ms) FROM events)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(first.zip(last))
    }

    /// The earliest event time written since snapshots were last checked (`None`: none).
    pub fn input_changes_low_ms(&self) -> Result<Option<i64>, LedgerError> {
        Ok(self.conn.query_row("SELECT low_ms FROM input_changes WHERE id = 1", [], |r| r.get(0)).optional()?.flatten())
    }
}

/// How many lots one row of `tax_snapshot_lot_blocks` holds (a few hundred KB).
const BLOCK_LOTS: usize = 4096;

/// Writes a snapshot's lots, in order, as blocks of [`BLOCK_LOTS`].
fn write_lot_blocks(tx: &rusqlite::Transaction<'_>, snapshot_id: i64, lots: &[SnapshotLot]) -> Result<(), LedgerError> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO tax_snapshot_lot_blocks (snapshot_id, block, lots, body) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut body = Vec::new();
    for (block, chunk) in lots.chunks(BLOCK_LOTS).enumerate() {
        body.clear();
        for lot in chunk {
            encode_lot(lot, &mut body);
        }
        insert.execute(params![snapshot_id, block as i64, chunk.len() as i64, body])?;
    }
    Ok(())
}

/// Appends a lot: wallet (flag, i64), asset, method, lot id, event id, acquisition time,
/// amount, basis, flags (bit 0 basis missing, 1 price missing, 2 moved), origin account, rank
/// (flag, decimal).
fn encode_lot(lot: &SnapshotLot, out: &mut Vec<u8>) {
    match lot.wallet {
        Some(wallet) => {
            out.push(1);
            put_i64(out, wallet);
        }
        None => out.push(0),
    }
    put_text(out, &lot.asset);
    put_text(out, &lot.method);
    put_i64(out, lot.lot_id);
    put_i64(out, lot.event_id);
    put_i64(out, lot.acquired_ms);
    put_decimal(out, lot.amount);
    put_decimal(out, lot.basis);
    out.push(u8::from(lot.basis_missing) | u8::from(lot.price_missing) << 1 | u8::from(lot.moved) << 2);
    put_i64(out, lot.origin_account);
    put_decimal_opt(out, lot.rank);
}

/// Reads `count` lots written by [`encode_lot`] onto `lots`; `None` unless the body holds
/// exactly that many.
fn decode_lots(body: &[u8], count: usize, lots: &mut Vec<SnapshotLot>) -> Option<()> {
    let mut r = Reader(body);
    lots.reserve(count.min(BLOCK_LOTS));
    for _ in 0..count {
        let wallet = match r.byte()? {
            0 => None,
            1 => Some(r.i64()?),
            _ => return None,
        };
        let asset = r.text()?.to_owned();
        let method = r.text()?.to_owned();
        let (lot_id, event_id, acquired_ms) = (r.i64()?, r.i64()?, r.i64()?);
        let (amount, basis) = (r.decimal()?, r.decimal()?);
        let flags = r.byte()?;
        if flags & !0b111 != 0 {
            return None;
        }
        lots.push(SnapshotLot {
            wallet,
            asset,
            method,
            lot_id,
            event_id,
            acquired_ms,
            amount,
            basis,
            basis_missing: flags & 1 != 0,
            price_missing: flags & 2 != 0,
            origin_account: r.i64()?,
            moved: flags & 4 != 0,
            rank: r.decimal_opt()?,
        });
    }
    r.is_empty().then_some(())
}

/// Part of migration 0029: encodes the lots of the snapshots left (closed years': what was
/// filed) from their rows into blocks, then drops the rows' table.
pub(super) fn lot_rows_to_blocks(tx: &rusqlite::Transaction<'_>) -> Result<(), LedgerError> {
    let ids: Vec<i64> = tx
        .prepare("SELECT id FROM tax_snapshots ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut stmt = tx.prepare(
        "SELECT wallet, asset, method, lot_id, event_id, acquired_ms, amount, basis, basis_missing,
                price_missing, origin_account, moved, rank_basis
         FROM tax_snapshot_lots WHERE snapshot_id = ?1 ORDER BY seq",
    )?;
    for id in ids {
        let mut rows = stmt.query([id])?;
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
        write_lot_blocks(tx, id, &lots)?;
    }
    drop(stmt);
    tx.execute_batch("DROP TABLE tax_snapshot_lots")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::OpenMode;

    fn head(year: i32, end_ms: i64) -> SnapshotHead {
        SnapshotHead {
            id: 0,
            jurisdiction: "us".into(),
            options: "{}".into(),
            year,
            end_ms,
            key_hash: "k".into(),
            events_digest: "0".repeat(64),
            events: 7,
            state: "{}".into(),
            closed: false,
        }
    }

    /// Lots that use every field's range: no wallet and a wallet, each flag, no rank, the
    /// largest and the smallest decimals, a name beyond ASCII.
    fn lots(n: usize) -> Vec<SnapshotLot> {
        (0..n)
            .map(|i| {
                let i64i = i as i64;
                SnapshotLot {
                    wallet: (i % 3 != 0).then_some(i64i % 5),
                    asset: if i % 7 == 0 { "ÉTH".into() } else { format!("A{}", i % 11) },
                    method: ["fifo", "hifo", "lifo"][i % 3].into(),
                    lot_id: i64i,
                    event_id: i64::MAX - i64i,
                    acquired_ms: -i64i * 1_000,
                    amount: if i == 1 { Decimal::MAX } else { Decimal::new(i64i * 12_345 + 1, (i % 28) as u32) },
                    basis: if i == 2 { Decimal::MIN } else { Decimal::new(-i64i, 2) },
                    basis_missing: i % 2 == 0,
                    price_missing: i % 5 == 0,
                    origin_account: i64i % 4,
                    moved: i % 3 == 1,
                    rank: (i % 4 != 0).then(|| Decimal::new(i64i, 8)),
                }
            })
            .collect()
    }

    #[test]
    fn lots_read_back_as_stored_across_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        let cleared = ledger.invalidate_snapshots().unwrap().cleared;
        let stored = lots(2 * BLOCK_LOTS + 3);
        let balances = vec![(1, "BTC".to_string(), Decimal::new(15, 1))];
        let snapshot = Snapshot { head: head(2024, 2_000), lots: stored.clone(), balances: balances.clone() };
        let ids = ledger.store_snapshots(
            &[snapshot, Snapshot { head: head(2023, 1_000), lots: Vec::new(), balances: Vec::new() }],
            cleared,
        );
        assert_eq!(ids.unwrap().len(), 2);
        let blocks: i64 =
            ledger.conn.query_row("SELECT count(*) FROM tax_snapshot_lot_blocks", [], |r| r.get(0)).unwrap();
        assert_eq!(blocks, 3, "two full blocks and the rest; none for a snapshot without lots");
        let heads = ledger.snapshot_heads("us", "{}", i64::MAX).unwrap();
        let read = ledger.load_snapshot(heads[0].clone()).unwrap();
        assert_eq!((read.lots, read.balances), (stored, balances));
        assert!(ledger.load_snapshot(heads[1].clone()).unwrap().lots.is_empty());
    }

    #[test]
    fn a_damaged_block_is_an_error_not_a_panic() {
        let stored = lots(40);
        let mut body = Vec::new();
        for lot in &stored {
            encode_lot(lot, &mut body);
        }
        let mut read = Vec::new();
        assert_eq!(decode_lots(&body, stored.len(), &mut read), Some(()));
        assert_eq!(read, stored);
        // Too many or too few lots for the body, every cut, every byte flipped: never a panic,
        // and a cut or a wrong count never reads.
        assert_eq!(decode_lots(&body, stored.len() + 1, &mut Vec::new()), None);
        assert_eq!(decode_lots(&body, stored.len() - 1, &mut Vec::new()), None);
        for cut in 0..body.len() {
            assert_eq!(decode_lots(&body[..cut], stored.len(), &mut Vec::new()), None, "cut at {cut}");
        }
        for at in 0..body.len() {
            let mut flipped = body.clone();
            flipped[at] ^= 0xFF;
            let _ = decode_lots(&flipped, stored.len(), &mut Vec::new());
        }

        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        let cleared = ledger.invalidate_snapshots().unwrap().cleared;
        let snapshot = Snapshot { head: head(2024, 2_000), lots: stored, balances: Vec::new() };
        ledger.store_snapshots(&[snapshot], cleared).unwrap();
        ledger.conn.execute("UPDATE tax_snapshot_lot_blocks SET body = substr(body, 1, 100)", []).unwrap();
        let heads = ledger.snapshot_heads("us", "{}", i64::MAX).unwrap();
        match ledger.load_snapshot(heads[0].clone()) {
            Err(LedgerError::Corrupt(message)) => {
                assert!(message.contains("end of 2024") && message.contains("--from-scratch"), "{message}")
            }
            other => panic!("a cut block read as {other:?}"),
        }
    }

    /// A ledger of version 28 with a closed year's snapshot (lots as rows) and an open one:
    /// migration 0029 keeps the filed lots, in blocks, and drops the open snapshot and the
    /// rows' table.
    #[test]
    fn the_migration_moves_a_closed_years_lots_into_blocks() {
        let filed = lots(5);
        let (_dir, path) = crate::ledger::ledger_before(
            |m| m == super::super::SNAPSHOT_LOT_BLOCKS,
            |tx| {
                for (id, year) in [(1, 2023), (2, 2024)] {
                    tx.execute(
                    "INSERT INTO tax_snapshots (id, jurisdiction, options, year, end_ms, key_hash, events_digest, events, state, created_at)
                     VALUES (?1, 'us', '{}', ?2, ?2, 'k', 'd', 3, '{}', 'now')",
                    params![id, year],
                )
                .unwrap();
                    for (seq, l) in filed.iter().enumerate() {
                        tx.execute(
                            "INSERT INTO tax_snapshot_lots (snapshot_id, seq, wallet, asset, method, lot_id, event_id,
                         acquired_ms, amount, basis, basis_missing, price_missing, origin_account, moved, rank_basis)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                            params![
                                id,
                                seq as i64,
                                l.wallet,
                                l.asset,
                                l.method,
                                l.lot_id,
                                l.event_id,
                                l.acquired_ms,
                                l.amount.to_string(),
                                l.basis.to_string(),
                                l.basis_missing,
                                l.price_missing,
                                l.origin_account,
                                l.moved,
                                l.rank.map(|r| r.to_string())
                            ],
                        )
                        .unwrap();
                    }
                }
                tx.execute(
                "INSERT INTO closed_years (year, jurisdiction, options, snapshot_id, inputs_hash, report_json,
                 report_text, run_manifest, holdings, closed_at) VALUES (2023, 'us', '{}', 1, 'h', '{}', '', '{}', '{}', 'now')",
                [],
            )
            .unwrap();
            },
        );
        let ledger = Ledger::open(&path, OpenMode::Existing).unwrap();
        let heads = ledger.snapshot_heads("us", "{}", i64::MAX).unwrap();
        assert_eq!(heads.iter().map(|h| (h.id, h.closed)).collect::<Vec<_>>(), [(1, true)]);
        assert_eq!(ledger.load_snapshot(heads[0].clone()).unwrap().lots, filed);
        let old: i64 = ledger
            .conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE name = 'tax_snapshot_lots'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(old, 0);
    }
}
