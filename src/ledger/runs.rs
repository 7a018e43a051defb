//! The stored rows of a computed tax run (disposals, income, year-end holdings): one run per
//! year, replaced by the next computation of that year, written from its first changed row
//! only, with a digest per block of rows so that an unchanged block is neither read nor written.

use std::sync::mpsc;

use chrono::Utc;
use cointally_exchanges::amount::write_amount;
use rusqlite::{OptionalExtension, ToSql, params};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::tax::{Disposal, Holding, IncomeRow, RunRows, text};
use super::writer::{CHUNK, multi_row_insert, write_chunk};
use super::{Ledger, LedgerError};

impl Ledger {
    /// Stores a computed run, replacing the one of its year stored before, in one transaction.
    pub fn store_tax_run(&mut self, run: &RunRows<'_>) -> Result<i64, LedgerError> {
        let ids = self.store_tax_runs(std::slice::from_ref(run))?;
        ids.first().copied().ok_or_else(|| LedgerError::Corrupt("no run stored".into()))
    }

    /// Stores the runs of several years (`report --years`) in one transaction: each replaces
    /// the run of its year stored before; the runs of other years stay (one run per year, the
    /// last computed, each with the hash of the inputs it read).
    ///
    /// A stored run of the same year and options is brought up to date rather than written
    /// again: its rows are compared with the new ones in order, and only those from the first
    /// that differs are replaced. Re-running a report on an unchanged year writes no row; after
    /// a new event late in the year only the rows from that event on are written (most of a
    /// report's time on a large year was writing rows identical to those stored, and deleting
    /// the other years' rows).
    pub fn store_tax_runs(&mut self, runs: &[RunRows<'_>]) -> Result<Vec<i64>, LedgerError> {
        let tx = self.transaction()?;
        let mut ids = Vec::with_capacity(runs.len());
        for run in runs {
            let stored: Vec<(i64, String)> = {
                let mut stmt = tx.prepare_cached("SELECT id, options FROM tax_runs WHERE year = ?1 ORDER BY id")?;
                stmt.query_map([run.year], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?
            };
            let reuse = stored.iter().rev().find(|(_, options)| options == run.options).map(|(id, _)| *id);
            for (id, _) in stored.iter().filter(|(id, _)| Some(*id) != reuse) {
                remove_run(&tx, *id)?;
            }
            ids.push(match reuse {
                Some(id) => {
                    update_run(&tx, id, run)?;
                    id
                }
                None => insert_run(&tx, run)?,
            });
        }
        tx.commit()?;
        Ok(ids)
    }

    /// The stored run of `year`: its id, options and inputs hash, if the year was computed.
    pub fn tax_run(&self, year: i32) -> Result<Option<(i64, String, String)>, LedgerError> {
        Ok(self
            .conn
            .query_row("SELECT id, options, inputs_hash FROM tax_runs WHERE year = ?1", [year], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?)
    }
}

/// Inserts one run and its rows.
fn insert_run(tx: &rusqlite::Transaction<'_>, run: &RunRows<'_>) -> Result<i64, LedgerError> {
    let now = Utc::now().to_rfc3339();
    tx.execute(
        "INSERT INTO tax_runs (year, options, inputs_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![run.year, run.options, run.inputs_hash, now],
    )?;
    let run_id = tx.last_insert_rowid();
    // The rows' block digests are made from the texts written for the inserts.
    let digests = insert_rows(tx, run_id, 0, run.disposals, Digests::Made)?;
    write_blocks(tx, run_id, DISPOSALS, 0, run.disposals.len(), &digests)?;
    let digests = insert_rows(tx, run_id, 0, run.income, Digests::Made)?;
    write_blocks(tx, run_id, INCOME, 0, run.income.len(), &digests)?;
    let digests = insert_rows(tx, run_id, 0, run.holdings, Digests::Made)?;
    write_blocks(tx, run_id, HOLDINGS, 0, run.holdings.len(), &digests)?;
    Ok(run_id)
}

/// Removes a stored run and its rows.
fn remove_run(tx: &rusqlite::Transaction<'_>, run_id: i64) -> Result<(), LedgerError> {
    for table in [DISPOSALS, INCOME, HOLDINGS, "tax_row_blocks"] {
        tx.prepare_cached(&format!("DELETE FROM {table} WHERE run_id = ?1"))?.execute([run_id])?;
    }
    tx.execute("DELETE FROM tax_runs WHERE id = ?1", [run_id])?;
    Ok(())
}

/// Brings stored run `run_id` (same year and options) up to `run`: its hash and time, and each
/// table's rows from the first that differs from the new ones (compared as stored: the same
/// text for every amount), the rows before it left as they are.
fn update_run(tx: &rusqlite::Transaction<'_>, run_id: i64, run: &RunRows<'_>) -> Result<(), LedgerError> {
    tx.execute(
        "UPDATE tax_runs SET inputs_hash = ?2, created_at = ?3 WHERE id = ?1",
        params![run_id, run.inputs_hash, Utc::now().to_rfc3339()],
    )?;
    let mut buf = String::new();
    let mut amounts_match = |stored: &[&str], amounts: &[Decimal]| {
        stored.iter().zip(amounts).all(|(s, a)| {
            buf.clear();
            write_amount(&mut buf, *a);
            buf == *s
        })
    };
    let same = unchanged_rows(
        tx,
        DISPOSALS,
        "SELECT event_id, account_id, kind, asset, amount, acquired_ms, disposed_ms, proceeds, cost_basis, NULL,
                term, lot_event_id, basis_missing, price_missing
         FROM tax_disposals WHERE run_id = ?1 AND seq >= ?2 ORDER BY seq",
        run_id,
        run.disposals,
        |r, d| {
            Ok(r.get::<_, i64>(0)? == d.event_id
                && r.get::<_, i64>(1)? == d.account_id
                && text(r, 2)? == d.kind.as_str()
                && text(r, 3)? == d.asset
                && r.get::<_, i64>(5)? == d.acquired_ms
                && r.get::<_, i64>(6)? == d.disposed_ms
                && text(r, 10)? == d.term.as_str()
                && r.get::<_, Option<i64>>(11)? == d.lot_event_id
                && r.get::<_, bool>(12)? == d.basis_missing
                && r.get::<_, bool>(13)? == d.price_missing
                // `gain` is written from proceeds and basis, so it is the same when they are.
                && amounts_match(&[text(r, 4)?, text(r, 7)?, text(r, 8)?], &[d.amount, d.proceeds, d.cost_basis]))
        },
    )?;
    replace_from(tx, DISPOSALS, run_id, same)?;
    insert_rows(tx, run_id, same, &run.disposals[same..], Digests::Known)?;
    let same = unchanged_rows(
        tx,
        INCOME,
        "SELECT event_id, account_id, kind, asset, amount, received_ms, value, price_missing
         FROM tax_income WHERE run_id = ?1 AND seq >= ?2 ORDER BY seq",
        run_id,
        run.income,
        |r, i| {
            Ok(r.get::<_, i64>(0)? == i.event_id
                && r.get::<_, i64>(1)? == i.account_id
                && text(r, 2)? == i.kind.as_str()
                && text(r, 3)? == i.asset
                && r.get::<_, i64>(5)? == i.received_ms
                && r.get::<_, bool>(7)? == i.price_missing
                && amounts_match(&[text(r, 4)?, text(r, 6)?], &[i.amount, i.value]))
        },
    )?;
    replace_from(tx, INCOME, run_id, same)?;
    insert_rows(tx, run_id, same, &run.income[same..], Digests::Known)?;
    let same = unchanged_rows(
        tx,
        HOLDINGS,
        "SELECT lot_event_id, account_id, asset, amount, acquired_ms, cost_basis, basis_missing
         FROM tax_holdings WHERE run_id = ?1 AND seq >= ?2 ORDER BY seq",
        run_id,
        run.holdings,
        |r, h| {
            Ok(r.get::<_, i64>(0)? == h.lot_event_id
                && r.get::<_, Option<i64>>(1)? == h.account_id
                && text(r, 2)? == h.asset
                && r.get::<_, i64>(4)? == h.acquired_ms
                && r.get::<_, bool>(6)? == h.basis_missing
                && amounts_match(&[text(r, 3)?, text(r, 5)?], &[h.amount, h.cost_basis]))
        },
    )?;
    replace_from(tx, HOLDINGS, run_id, same)?;
    insert_rows(tx, run_id, same, &run.holdings[same..], Digests::Known)?;
    Ok(())
}

/// The tables of a run's rows.
const DISPOSALS: &str = "tax_disposals";
const INCOME: &str = "tax_income";
const HOLDINGS: &str = "tax_holdings";

/// Rows per digest block (`tax_row_blocks`).
const BLOCK: usize = 1024;

fn digest_text(hasher: &mut Sha256, text: &str) {
    hasher.update((text.len() as u64).to_le_bytes());
    hasher.update(text.as_bytes());
}

/// One digest per [`BLOCK`] rows of `rows`, in order; a year of many rows is hashed on two
/// threads (the second half of the blocks beside the first: the other core is idle then).
fn block_digests<T: StoredRow + Sync>(rows: &[T]) -> Vec<[u8; 32]> {
    let blocks = rows.len().div_ceil(BLOCK);
    if blocks < 16 {
        return digests_of(rows);
    }
    let (head, tail) = rows.split_at(blocks / 2 * BLOCK);
    std::thread::scope(|scope| {
        let tail = scope.spawn(|| digests_of(tail));
        let mut digests = digests_of(head);
        digests.extend(tail.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        digests
    })
}

/// [`block_digests`] on this thread.
fn digests_of<T: StoredRow>(rows: &[T]) -> Vec<[u8; 32]> {
    let mut texts = vec![String::new(); T::TEXTS];
    rows.chunks(BLOCK)
        .map(|block| {
            let mut hasher = Sha256::new();
            for row in block {
                texts.iter_mut().for_each(String::clear);
                row.write_texts(&mut texts);
                row.digest(&mut hasher, &texts);
            }
            hasher.finalize().into()
        })
        .collect()
}

/// Writes the digests of blocks `first..` of `table`'s rows of run `run_id`, which holds
/// `total` rows (the last block what is left of them); the stored blocks from `first` on go.
fn write_blocks(
    tx: &rusqlite::Transaction<'_>,
    run_id: i64,
    table: &str,
    first: usize,
    total: usize,
    digests: &[[u8; 32]],
) -> Result<(), LedgerError> {
    tx.prepare_cached("DELETE FROM tax_row_blocks WHERE run_id = ?1 AND tbl = ?2 AND block >= ?3")?
        .execute(params![run_id, table, first as i64])?;
    let mut insert =
        tx.prepare_cached("INSERT INTO tax_row_blocks (run_id, tbl, block, rows, digest) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    for (block, digest) in digests.iter().enumerate().skip(first) {
        let rows = total.saturating_sub(block * BLOCK).min(BLOCK) as i64;
        insert.execute(params![run_id, table, block as i64, rows, &digest[..]])?;
    }
    Ok(())
}

/// How many of `rows` equal `table`'s stored rows of run `run_id`, in order, and brings the
/// table's block digests up to date for the rows as they will be (the caller replaces the
/// rows from the count returned on).
///
/// The blocks whose digests (and sizes) equal the new rows' are taken as equal without
/// reading them; the rows from the first block that differs are read back and compared one
/// by one (`query`, bound to the run and the first row's `seq`). Without stored digests (a
/// run stored before them), or when they do not cover the stored rows exactly, every row is
/// compared.
fn unchanged_rows<T: StoredRow + Sync>(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    query: &str,
    run_id: i64,
    rows: &[T],
    same: impl FnMut(&rusqlite::Row<'_>, &T) -> Result<bool, LedgerError>,
) -> Result<usize, LedgerError> {
    let digests = block_digests(rows);
    let stored: Vec<(i64, Vec<u8>)> = tx
        .prepare_cached("SELECT rows, digest FROM tax_row_blocks WHERE run_id = ?1 AND tbl = ?2 ORDER BY block")?
        .query_map(params![run_id, table], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let stored_rows: i64 = tx
        .prepare_cached(&format!("SELECT COALESCE(max(seq) + 1, 0) FROM {table} WHERE run_id = ?1"))?
        .query_row([run_id], |r| r.get(0))?;
    let covered = stored.iter().map(|(n, _)| *n).sum::<i64>() == stored_rows;
    let blocks_same = if covered {
        stored
            .iter()
            .zip(rows.chunks(BLOCK).zip(&digests))
            .take_while(|((n, stored), (block, digest))| *n == block.len() as i64 && stored[..] == digest[..])
            .count()
    } else {
        0
    };
    let from = (blocks_same * BLOCK).min(rows.len());
    let same = from + first_difference(tx, query, run_id, from, rows.get(from..).unwrap_or_default(), same)?;
    // The blocks from the first whose digest changes are written anew (none when the rows
    // are the same; all when the stored ones did not cover the rows).
    if !covered || blocks_same < digests.len() || stored.len() != digests.len() {
        write_blocks(tx, run_id, table, blocks_same, rows.len(), &digests)?;
    }
    Ok(same)
}

/// How many of `rows` equal the stored rows `query` (bound to `run_id` and the first row's
/// `seq`, `from`) gives in order.
fn first_difference<T>(
    tx: &rusqlite::Transaction<'_>,
    query: &str,
    run_id: i64,
    from: usize,
    rows: &[T],
    mut same: impl FnMut(&rusqlite::Row<'_>, &T) -> Result<bool, LedgerError>,
) -> Result<usize, LedgerError> {
    let mut stmt = tx.prepare_cached(query)?;
    let mut stored = stmt.query(params![run_id, from as i64])?;
    let mut n = 0;
    while let (Some(new), Some(old)) = (rows.get(n), stored.next()?) {
        if !same(old, new)? {
            break;
        }
        n += 1;
    }
    Ok(n)
}

fn replace_from(tx: &rusqlite::Transaction<'_>, table: &str, run_id: i64, from: usize) -> Result<(), LedgerError> {
    tx.prepare_cached(&format!("DELETE FROM {table} WHERE run_id = ?1 AND seq >= ?2"))?
        .execute(params![run_id, from as i64])?;
    Ok(())
}

/// A row of a run as it is stored: how it is inserted (its table's INSERT head and how one
/// row binds: the amounts and names written as text into buffers reused from chunk to chunk,
/// every other value bound from the row itself, no copy, no allocation per row), and how it is
/// fed to its block's digest.
trait StoredRow {
    /// `INSERT INTO table (columns)`.
    const HEAD: &'static str;
    /// Columns, the run id and the row's number first.
    const COLUMNS: usize;
    /// How many of them are text written for the insert.
    const TEXTS: usize;

    /// Writes the row's text columns into `texts` (`TEXTS` of them, empty).
    fn write_texts(&self, texts: &mut [String]);

    /// Binds the row: `ids` are its run id and number, `texts` what [`StoredRow::write_texts`]
    /// wrote.
    fn bind<'a>(&'a self, ids: &'a [i64; 2], texts: &'a [String], params: &mut Vec<&'a dyn ToSql>);

    /// Feeds the row to a block's digest: every column the row's comparison reads, each amount
    /// as the text stored (`texts`, as [`StoredRow::write_texts`] wrote them), each string with
    /// its length (so no two rows hash alike).
    fn digest(&self, hasher: &mut Sha256, texts: &[String]);
}

impl StoredRow for Disposal {
    const HEAD: &'static str = "INSERT INTO tax_disposals (run_id, seq, event_id, account_id, kind, asset, amount,
            acquired_ms, disposed_ms, proceeds, cost_basis, gain, term, lot_event_id, basis_missing, price_missing)";
    const COLUMNS: usize = 16;
    const TEXTS: usize = 6;

    fn write_texts(&self, texts: &mut [String]) {
        for (text, amount) in texts.iter_mut().zip([self.amount, self.proceeds, self.cost_basis, self.gain()]) {
            write_amount(text, amount);
        }
        texts[4].push_str(self.kind.as_str());
        texts[5].push_str(self.term.as_str());
    }

    fn bind<'a>(&'a self, ids: &'a [i64; 2], t: &'a [String], params: &mut Vec<&'a dyn ToSql>) {
        params.extend_from_slice(&[
            &ids[0] as &dyn ToSql,
            &ids[1],
            &self.event_id,
            &self.account_id,
            &t[4],
            &self.asset,
            &t[0],
            &self.acquired_ms,
            &self.disposed_ms,
            &t[1],
            &t[2],
            &t[3],
            &t[5],
            &self.lot_event_id,
            &self.basis_missing,
            &self.price_missing,
        ]);
    }

    fn digest(&self, hasher: &mut Sha256, texts: &[String]) {
        for n in [self.event_id, self.account_id, self.acquired_ms, self.disposed_ms, self.lot_event_id.unwrap_or(-1)] {
            hasher.update(n.to_le_bytes());
        }
        hasher.update([
            u8::from(self.lot_event_id.is_some()),
            u8::from(self.basis_missing),
            u8::from(self.price_missing),
        ]);
        digest_text(hasher, self.kind.as_str());
        digest_text(hasher, &self.asset);
        digest_text(hasher, self.term.as_str());
        // The amount, proceeds and cost basis (the gain follows from them).
        for amount in &texts[..3] {
            digest_text(hasher, amount);
        }
    }
}

impl StoredRow for IncomeRow {
    const HEAD: &'static str = "INSERT INTO tax_income (run_id, seq, event_id, account_id, kind, asset, amount,
            received_ms, value, price_missing)";
    const COLUMNS: usize = 10;
    const TEXTS: usize = 3;

    fn write_texts(&self, texts: &mut [String]) {
        write_amount(&mut texts[0], self.amount);
        write_amount(&mut texts[1], self.value);
        texts[2].push_str(self.kind.as_str());
    }

    fn bind<'a>(&'a self, ids: &'a [i64; 2], t: &'a [String], params: &mut Vec<&'a dyn ToSql>) {
        params.extend_from_slice(&[
            &ids[0] as &dyn ToSql,
            &ids[1],
            &self.event_id,
            &self.account_id,
            &t[2],
            &self.asset,
            &t[0],
            &self.received_ms,
            &t[1],
            &self.price_missing,
        ]);
    }

    fn digest(&self, hasher: &mut Sha256, texts: &[String]) {
        for n in [self.event_id, self.account_id, self.received_ms] {
            hasher.update(n.to_le_bytes());
        }
        hasher.update([u8::from(self.price_missing)]);
        digest_text(hasher, self.kind.as_str());
        digest_text(hasher, &self.asset);
        for amount in &texts[..2] {
            digest_text(hasher, amount);
        }
    }
}

impl StoredRow for Holding {
    const HEAD: &'static str = "INSERT INTO tax_holdings (run_id, seq, lot_event_id, account_id, asset, amount,
            acquired_ms, cost_basis, basis_missing)";
    const COLUMNS: usize = 9;
    const TEXTS: usize = 2;

    fn write_texts(&self, texts: &mut [String]) {
        write_amount(&mut texts[0], self.amount);
        write_amount(&mut texts[1], self.cost_basis);
    }

    fn bind<'a>(&'a self, ids: &'a [i64; 2], t: &'a [String], params: &mut Vec<&'a dyn ToSql>) {
        params.extend_from_slice(&[
            &ids[0] as &dyn ToSql,
            &ids[1],
            &self.lot_event_id,
            &self.account_id,
            &self.asset,
            &t[0],
            &self.acquired_ms,
            &t[1],
            &self.basis_missing,
        ]);
    }

    fn digest(&self, hasher: &mut Sha256, texts: &[String]) {
        for n in [self.lot_event_id, self.account_id.unwrap_or(-1), self.acquired_ms] {
            hasher.update(n.to_le_bytes());
        }
        hasher.update([u8::from(self.account_id.is_some()), u8::from(self.basis_missing)]);
        digest_text(hasher, &self.asset);
        for amount in &texts[..2] {
            digest_text(hasher, amount);
        }
    }
}

/// Whether [`insert_rows`] makes the block digests of the rows it inserts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Digests {
    /// Made from the texts written for the inserts (the rows are a whole table, from row 0).
    Made,
    /// Made before (the rows are the tail of a table being brought up to date).
    Known,
}

/// Inserts `rows` as rows `first..` of run `run_id`: multi-row INSERTs, as the writer does (a
/// year's disposals, and the lots held at its end, are the bulk of a run). The rows' texts
/// (every amount written out) are made on a second thread a chunk ahead of this one, which
/// binds and steps; with [`Digests::Made`] that thread also hashes each block from those texts
/// and the digests are returned (empty otherwise).
fn insert_rows<T: StoredRow + Sync>(
    tx: &rusqlite::Transaction<'_>,
    run_id: i64,
    first: usize,
    rows: &[T],
    digests: Digests,
) -> Result<Vec<[u8; 32]>, LedgerError> {
    let mut full = tx.prepare_cached(&multi_row_insert(T::HEAD, T::COLUMNS, CHUNK))?;
    std::thread::scope(|scope| {
        let (filled, take) = mpsc::sync_channel::<Vec<String>>(1);
        let (spent, refill) = mpsc::channel::<Vec<String>>();
        for _ in 0..2 {
            let _ = spent.send(vec![String::new(); T::TEXTS * CHUNK]);
        }
        let writing = scope.spawn(move || {
            let mut made = Vec::new();
            let mut hasher = Sha256::new();
            let mut hashed = 0;
            for chunk in rows.chunks(CHUNK) {
                // This thread stops when the inserting one does (an error).
                let Ok(mut texts) = refill.recv() else { break };
                for (row, texts) in chunk.iter().zip(texts.chunks_mut(T::TEXTS)) {
                    texts.iter_mut().for_each(String::clear);
                    row.write_texts(texts);
                    if digests == Digests::Made {
                        row.digest(&mut hasher, texts);
                        hashed += 1;
                        if hashed == BLOCK {
                            made.push(hasher.finalize_reset().into());
                            hashed = 0;
                        }
                    }
                }
                if filled.send(texts).is_err() {
                    break;
                }
            }
            if hashed > 0 {
                made.push(hasher.finalize().into());
            }
            made
        });
        let mut ids: Vec<[i64; 2]> = Vec::with_capacity(CHUNK);
        let mut inserted = Ok(());
        for (c, chunk) in rows.chunks(CHUNK).enumerate() {
            let Ok(texts) = take.recv() else { break };
            ids.clear();
            ids.extend((0..chunk.len()).map(|i| [run_id, (first + c * CHUNK + i) as i64]));
            let mut params: Vec<&dyn ToSql> = Vec::with_capacity(T::COLUMNS * chunk.len());
            for ((row, ids), texts) in chunk.iter().zip(&ids).zip(texts.chunks(T::TEXTS)) {
                row.bind(ids, texts, &mut params);
            }
            let written = write_chunk(tx, &mut full, T::HEAD, T::COLUMNS, &params);
            drop(params);
            if let Err(error) = written {
                inserted = Err(error);
                break;
            }
            let _ = spent.send(texts);
        }
        drop((take, spent));
        let made = writing.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        inserted.map(|()| made)
    })
}

#[cfg(test)]
mod tests {
    use cointally_exchanges::EventKind;
    use cointally_exchanges::amount::format_amount;

    use super::*;
    use crate::ledger::OpenMode;
    use crate::ledger::tax::{DisposalKind, Term};

    #[test]
    fn a_stored_run_reads_back_row_for_row_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        let disposal = |i: i64| Disposal {
            event_id: i,
            account_id: 1,
            kind: if i % 2 == 0 { DisposalKind::Sale } else { DisposalKind::Fee },
            asset: "BTC".into(),
            amount: Decimal::new(i, 3),
            acquired_ms: i,
            disposed_ms: i + 1,
            proceeds: Decimal::new(i * 7, 2),
            cost_basis: Decimal::new(i * 5, 2),
            term: Term::Short,
            lot_event_id: (i % 3 != 0).then_some(i - 1),
            basis_missing: i % 3 == 0,
            price_missing: false,
            acquired_here: true,
        };
        // Two full chunks and a part of one.
        let disposals: Vec<Disposal> = (1..=(2 * CHUNK as i64 + 37)).map(disposal).collect();
        let holdings: Vec<Holding> = (1..=(CHUNK as i64 + 5)).map(sample_holding).collect();
        let rows = RunRows {
            year: 2025,
            options: "{}",
            inputs_hash: "h",
            disposals: &disposals,
            income: &[],
            holdings: &holdings,
        };
        ledger.store_tax_run(&rows).unwrap();
        let run = ledger.store_tax_run(&rows).unwrap();
        let mut stmt = ledger
            .conn
            .prepare(
                "SELECT seq, event_id, kind, amount, proceeds, cost_basis, gain, lot_event_id, basis_missing
                 FROM tax_disposals WHERE run_id = ?1 ORDER BY seq",
            )
            .unwrap();
        type Stored = (i64, i64, String, String, String, String, String, Option<i64>, bool);
        let stored: Vec<Stored> = stmt
            .query_map([run], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(stored.len(), disposals.len(), "a second store replaces the first");
        for (seq, (row, d)) in stored.iter().zip(&disposals).enumerate() {
            let want = (
                seq as i64,
                d.event_id,
                d.kind.as_str().to_owned(),
                format_amount(d.amount),
                format_amount(d.proceeds),
                format_amount(d.cost_basis),
                format_amount(d.gain()),
                d.lot_event_id,
                d.basis_missing,
            );
            assert_eq!(*row, want);
        }
        let mut stmt = ledger
            .conn
            .prepare(
                "SELECT seq, lot_event_id, account_id, asset, amount, acquired_ms, cost_basis, basis_missing
                 FROM tax_holdings WHERE run_id = ?1 ORDER BY seq",
            )
            .unwrap();
        type Held = (i64, i64, Option<i64>, String, String, i64, String, bool);
        let held: Vec<Held> = stmt
            .query_map([run], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let want: Vec<Held> = holdings
            .iter()
            .enumerate()
            .map(|(seq, h)| {
                let (amount, basis) = (format_amount(h.amount), format_amount(h.cost_basis));
                (
                    seq as i64,
                    h.lot_event_id,
                    h.account_id,
                    h.asset.clone(),
                    amount,
                    h.acquired_ms,
                    basis,
                    h.basis_missing,
                )
            })
            .collect();
        assert_eq!(held, want);
    }

    fn sample_disposal(i: i64) -> Disposal {
        Disposal {
            event_id: i,
            account_id: 1 + i % 2,
            kind: if i % 5 == 0 { DisposalKind::Fee } else { DisposalKind::Sale },
            asset: if i % 3 == 0 { "ETH".into() } else { "BTC".into() },
            amount: Decimal::new(i, 3),
            acquired_ms: i,
            disposed_ms: i + 1,
            proceeds: Decimal::new(i * 7, 2),
            cost_basis: Decimal::new(i * 5, 2),
            term: if i % 4 == 0 { Term::Long } else { Term::Short },
            lot_event_id: (i % 3 != 0).then_some(i - 1),
            basis_missing: i % 3 == 0,
            price_missing: i % 7 == 0,
            acquired_here: true,
        }
    }

    fn sample_income(i: i64) -> IncomeRow {
        IncomeRow {
            event_id: i,
            account_id: 1,
            kind: EventKind::Staking,
            asset: "ETH".into(),
            amount: Decimal::new(i, 4),
            received_ms: i,
            value: Decimal::new(i * 3, 2),
            price_missing: false,
        }
    }

    fn sample_holding(i: i64) -> Holding {
        Holding {
            lot_event_id: i,
            account_id: (i % 2 == 0).then_some(1),
            asset: "BTC".into(),
            amount: Decimal::new(i, 2),
            acquired_ms: i,
            cost_basis: Decimal::new(i * 11, 2),
            basis_missing: false,
        }
    }

    /// Every stored row of every run, as text, in (run, seq) order: what a reader of the
    /// stored rows sees.
    fn stored_rows(ledger: &Ledger) -> Vec<String> {
        let mut out = Vec::new();
        for (table, columns) in [
            (
                "tax_disposals",
                "event_id, account_id, kind, asset, amount, acquired_ms, disposed_ms, proceeds, cost_basis, gain, term, lot_event_id, basis_missing, price_missing",
            ),
            ("tax_income", "event_id, account_id, kind, asset, amount, received_ms, value, price_missing"),
            ("tax_holdings", "lot_event_id, account_id, asset, amount, acquired_ms, cost_basis, basis_missing"),
        ] {
            let mut stmt = ledger
                .conn
                .prepare(&format!(
                    "SELECT r.year, t.seq, json_array(r.options, r.inputs_hash, {columns}) FROM {table} t JOIN tax_runs r ON r.id = t.run_id
                     ORDER BY r.year, t.seq"
                ))
                .unwrap();
            let rows = stmt
                .query_map([], |r| {
                    Ok(format!("{table} {} {} {}", r.get::<_, i32>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?))
                })
                .unwrap();
            out.extend(rows.map(Result::unwrap));
        }
        out
    }

    /// What storing `runs` into an empty ledger leaves: the reference the diff must reach.
    fn stored_fresh(runs: &[RunRows<'_>]) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        ledger.store_tax_runs(runs).unwrap();
        stored_rows(&ledger)
    }

    /// Storing a run of a year that is stored already writes only the rows from the first that
    /// differs, and leaves exactly what storing it into an empty ledger would.
    #[test]
    fn a_stored_run_of_the_same_year_is_updated_from_its_first_changed_row_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        let mut disposals: Vec<Disposal> = (1..=(CHUNK as i64 + 50)).map(sample_disposal).collect();
        let mut income: Vec<IncomeRow> = (1..=20).map(sample_income).collect();
        let holdings: Vec<Holding> = (1..=30).map(sample_holding).collect();
        let first = ledger
            .store_tax_run(&RunRows {
                year: 2025,
                options: "{}",
                inputs_hash: "a",
                disposals: &disposals,
                income: &income,
                holdings: &holdings,
            })
            .unwrap();

        // The same rows again: the run is kept and no row is written (one change: the run's hash
        // and time).
        let before = ledger.conn.total_changes();
        let again = ledger
            .store_tax_run(&RunRows {
                year: 2025,
                options: "{}",
                inputs_hash: "b",
                disposals: &disposals,
                income: &income,
                holdings: &holdings,
            })
            .unwrap();
        assert_eq!(again, first, "the stored run of the year is kept");
        assert_eq!(ledger.conn.total_changes() - before, 1, "only the run's hash and time are written");
        assert_eq!(ledger.tax_run(2025).unwrap().map(|r| r.2), Some("b".to_owned()));

        // A change near the end (a new event late in the year): the rows from it on are
        // replaced, the ones before stay.
        let at = disposals.len() - 3;
        disposals[at].proceeds += Decimal::ONE;
        disposals.push(sample_disposal(9_999));
        income.truncate(15);
        let before = ledger.conn.total_changes();
        let rows = RunRows {
            year: 2025,
            options: "{}",
            inputs_hash: "c",
            disposals: &disposals,
            income: &income,
            holdings: &holdings,
        };
        ledger.store_tax_run(&rows).unwrap();
        // 1 run update + 3 old disposals deleted + 4 inserted + 5 income deleted, and the
        // digest of the one block of each (deleted and written again).
        assert_eq!(ledger.conn.total_changes() - before, 1 + 3 + 4 + 5 + 2 + 2);
        assert_eq!(stored_rows(&ledger), stored_fresh(&[rows]));

        // Other options are another run: written whole, the old one removed.
        let rows = RunRows {
            year: 2025,
            options: "{\"method\":\"hifo\"}",
            inputs_hash: "d",
            disposals: &disposals,
            income: &income,
            holdings: &holdings,
        };
        ledger.store_tax_run(&rows).unwrap();
        assert_eq!(ledger.tax_run(2025).unwrap().map(|r| r.1), Some("{\"method\":\"hifo\"}".to_owned()));
        assert_eq!(stored_rows(&ledger), stored_fresh(&[rows]));
    }

    /// Over several blocks of rows, only the rows and digests from the first changed block on
    /// are read and written; without digests (a run stored before them) every row is
    /// compared, with the same result, and the digests are there afterwards. The rows and
    /// digests left are always those a store into an empty ledger writes.
    #[test]
    fn an_insert_that_fails_mid_table_stops_its_text_thread_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        let disposals: Vec<Disposal> = (1..=(5 * CHUNK as i64)).map(sample_disposal).collect();
        let tx = ledger.transaction().unwrap();
        let digests = insert_rows(&tx, 7, 0, &disposals, Digests::Made).unwrap();
        assert_eq!(digests, digests_of(&disposals), "the digests made beside the inserts are the blocks'");
        // Run 8's rows 3 * CHUNK.. exist: the fourth chunk's insert fails, with the text
        // thread ahead of it; the insert returns the error (rather than waiting on that thread).
        assert!(insert_rows(&tx, 8, 3 * CHUNK, &disposals[..CHUNK], Digests::Known).unwrap().is_empty());
        let error = insert_rows(&tx, 8, 0, &disposals, Digests::Made).unwrap_err().to_string();
        assert!(error.contains("UNIQUE"), "{error}");
        let stored: i64 =
            tx.query_row("SELECT count(*) FROM tax_disposals WHERE run_id = 8", [], |r| r.get(0)).unwrap();
        assert_eq!(stored, 4 * CHUNK as i64, "three chunks before the failing one, and the one there before");
    }

    #[test]
    fn the_rows_of_unchanged_blocks_are_neither_read_nor_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        let mut disposals: Vec<Disposal> = (1..=3000).map(sample_disposal).collect();
        let run = |hash: &'static str, d: &[Disposal]| -> (Vec<String>, Vec<Block>) {
            let rows =
                RunRows { year: 2025, options: "{}", inputs_hash: hash, disposals: d, income: &[], holdings: &[] };
            let dir = tempfile::tempdir().unwrap();
            let mut fresh = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
            fresh.store_tax_run(&rows).unwrap();
            (stored_rows(&fresh), blocks(&fresh))
        };
        let store = |ledger: &mut Ledger, hash: &'static str, d: &[Disposal]| {
            let before = ledger.conn.total_changes();
            let rows =
                RunRows { year: 2025, options: "{}", inputs_hash: hash, disposals: d, income: &[], holdings: &[] };
            ledger.store_tax_run(&rows).unwrap();
            ledger.conn.total_changes() - before
        };
        store(&mut ledger, "a", &disposals);
        assert_eq!(blocks(&ledger).len(), 3, "3,000 rows are three blocks of 1,024");

        // A change in the third block: its 500 rows from the change on are replaced, and its
        // digest (deleted and written again); the first two blocks are not touched.
        disposals[2500].cost_basis += Decimal::ONE;
        assert_eq!(store(&mut ledger, "b", &disposals), 1 + 500 + 500 + 2);
        assert_eq!((stored_rows(&ledger), blocks(&ledger)), run("b", &disposals));

        // A change in the second block: rows 1500.. and blocks 1 and 2 again.
        disposals[1500].amount += Decimal::ONE;
        assert_eq!(store(&mut ledger, "c", &disposals), 1 + 1500 + 1500 + 4);
        assert_eq!((stored_rows(&ledger), blocks(&ledger)), run("c", &disposals));

        // A run without digests: every row compared once, the same result, digests written.
        ledger.conn.execute("DELETE FROM tax_row_blocks", []).unwrap();
        disposals[10].proceeds += Decimal::ONE;
        store(&mut ledger, "d", &disposals);
        assert_eq!((stored_rows(&ledger), blocks(&ledger)), run("d", &disposals));

        // Digests that do not cover the stored rows (one block lost) are not trusted.
        ledger.conn.execute("DELETE FROM tax_row_blocks WHERE block = 1", []).unwrap();
        disposals[1200].proceeds += Decimal::ONE;
        store(&mut ledger, "e", &disposals);
        assert_eq!((stored_rows(&ledger), blocks(&ledger)), run("e", &disposals));

        // Fewer rows than stored: the rows and the blocks past the end go.
        disposals.truncate(1100);
        store(&mut ledger, "f", &disposals);
        assert_eq!((stored_rows(&ledger), blocks(&ledger)), run("f", &disposals));
        assert_eq!(blocks(&ledger).len(), 2);

        // Unchanged: nothing but the run's hash and time.
        assert_eq!(store(&mut ledger, "g", &disposals), 1);
    }

    /// A stored block digest: table, block, rows, digest.
    type Block = (String, i64, i64, Vec<u8>);

    /// The stored block digests.
    fn blocks(ledger: &Ledger) -> Vec<Block> {
        let mut stmt =
            ledger.conn.prepare("SELECT tbl, block, rows, digest FROM tax_row_blocks ORDER BY tbl, block").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect()
    }

    /// Several years: each year keeps the run last stored for it (other years' runs stay), and
    /// the rows are those that storing each year's last run into an empty ledger leaves.
    #[test]
    fn each_year_keeps_the_run_last_stored_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        let d: Vec<Vec<Disposal>> =
            (0..4).map(|y| (1..=(10 + y)).map(|i| sample_disposal(i + 100 * y)).collect()).collect();
        let year = |y: usize, options: &'static str, hash: &'static str, rows: usize| RunRows {
            year: 2022 + y as i32,
            options,
            inputs_hash: hash,
            disposals: &d[y][..rows],
            income: &[],
            holdings: &[],
        };
        let mut last: std::collections::BTreeMap<i32, RunRows<'_>> = std::collections::BTreeMap::new();
        for runs in [
            vec![year(1, "{}", "x", 10), year(2, "{}", "x", 12)],
            vec![year(1, "{}", "y", 11), year(2, "{}", "y", 12)],
            vec![year(0, "{}", "z", 10), year(1, "{}", "z", 11), year(2, "{}", "z", 5)],
            vec![year(2, "{\"method\":\"hifo\"}", "w", 12)],
            vec![year(2, "{}", "v", 12), year(3, "{}", "v", 13)],
            vec![year(3, "{}", "u", 2)],
        ] {
            ledger.store_tax_runs(&runs).unwrap();
            for run in &runs {
                last.insert(run.year, *run);
            }
            let want: Vec<RunRows<'_>> = last.values().copied().collect();
            assert_eq!(
                stored_rows(&ledger),
                stored_fresh(&want),
                "after storing {:?}",
                runs.iter().map(|r| r.year).collect::<Vec<_>>()
            );
        }
        assert_eq!(ledger.tax_run(2025).unwrap().map(|r| r.2), Some("u".to_owned()));
        assert_eq!(ledger.tax_run(2021).unwrap(), None);
    }
}
