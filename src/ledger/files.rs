//! Imported files kept whole (schema/0035_import_files.sql): which an account has, and their
//! bytes back, exactly as they were read.

use std::io::{Read, Write};

use rusqlite::{Connection, params};

use super::{Ledger, LedgerError};

/// One imported file the ledger keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedFile {
    /// Its row id (the audit export names it `file #<id>`).
    pub id: i64,
    /// The format it was read as, `csv:<format>`.
    pub source: String,
    /// Its name when imported, without the folder.
    pub name: String,
    /// The SHA-256 of its bytes, in hex.
    pub sha256: String,
    /// How many bytes it has.
    pub bytes: u64,
    /// When it was imported, Unix ms.
    pub imported_ms: i64,
}

impl Ledger {
    /// The files kept for an account, by id.
    pub fn imported_files(&self, account_id: i64) -> Result<Vec<ImportedFile>, LedgerError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, source, name, sha256, bytes, imported_ms FROM import_files WHERE account_id = ?1 ORDER BY id",
        )?;
        let files = stmt.query_map([account_id], |r| {
            Ok(ImportedFile {
                id: r.get(0)?,
                source: r.get(1)?,
                name: r.get(2)?,
                sha256: r.get(3)?,
                bytes: r.get::<_, i64>(4)?.try_into().unwrap_or(0),
                imported_ms: r.get(5)?,
            })
        })?;
        Ok(files.collect::<Result<_, _>>()?)
    }

    /// Writes a kept file's bytes to `out`, a piece at a time; returns how many were written.
    pub fn write_imported_file(&self, file: i64, out: &mut dyn Write) -> std::io::Result<u64> {
        std::io::copy(&mut FileReader::new(&self.conn, file), out)
    }
}

/// Reads a kept file's bytes piece by piece, in order, from any connection to a ledger (the
/// ledger's own, or a bundle's copy).
pub struct FileReader<'c> {
    conn: &'c Connection,
    file: i64,
    next: i64,
    piece: Vec<u8>,
    at: usize,
}

impl<'c> FileReader<'c> {
    /// The bytes of file `file`.
    pub fn new(conn: &'c Connection, file: i64) -> FileReader<'c> {
        FileReader { conn, file, next: 0, piece: Vec::new(), at: 0 }
    }
}

impl Read for FileReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.piece.len() {
            let piece = self
                .conn
                .prepare_cached("SELECT data FROM import_file_chunks WHERE file_id = ?1 AND seq = ?2")
                .and_then(|mut stmt| stmt.query_row(params![self.file, self.next], |r| r.get::<_, Vec<u8>>(0)));
            match piece {
                Ok(piece) => (self.piece, self.at, self.next) = (piece, 0, self.next + 1),
                Err(rusqlite::Error::QueryReturnedNoRows) => return Ok(0),
                Err(e) => return Err(std::io::Error::other(e)),
            }
        }
        let n = buf.len().min(self.piece.len() - self.at);
        buf[..n].copy_from_slice(&self.piece[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
