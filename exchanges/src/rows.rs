//! The trait the CSV importer drives: one implementation per file format.
//!
//! The importer reads a file row by row and hands each row, with its header, to a
//! [`RowReader`]. The reader gives back the events it can complete so far (a format whose
//! events span several rows keeps them until the group is whole) and, at the end, the rest.
//! Readers are pure: no I/O, no ledger; tested on fixture files.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::amount::{AmountError, parse_amount, parse_optional_amount};
use crate::asset::asset_symbol;
use crate::event::NewEvent;
use crate::records::{HEADER_SEARCH_RECORDS, Next, Records};
use crate::time::{TimeError, parse_utc};

/// The header of a file: column names and where they stand.
#[derive(Clone, Debug)]
pub struct Header {
    names: Vec<String>,
}

impl Header {
    /// Builds a header from the file's header row. Names are matched case-insensitively and
    /// with surrounding space and a byte-order mark removed.
    pub fn new<I, S>(names: I) -> Header
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Header { names: names.into_iter().map(|n| clean_name(n.as_ref())).collect() }
    }

    /// Where a column stands, if the header has it (the first of equal names).
    pub fn position(&self, name: &str) -> Option<usize> {
        // A header has a few dozen columns at most: a scan beats hashing, with no allocation.
        self.names.iter().position(|n| n.eq_ignore_ascii_case(name))
    }

    /// Whether the header has every one of `names`.
    pub fn has_all(&self, names: &[&str]) -> bool {
        names.iter().all(|n| self.position(n).is_some())
    }

    /// The column names as written.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

fn clean_name(name: &str) -> String {
    name.trim_start_matches('\u{feff}').trim().to_string()
}

/// One data row, with its line number, read through its header.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    /// The line in the file where the row starts (1-based, the header being line 1 or later).
    pub line: u64,
    header: &'a Header,
    fields: &'a csv::StringRecord,
}

impl<'a> Row<'a> {
    /// A row of `fields` under `header`, starting at `line`.
    pub fn new(line: u64, header: &'a Header, fields: &'a csv::StringRecord) -> Row<'a> {
        Row { line, header, fields }
    }

    /// The header the row is read through.
    pub fn header(&self) -> &'a Header {
        self.header
    }

    /// The trimmed text of a column; empty when the column or the field is missing.
    pub fn get(&self, name: &str) -> &'a str {
        self.header.position(name).and_then(|i| self.fields.get(i)).map(str::trim).unwrap_or("")
    }

    /// The text of a column that must be present and non-empty.
    pub fn required(&self, name: &str) -> Result<&'a str, RowError> {
        let value = self.get(name);
        if value.is_empty() {
            Err(RowError::new(format!("column {name:?} is empty; it is required")))
        } else {
            Ok(value)
        }
    }

    /// A required exact decimal.
    pub fn amount(&self, name: &str) -> Result<Decimal, RowError> {
        parse_amount(self.get(name)).map_err(|e| RowError::field(name, e))
    }

    /// An optional exact decimal: an empty field is `None`.
    pub fn optional_amount(&self, name: &str) -> Result<Option<Decimal>, RowError> {
        parse_optional_amount(self.get(name)).map_err(|e| RowError::field(name, e))
    }

    /// A required UTC timestamp in one of the common layouts.
    pub fn time(&self, name: &str) -> Result<DateTime<Utc>, RowError> {
        parse_utc(self.required(name)?).map_err(|e| RowError::field(name, e))
    }

    /// A required asset symbol, canonical (upper case).
    pub fn asset(&self, name: &str) -> Result<String, RowError> {
        asset_symbol(self.required(name)?).map_err(|e| RowError::field(name, e))
    }

    /// The text of a column, `None` when empty.
    pub fn optional(&self, name: &str) -> Option<String> {
        let value = self.get(name);
        (!value.is_empty()).then(|| value.to_string())
    }
}

/// What is wrong with a row, said so that a person can fix the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RowError {
    /// The message, without the file and line (the importer adds them).
    pub message: String,
    /// The line, when the error is about another row than the one being read.
    pub line: Option<u64>,
}

impl RowError {
    /// An error about the current row.
    pub fn new(message: impl Into<String>) -> RowError {
        RowError { message: message.into(), line: None }
    }

    /// An error about a row at another line (a group completed later).
    pub fn at(line: u64, message: impl Into<String>) -> RowError {
        RowError { message: message.into(), line: Some(line) }
    }

    /// An error about one field's value.
    pub fn field(name: &str, cause: impl std::fmt::Display) -> RowError {
        RowError::new(format!("column {name:?}: {cause}"))
    }
}

impl From<AmountError> for RowError {
    fn from(e: AmountError) -> Self {
        RowError::new(e.to_string())
    }
}

impl From<TimeError> for RowError {
    fn from(e: TimeError) -> Self {
        RowError::new(e.to_string())
    }
}

/// An event read from a file, with the rows it came from (the ledger notes their lines).
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedEvent {
    /// The event. When the file has no id for it, its `external_id` is empty and the
    /// importer derives one from the event's content.
    pub event: NewEvent,
    /// The rows it came from.
    pub rows: Vec<SourceRow>,
}

/// Which row of a file an event came from (the ledger keeps the file whole and notes each
/// event's lines).
/// (What a row means is the event's: a file's own id for it is the event's `external_id`.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceRow {
    /// Where it stands in the file.
    pub line: u64,
}

impl SourceRow {
    /// The row's place.
    pub fn of(row: &Row<'_>) -> SourceRow {
        SourceRow { line: row.line }
    }
}

/// Turns the rows of one file format into events.
pub trait RowReader {
    /// Reads one data row; returns the events that are complete now.
    fn read(&mut self, row: &Row<'_>) -> Result<Vec<ImportedEvent>, RowError>;

    /// The file has ended; returns the events still held back.
    fn finish(&mut self) -> Result<Vec<ImportedEvent>, RowError> {
        Ok(Vec::new())
    }
}

/// What reading a whole file's text gave: every event and every bad row.
#[derive(Debug)]
pub struct TextRead {
    /// The line of the header row, when one was found.
    pub header_line: Option<u64>,
    /// The events, in the order the reader gave them.
    pub events: Vec<ImportedEvent>,
    /// Every bad row, each with its line.
    pub errors: Vec<RowError>,
}

impl TextRead {
    /// The events, or the first bad row.
    pub fn into_result(self) -> Result<Vec<ImportedEvent>, RowError> {
        match self.errors.into_iter().next() {
            Some(error) => Err(error),
            None => Ok(self.events),
        }
    }
}

/// Reads a whole file's text through `reader` the way the importer reads a file — the same
/// [`Records`], the header found among the first records by `matches`, blank rows skipped —
/// but keeping every event and every error. For the readers' tests and small inputs; the
/// importer streams.
pub fn read_text(reader: &mut dyn RowReader, matches: impl Fn(&Header) -> bool, text: &str) -> TextRead {
    let mut records = Records::new(text.as_bytes());
    let mut out = TextRead { header_line: None, events: Vec::new(), errors: Vec::new() };
    let mut header = None;
    let mut searched = 0;
    loop {
        let (line, record) = match records.next_record() {
            Next::End => break,
            Next::Record { line, record } => (line, record),
            Next::Malformed { line, message } => {
                out.errors.push(RowError::at(line, message));
                continue;
            }
        };
        let Some(header) = header.as_ref() else {
            let candidate = Header::new(record.iter());
            if matches(&candidate) {
                header = Some(candidate);
                out.header_line = Some(line);
            } else {
                searched += 1;
                if searched >= HEADER_SEARCH_RECORDS {
                    break;
                }
            }
            continue;
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        match reader.read(&Row::new(line, header, record)) {
            Ok(events) => out.events.extend(events),
            Err(e) => out.errors.push(RowError { line: e.line.or(Some(line)), ..e }),
        }
    }
    if header.is_none() {
        out.errors.push(RowError::at(1, "no header row was found"));
        return out;
    }
    match reader.finish() {
        Ok(events) => out.events.extend(events),
        Err(e) => out.errors.push(e),
    }
    out
}

/// One export file layout of an exchange.
#[derive(Clone, Copy)]
pub struct CsvFormat {
    /// The name on the command line (`--format`) and in the raw archive (`csv:NAME`).
    pub name: &'static str,
    /// Whether a header row is this layout's.
    pub matches: fn(&Header) -> bool,
    /// A fresh reader for one file.
    pub reader: fn() -> Box<dyn RowReader>,
}

impl std::fmt::Debug for CsvFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for CsvFormat {
    fn eq(&self, other: &CsvFormat) -> bool {
        self.name == other.name
    }
}

impl Eq for CsvFormat {}

impl PartialOrd for CsvFormat {
    fn partial_cmp(&self, other: &CsvFormat) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CsvFormat {
    fn cmp(&self, other: &CsvFormat) -> std::cmp::Ordering {
        self.name.cmp(other.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that turns each row's `n` into a deposit of n BTC, refusing `x`.
    struct Counter;

    impl RowReader for Counter {
        fn read(&mut self, row: &Row<'_>) -> Result<Vec<ImportedEvent>, RowError> {
            let amount = row.amount("n")?;
            let t = crate::time::parse_utc("2025-01-01").unwrap();
            let legs = vec![crate::event::Leg::received("BTC", amount)];
            let event = NewEvent::new("", t, crate::event::EventKind::Deposit, legs);
            Ok(vec![ImportedEvent { event, rows: vec![SourceRow::of(row)] }])
        }
    }

    #[test]
    fn read_text_finds_the_header_after_a_preamble_and_lists_every_bad_row() {
        let text = "\r\nReport\r\nn,note\r\n1,a\r\nx,b\r\n\r\n2,c\r\ny,d\r\n";
        let read = read_text(&mut Counter, |h| h.has_all(&["n"]), text);
        assert_eq!(read.header_line, Some(3));
        assert_eq!(read.events.len(), 2);
        assert_eq!(read.errors.iter().map(|e| e.line).collect::<Vec<_>>(), [Some(5), Some(8)]);
        assert!(read.errors[0].message.contains("\"x\" is not a decimal number"), "{:?}", read.errors);
        assert_eq!(read.into_result().unwrap_err().line, Some(5));
        let none = read_text(&mut Counter, |h| h.has_all(&["amount"]), "a,b\n1,2\n");
        assert_eq!(none.header_line, None);
        assert!(none.into_result().unwrap_err().message.contains("no header row"));
    }

    #[test]
    fn header_is_matched_without_case_or_bom() {
        let header = Header::new(["\u{feff}Date", " Sent Amount ", "TxHash"]);
        assert_eq!(header.position("date"), Some(0));
        assert_eq!(header.position("SENT AMOUNT"), Some(1));
        assert!(header.has_all(&["Date", "txhash"]));
        assert!(!header.has_all(&["Label"]));
    }

    #[test]
    fn row_fields_are_read_by_name() {
        let header = Header::new(["time", "amount", "asset"]);
        let record = csv::StringRecord::from(vec!["2025-01-01 00:00:00", " 1.5 ", ""]);
        let row = Row::new(2, &header, &record);
        assert_eq!(row.amount("amount").unwrap(), Decimal::new(15, 1));
        assert!(row.required("asset").unwrap_err().message.contains("\"asset\" is empty"));
        assert_eq!(row.get("missing"), "");
    }
}
