//! The user's own specific unit allocation (Rev. Proc. 2024-28 §5.02(2)(a)) as a CSV file,
//! checked against the history before the switch before anything is stored.
//!
//! The layout (header row required, columns in any order, more columns ignored):
//!
//! ```text
//! wallet,asset,units,acquired,cost_basis
//! coinbase-main,BTC,0.5,2021-03-01,15000.00
//! ledger-nano,BTC,1,2020-05-10T14:00:00Z,9000
//! ```
//!
//! - `wallet`: the account's label (`cointally account list`; one beginning like a formula may
//!   have the `'` the allocation record writes before it, see `export::csv_out`);
//! - `asset`: the symbol as cointally writes it (`BTC`);
//! - `units`: units of that asset in that wallet given this basis (> 0);
//! - `acquired`: when the units the basis came from were acquired (`YYYY-MM-DD`, taken as
//!   00:00 UTC, or RFC 3339), before 2025-01-01;
//! - `cost_basis`: the basis of those units in the reporting currency (≥ 0).
//!
//! Checks: per wallet and asset the units add up to what the wallet held at the switch (units
//! in flight counted for the receiving wallet); per asset the basis adds up to the unused basis
//! (a wallet gets as many units of basis as it holds units, §5.01, and all the unused basis
//! is allocated). Every problem is listed with its line and column; nothing is stored unless
//! the whole file passes.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cointally_exchanges::amount::{format_amount, parse_amount};
use rust_decimal::Decimal;

use super::AtSwitch;
use crate::ledger::AllocatedLot;
use crate::tax::zone::Zone;

/// The header a specific allocation file must have.
pub const COLUMNS: [&str; 5] = ["wallet", "asset", "units", "acquired", "cost_basis"];

/// Lot ids of a specific allocation's lots: below any the engine gives, in row order.
const FIRST_LOT_ID: i64 = -1_000_000_000;

/// Why a specific allocation file was refused.
#[derive(Debug, thiserror::Error)]
pub enum SpecificError {
    /// The file is not CSV with the columns needed.
    #[error("{file}: {what}")]
    Layout {
        /// The file.
        file: String,
        /// What is wrong.
        what: String,
    },
    /// Rows or totals are wrong: each problem says where.
    #[error("{file}: {} problems; nothing was stored", problems.len())]
    Problems {
        /// The file.
        file: String,
        /// Each problem: where, what, what to do.
        problems: Vec<String>,
    },
}

/// Reads and checks a specific allocation from `text` (the file `file`), with the accounts by
/// label, against the history at the switch: the lots to store, in row order.
pub fn read(
    file: &str,
    text: &str,
    accounts: &BTreeMap<String, i64>,
    at: &AtSwitch,
) -> Result<Vec<AllocatedLot>, SpecificError> {
    let layout = |what: String| SpecificError::Layout { file: file.to_owned(), what };
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(true).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| layout(format!("cannot read the header: {e}")))?.clone();
    let mut index = [0usize; 5];
    for (i, name) in COLUMNS.iter().enumerate() {
        index[i] = header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| layout(format!("no column {name:?}: the header must name {}", COLUMNS.join(","))))?;
    }
    let mut problems = Vec::new();
    let mut lots = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let line = row + 2;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                problems.push(format!("{file}:{line}: not a CSV row ({e})"));
                continue;
            }
        };
        if let Some(message) = cointally_exchanges::records::swallowed_rows(&record, header.len(), b',') {
            problems.push(format!("{file}:{line}: {message}"));
            continue;
        }
        // A label beginning like a formula is written with a `'` before it in the allocation
        // record this file is often made from: read it back as the label.
        let cell = |i: usize| crate::export::csv_out::unguarded(record.get(index[i]).unwrap_or(""));
        let mut bad =
            |column: usize, what: String| problems.push(format!("{file}:{line} column {}: {what}", COLUMNS[column]));
        let account = match accounts.get(cell(0)) {
            Some(id) => Some(*id),
            None => {
                bad(0, format!("no account labelled {:?}; use a label from `cointally account list`", cell(0)));
                None
            }
        };
        let asset = cell(1).to_uppercase();
        if asset.is_empty() {
            bad(1, "empty; give the asset's symbol (BTC)".into());
        }
        let units = match parse_amount(cell(2)) {
            Ok(units) if units > Decimal::ZERO => Some(units),
            _ => {
                bad(2, format!("{:?} is not a number of units above zero", cell(2)));
                None
            }
        };
        let acquired = match acquired_ms(cell(3), at.zone) {
            Some(ms) if ms < at.as_of_ms => Some(ms),
            Some(_) => {
                bad(
                    3,
                    format!(
                        "{} is not before 2025-01-01: unused basis comes from units acquired before the switch",
                        cell(3)
                    ),
                );
                None
            }
            None => {
                bad(3, format!("{:?} is not a date: give YYYY-MM-DD or an RFC 3339 time", cell(3)));
                None
            }
        };
        let basis = match parse_amount(cell(4)) {
            Ok(basis) if basis >= Decimal::ZERO => Some(basis),
            _ => {
                bad(4, format!("{:?} is not an amount of zero or more", cell(4)));
                None
            }
        };
        if let (Some(account_id), false, Some(units), Some(acquired_ms), Some(basis)) =
            (account, asset.is_empty(), units, acquired, basis)
        {
            lots.push(AllocatedLot {
                account_id,
                asset,
                units,
                basis,
                acquired_ms,
                lot_id: FIRST_LOT_ID + row as i64,
                event_id: 0,
                origin_account: account_id,
                moved: true,
                basis_missing: false,
                price_missing: false,
            });
        }
    }
    if problems.is_empty() {
        problems = totals(&lots, accounts, at);
    }
    if problems.is_empty() && lots.is_empty() {
        problems.push("no rows: list the units every wallet held at 2025-01-01 (`cointally basis allocate` without --specific shows them)".into());
    }
    if !problems.is_empty() {
        return Err(SpecificError::Problems { file: file.to_owned(), problems });
    }
    Ok(lots)
}

/// `YYYY-MM-DD` (local midnight in the ledger's zone, so that the date the file gives is the
/// acquisition date the holding period counts from) or RFC 3339, in UTC ms.
fn acquired_ms(text: &str, zone: Zone) -> Option<i64> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(zone.day_start_ms(date));
    }
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp_millis())
}

/// The totals' problems: units per wallet and asset against those held, basis per asset
/// against the unused basis.
fn totals(lots: &[AllocatedLot], accounts: &BTreeMap<String, i64>, at: &AtSwitch) -> Vec<String> {
    let labels: BTreeMap<i64, &str> = accounts.iter().map(|(label, id)| (*id, label.as_str())).collect();
    let label = |id: i64| labels.get(&id).copied().unwrap_or("?");
    let given = super::per_wallet(lots);
    let mut problems = Vec::new();
    let keys: std::collections::BTreeSet<&(i64, String)> = given.keys().chain(at.held.keys()).collect();
    for key in keys {
        let units = given.get(key).map(|g| g.0).unwrap_or_default();
        let held = at.held.get(key).copied().unwrap_or_default();
        if units != held {
            problems.push(format!(
                "wallet {} {}: the rows give {} units, the wallet held {} at 2025-01-01 00:00 UTC (units in flight counted for the receiving wallet); make its rows add up to {}",
                label(key.0),
                key.1,
                format_amount(units),
                format_amount(held),
                format_amount(held)
            ));
        }
    }
    let mut basis: BTreeMap<&str, Decimal> = BTreeMap::new();
    for lot in lots {
        *basis.entry(lot.asset.as_str()).or_default() += lot.basis;
    }
    for (asset, given) in basis {
        let unused = at.unused_basis.get(asset).copied().unwrap_or_default();
        if given != unused {
            problems.push(format!(
                "{asset}: the rows' cost_basis adds up to {}, the unused basis at 2025-01-01 is {}; allocate exactly the unused basis (`cointally basis allocate` without --specific shows it)",
                format_amount(given),
                format_amount(unused)
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::AllocationRule;
    use crate::tax::allocation::differences;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// Wallet 1 (`a`) held 1.5 BTC, wallet 2 (`b`) 1 BTC, with 85,000 of unused basis (the
    /// figures of `tests/allocation.rs`, constructed).
    fn at() -> AtSwitch {
        AtSwitch {
            lots: Vec::new(),
            unassigned: Vec::new(),
            held: BTreeMap::from([((1, "BTC".into()), d("1.5")), ((2, "BTC".into()), d("1"))]),
            unused_basis: BTreeMap::from([("BTC".into(), d("85000"))]),
            history_hash: "h".into(),
            as_of_ms: super::super::SWITCH_MS,
            zone: Zone::UTC,
        }
    }

    fn accounts() -> BTreeMap<String, i64> {
        BTreeMap::from([("a".into(), 1), ("b".into(), 2)])
    }

    #[test]
    fn a_file_that_adds_up_becomes_lots_in_row_order_with_its_dates() {
        let text = "asset,wallet,units,acquired,cost_basis,note\nbtc,a,1.5,2022-01-10,65000,x\nBTC,b,1,2021-01-10T12:00:00Z,20000,\n";
        let lots = read("f.csv", text, &accounts(), &at()).unwrap();
        let got: Vec<(i64, &str, Decimal, Decimal, i64)> =
            lots.iter().map(|l| (l.account_id, l.asset.as_str(), l.units, l.basis, l.acquired_ms)).collect();
        assert_eq!(
            got,
            [(1, "BTC", d("1.5"), d("65000"), 1_641_772_800_000), (2, "BTC", d("1"), d("20000"), 1_610_280_000_000)]
        );
        assert!(lots[0].lot_id < lots[1].lot_id && lots[1].lot_id < 0);
    }

    #[test]
    fn a_label_written_as_text_by_the_allocation_record_reads_back_as_the_label() {
        let accounts = BTreeMap::from([("=a".into(), 1), ("'=b".into(), 2)]);
        let text =
            "wallet,asset,units,acquired,cost_basis\n'=a,BTC,1.5,2022-01-10,65000\n''=b,BTC,1,2021-01-10,20000\n";
        let lots = read("f.csv", text, &accounts, &at()).unwrap();
        assert_eq!(lots.iter().map(|l| l.account_id).collect::<Vec<_>>(), [1, 2]);
        // A label that needs no guard keeps its own `'`.
        let accounts = BTreeMap::from([("'a".into(), 1), ("b".into(), 2)]);
        let text = "wallet,asset,units,acquired,cost_basis\n'a,BTC,1.5,2022-01-10,65000\nb,BTC,1,2021-01-10,20000\n";
        assert_eq!(read("f.csv", text, &accounts, &at()).unwrap().len(), 2);
    }

    /// In New York a bare date is local midnight (05:00 UTC in winter), so the holding period
    /// counts from the date the file gives; a time just before the local switch is accepted.
    #[test]
    fn dates_are_local_in_the_ledger_zone() {
        let ny: Zone = "America/New_York".parse().unwrap();
        let in_ny = AtSwitch { as_of_ms: ny.per_wallet_from_ms(), zone: ny, ..at() };
        let text = "wallet,asset,units,acquired,cost_basis\na,BTC,1.5,2022-01-10,65000\nb,BTC,1,2024-12-31T23:00:00-05:00,20000\n";
        let lots = read("f.csv", text, &accounts(), &in_ny).unwrap();
        assert_eq!(lots[0].acquired_ms, 1_641_772_800_000 + 5 * 3_600_000);
        assert_eq!(ny.date(lots[0].acquired_ms).to_string(), "2022-01-10");
        assert_eq!(lots[1].acquired_ms, super::super::SWITCH_MS + 4 * 3_600_000);
        // The same time is after the switch in a UTC ledger.
        assert!(read("f.csv", text, &accounts(), &at()).is_err());
    }

    #[test]
    fn every_bad_cell_is_named_by_line_and_column_and_totals_by_wallet_and_asset() {
        let Err(SpecificError::Problems { problems, .. }) =
            read("f.csv", "wallet,asset,units,acquired,cost_basis\na,BTC,-1,2022-13-01,x\n", &accounts(), &at())
        else {
            panic!("refused")
        };
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("f.csv:2 column units:"), "{problems:?}");
        assert!(problems[1].starts_with("f.csv:2 column acquired:"), "{problems:?}");
        assert!(problems[2].starts_with("f.csv:2 column cost_basis:"), "{problems:?}");
        let Err(SpecificError::Problems { problems, .. }) =
            read("f.csv", "wallet,asset,units,acquired,cost_basis\na,BTC,2.5,2022-01-01,85000\n", &accounts(), &at())
        else {
            panic!("refused")
        };
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("wallet a BTC: the rows give 2.5 units, the wallet held 1.5"), "{problems:?}");
        assert!(problems[1].contains("wallet b BTC: the rows give 0 units, the wallet held 1"), "{problems:?}");
        assert!(matches!(read("f.csv", "wallet,asset,units\n", &accounts(), &at()), Err(SpecificError::Layout { .. })));
    }

    #[test]
    fn a_stored_specific_allocation_differs_where_the_units_held_or_the_unused_basis_changed() {
        let text = "wallet,asset,units,acquired,cost_basis\na,BTC,1.5,2022-01-10,65000\nb,BTC,1,2021-01-10,20000\n";
        let now = at();
        let stored = now.stored(AllocationRule::Specific, None, read("f.csv", text, &accounts(), &now).unwrap());
        assert!(differences(&stored, &now).is_empty());
        let mut later = at();
        later.held.insert((2, "BTC".into()), d("1.25"));
        later.unused_basis.insert("BTC".into(), d("90000"));
        let found: Vec<(Option<i64>, Decimal)> =
            differences(&stored, &later).iter().map(|x| (x.account_id, x.amount)).collect();
        assert_eq!(found, [(Some(2), d("0.25")), (None, d("5000"))]);
        let mut rehashed = at();
        rehashed.history_hash = "other".into();
        let only = differences(&stored, &rehashed);
        assert_eq!(only.len(), 1);
        assert!(only[0].detail.contains("history before 2025 changed"), "{:?}", only[0]);
    }
}
