//! The stored rows of a computed tax run (disposals, income, year-end holdings): one run per
//! year, replaced by the next computation of that year. The rows are kept in blocks of 1,024,
//! each a JSON array of rows with the SHA-256 of its text (`tax_row_blocks`, migration 0031; the
//! views `tax_disposals`, `tax_income` and `tax_holdings` show them as rows), so that a report
//! of a year already stored writes only the blocks from the first that changed.

use std::fmt::Write as _;
use std::sync::mpsc;

use chrono::Utc;
use cointally_exchanges::amount::write_amount;
use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::tax::{Disposal, Holding, IncomeRow, RunRows};
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
    /// again: the new rows' blocks are compared with the stored ones by digest, and only the
    /// blocks from the first that differs are replaced. Re-running a report on an unchanged
    /// year writes no row; after a new event late in the year only the blocks from that event
    /// on are written.
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
            let id = match reuse {
                Some(id) => {
                    tx.execute(
                        "UPDATE tax_runs SET inputs_hash = ?2, created_at = ?3 WHERE id = ?1",
                        params![id, run.inputs_hash, Utc::now().to_rfc3339()],
                    )?;
                    id
                }
                None => {
                    tx.execute(
                        "INSERT INTO tax_runs (year, options, inputs_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                        params![run.year, run.options, run.inputs_hash, Utc::now().to_rfc3339()],
                    )?;
                    tx.last_insert_rowid()
                }
            };
            store_blocks(&tx, id, run.disposals)?;
            store_blocks(&tx, id, run.income)?;
            store_blocks(&tx, id, run.holdings)?;
            ids.push(id);
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

/// Removes a stored run and its rows.
fn remove_run(tx: &rusqlite::Transaction<'_>, run_id: i64) -> Result<(), LedgerError> {
    tx.prepare_cached("DELETE FROM tax_row_blocks WHERE run_id = ?1")?.execute([run_id])?;
    tx.execute("DELETE FROM tax_runs WHERE id = ?1", [run_id])?;
    Ok(())
}

/// Rows per block (`tax_row_blocks`; the views number a block's first row `block * 1024`).
const BLOCK: usize = 1024;

/// Brings run `run_id`'s blocks of `T` rows to `rows`: the blocks whose digest (and size) equal
/// the stored ones are left as they are, and from the first that differs every stored block is
/// replaced (those past the new end removed).
///
/// Each block's JSON text and digest are made on a second thread, a block or two ahead of this
/// one, which compares and inserts.
fn store_blocks<T: StoredRow + Sync>(
    tx: &rusqlite::Transaction<'_>,
    run_id: i64,
    rows: &[T],
) -> Result<(), LedgerError> {
    let stored: Vec<(i64, i64, Vec<u8>)> = tx
        .prepare_cached("SELECT block, rows, digest FROM tax_row_blocks WHERE run_id = ?1 AND tbl = ?2 ORDER BY block")?
        .query_map(params![run_id, T::TABLE], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut remove = tx.prepare_cached("DELETE FROM tax_row_blocks WHERE run_id = ?1 AND tbl = ?2 AND block >= ?3")?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO tax_row_blocks (run_id, tbl, block, rows, digest, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    std::thread::scope(|scope| {
        let (made, take) = mpsc::sync_channel::<(String, [u8; 32])>(2);
        scope.spawn(move || {
            for block in rows.chunks(BLOCK) {
                let body = block_body(block);
                let digest = Sha256::digest(body.as_bytes()).into();
                // This thread stops when the storing one does (an error).
                if made.send((body, digest)).is_err() {
                    break;
                }
            }
        });
        let mut changed = false;
        for (block, (body, digest)) in take.iter().enumerate() {
            let count = rows.len().saturating_sub(block * BLOCK).min(BLOCK) as i64;
            let block = block as i64;
            if !changed {
                let same = stored.get(block as usize).is_some_and(|(number, rows, stored)| {
                    *number == block && *rows == count && stored[..] == digest[..]
                });
                if same {
                    continue;
                }
                changed = true;
                remove.execute(params![run_id, T::TABLE, block])?;
            }
            insert.execute(params![run_id, T::TABLE, block, count, &digest[..], body])?;
        }
        let blocks = rows.len().div_ceil(BLOCK);
        if !changed && stored.len() != blocks {
            remove.execute(params![run_id, T::TABLE, blocks as i64])?;
        }
        Ok(())
    })
}

/// The JSON text of a block of rows: an array of each row's array.
fn block_body<T: StoredRow>(rows: &[T]) -> String {
    let mut body = String::with_capacity(rows.len() * 128 + 2);
    body.push('[');
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push('[');
        row.write_json(&mut Columns { out: &mut body, first: true });
        body.push(']');
    }
    body.push(']');
    body
}

/// A row's columns being written as the elements of a JSON array.
struct Columns<'a> {
    out: &'a mut String,
    first: bool,
}

impl Columns<'_> {
    fn next(&mut self) -> &mut String {
        if !std::mem::take(&mut self.first) {
            self.out.push(',');
        }
        self.out
    }

    fn int(&mut self, n: i64) -> &mut Self {
        self.next().push_str(itoa::Buffer::new().format(n));
        self
    }

    fn opt_int(&mut self, n: Option<i64>) -> &mut Self {
        match n {
            Some(n) => self.int(n),
            None => {
                self.next().push_str("null");
                self
            }
        }
    }

    fn flag(&mut self, flag: bool) -> &mut Self {
        self.next().push(if flag { '1' } else { '0' });
        self
    }

    /// An amount as a JSON string of its decimal text (the text stored since the first version).
    fn amount(&mut self, amount: Decimal) -> &mut Self {
        let out = self.next();
        out.push('"');
        write_amount(out, amount);
        out.push('"');
        self
    }

    /// A string, escaped as JSON asks (quote, backslash, control characters).
    fn text(&mut self, text: &str) -> &mut Self {
        let out = self.next();
        out.push('"');
        if !text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
            out.push_str(text);
            out.push('"');
            return self;
        }
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if u32::from(c) < 0x20 => {
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                }
                c => out.push(c),
            }
        }
        out.push('"');
        self
    }
}

/// A row of a run as it is stored: its view, and its columns in the view's order (after
/// `run_id` and `seq`, which the block gives).
trait StoredRow {
    /// The view that shows the rows (`tax_row_blocks.tbl`).
    const TABLE: &'static str;

    /// Writes the row's columns.
    fn write_json(&self, columns: &mut Columns<'_>);
}

impl StoredRow for Disposal {
    const TABLE: &'static str = "tax_disposals";

    fn write_json(&self, c: &mut Columns<'_>) {
        c.int(self.event_id)
            .int(self.account_id)
            .text(self.kind.as_str())
            .text(&self.asset)
            .amount(self.amount)
            .int(self.acquired_ms)
            .int(self.disposed_ms)
            .amount(self.proceeds)
            .amount(self.cost_basis)
            .amount(self.gain())
            .text(self.term.as_str())
            .opt_int(self.lot_event_id)
            .flag(self.basis_missing)
            .flag(self.price_missing);
    }
}

impl StoredRow for IncomeRow {
    const TABLE: &'static str = "tax_income";

    fn write_json(&self, c: &mut Columns<'_>) {
        c.int(self.event_id)
            .int(self.account_id)
            .text(self.kind.as_str())
            .text(&self.asset)
            .amount(self.amount)
            .int(self.received_ms)
            .amount(self.value)
            .flag(self.price_missing);
    }
}

impl StoredRow for Holding {
    const TABLE: &'static str = "tax_holdings";

    fn write_json(&self, c: &mut Columns<'_>) {
        c.int(self.lot_event_id)
            .opt_int(self.account_id)
            .text(&self.asset)
            .amount(self.amount)
            .int(self.acquired_ms)
            .amount(self.cost_basis)
            .flag(self.basis_missing);
    }
}

#[cfg(test)]
mod tests {
    use cointally_exchanges::EventKind;
    use cointally_exchanges::amount::format_amount;

    use super::*;
    use crate::ledger::OpenMode;
    use crate::ledger::tax::{DisposalKind, Term};

    #[test]
    fn a_stored_run_reads_back_row_for_row_across_blocks() {
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
        // Two full blocks and a part of one.
        let disposals: Vec<Disposal> = (1..=(2 * BLOCK as i64 + 37)).map(disposal).collect();
        let holdings: Vec<Holding> = (1..=(BLOCK as i64 + 5)).map(sample_holding).collect();
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

    /// Storing a run of a year that is stored already writes only the blocks from the first
    /// that differs, and leaves exactly what storing it into an empty ledger would.
    #[test]
    fn a_stored_run_of_the_same_year_is_updated_from_its_first_changed_block_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        let mut disposals: Vec<Disposal> = (1..=(BLOCK as i64 + 50)).map(sample_disposal).collect();
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

        // A change near the end (a new event late in the year): the block holding it is
        // replaced, the one before stays.
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
        // 1 run update, the disposals' second block deleted and written again, and so the
        // income's only block.
        assert_eq!(ledger.conn.total_changes() - before, 1 + 2 + 2);
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

    /// A store that fails part of the way through returns the error (rather than waiting on
    /// the thread making the blocks, which stops), and the transaction holds what it wrote.
    #[test]
    fn a_store_that_fails_mid_table_stops_its_block_thread_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        let disposals: Vec<Disposal> = (1..=(6 * BLOCK as i64)).map(sample_disposal).collect();
        let tx = ledger.transaction().unwrap();
        tx.execute_batch(
            "CREATE TEMP TRIGGER refuse BEFORE INSERT ON tax_row_blocks WHEN NEW.block = 3
             BEGIN SELECT RAISE(ABORT, 'block 3 refused'); END",
        )
        .unwrap();
        let error = store_blocks(&tx, 8, &disposals).unwrap_err().to_string();
        assert!(error.contains("block 3 refused"), "{error}");
        let stored: i64 =
            tx.query_row("SELECT count(*) FROM tax_row_blocks WHERE run_id = 8", [], |r| r.get(0)).unwrap();
        assert_eq!(stored, 3, "the blocks before the refused one");
    }

    /// Names with a quote, a backslash, a control character or beyond ASCII, a lot without an
    /// event and a holding without a wallet read back through the views as stored, each
    /// column with the type of the table it replaces.
    #[test]
    fn the_views_show_every_column_with_its_type() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        let asset = "A\"B\\C\u{1}Ü€";
        let mut disposal = sample_disposal(3);
        disposal.asset = asset.into();
        disposal.lot_event_id = None;
        disposal.basis_missing = true;
        let mut income = sample_income(4);
        income.asset = asset.into();
        income.price_missing = true;
        let mut holding = sample_holding(5);
        holding.asset = asset.into();
        assert_eq!(holding.account_id, None);
        let rows = RunRows {
            year: 2025,
            options: "{}",
            inputs_hash: "h",
            disposals: std::slice::from_ref(&disposal),
            income: std::slice::from_ref(&income),
            holdings: std::slice::from_ref(&holding),
        };
        let run = ledger.store_tax_run(&rows).unwrap();
        let row = |sql: &str| -> String { ledger.conn.query_row(sql, [run], |r| r.get::<_, String>(0)).unwrap() };
        assert_eq!(
            row("SELECT json_array(seq, typeof(event_id), asset, amount, typeof(amount), proceeds, cost_basis, gain,
                        kind, term, lot_event_id, basis_missing, typeof(basis_missing), price_missing)
                 FROM tax_disposals WHERE run_id = ?1"),
            serde_json::json!([
                0, "integer", asset, "0.003", "text", "0.21", "0.15", "0.06", "sale", "short", null, 1, "integer", 0
            ])
            .to_string()
        );
        assert_eq!(
            row("SELECT json_array(event_id, kind, asset, amount, received_ms, value, price_missing)
                 FROM tax_income WHERE run_id = ?1"),
            serde_json::json!([4, "staking", asset, "0.0004", 4, "0.12", 1]).to_string()
        );
        assert_eq!(
            row("SELECT json_array(lot_event_id, account_id, asset, amount, acquired_ms, cost_basis, basis_missing)
                 FROM tax_holdings WHERE run_id = ?1"),
            serde_json::json!([5, null, asset, "0.05", 5, "0.55", 0]).to_string()
        );
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

        // A change in the third block: that block is deleted and written again; the first two
        // are not touched.
        disposals[2500].cost_basis += Decimal::ONE;
        assert_eq!(store(&mut ledger, "b", &disposals), 1 + 1 + 1);
        assert_eq!((stored_rows(&ledger), blocks(&ledger)), run("b", &disposals));

        // A change in the second block: blocks 1 and 2 again.
        disposals[1500].amount += Decimal::ONE;
        assert_eq!(store(&mut ledger, "c", &disposals), 1 + 2 + 2);
        assert_eq!((stored_rows(&ledger), blocks(&ledger)), run("c", &disposals));

        // A block whose digest does not match its rows (damaged) is written again, with the
        // ones after it, even when the rows did not change.
        ledger.conn.execute("UPDATE tax_row_blocks SET digest = x'00' WHERE block = 1", []).unwrap();
        assert_eq!(store(&mut ledger, "d", &disposals), 1 + 2 + 2);
        assert_eq!((stored_rows(&ledger), blocks(&ledger)), run("d", &disposals));

        // A block lost: written again with the ones after it.
        ledger.conn.execute("DELETE FROM tax_row_blocks WHERE block = 1", []).unwrap();
        disposals[1200].proceeds += Decimal::ONE;
        assert_eq!(store(&mut ledger, "e", &disposals), 1 + 1 + 2);
        assert_eq!((stored_rows(&ledger), blocks(&ledger)), run("e", &disposals));

        // Fewer rows than stored: the rows and the blocks past the end go.
        disposals.truncate(1100);
        store(&mut ledger, "f", &disposals);
        assert_eq!((stored_rows(&ledger), blocks(&ledger)), run("f", &disposals));
        assert_eq!(blocks(&ledger).len(), 2);

        // Unchanged: nothing but the run's hash and time.
        assert_eq!(store(&mut ledger, "g", &disposals), 1);
    }

    /// A stored block: table, block, rows, digest.
    type Block = (String, i64, i64, Vec<u8>);

    /// The stored blocks, each digest checked against its body.
    fn blocks(ledger: &Ledger) -> Vec<Block> {
        let mut stmt = ledger.conn.prepare("SELECT body, digest FROM tax_row_blocks").unwrap();
        for (body, digest) in
            stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))).unwrap().map(Result::unwrap)
        {
            assert_eq!(digest, Sha256::digest(body.as_bytes()).to_vec(), "a block's digest is its body's");
        }
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
