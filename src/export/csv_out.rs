//! The one CSV writer of every export: `\n` line ends, and text that a spreadsheet would run as
//! a formula written inert.
//!
//! Notes, transaction hashes, source ids and account labels come from exchanges, from files
//! and from whoever named a wallet; an accountant opens the exports in a spreadsheet. A cell
//! beginning with `=`, `+`, `-`, `@`, a tab or a carriage return (or their full-width forms,
//! which some spreadsheets also read so) is taken as a formula there: `=HYPERLINK(...)` in a
//! deposit's memo would become a live link, and worse (CSV injection, OWASP). Such a cell is
//! written with a `'` before it, which spreadsheets show as text and never evaluate; a number
//! (`-12.5`, `-1,234.00`) is left as it is, so amounts and every cell cointally makes itself
//! are written unchanged. [`unguarded`] reads a guarded cell back (the allocation record into
//! `basis --specific`).
//! <https://owasp.org/www-community/attacks/CSV_Injection>

use std::borrow::Cow;
use std::io::Write;

/// The characters that make a spreadsheet read a cell as a formula when it begins with one.
const FORMULA_STARTS: [char; 10] = ['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];

/// A CSV writer that writes every cell through [`guarded`].
pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
}

/// A CSV writer with `\n` line ends (the same bytes on every platform); `always_quote` quotes
/// every field (CoinTracking).
pub fn csv_writer<W: Write>(out: W, always_quote: bool) -> CsvWriter<W> {
    let style = if always_quote { csv::QuoteStyle::Always } else { csv::QuoteStyle::Necessary };
    CsvWriter {
        inner: csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).quote_style(style).from_writer(out),
    }
}

impl<W: Write> CsvWriter<W> {
    /// Writes one row, each cell [`guarded`].
    pub fn write_record<I, T>(&mut self, record: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        for cell in record {
            self.inner.write_field(guarded(cell.as_ref()).as_bytes())?;
        }
        // An empty record after the fields ends the row (csv's way to finish `write_field`s).
        self.inner.write_record(std::iter::empty::<&[u8]>())
    }

    /// Writes what is buffered.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// `cell` as a spreadsheet shows it as text: with a `'` before it when it begins like a
/// formula and is not a number (or is such a cell with `'`s before it already, so that
/// [`unguarded`] gives back exactly what was written).
pub fn guarded(cell: &str) -> Cow<'_, str> {
    if needs_guard(cell) { Cow::Owned(format!("'{cell}")) } else { Cow::Borrowed(cell) }
}

/// A cell as it was before [`guarded`]: without the `'` put before it.
pub fn unguarded(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => rest,
        _ => cell,
    }
}

/// Whether a spreadsheet would read `cell` as a formula, or [`unguarded`] would take a `'`
/// off it.
fn needs_guard(cell: &str) -> bool {
    let quotes = cell.len() - cell.trim_start_matches('\'').len();
    let rest = &cell[quotes..];
    rest.starts_with(FORMULA_STARTS) && !is_number(rest)
}

/// A signed number as cointally and people write them (`-12.5`, `+3`, `-1,234.00`): a sign,
/// then digits, points and commas only, at least one digit. Never a formula.
fn is_number(cell: &str) -> bool {
    let digits = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    digits.bytes().any(|b| b.is_ascii_digit()) && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_cell_beginning_like_a_formula_is_written_as_text_and_a_number_as_it_is() {
        for (cell, written) in [
            ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
            ("+cmd", "'+cmd"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\r=1", "'\r=1"),
            ("＝1+1", "'＝1+1"),
            ("'=1", "''=1"),
            ("-", "'-"),
            ("-12.5", "-12.5"),
            ("+3", "+3"),
            ("-1,234.00", "-1,234.00"),
            ("2025-01-15", "2025-01-15"),
            ("wire from checking", "wire from checking"),
            ("'quoted'", "'quoted'"),
            ("", ""),
        ] {
            assert_eq!(guarded(cell), written, "{cell:?}");
            assert_eq!(unguarded(&guarded(cell)), cell, "{cell:?}");
        }
    }

    #[test]
    fn the_writer_guards_every_cell_and_quotes_as_csv_does() {
        let mut bytes = Vec::new();
        let mut w = csv_writer(&mut bytes, false);
        w.write_record(["=1+1", "-0.5", "a,b", "@x"]).unwrap();
        w.write_record([String::from("plain"), String::from("=\"q\""), String::new(), String::from("1e5")]).unwrap();
        w.flush().unwrap();
        drop(w);
        assert_eq!(String::from_utf8(bytes).unwrap(), "'=1+1,-0.5,\"a,b\",'@x\nplain,\"'=\"\"q\"\"\",,1e5\n");

        let mut bytes = Vec::new();
        let mut w = csv_writer(&mut bytes, true);
        w.write_record(["+x", "1"]).unwrap();
        w.flush().unwrap();
        drop(w);
        assert_eq!(String::from_utf8(bytes).unwrap(), "\"'+x\",\"1\"\n");
    }

    proptest! {
        #[test]
        fn what_is_written_reads_back_and_never_begins_a_formula(cell in "['=+@\\-\t]{0,3}[ -~＝]{0,8}") {
            let written = guarded(&cell);
            prop_assert_eq!(unguarded(&written), cell.as_str());
            prop_assert!(!written.starts_with(FORMULA_STARTS) || is_number(&written));
        }
    }
}
