//! The SQLite ledger: opening, migrating, and one file per kind of row it stores.
//!
//! One file per ledger (per client, for an accountant). WAL mode, foreign keys on,
//! migrations from `schema/` applied by `PRAGMA user_version`. Amounts are exact decimals
//! stored as TEXT; nothing here does arithmetic on them in SQL.

mod accounts;
mod allocation;
mod attention;
mod balances;
mod bytes;
pub mod closed;
mod details;
mod elections;
mod event_cache;
pub mod events;
mod files;
mod form1099da;
mod movements;
mod pending;
pub mod price_cache;
pub mod prices;
mod rebate_links;
mod removal;
mod runs;
pub mod snapshots;
mod sync_state;
mod sync_summaries;
pub mod tax;
mod writer;

use std::path::{Path, PathBuf};

use rusqlite::Connection;

pub use accounts::{Account, CredentialSource, NewAccount};
pub use allocation::{AllocatedLot, AllocationRule, StoredAllocation};
pub use attention::Unreadable;
pub use balances::Balance;
pub use details::Attached;
pub use elections::Election;
pub use event_cache::EventCapture;
pub use events::{EventFilter, EventRow, LegRow, RawRef};
pub use files::{FileReader, ImportedFile};
pub use form1099da::StatementRow;
pub use movements::TransferMatching;
pub use price_cache::FilePrice;
pub use prices::{CURRENCY_SOURCE, LegValue, MissingLeg, PricingEvent, PricingLeg, ValueCheck};
pub use rebate_links::RebateLink;
pub(crate) use removal::remove_accounts;
pub use sync_state::{Coverage, FileEvent, ReportedBalance, StoredRaw};
pub use tax::{
    Disposal, DisposalKind, Holding, IncomeRow, LinkMethod, Movement, RunRows, TaxEvent, TaxLeg, Term, TransferLink,
};
pub use writer::{AccountInserts, FILE_CHUNK, Writer, Written};

/// The migration that moves snapshot lots into blocks: the lots of closed years are encoded by
/// [`snapshots::lot_rows_to_blocks`] right after it runs, in the same transaction.
const SNAPSHOT_LOT_BLOCKS: &str = include_str!("../../schema/0029_snapshot_lot_blocks.sql");

/// The migrations, in order; migration `i` brings the ledger to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("../../schema/0001_ledger.sql"),
    include_str!("../../schema/0002_sync.sql"),
    include_str!("../../schema/0003_prices.sql"),
    include_str!("../../schema/0004_tax.sql"),
    include_str!("../../schema/0005_attention.sql"),
    include_str!("../../schema/0006_pending.sql"),
    include_str!("../../schema/0007_settings.sql"),
    include_str!("../../schema/0008_1099da.sql"),
    include_str!("../../schema/0009_elections.sql"),
    include_str!("../../schema/0010_snapshots.sql"),
    include_str!("../../schema/0011_closed_years.sql"),
    include_str!("../../schema/0012_sync_summaries.sql"),
    include_str!("../../schema/0013_allocation.sql"),
    include_str!("../../schema/0014_passphrase.sql"),
    include_str!("../../schema/0015_event_details.sql"),
    include_str!("../../schema/0016_snapshot_lot_rank.sql"),
    // 0022 landed on main before 0018: the list is in landing order (a version is an index).
    include_str!("../../schema/0022_rebate_links.sql"),
    include_str!("../../schema/0018_movement_index.sql"),
    include_str!("../../schema/0023_writer_notes_inserts.sql"),
    include_str!("../../schema/0024_transfer_cache.sql"),
    include_str!("../../schema/0025_tax_row_blocks.sql"),
    include_str!("../../schema/0026_value_checks.sql"),
    include_str!("../../schema/0027_tax_event_cache.sql"),
    include_str!("../../schema/0028_input_changes_cleared.sql"),
    SNAPSHOT_LOT_BLOCKS,
    include_str!("../../schema/0030_transfer_movement_blocks.sql"),
    include_str!("../../schema/0031_tax_rows_in_blocks.sql"),
    include_str!("../../schema/0032_event_removals.sql"),
    include_str!("../../schema/0033_unused_movement_index.sql"),
    include_str!("../../schema/0034_prices_without_rowid.sql"),
    include_str!("../../schema/0035_import_files.sql"),
    include_str!("../../schema/0036_legs_role_check.sql"),
];

/// The ledger version this build writes.
pub const LEDGER_VERSION: i64 = MIGRATIONS.len() as i64;

/// Marks a SQLite file as a cointally ledger (`PRAGMA application_id`, "CTLY").
const APPLICATION_ID: i64 = 0x4354_4c59;

/// Why a ledger could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// No file at the path and the command does not create one.
    #[error("no ledger at {0}")]
    Missing(PathBuf),
    /// `init` on a path that already holds a ledger.
    #[error("a ledger already exists at {0}")]
    Exists(PathBuf),
    /// The path names a folder, not a file.
    #[error("{0} is a folder, not a ledger file")]
    IsFolder(PathBuf),
    /// The folder the ledger would be created in does not exist.
    #[error("the folder {0} does not exist")]
    NoFolder(PathBuf),
    /// The file is not a SQLite database at all.
    #[error("{0} is not a cointally ledger (not a SQLite database)")]
    NotSqlite(PathBuf),
    /// The file is a SQLite database made by something else.
    #[error("{0} is a SQLite database but not a cointally ledger")]
    Foreign(PathBuf),
    /// The ledger was written by a newer cointally.
    #[error("{path} was written by a newer cointally (ledger version {found}; this build knows up to {known})")]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// No account has that label.
    #[error("no account labelled {0:?}")]
    NoSuchAccount(String),
    /// The account written to no longer exists (another command removed it).
    #[error("the account (id {0}) is no longer in the ledger: another command removed it")]
    NoSuchAccountId(i64),
    /// Events were removed by another command while this one read them, so what it found
    /// for them must not be stored.
    #[error("events were removed from the ledger while this command read it; run it again")]
    EventsRemoved,
    /// An account with that label exists already.
    #[error("an account labelled {0:?} already exists")]
    DuplicateLabel(String),
    /// A stored value could not be read back (the file was edited by hand?).
    #[error("the ledger holds a value it cannot read: {0}")]
    Corrupt(String),
    /// A stored figure is too large (or too fine) to compute with safely.
    #[error("the ledger holds a figure too large to compute with: {0}")]
    OutOfRange(String),
    /// Reading or writing the file failed.
    #[error("ledger file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// SQLite refused an operation.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// How [`Ledger::open`] treats a missing file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// The ledger must exist.
    Existing,
    /// Create it when missing.
    CreateIfMissing,
    /// It must not exist yet (`init`).
    CreateNew,
}

/// An open ledger file.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
}

impl Ledger {
    /// Opens (and migrates) the ledger at `path`. A file that is not a cointally ledger, or
    /// is a newer one, is refused before anything is written to it.
    pub fn open(path: &Path, mode: OpenMode) -> Result<Ledger, LedgerError> {
        if path.is_dir() {
            return Err(LedgerError::IsFolder(path.to_path_buf()));
        }
        let exists = path.exists();
        let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(folder) = folder.filter(|f| !exists && mode != OpenMode::Existing && !f.is_dir()) {
            return Err(LedgerError::NoFolder(folder.to_path_buf()));
        }
        match (mode, exists) {
            (OpenMode::Existing, false) => return Err(LedgerError::Missing(path.to_path_buf())),
            (OpenMode::CreateNew, true) if file_len(path)? > 0 => {
                return Err(LedgerError::Exists(path.to_path_buf()));
            }
            _ => {}
        }
        let conn = Connection::open(path)?;
        let version = user_version(&conn, path)?;
        let app_id: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
        if version > LEDGER_VERSION {
            return Err(LedgerError::TooNew { path: path.to_path_buf(), found: version, known: LEDGER_VERSION });
        }
        if app_id != APPLICATION_ID {
            let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
            if app_id != 0 || tables > 0 {
                return Err(LedgerError::Foreign(path.to_path_buf()));
            }
        }
        if version == 0 {
            // A new file: 8 KiB pages make the B-trees of a large ledger shallower (a
            // million-row import is about 8% faster than with 4 KiB pages).
            conn.pragma_update(None, "page_size", 8192)?;
        }
        // A 64 MiB page cache holds the unique indexes a large import writes to; statement
        // journals (multi-row inserts need them) stay in memory instead of temporary files.
        // (A memory map of the file, `mmap_size`, was tried: a report from a snapshot took 5-8%
        // less time, but the mapped pages count as the process's resident memory, 730 MB for
        // a report of all years over a million events instead of 400 MB.)
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;
             PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        let mut ledger = Ledger { conn, path: path.to_path_buf() };
        ledger.migrate(version)?;
        Ok(ledger)
    }

    /// Brings the schema from version `seen` (read when the file was opened) to this build's.
    ///
    /// The version is read again under the write lock: another command opening the same older
    /// ledger at the same moment may have migrated it since, and its migrations must not run
    /// twice.
    fn migrate(&mut self, seen: i64) -> Result<(), LedgerError> {
        if seen == LEDGER_VERSION {
            return Ok(());
        }
        let tx = self.transaction()?;
        let from: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if from >= LEDGER_VERSION {
            return Ok(());
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
            tx.execute_batch(sql)?;
            if *sql == SNAPSHOT_LOT_BLOCKS {
                snapshots::lot_rows_to_blocks(&tx)?;
            }
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.commit()?;
        Ok(())
    }

    /// A second connection to this ledger's file, to read on another thread beside this one's
    /// writes (WAL: each statement sees what was committed when it began). Its page cache is
    /// small, 4 MiB: it reads ahead once, it does not revisit (since each connection has a
    /// cache of its own, 16 MiB per reader added 20 MB to a report of all years over a million
    /// events, and the reads were no faster).
    pub fn reader(&self) -> Result<Ledger, LedgerError> {
        let ledger = Ledger::open(&self.path, OpenMode::Existing)?;
        ledger.conn.execute_batch("PRAGMA cache_size = -4096; PRAGMA query_only = ON;")?;
        Ok(ledger)
    }

    /// The file this ledger lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open ledger.
    pub fn version(&self) -> Result<i64, LedgerError> {
        Ok(self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Starts a write transaction: everything written through it lands together or not at all.
    fn transaction(&mut self) -> Result<rusqlite::Transaction<'_>, LedgerError> {
        Ok(self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
    }

    /// Counts the rows of every stored table (for tests and the demo summary).
    pub fn row_counts(&self) -> Result<Vec<(String, i64)>, LedgerError> {
        let mut stmt = self.conn.prepare(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?;
        let names: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        names
            .into_iter()
            .map(|name| {
                let count = self.conn.query_row(&format!("SELECT count(*) FROM \"{name}\""), [], |r| r.get(0))?;
                Ok((name, count))
            })
            .collect()
    }

    /// Sets a setting's value.
    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<(), LedgerError> {
        self.conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }

    /// Removes a setting (nothing when it is not set).
    pub fn remove_setting(&mut self, key: &str) -> Result<(), LedgerError> {
        self.conn.execute("DELETE FROM settings WHERE key = ?1", [key])?;
        Ok(())
    }

    /// The ledger's random id (keys its entries in the credentials file).
    pub fn ledger_id(&self) -> Result<String, LedgerError> {
        self.setting("ledger_id")?.ok_or_else(|| LedgerError::Corrupt("the ledger has no id".into()))
    }

    /// Every setting, sorted by key (`cointally settings`).
    pub fn settings(&self) -> Result<Vec<(String, String)>, LedgerError> {
        let mut stmt = self.conn.prepare("SELECT key, value FROM settings ORDER BY key")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A setting's value (reporting currency, ...).
    pub fn setting(&self, key: &str) -> Result<Option<String>, LedgerError> {
        use rusqlite::OptionalExtension;
        Ok(self.conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }
}

fn file_len(path: &Path) -> Result<u64, LedgerError> {
    std::fs::metadata(path).map(|m| m.len()).map_err(|source| LedgerError::Io { path: path.to_path_buf(), source })
}

/// The ledger's schema version, read by SQLite, which refuses a file that is not SQLite by
/// its header and writes nothing to it.
///
/// The header is not read through a descriptor of our own: SQLite's locks are POSIX advisory
/// locks, which Linux drops for the whole process when any descriptor of the file closes, so
/// a second connection opened that way (`report`'s read-ahead) left the first unlocked, and
/// another command ending meanwhile took itself for the ledger's last user and deleted the
/// write-ahead log under it (`tests/concurrent.rs`; sqlite.org/howtocorrupt.html, 2.2).
fn user_version(conn: &Connection, path: &Path) -> Result<i64, LedgerError> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => LedgerError::NotSqlite(path.to_path_buf()),
        _ => e.into(),
    })
}

/// Now, as stored in `created_at` columns (RFC 3339 UTC).
pub(crate) fn now_text() -> String {
    cointally_exchanges::time::format_rfc3339(chrono::Utc::now())
}

/// Turns SQLite's per-row foreign key checks on or off for `conn` (only outside a transaction:
/// inside one the pragma does nothing). Off only for writes whose references are checked once
/// instead ([`Ledger::account_inserts`], [`Ledger::store_page_values`]).
pub(super) fn check_foreign_keys(conn: &Connection, on: bool) -> rusqlite::Result<()> {
    conn.execute_batch(if on { "PRAGMA foreign_keys = ON" } else { "PRAGMA foreign_keys = OFF" })
}

/// How many events were ever removed (schema/0032_event_removals.sql).
pub(super) fn event_removal_count(conn: &Connection) -> Result<i64, LedgerError> {
    Ok(conn.query_row("SELECT count FROM event_removals WHERE id = 1", [], |r| r.get(0))?)
}

/// A decimal stored as text (a price, a rate, a total), or [`LedgerError::Corrupt`] naming
/// `what` and the text when it is not one.
pub(crate) fn decimal(text: &str, what: &str) -> Result<rust_decimal::Decimal, LedgerError> {
    text.parse().map_err(|_| LedgerError::Corrupt(format!("{what} {text:?} is not a decimal")))
}

/// A new ledger in a temporary folder with one files-only wallet account (its id): where most
/// of the ledger's tests start.
#[cfg(test)]
pub(crate) fn test_ledger() -> (tempfile::TempDir, Ledger, i64) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).expect("new ledger");
    let account = ledger.add_account(&NewAccount::files_only("w", "wallet")).expect("account").id;
    (dir, ledger, account)
}

/// Whether SQLite checks foreign keys on `conn` (tests of the writes that turn them off).
#[cfg(test)]
pub(crate) fn foreign_keys_checked(conn: &Connection) -> bool {
    conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).expect("the pragma")
}

/// Rows of the ledger whose foreign key names nothing (tests).
#[cfg(test)]
pub(crate) fn dangling_references(conn: &Connection) -> i64 {
    conn.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).expect("the check")
}

/// A ledger file of an older build: a new database at the version before the first migration
/// `is_it` picks, with the rows `fill` writes (tests of a migration: what it must carry over).
#[cfg(test)]
pub(crate) fn ledger_before(
    is_it: impl Fn(&str) -> bool,
    fill: impl FnOnce(&rusqlite::Transaction<'_>),
) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("l.sqlite");
    let mut conn = Connection::open(&path).expect("a database");
    let tx = conn.transaction().expect("a transaction");
    let at = MIGRATIONS.iter().position(|m| is_it(m)).expect("the migration");
    for (i, sql) in MIGRATIONS[..at].iter().enumerate() {
        tx.execute_batch(sql).expect("an earlier migration");
        tx.pragma_update(None, "user_version", i as i64 + 1).expect("the version");
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID).expect("the application id");
    fill(&tx);
    tx.commit().expect("the older ledger");
    (dir, path)
}

/// Writes `events` into `account` (source `csv:generic`) in one transaction; their ids, in
/// order (tests).
#[cfg(test)]
pub(crate) fn write_test_events(
    ledger: &mut Ledger,
    account: i64,
    events: &[cointally_exchanges::NewEvent],
) -> Vec<i64> {
    let mut writer = ledger.writer().expect("the writer");
    let ids = events
        .iter()
        .map(|event| {
            let (Written::New(id) | Written::Existing(id)) =
                writer.event(account, "csv:generic", event, &[]).expect("the event");
            id
        })
        .collect();
    writer.commit().expect("the commit");
    ids
}

/// A value of `value` at a price of 1 for leg `seq` of `event_id` (tests).
#[cfg(test)]
pub(crate) fn test_value(event_id: i64, seq: i64, value: &str) -> LegValue {
    let value = value.parse().expect("a decimal");
    LegValue { event_id, seq, price: rust_decimal::Decimal::ONE, value, source: "test".into(), path: String::new() }
}

/// A value of 10 at a price of 1 for each of an event's first `legs` legs (tests).
#[cfg(test)]
pub(crate) fn ten_each(event_id: i64, legs: i64) -> Vec<LegValue> {
    (0..legs).map(|seq| test_value(event_id, seq, "10")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        (dir, path)
    }

    #[test]
    fn creates_migrates_and_reopens() {
        let (_dir, path) = temp();
        let ledger = Ledger::open(&path, OpenMode::CreateNew).unwrap();
        assert_eq!(ledger.version().unwrap(), LEDGER_VERSION);
        let tables: Vec<String> = ledger.row_counts().unwrap().into_iter().map(|(n, _)| n).collect();
        for table in [
            "accounts",
            "raw_records",
            "sync_cursors",
            "events",
            "legs",
            "transfers",
            "prices",
            "transfer_unlinks",
            "tax_runs",
            "tax_disposals",
            "tax_income",
            "tax_holdings",
        ] {
            assert!(tables.iter().any(|t| t == table), "missing table {table}");
        }
        drop(ledger);
        let again = Ledger::open(&path, OpenMode::Existing).unwrap();
        assert_eq!(again.version().unwrap(), LEDGER_VERSION);
        assert_eq!(again.setting("reporting_currency").unwrap().as_deref(), Some("USD"));
        let fk: i64 = again.conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        let mode: String = again.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!((fk, mode.as_str()), (1, "wal"));
    }

    /// `.cargo/config.toml` passes SQLite's recommended options to the bundled build.
    #[test]
    fn the_bundled_sqlite_has_the_projects_compile_options() {
        let (_dir, path) = temp();
        let ledger = Ledger::open(&path, OpenMode::CreateNew).unwrap();
        let mut stmt = ledger.conn.prepare("PRAGMA compile_options").unwrap();
        let options: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        for wanted in ["DEFAULT_MEMSTATUS=0", "OMIT_SHARED_CACHE", "OMIT_DEPRECATED"] {
            assert!(options.iter().any(|o| o == wanted), "{wanted} missing from {options:?}");
        }
    }

    #[test]
    fn init_refuses_an_existing_ledger_and_open_a_missing_one() {
        let (_dir, path) = temp();
        assert!(matches!(Ledger::open(&path, OpenMode::Existing), Err(LedgerError::Missing(_))));
        assert!(!path.exists());
        Ledger::open(&path, OpenMode::CreateNew).unwrap();
        assert!(matches!(Ledger::open(&path, OpenMode::CreateNew), Err(LedgerError::Exists(_))));
    }

    #[test]
    fn an_older_ledger_migrated_meanwhile_by_another_command_is_not_migrated_twice() {
        // Before 0032, whose table a second run could not create again.
        let before = include_str!("../../schema/0032_event_removals.sql");
        let at = MIGRATIONS.iter().position(|m| *m == before).expect("0032");
        let (_dir, path) = ledger_before(|m| m == before, |_| {});
        let seen = at as i64;
        // This command read the older version; another one opened the file and migrated it.
        let mut ledger = Ledger::open(&path, OpenMode::Existing).unwrap();
        assert_eq!(ledger.version().unwrap(), LEDGER_VERSION);
        ledger.migrate(seen).unwrap();
        assert_eq!(ledger.version().unwrap(), LEDGER_VERSION);
    }

    #[test]
    fn a_folder_or_a_missing_folder_is_named_as_such() {
        let (dir, _) = temp();
        for mode in [OpenMode::Existing, OpenMode::CreateIfMissing, OpenMode::CreateNew] {
            assert!(matches!(Ledger::open(dir.path(), mode), Err(LedgerError::IsFolder(_))));
        }
        let nowhere = dir.path().join("no-such-folder");
        let inside = nowhere.join("ledger.sqlite");
        match Ledger::open(&inside, OpenMode::CreateNew) {
            Err(LedgerError::NoFolder(folder)) => assert_eq!(folder, nowhere),
            other => panic!("expected NoFolder, got {:?}", other.map(|_| ())),
        }
        assert!(matches!(Ledger::open(&inside, OpenMode::Existing), Err(LedgerError::Missing(_))));
        assert!(!nowhere.exists());
    }

    #[test]
    fn refuses_a_file_that_is_not_sqlite_and_leaves_it_alone() {
        let (_dir, path) = temp();
        let text = b"Date,Amount\n2025-01-01,1\n".repeat(100);
        std::fs::write(&path, &text).unwrap();
        assert!(matches!(Ledger::open(&path, OpenMode::CreateIfMissing), Err(LedgerError::NotSqlite(_))));
        assert_eq!(std::fs::read(&path).unwrap(), text);
        // Shorter than SQLite's header, and a header's first bytes alone.
        for text in [&b"hi"[..], b"SQLite format"] {
            std::fs::write(&path, text).unwrap();
            assert!(matches!(Ledger::open(&path, OpenMode::Existing), Err(LedgerError::NotSqlite(_))), "{text:?}");
            assert_eq!(std::fs::read(&path).unwrap(), text);
        }
        assert!(!path.with_extension("sqlite-wal").exists() && !path.with_extension("sqlite-journal").exists());
    }

    #[test]
    fn refuses_a_foreign_database() {
        let (_dir, path) = temp();
        Connection::open(&path).unwrap().execute_batch("CREATE TABLE songs (title TEXT)").unwrap();
        let before = std::fs::read(&path).unwrap();
        assert!(matches!(Ledger::open(&path, OpenMode::Existing), Err(LedgerError::Foreign(_))));
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn refuses_a_newer_ledger_and_changes_nothing() {
        let (_dir, path) = temp();
        drop(Ledger::open(&path, OpenMode::CreateNew).unwrap());
        Connection::open(&path).unwrap().pragma_update(None, "user_version", LEDGER_VERSION + 1).unwrap();
        let before = std::fs::read(&path).unwrap();
        match Ledger::open(&path, OpenMode::Existing) {
            Err(LedgerError::TooNew { found, .. }) => assert_eq!(found, LEDGER_VERSION + 1),
            other => panic!("expected TooNew, got {:?}", other.err()),
        }
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}
