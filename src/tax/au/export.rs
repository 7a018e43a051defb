//! The Australian exports: `ato`, one row per parcel disposed of in the financial year
//! (dates, units, capital proceeds, cost base, gain or loss, whether held 12 months), the
//! record an accountant or the ATO asks for; and `ato-summary`, the figures of the tax
//! return's capital gains item (18H, 18A, 18V) with the steps between them. Each is written
//! with a manifest beside it (`cli::report_uk::emit` writes both); no timestamps, so the same ledger gives the same bytes.

use std::io::{self, Write};

use cointally_exchanges::amount::format_amount;

use super::report::{AuReport, identification};
use crate::export::csv_out::csv_writer;
use crate::export::year_manifest::{Written, YearManifest, manifest, write_figures, yes};
use crate::tax::report::money;

/// An Australian export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuFormat {
    /// The per-parcel disposals.
    Ato,
    /// The return's capital gains figures.
    AtoSummary,
}

impl AuFormat {
    /// Every Australian format.
    pub const ALL: [AuFormat; 2] = [AuFormat::Ato, AuFormat::AtoSummary];

    /// The format's name (`export NAME`).
    pub fn name(self) -> &'static str {
        match self {
            AuFormat::Ato => "ato",
            AuFormat::AtoSummary => "ato-summary",
        }
    }

    /// What it is for.
    pub fn description(self) -> &'static str {
        match self {
            AuFormat::Ato => {
                "AU: every parcel disposed of in the financial year (cost base, gain, 12-month discount test)"
            }
            AuFormat::AtoSummary => {
                "AU: the tax return's capital gains figures (18H, 18A, 18V) and the steps between them"
            }
        }
    }

    /// The format named `name`.
    pub fn find(name: &str) -> Option<AuFormat> {
        AuFormat::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The default file name: `<format>-<year>.csv`.
    pub fn default_file_name(self, year: i32) -> String {
        format!("{}-{year}.csv", self.name())
    }
}

/// Writes the per-parcel disposals; returns the data rows.
fn write_ato(report: &AuReport<'_>, out: &mut dyn Write) -> io::Result<usize> {
    let mut w = csv_writer(out, false);
    w.write_record([
        "Date of CGT event",
        "Asset",
        "Units",
        "Kind",
        "Date acquired",
        "Capital proceeds",
        "Cost base",
        "Capital gain or loss",
        "Held 12 months",
        "Discount capital gain",
        "Event",
        "Parcel acquired by event",
        "Cost base unknown",
        "Value missing",
    ])?;
    for row in &report.computed.disposals {
        let d = &row.disposal;
        w.write_record([
            row.disposed.to_string(),
            d.asset.clone(),
            format_amount(d.amount),
            row.kind.to_owned(),
            row.acquired.map(|a| a.to_string()).unwrap_or_default(),
            money(d.proceeds),
            money(d.cost_basis),
            money(row.gain()),
            yes(row.held_12_months),
            yes(row.discountable()),
            d.event_id.to_string(),
            d.lot_event_id.map(|e| e.to_string()).unwrap_or_default(),
            yes(d.basis_missing),
            yes(d.price_missing),
        ])?;
    }
    w.flush()?;
    Ok(report.computed.disposals.len())
}

/// Writes the return's figures, one per line; returns the data rows.
fn write_summary(report: &AuReport<'_>, out: &mut dyn Write) -> io::Result<usize> {
    let c = report.computed;
    let f = &c.figures;
    let t = report.totals();
    let rows: Vec<(&str, String)> = vec![
        ("Financial year", format!("{} ({} to {})", c.year.label, c.year.first_day, c.year.last_day)),
        ("Parcel identification", identification(c.method).to_owned()),
        ("CGT events (parcels disposed of)", c.disposals.len().to_string()),
        ("Capital proceeds", money(t.proceeds)),
        ("Cost base", money(t.cost_base)),
        ("18H Total current year capital gains", money(f.total_gains())),
        ("Of which discount capital gains (held 12 months)", money(f.discount_gains)),
        ("Of which other capital gains", money(f.other_gains)),
        ("Current year capital losses", money(f.losses)),
        ("Current year capital losses applied", money(f.losses_applied)),
        (
            if c.losses_set.is_some() {
                "Net capital losses brought forward (your losses_brought_forward setting for the year)"
            } else {
                "Net capital losses brought forward (this ledger)"
            },
            money(f.losses_brought_forward),
        ),
        ("Net capital losses brought forward applied", money(f.brought_forward_applied)),
        ("CGT discount (50%)", money(f.discount)),
        ("18A Net capital gain", money(f.net_capital_gain)),
        ("18V Net capital losses carried forward to later income years", money(f.carried_forward)),
        ("Ordinary income from crypto (not in item 18)", money(t.income)),
    ];
    write_figures(&rows, out)
}

/// Renders `format`; `file` is the name the manifest records.
pub fn render(
    format: AuFormat,
    report: &AuReport<'_>,
    missing: (usize, bool),
    file: &str,
) -> io::Result<(Vec<u8>, YearManifest)> {
    let mut bytes = Vec::new();
    let rows = match format {
        AuFormat::Ato => write_ato(report, &mut bytes)?,
        AuFormat::AtoSummary => write_summary(report, &mut bytes)?,
    };
    let c = report.computed;
    let output = Written { file, bytes: &bytes, rows };
    let manifest =
        manifest(format.name(), "AU", &c.year, &report.currency, missing, (&c.inputs_hash, c.events), output);
    Ok((bytes, manifest))
}
