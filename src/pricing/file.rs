//! A user's own price file (`cointally prices import FILE`).
//!
//! Layout: a header with the columns `time`, `asset`, `currency`, `price` (any order, any
//! case; `date` may stand for `time`), then one price per row:
//!
//! ```text
//! time,asset,currency,price
//! 2024-03-01,XYZ,USD,0.1234
//! 2024-03-01T14:30:00Z,XYZ,USD,0.1311
//! ```
//!
//! A bare date is that UTC day's price; a time (RFC 3339 or `YYYY-MM-DD HH:MM[:SS]`, UTC
//! unless it says otherwise) is a price at that instant. Prices are exact decimals greater
//! than zero. File prices are used where no exchange market prices the asset (see
//! [`super::route`]). Every bad row is reported as `FILE:LINE: ...` and nothing is stored
//! unless the whole file is good.

use std::path::Path;

use cointally_exchanges::amount::parse_amount;
use cointally_exchanges::asset::asset_symbol;
use cointally_exchanges::records::{Next, Records, swallowed_rows};
use cointally_exchanges::time::{parse_utc, to_millis};

use crate::import::{ImportError, MAX_ERRORS, RowProblem};
use crate::ledger::FilePrice;

/// The columns of a price file, in the documented order.
pub const COLUMNS: [&str; 4] = ["time", "asset", "currency", "price"];

/// Reads a whole price file, or every problem in it (up to [`MAX_ERRORS`]).
pub fn read(path: &Path) -> Result<Vec<FilePrice>, ImportError> {
    let file = std::fs::File::open(path).map_err(|source| ImportError::Io { path: path.to_path_buf(), source })?;
    let mut records = Records::new(file);
    let mut problems: Vec<RowProblem> = Vec::new();
    let problem = |line: u64, message: String| RowProblem { path: path.to_path_buf(), line, message };
    let mut columns: Option<[usize; 4]> = None;
    let mut rows = Vec::new();
    loop {
        let (line, record) = match records.next_record() {
            Next::End => break,
            Next::Malformed { line, message } => {
                problems.push(problem(line, message));
                continue;
            }
            Next::Record { line, record } => (line, record),
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let Some(index) = columns else {
            match header(record) {
                Ok(found) => columns = Some(found),
                Err(message) => {
                    problems.push(problem(line, message));
                    break;
                }
            }
            continue;
        };
        if let Some(message) = swallowed_rows(record, COLUMNS.len(), b',') {
            problems.push(problem(line, message));
            continue;
        }
        let field = |i: usize| record.get(index[i]).unwrap_or("").trim();
        match row([field(0), field(1), field(2), field(3)]) {
            Ok(price) => rows.push(price),
            Err(message) => problems.push(problem(line, message)),
        }
        if problems.len() >= MAX_ERRORS {
            return Err(ImportError::BadRows { problems, truncated: true });
        }
    }
    if columns.is_none() && problems.is_empty() {
        problems.push(problem(1, format!("the file is empty; expected the header {}", COLUMNS.join(","))));
    }
    if !problems.is_empty() {
        return Err(ImportError::BadRows { problems, truncated: false });
    }
    Ok(rows)
}

/// The position of each of [`COLUMNS`] in the header row.
fn header(record: &csv::StringRecord) -> Result<[usize; 4], String> {
    let names: Vec<String> =
        record.iter().map(|f| f.trim().trim_start_matches('\u{feff}').to_ascii_lowercase()).collect();
    if let Some(unknown) = names.iter().find(|n| !COLUMNS.contains(&n.as_str()) && n.as_str() != "date") {
        return Err(format!("unknown column {unknown:?}: the header must be {}", COLUMNS.join(",")));
    }
    let mut index = [0; 4];
    for (slot, column) in index.iter_mut().zip(COLUMNS) {
        let found = names.iter().position(|n| n == column || (column == "time" && n == "date"));
        *slot =
            found.ok_or_else(|| format!("column {column:?} is missing: the header must be {}", COLUMNS.join(",")))?;
    }
    Ok(index)
}

/// One row: time, asset, currency, price.
fn row([time, asset, currency, price]: [&str; 4]) -> Result<FilePrice, String> {
    let at = parse_utc(time).map_err(|e| format!("column time: {e}"))?;
    let day_only = time.len() == 10 && !time.contains(':');
    let asset = asset_symbol(asset).map_err(|e| format!("column asset: {e}"))?;
    let currency = asset_symbol(currency).map_err(|e| format!("column currency: {e}"))?;
    if asset == currency {
        return Err(format!("asset and currency are both {asset}"));
    }
    let value = parse_amount(price).map_err(|e| format!("column price: {e}"))?;
    if value <= rust_decimal::Decimal::ZERO {
        return Err(format!("column price: {price:?} is not greater than zero"));
    }
    Ok(FilePrice {
        asset,
        currency,
        time_ms: to_millis(at),
        granularity: if day_only { "1d" } else { "point" },
        price: value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/prices").join(name)
    }

    #[test]
    fn reads_days_and_instants() {
        let rows = read(&fixture("good.csv")).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!((rows[0].asset.as_str(), rows[0].currency.as_str(), rows[0].granularity), ("XYZ", "USD", "1d"));
        assert_eq!(rows[0].time_ms, 1_709_251_200_000); // 2024-03-01
        assert_eq!(rows[1].granularity, "point");
        assert_eq!(rows[1].time_ms, 1_709_303_400_000); // 2024-03-01T14:30:00Z
        assert_eq!(rows[2].price, "1.07".parse().unwrap());
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let Err(ImportError::BadRows { problems, truncated: false }) = read(&fixture("bad.csv")) else {
            panic!("expected bad rows")
        };
        let lines: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.line, p.message)).collect();
        assert_eq!(lines.len(), 4, "{lines:#?}");
        assert!(lines[0].starts_with("3: column price:"), "{lines:#?}");
        assert!(lines[1].starts_with("4: column time:"), "{lines:#?}");
        assert!(lines[2].starts_with("5: column price:") && lines[2].contains("greater than zero"), "{lines:#?}");
        assert!(lines[3].starts_with("7: column asset:"), "{lines:#?}");
        assert!(problems[0].to_string().contains("bad.csv:3: "));
    }

    #[test]
    fn a_quote_left_open_is_a_bad_row_not_fewer_prices() {
        let Err(ImportError::BadRows { problems, .. }) = read(&fixture("unclosed_quote.csv")) else {
            panic!("expected bad rows")
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, 3);
        assert!(problems[0].message.contains("a quote is not closed"), "{}", problems[0].message);
    }

    #[test]
    fn a_wrong_header_says_what_it_must_be() {
        let Err(ImportError::BadRows { problems, .. }) = read(&fixture("wrong_header.csv")) else { panic!() };
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("unknown column \"value\""), "{}", problems[0].message);
        assert!(problems[0].message.contains("time,asset,currency,price"));
    }
}
