//! What the tax engine reads and writes: events with their legs' values in time order, the
//! deposits and withdrawals that may be own transfers, the transfers matched or decided by
//! the user, and the rows of a computed run (disposals, income, year-end holdings).

use std::collections::BTreeSet;

use chrono::Utc;
use cointally_exchanges::amount::write_amount;
use cointally_exchanges::{EventKind, LegRole};
use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use rusqlite::ToSql;

use super::events::parse_stored_amount;
use super::writer::{CHUNK, multi_row_insert, write_chunk};
use super::{Ledger, LedgerError, decimal};

/// An event as the tax engine sees it: kind, time, legs with their values.
#[derive(Debug, PartialEq, Eq)]
pub struct TaxEvent {
    /// Row id.
    pub id: i64,
    /// The account (wallet) it happened in.
    pub account_id: i64,
    /// What happened.
    pub kind: EventKind,
    /// UTC ms.
    pub time_ms: i64,
    /// A cost basis the user gave for a deposit (a generic-CSV deposit row's `fiat_value` in
    /// the reporting currency).
    pub basis: Option<Decimal>,
    /// Its legs, in order.
    pub legs: Vec<TaxLeg>,
}

/// One leg of a [`TaxEvent`].
#[derive(Debug, PartialEq, Eq)]
pub struct TaxLeg {
    /// Position in the event.
    pub seq: i64,
    /// Side of the event.
    pub role: LegRole,
    /// Asset symbol.
    pub asset: String,
    /// Signed amount.
    pub amount: Decimal,
    /// Value in the reporting currency; `None` when it has none (only with
    /// `--allow-missing-prices`).
    pub value: Option<Decimal>,
}

// `clone_from` field by field, so that a buffer of events refilled from the reader (the
// report's pass hands batches to the engine's thread) keeps its strings' and legs' capacity.
impl Clone for TaxEvent {
    fn clone(&self) -> TaxEvent {
        TaxEvent {
            id: self.id,
            account_id: self.account_id,
            kind: self.kind,
            time_ms: self.time_ms,
            basis: self.basis,
            legs: self.legs.clone(),
        }
    }

    fn clone_from(&mut self, source: &TaxEvent) {
        self.id = source.id;
        self.account_id = source.account_id;
        self.kind = source.kind;
        self.time_ms = source.time_ms;
        self.basis = source.basis;
        self.legs.clone_from(&source.legs);
    }
}

impl Clone for TaxLeg {
    fn clone(&self) -> TaxLeg {
        TaxLeg { seq: self.seq, role: self.role, asset: self.asset.clone(), amount: self.amount, value: self.value }
    }

    fn clone_from(&mut self, source: &TaxLeg) {
        self.seq = source.seq;
        self.role = source.role;
        self.asset.clone_from(&source.asset);
        self.amount = source.amount;
        self.value = source.value;
    }
}

/// A deposit or withdrawal of one crypto asset: a candidate half of an own transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    /// The event.
    pub event_id: i64,
    /// Its account.
    pub account_id: i64,
    /// Whether the asset left (a withdrawal) or arrived (a deposit).
    pub outgoing: bool,
    /// UTC ms.
    pub time_ms: i64,
    /// The asset moved.
    pub asset: String,
    /// The amount that left or arrived (positive), fees not included.
    pub amount: Decimal,
    /// Fees paid in the same asset (positive).
    pub fee: Decimal,
    /// The on-chain hash, if known.
    pub tx_hash: Option<String>,
}

/// How a transfer was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LinkMethod {
    /// The same transaction hash on both sides.
    TxHash,
    /// Asset, amount and a time window, with one candidate only.
    AmountTime,
    /// The user linked them.
    Manual,
}

impl LinkMethod {
    /// The ledger's name.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkMethod::TxHash => "tx_hash",
            LinkMethod::AmountTime => "amount_time",
            LinkMethod::Manual => "manual",
        }
    }

    fn from_name(name: &str) -> Result<LinkMethod, LedgerError> {
        match name {
            "tx_hash" => Ok(LinkMethod::TxHash),
            "amount_time" => Ok(LinkMethod::AmountTime),
            "manual" => Ok(LinkMethod::Manual),
            other => Err(LedgerError::Corrupt(format!("transfer method {other:?}"))),
        }
    }
}

/// A withdrawal and the deposit it became.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TransferLink {
    /// The withdrawal event.
    pub withdrawal: i64,
    /// The deposit event.
    pub deposit: i64,
    /// How they were paired.
    pub method: LinkMethod,
}

/// Short or long term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Term {
    /// Held one year or less.
    Short,
    /// Held more than one year.
    Long,
}

impl Term {
    /// `short` or `long`.
    pub fn as_str(self) -> &'static str {
        match self {
            Term::Short => "short",
            Term::Long => "long",
        }
    }
}

/// Why units were disposed of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DisposalKind {
    /// Sold, traded away or spent.
    Sale,
    /// Paid as a fee.
    Fee,
    /// Paid as the network fee of an own transfer.
    TransferFee,
}

impl DisposalKind {
    /// The ledger's name.
    pub fn as_str(self) -> &'static str {
        match self {
            DisposalKind::Sale => "sale",
            DisposalKind::Fee => "fee",
            DisposalKind::TransferFee => "transfer_fee",
        }
    }
}

/// A disposal of one lot fragment: one Form 8949 row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disposal {
    /// The disposing event.
    pub event_id: i64,
    /// Its account.
    pub account_id: i64,
    /// Why.
    pub kind: DisposalKind,
    /// Asset symbol.
    pub asset: String,
    /// Units disposed of (positive).
    pub amount: Decimal,
    /// When the lot was acquired (UTC ms).
    pub acquired_ms: i64,
    /// When it was disposed of (UTC ms).
    pub disposed_ms: i64,
    /// Amount realized, after disposal costs.
    pub proceeds: Decimal,
    /// Basis of the units.
    pub cost_basis: Decimal,
    /// Short or long.
    pub term: Term,
    /// The event that acquired the lot; `None` when more was disposed of than was held.
    pub lot_event_id: Option<i64>,
    /// The basis is unknown (a deposit from outside, or units never seen arriving).
    pub basis_missing: bool,
    /// A value used is missing (only with `--allow-missing-prices`).
    pub price_missing: bool,
    /// The units were acquired in the disposing account and never left it (at a broker from
    /// 2026: covered units, whose basis the broker reports).
    pub acquired_here: bool,
}

impl Disposal {
    /// Proceeds minus basis, unrounded.
    pub fn gain(&self) -> Decimal {
        self.proceeds - self.cost_basis
    }
}

/// Income received: its value is also the basis of its lot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomeRow {
    /// The event.
    pub event_id: i64,
    /// Its account.
    pub account_id: i64,
    /// The income kind (staking, interest, ...).
    pub kind: EventKind,
    /// Asset received.
    pub asset: String,
    /// Units received.
    pub amount: Decimal,
    /// UTC ms.
    pub received_ms: i64,
    /// Fair market value when received.
    pub value: Decimal,
    /// The value is missing (counted as zero).
    pub price_missing: bool,
}

/// A lot still held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// The event that acquired it.
    pub lot_event_id: i64,
    /// The wallet holding it (per-wallet tracking); `None` under universal tracking.
    pub account_id: Option<i64>,
    /// Asset symbol.
    pub asset: String,
    /// Units held.
    pub amount: Decimal,
    /// When acquired (UTC ms).
    pub acquired_ms: i64,
    /// Basis of the units held.
    pub cost_basis: Decimal,
    /// The basis is unknown.
    pub basis_missing: bool,
}

/// The rows of one computed run, as stored for exports and audit.
#[derive(Debug, Clone, Copy)]
pub struct RunRows<'a> {
    /// The tax year.
    pub year: i32,
    /// The options, as JSON.
    pub options: &'a str,
    /// SHA-256 (hex) of the inputs read.
    pub inputs_hash: &'a str,
    /// The year's disposals.
    pub disposals: &'a [Disposal],
    /// The year's income.
    pub income: &'a [IncomeRow],
    /// Lots held at the end of the year.
    pub holdings: &'a [Holding],
}

/// A TEXT column borrowed from the row.
pub(super) fn text<'a>(row: &'a rusqlite::Row<'_>, index: usize) -> Result<&'a str, LedgerError> {
    row.get_ref(index)?.as_str().map_err(|e| LedgerError::Corrupt(format!("column {index}: {e}")))
}

fn opt_text<'a>(row: &'a rusqlite::Row<'_>, index: usize) -> Result<Option<&'a str>, LedgerError> {
    row.get_ref(index)?.as_str_or_null().map_err(|e| LedgerError::Corrupt(format!("column {index}: {e}")))
}

fn event_kind(id: i64, kind: &str) -> Result<EventKind, LedgerError> {
    kind.parse().map_err(|_| LedgerError::Corrupt(format!("event {id} has kind {kind:?}")))
}

pub(super) fn leg_role(role: &str) -> Result<LegRole, LedgerError> {
    LegRole::from_name(role).ok_or_else(|| LedgerError::Corrupt(format!("leg role {role:?}")))
}

impl Ledger {
    /// Calls `each` with every event before `until_ms` (all when `None`) in time order (ties
    /// by id), its legs valued in `currency`. Streams: one event in memory at a time.
    pub fn for_each_tax_event(
        &self,
        currency: &str,
        until_ms: Option<i64>,
        mut each: impl FnMut(TaxEvent),
    ) -> Result<(), LedgerError> {
        self.for_each_tax_event_between(currency, i64::MIN, until_ms.unwrap_or(i64::MAX), |e| each(e.clone()))
    }

    /// The events from `from_ms` (included) to `until_ms` (excluded), in time order, each with
    /// its legs and their values in `currency`, handed to `each` by reference: one prepared
    /// query walking `events_by_time`, the legs and values by their primary keys; the event
    /// and its legs are one buffer reused from event to event (its strings keep their
    /// capacity), so reading allocates nothing per event once the buffer has grown.
    pub fn for_each_tax_event_between(
        &self,
        currency: &str,
        from_ms: i64,
        until_ms: i64,
        mut each: impl FnMut(&TaxEvent),
    ) -> Result<(), LedgerError> {
        // Without kind overrides (most ledgers) the look-up of one per event is left out.
        let overrides: bool = self.conn.query_row("SELECT EXISTS (SELECT 1 FROM kind_overrides)", [], |r| r.get(0))?;
        let mut stmt = self.conn.prepare_cached(if overrides {
            "SELECT e.id, e.account_id, COALESCE(o.kind, e.kind), e.time_ms, e.fiat_value, e.fiat_currency, e.source,
                    l.seq, l.role, l.asset, l.amount, v.value
             FROM events e INDEXED BY events_by_time
             LEFT JOIN kind_overrides o ON o.account_id = e.account_id AND o.external_id = e.external_id
             JOIN legs l ON l.event_id = e.id
             LEFT JOIN leg_values v ON v.event_id = l.event_id AND v.seq = l.seq AND v.currency = ?1
             WHERE e.time_ms >= ?2 AND e.time_ms < ?3
             ORDER BY e.time_ms, e.id, l.seq"
        } else {
            "SELECT e.id, e.account_id, e.kind, e.time_ms, e.fiat_value, e.fiat_currency, e.source,
                    l.seq, l.role, l.asset, l.amount, v.value
             FROM events e INDEXED BY events_by_time
             JOIN legs l ON l.event_id = e.id
             LEFT JOIN leg_values v ON v.event_id = l.event_id AND v.seq = l.seq AND v.currency = ?1
             WHERE e.time_ms >= ?2 AND e.time_ms < ?3
             ORDER BY e.time_ms, e.id, l.seq"
        })?;
        let mut rows = stmt.query(params![currency, from_ms, until_ms])?;
        let mut event = TaxEvent {
            id: 0,
            account_id: 0,
            kind: EventKind::Unknown,
            time_ms: 0,
            basis: None,
            legs: Vec::with_capacity(4),
        };
        // Legs of the buffer in use: the rest of `event.legs` are spare, kept for their strings.
        let mut used = 0usize;
        let mut spare: Vec<TaxLeg> = Vec::with_capacity(4);
        let mut started = false;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            if !started || event.id != id {
                if started {
                    // The legs past this event's are set aside (no allocation once grown).
                    spare.extend(event.legs.drain(used..));
                    each(&event);
                }
                started = true;
                used = 0;
                let kind = event_kind(id, text(row, 2)?)?;
                let basis = match kind {
                    EventKind::Deposit => {
                        let fiat = opt_text(row, 4)?;
                        let fiat_currency = opt_text(row, 5)?;
                        match (fiat, fiat_currency) {
                            (Some(value), Some(c)) if c == currency && text(row, 6)? == "csv:generic" => {
                                Some(decimal(value, "fiat value")?)
                            }
                            _ => None,
                        }
                    }
                    _ => None,
                };
                event.id = id;
                event.account_id = row.get(1)?;
                event.kind = kind;
                event.time_ms = row.get(3)?;
                event.basis = basis;
            }
            let value = match opt_text(row, 11)? {
                Some(v) => Some(decimal(v, "leg value")?),
                None => None,
            };
            let seq = row.get(7)?;
            let role = leg_role(text(row, 8)?)?;
            let asset = text(row, 9)?;
            let amount = parse_stored_amount(text(row, 10)?)?;
            if used == event.legs.len() {
                let leg = spare.pop().unwrap_or_else(|| TaxLeg { seq, role, asset: String::new(), amount, value });
                event.legs.push(leg);
            }
            if let Some(leg) = event.legs.get_mut(used) {
                leg.seq = seq;
                leg.role = role;
                leg.asset.clear();
                leg.asset.push_str(asset);
                leg.amount = amount;
                leg.value = value;
            }
            used += 1;
        }
        if started {
            event.legs.truncate(used);
            each(&event);
        }
        Ok(())
    }

    /// The stored transfers, by withdrawal id.
    pub fn transfer_links(&self) -> Result<Vec<TransferLink>, LedgerError> {
        read_transfer_links(&self.conn)
    }

    /// The events the user unlinked, which automatic matching leaves alone.
    pub fn transfer_unlinks(&self) -> Result<BTreeSet<i64>, LedgerError> {
        let mut stmt = self.conn.prepare("SELECT event_id FROM transfer_unlinks")?;
        let ids = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// Makes the automatically matched transfers those of `links` (manual ones stay), in one
    /// transaction; only the differences are written.
    pub fn replace_automatic_transfers(&mut self, links: &[TransferLink]) -> Result<(), LedgerError> {
        let tx = self.transaction()?;
        replace_automatic_transfers(&tx, links)?;
        tx.commit()?;
        Ok(())
    }

    /// The kind (the user's, if they reclassified it) and account of an event, if it exists.
    pub fn event_kind(&self, id: i64) -> Result<Option<(EventKind, i64)>, LedgerError> {
        let row: Option<(String, i64)> = self
            .conn
            .query_row(
                "SELECT COALESCE(o.kind, e.kind), e.account_id FROM events e
                 LEFT JOIN kind_overrides o ON o.account_id = e.account_id AND o.external_id = e.external_id
                 WHERE e.id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(kind, account)| Ok((event_kind(id, &kind)?, account))).transpose()
    }

    /// Whether event `id` sends something and whether it receives something (fees aside).
    pub fn event_sides(&self, id: i64) -> Result<(bool, bool), LedgerError> {
        let (sends, receives): (i64, i64) = self.conn.query_row(
            "SELECT count(*) FILTER (WHERE role = 'sent'), count(*) FILTER (WHERE role = 'received')
             FROM legs WHERE event_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((sends > 0, receives > 0))
    }

    /// Records that event `id` is a `kind` (the source's own kind removes the override);
    /// returns the kind the source gave it, or `None` when there is no such event.
    pub fn reclassify(&mut self, id: i64, kind: EventKind) -> Result<Option<EventKind>, LedgerError> {
        let row: Option<(i64, String, String)> = self
            .conn
            .query_row("SELECT account_id, external_id, kind FROM events WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((account, external_id, original)) = row else { return Ok(None) };
        let original = event_kind(id, &original)?;
        let tx = self.transaction()?;
        if kind == original {
            tx.execute(
                "DELETE FROM kind_overrides WHERE account_id = ?1 AND external_id = ?2",
                params![account, external_id],
            )?;
        } else {
            tx.execute(
                "INSERT INTO kind_overrides (account_id, external_id, kind, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (account_id, external_id) DO UPDATE SET kind = excluded.kind, created_at = excluded.created_at",
                params![account, external_id, kind.as_str(), Utc::now().to_rfc3339()],
            )?;
        }
        tx.commit()?;
        Ok(Some(original))
    }

    /// Links a withdrawal to a deposit by hand: any other transfer of either event goes, and
    /// neither stays unlinked.
    pub fn link_transfer(&mut self, withdrawal: i64, deposit: i64) -> Result<(), LedgerError> {
        let now = Utc::now().to_rfc3339();
        let tx = self.transaction()?;
        tx.execute(
            "DELETE FROM transfers WHERE withdrawal_event_id IN (?1, ?2) OR deposit_event_id IN (?1, ?2)",
            params![withdrawal, deposit],
        )?;
        tx.execute("DELETE FROM transfer_unlinks WHERE event_id IN (?1, ?2)", params![withdrawal, deposit])?;
        tx.execute(
            "INSERT INTO transfers (withdrawal_event_id, deposit_event_id, method, created_at) VALUES (?1, ?2, 'manual', ?3)",
            params![withdrawal, deposit, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Removes the transfer `event` is part of and keeps `event` out of automatic matching;
    /// returns how many transfers were removed.
    pub fn unlink_transfer(&mut self, event: i64) -> Result<usize, LedgerError> {
        let now = Utc::now().to_rfc3339();
        let tx = self.transaction()?;
        let removed =
            tx.execute("DELETE FROM transfers WHERE withdrawal_event_id = ?1 OR deposit_event_id = ?1", [event])?;
        tx.execute(
            "INSERT INTO transfer_unlinks (event_id, created_at) VALUES (?1, ?2) ON CONFLICT (event_id) DO NOTHING",
            params![event, now],
        )?;
        tx.commit()?;
        Ok(removed)
    }

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

/// The stored transfers, by withdrawal id.
pub(super) fn read_transfer_links(conn: &rusqlite::Connection) -> Result<Vec<TransferLink>, LedgerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT withdrawal_event_id, deposit_event_id, method FROM transfers ORDER BY withdrawal_event_id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(TransferLink {
            withdrawal: row.get(0)?,
            deposit: row.get(1)?,
            method: LinkMethod::from_name(text(row, 2)?)?,
        });
    }
    Ok(out)
}

/// Makes the automatic transfers those of `links` (manual ones stay), inside the caller's
/// transaction; only the differences are written.
pub(super) fn replace_automatic_transfers(
    conn: &rusqlite::Connection,
    links: &[TransferLink],
) -> Result<(), LedgerError> {
    let wanted: BTreeSet<(i64, i64, LinkMethod)> =
        links.iter().filter(|l| l.method != LinkMethod::Manual).map(|l| (l.withdrawal, l.deposit, l.method)).collect();
    let stored: BTreeSet<(i64, i64, LinkMethod)> = read_transfer_links(conn)?
        .into_iter()
        .filter(|l| l.method != LinkMethod::Manual)
        .map(|l| (l.withdrawal, l.deposit, l.method))
        .collect();
    if wanted == stored {
        return Ok(());
    }
    let now = Utc::now().to_rfc3339();
    let mut delete = conn.prepare("DELETE FROM transfers WHERE withdrawal_event_id = ?1 AND method <> 'manual'")?;
    for (w, _, _) in stored.difference(&wanted) {
        delete.execute([w])?;
    }
    let mut insert = conn.prepare(
        "INSERT INTO transfers (withdrawal_event_id, deposit_event_id, method, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (w, d, method) in wanted.difference(&stored) {
        insert.execute(params![w, d, method.as_str(), now])?;
    }
    Ok(())
}

/// Inserts one run and its rows.
fn insert_run(tx: &rusqlite::Transaction<'_>, run: &RunRows<'_>) -> Result<i64, LedgerError> {
    let now = Utc::now().to_rfc3339();
    tx.execute(
        "INSERT INTO tax_runs (year, options, inputs_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![run.year, run.options, run.inputs_hash, now],
    )?;
    let run_id = tx.last_insert_rowid();
    insert_disposals(tx, run_id, 0, run.disposals)?;
    insert_income(tx, run_id, 0, run.income)?;
    insert_holdings(tx, run_id, 0, run.holdings)?;
    write_blocks(tx, run_id, DISPOSALS, 0, run.disposals.len(), &block_digests(run.disposals))?;
    write_blocks(tx, run_id, INCOME, 0, run.income.len(), &block_digests(run.income))?;
    write_blocks(tx, run_id, HOLDINGS, 0, run.holdings.len(), &block_digests(run.holdings))?;
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
    insert_disposals(tx, run_id, same, &run.disposals[same..])?;
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
    insert_income(tx, run_id, same, &run.income[same..])?;
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
    insert_holdings(tx, run_id, same, &run.holdings[same..])?;
    Ok(())
}

/// The tables of a run's rows.
const DISPOSALS: &str = "tax_disposals";
const INCOME: &str = "tax_income";
const HOLDINGS: &str = "tax_holdings";

/// Rows per digest block (`tax_row_blocks`).
const BLOCK: usize = 1024;

/// A row as stored, fed to a block's digest: every column the row's comparison reads, each
/// amount as the text stored, each string with its length (so no two rows hash alike).
pub(super) trait RowDigest {
    /// Feeds the row to `hasher`; `buf` is scratch space for amounts.
    fn digest(&self, hasher: &mut Sha256, buf: &mut String);
}

fn digest_text(hasher: &mut Sha256, text: &str) {
    hasher.update((text.len() as u64).to_le_bytes());
    hasher.update(text.as_bytes());
}

fn digest_amount(hasher: &mut Sha256, buf: &mut String, amount: Decimal) {
    buf.clear();
    write_amount(buf, amount);
    digest_text(hasher, buf);
}

impl RowDigest for Disposal {
    fn digest(&self, hasher: &mut Sha256, buf: &mut String) {
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
        for amount in [self.amount, self.proceeds, self.cost_basis] {
            digest_amount(hasher, buf, amount);
        }
    }
}

impl RowDigest for IncomeRow {
    fn digest(&self, hasher: &mut Sha256, buf: &mut String) {
        for n in [self.event_id, self.account_id, self.received_ms] {
            hasher.update(n.to_le_bytes());
        }
        hasher.update([u8::from(self.price_missing)]);
        digest_text(hasher, self.kind.as_str());
        digest_text(hasher, &self.asset);
        for amount in [self.amount, self.value] {
            digest_amount(hasher, buf, amount);
        }
    }
}

impl RowDigest for Holding {
    fn digest(&self, hasher: &mut Sha256, buf: &mut String) {
        for n in [self.lot_event_id, self.account_id.unwrap_or(-1), self.acquired_ms] {
            hasher.update(n.to_le_bytes());
        }
        hasher.update([u8::from(self.account_id.is_some()), u8::from(self.basis_missing)]);
        digest_text(hasher, &self.asset);
        for amount in [self.amount, self.cost_basis] {
            digest_amount(hasher, buf, amount);
        }
    }
}

/// One digest per [`BLOCK`] rows of `rows`, in order; a year of many rows is hashed on two
/// threads (the second half of the blocks beside the first: the other core is idle then).
fn block_digests<T: RowDigest + Sync>(rows: &[T]) -> Vec<[u8; 32]> {
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
fn digests_of<T: RowDigest>(rows: &[T]) -> Vec<[u8; 32]> {
    let mut buf = String::new();
    rows.chunks(BLOCK)
        .map(|block| {
            let mut hasher = Sha256::new();
            for row in block {
                row.digest(&mut hasher, &mut buf);
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
fn unchanged_rows<T: RowDigest + Sync>(
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

/// Inserts disposals as rows `first..` of run `run_id`: multi-row INSERTs, as the writer does
/// (the year's disposals are the bulk of a run).
fn insert_disposals(
    tx: &rusqlite::Transaction<'_>,
    run_id: i64,
    first: usize,
    disposals: &[Disposal],
) -> Result<(), LedgerError> {
    const HEAD: &str = "INSERT INTO tax_disposals (run_id, seq, event_id, account_id, kind, asset, amount,
            acquired_ms, disposed_ms, proceeds, cost_basis, gain, term, lot_event_id, basis_missing, price_missing)";
    let mut full = tx.prepare_cached(&multi_row_insert(HEAD, 16, CHUNK))?;
    // The amounts of a chunk as text, in buffers reused from chunk to chunk; every other
    // value is bound from the row itself (no copy, no allocation per row).
    let mut texts: Vec<String> = vec![String::new(); 4 * CHUNK];
    let mut seqs: Vec<i64> = Vec::with_capacity(CHUNK);
    let mut names: Vec<(&'static str, &'static str)> = Vec::with_capacity(CHUNK);
    for (c, chunk) in disposals.chunks(CHUNK).enumerate() {
        seqs.clear();
        names.clear();
        for (i, d) in chunk.iter().enumerate() {
            seqs.push((first + c * CHUNK + i) as i64);
            names.push((d.kind.as_str(), d.term.as_str()));
            for (text, amount) in texts[4 * i..4 * i + 4].iter_mut().zip([d.amount, d.proceeds, d.cost_basis, d.gain()])
            {
                text.clear();
                write_amount(text, amount);
            }
        }
        let mut params: Vec<&dyn ToSql> = Vec::with_capacity(16 * chunk.len());
        for (i, d) in chunk.iter().enumerate() {
            let t = &texts[4 * i..4 * i + 4];
            params.extend_from_slice(&[
                &run_id as &dyn ToSql,
                &seqs[i],
                &d.event_id,
                &d.account_id,
                &names[i].0,
                &d.asset,
                &t[0],
                &d.acquired_ms,
                &d.disposed_ms,
                &t[1],
                &t[2],
                &t[3],
                &names[i].1,
                &d.lot_event_id,
                &d.basis_missing,
                &d.price_missing,
            ]);
        }
        write_chunk(tx, &mut full, HEAD, 16, &params)?;
    }
    Ok(())
}

/// Inserts income as rows `first..` of run `run_id`.
fn insert_income(
    tx: &rusqlite::Transaction<'_>,
    run_id: i64,
    first: usize,
    income: &[IncomeRow],
) -> Result<(), LedgerError> {
    const INCOME: &str = "INSERT INTO tax_income (run_id, seq, event_id, account_id, kind, asset, amount,
            received_ms, value, price_missing)";
    let mut full = tx.prepare_cached(&multi_row_insert(INCOME, 10, CHUNK))?;
    let mut texts: Vec<String> = vec![String::new(); 2 * CHUNK];
    let mut seqs: Vec<i64> = Vec::with_capacity(CHUNK);
    let mut kinds: Vec<&'static str> = Vec::with_capacity(CHUNK);
    for (c, chunk) in income.chunks(CHUNK).enumerate() {
        seqs.clear();
        kinds.clear();
        for (i, row) in chunk.iter().enumerate() {
            seqs.push((first + c * CHUNK + i) as i64);
            kinds.push(row.kind.as_str());
            for (text, amount) in texts[2 * i..2 * i + 2].iter_mut().zip([row.amount, row.value]) {
                text.clear();
                write_amount(text, amount);
            }
        }
        let mut params: Vec<&dyn ToSql> = Vec::with_capacity(10 * chunk.len());
        for (i, row) in chunk.iter().enumerate() {
            params.extend_from_slice(&[
                &run_id as &dyn ToSql,
                &seqs[i],
                &row.event_id,
                &row.account_id,
                &kinds[i],
                &row.asset,
                &texts[2 * i],
                &row.received_ms,
                &texts[2 * i + 1],
                &row.price_missing,
            ]);
        }
        write_chunk(tx, &mut full, INCOME, 10, &params)?;
    }
    Ok(())
}

/// Inserts lots held as rows `first..` of run `run_id`.
fn insert_holdings(
    tx: &rusqlite::Transaction<'_>,
    run_id: i64,
    first: usize,
    holdings: &[Holding],
) -> Result<(), LedgerError> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO tax_holdings (run_id, seq, lot_event_id, account_id, asset, amount, acquired_ms, cost_basis, basis_missing)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let (mut amount, mut basis) = (String::new(), String::new());
    for (i, h) in holdings.iter().enumerate() {
        amount.clear();
        write_amount(&mut amount, h.amount);
        basis.clear();
        write_amount(&mut basis, h.cost_basis);
        insert.execute(params![
            run_id,
            (first + i) as i64,
            h.lot_event_id,
            h.account_id,
            h.asset,
            amount,
            h.acquired_ms,
            basis,
            h.basis_missing,
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use cointally_exchanges::amount::format_amount;

    use super::*;
    use crate::ledger::OpenMode;

    /// The movements read through the partial index: stored deposits and withdrawals, less
    /// those reclassified as something else, plus events reclassified as either.
    #[test]
    fn movements_follow_the_kind_in_force() {
        use cointally_exchanges::time::from_millis;
        use cointally_exchanges::{Leg, NewEvent};

        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        let account = ledger.add_account(&crate::ledger::NewAccount::files_only("a", "generic")).unwrap().id;
        let events = [
            ("d", EventKind::Deposit, Leg::received("BTC", Decimal::ONE)),
            ("w", EventKind::Withdrawal, Leg::sent("ETH", Decimal::TWO)),
            ("g", EventKind::Deposit, Leg::received("SOL", Decimal::TEN)),
            ("r", EventKind::Staking, Leg::received("ADA", Decimal::ONE)),
            ("s", EventKind::Spend, Leg::sent("DOT", Decimal::ONE)),
        ];
        let mut writer = ledger.writer().unwrap();
        let mut ids = BTreeMap::new();
        for (i, (external, kind, leg)) in events.into_iter().enumerate() {
            let event = NewEvent::new(external, from_millis(1_000 * i as i64), kind, vec![leg]);
            let (crate::ledger::Written::New(id) | crate::ledger::Written::Existing(id)) =
                writer.event(account, "csv:generic", &event, &[]).unwrap();
            ids.insert(external, id);
        }
        writer.commit().unwrap();
        ledger.reclassify(ids["g"], EventKind::Gift).unwrap();
        ledger.reclassify(ids["r"], EventKind::Deposit).unwrap();
        ledger.reclassify(ids["s"], EventKind::Withdrawal).unwrap();
        let read: Vec<(i64, bool, String)> =
            ledger.movements().unwrap().into_iter().map(|m| (m.event_id, m.outgoing, m.asset)).collect();
        let want = vec![
            (ids["d"], false, "BTC".into()),
            (ids["w"], true, "ETH".into()),
            (ids["r"], false, "ADA".into()),
            (ids["s"], true, "DOT".into()),
        ];
        assert_eq!(read, want);
    }

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
        let rows =
            RunRows { year: 2025, options: "{}", inputs_hash: "h", disposals: &disposals, income: &[], holdings: &[] };
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
