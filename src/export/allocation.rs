//! `cointally export allocation`: the record of the stored 2025 allocation that Rev. Proc.
//! 2024-28 asks a taxpayer to keep (§4.02(4)–(5), as quoted by secondary summaries: the units
//! held in each wallet or account as of 1 January 2025, and for the units of unused basis
//! allocated to them their original basis and the acquisition dates that go with it;
//! <https://www.irs.gov/irb/2024-31_IRB>).
//!
//! One CSV row per allocated lot, sorted by wallet label, asset, acquisition, lot; amounts as
//! plain decimals, basis to the cent as written and exact in `cost_basis_exact`. The manifest
//! beside it has the rule, the instant, when it was stored, the history hash and the totals per
//! wallet and asset; no timestamp of its own, so the same ledger gives the same bytes.

use std::collections::BTreeMap;
use std::path::Path;

use cointally_exchanges::amount::format_amount;
use rust_decimal::Decimal;
use serde::Serialize;

use super::{ManifestOutput, csv_writer, iso_date, manifest_path};
use crate::ledger::StoredAllocation;
use crate::tax::report::money;
use crate::tax::zone::Zone;

/// The record's columns.
const HEADER: [&str; 10] = [
    "wallet",
    "exchange",
    "asset",
    "units",
    "cost_basis",
    "cost_basis_exact",
    "acquired",
    "acquired_time",
    "lot_event",
    "basis_missing",
];

/// A wallet's totals in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WalletTotal {
    /// The account's label.
    pub wallet: String,
    /// Asset.
    pub asset: String,
    /// Units held at the switch (allocated).
    pub units: String,
    /// Basis allocated to them.
    pub cost_basis: String,
}

/// The manifest written beside the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllocationManifest {
    /// The cointally version that wrote it.
    pub cointally: &'static str,
    /// Always `allocation`.
    pub format: &'static str,
    /// `global` or `specific`.
    pub rule: &'static str,
    /// The instant it is made at (RFC 3339).
    pub as_of: String,
    /// When it was stored in the ledger.
    pub stored_at: String,
    /// The specific allocation's file and SHA-256.
    pub source: Option<String>,
    /// SHA-256 of the history before the switch it was made from.
    pub history_hash: String,
    /// The reporting currency of the basis.
    pub currency: String,
    /// The time zone of the `acquired` dates (the ledger's; IANA name).
    pub timezone: &'static str,
    /// Per wallet and asset.
    pub totals: Vec<WalletTotal>,
    /// The file written.
    pub output: ManifestOutput,
}

/// The record as bytes and its manifest (`file`: the name written in it); `acquired` is the
/// local date in `zone` (the ledger's time zone), `acquired_time` the instant in UTC.
pub fn render(
    stored: &StoredAllocation,
    accounts: &BTreeMap<i64, (String, String)>,
    currency: &str,
    zone: Zone,
    file: &str,
) -> std::io::Result<(Vec<u8>, AllocationManifest)> {
    let name = |id: i64| accounts.get(&id).cloned().unwrap_or_else(|| (format!("account {id}"), String::new()));
    let mut lots: Vec<_> = stored.lots.iter().map(|l| (name(l.account_id), l)).collect();
    lots.sort_by(|(a, x), (b, y)| {
        (&a.0, &x.asset, x.acquired_ms, x.lot_id).cmp(&(&b.0, &y.asset, y.acquired_ms, y.lot_id))
    });
    let mut bytes = Vec::new();
    let mut totals: BTreeMap<(String, String), (Decimal, Decimal)> = BTreeMap::new();
    {
        let mut out = csv_writer(&mut bytes, false);
        out.write_record(HEADER)?;
        for ((label, exchange), lot) in &lots {
            out.write_record([
                label.as_str(),
                exchange.as_str(),
                lot.asset.as_str(),
                &format_amount(lot.units),
                &money(lot.basis),
                &format_amount(lot.basis),
                &iso_date(zone, lot.acquired_ms),
                &cointally_exchanges::time::format_rfc3339(cointally_exchanges::time::from_millis(lot.acquired_ms)),
                &if lot.event_id > 0 { lot.event_id.to_string() } else { String::new() },
                if lot.basis_missing { "yes" } else { "" },
            ])?;
            let total = totals.entry((label.clone(), lot.asset.clone())).or_default();
            total.0 += lot.units;
            total.1 += lot.basis;
        }
        out.flush()?;
    }
    let totals = totals
        .into_iter()
        .map(|((wallet, asset), (units, basis))| WalletTotal {
            wallet,
            asset,
            units: format_amount(units),
            cost_basis: format_amount(basis),
        })
        .collect();
    let manifest = AllocationManifest {
        cointally: env!("CARGO_PKG_VERSION"),
        format: "allocation",
        rule: stored.rule.as_str(),
        as_of: cointally_exchanges::time::format_rfc3339(cointally_exchanges::time::from_millis(stored.as_of_ms)),
        stored_at: stored.created_at.clone(),
        source: stored.source.clone(),
        history_hash: stored.history_hash.clone(),
        currency: currency.to_owned(),
        timezone: zone.name(),
        totals,
        output: ManifestOutput {
            file: file.to_owned(),
            sha256: crate::digest::sha256_hex(&bytes),
            bytes: bytes.len() as u64,
            rows: lots.len(),
        },
    };
    Ok((bytes, manifest))
}

/// Writes the record to `path` and its manifest beside it (`<path>.manifest.json`).
pub fn write_file(
    stored: &StoredAllocation,
    accounts: &BTreeMap<i64, (String, String)>,
    currency: &str,
    zone: Zone,
    path: &Path,
) -> std::io::Result<AllocationManifest> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (bytes, manifest) = render(stored, accounts, currency, zone, &name)?;
    std::fs::write(path, &bytes)?;
    let mut json = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
    json.push(b'\n');
    std::fs::write(manifest_path(path), json)?;
    Ok(manifest)
}
