//! The manifest written beside a jurisdiction's own exports (`hmrc`, `sa108`, `ato`, …):
//! which cointally, which year under whose rules, a hash of the inputs and of the file. No
//! timestamps, so the same ledger gives the same bytes.

use std::io;
use std::path::Path;

use serde::Serialize;

use super::{ManifestInputs, ManifestOutput};

/// Written beside a jurisdiction's export (`<file>.manifest.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearManifest {
    /// The cointally version that wrote it.
    pub cointally: &'static str,
    /// The format's name.
    pub format: &'static str,
    /// Always `gains`.
    pub kind: &'static str,
    /// The jurisdiction's code (`UK`, `AU`).
    pub jurisdiction: &'static str,
    /// The tax year as given (`--year`).
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

impl YearManifest {
    /// The manifest as pretty JSON with a final newline.
    pub fn to_json(&self) -> io::Result<Vec<u8>> {
        let mut out = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        out.push(b'\n');
        Ok(out)
    }
}

/// The name a manifest records for `path` (its file name).
pub fn recorded_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Writes a rendered file to `path` and its manifest beside it.
pub fn write_with_manifest(path: &Path, bytes: &[u8], manifest: &YearManifest) -> io::Result<()> {
    std::fs::write(path, bytes)?;
    std::fs::write(super::manifest_path(path), manifest.to_json()?)
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

/// The manifest of a jurisdiction's export: `missing` is (legs without a value, whether
/// allowed), `inputs` the computation's (inputs hash, events read).
pub fn manifest(
    format: &'static str,
    jurisdiction: &'static str,
    year: &crate::tax::jurisdiction::TaxYear,
    currency: &str,
    missing: (usize, bool),
    inputs: (&str, u64),
    output: Written<'_>,
) -> YearManifest {
    YearManifest {
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
            bytes: output.bytes.len() as u64,
            rows: output.rows,
        },
    }
}

/// `yes` or `no`.
pub fn yes(flag: bool) -> String {
    if flag { "yes" } else { "no" }.to_owned()
}

/// Writes a year's figures as a `Figure,Value` CSV; returns the data rows.
pub fn write_figures<F: AsRef<str>>(rows: &[(F, String)], out: &mut dyn std::io::Write) -> std::io::Result<usize> {
    let mut w = super::csv_writer(out, false);
    w.write_record(["Figure", "Value"])?;
    for (figure, value) in rows {
        w.write_record([figure.as_ref(), value.as_str()])?;
    }
    w.flush()?;
    Ok(rows.len())
}
