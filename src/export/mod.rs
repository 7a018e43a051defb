//! Exports: the files tax software, crypto-tax services and accountants take, byte-exact and
//! deterministic, each with a manifest beside it.
//!
//! A year is computed once ([`crate::cli`]'s `compute_year`), gathered into an [`Input`] (the
//! rounded report rows, the engine's rows, and, for the transaction formats, every event up to
//! the end of the year with its legs' values), and each [`Format`] writes its CSV from that.
//! Two kinds: [`Kind::Gains`] files carry gains cointally computed (Form 8949, Schedule D,
//! TurboTax and TaxAct uploads, income, holdings, audit); [`Kind::Transactions`] files carry the
//! cleaned history for another service to compute from (Koinly, CoinTracker, CoinLedger,
//! CoinTracking, BittyTax, TurboTax's universal CSV). Column layouts follow each service's
//! published import template; where a template leaves a detail open the README says what
//! was chosen. Every file is rendered in memory, hashed, and written with a [`Manifest`]: the
//! version, options, a hash of exactly the inputs read and the file's own SHA-256, so a re-run
//! proves the same inputs gave the same bytes.

pub mod allocation;
pub mod csv_out;
mod forms;
pub mod html;
mod reports;
mod software;
mod transactions;
use csv_out::csv_writer;
pub mod year_manifest;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::path::Path;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use cointally_exchanges::time::from_millis;
use cointally_exchanges::{EventKind, LegRole};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::ledger::{Disposal, Holding, IncomeRow, Ledger, LedgerError, RawRef};
use crate::tax::report::Report;
use crate::tax::zone::Zone;
use crate::tax::{Computed, Options};

/// What a format carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Gains, income and holdings cointally computed.
    Gains,
    /// The history itself, for another service to compute from.
    Transactions,
}

impl Kind {
    /// `gains` or `transactions`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Gains => "gains",
            Kind::Transactions => "transactions",
        }
    }
}

/// One export format: a trait because there are many, all writing from the same [`Input`].
pub trait Format: Sync {
    /// The name given on the command line (`form8949`).
    fn name(&self) -> &'static str;
    /// One line saying what the file is for.
    fn description(&self) -> &'static str;
    /// Gains or transactions.
    fn kind(&self) -> Kind;
    /// Whether it needs the raw records behind events (only the audit does).
    fn reads_sources(&self) -> bool {
        false
    }
    /// Writes the file; returns its number of data rows (header aside).
    fn write(&self, input: &Input, out: &mut dyn Write) -> io::Result<usize>;
}

/// Every format, in the order `export --list` shows them.
pub static FORMATS: &[&dyn Format] = &[
    &forms::Form8949,
    &forms::ScheduleD,
    &software::TurboTaxGains,
    &software::TaxAct,
    &reports::Income,
    &reports::Holdings,
    &reports::Audit,
    &transactions::Koinly,
    &transactions::CoinTracker,
    &transactions::CoinLedger,
    &transactions::CoinTracking,
    &transactions::BittyTax,
    &transactions::TurboTaxUniversal,
];

/// The format called `name`.
pub fn find(name: &str) -> Option<&'static dyn Format> {
    FORMATS.iter().copied().find(|f| f.name() == name)
}

/// One leg of an exported event, its amount positive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxLeg {
    /// Side of the event.
    pub role: LegRole,
    /// Asset symbol.
    pub asset: String,
    /// Units (positive).
    pub amount: Decimal,
    /// Value in the reporting currency; `None` when missing (only with `--allow-missing-prices`).
    pub value: Option<Decimal>,
}

/// An event as the transaction formats write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Row id.
    pub id: i64,
    /// The account's label.
    pub account: String,
    /// UTC ms.
    pub time_ms: i64,
    /// Kind (the user's, if reclassified).
    pub kind: EventKind,
    /// Legs in order.
    pub legs: Vec<TxLeg>,
    /// On-chain hash.
    pub tx_hash: Option<String>,
    /// The source's id.
    pub external_id: String,
    /// Free text.
    pub note: Option<String>,
    /// Half of a matched own transfer.
    pub own_transfer: bool,
}

/// Where the transaction formats read history from: the ledger, walked event by event while
/// the file is written, so that memory stays flat whatever the size of history.
#[derive(Clone)]
pub struct TxStream<'a> {
    /// The ledger read.
    pub ledger: &'a Ledger,
    /// Events before this time (UTC ms: the end of the tax year).
    pub until_ms: i64,
    /// The events that are half of an own transfer.
    pub own: BTreeSet<i64>,
}

impl std::fmt::Debug for TxStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TxStream").field("until_ms", &self.until_ms).field("own", &self.own.len()).finish()
    }
}

/// The ledger a format reads from as it writes (shown as its name only in debug output).
#[derive(Clone, Copy)]
pub struct LedgerReader<'a>(pub &'a Ledger);

impl std::fmt::Debug for LedgerReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LedgerReader")
    }
}

/// Everything a format writes from: one computed year.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    /// Tax year.
    pub year: i32,
    /// Reporting currency.
    pub currency: String,
    /// The rounded report (rows to the cent, totals = sums of rows).
    pub report: Report,
    /// The engine's disposals, in the report's row order (for lot ids).
    pub disposals: Vec<Disposal>,
    /// Income of the year.
    pub income: Vec<IncomeRow>,
    /// Lots held at the end of the year.
    pub holdings: Vec<Holding>,
    /// Account labels by id.
    pub labels: BTreeMap<i64, String>,
    /// Raw records of the disposing and acquiring events, held in memory (tests); when an
    /// event is not in it, the audit reads its records from `ledger` row by row.
    pub sources: BTreeMap<i64, Vec<RawRef>>,
    /// The ledger the audit reads raw records from as it writes (when gathered for it).
    pub ledger: Option<LedgerReader<'a>>,
    /// Every event up to the end of the year, held in memory (tests); written when `stream`
    /// is `None`.
    pub transactions: Vec<Transaction>,
    /// Every event up to the end of the year, read from the ledger as it is written (when a
    /// transaction format is gathered).
    pub stream: Option<TxStream<'a>>,
    /// The computation's inputs hash (events, legs, values, transfers).
    pub inputs_hash: String,
    /// That hash extended with what only the transaction formats read (labels, hashes, notes),
    /// for `transactions` held in memory; when streamed it is taken during the first walk.
    pub transactions_hash: String,
    /// The extended hash as the first complete walk of `stream` took it.
    pub walked_hash: OnceLock<String>,
    /// Events read.
    pub events_read: u64,
    /// The options.
    pub options: Options,
    /// Legs without a value, counted as zero.
    pub missing_values: usize,
    /// Whether `--allow-missing-prices` was given.
    pub allow_missing_prices: bool,
}

impl<'a> Input<'a> {
    /// Gathers what `formats` need from a computed year.
    pub fn gather(
        ledger: &'a Ledger,
        options: Options,
        computed: &Computed,
        (missing_values, allow_missing_prices): (usize, bool),
        formats: &[&dyn Format],
    ) -> Result<Input<'a>, LedgerError> {
        let year = options.year.unwrap_or(i32::MAX);
        let currency = ledger.reporting_currency()?;
        let labels: BTreeMap<i64, String> = ledger.accounts()?.into_iter().map(|a| (a.id, a.label)).collect();
        let c = &computed.computation;
        let report = crate::tax::year_report(ledger, year, options, computed)?;
        // The audit's raw records are read row by row as it is written, not gathered here.
        let reads_sources = formats.iter().any(|f| f.reads_sources());
        let mut stream = None;
        if formats.iter().any(|f| f.kind() == Kind::Transactions) {
            let own: BTreeSet<i64> =
                ledger.transfer_links()?.into_iter().flat_map(|l| [l.withdrawal, l.deposit]).collect();
            let tx_stream = TxStream { ledger, until_ms: report.zone.year_start_ms(year.saturating_add(1)), own };
            // The manifest's hash of what the files carry is taken as the first file is written
            // ([`Input::for_each_transaction`]): history is read once per file, never whole.
            stream = Some(tx_stream);
        }
        Ok(Input {
            year,
            currency,
            report,
            disposals: c.disposals.clone(),
            income: c.income.clone(),
            holdings: c.holdings.clone(),
            labels,
            sources: BTreeMap::new(),
            ledger: reads_sources.then_some(LedgerReader(ledger)),
            transactions: Vec::new(),
            stream,
            inputs_hash: computed.inputs_hash.clone(),
            transactions_hash: String::new(),
            walked_hash: OnceLock::new(),
            events_read: computed.events,
            options,
            missing_values,
            allow_missing_prices,
        })
    }

    /// The audit's text of what `event` was made from (see [`RawRef`]'s), `; `-separated:
    /// from `sources`, else from the ledger; empty when neither has them.
    pub fn raw_records_text(&self, event: i64) -> io::Result<String> {
        let text = |refs: &[RawRef]| refs.iter().map(RawRef::to_string).collect::<Vec<_>>().join("; ");
        if let Some(refs) = self.sources.get(&event) {
            return Ok(text(refs));
        }
        match self.ledger {
            Some(LedgerReader(ledger)) => Ok(text(&ledger.sources_of_event(event).map_err(io::Error::other)?)),
            None => Ok(String::new()),
        }
    }

    /// Calls `each` with every exported event up to the end of the year, in time order:
    /// from the ledger one at a time (`stream`), else from `transactions`.
    pub fn for_each_transaction(&self, mut each: impl FnMut(&Transaction) -> io::Result<()>) -> io::Result<()> {
        let Some(stream) = &self.stream else {
            return self.transactions.iter().try_for_each(each);
        };
        let io = |e| match e {
            WalkError::Io(e) => e,
            WalkError::Ledger(e) => io::Error::other(e),
        };
        if self.walked_hash.get().is_some() {
            return walk_transactions(stream, &self.currency, each).map_err(io);
        }
        // The first walk also hashes what it hands out, for the manifest.
        let mut hasher = TransactionsHasher::new(&self.inputs_hash);
        walk_transactions(stream, &self.currency, |t| {
            hasher.add(t);
            each(t)
        })
        .map_err(io)?;
        // Another thread's walk may have set it first: the same events, the same hash.
        let _ = self.walked_hash.set(hasher.finish());
        Ok(())
    }

    /// The manifest's `inputs.sha256` of a transaction file: the hash the walk that wrote it
    /// took (a walk of its own only if the format read no history).
    fn transactions_sha256(&self) -> io::Result<String> {
        if self.stream.is_none() {
            return Ok(self.transactions_hash.clone());
        }
        if self.walked_hash.get().is_none() {
            self.for_each_transaction(|_| Ok(()))?;
        }
        Ok(self.walked_hash.get().cloned().unwrap_or_default())
    }
}

/// Why a walk over the exported events stopped.
#[derive(Debug)]
enum WalkError {
    Ledger(LedgerError),
    Io(io::Error),
}

impl From<WalkError> for LedgerError {
    fn from(e: WalkError) -> LedgerError {
        match e {
            WalkError::Ledger(e) => e,
            WalkError::Io(e) => LedgerError::Corrupt(e.to_string()),
        }
    }
}

/// Every event before the stream's end with its legs' values, as the transaction formats write
/// it, one at a time; internal transfers (spot ↔ earn in one account) are left out: they move
/// nothing between holdings.
fn walk_transactions(
    stream: &TxStream<'_>,
    currency: &str,
    mut each: impl FnMut(&Transaction) -> io::Result<()>,
) -> Result<(), WalkError> {
    let mut failed = None;
    stream
        .ledger
        .for_each_valued_event(currency, stream.until_ms, |event, values| {
            if event.kind == EventKind::InternalTransfer {
                return std::ops::ControlFlow::Continue(());
            }
            let legs = event
                .legs
                .iter()
                .zip(values)
                .map(|(l, value)| TxLeg { role: l.role, asset: l.asset.clone(), amount: l.amount.abs(), value: *value })
                .collect();
            let transaction = Transaction {
                id: event.id,
                account: event.account.clone(),
                time_ms: event.time.timestamp_millis(),
                kind: event.kind,
                legs,
                tx_hash: event.tx_hash.clone(),
                external_id: event.external_id.clone(),
                note: event.note.clone(),
                own_transfer: stream.own.contains(&event.id),
            };
            match each(&transaction) {
                Ok(()) => std::ops::ControlFlow::Continue(()),
                Err(e) => {
                    failed = Some(e);
                    std::ops::ControlFlow::Break(())
                }
            }
        })
        .map_err(WalkError::Ledger)?;
    failed.map_or(Ok(()), |e| Err(WalkError::Io(e)))
}

/// The computation's hash extended with the fields only transaction formats write, one event
/// at a time.
struct TransactionsHasher(Sha256);

impl TransactionsHasher {
    fn new(inputs_hash: &str) -> TransactionsHasher {
        let mut hasher = Sha256::new();
        hasher.update(inputs_hash.as_bytes());
        TransactionsHasher(hasher)
    }

    fn add(&mut self, t: &Transaction) {
        let hasher = &mut self.0;
        hasher.update(t.id.to_le_bytes());
        for field in [Some(&t.account), t.tx_hash.as_ref(), Some(&t.external_id), t.note.as_ref()] {
            hasher.update(field.map(String::as_bytes).unwrap_or(b"-"));
            hasher.update(b"\0");
        }
        hasher.update([u8::from(t.own_transfer)]);
    }

    fn finish(self) -> String {
        crate::digest::hex(&self.0.finalize())
    }
}

/// The options a file was made with, as its manifest records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestOptions {
    /// Lot identification.
    pub method: &'static str,
    /// The lot tracking asked for (`us` resolves by year).
    pub lots: &'static str,
    /// The tracking in force in the year.
    pub lots_in_year: &'static str,
    /// Network fees of own transfers.
    pub transfer_fees: &'static str,
    /// Whether legs without a value were allowed (counted as zero).
    pub allow_missing_prices: bool,
    /// `method` was a what-if over all of history: the elections were not applied.
    pub method_what_if: bool,
    /// The lot identification elections applied.
    pub elections: Vec<crate::tax::report::ElectionJson>,
    /// The time zone of the dates and of the tax year's bounds (the ledger's `timezone`).
    pub timezone: &'static str,
    /// How rebates were taxed (the ledger's `rebates`: `income` or `basis`).
    pub rebates: &'static str,
}

/// What went in: a hash of exactly the inputs read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestInputs {
    /// SHA-256 of the events, legs, values and transfers read (transaction formats add the
    /// account labels, hashes, source ids and notes they write).
    pub sha256: String,
    /// Events read.
    pub events: u64,
    /// Legs without a value (counted as zero).
    pub missing_values: usize,
}

/// What came out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestOutput {
    /// The file's name (no directory), or `-` for stdout.
    pub file: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
    /// Data rows (header aside).
    pub rows: usize,
}

/// The rows of a gains file whose basis is unknown (counted as zero): how many, and the
/// disposing events behind them, so that no `0.00` basis passes unseen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManifestMissingBasis {
    /// Rows with an unknown basis.
    pub rows: usize,
    /// Their disposing events (sorted, each once).
    pub events: Vec<i64>,
}

impl ManifestMissingBasis {
    /// The rows of `input`'s report with an unknown basis.
    pub fn of(input: &Input) -> ManifestMissingBasis {
        let missing = input.report.lines.iter().filter(|l| l.basis_missing);
        let events: BTreeSet<i64> = missing.clone().map(|l| l.event_id).collect();
        ManifestMissingBasis { rows: missing.count(), events: events.into_iter().collect() }
    }
}

/// Written beside every export (`<file>.manifest.json`): no timestamp, so the same inputs and
/// options give the same manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// The cointally version that wrote it.
    pub cointally: &'static str,
    /// The format's name.
    pub format: &'static str,
    /// Gains or transactions.
    pub kind: &'static str,
    /// Tax year (transaction formats: every event up to its end).
    pub year: i32,
    /// Reporting currency.
    pub currency: String,
    /// The options.
    pub options: ManifestOptions,
    /// The inputs.
    pub inputs: ManifestInputs,
    /// Gains files: the rows whose basis is unknown (absent from transaction files).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basis_missing: Option<ManifestMissingBasis>,
    /// The file.
    pub output: ManifestOutput,
}

/// A rendered export: its bytes and its manifest.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Its manifest.
    pub manifest: Manifest,
}

/// Renders `format` from `input` in memory; `file` is the name the manifest records.
pub fn render(format: &dyn Format, input: &Input, file: &str) -> io::Result<Rendered> {
    let mut bytes = Vec::new();
    let manifest = write_to(format, input, file, &mut bytes)?;
    Ok(Rendered { bytes, manifest })
}

/// Writes `format` from `input` to `out` as it is made (nothing of it held in memory) and
/// returns its manifest; `file` is the name the manifest records.
pub fn write_to(format: &dyn Format, input: &Input, file: &str, out: &mut dyn Write) -> io::Result<Manifest> {
    let mut out = crate::digest::Hashing::new(out);
    let rows = format.write(input, &mut out)?;
    out.flush()?;
    let (output_sha256, size) = out.finish();
    let options = &input.options;
    let (sha256, events) = match format.kind() {
        Kind::Gains => (input.inputs_hash.clone(), input.events_read),
        Kind::Transactions => (input.transactions_sha256()?, input.events_read),
    };
    let manifest = Manifest {
        cointally: env!("CARGO_PKG_VERSION"),
        format: format.name(),
        kind: format.kind().as_str(),
        year: input.year,
        currency: input.currency.clone(),
        options: ManifestOptions {
            method: options.method.as_str(),
            lots: options.tracking.as_str(),
            lots_in_year: options.tracking.in_year(input.year).as_str(),
            transfer_fees: options.transfer_fees.as_str(),
            allow_missing_prices: input.allow_missing_prices,
            method_what_if: options.what_if,
            elections: crate::tax::report::elections_json(&input.report.elections),
            timezone: input.report.zone.name(),
            rebates: input.report.rebates.as_str(),
        },
        inputs: ManifestInputs { sha256, events, missing_values: input.missing_values },
        basis_missing: (format.kind() == Kind::Gains).then(|| ManifestMissingBasis::of(input)),
        output: ManifestOutput { file: file.to_owned(), sha256: output_sha256, bytes: size, rows },
    };
    Ok(manifest)
}

impl Manifest {
    /// The manifest as pretty JSON with a final newline.
    pub fn to_json(&self) -> io::Result<Vec<u8>> {
        let mut out = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        out.push(b'\n');
        Ok(out)
    }
}

/// The path of the manifest written beside `file`.
pub fn manifest_path(file: &Path) -> std::path::PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".manifest.json");
    name.into()
}

/// Writes `format` to `path` and its manifest beside it; returns the manifest. The file is
/// streamed into a temporary file beside it, renamed over `path` once complete: a failure
/// half-way leaves the file that was there.
pub fn write_file(format: &dyn Format, input: &Input, path: &Path) -> io::Result<Manifest> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    let manifest = {
        let mut out = io::BufWriter::new(temp.as_file_mut());
        let manifest = write_to(format, input, &name, &mut out)?;
        out.flush()?;
        manifest
    };
    temp.persist(path).map_err(|e| e.error)?;
    std::fs::write(manifest_path(path), manifest.to_json()?)?;
    Ok(manifest)
}

/// The default file name of an export: `<format>-<year>.csv`.
pub fn default_file_name(format: &dyn Format, year: i32) -> String {
    format!("{}-{year}.csv", format.name())
}

/// `MM/DD/YYYY`, the local date in `zone` (the ledger's time zone): the IRS forms' and US
/// software's date.
fn us_date(zone: Zone, time_ms: i64) -> String {
    zone.local(time_ms).format("%m/%d/%Y").to_string()
}

/// `YYYY-MM-DD` (local in `zone`).
fn iso_date(zone: Zone, time_ms: i64) -> String {
    zone.local(time_ms).format("%Y-%m-%d").to_string()
}

/// `YYYY-MM-DD HH:MM:SS` (local in `zone`).
fn iso_time(zone: Zone, time_ms: i64) -> String {
    zone.local(time_ms).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The column header of a date in `zone`: `Date (UTC)`, `Acquired (America/New_York)`.
fn dated(what: &str, zone: Zone) -> String {
    format!("{what} ({})", zone.name())
}

fn utc(time_ms: i64) -> DateTime<Utc> {
    from_millis(time_ms)
}

/// A hand-made input: an example history and the Form 8949 rows it yields.
#[cfg(test)]
pub(crate) mod tests_support {
    use std::collections::BTreeMap;

    use cointally_exchanges::{EventKind, LegRole};
    use rust_decimal::Decimal;

    use super::{Input, Transaction, TxLeg};
    use crate::ledger::{DisposalKind, Term};
    use crate::tax::Options;
    use crate::tax::report::{Figures, Line, Report};

    fn ms(text: &str) -> i64 {
        cointally_exchanges::time::parse_utc(text).unwrap().timestamp_millis()
    }

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn line(amount: &str, asset: &str, acquired: &str, disposed: &str, proceeds: &str, basis: &str) -> Line {
        let (acquired_ms, disposed_ms) = (ms(acquired), ms(disposed));
        Line {
            asset: asset.into(),
            amount: dec(amount),
            acquired_ms,
            disposed_ms,
            proceeds: dec(proceeds),
            cost_basis: dec(basis),
            term: crate::tax::holding::term(crate::tax::zone::Zone::UTC, acquired_ms, disposed_ms),
            account: "Kraken".into(),
            kind: DisposalKind::Sale,
            basis_missing: false,
            form_box: crate::tax::boxes::FormBox::of(
                2025,
                crate::tax::holding::term(crate::tax::zone::Zone::UTC, acquired_ms, disposed_ms),
                crate::tax::boxes::Reported::No,
            ),
            adjustment: None,
            price_missing: false,
            event_id: 1,
        }
    }

    fn leg(role: LegRole, amount: &str, asset: &str, value: &str) -> TxLeg {
        TxLeg { role, asset: asset.into(), amount: dec(amount), value: Some(dec(value)) }
    }

    fn tx(n: i64, time: &str, kind: EventKind, legs: Vec<TxLeg>, note: &str) -> Transaction {
        Transaction {
            id: n,
            account: "Kraken".into(),
            time_ms: ms(time),
            kind,
            legs,
            tx_hash: None,
            external_id: format!("e{n}"),
            note: Some(note.into()),
            own_transfer: false,
        }
    }

    /// The input.
    pub fn sample_input() -> Input<'static> {
        use LegRole::{Fee, Received, Sent};
        let lines = vec![
            line("1.5", "ETH", "2023-02-01 12:00:00", "2025-03-05 12:00:00", "3450.00", "2400.00"),
            line("0.2", "BTC", "2025-01-15 10:30:00", "2025-06-20 16:45:00", "20995.00", "18004.00"),
            line("0.05", "BTC", "2025-01-15 10:30:00", "2025-08-01 12:00:00", "5000.00", "4501.00"),
        ];
        assert_eq!(lines[0].term, Term::Long);
        let transactions = vec![
            tx(
                1,
                "2025-01-15 10:30:00",
                EventKind::Trade,
                vec![
                    leg(Sent, "45000", "USD", "45000"),
                    leg(Received, "0.5", "BTC", "45000"),
                    leg(Fee, "10", "USD", "10"),
                ],
                "Buy BTC",
            ),
            tx(
                2,
                "2025-03-02 14:00:00",
                EventKind::Trade,
                vec![
                    leg(Sent, "0.1", "BTC", "9000"),
                    leg(Received, "3", "ETH", "9000"),
                    leg(Fee, "0.0002", "BTC", "18"),
                ],
                "Swap BTC for ETH",
            ),
            tx(
                3,
                "2025-04-10 09:00:00",
                EventKind::Staking,
                vec![leg(Received, "0.01", "ETH", "18")],
                "Staking reward",
            ),
            tx(
                4,
                "2025-06-20 16:45:00",
                EventKind::Trade,
                vec![
                    leg(Sent, "0.2", "BTC", "21000"),
                    leg(Received, "21000", "USD", "21000"),
                    leg(Fee, "5", "USD", "5"),
                ],
                "Sell BTC",
            ),
        ];
        let options = Options::us(Some(2025));
        Input {
            year: 2025,
            currency: "USD".into(),
            report: Report {
                year: 2025,
                currency: "USD".into(),
                options,
                totals: Figures::default(),
                assets: BTreeMap::new(),
                income_by_kind: BTreeMap::new(),
                lines,
                inputs_hash: String::new(),
                elections: Vec::new(),
                zone: crate::tax::zone::Zone::UTC,
                rebates: crate::tax::rebates::Rebates::Income,
                allocation: None,
            },
            disposals: Vec::new(),
            income: Vec::new(),
            holdings: Vec::new(),
            labels: BTreeMap::new(),
            sources: BTreeMap::new(),
            transactions,
            stream: None,
            ledger: None,
            inputs_hash: String::new(),
            transactions_hash: String::new(),
            walked_hash: std::sync::OnceLock::new(),
            events_read: 4,
            options,
            missing_values: 0,
            allow_missing_prices: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_issue_format_is_there() {
        let names: BTreeSet<&str> = FORMATS.iter().map(|f| f.name()).collect();
        assert_eq!(names.len(), FORMATS.len());
        for name in [
            "form8949",
            "schedule-d",
            "turbotax",
            "taxact",
            "income",
            "holdings",
            "audit",
            "koinly",
            "cointracker",
            "coinledger",
            "cointracking",
            "bittytax",
            "turbotax-universal",
        ] {
            assert!(find(name).is_some(), "{name}");
        }
        assert!(find("hrblock").is_none());
    }

    #[test]
    fn dates_are_utc_in_each_layout() {
        // 2025-01-15 10:30:00 UTC (the first example row).
        let t = 1_736_937_000_000;
        assert_eq!(us_date(Zone::UTC, t), "01/15/2025");
        assert_eq!(iso_date(Zone::UTC, t), "2025-01-15");
        assert_eq!(iso_time(Zone::UTC, t), "2025-01-15 10:30:00");
    }

    #[test]
    fn dates_are_local_in_the_ledgers_zone() {
        // 2026-01-01 01:00 UTC is 2025-12-31 20:00 in New York (EST, UTC−5).
        let t = 1_767_229_200_000;
        let ny: Zone = "America/New_York".parse().unwrap();
        assert_eq!(us_date(ny, t), "12/31/2025");
        assert_eq!(iso_date(ny, t), "2025-12-31");
        assert_eq!(iso_time(ny, t), "2025-12-31 20:00:00");
        assert_eq!(us_date(Zone::UTC, t), "01/01/2026");
        assert_eq!(dated("Date", ny), "Date (America/New_York)");
    }

    #[test]
    fn manifest_paths_sit_beside_the_file() {
        assert_eq!(manifest_path(Path::new("out/form8949-2025.csv")), Path::new("out/form8949-2025.csv.manifest.json"));
    }
}
