//! Form 1099-DA statements as CSV: one row per reported sale, in cointally's documented layout
//! of the form's per-transaction boxes.
//!
//! The fields are those of the official 2025 Form 1099-DA, "Digital Asset Proceeds From Broker
//! Transactions" (<https://www.irs.gov/forms-pubs/about-form-1099-da>, instructions
//! <https://www.irs.gov/instructions/i1099da>): the applicable checkbox on Form 8949 (G, H, J,
//! K or Y), box 1a the digital asset's DTIF code, 1b its name, 1c the units, 1d the date
//! acquired, 1e the date sold or disposed of, 1f the proceeds, 1g the cost or other basis, 2
//! whether the basis was reported to the IRS, 6 the type of gain or loss (short-term,
//! long-term, ordinary), 9 noncovered security. Header names (any order, any case):
//!
//! `checkbox,dtif_code,asset,units,date_acquired,date_sold,proceeds,cost_basis,basis_reported,gain_type,noncovered`
//!
//! `asset`, `units`, `date_sold` and `proceeds` are required; `asset` is the ticker cointally
//! uses (`BTC`, not the DTIF name `Bitcoin`); dates are `YYYY-MM-DD` or `MM/DD/YYYY`
//! (`date_acquired` may also be `VARIOUS`); yes/no boxes take `X`, `yes`, `true` or `1` (empty
//! is no). The basis counts as reported when box 2 is checked or the checkbox code is G or J.
//! A column not in this list is an error: a misspelt `proceeds` must not pass unseen.

use std::path::Path;

use chrono::NaiveDate;
use cointally_exchanges::amount::parse_amount;
use cointally_exchanges::asset::asset_symbol;
use cointally_exchanges::rows::{Header, Row};
use rust_decimal::Decimal;

use crate::ledger::{StatementRow, Term};

/// The columns of the layout, in the order cointally writes them.
pub const COLUMNS: [&str; 11] = [
    "checkbox",
    "dtif_code",
    "asset",
    "units",
    "date_acquired",
    "date_sold",
    "proceeds",
    "cost_basis",
    "basis_reported",
    "gain_type",
    "noncovered",
];

const REQUIRED: [&str; 4] = ["asset", "units", "date_sold", "proceeds"];

/// How many bad rows are listed before reading stops.
const MAX_PROBLEMS: usize = 20;

/// A statement file that cannot be read: what, where, and nothing was imported.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    /// The file could not be opened or read as CSV.
    #[error("{path}: {message}")]
    Unreadable {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// Rows (or the header) are wrong; each problem names its line.
    #[error("{path}: {} problem(s); nothing was imported:\n  {}", problems.len(), problems.join("\n  "))]
    BadRows {
        /// The file.
        path: String,
        /// `line N: what` for each.
        problems: Vec<String>,
    },
}

fn yes(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "" | "no" | "false" | "0" => Ok(false),
        "x" | "yes" | "true" | "1" => Ok(true),
        other => Err(format!("{other:?} is not a yes/no box (X, yes, true, 1, or empty)")),
    }
}

fn date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%m/%d/%Y"))
        .map_err(|_| format!("{text:?} is not a date (YYYY-MM-DD or MM/DD/YYYY)"))
}

fn read_row(row: &Row<'_>) -> Result<StatementRow, String> {
    let field = |name: &str, e: String| format!("{name}: {e}");
    let checkbox = row.get("checkbox").to_ascii_uppercase();
    if !matches!(checkbox.as_str(), "" | "G" | "H" | "J" | "K" | "Y") {
        return Err(field("checkbox", format!("{checkbox:?} is not a 1099-DA checkbox code (G, H, J, K, Y)")));
    }
    let asset =
        asset_symbol(row.required("asset").map_err(|e| e.to_string())?).map_err(|e| field("asset", e.to_string()))?;
    let units = parse_amount(row.get("units")).map_err(|e| field("units", e.to_string()))?;
    if units <= Decimal::ZERO {
        return Err(field("units", "must be more than zero".into()));
    }
    let date_acquired = match row.get("date_acquired") {
        "" => None,
        v if v.eq_ignore_ascii_case("various") => None,
        v => Some(date(v).map_err(|e| field("date_acquired", e))?),
    };
    let date_sold = date(row.required("date_sold").map_err(|e| e.to_string())?).map_err(|e| field("date_sold", e))?;
    let proceeds = parse_amount(row.get("proceeds")).map_err(|e| field("proceeds", e.to_string()))?;
    let cost_basis = match row.get("cost_basis") {
        "" => None,
        v => Some(parse_amount(v).map_err(|e| field("cost_basis", e.to_string()))?),
    };
    let term = match row.get("gain_type").to_ascii_lowercase().as_str() {
        "" | "ordinary" => None,
        "short" | "short-term" | "short term" => Some(Term::Short),
        "long" | "long-term" | "long term" => Some(Term::Long),
        other => return Err(field("gain_type", format!("{other:?} is not short-term, long-term or ordinary"))),
    };
    let boxed = yes(row.get("basis_reported")).map_err(|e| field("basis_reported", e))?;
    Ok(StatementRow {
        line: row.line,
        basis_reported: boxed || matches!(checkbox.as_str(), "G" | "J"),
        checkbox,
        dtif_code: row.get("dtif_code").to_owned(),
        asset,
        units,
        date_acquired,
        date_sold,
        proceeds,
        cost_basis,
        term,
        noncovered: yes(row.get("noncovered")).map_err(|e| field("noncovered", e))?,
    })
}

/// Reads a statement's text: every row, or every problem (up to twenty).
pub fn read_text(path: &str, text: &str) -> Result<Vec<StatementRow>, StatementError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut records = reader.records();
    let unreadable = |message: String| StatementError::Unreadable { path: path.to_owned(), message };
    let header = match records.next() {
        Some(Ok(record)) => Header::new(record.iter()),
        Some(Err(e)) => return Err(unreadable(e.to_string())),
        None => return Err(unreadable("the file is empty; it needs a header row".into())),
    };
    let mut problems = Vec::new();
    for name in header.names() {
        if !COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(name)) {
            problems.push(format!("line 1: unknown column {name:?} (the columns: {})", COLUMNS.join(",")));
        }
    }
    for name in REQUIRED {
        if header.position(name).is_none() {
            problems.push(format!("line 1: the header has no {name:?} column; it is required"));
        }
    }
    let mut rows = Vec::new();
    for record in records {
        if problems.len() >= MAX_PROBLEMS {
            break;
        }
        let record = record.map_err(|e| unreadable(e.to_string()))?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if let Some(message) = cointally_exchanges::records::swallowed_rows(&record, header.names().len(), b',') {
            problems.push(format!("line {line}: {message}"));
            continue;
        }
        if problems.is_empty() || header.has_all(&REQUIRED) {
            match read_row(&Row::new(line, &header, &record)) {
                Ok(row) => rows.push(row),
                Err(e) => problems.push(format!("line {line}: {e}")),
            }
        }
    }
    if problems.is_empty() { Ok(rows) } else { Err(StatementError::BadRows { path: path.to_owned(), problems }) }
}

/// Reads a statement file.
pub fn read_file(path: &Path) -> Result<Vec<StatementRow>, StatementError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| StatementError::Unreadable { path: shown.clone(), message: e.to_string() })?;
    read_text(&shown, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_reads_every_box_it_has() {
        let text = "checkbox,asset,units,date_acquired,date_sold,proceeds,cost_basis,basis_reported,gain_type\n\
                    H,btc,0.5,VARIOUS,2025-03-01,50000.00,,,short-term\n\
                    J,ETH,2,01/15/2026,03/01/2027,7000,5000,X,long\n";
        let rows = read_text("s.csv", text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].asset.as_str(), rows[0].line), ("BTC", 2));
        assert_eq!((rows[0].date_acquired, rows[0].cost_basis, rows[0].basis_reported), (None, None, false));
        assert_eq!(rows[0].term, Some(Term::Short));
        assert_eq!(rows[1].date_acquired, NaiveDate::from_ymd_opt(2026, 1, 15));
        assert_eq!(rows[1].date_sold, NaiveDate::from_ymd_opt(2027, 3, 1).unwrap());
        assert_eq!((rows[1].cost_basis, rows[1].basis_reported), (Some(Decimal::new(5000, 0)), true));
    }

    #[test]
    fn bad_rows_and_unknown_columns_are_named_with_their_lines() {
        let err = read_text("s.csv", "asset,units,date_sold,procedes\nBTC,1,2025-01-01,1\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("unknown column \"procedes\"") && text.contains("no \"proceeds\" column"), "{text}");
        let err = read_text("s.csv", "asset,units,date_sold,proceeds\nBTC,1,2025-01-01,1\nBTC,x,2025-13-01,1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3: units:"), "{err}");
        let err = read_text("s.csv", "asset,units,date_sold,proceeds\nBTC,1,2025-02-30,1\n").unwrap_err().to_string();
        assert!(err.contains("line 2: date_sold:"), "{err}");
        // A quote left open: the rows after it are not read as its text.
        let text = "asset,units,date_sold,proceeds\nBTC,1,2025-01-01,\"1\nBTC,1,2025-01-02,1\nBTC,1,2025-01-03,1\n";
        let err = read_text("s.csv", text).unwrap_err().to_string();
        assert!(err.contains("line 2: a quoted field runs over"), "{err}");
    }
}
