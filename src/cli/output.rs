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
}

impl Table {
    /// A table with these column headings.
    pub fn new(columns: &[(&'static str, Align)]) -> Table {
        Table { columns: columns.iter().map(|(h, a)| ((*h).to_owned(), *a)).collect(), rows: Vec::new() }
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
        self.rows.push(cells);
    }

    /// Writes the table; trailing spaces are trimmed.
    pub fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut widths: Vec<usize> = self.columns.iter().map(|(h, _)| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let headings: Vec<String> = self.columns.iter().map(|(h, _)| h.clone()).collect();
        for row in std::iter::once(&headings).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = widths[i] - cell.chars().count();
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
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }

    /// Prints the table on stdout.
    pub fn print(&self) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        self.write(&mut out)?;
        out.flush()
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
    fn columns_are_padded_and_numbers_right_aligned() {
        let mut table = Table::new(&[("Asset", Align::Left), ("Amount", Align::Right)]);
        table.row(vec!["BTC".into(), "0.5".into()]);
        table.row(vec!["USDT".into(), "1200".into()]);
        let mut out = Vec::new();
        table.write(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "Asset  Amount\nBTC       0.5\nUSDT     1200\n");
    }
}
