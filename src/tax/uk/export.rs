//! The UK exports: `hmrc`, the per-disposal computation an accountant attaches to the return
//! (date, token, units, proceeds, allowable cost and how it was matched, gain or loss, the
//! pool after), and `sa108`, the year's figures for the SA108 capital gains pages. Each is
//! written with a manifest beside it; no timestamps, so the same ledger gives the same bytes.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::day::date_of;
use super::report::UkReport;
use super::year::Part;
use crate::export::{ManifestInputs, ManifestOutput, manifest_path};
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

/// Written beside every UK (and Canadian) export (`<file>.manifest.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UkManifest {
    /// The cointally version that wrote it.
    pub cointally: &'static str,
    /// The format's name.
    pub format: &'static str,
    /// Always `gains`.
    pub kind: &'static str,
    /// `UK` (or `CA`).
    pub jurisdiction: &'static str,
    /// The tax year as given (`2024` = 2024/25).
    pub year: i32,
    /// Its name.
    pub tax_year: String,
    /// Reporting currency.
    pub currency: String,
    /// Whether legs without a value were allowed (counted as zero).
    pub allow_missing_prices: bool,
    /// The inputs.
    pub inputs: ManifestInputs,
    /// The file.
    pub output: ManifestOutput,
}

impl UkManifest {
    /// The manifest as pretty JSON with a final newline.
    pub fn to_json(&self) -> io::Result<Vec<u8>> {
        let mut out = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        out.push(b'\n');
        Ok(out)
    }
}

/// A CSV writer with `\n` line ends (the same bytes on every platform).
pub fn csv_writer(out: &mut dyn Write) -> csv::Writer<&mut dyn Write> {
    csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(out)
}

/// `yes` or `no`.
pub fn yes(flag: bool) -> String {
    if flag { "yes" } else { "no" }.to_owned()
}

/// Writes the per-disposal computation; returns the data rows.
fn write_hmrc(report: &UkReport<'_>, out: &mut dyn Write) -> io::Result<usize> {
    let mut w = csv_writer(out);
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
    let mut w = csv_writer(out);
    w.write_record(["Figure", "Value"])?;
    for (figure, value) in &rows {
        w.write_record([figure, value])?;
    }
    w.flush()?;
    Ok(rows.len())
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

/// A file rendered in memory, for its manifest.
pub struct Written<'a> {
    /// The name the manifest records.
    pub file: &'a str,
    /// Its bytes.
    pub bytes: &'a [u8],
    /// Its data rows.
    pub rows: usize,
}

/// The manifest of a pooling country's export (UK, Canada): `missing` is (legs without a
/// value, whether allowed), `inputs` the computation's (inputs hash, events read).
pub fn manifest(
    format: &'static str,
    jurisdiction: &'static str,
    year: &crate::tax::jurisdiction::TaxYear,
    currency: &str,
    missing: (usize, bool),
    inputs: (&str, u64),
    output: Written<'_>,
) -> UkManifest {
    UkManifest {
        cointally: env!("CARGO_PKG_VERSION"),
        format,
        kind: "gains",
        jurisdiction,
        year: year.year,
        tax_year: year.label.clone(),
        currency: currency.to_owned(),
        allow_missing_prices: missing.1,
        inputs: ManifestInputs { sha256: inputs.0.to_owned(), events: inputs.1, missing_values: missing.0 },
        output: ManifestOutput {
            file: output.file.to_owned(),
            sha256: crate::digest::sha256_hex(output.bytes),
            bytes: output.bytes.len(),
            rows: output.rows,
        },
    }
}

/// Writes `bytes` to `path` and `manifest` beside it.
pub fn write_with_manifest(path: &Path, bytes: &[u8], manifest: &UkManifest) -> io::Result<()> {
    std::fs::write(path, bytes)?;
    std::fs::write(manifest_path(path), manifest.to_json()?)
}

/// The name a manifest records for `path`: its file name.
pub fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Writes `format` to `path` and its manifest beside it.
pub fn write_file(
    format: UkFormat,
    report: &UkReport<'_>,
    missing: (usize, bool),
    path: &Path,
) -> io::Result<UkManifest> {
    let (bytes, manifest) = render(format, report, missing, &file_name(path))?;
    write_with_manifest(path, &bytes, &manifest)?;
    Ok(manifest)
}
