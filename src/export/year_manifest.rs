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
