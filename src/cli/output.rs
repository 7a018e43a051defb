//! What commands print on stdout: aligned tables for people, JSON documents for scripts.

use std::io::Write;

use serde::Serialize;

/// How a column's cells line up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// Text: left.
    Left,
    /// Numbers: right.
    Right,
}

/// A table printed with columns padded to their widest cell.
pub struct Table {
    columns: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
    /// A streamed table's widths, once fixed ([`Table::stream_row`]).
    widths: Option<Vec<usize>>,
}

/// How many rows a streamed table holds to size its columns before it writes them: the rows
/// after come out as they are given, in those widths (a longer cell pushes the rest of its row
/// right; nothing is cut), so a listing of a million events holds ten thousand rows at most.
pub const SIZING_ROWS: usize = 10_000;

impl Table {
    /// A table with these column headings.
    pub fn new(columns: &[(&'static str, Align)]) -> Table {
        Table { columns: columns.iter().map(|(h, a)| ((*h).to_owned(), *a)).collect(), rows: Vec::new(), widths: None }
    }

    /// Replaces the heading of column `index` (a heading made at run time, such as a time
    /// column named with the ledger's time zone).
    pub fn heading(mut self, index: usize, heading: String) -> Table {
        if let Some(column) = self.columns.get_mut(index) {
            column.0 = heading;
        }
        self
    }

    /// Adds a row (one cell per column).
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        self.rows.push(cells.into_iter().map(printable).collect());
    }

    /// Adds a row to a table written as it goes: held until [`SIZING_ROWS`] are, then the
    /// headings and those rows are written to `out` in their widths, and every later row at
    /// once. [`Table::finish`] writes what is still held.
    pub fn stream_row(&mut self, cells: Vec<String>, out: &mut impl Write) -> std::io::Result<()> {
        debug_assert_eq!(cells.len(), self.columns.len());
        let cells: Vec<String> = cells.into_iter().map(printable).collect();
        if let Some(widths) = &self.widths {
            return self.write_line(widths, &cells, out);
        }
        self.rows.push(cells);
        if self.rows.len() >= SIZING_ROWS {
            let widths = self.widths();
            self.write_rows(&widths, out)?;
            self.rows = Vec::new();
            self.widths = Some(widths);
        }
        Ok(())
    }

    /// Ends a streamed table: writes the rows still held (all of them when fewer than
    /// [`SIZING_ROWS`] came, as [`Table::write`] would).
    pub fn finish(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        if self.widths.is_none() {
            self.write(out)?;
        }
        self.rows.clear();
        out.flush()
    }

    /// Writes the table; trailing spaces are trimmed.
    pub fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        self.write_rows(&self.widths(), out)
    }

    /// Each column's width: its widest cell held, or its heading.
    fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.columns.iter().map(|(h, _)| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        widths
    }

    /// The headings and the rows held, in `widths`.
    fn write_rows(&self, widths: &[usize], out: &mut impl Write) -> std::io::Result<()> {
        let headings: Vec<String> = self.columns.iter().map(|(h, _)| h.clone()).collect();
        for row in std::iter::once(&headings).chain(&self.rows) {
            self.write_line(widths, row, out)?;
        }
        Ok(())
    }

    /// One line: the cells padded to `widths` (a longer one as it is), trailing spaces trimmed.
    fn write_line(&self, widths: &[usize], row: &[String], out: &mut impl Write) -> std::io::Result<()> {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = widths[i].saturating_sub(cell.chars().count());
            match self.columns[i].1 {
                Align::Left => {
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', pad));
                }
                Align::Right => {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                }
            }
        }
        writeln!(out, "{}", line.trim_end())
    }

    /// Prints the table on stdout.
    pub fn print(&self) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        self.write(&mut out)?;
        out.flush()
    }
}

/// A cell as the terminal may be given it: see [`terminal_text`]; a line break inside it is
/// escaped too (it would break the table).
fn printable(cell: String) -> String {
    match crate::terminal::terminal_text(&cell, false) {
        std::borrow::Cow::Borrowed(_) => cell,
        std::borrow::Cow::Owned(shown) => shown,
    }
}

/// Prints one JSON document on stdout, pretty, with a final newline.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> std::io::Result<()> {
    // Buffered: stdout alone writes every line of a large document on its own.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    out.flush()
}

/// A sequence serialized from the iterator its closure makes, element by element: a member of a
/// document printed whole ([`print_json`]) without the list built first, in memory or as a
/// `serde_json::Value` tree (90,000 own transfers held 450 MB so).
pub struct LazySeq<F>(pub F);

impl<F, I> Serialize for LazySeq<F>
where
    F: Fn() -> I,
    I: IntoIterator,
    I::Item: Serialize,
{
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq((self.0)())
    }
}

/// A JSON array written one element at a time, as [`print_json`] prints the whole list:
/// serde_json's pretty layout, each element's lines indented by two spaces (a JSON string
/// holds no raw line break, so every one is layout). Nothing is buffered here: a year of a
/// million events is hundreds of MB of JSON.
pub struct JsonList<W: Write> {
    out: W,
    first: bool,
}

impl<W: Write> JsonList<W> {
    /// An empty list, written to `out`.
    pub fn new(out: W) -> JsonList<W> {
        JsonList { out, first: true }
    }

    /// Writes the next element.
    pub fn push<T: Serialize + ?Sized>(&mut self, element: &T) -> std::io::Result<()> {
        self.out.write_all(if self.first { b"[\n" } else { b",\n" })?;
        self.first = false;
        serde_json::to_writer_pretty(Indented { out: &mut self.out, line_start: true }, element)?;
        Ok(())
    }

    /// Closes the list (with the final newline) and gives `out` back.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.write_all(if self.first { b"[]\n" } else { b"\n]\n" })?;
        Ok(self.out)
    }
}

/// Writes through to `out` with two spaces before every line (at the first byte of each).
struct Indented<'w, W: Write> {
    out: &'w mut W,
    line_start: bool,
}

impl<W: Write> Write for Indented<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            if self.line_start {
                self.out.write_all(b"  ")?;
                self.line_start = false;
            }
            let line = rest.iter().position(|b| *b == b'\n').map_or(rest.len(), |i| i + 1);
            self.out.write_all(&rest[..line])?;
            self.line_start = rest[line - 1] == b'\n';
            rest = &rest[line..];
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_reach_the_terminal_as_escapes_in_held_and_streamed_tables() {
        let cells = || vec!["\u{1b}]52;c;aGk=\u{7}memo".to_owned(), "two\nlines\r".to_owned(), "plain é".to_owned()];
        let mut table = Table::new(&[("a", Align::Left), ("b", Align::Left), ("c", Align::Left)]);
        table.row(cells());
        let mut held = Vec::new();
        table.write(&mut held).unwrap();
        let mut streamed = Vec::new();
        let mut table = Table::new(&[("a", Align::Left), ("b", Align::Left), ("c", Align::Left)]);
        table.stream_row(cells(), &mut streamed).unwrap();
        table.finish(&mut streamed).unwrap();
        for out in [held, streamed] {
            let text = String::from_utf8(out).unwrap();
            assert_eq!(text.lines().nth(1).unwrap(), "\\u{1b}]52;c;aGk=\\u{7}memo  two\\nlines\\r  plain é");
            assert!(!text.trim_end().chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
            assert_eq!(text.lines().count(), 2);
        }
    }

    #[test]
    fn documents_made_one_at_a_time_print_as_the_list_would() {
        let lists = [
            vec![],
            vec![serde_json::json!({})],
            vec![serde_json::json!({"year": 2024, "lines": [{"a": "x\ny", "b": []}, {}], "closed": null})],
            vec![
                serde_json::json!([1, [2, {"c": {}}]]),
                serde_json::json!("s"),
                serde_json::json!({"z": 1, "a": [{}]}),
            ],
        ];
        for list in lists {
            let mut whole = serde_json::to_vec_pretty(&list).unwrap();
            whole.push(b'\n');
            let mut each = JsonList::new(Vec::new());
            for document in &list {
                each.push(document).unwrap();
            }
            let each = each.finish().unwrap();
            assert_eq!(String::from_utf8(each).unwrap(), String::from_utf8(whole).unwrap());
        }
    }

    #[test]
    fn a_lazy_sequence_prints_as_the_list_would() {
        let numbers = [3, 1, 2];
        #[derive(Serialize)]
        struct Doc<L> {
            list: L,
        }
        let lazy = serde_json::to_string_pretty(&Doc { list: LazySeq(|| numbers.iter().map(|n| n * 10)) }).unwrap();
        let whole = serde_json::to_string_pretty(&Doc { list: vec![30, 10, 20] }).unwrap();
        assert_eq!(lazy, whole);
    }

    #[test]
    fn columns_are_padded_and_numbers_right_aligned() {
        let mut table = Table::new(&[("Asset", Align::Left), ("Amount", Align::Right)]);
        table.row(vec!["BTC".into(), "0.5".into()]);
        table.row(vec!["USDT".into(), "1200".into()]);
        let mut out = Vec::new();
        table.write(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "Asset  Amount\nBTC       0.5\nUSDT     1200\n");
    }

    #[test]
    fn a_streamed_table_holds_its_first_rows_only_and_cuts_nothing() {
        let columns = [("Asset", Align::Left), ("Amount", Align::Right)];
        let row = |i: usize| {
            vec![if i == SIZING_ROWS + 1 { "LONGERNAME".to_owned() } else { "BTC".to_owned() }, i.to_string()]
        };
        // Fewer rows than it sizes on: the table `write` gives.
        let (mut whole, mut streamed) = (Table::new(&columns), Table::new(&columns));
        let mut out = Vec::new();
        for i in 0..3 {
            whole.row(row(i));
            streamed.stream_row(row(i), &mut out).unwrap();
        }
        assert!(out.is_empty());
        streamed.finish(&mut out).unwrap();
        let mut expected = Vec::new();
        whole.write(&mut expected).unwrap();
        assert_eq!(out, expected);
        // More: the first ones written once they size the columns, then each as it comes.
        let mut streamed = Table::new(&columns);
        let mut out = Vec::new();
        for i in 0..SIZING_ROWS + 3 {
            streamed.stream_row(row(i), &mut out).unwrap();
            assert!(streamed.rows.len() < SIZING_ROWS);
        }
        streamed.finish(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), SIZING_ROWS + 4);
        assert_eq!(lines[1], "BTC         0");
        assert_eq!(lines[SIZING_ROWS + 1], "BTC     10000");
        // A cell wider than its column pushes the rest of its line right.
        assert_eq!(lines[SIZING_ROWS + 2], "LONGERNAME   10001");
    }
}
