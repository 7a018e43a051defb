//! The year's figures: proceeds, basis, short- and long-term gain and income, per asset and
//! in total, and the disposal rows behind them.
//!
//! Every sale is rounded to the cent as a whole (half away from zero) and its cents spread over
//! its lot fragments ([`spread_cents`]), so a sale's rows add up to its own rounded proceeds and
//! basis; a row's gain is its rounded proceeds less its rounded basis, and totals are sums of
//! rounded rows: so the rows of a Form 8949 export add up to these totals exactly. The year's
//! income is rounded once and its cents spread over its rows the same way, so the income
//! export's rows add up to it.

use std::collections::BTreeMap;

use cointally_exchanges::amount::format_amount;
use rust_decimal::Decimal;
use serde::Serialize;

use super::Options;
use super::boxes::{FormBox, Reported, is_us_broker, presumed};
use super::engine::Computation;
use super::rebates::Rebates;
use super::reconcile::{Reconciliation, adjustments};
use super::zone::Zone;
use crate::ledger::{Disposal, DisposalKind, Term};

pub use super::rounding::cents;
use super::rounding::spread_cents;

/// A money amount as text: two decimals, never an exponent.
pub fn money(amount: Decimal) -> String {
    format!("{:.2}", cents(amount))
}

/// The five figures of a total or of an asset, rounded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    /// Amount realized.
    pub proceeds: Decimal,
    /// Basis of what was disposed of.
    pub cost_basis: Decimal,
    /// Gain (or loss, negative) held one year or less.
    pub short_term_gain: Decimal,
    /// Gain (or loss) held more than one year.
    pub long_term_gain: Decimal,
    /// Income received.
    pub income: Decimal,
}

/// One disposal row, rounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Asset.
    pub asset: String,
    /// Units.
    pub amount: Decimal,
    /// Acquisition time (UTC ms).
    pub acquired_ms: i64,
    /// Disposal time (UTC ms).
    pub disposed_ms: i64,
    /// Proceeds, to the cent.
    pub proceeds: Decimal,
    /// Basis, to the cent.
    pub cost_basis: Decimal,
    /// Short or long.
    pub term: Term,
    /// The account's label.
    pub account: String,
    /// Sale, fee or transfer fee.
    pub kind: DisposalKind,
    /// The basis is unknown (zero counted).
    pub basis_missing: bool,
    /// A price is missing (zero counted).
    pub price_missing: bool,
    /// The disposing event.
    pub event_id: i64,
    /// The Form 8949 box ([`Report::classify`]; I/L, or C/F before 2025, until then).
    pub form_box: FormBox,
    /// Columns (f) and (g) where a broker's Form 1099-DA says otherwise (see
    /// [`super::reconcile`]); `None` when it agrees or there is none.
    pub adjustment: Option<Adjustment>,
}

/// A Form 8949 row that carries a broker's figures: the proceeds (d) and basis (e) to write,
/// the codes for column (f) and the amount for (g), so that (d) − (e) + (g) is cointally's gain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment {
    /// Column (d): the proceeds the broker reported.
    pub proceeds: Decimal,
    /// Column (e): the basis the broker reported (boxes G/J) or cointally's (others).
    pub cost_basis: Decimal,
    /// Column (f): codes, alphabetical, no separator (`BE`).
    pub codes: String,
    /// Column (g).
    pub amount: Decimal,
}

impl Line {
    /// Rounded proceeds less rounded basis.
    pub fn gain(&self) -> Decimal {
        self.proceeds - self.cost_basis
    }
}

/// A year's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Tax year.
    pub year: i32,
    /// Reporting currency.
    pub currency: String,
    /// The options.
    pub options: Options,
    /// All assets together.
    pub totals: Figures,
    /// Per asset, by symbol.
    pub assets: BTreeMap<String, Figures>,
    /// Income per kind.
    pub income_by_kind: BTreeMap<String, Decimal>,
    /// The rows, in time order.
    pub lines: Vec<Line>,
    /// SHA-256 of the inputs.
    pub inputs_hash: String,
    /// The lot identification elections applied (none under a what-if method).
    pub elections: Vec<crate::ledger::Election>,
    /// The time zone whose local dates the rows are dated in (the ledger's `timezone`).
    pub zone: Zone,
    /// How rebates were taxed (the ledger's `rebates`).
    pub rebates: Rebates,
    /// How the 2025 allocation of unused basis was made, for a US-rule year from 2025
    /// ([`allocation_note`]); `None` otherwise.
    pub allocation: Option<String>,
}

/// What a report says of the 2025 allocation: the stored one, or that none is stored and the
/// global rule was computed (`stored`: the rule of the stored one).
pub fn allocation_note(stored: Option<crate::ledger::AllocationRule>) -> String {
    match stored {
        Some(rule) => format!("stored {} allocation (`cointally basis allocation` shows it)", rule.as_str()),
        None => "no allocation stored; computed the global rule — run `cointally basis allocate`".to_owned(),
    }
}

impl Report {
    /// Sums up a year's computation; `labels` names the accounts.
    pub fn new(
        year: i32,
        currency: &str,
        options: Options,
        computation: &Computation,
        labels: &BTreeMap<i64, String>,
        inputs_hash: &str,
    ) -> Report {
        // Per asset, the proceeds and basis of its lines by term (short, long); the figures are
        // made from them once the lines are (the gains as their differences: sums of cents are
        // exact, so they are the sums of the lines' gains, at a third of the additions).
        let mut sums: BTreeMap<String, [(Decimal, Decimal); 2]> = BTreeMap::new();
        let mut lines = Vec::with_capacity(computation.disposals.len());
        let disposals = &computation.disposals;
        let mut start = 0;
        while start < disposals.len() {
            // One sale: the fragments one disposal made (consecutive, same event, kind, asset).
            let first = &disposals[start];
            let end = start
                + disposals[start..]
                    .iter()
                    .take_while(|d| (d.event_id, d.kind, &d.asset) == (first.event_id, first.kind, &first.asset))
                    .count();
            let sale = &disposals[start..end];
            let mut add = |d: &Disposal, proceeds: Decimal, cost_basis: Decimal| {
                let line = Line {
                    asset: d.asset.clone(),
                    amount: d.amount,
                    acquired_ms: d.acquired_ms,
                    disposed_ms: d.disposed_ms,
                    proceeds,
                    cost_basis,
                    term: d.term,
                    account: labels.get(&d.account_id).cloned().unwrap_or_default(),
                    kind: d.kind,
                    basis_missing: d.basis_missing,
                    price_missing: d.price_missing,
                    event_id: d.event_id,
                    form_box: FormBox::of(year, d.term, Reported::No),
                    adjustment: None,
                };
                // The asset's sums, made once per asset (not a key copied per line).
                let by_term = match sums.get_mut(&d.asset) {
                    Some(by_term) => by_term,
                    None => sums.entry(d.asset.clone()).or_default(),
                };
                let (proceeds, basis) = &mut by_term[usize::from(line.term == Term::Long)];
                *proceeds += line.proceeds;
                *basis += line.cost_basis;
                lines.push(line);
            };
            // A sale of one lot (most sales) is its own cents; the spread is for several.
            if let [one] = sale {
                add(one, cents(one.proceeds), cents(one.cost_basis));
            } else {
                let proceeds = spread_cents(&sale.iter().map(|d| d.proceeds).collect::<Vec<_>>());
                let bases = spread_cents(&sale.iter().map(|d| d.cost_basis).collect::<Vec<_>>());
                for ((d, proceeds), cost_basis) in sale.iter().zip(proceeds).zip(bases) {
                    add(d, proceeds, cost_basis);
                }
            }
            start = end;
        }
        let mut totals = Figures::default();
        let mut assets: BTreeMap<String, Figures> = sums
            .into_iter()
            .map(|(asset, [(short_proceeds, short_basis), (long_proceeds, long_basis)])| {
                let figures = Figures {
                    proceeds: short_proceeds + long_proceeds,
                    cost_basis: short_basis + long_basis,
                    short_term_gain: short_proceeds - short_basis,
                    long_term_gain: long_proceeds - long_basis,
                    income: Decimal::ZERO,
                };
                totals.proceeds += figures.proceeds;
                totals.cost_basis += figures.cost_basis;
                totals.short_term_gain += figures.short_term_gain;
                totals.long_term_gain += figures.long_term_gain;
                (asset, figures)
            })
            .collect();
        let mut income_by_kind: BTreeMap<String, Decimal> = BTreeMap::new();
        // The year's income rounded once, its cents spread over the rows (as a sale's over its
        // fragments): a year of hourly earnings worth a fraction of a cent each would round to
        // nothing row by row, and any many small rows drift.
        let income = spread_cents(&computation.income.iter().map(|i| i.value).collect::<Vec<_>>());
        for (i, value) in computation.income.iter().zip(income) {
            totals.income += value;
            assets.entry(i.asset.clone()).or_default().income += value;
            *income_by_kind.entry(i.kind.as_str().to_owned()).or_default() += value;
        }
        // An asset whose five figures are all zero (a fee credit worth nothing) is noise.
        assets.retain(|_, f| *f != Figures::default());
        Report {
            year,
            currency: currency.to_owned(),
            options,
            totals,
            assets,
            income_by_kind,
            lines,
            inputs_hash: inputs_hash.to_owned(),
            elections: Vec::new(),
            zone: Zone::UTC,
            rebates: Rebates::Income,
            allocation: None,
        }
    }

    /// Takes the ledger's time zone and rebate treatment (what the computation was made with)
    /// for the dates and the manifest.
    pub fn with_ledger_settings(
        mut self,
        ledger: &crate::ledger::Ledger,
    ) -> Result<Report, crate::ledger::LedgerError> {
        self.zone = Zone::of_ledger(ledger)?;
        self.rebates = Rebates::of_ledger(ledger)?;
        Ok(self)
    }

    /// Puts each row in its Form 8949 box: `disposals` are the engine's rows behind the lines
    /// (same order), `exchanges` the accounts' exchange names by id. What a broker reported is
    /// presumed from the exchange and the dates ([`presumed`]).
    pub fn classify(&mut self, disposals: &[Disposal], exchanges: &BTreeMap<i64, String>) {
        // Whether each account is a US broker's, once per account (not a name parsed per line).
        let brokers: BTreeMap<i64, bool> =
            exchanges.iter().map(|(id, exchange)| (*id, is_us_broker(exchange))).collect();
        for (line, d) in self.lines.iter_mut().zip(disposals) {
            let reported = presumed(
                brokers.get(&d.account_id).copied().unwrap_or(false),
                d.kind == DisposalKind::Sale,
                d.disposed_ms,
                d.acquired_ms,
                d.acquired_here,
                self.zone,
            );
            line.form_box = FormBox::of(self.year, d.term, reported);
        }
    }

    /// Puts the rows of accounts with an imported 1099-DA in the boxes their statement says:
    /// G/J or H/K for matched sales (with the broker's figures and an adjustment where they
    /// differ), I/L for the rest. `disposals` are the engine's rows behind the lines.
    pub fn apply(&mut self, reconciliation: &Reconciliation, disposals: &[Disposal]) {
        for (line, d) in self.lines.iter_mut().zip(disposals) {
            if reconciliation.accounts.contains(&d.account_id) {
                line.form_box = FormBox::of(self.year, d.term, Reported::No);
            }
        }
        for matched in &reconciliation.matched {
            let reported = if matched.row.basis_reported { Reported::WithBasis } else { Reported::ProceedsOnly };
            let Some(lines) = self.lines.get_mut(matched.sale.lines.clone()) else { continue };
            for line in lines.iter_mut() {
                line.form_box = FormBox::of(self.year, line.term, reported);
            }
            let adjustments = adjustments(matched, lines, reported == Reported::WithBasis);
            for (line, adjustment) in lines.iter_mut().zip(adjustments) {
                line.adjustment = adjustment;
            }
        }
    }

    /// The `--json` shape (a contract: `year`, `jurisdiction`, `method`, `lots`, `currency`,
    /// `totals`, `assets`, `disposals`; other fields are additions).
    pub fn to_json(&self) -> Json {
        Json { disposals: self.json_disposals().collect(), ..self.json_head() }
    }

    /// [`Report::to_json`] with `closed`, as `report --json` writes it: every member but the
    /// disposals made at once (keys in order, as a `serde_json::Value` prints them), the
    /// disposals made from the lines one at a time while they are written (a year of a
    /// million events is hundreds of MB as JSON values).
    pub fn into_json_document(self, closed: Option<crate::closed::ClosedJson>) -> serde_json::Result<JsonDocument> {
        let head = match serde_json::to_value(Json { closed, ..self.json_head() })? {
            serde_json::Value::Object(head) => head,
            _ => serde_json::Map::new(),
        };
        Ok(JsonDocument { head, report: self })
    }

    /// The document without its disposals (an empty list).
    fn json_head(&self) -> Json {
        let figures = |asset: Option<&str>, f: &Figures| JsonFigures {
            asset: asset.map(str::to_owned),
            proceeds: money(f.proceeds),
            cost_basis: money(f.cost_basis),
            short_term_gain: money(f.short_term_gain),
            long_term_gain: money(f.long_term_gain),
            income: money(f.income),
        };
        Json {
            year: self.year,
            jurisdiction: "US",
            method: self.options.method.as_str(),
            lots: self.options.tracking.in_year(self.year).as_str(),
            lots_rule: self.options.tracking.as_str(),
            transfer_fees: self.options.transfer_fees.as_str(),
            currency: self.currency.clone(),
            totals: figures(None, &self.totals),
            income_by_kind: self.income_by_kind.iter().map(|(k, v)| (k.clone(), money(*v))).collect(),
            assets: self.assets.iter().map(|(a, f)| figures(Some(a), f)).collect(),
            disposals: Vec::new(),
            inputs_hash: self.inputs_hash.clone(),
            method_what_if: self.options.what_if,
            elections: elections_json(&self.elections),
            allocation: self.allocation.clone(),
            cointally: env!("CARGO_PKG_VERSION"),
            timezone: self.zone.name(),
            rebates: self.rebates.as_str(),
            closed: None,
        }
    }

    /// The `disposals` member, one line at a time.
    fn json_disposals(&self) -> impl ExactSizeIterator<Item = JsonDisposal> + '_ {
        self.lines.iter().map(|l| JsonDisposal {
            asset: l.asset.clone(),
            amount: format_amount(l.amount),
            acquired: self.zone.date(l.acquired_ms).to_string(),
            disposed: self.zone.date(l.disposed_ms).to_string(),
            proceeds: money(l.proceeds),
            cost_basis: money(l.cost_basis),
            gain: money(l.gain()),
            term: l.term.as_str(),
            account: l.account.clone(),
            kind: l.kind.as_str(),
            event: l.event_id,
            basis_missing: l.basis_missing,
            price_missing: l.price_missing,
            form_box: l.form_box.as_str(),
        })
    }
}

/// A year's `report --json` document, written as it is serialized ([`Report::into_json_document`]):
/// the same bytes as [`Report::to_json`] with `closed`, printed through a `serde_json::Value`.
pub struct JsonDocument {
    /// Every member, the disposals an empty list, in the order a `Value` keeps them.
    head: serde_json::Map<String, serde_json::Value>,
    report: Report,
}

impl Serialize for JsonDocument {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        /// The lines as the `disposals` list.
        struct Disposals<'r>(&'r Report);
        impl Serialize for Disposals<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.json_disposals())
            }
        }
        let mut map = serializer.serialize_map(Some(self.head.len()))?;
        for (key, value) in &self.head {
            if key == "disposals" {
                map.serialize_entry(key, &Disposals(&self.report))?;
            } else {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

/// `report --json`.
#[derive(Debug, Serialize)]
pub struct Json {
    year: i32,
    jurisdiction: &'static str,
    method: &'static str,
    lots: &'static str,
    lots_rule: &'static str,
    transfer_fees: &'static str,
    currency: String,
    totals: JsonFigures,
    income_by_kind: BTreeMap<String, String>,
    assets: Vec<JsonFigures>,
    disposals: Vec<JsonDisposal>,
    inputs_hash: String,
    /// `method` was given as a what-if over all of history: the elections were not applied.
    method_what_if: bool,
    /// The elections applied.
    elections: Vec<ElectionJson>,
    /// How the 2025 allocation was made (US rule, years from 2025).
    #[serde(skip_serializing_if = "Option::is_none")]
    allocation: Option<String>,
    /// The version that computed it (with `inputs_hash` and the options: the manifest).
    cointally: &'static str,
    /// The time zone of the dates and the tax year's bounds (IANA name, `UTC` by default).
    timezone: &'static str,
    /// How rebates were taxed: `income` or `basis`.
    rebates: &'static str,
    /// The closed years and how this year relates to them (`report` sets it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed: Option<crate::closed::ClosedJson>,
}

/// An election as reports and manifests show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ElectionJson {
    /// Its id.
    pub id: i64,
    /// The method.
    pub method: String,
    /// The date it is in force from (from its local midnight in the ledger's time zone).
    pub from: String,
    /// The account's label; `null` for every account.
    pub account: Option<String>,
}

/// The elections as reports and manifests show them.
pub fn elections_json(elections: &[crate::ledger::Election]) -> Vec<ElectionJson> {
    elections
        .iter()
        .map(|e| ElectionJson {
            id: e.id,
            method: e.method.clone(),
            from: super::holding::utc_date(e.from_ms).to_string(),
            account: e.account.clone(),
        })
        .collect()
}

#[derive(Debug, Serialize)]
struct JsonFigures {
    #[serde(skip_serializing_if = "Option::is_none")]
    asset: Option<String>,
    proceeds: String,
    cost_basis: String,
    short_term_gain: String,
    long_term_gain: String,
    income: String,
}

/// One disposal of `report --json`. Its fields are in the order of their names: written one at
/// a time ([`JsonDocument`]) it must come out as a `serde_json::Value` of it prints.
#[derive(Debug, Serialize)]
struct JsonDisposal {
    account: String,
    acquired: String,
    amount: String,
    asset: String,
    basis_missing: bool,
    /// The Form 8949 box (C/F before 2025, G–L from 2025).
    #[serde(rename = "box")]
    form_box: &'static str,
    cost_basis: String,
    disposed: String,
    event: i64,
    gain: String,
    kind: &'static str,
    price_missing: bool,
    proceeds: String,
    term: &'static str,
}
