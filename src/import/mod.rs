//! CSV import: reads history files row by row into the ledger, all or nothing.
//!
//! A file's format is given or detected from its header (which may follow a few preamble
//! lines, as in Coinbase's reports). Rows are streamed through the format's
//! [`RowReader`]; events are written as they complete, inside ONE transaction for the whole
//! command, so a bad row anywhere — the last row of the last file included — leaves the ledger
//! exactly as it was. Errors are collected (up to [`MAX_ERRORS`]) so a person can fix a file
//! in one go.
//!
//! Every event is keyed so that importing the same file again adds nothing: by the file's
//! own id where it has one (which is also the exchange's API id, so a later sync does not
//! double it), otherwise by a hash of the event's content and its occurrence in the file.

pub mod form1099da;
mod generic;
mod kept;
mod key;
mod koinly;

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::mpsc::{Receiver, SyncSender};

use cointally_exchanges::records::{HEADER_SEARCH_RECORDS, Next, Records, swallowed_rows};
use cointally_exchanges::rows::{Header, ImportedEvent, Row, RowReader};

use cointally_exchanges::Exchange;
use cointally_exchanges::registry::{self, CsvFormat};

use crate::ledger::{Account, AccountInserts, Ledger, LedgerError, Written};
use crate::tax::zone::Zone;

pub use generic::GENERIC_COLUMNS;

/// How many row errors are listed before the importer stops reading.
pub const MAX_ERRORS: usize = 20;

/// A history file layout cointally reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    /// cointally's own documented layout.
    Generic,
    /// Koinly's universal template.
    Koinly,
    /// An exchange's export, as its registry entry lists it.
    Exchange(Exchange, &'static CsvFormat),
}

impl Format {
    /// Every format, in the order detection tries them: cointally's, Koinly's, then the
    /// exchanges' in the registry's order.
    pub fn all() -> Vec<Format> {
        let exchanges = registry::csv_formats().map(|(exchange, format)| Format::Exchange(exchange, format));
        [Format::Generic, Format::Koinly].into_iter().chain(exchanges).collect()
    }

    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Generic => "generic",
            Format::Koinly => "koinly",
            Format::Exchange(_, format) => format.name,
        }
    }

    /// The exchange whose accounts this format belongs to, if it belongs to one.
    pub fn exchange(self) -> Option<&'static str> {
        match self {
            Format::Generic | Format::Koinly => None,
            Format::Exchange(exchange, _) => Some(exchange.as_str()),
        }
    }

    /// Whether a header row is this format's.
    pub fn matches(self, header: &Header) -> bool {
        match self {
            Format::Generic => generic::matches(header),
            Format::Koinly => koinly::matches(header),
            Format::Exchange(_, format) => (format.matches)(header),
        }
    }

    /// A fresh reader for one file of this format; `zone` is the ledger's time zone, in which
    /// the generic layout reads times written without an offset.
    pub fn reader(self, zone: Zone) -> Box<dyn RowReader> {
        match self {
            Format::Generic => Box::new(generic::Reader::new(zone)),
            Format::Koinly => Box::new(koinly::Reader),
            Format::Exchange(_, format) => (format.reader)(),
        }
    }

    /// The raw archive's source name for rows of this format.
    fn source(self) -> String {
        format!("csv:{}", self.as_str())
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let all = Format::all();
        all.iter().copied().find(|f| f.as_str().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|f| f.as_str()).collect();
            format!("unknown format {s:?} (known: {})", names.join(", "))
        })
    }
}

/// One bad row: where, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowProblem {
    /// The file.
    pub path: PathBuf,
    /// The line.
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Some rows are bad; the whole import was rolled back.
    #[error("{} bad row{}{}; nothing was imported", .problems.len(), if .problems.len() == 1 { "" } else { "s" }, if *.truncated { " (showing the first ones)" } else { "" })]
    BadRows {
        /// The bad rows, in file order.
        problems: Vec<RowProblem>,
        /// Whether reading stopped after [`MAX_ERRORS`].
        truncated: bool,
    },
    /// No known header was found.
    #[error("{path}: no known header in the first {HEADER_SEARCH_RECORDS} rows (first line: {first_line:?})")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// Its first line, to show what was found.
        first_line: String,
    },
    /// The file is UTF-16 text (a spreadsheet's "Unicode Text"), not UTF-8.
    #[error("{path} is UTF-16 text, not UTF-8 (as a spreadsheet saves \"Unicode Text\")")]
    Utf16 {
        /// The file.
        path: PathBuf,
    },
    /// The header is not the given format's.
    #[error("{path}: the header is not a {format} file (first line: {first_line:?})")]
    WrongFormat {
        /// The file.
        path: PathBuf,
        /// The format asked for.
        format: Format,
        /// Its first line.
        first_line: String,
    },
    /// An exchange's export given to an account of another exchange.
    #[error("{path} is a {format} export but account {account:?} is a {exchange} account")]
    WrongAccount {
        /// The file.
        path: PathBuf,
        /// Its format.
        format: Format,
        /// The account's label.
        account: String,
        /// The account's exchange.
        exchange: String,
    },
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing to the ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The import stopped before the end; nothing was written.
    #[error("the import stopped: {0}; nothing was imported")]
    Stopped(&'static str),
}

impl From<rusqlite::Error> for ImportError {
    fn from(e: rusqlite::Error) -> Self {
        ImportError::Ledger(e.into())
    }
}

/// What one file added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileSummary {
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// Data rows read.
    pub rows: u64,
    /// Events new to the ledger.
    pub new_events: u64,
    /// Events the ledger already had.
    pub existing_events: u64,
    /// The id the ledger keeps the file under (`account files`), or `None` when it added
    /// nothing the ledger did not have (then it is not kept).
    pub kept_as: Option<i64>,
}

/// Reports how far an import is, in bytes of the current file. Called from the thread that
/// reads the files.
pub trait Progress: Sync {
    /// A new file starts; `len` is its size in bytes.
    fn start_file(&self, path: &Path, len: u64);
    /// `done` bytes of the current file are read.
    fn advance(&self, done: u64);
}

/// No progress reporting.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start_file(&self, _: &Path, _: u64) {}
    fn advance(&self, _: u64) {}
}

/// How many events travel from the reading thread to the writing thread at a time.
const BATCH: usize = 1024;

/// What the reading thread sends the writing one, file by file in the command's order (each
/// `file` is the index of the file in the command's list).
enum Message {
    /// Complete events, keyed, read from the file as `format`.
    Events { file: usize, format: Format, events: Vec<ImportedEvent> },
    /// The next piece of the file's bytes (see [`kept`]).
    Bytes { file: usize, data: Vec<u8> },
    /// The file is read: the format it was read as, its last piece, the SHA-256 and length of
    /// its bytes.
    End { file: usize, format: Format, data: Vec<u8>, sha256: String, bytes: u64 },
}

impl Message {
    fn file(&self) -> usize {
        match self {
            Message::Events { file, .. } | Message::Bytes { file, .. } | Message::End { file, .. } => *file,
        }
    }
}

/// The file being written: its index in the command's list, its id, its next piece.
struct OpenFile {
    index: usize,
    id: i64,
    next_piece: u64,
}

/// What the reading thread found, beside the events it sent.
struct ReadOutcome {
    /// Per file: path, format, data rows.
    files: Vec<(PathBuf, Format, u64)>,
    problems: Vec<RowProblem>,
    truncated: bool,
}

/// Imports `files` into `account`, all in one transaction: either every file is imported or
/// nothing is written.
///
/// One thread reads, validates and keys the rows while the calling thread writes them, so a
/// large file costs about the larger of the two rather than their sum. Once a bad row is
/// seen, no more events are sent; the transaction is rolled back at the end.
///
/// Each file is kept in the ledger whole, as its bytes, when one of its rows made an event no
/// earlier source had (`import_files`), and each event notes the lines it was made from.
pub fn import_files(
    ledger: &mut Ledger,
    account: &Account,
    files: &[PathBuf],
    format: Option<Format>,
    progress: &dyn Progress,
) -> Result<Vec<FileSummary>, ImportError> {
    let fetched_ms = chrono::Utc::now().timestamp_millis();
    let zone = Zone::of_ledger(ledger).map_err(ImportError::Ledger)?;
    // Only this account's records and events are added: SQLite need not check each row's
    // foreign keys (see `Ledger::account_inserts`).
    let mut writer = ledger.account_inserts(account.id)?;
    let mut counts = vec![(0u64, 0u64); files.len()];
    let mut kept = vec![None; files.len()];
    let outcome = std::thread::scope(|scope| -> Result<ReadOutcome, ImportError> {
        let (send, receive) = std::sync::mpsc::sync_channel::<Message>(8);
        // Written batches go back to be freed (and their room reused) where they were made:
        // freeing them here took a fifth of the writing thread's time, much of it waiting on
        // the lock of the reading thread's malloc arena.
        let (spent, returned) = std::sync::mpsc::sync_channel::<Vec<ImportedEvent>>(8);
        let reader = scope.spawn(move || read_files(account, files, format, zone, progress, send, returned));
        let mut open: Option<OpenFile> = None;
        let written = receive.iter().try_for_each(|message| {
            let index = message.file();
            let file = match open.as_mut() {
                Some(file) if file.index == index => file,
                _ => {
                    let name = files[index]
                        .file_name()
                        .map_or_else(|| files[index].display().to_string(), |name| name.to_string_lossy().into_owned());
                    let id = writer.start_file(&name, fetched_ms)?;
                    open.insert(OpenFile { index, id, next_piece: 0 })
                }
            };
            match message {
                Message::Events { format, events, .. } => {
                    let source = format.source();
                    for imported in &events {
                        let new = write_event(&mut writer, &source, file.id, imported)?;
                        let (new_events, existing) = &mut counts[index];
                        if new { *new_events += 1 } else { *existing += 1 }
                    }
                    // Full (the reader is behind on freeing): freed here instead.
                    let _ = spent.try_send(events);
                }
                Message::Bytes { data, .. } => {
                    writer.file_chunk(file.id, file.next_piece, &data)?;
                    file.next_piece += 1;
                }
                Message::End { format, data, sha256, bytes, .. } => {
                    if !data.is_empty() {
                        writer.file_chunk(file.id, file.next_piece, &data)?;
                    }
                    if writer.end_file(file.id, &format.source(), &sha256, bytes)? {
                        kept[index] = Some(file.id);
                    }
                    open = None;
                }
            }
            Ok::<_, ImportError>(())
        });
        // On a write error the receiver is dropped here, which stops the reader at its next send.
        drop(receive);
        let outcome = reader.join().map_err(|_| ImportError::Stopped("the thread reading the files panicked"))?;
        written?;
        outcome
    })?;
    if !outcome.problems.is_empty() {
        return Err(ImportError::BadRows { problems: outcome.problems, truncated: outcome.truncated });
    }
    writer.commit()?;
    Ok(outcome
        .files
        .into_iter()
        .zip(counts)
        .zip(kept)
        .map(|(((path, format, rows), (new_events, existing_events)), kept_as)| FileSummary {
            path,
            format,
            rows,
            new_events,
            existing_events,
            kept_as,
        })
        .collect())
}

/// The legs of a row read as up to three `(amount, asset)` sides: sent, received, fee, in
/// that order, each only when the row has it.
fn legs(
    sent: Option<(rust_decimal::Decimal, String)>,
    received: Option<(rust_decimal::Decimal, String)>,
    fee: Option<(rust_decimal::Decimal, String)>,
) -> Vec<cointally_exchanges::Leg> {
    use cointally_exchanges::Leg;
    let sides =
        [(sent, Leg::sent as fn(String, rust_decimal::Decimal) -> Leg), (received, Leg::received), (fee, Leg::fee)];
    sides.into_iter().filter_map(|(side, leg)| side.map(|(amount, asset)| leg(asset, amount))).collect()
}

/// Writes one event and the lines of `file` it came from; returns whether the event is new.
fn write_event(
    writer: &mut AccountInserts<'_>,
    source: &str,
    file: i64,
    imported: &ImportedEvent,
) -> Result<bool, ImportError> {
    let mut lines = String::new();
    for row in &imported.rows {
        if !lines.is_empty() {
            lines.push(' ');
        }
        lines.push_str(itoa::Buffer::new().format(row.line));
    }
    Ok(matches!(writer.event(source, &imported.event, file, lines)?, Written::New(_)))
}

/// The reading thread: every file in turn, sending batches of keyed events until a problem
/// is found (then it only collects problems) or the writer hangs up.
fn read_files(
    account: &Account,
    files: &[PathBuf],
    format: Option<Format>,
    zone: Zone,
    progress: &dyn Progress,
    send: SyncSender<Message>,
    returned: Receiver<Vec<ImportedEvent>>,
) -> Result<ReadOutcome, ImportError> {
    let mut outcome = ReadOutcome { files: Vec::new(), problems: Vec::new(), truncated: false };
    for (index, path) in files.iter().enumerate() {
        let keys = key::Keys::default();
        let mut file = FileRead { index, account, zone, keys, batch: Vec::new(), send: &send, returned: &returned };
        let (found, rows) = file.read(path, format, &mut outcome.problems, progress)?;
        outcome.files.push((path.clone(), found, rows));
        if outcome.problems.len() >= MAX_ERRORS {
            outcome.truncated = true;
            break;
        }
    }
    Ok(outcome)
}

/// How much of a file's start is looked at for its encoding and its field separator.
const HEAD_BYTES: usize = 64 * 1024;

/// The field separator of a file whose start is `head`: a comma, unless the header (`wanted`'s,
/// or any format's) is found among its first records only when they are split at semicolons,
/// as a spreadsheet in a locale with decimal commas saves CSV. (Its amounts must still be
/// written with points: a comma in a number is refused, never guessed at.)
fn delimiter(head: &[u8], wanted: Option<Format>) -> u8 {
    let has_header = |delimiter: u8| {
        let mut records = Records::with_delimiter(head, delimiter);
        for _ in 0..HEADER_SEARCH_RECORDS {
            match records.next_record() {
                Next::End => return false,
                Next::Malformed { .. } => continue,
                Next::Record { record, .. } => {
                    let header = Header::new(record.iter());
                    let known = match wanted {
                        Some(format) => format.matches(&header),
                        None => Format::all().into_iter().any(|f| f.matches(&header)),
                    };
                    if known {
                        return true;
                    }
                }
            }
        }
        false
    };
    if !has_header(b',') && has_header(b';') { b';' } else { b',' }
}

/// The state of reading one file.
struct FileRead<'s> {
    index: usize,
    account: &'s Account,
    /// The ledger's time zone.
    zone: Zone,
    keys: key::Keys,
    batch: Vec<ImportedEvent>,
    send: &'s SyncSender<Message>,
    /// Batches the writer is done with.
    returned: &'s Receiver<Vec<ImportedEvent>>,
}

/// A file's header, once found, and the reader for its format.
struct Found {
    format: Format,
    header: Header,
    reader: Box<dyn RowReader>,
}

impl FileRead<'_> {
    /// Reads the file: finds its header among the first records (preamble lines such as
    /// Coinbase's come before it) and with it the format (`wanted`, or the first that
    /// recognises the header), then reads every data row. Returns the format and the number
    /// of data rows; stops early when the problems reach [`MAX_ERRORS`].
    fn read(
        &mut self,
        path: &Path,
        wanted: Option<Format>,
        problems: &mut Vec<RowProblem>,
        progress: &dyn Progress,
    ) -> Result<(Format, u64), ImportError> {
        let io = |source| ImportError::Io { path: path.to_path_buf(), source };
        let mut file = File::open(path).map_err(io)?;
        progress.start_file(path, file.metadata().map(|m| m.len()).unwrap_or(0));
        // The file's start: what it is written in, and how its fields are separated.
        let mut head = Vec::with_capacity(HEAD_BYTES);
        (&mut file).take(HEAD_BYTES as u64).read_to_end(&mut head).map_err(io)?;
        if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
            return Err(ImportError::Utf16 { path: path.to_path_buf() });
        }
        let delimiter = delimiter(&head, wanted);
        let kept = kept::Kept::new(self.index);
        let tee = kept::Tee::new(std::io::Cursor::new(head).chain(file), kept.clone(), self.send.clone());
        let mut records = Records::with_delimiter(tee, delimiter);
        let mut found: Option<Found> = None;
        let mut before_header = 0;
        let mut first_line = None;
        let mut rows = 0u64;
        let problem = |line: u64, message: String| RowProblem { path: path.to_path_buf(), line, message };
        loop {
            let (line, record) = match records.next_record() {
                Next::End => break,
                Next::Record { line, record } => (line, record),
                Next::Malformed { line, message } => {
                    problems.push(problem(line, message));
                    if problems.len() >= MAX_ERRORS {
                        break;
                    }
                    continue;
                }
            };
            let Some(Found { format, header, reader }) = found.as_mut() else {
                first_line
                    .get_or_insert_with(|| record.iter().collect::<Vec<_>>().join(",").chars().take(120).collect());
                let header = Header::new(record.iter());
                let format = match wanted {
                    Some(format) => format.matches(&header).then_some(format),
                    None => Format::all().into_iter().find(|f| f.matches(&header)),
                };
                match format {
                    Some(format) => {
                        self.check_account(path, format)?;
                        found = Some(Found { format, header, reader: format.reader(self.zone) });
                    }
                    None if before_header + 1 >= HEADER_SEARCH_RECORDS => break,
                    None => before_header += 1,
                }
                continue;
            };
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            if let Some(message) = swallowed_rows(record, header.names().len(), delimiter) {
                problems.push(problem(line, message));
                if problems.len() >= MAX_ERRORS {
                    break;
                }
                continue;
            }
            rows += 1;
            if rows % 8192 == 0 {
                progress.advance(record.position().map_or(0, |p| p.byte()));
            }
            match reader.read(&Row::new(line, header, record)) {
                Ok(events) if problems.is_empty() => self.queue(*format, events)?,
                Ok(_) => {}
                Err(e) => {
                    problems.push(problem(e.line.unwrap_or(line), e.message));
                    if problems.len() >= MAX_ERRORS {
                        break;
                    }
                }
            }
        }
        let Some(Found { format, mut reader, .. }) = found else {
            let first_line = first_line.unwrap_or_default();
            return Err(match wanted {
                Some(format) => ImportError::WrongFormat { path: path.to_path_buf(), format, first_line },
                None => ImportError::UnknownFormat { path: path.to_path_buf(), first_line },
            });
        };
        if problems.len() < MAX_ERRORS {
            match reader.finish() {
                Ok(events) if problems.is_empty() => self.queue(format, events)?,
                Ok(_) => {}
                Err(e) => problems.push(problem(e.line.unwrap_or(0), e.message)),
            }
        }
        if problems.is_empty() {
            self.flush(format)?;
            drop(records);
            let (data, sha256, bytes) = kept.borrow_mut().finish();
            let end = Message::End { file: self.index, format, data, sha256, bytes };
            self.send.send(end).map_err(|_| ImportError::Stopped("writing to the ledger failed"))?;
        }
        Ok((format, rows))
    }

    /// An exchange's own export belongs in an account of that exchange.
    fn check_account(&self, path: &Path, format: Format) -> Result<(), ImportError> {
        match format.exchange() {
            Some(exchange) if exchange != self.account.exchange => Err(ImportError::WrongAccount {
                path: path.to_path_buf(),
                format,
                account: self.account.label.clone(),
                exchange: self.account.exchange.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Keys the events and sends them on in batches.
    fn queue(&mut self, format: Format, events: Vec<ImportedEvent>) -> Result<(), ImportError> {
        for mut imported in events {
            if imported.event.external_id.is_empty() {
                imported.event.external_id = self.keys.derive(&imported.event);
            }
            self.batch.push(imported);
        }
        if self.batch.len() >= BATCH { self.flush(format) } else { Ok(()) }
    }

    fn flush(&mut self, format: Format) -> Result<(), ImportError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        // The next batch in the room of one written already, if one has come back.
        let mut next = Vec::new();
        while let Ok(mut written) = self.returned.try_recv() {
            written.clear();
            next = written;
        }
        let batch = Message::Events { file: self.index, format, events: std::mem::replace(&mut self.batch, next) };
        // The writer hung up: it failed, and its error is the one reported.
        self.send.send(batch).map_err(|_| ImportError::Stopped("writing to the ledger failed"))
    }
}

#[cfg(test)]
mod tests;
