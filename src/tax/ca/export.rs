//! The Canadian exports: `schedule3`, the year's figures for Schedule 3's crypto-asset lines
//! and the taxable capital gain, and `acb`, one row per disposition with the ACB and units
//! before and after it and any superficial loss denied. Each is written with a manifest
//! beside it (the UK's shape, [`crate::export::year_manifest::manifest`]); no timestamps, so the
//! same ledger gives the same bytes.

use std::io::{self, Write};

use cointally_exchanges::amount::format_amount;

use super::Treatment;
use super::report::CaReport;
use super::year::{LINE_GAIN, LINE_PROCEEDS, LINE_TAXABLE, inclusion_rate};
use crate::export::csv_out::csv_writer;
use crate::export::year_manifest::{Written, YearManifest, manifest, write_figures, yes};
use crate::tax::report::money;
use crate::tax::uk::day::date_of;

/// A Canadian export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaFormat {
    /// The Schedule 3 figures.
    Schedule3,
    /// The per-disposition ACB computation.
    Acb,
}

impl CaFormat {
    /// Every Canadian format.
    pub const ALL: [CaFormat; 2] = [CaFormat::Schedule3, CaFormat::Acb];

    /// The format's name (`export NAME`).
    pub fn name(self) -> &'static str {
        match self {
            CaFormat::Schedule3 => "schedule3",
            CaFormat::Acb => "acb",
        }
    }

    /// What it is for.
    pub fn description(self) -> &'static str {
        match self {
            CaFormat::Schedule3 => {
                "Canada: the year's figures for Schedule 3 (crypto-assets lines) and the taxable capital gain"
            }
            CaFormat::Acb => {
                "Canada: one row per disposition with ACB and units before/after and superficial losses denied"
            }
        }
    }

    /// The format named `name`.
    pub fn find(name: &str) -> Option<CaFormat> {
        CaFormat::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The default file name: `<format>-<year>.csv`.
    pub fn default_file_name(self, year: i32) -> String {
        format!("{}-{year}.csv", self.name())
    }
}

/// Writes the per-disposition computation; returns the data rows.
fn write_acb(report: &CaReport<'_>, out: &mut dyn Write) -> io::Result<usize> {
    let mut w = csv_writer(out, false);
    w.write_record([
        "Date of disposition",
        "Token",
        "Kind",
        "Units",
        "Proceeds of disposition",
        "Adjusted cost base",
        "Outlays and expenses",
        "Gain or loss before superficial loss",
        "Superficial loss denied",
        "Gain or loss",
        "Units before",
        "ACB before",
        "Units after",
        "ACB after",
        "Event",
        "Cost unknown",
        "Value missing",
    ])?;
    for d in &report.computed.disposals {
        let r = &d.row;
        w.write_record([
            date_of(r.day).to_string(),
            d.asset.clone(),
            r.kind.as_str().to_owned(),
            format_amount(r.units),
            money(r.proceeds),
            money(r.acb),
            money(r.outlays),
            money(r.gain_before_denial()),
            money(r.denied()),
            money(r.gain()),
            format_amount(r.units_before),
            money(r.acb_before),
            format_amount(r.units_after),
            money(r.acb_after),
            r.event_id.to_string(),
            yes(r.basis_missing),
            yes(r.price_missing),
        ])?;
    }
    w.flush()?;
    Ok(report.computed.disposals.len())
}

/// Writes the Schedule 3 figures, one per line; returns the data rows.
fn write_schedule3(report: &CaReport<'_>, out: &mut dyn Write) -> io::Result<usize> {
    let f = &report.figures;
    let capital = report.treatment == Treatment::Capital;
    let section =
        "Schedule 3, crypto-assets (bonds, debentures, promissory notes, crypto-assets and other similar properties)";
    let mut rows: Vec<(String, String)> = vec![
        ("Tax year".into(), report.computed.year.label.clone()),
        ("Treatment".into(), report.treatment.as_str().into()),
        ("Number of dispositions".into(), f.dispositions.to_string()),
    ];
    if capital {
        rows.extend([
            (format!("{section}: line {LINE_PROCEEDS}, proceeds of disposition"), money(f.proceeds)),
            (format!("{section}: adjusted cost base (less superficial losses denied)"), money(f.schedule3_acb())),
            (format!("{section}: outlays and expenses"), money(f.outlays)),
            (format!("{section}: line {LINE_GAIN}, gain (or loss)"), money(f.net())),
            ("Superficial losses denied (added to the ACB of the units held)".into(), money(f.denied)),
            ("Inclusion rate".into(), inclusion_rate().normalize().to_string()),
            (format!("Taxable capital gain (line {LINE_TAXABLE} of the return)"), money(f.taxable_capital_gain())),
            ("Allowable capital loss (a net capital loss to carry over)".into(), money(f.allowable_capital_loss())),
            ("Income from crypto-assets at fair market value (not on Schedule 3)".into(), money(report.income())),
        ]);
    } else {
        rows.extend([
            (
                "Business income from dispositions (not on Schedule 3)".into(),
                money(f.business_income(report.treatment)),
            ),
            ("Business income from rewards at fair market value".into(), money(report.income())),
        ]);
    }
    write_figures(&rows, out)
}

/// Renders `format`; `file` is the name the manifest records; `missing` is (legs without a
/// value, whether allowed).
pub fn render(
    format: CaFormat,
    report: &CaReport<'_>,
    missing: (usize, bool),
    file: &str,
) -> io::Result<(Vec<u8>, YearManifest)> {
    let mut bytes = Vec::new();
    let rows = match format {
        CaFormat::Schedule3 => write_schedule3(report, &mut bytes)?,
        CaFormat::Acb => write_acb(report, &mut bytes)?,
    };
    let c = report.computed;
    let output = Written { file, bytes: &bytes, rows };
    let manifest =
        manifest(format.name(), "CA", &c.year, &report.currency, missing, (&c.inputs_hash, c.events), output);
    Ok((bytes, manifest))
}
