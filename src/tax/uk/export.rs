//! The UK exports: `hmrc`, the per-disposal computation an accountant attaches to the return
//! (date, token, units, proceeds, allowable cost and how it was matched, gain or loss, the
//! pool after), and `sa108`, the year's figures for the SA108 capital gains pages. Each is
//! written with a manifest beside it; no timestamps, so the same ledger gives the same bytes.

use std::io::{self, Write};

use super::day::date_of;
use super::report::UkReport;
use super::year::Part;
use crate::export::csv_out::csv_writer;
use crate::export::year_manifest::{Written, manifest, write_figures, yes};
use crate::tax::report::money;

/// A UK export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UkFormat {
    /// The per-disposal computation.
    Hmrc,
    /// The SA108 figures.
    Sa108,
}

impl UkFormat {
    /// Every UK format.
    pub const ALL: [UkFormat; 2] = [UkFormat::Hmrc, UkFormat::Sa108];

    /// The format's name (`export NAME`).
    pub fn name(self) -> &'static str {
        match self {
            UkFormat::Hmrc => "hmrc",
            UkFormat::Sa108 => "sa108",
        }
    }

    /// What it is for.
    pub fn description(self) -> &'static str {
        match self {
            UkFormat::Hmrc => {
                "UK: the per-disposal computation (matching rule, allowable cost, pool after) to attach to the return"
            }
            UkFormat::Sa108 => "UK: the tax year's figures for the SA108 capital gains pages (cryptoassets)",
        }
    }

    /// The format named `name`.
    pub fn find(name: &str) -> Option<UkFormat> {
        UkFormat::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The default file name: `<format>-<year>.csv`.
    pub fn default_file_name(self, year: i32) -> String {
        format!("{}-{year}.csv", self.name())
    }
}

/// Written beside every UK export (`<file>.manifest.json`).
pub use crate::export::year_manifest::YearManifest as UkManifest;

/// Writes the per-disposal computation; returns the data rows.
fn write_hmrc(report: &UkReport<'_>, out: &mut dyn Write) -> io::Result<usize> {
    let mut w = csv_writer(out, false);
    w.write_record([
        "Date of disposal",
        "Token",
        "Units",
        "Matching rule",
        "Matched acquisition date",
        "Disposal proceeds",
        "Allowable cost",
        "Of which acquisition cost",
        "Of which fees",
        "Gain or loss",
        "Pool units after",
        "Pool cost after",
        "Events",
        "Cost unknown",
        "Value missing",
    ])?;
    for row in &report.computed.disposals {
        let m = &row.matched;
        let events: Vec<String> = m.events.iter().map(|e| e.to_string()).collect();
        w.write_record([
            date_of(m.day).to_string(),
            row.asset.clone(),
            cointally_exchanges::amount::format_amount(m.units),
            m.rule.as_str().to_owned(),
            m.acquired_day.map(|d| date_of(d).to_string()).unwrap_or_default(),
            money(m.proceeds),
            money(m.allowable_cost()),
            money(m.cost),
            money(m.incidental),
            money(m.gain()),
            cointally_exchanges::amount::format_amount(m.pool_after.units),
            money(m.pool_after.cost),
            events.join(" "),
            yes(m.basis_missing),
            yes(m.price_missing),
        ])?;
    }
    w.flush()?;
    Ok(report.computed.disposals.len())
}

/// Writes the SA108 figures, one per line; returns the data rows.
fn write_sa108(report: &UkReport<'_>, out: &mut dyn Write) -> io::Result<usize> {
    let f = &report.figures;
    let mut rows: Vec<(String, String)> = vec![
        ("Tax year".into(), report.computed.year.label.clone()),
        ("Cryptoassets: number of disposals".into(), f.total.disposals.to_string()),
        ("Cryptoassets: disposal proceeds".into(), money(f.total.proceeds)),
        ("Cryptoassets: allowable costs (including purchase price)".into(), money(f.total.allowable_costs)),
        ("Cryptoassets: gains in the year, before losses".into(), money(f.total.gains)),
        ("Cryptoassets: losses in the year".into(), money(f.total.losses)),
        ("Net gain (gains less losses)".into(), money(f.total.net())),
        ("Annual exempt amount".into(), f.exempt_amount.map(money).unwrap_or_else(|| "unknown".into())),
        (
            "Net gain after the annual exempt amount".into(),
            f.after_exempt_amount.map(money).unwrap_or_else(|| "unknown".into()),
        ),
        (
            "Must be reported".into(),
            if f.report_reasons.is_empty() { "no".into() } else { format!("yes: {}", f.report_reasons.join("; ")) },
        ),
    ];
    if let Some((before, after)) = &f.split {
        let mut part = |when: &str, p: &Part| {
            rows.push((format!("Disposals {when}: gains"), money(p.gains)));
            rows.push((format!("Disposals {when}: losses"), money(p.losses)));
            rows.push((format!("Disposals {when}: net gain"), money(p.net())));
        };
        part("before 30 October 2024", before);
        part("on or after 30 October 2024", after);
    }
    rows.push(("Income from cryptoassets (not in SA108)".into(), money(report.income())));
    write_figures(&rows, out)
}

/// Renders `format`; `file` is the name the manifest records.
pub fn render(
    format: UkFormat,
    report: &UkReport<'_>,
    missing: (usize, bool),
    file: &str,
) -> io::Result<(Vec<u8>, UkManifest)> {
    let mut bytes = Vec::new();
    let rows = match format {
        UkFormat::Hmrc => write_hmrc(report, &mut bytes)?,
        UkFormat::Sa108 => write_sa108(report, &mut bytes)?,
    };
    let c = report.computed;
    let output = Written { file, bytes: &bytes, rows };
    let manifest =
        manifest(format.name(), "UK", &c.year, &report.currency, missing, (&c.inputs_hash, c.events), output);
    Ok((bytes, manifest))
}
