//! Closed (filed) years read back: what a report's manifest says of them, the year computed
//! again as if it were open, and the `check` finding `closed_year_changed` when that differs
//! from what was filed.
//!
//! A closed year (`cointally year close`, [`crate::ledger::closed`]) is never recomputed for
//! later years: they start from its filed lots. Comparing it with today's ledger is the job of
//! [`recompute`], which computes the year from the snapshot before it (the previous closed
//! year's lots, or the first event) exactly as a report of an open year would, and of the run
//! manifests of [`crate::diff`], which name the disposals and the input changes behind a
//! difference.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::check::{Finding, Item};
use crate::diff::{Changes, RunDiff, RunManifest};
use crate::ledger::closed::ClosedYear;
use crate::ledger::{DisposalKind, EventFilter, Holding, Ledger, LedgerError, Term};
use crate::tax::report::{Line, Report, money};
use crate::tax::years::{self, Start};
use crate::tax::{Computed, Method, Options, Tracking, TransferFees};
use crate::transfers::Matching;

/// One closed year as a report's manifest shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClosedYearJson {
    /// The year.
    pub year: i32,
    /// Its `inputs_hash` when it was closed.
    pub inputs_hash: String,
    /// When it was closed (RFC 3339, UTC).
    pub closed_at: String,
    /// A write touched what it read since (`check` says whether its figures changed).
    pub inputs_changed: bool,
}

/// The `closed` member of `report --json`: whether this year is closed (then the document is
/// the filed one), which closed year the computation started from, and every closed year.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClosedJson {
    /// This year is closed: the figures are the filed ones.
    pub this_year: bool,
    /// This year was computed from the lots filed with this closed year.
    pub starts_from: Option<i32>,
    /// The ledger's closed years, oldest first.
    pub years: Vec<ClosedYearJson>,
}

impl ClosedJson {
    /// The manifest member for `year` of a computation under `options` (closed years of other
    /// options are listed but not started from; none is under `--from-scratch`, `start`).
    pub fn of(ledger: &Ledger, year: i32, options: &Options, start: Start) -> Result<ClosedJson, LedgerError> {
        let all = ledger.closed_years()?;
        let applied = match start {
            Start::Snapshot => years::closed_years(ledger, options)?,
            Start::Scratch => Vec::new(),
        };
        Ok(ClosedJson {
            this_year: applied.contains(&year),
            starts_from: applied.iter().copied().filter(|c| *c < year).max(),
            years: all
                .into_iter()
                .map(|c| ClosedYearJson {
                    year: c.year,
                    inputs_hash: c.inputs_hash,
                    closed_at: c.closed_at,
                    inputs_changed: c.inputs_changed,
                })
                .collect(),
        })
    }
}

/// Units and basis held at a year's end, per asset (exact decimal text): what a closed year
/// carries out, compared by `check`.
pub fn holdings_by_asset(holdings: &[Holding]) -> BTreeMap<String, (String, String)> {
    let mut sums: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    for h in holdings {
        let (units, basis) = sums.entry(h.asset.clone()).or_default();
        *units = units.saturating_add(h.amount);
        *basis = basis.saturating_add(h.cost_basis);
    }
    sums.into_iter().map(|(asset, (u, b))| (asset, (u.normalize().to_string(), b.normalize().to_string()))).collect()
}

/// The options a closed year was computed with, read back from its stored JSON.
pub fn options_of(closed: &ClosedYear) -> Result<Options, LedgerError> {
    let corrupt = || LedgerError::Corrupt(format!("closed year {}: options {:?}", closed.year, closed.options));
    let json: serde_json::Value = serde_json::from_str(&closed.options).map_err(|_| corrupt())?;
    let text = |key: &str| json[key].as_str().ok_or_else(corrupt);
    use clap::ValueEnum as _;
    Ok(Options {
        method: Method::from_name(text("method")?).ok_or_else(corrupt)?,
        tracking: Tracking::from_str(text("lots")?, false).map_err(|_| corrupt())?,
        transfer_fees: TransferFees::from_str(text("transfer_fees")?, false).map_err(|_| corrupt())?,
        year: Some(closed.year),
        what_if: json["what_if"].as_bool().ok_or_else(corrupt)?,
    })
}

/// A closed year computed again from today's ledger, as it would be were it open.
#[derive(Debug, Clone)]
pub struct Recomputed {
    /// The computation.
    pub computed: Computed,
    /// Its report (unrounded rows summed as `report` does).
    pub report: Report,
    /// Its run manifest.
    pub manifest: RunManifest,
    /// Units and basis held at its end, per asset.
    pub holdings: BTreeMap<String, (String, String)>,
}

/// Computes `closed`'s year again (from the snapshot before it: the previous closed year's
/// lots, or the first event) with the options it was closed with.
pub fn recompute(ledger: &mut Ledger, matching: &Matching, closed: &ClosedYear) -> Result<Recomputed, LedgerError> {
    let options = options_of(closed)?;
    let year = closed.year;
    let (mut computed, _) = years::compute_years(ledger, options, matching, year..=year, Start::Snapshot)?;
    let computed = computed.pop().ok_or_else(|| LedgerError::Corrupt(format!("year {year} not computed")))?;
    let labels: BTreeMap<i64, String> = ledger.accounts()?.into_iter().map(|a| (a.id, a.label)).collect();
    let currency = ledger.reporting_currency()?;
    let report = Report::new(year, &currency, options, &computed.computation, &labels, &computed.inputs_hash);
    let manifest = RunManifest::build(ledger, &report)?;
    let holdings = holdings_by_asset(&computed.computation.holdings);
    Ok(Recomputed { computed, report, manifest, holdings })
}

/// What changed from a closed year's filed run manifest to `now` (the filed one compared as it
/// is parsed, never held).
pub fn filed_diff(closed: &ClosedYear, now: &RunManifest) -> Result<RunDiff, LedgerError> {
    RunDiff::against_saved(closed.run_manifest.as_bytes(), now)
        .map_err(|e| LedgerError::Corrupt(format!("closed year {}: run manifest: {e}", closed.year)))
}

/// The filed holdings of a closed year.
fn filed_holdings(closed: &ClosedYear) -> Result<BTreeMap<String, (String, String)>, LedgerError> {
    serde_json::from_str(&closed.holdings)
        .map_err(|e| LedgerError::Corrupt(format!("closed year {}: holdings: {e}", closed.year)))
}

/// `closed_year_changed`: one finding per closed US year whose figures (totals, rows or the
/// lots carried out) computed today differ from the filed ones, with the differing totals and
/// the input changes since the close (events added, changed or removed in or before the year,
/// prices, own-transfer links).
pub fn changed_findings(ledger: &mut Ledger, matching: &Matching) -> Result<Vec<Finding>, LedgerError> {
    let mut findings = Vec::new();
    for closed in ledger.closed_years()? {
        if closed.jurisdiction != years::US {
            continue;
        }
        let now = recompute(ledger, matching, &closed)?;
        let diff = filed_diff(&closed, &now.manifest)?;
        let filed_holdings = filed_holdings(&closed)?;
        if diff.assets.is_empty() && diff.disposals.is_empty() && filed_holdings == now.holdings {
            continue;
        }
        let mut items = Vec::new();
        for (asset, (filed, today)) in &diff.assets {
            let gain = |t: &crate::diff::AssetTotals| t.gain.parse::<Decimal>().unwrap_or_default();
            let figures = |t: &crate::diff::AssetTotals| {
                let texts = [&t.proceeds, &t.cost_basis, &t.gain, &t.income]
                    .map(|text| text.parse::<Decimal>().map_or_else(|_| text.clone(), money));
                texts.join(" / ")
            };
            items.push(Item {
                event: None,
                time: None,
                asset: asset.clone(),
                amount: gain(today).checked_sub(gain(filed)).map_or_else(|| "out of range".into(), money),
                detail: format!(
                    "totals (proceeds / basis / gain / income) filed {}, now {}",
                    figures(filed),
                    figures(today)
                ),
            });
        }
        let assets: std::collections::BTreeSet<&String> = filed_holdings.keys().chain(now.holdings.keys()).collect();
        let none = (String::from("0"), String::from("0"));
        for asset in assets {
            let (filed, today) = (filed_holdings.get(asset).unwrap_or(&none), now.holdings.get(asset).unwrap_or(&none));
            if filed != today {
                items.push(Item {
                    event: None,
                    time: None,
                    asset: asset.clone(),
                    amount: today.0.clone(),
                    detail: format!(
                        "held at the end of {}: filed {} units (basis {}), now {} units (basis {})",
                        closed.year, filed.0, filed.1, today.0, today.1
                    ),
                });
            }
        }
        items.extend(input_items(ledger, closed.year, &diff)?);
        let n = items.len();
        findings.push(Finding {
            kind: "closed_year_changed",
            account: format!("year {}", closed.year),
            count: n,
            message: format!(
                "{} is closed but would compute differently now: later years still start from what was filed",
                closed.year
            ),
            hint: format!(
                "`cointally diff --year {y} --against-closed` shows the rows; file an amended return and `cointally year reopen {y} --yes` then `year close {y}` again, or leave the filed year as it is",
                y = closed.year
            ),
            items,
        });
    }
    Ok(findings)
}

/// The input changes of `diff` as finding items, events named by id where they still exist.
fn input_items(ledger: &Ledger, year: i32, diff: &RunDiff) -> Result<Vec<Item>, LedgerError> {
    let end_ms = crate::tax::zone::Zone::of_ledger(ledger)?.year_start_ms(year + 1);
    let until = chrono::DateTime::from_timestamp_millis(end_ms);
    let mut ids = BTreeMap::new();
    for row in ledger.events(&EventFilter { until, ..EventFilter::default() })? {
        ids.insert(format!("{}/{}", row.account, row.external_id), (row.id, row.time));
    }
    let item = |key: &str, detail: String| {
        let found = ids.get(key);
        Item {
            event: found.map(|(id, _)| *id),
            time: found.map(|(_, t)| cointally_exchanges::time::format_rfc3339(*t)),
            asset: String::new(),
            amount: String::new(),
            detail,
        }
    };
    let mut items = Vec::new();
    let mut add = |what: &str, changes: &Changes| {
        for (key, value) in &changes.added {
            items.push(item(key, format!("{what} {key} added since {year} was closed: {value}")));
        }
        for (key, (filed, now)) in &changes.changed {
            items.push(item(key, format!("{what} {key} changed since {year} was closed: {filed} -> {now}")));
        }
        for (key, value) in &changes.removed {
            items.push(item(key, format!("{what} {key} removed since {year} was closed: {value}")));
        }
    };
    add("event", &diff.events);
    add("prices of event", &diff.values);
    add("own transfer", &diff.transfers);
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_read_back_as_they_were_closed() {
        for method in [Method::Fifo, Method::Lifo, Method::Hifo, Method::Lofo] {
            for tracking in [Tracking::Universal, Tracking::PerWallet, Tracking::Us] {
                for transfer_fees in [TransferFees::Dispose, TransferFees::Carry] {
                    let options = Options { method, tracking, transfer_fees, year: Some(2024), what_if: false };
                    let closed = ClosedYear { options: options.to_json(), ..closed_year() };
                    assert_eq!(options_of(&closed).unwrap(), options);
                }
            }
        }
        let bad = ClosedYear { options: r#"{"method":"best"}"#.into(), ..closed_year() };
        assert!(matches!(options_of(&bad), Err(LedgerError::Corrupt(_))));
    }

    fn closed_year() -> ClosedYear {
        ClosedYear {
            year: 2024,
            jurisdiction: years::US.into(),
            options: String::new(),
            snapshot_id: 1,
            inputs_hash: String::new(),
            report_json: String::new(),
            report_text: String::new(),
            run_manifest: String::new(),
            holdings: String::new(),
            closed_at: String::new(),
            inputs_changed: false,
        }
    }
}

/// A closed year as it was filed, in the shapes the year's pages and reconciliation take: the
/// report (its rows dated at local midnight of their filed dates, in the filed time zone), the
/// disposals behind its rows, the income rows of its filed `income` file and the units and
/// basis held at its end per asset. Nothing here is computed from today's ledger.
#[derive(Debug, Clone)]
pub struct Filed {
    /// The closed year as stored.
    pub closed: ClosedYear,
    /// The filed report.
    pub report: Report,
    /// The disposals behind `report.lines` (same order).
    pub disposals: Vec<crate::ledger::Disposal>,
    /// The income received, from the filed `income` file (empty when the ledger has none, as
    /// a bundle without files).
    pub income: Vec<crate::ledger::IncomeRow>,
    /// Units and basis held at the year's end, one row per asset.
    pub holdings: Vec<Holding>,
}

/// The closed year `year` as filed, when it is closed under `options` (US rules; `None` when
/// it is open, closed under other options, or `options` is a what-if).
pub fn filed(ledger: &Ledger, year: i32, options: &Options) -> Result<Option<Filed>, LedgerError> {
    if options.what_if || !years::closed_years(ledger, options)?.contains(&year) {
        return Ok(None);
    }
    let Some(closed) = ledger.closed_year(year)? else { return Ok(None) };
    let corrupt = |what: &str| LedgerError::Corrupt(format!("closed year {year}: filed report: {what}"));
    let json: serde_json::Value = serde_json::from_str(&closed.report_json).map_err(|e| corrupt(&e.to_string()))?;
    let zone: crate::tax::zone::Zone =
        json["timezone"].as_str().unwrap_or("UTC").parse().map_err(|_| corrupt("timezone"))?;
    let decimal = |value: &serde_json::Value, what: &str| -> Result<Decimal, LedgerError> {
        value.as_str().and_then(|t| t.parse::<Decimal>().ok()).ok_or_else(|| corrupt(what))
    };
    let figures = |value: &serde_json::Value| -> Result<crate::tax::report::Figures, LedgerError> {
        Ok(crate::tax::report::Figures {
            proceeds: decimal(&value["proceeds"], "proceeds")?,
            cost_basis: decimal(&value["cost_basis"], "cost_basis")?,
            short_term_gain: decimal(&value["short_term_gain"], "short_term_gain")?,
            long_term_gain: decimal(&value["long_term_gain"], "long_term_gain")?,
            income: decimal(&value["income"], "income")?,
        })
    };
    let day_ms = |value: &serde_json::Value, what: &str| -> Result<i64, LedgerError> {
        let date = value.as_str().and_then(|t| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok());
        date.map(|d| zone.day_start_ms(d)).ok_or_else(|| corrupt(what))
    };
    let accounts: BTreeMap<String, i64> = ledger.accounts()?.into_iter().map(|a| (a.label, a.id)).collect();
    let mut assets = BTreeMap::new();
    for a in json["assets"].as_array().map(Vec::as_slice).unwrap_or_default() {
        assets.insert(a["asset"].as_str().ok_or_else(|| corrupt("asset"))?.to_owned(), figures(a)?);
    }
    let mut income_by_kind = BTreeMap::new();
    for (kind, value) in json["income_by_kind"].as_object().into_iter().flatten() {
        income_by_kind.insert(kind.clone(), decimal(value, "income_by_kind")?);
    }
    let boxes = [
        crate::tax::boxes::FormBox::C,
        crate::tax::boxes::FormBox::F,
        crate::tax::boxes::FormBox::G,
        crate::tax::boxes::FormBox::H,
        crate::tax::boxes::FormBox::I,
        crate::tax::boxes::FormBox::J,
        crate::tax::boxes::FormBox::K,
        crate::tax::boxes::FormBox::L,
    ];
    let kinds = [DisposalKind::Sale, DisposalKind::Fee, DisposalKind::TransferFee];
    let (mut lines, mut disposals) = (Vec::new(), Vec::new());
    for d in json["disposals"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let text = |key: &str| d[key].as_str().unwrap_or_default();
        let term = if text("term") == "long" { Term::Long } else { Term::Short };
        let kind = kinds.into_iter().find(|k| k.as_str() == text("kind")).ok_or_else(|| corrupt("kind"))?;
        let line = Line {
            asset: text("asset").to_owned(),
            amount: decimal(&d["amount"], "amount")?,
            acquired_ms: day_ms(&d["acquired"], "acquired").unwrap_or(i64::MIN),
            disposed_ms: day_ms(&d["disposed"], "disposed")?,
            proceeds: decimal(&d["proceeds"], "proceeds")?,
            cost_basis: decimal(&d["cost_basis"], "cost_basis")?,
            term,
            account: text("account").to_owned(),
            kind,
            basis_missing: d["basis_missing"].as_bool().unwrap_or(false),
            price_missing: d["price_missing"].as_bool().unwrap_or(false),
            event_id: d["event"].as_i64().ok_or_else(|| corrupt("event"))?,
            form_box: boxes.into_iter().find(|b| b.as_str() == text("box")).unwrap_or(crate::tax::boxes::FormBox::I),
            adjustment: None,
        };
        disposals.push(crate::ledger::Disposal {
            event_id: line.event_id,
            account_id: accounts.get(&line.account).copied().unwrap_or(-1),
            kind,
            asset: line.asset.clone(),
            amount: line.amount,
            acquired_ms: line.acquired_ms,
            disposed_ms: line.disposed_ms,
            proceeds: line.proceeds,
            cost_basis: line.cost_basis,
            term,
            lot_event_id: None,
            basis_missing: line.basis_missing,
            price_missing: line.price_missing,
            acquired_here: false,
        });
        lines.push(line);
    }
    let report = Report {
        year,
        currency: json["currency"].as_str().ok_or_else(|| corrupt("currency"))?.to_owned(),
        options: options_of(&closed)?,
        totals: figures(&json["totals"])?,
        assets,
        income_by_kind,
        lines,
        inputs_hash: closed.inputs_hash.clone(),
        elections: Vec::new(),
        zone,
        rebates: json["rebates"].as_str().and_then(|r| r.parse().ok()).unwrap_or_default(),
        allocation: json["allocation"].as_str().map(str::to_owned),
    };
    let income = match ledger.closed_file(year, "income")? {
        Some(file) => filed_income(&file.bytes, zone, &accounts).ok_or_else(|| corrupt("the income file"))?,
        None => Vec::new(),
    };
    let holdings = filed_holdings(&closed)?
        .into_iter()
        .map(|(asset, (amount, basis))| -> Result<Holding, LedgerError> {
            Ok(Holding {
                lot_event_id: 0,
                account_id: None,
                asset,
                amount: amount.parse().map_err(|_| corrupt("holdings"))?,
                acquired_ms: 0,
                cost_basis: basis.parse().map_err(|_| corrupt("holdings"))?,
                basis_missing: false,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Some(Filed { closed, report, disposals, income, holdings }))
}

/// The rows of a filed `income` file (`Date (zone)`, asset, amount, value, kind, account, event
/// id, price missing), each dated at local midnight of its date.
fn filed_income(
    bytes: &[u8],
    zone: crate::tax::zone::Zone,
    accounts: &BTreeMap<String, i64>,
) -> Option<Vec<crate::ledger::IncomeRow>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.ok()?;
        let cell = |i: usize| record.get(i).unwrap_or_default();
        let date = chrono::NaiveDate::parse_from_str(cell(0).get(..10)?, "%Y-%m-%d").ok()?;
        rows.push(crate::ledger::IncomeRow {
            event_id: cell(6).parse().ok()?,
            account_id: accounts.get(cell(5)).copied().unwrap_or(-1),
            kind: cell(4).parse().ok()?,
            asset: cell(1).to_owned(),
            amount: cell(2).parse().ok()?,
            received_ms: zone.day_start_ms(date),
            value: cell(3).parse().ok()?,
            price_missing: cell(7) == "yes",
        });
    }
    Some(rows)
}
