//! The German exports: `anlage-so`, the year's figures for the Anlage SO (private sales of
//! virtual currencies and other tokens, and income from other services), and
//! `anlage-so-disposals`, the per-disposal list to attach to the return (acquisition and sale
//! dates, units, proceeds, costs, gain, whether held more than one year). Each is written with
//! a manifest beside it; no timestamps, so the same ledger gives the same bytes.
//!
//! Anlage SO lines: from the 2023 form, private sales of "virtuelle Währungen und sonstige
//! Token" have their own lines (41 to 47) and income from services with them its own (10 to
//! 16) — taken from a tax adviser's summary
//! (<https://bbh-lohnsteuerhilfe.de/wissen-und-tipps/steuererklaerung-und-virtuelle-waehrungen/>),
//! not checked against the form itself; the figures name what they are, so a line moved on a
//! later form still reads right.

use std::io::{self, Write};

use super::day::berlin_date;
use super::report::DeReport;
use crate::export::csv_out::csv_writer;
use crate::export::year_manifest::{Written, YearManifest, manifest, write_figures};
use crate::tax::report::money;

/// A German export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeFormat {
    /// The Anlage SO figures.
    AnlageSo,
    /// The per-disposal list.
    Disposals,
}

impl DeFormat {
    /// Every German format.
    pub const ALL: [DeFormat; 2] = [DeFormat::AnlageSo, DeFormat::Disposals];

    /// The format's name (`export NAME`).
    pub fn name(self) -> &'static str {
        match self {
            DeFormat::AnlageSo => "anlage-so",
            DeFormat::Disposals => "anlage-so-disposals",
        }
    }

    /// What it is for.
    pub fn description(self) -> &'static str {
        match self {
            DeFormat::AnlageSo => {
                "DE: the year's figures for the Anlage SO (private sales of tokens, § 23 EStG; income from other services, § 22 Nr. 3)"
            }
            DeFormat::Disposals => {
                "DE: every disposal of the year (dates, units, proceeds, costs, gain, held more than one year) to attach to the return"
            }
        }
    }

    /// The format named `name`.
    pub fn find(name: &str) -> Option<DeFormat> {
        DeFormat::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The default file name: `<format>-<year>.csv`.
    pub fn default_file_name(self, year: i32) -> String {
        format!("{}-{year}.csv", self.name())
    }
}

fn yes(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

/// Writes the per-disposal list; returns the data rows.
fn write_disposals(report: &DeReport<'_>, out: &mut dyn Write) -> io::Result<usize> {
    let mut w = csv_writer(out, false);
    w.write_record([
        "Veräußerung (date sold)",
        "Anschaffung (date acquired)",
        "Token",
        "Units",
        "Wallet",
        "Kind",
        "Veräußerungspreis (proceeds)",
        "Anschaffungskosten (cost)",
        "Gewinn/Verlust (gain)",
        "Held more than one year",
        "Event",
        "Cost unknown",
        "Value missing",
    ])?;
    for d in &report.computed.disposals {
        let r = &d.row;
        w.write_record([
            berlin_date(r.disposed_ms).to_string().as_str(),
            &berlin_date(r.acquired_ms).to_string(),
            &r.asset,
            &cointally_exchanges::amount::format_amount(r.amount),
            &report.label(r.account_id),
            r.kind.as_str(),
            &money(r.proceeds),
            &money(r.cost_basis),
            &money(d.gain()),
            yes(d.held_more_than_one_year),
            &r.event_id.to_string(),
            yes(r.basis_missing),
            yes(r.price_missing),
        ])?;
    }
    w.flush()?;
    Ok(report.computed.disposals.len())
}

/// Writes the Anlage SO figures, one per line; returns the data rows.
fn write_anlage_so(report: &DeReport<'_>, out: &mut dyn Write) -> io::Result<usize> {
    let f = &report.figures;
    let p = &f.private_sales;
    let unknown = || "unknown".to_owned();
    let mut rows: Vec<(&str, String)> = vec![
        ("Kalenderjahr (calendar year)", report.computed.year.label.clone()),
        (
            "Lines 41-47: private sales of virtual currencies and other tokens held not more than one year",
            String::new(),
        ),
        ("Number of disposal rows", p.rows.to_string()),
        ("Veräußerungspreis (proceeds, after the costs of selling)", money(p.proceeds)),
        ("Anschaffungskosten (acquisition costs, with the costs of buying)", money(p.cost)),
        ("Gains", money(p.gains)),
        ("Losses", money(p.losses)),
        ("Gewinn/Verlust (net gain or loss)", money(p.net())),
        (
            "Freigrenze § 23 Abs. 3 Satz 5 EStG (gains less than this are tax-free)",
            f.private_sales_limit.map(money).unwrap_or_else(unknown),
        ),
        ("Taxable private-sale gain after the Freigrenze", f.taxable_private_sales.map(money).unwrap_or_else(unknown)),
        ("Loss to carry back or forward (§ 23 Abs. 3 Satz 7-8, § 10d)", money(f.loss_to_carry)),
    ];
    // Only with a `losses_brought_forward` setting for the year, so that a ledger without one
    // keeps its file byte for byte. Not a line of the form: the Finanzamt applies the
    // carry-forward it determined; shown so the figures can be checked against the Bescheid.
    if !f.losses_brought_forward.is_zero() {
        rows.extend([
            (
                "Verlustvortrag (your losses_brought_forward setting, § 23 Abs. 3 Satz 8, § 10d)",
                money(f.losses_brought_forward),
            ),
            (
                "Verlustvortrag applied (only to a gain at or above the Freigrenze)",
                money(f.losses_brought_forward_applied),
            ),
            (
                "Taxable private-sale gain after the Verlustvortrag",
                f.taxable_after_losses.map(money).unwrap_or_else(unknown),
            ),
            ("Verlustvortrag remaining", money(f.losses_brought_forward_remaining)),
        ]);
    }
    rows.extend([
        ("Disposals held more than one year (not taxable): rows", f.tax_free.rows.to_string()),
        ("Disposals held more than one year (not taxable): net gain", money(f.tax_free.net())),
        (
            "Lines 10-16: income from other services with virtual currencies and other tokens (§ 22 Nr. 3)",
            String::new(),
        ),
        ("Einnahmen (income at market value on receipt)", money(f.other_services)),
        (
            "Freigrenze § 22 Nr. 3 Satz 2 EStG (income less than this is tax-free)",
            money(rust_decimal::Decimal::from(super::year::OTHER_SERVICES_LIMIT)),
        ),
        ("Taxable income from other services after the Freigrenze", money(f.taxable_other_services)),
    ]);
    write_figures(&rows, out)
}

/// Renders `format`; `file` is the name the manifest records.
pub fn render(
    format: DeFormat,
    report: &DeReport<'_>,
    missing: (usize, bool),
    file: &str,
) -> io::Result<(Vec<u8>, YearManifest)> {
    let mut bytes = Vec::new();
    let rows = match format {
        DeFormat::AnlageSo => write_anlage_so(report, &mut bytes)?,
        DeFormat::Disposals => write_disposals(report, &mut bytes)?,
    };
    let c = report.computed;
    let output = Written { file, bytes: &bytes, rows };
    let manifest =
        manifest(format.name(), "DE", &c.year, &report.currency, missing, (&c.inputs_hash, c.events), output);
    Ok((bytes, manifest))
}
