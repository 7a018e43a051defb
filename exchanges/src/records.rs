//! CSV records of a history file, each with the physical line it starts on.
//!
//! Every file is read this way, by the importer and by the readers' tests alike: no fixed
//! header (the header is found among the first [`HEADER_SEARCH_RECORDS`] records, since some
//! exports put a preamble before it), rows of any length (a short row is the reader's error,
//! not a parse failure).
//!
//! The csv crate's own line count goes wrong after blank lines with CRLF endings, and an
//! error that points at the wrong line sends a person to fix the wrong row. Its byte offset
//! of a record is where the previous record ended (before any blank lines and the rest of a
//! CRLF), so the input is wrapped in a reader that remembers where each line terminator byte
//! is as the bytes stream past, and that offset is turned into the line of the record's first
//! byte of content.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{BufReader, Read};
use std::rc::Rc;

/// How many records are searched for the header row.
pub const HEADER_SEARCH_RECORDS: usize = 30;

/// What [`Records::next_record`] found.
pub enum Next<'a> {
    /// A record and the line it starts on.
    Record {
        /// The physical line (1-based).
        line: u64,
        /// Its fields.
        record: &'a csv::StringRecord,
    },
    /// A row that is not well-formed CSV (or not UTF-8 text), and what to say about it.
    Malformed {
        /// The physical line (1-based).
        line: u64,
        /// What is wrong, said for a person.
        message: String,
    },
    /// The end of the file.
    End,
}

/// The records of one CSV input, with their physical lines.
pub struct Records<R: Read> {
    csv: csv::Reader<BufReader<Counting<R>>>,
    lines: Lines,
    record: csv::StringRecord,
}

impl<R: Read> Records<R> {
    /// Reads `input` as CSV.
    pub fn new(input: R) -> Records<R> {
        Records::with_delimiter(input, b',')
    }

    /// Reads `input` as CSV whose fields are separated by `delimiter` (`;`: a spreadsheet in
    /// a locale with decimal commas writes its CSV so).
    pub fn with_delimiter(input: R, delimiter: u8) -> Records<R> {
        let lines = Lines::default();
        let csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(BufReader::with_capacity(1 << 20, lines.wrap(input)));
        Records { csv, lines, record: csv::StringRecord::new() }
    }

    /// The next record.
    pub fn next_record(&mut self) -> Next<'_> {
        match self.csv.read_record(&mut self.record) {
            Ok(false) => Next::End,
            Ok(true) => {
                let line = self.lines.line_at(self.record.position().map_or(0, |p| p.byte()));
                Next::Record { line, record: &self.record }
            }
            Err(e) => {
                let line = self.lines.line_at(e.position().map_or(0, |p| p.byte()));
                let message = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "it is not valid UTF-8 text (save the file as UTF-8)".to_string(),
                    _ => e.to_string(),
                };
                Next::Malformed { line, message: format!("not a well-formed CSV row: {message}") }
            }
        }
    }
}

/// The most bytes a data row may hold: real exports' rows are a few hundred bytes; a larger
/// one is a quote left open over much of the file, or not a history file.
pub const MAX_ROW_BYTES: usize = 1 << 20;

/// What is wrong with a data row that reads as well-formed CSV but is not one row: a row larger
/// than [`MAX_ROW_BYTES`], or a quoted field running over line breaks that holds whole rows of
/// the file (a line with as many separators as the header of `columns` has between its
/// names). Both come from a quote left open: the csv reader takes everything up to the next
/// quote, rows included, as one field's text, and those rows would be lost without a word.
/// `None` for a row as it should be (a multi-line note without separators is one).
pub fn swallowed_rows(record: &csv::StringRecord, columns: usize, delimiter: u8) -> Option<String> {
    let bytes = record.as_slice().len();
    if bytes > MAX_ROW_BYTES {
        return Some(format!(
            "the row holds {bytes} bytes (at most {MAX_ROW_BYTES}): no history file's row is that large; a quote left open reads the rows after it into one field (close it), or this is not a history file"
        ));
    }
    let separators = columns.saturating_sub(1).max(2);
    for field in record.iter().filter(|f| f.contains(['\n', '\r'])) {
        let lines = field.split(['\n', '\r']).filter(|l| !l.is_empty()).count();
        let row_like =
            field.split(['\n', '\r']).skip(1).any(|l| l.bytes().filter(|b| *b == delimiter).count() >= separators);
        if row_like {
            return Some(format!(
                "a quoted field runs over {lines} lines and holds rows of the file: a quote is not closed, and the rows after it were read as its text; close the quote (or remove it)"
            ));
        }
    }
    None
}

/// Newline positions seen so far and not yet passed by the records read.
#[derive(Default)]
struct State {
    /// Absolute offsets of `\r` and `\n` bytes read ahead, and whether each is a `\n`.
    terminators: VecDeque<(u64, bool)>,
    /// Newlines already passed.
    passed: u64,
    /// Bytes read so far.
    offset: u64,
}

/// Answers "which line does the record at this byte offset start on".
#[derive(Clone, Default)]
struct Lines(Rc<RefCell<State>>);

impl Lines {
    /// Wraps `input` so that the newlines it yields are counted here.
    fn wrap<R: Read>(&self, input: R) -> Counting<R> {
        Counting { input, lines: self.clone() }
    }

    /// The 1-based line of the first content byte at or after `offset` (skipping line
    /// terminators); offsets must not go backwards.
    fn line_at(&self, offset: u64) -> u64 {
        let mut state = self.0.borrow_mut();
        while let Some(&(at, newline)) = state.terminators.front() {
            if at >= offset {
                break;
            }
            state.terminators.pop_front();
            state.passed += u64::from(newline);
        }
        // Terminators right at `offset` are blank lines (or the end of a CRLF) before the record.
        let leading = state
            .terminators
            .iter()
            .zip(offset..)
            .take_while(|((at, _), expected)| at == expected)
            .filter(|((_, newline), _)| *newline)
            .count() as u64;
        state.passed + leading + 1
    }
}

/// A reader that reports the newlines it passes on to a [`Lines`].
struct Counting<R> {
    input: R,
    lines: Lines,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.input.read(buf)?;
        let mut state = self.lines.0.borrow_mut();
        let start = state.offset;
        for (i, b) in buf[..n].iter().enumerate().filter(|(_, b)| matches!(**b, b'\n' | b'\r')) {
            state.terminators.push_back((start + i as u64, *b == b'\n'));
        }
        state.offset += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_carry_physical_lines_with_crlf_and_blank_lines() {
        let text = "\r\nnotes\r\ntime,kind\r\n2025,a\r\n\r\n\r\n2025,\"b\r\nc\"\r\n2026,d\n";
        let mut records = Records::new(text.as_bytes());
        let mut seen = Vec::new();
        loop {
            match records.next_record() {
                Next::Record { line, record } => seen.push((line, record.get(0).unwrap_or("").to_string())),
                Next::Malformed { line, message } => panic!("{line}: {message}"),
                Next::End => break,
            }
        }
        let lines: Vec<u64> = seen.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [2, 3, 4, 7, 9]);
    }

    #[test]
    fn text_that_is_not_utf8_is_named_with_its_line() {
        let mut records = Records::new(&b"a,b\n1,2\n3,\xff\n"[..]);
        assert!(matches!(records.next_record(), Next::Record { line: 1, .. }));
        assert!(matches!(records.next_record(), Next::Record { line: 2, .. }));
        match records.next_record() {
            Next::Malformed { line, message } => {
                assert_eq!(line, 3);
                assert!(message.contains("not valid UTF-8"), "{message}");
            }
            _ => panic!("expected a malformed row"),
        }
    }

    #[test]
    fn a_quote_left_open_is_told_from_a_note_over_lines() {
        let text = "time,kind,amount,note\n\
            2025-01-01,deposit,1,\"two\nlines, one comma\"\n\
            2025-01-02,deposit,1,\"left open\n2025-01-03,deposit,1,ok\n2025-01-04,deposit,1,ok\n";
        let mut records = Records::new(text.as_bytes());
        let mut found = Vec::new();
        while let Next::Record { line, record } = records.next_record() {
            found.push((line, swallowed_rows(record, 4, b',')));
        }
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[0], (1, None));
        assert_eq!(found[1], (2, None), "a note over two lines with one comma is a note");
        let (line, problem) = &found[2];
        assert_eq!(*line, 4);
        assert!(problem.as_deref().is_some_and(|p| p.contains("a quote is not closed")), "{problem:?}");
        // Semicolon files: their separator counts.
        let text = "a;b;c\n1;2;\"x\n3;4;5\n";
        let mut records = Records::with_delimiter(text.as_bytes(), b';');
        let _ = records.next_record();
        let Next::Record { record, .. } = records.next_record() else { panic!("a record") };
        assert!(swallowed_rows(record, 3, b';').is_some());
        assert!(swallowed_rows(record, 3, b',').is_none());
    }

    #[test]
    fn a_row_too_large_is_refused() {
        let text = format!("a,b\n1,\"{}\"\n", "x".repeat(MAX_ROW_BYTES + 1));
        let mut records = Records::new(text.as_bytes());
        let _ = records.next_record();
        let Next::Record { record, .. } = records.next_record() else { panic!("a record") };
        assert!(swallowed_rows(record, 2, b',').is_some_and(|p| p.contains("at most")));
    }

    #[test]
    fn offsets_map_to_physical_lines() {
        let lines = Lines::default();
        let mut input = lines.wrap("a\r\n\r\nb\nc".as_bytes());
        let mut all = Vec::new();
        input.read_to_end(&mut all).unwrap();
        assert_eq!(lines.line_at(0), 1);
        // The csv crate reports a record as starting where the previous one ended, at the `\r`.
        assert_eq!(lines.line_at(1), 3);
        assert_eq!(lines.line_at(6), 4);
        assert_eq!(lines.line_at(7), 4);
    }
}
