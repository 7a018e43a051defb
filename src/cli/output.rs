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
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    out.flush()
}

/// Prints documents as [`print_json`] prints a list of them, made one at a time: each is
/// written and freed before the next is made.
pub fn print_json_each(documents: impl Iterator<Item = anyhow::Result<serde_json::Value>>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    write_json_each(&mut out, documents)?;
    Ok(out.flush()?)
}

/// [`print_json_each`] into `out`: serde_json's pretty layout of an array, each element's lines
/// indented by two spaces (a JSON string holds no raw line break, so every one is layout).
fn write_json_each(
    out: &mut impl Write,
    documents: impl Iterator<Item = anyhow::Result<serde_json::Value>>,
) -> anyhow::Result<()> {
    let mut buf = Vec::new();
    let mut first = true;
    for document in documents {
        out.write_all(if first { b"[\n" } else { b",\n" })?;
        first = false;
        buf.clear();
        serde_json::to_writer_pretty(&mut buf, &document?)?;
        for (i, line) in buf.split(|b| *b == b'\n').enumerate() {
            if i > 0 {
                out.write_all(b"\n")?;
            }
            out.write_all(b"  ")?;
            out.write_all(line)?;
        }
    }
    out.write_all(if first { b"[]\n" } else { b"\n]\n" })?;
    Ok(())
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
            let mut each = Vec::new();
            write_json_each(&mut each, list.iter().cloned().map(anyhow::Ok)).unwrap();
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
