//! Imported files kept whole in a bundle's copy (`import_files`): their bytes are a BLOB the
//! column-by-column rewrite does not reach, so their identifying cells are collected and
//! replaced here, a line at a time, and their names (which often name the client) become
//! `file-<id>.csv`.

use std::io::{self, Read, Write};

use rusqlite::{Connection, params};

use super::pseudonym::{Kind, Pseudonyms, Replacer, identifying_field};
use crate::digest::Hashing;
use crate::ledger::{FILE_CHUNK, FileReader};

/// The kept files' ids, in order.
fn file_ids(conn: &Connection) -> Result<Vec<i64>, rusqlite::Error> {
    let mut stmt = conn.prepare("SELECT id FROM import_files ORDER BY id")?;
    stmt.query_map([], |r| r.get(0))?.collect()
}

/// Collects the identifying cells of every kept file: under a header row (any row naming an
/// address, tag or tx hash column, at commas or else at semicolons), the cells of those columns.
pub fn collect(conn: &Connection, pseudonyms: &mut Pseudonyms) -> Result<(), rusqlite::Error> {
    for file in file_ids(conn)? {
        for delimiter in [b',', b';'] {
            if collect_at(FileReader::new(conn, file), delimiter, pseudonyms).map_err(to_sql)? {
                break;
            }
        }
    }
    Ok(())
}

/// [`collect`] for one file split at `delimiter`; returns whether a header row was found.
fn collect_at(bytes: impl Read, delimiter: u8, pseudonyms: &mut Pseudonyms) -> io::Result<bool> {
    let mut csv = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(bytes);
    let mut columns: Vec<(usize, Kind)> = Vec::new();
    let mut found = false;
    let mut record = csv::ByteRecord::new();
    while csv.read_byte_record(&mut record).map_err(io::Error::other)? {
        let named: Vec<(usize, Kind)> = record
            .iter()
            .enumerate()
            .filter_map(|(i, cell)| identifying_field(&String::from_utf8_lossy(cell)).map(|kind| (i, kind)))
            .collect();
        if !named.is_empty() {
            (columns, found) = (named, true);
            continue;
        }
        for (i, kind) in &columns {
            if let Some(cell) = record.get(*i).map(String::from_utf8_lossy).filter(|c| !c.trim().is_empty()) {
                pseudonyms.of(*kind, cell.trim());
            }
        }
    }
    Ok(found)
}

/// Rewrites every kept file through `replacer`, a line at a time (no identifying value spans
/// lines), names it `file-<id>.csv`, and notes the new bytes' hash and length.
pub fn rewrite(conn: &Connection, replacer: &Replacer) -> Result<(), rusqlite::Error> {
    for file in file_ids(conn)? {
        let mut out = Hashing::new(Rewritten { conn, file, seq: 0, staged: Vec::new() });
        let mut reader = io::BufReader::new(FileReader::new(conn, file));
        let mut line = Vec::new();
        loop {
            line.clear();
            if io::BufRead::read_until(&mut reader, b'\n', &mut line).map_err(to_sql)? == 0 {
                break;
            }
            out.write_all(replacer.apply(&String::from_utf8_lossy(&line)).as_bytes()).map_err(to_sql)?;
        }
        out.flush().map_err(to_sql)?;
        let (sha256, bytes) = out.finish();
        conn.execute("DELETE FROM import_file_chunks WHERE file_id = ?1 AND seq >= 0", [file])?;
        conn.execute("UPDATE import_file_chunks SET seq = -seq - 1 WHERE file_id = ?1", [file])?;
        conn.execute(
            "UPDATE import_files SET name = 'file-' || id || '.csv', sha256 = ?2, bytes = ?3 WHERE id = ?1",
            params![file, sha256, bytes as i64],
        )?;
    }
    Ok(())
}

/// A file's rewritten bytes, written beside its pieces in pieces of [`FILE_CHUNK`] (the `k`-th
/// at `-1 - k`: a pseudonym may be longer than its original, so writing over pieces not read
/// yet could lose them) and put in their place once the whole file is rewritten. `flush`
/// writes what is staged.
struct Rewritten<'c> {
    conn: &'c Connection,
    file: i64,
    seq: i64,
    staged: Vec<u8>,
}

impl Write for Rewritten<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.staged.extend_from_slice(buf);
        if self.staged.len() >= FILE_CHUNK {
            self.flush()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.staged.is_empty() {
            return Ok(());
        }
        self.conn
            .execute(
                "INSERT INTO import_file_chunks (file_id, seq, data) VALUES (?1, ?2, ?3)",
                params![self.file, -1 - self.seq, self.staged],
            )
            .map_err(io::Error::other)?;
        self.seq += 1;
        self.staged.clear();
        Ok(())
    }
}

/// An error of reading or writing a kept file as SQLite's: the database's own when it was one.
fn to_sql(e: io::Error) -> rusqlite::Error {
    match e.downcast::<rusqlite::Error>() {
        Ok(inner) => inner,
        Err(e) => rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
    }
}
