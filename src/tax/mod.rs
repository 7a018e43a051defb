//! Cost basis, gains and income under US rules: lots, disposals, holding periods.
//!
//! [`compute`] reads the ledger's events in time order with their legs' values in the
//! reporting currency and the own transfers ([`crate::transfers`]), runs them through the
//! [`engine`], and returns the year's disposals (one per lot fragment: one Form 8949 row),
//! income and year-end holdings, with a SHA-256 of exactly the inputs it read. [`report`]
//! sums them up per asset, rounded to the cent row by row.

pub mod allocation;
pub mod au;
pub mod boxes;
pub mod ca;
pub mod country_snapshots;
pub mod country_years;
pub mod de;
pub mod engine;
pub mod holding;
pub mod inputs;
pub mod jurisdiction;
pub mod losses;
pub mod pooled_years;
pub mod pools;
pub mod rebates;
pub mod reconcile;
pub mod report;
pub mod rounding;
pub mod snapshot_state;
pub mod uk;
pub mod years;
pub mod zone;

#[cfg(test)]
mod bounds_proptests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod years_proptests;

use std::fmt;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use self::engine::Computation;
use self::inputs::{EventsDigest, Inputs};
use crate::ledger::{Ledger, LedgerError, RunRows, TaxEvent};
use crate::transfers::Matching;

/// How the units disposed of are chosen among the lots held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Method {
    /// First in, first out (the IRS default).
    Fifo,
    /// Last in, first out (a standing order of specific identification).
    Lifo,
    /// Highest basis per unit first.
    Hifo,
    /// Lowest basis per unit first.
    Lofo,
}

impl Method {
    /// The name used in flags and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Fifo => "fifo",
            Method::Lifo => "lifo",
            Method::Hifo => "hifo",
            Method::Lofo => "lofo",
        }
    }

    /// The method named `name` (as [`Method::as_str`] writes it).
    pub fn from_name(name: &str) -> Option<Method> {
        [Method::Fifo, Method::Lifo, Method::Hifo, Method::Lofo].into_iter().find(|m| m.as_str() == name)
    }
}

/// A lot identification election as the engine applies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InForce {
    /// The method.
    pub method: Method,
    /// From this time (UTC ms).
    pub from_ms: i64,
    /// For this account only; `None` for every account.
    pub account_id: Option<i64>,
}

/// Where lots are queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Tracking {
    /// One queue per asset across all wallets and exchanges.
    Universal,
    /// One queue per asset and wallet (account).
    PerWallet,
    /// The US rule: universal before 1 January 2025, per wallet from then on, the unused
    /// basis re-seated per wallet at the change.
    Us,
}

impl Tracking {
    /// The name used in flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Tracking::Universal => "universal",
            Tracking::PerWallet => "per-wallet",
            Tracking::Us => "us",
        }
    }

    /// The tracking in force for disposals in `year` (`us` resolves by the year).
    pub fn in_year(self, year: i32) -> Tracking {
        match self {
            Tracking::Us if year >= 2025 => Tracking::PerWallet,
            Tracking::Us => Tracking::Universal,
            other => other,
        }
    }
}

/// What happens to the network fee of an own transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum TransferFees {
    /// The fee's units are disposed of at their value (the default).
    Dispose,
    /// The fee's units are not disposed of; their basis moves to the units that arrived.
    Carry,
}

impl TransferFees {
    /// The name used in flags.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferFees::Dispose => "dispose",
            TransferFees::Carry => "carry",
        }
    }
}

/// The choices a computation is made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Lot identification.
    pub method: Method,
    /// Lot queues.
    pub tracking: Tracking,
    /// Network fees of own transfers.
    pub transfer_fees: TransferFees,
    /// The tax year (calendar year, UTC); `None` computes all of history.
    pub year: Option<i32>,
    /// `method` is a what-if over all of history (`report --method`): the elections are not
    /// applied. Otherwise `method` is the fallback where no election is in force.
    pub what_if: bool,
}

impl Options {
    /// FIFO, the US lot tracking, fees disposed of, all years.
    pub fn us(year: Option<i32>) -> Options {
        Options {
            method: Method::Fifo,
            tracking: Tracking::Us,
            transfer_fees: TransferFees::Dispose,
            year,
            what_if: false,
        }
    }

    /// The options as stored with a run (stable JSON).
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "method": self.method.as_str(),
            "lots": self.tracking.as_str(),
            "transfer_fees": self.transfer_fees.as_str(),
            "year": self.year,
            "what_if": self.what_if,
        })
        .to_string()
    }
}

impl fmt::Display for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, lots {}, transfer fees {}",
            self.method.as_str(),
            self.tracking.as_str(),
            self.transfer_fees.as_str()
        )
    }
}

/// 1 January of `year`, 00:00 UTC, in ms.
pub fn year_start_ms(year: i32) -> i64 {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or(if year < 1970 { i64::MIN } else { i64::MAX })
}

/// A computation and the hash of what it read.
#[derive(Debug, Clone)]
pub struct Computed {
    /// The rows.
    pub computation: Computation,
    /// SHA-256 (hex) of the currency, transfers, elections and the events (with their legs
    /// and values) read: see [`inputs`].
    pub inputs_hash: String,
    /// How many events were read.
    pub events: u64,
    /// The elections applied (none under a what-if method).
    pub elections: Vec<crate::ledger::Election>,
}

/// Feeds an event into the inputs hash: a fixed binary layout (decimals as their 16-byte
/// form), so the same ledger hashes the same.
pub(crate) fn hash_event(hasher: &mut Sha256, event: &TaxEvent) {
    hasher.update(event.id.to_le_bytes());
    hasher.update(event.account_id.to_le_bytes());
    hasher.update(event.kind.as_str().as_bytes());
    hasher.update(event.time_ms.to_le_bytes());
    hasher.update(event.basis.map(|b| b.serialize()).unwrap_or_default());
    for leg in &event.legs {
        hasher.update(leg.seq.to_le_bytes());
        hasher.update(leg.role.as_str().as_bytes());
        hasher.update(leg.asset.as_bytes());
        hasher.update(b"\0");
        hasher.update(leg.amount.serialize());
        match leg.value {
            Some(value) => hasher.update(value.serialize()),
            None => hasher.update(b"-"),
        }
    }
    hasher.update(b"\n");
}

/// Runs the computation over the ledger (events up to the end of the year; all of history
/// when the options name no year) from the first event, with the transfers of `matching`
/// (from [`crate::transfers::refresh`], which holds their movements).
pub fn compute(ledger: &Ledger, options: Options, matching: &Matching) -> Result<Computed, LedgerError> {
    let inputs = Inputs::read(ledger, &options, matching)?;
    if let Some(year) = options.year {
        let (computed, _, _) = years::pass(ledger, &inputs, options, year..=year, None, false)?;
        return computed.into_iter().next().ok_or_else(|| LedgerError::Corrupt(format!("year {year} not computed")));
    }
    let engine = inputs.engine(options);
    all_of_history(ledger, inputs, engine)
}

/// The computation over all of history that keeps none of its rows (no disposal, no income):
/// what it finds on the way (negative balances, basis gaps, removals) and the lots held at the
/// end, in the memory of the lots alone. `check` reads only those; keeping every disposal of
/// a million events held 300 MB it never looked at.
pub fn compute_findings(ledger: &Ledger, matching: &Matching) -> Result<Computed, LedgerError> {
    let options = Options::us(None);
    let inputs = Inputs::read(ledger, &options, matching)?;
    let engine = inputs.engine(options).keeping_from(i64::MAX);
    all_of_history(ledger, inputs, engine)
}

/// Runs every event of the ledger through `engine`, from the first.
fn all_of_history(ledger: &Ledger, inputs: Inputs, mut engine: engine::Engine) -> Result<Computed, LedgerError> {
    let mut digest = EventsDigest::new(inputs.zone);
    let mut events = 0u64;
    let mut out_of_range = None;
    ledger.for_each_tax_event_between(&inputs.currency, i64::MIN, i64::MAX, |event| {
        if out_of_range.is_some() {
            return;
        }
        digest.add(event);
        out_of_range = engine.try_process(event).err();
        events += 1;
    })?;
    if let Some(error) = out_of_range {
        return Err(LedgerError::OutOfRange(error.to_string()));
    }
    let inputs_hash = inputs.inputs_hash(&digest.finish_hex());
    Ok(Computed { computation: engine.finish(), inputs_hash, events, elections: inputs.elections })
}

/// The year's report from a computation, each row in its Form 8949 box: the one way `report`
/// and the exports sum a computed year up.
pub fn year_report(
    ledger: &Ledger,
    year: i32,
    options: Options,
    computed: &Computed,
) -> Result<report::Report, LedgerError> {
    let currency = ledger.reporting_currency()?;
    let accounts = ledger.accounts()?;
    let labels = accounts.iter().map(|a| (a.id, a.label.clone())).collect();
    let exchanges = accounts.iter().map(|a| (a.id, a.exchange.clone())).collect();
    let c = &computed.computation;
    let mut report = report::Report::new(year, &currency, options, c, &labels, &computed.inputs_hash)
        .with_ledger_settings(ledger)?;
    report.classify(&c.disposals, &exchanges);
    report.elections = computed.elections.clone();
    if options.tracking == Tracking::Us && year >= 2025 {
        let stored = ledger.stored_allocation()?.map(|a| a.rule);
        report.allocation = Some(report::allocation_note(stored));
    }
    let reconciliation = year_reconciliation(ledger, &report, computed)?;
    report.apply(&reconciliation, &c.disposals);
    Ok(report)
}

/// The year's imported Form 1099-DA rows matched to the report's sales.
pub fn year_reconciliation(
    ledger: &Ledger,
    report: &report::Report,
    computed: &Computed,
) -> Result<reconcile::Reconciliation, LedgerError> {
    let rows = ledger.statement_rows(report.year)?;
    Ok(reconcile::reconcile(&report.lines, &computed.computation.disposals, &rows, report.zone))
}

/// Stores the computations of consecutive years from `first` (`report --years`), each
/// replacing the run stored before for its year (other years' runs stay).
pub fn store_years(
    ledger: &mut Ledger,
    options: &Options,
    first: i32,
    computed: &[Computed],
) -> Result<(), LedgerError> {
    let texts: Vec<String> =
        (first..).zip(computed).map(|(y, _)| Options { year: Some(y), ..*options }.to_json()).collect();
    let runs: Vec<RunRows<'_>> = (first..)
        .zip(computed)
        .zip(&texts)
        .map(|((year, c), options)| RunRows {
            year,
            options,
            inputs_hash: &c.inputs_hash,
            disposals: &c.computation.disposals,
            income: &c.computation.income,
            holdings: &c.computation.holdings,
        })
        .collect();
    ledger.store_tax_runs(&runs)?;
    Ok(())
}

/// [`store_years`] while `beside` runs on another thread with a second connection to the
/// ledger (`report` sums each year up so: that costs about what storing the rows does, and
/// neither needs the other); returns what `beside` made once both are done.
pub fn store_years_beside<T: Send>(
    ledger: &mut Ledger,
    options: &Options,
    first: i32,
    computed: &[Computed],
    beside: impl FnOnce(&Ledger, &[Computed]) -> T + Send,
) -> Result<T, LedgerError> {
    let reader = ledger.reader()?;
    let (stored, made) = std::thread::scope(|scope| {
        let making = scope.spawn(move || beside(&reader, computed));
        let stored = store_years(ledger, options, first, computed);
        (stored, making.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    stored?;
    Ok(made)
}

/// Stores a year's computation for exports and audit (replacing the one stored before).
pub fn store(ledger: &mut Ledger, options: &Options, year: i32, computed: &Computed) -> Result<i64, LedgerError> {
    let c = &computed.computation;
    ledger.store_tax_run(&RunRows {
        year,
        options: &options.to_json(),
        inputs_hash: &computed.inputs_hash,
        disposals: &c.disposals,
        income: &c.income,
        holdings: &c.holdings,
    })
}
