//! Problem bundles: what a maintainer needs to reproduce a problem, with nothing secret and
//! nothing that names the person.
//!
//! A bundle is a zip file of two entries:
//! - `bundle.json`: the bundle format, cointally's version, the ledger's schema version, the
//!   accounts included (exchange, pseudonymous label), the row counts, whether ids were kept;
//! - `ledger.sqlite`: a copy of the ledger holding only the accounts named, with their raw
//!   records, events, legs, transfers, prices, settings, sync cursors, coverage and the records
//!   that need attention (what the last syncs left to look at), each account's last sync summary
//!   and warnings (also listed in `bundle.json`), and the closed years with the lots later years
//!   start from (not their filed files). Other computed tax rows are left out (`report` makes
//!   them again). Every account's key variable names, base URL and credential
//!   source are removed (the credentials file is never read), the ledger's id is blanked (it
//!   keys the credentials file), and unless `--keep-ids`, account labels, addresses, tags and
//!   tx hashes are replaced by stable pseudonyms everywhere they occur, raw records and the
//!   imported files kept whole included (their names become `file-<id>.csv`)
//!   (labels by `account-NNN` in their sorted order, so ties broken by label stay the same;
//!   tx hashes that transfer matching takes as equal get one pseudonym).
//!   The copy is vacuumed, so no freed page keeps an original.
//!
//! `import-bundle` writes that copy as a new ledger, with a new id: `report` on it gives the
//! figures of the original.

mod files;
pub mod pseudonym;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use serde::{Deserialize, Serialize};

use self::pseudonym::{Kind, Pseudonyms, collect_json};
use crate::ledger::{LEDGER_VERSION, Ledger, OpenMode};

/// The bundle layout this version writes and reads.
pub const FORMAT: u32 = 1;
const MANIFEST: &str = "bundle.json";
const LEDGER: &str = "ledger.sqlite";

/// Why a bundle could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The copy of the ledger failed.
    #[error("copying the ledger: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The ledger could not be opened.
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// The zip could not be written or read.
    #[error("{path}: not a readable cointally bundle ({reason})")]
    Zip {
        /// The bundle.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// `--account` named an account the ledger does not have.
    #[error("no account {0:?} in the ledger")]
    NoSuchAccount(String),
    /// The target ledger exists.
    #[error("{0} exists; import a bundle into a new ledger file")]
    Exists(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BundleError + '_ {
    move |source| BundleError::Io { path: path.to_path_buf(), source }
}

fn zip_error(path: &Path, e: impl std::fmt::Display) -> BundleError {
    BundleError::Zip { path: path.to_path_buf(), reason: e.to_string() }
}

/// `bundle.json`: what the bundle holds.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// The bundle layout ([`FORMAT`]).
    pub format: u32,
    /// The cointally that wrote it.
    pub cointally_version: String,
    /// The ledger's schema version.
    pub schema_version: i64,
    /// Whether labels, addresses and tx hashes are the originals (`--keep-ids`).
    pub ids_kept: bool,
    /// The accounts included, by id: exchange and (pseudonymous) label.
    pub accounts: Vec<BundledAccount>,
    /// Rows per table in the copy, by table name.
    pub rows: std::collections::BTreeMap<String, i64>,
    /// Each account's last sync summary with its warnings (as `sync --json` printed it, labels
    /// pseudonymous like the rest), by account id.
    #[serde(default)]
    pub last_syncs: Vec<serde_json::Value>,
}

/// One account in a bundle.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct BundledAccount {
    /// Its row id.
    pub id: i64,
    /// Its exchange.
    pub exchange: String,
    /// Its label (a pseudonym unless ids were kept).
    pub label: String,
}

/// What to put in a bundle.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Only these account labels (none: every account).
    pub accounts: Vec<String>,
    /// Keep labels, addresses and tx hashes as they are.
    pub keep_ids: bool,
}

/// Writes a bundle of the ledger at `ledger` to `out` (through a temporary file: never half a bundle).
pub fn write(ledger: &Path, out: &Path, options: &Options) -> Result<Manifest, BundleError> {
    // Opening through the ledger module checks it is a cointally ledger of a known version.
    drop(Ledger::open(ledger, OpenMode::Existing)?);
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let work = tempfile::tempdir_in(dir).map_err(io(dir))?;
    let copy = work.path().join(LEDGER);
    {
        let source = Connection::open_with_flags(ledger, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        source.execute("VACUUM INTO ?1", [copy.display().to_string()])?;
    }
    let manifest = sanitize(&copy, options)?;
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    {
        let mut zip = zip::ZipWriter::new(tmp.as_file());
        // Level 3: over a million events, 13.9 s and 96 MB against 22.5 s and 90 MB at the
        // default 6 (deflate was six tenths of it) and 11.3 s and 112 MB at 1.
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .compression_level(Some(3));
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| zip_error(out, e))?;
        zip.start_file(MANIFEST, deflated).map_err(|e| zip_error(out, e))?;
        zip.write_all(&json).map_err(io(out))?;
        zip.start_file(LEDGER, deflated).map_err(|e| zip_error(out, e))?;
        let mut file = std::fs::File::open(&copy).map_err(io(&copy))?;
        std::io::copy(&mut file, &mut zip).map_err(io(out))?;
        zip.finish().map_err(|e| zip_error(out, e))?;
    }
    tmp.as_file().sync_all().map_err(io(out))?;
    tmp.persist(out).map_err(|e| BundleError::Io { path: out.to_path_buf(), source: e.error })?;
    Ok(manifest)
}

/// Strips the copy of what must not leave the machine; returns its manifest.
fn sanitize(copy: &Path, options: &Options) -> Result<Manifest, BundleError> {
    let mut conn = Connection::open(copy)?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA journal_mode = DELETE;")?;
    let accounts: Vec<(i64, String, String)> = {
        let mut stmt = conn.prepare("SELECT id, exchange, label FROM accounts ORDER BY id")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?
    };
    for label in &options.accounts {
        if !accounts.iter().any(|(_, _, l)| l == label) {
            return Err(BundleError::NoSuchAccount(label.clone()));
        }
    }
    if !options.accounts.is_empty() {
        let others: Vec<i64> =
            accounts.iter().filter(|(_, _, label)| !options.accounts.contains(label)).map(|(id, _, _)| *id).collect();
        crate::ledger::remove_accounts(&mut conn, &others)?;
    }
    let tx = conn.transaction()?;
    tx.execute(
        "UPDATE accounts SET key_env = NULL, secret_env = NULL, passphrase_env = NULL, base_url = NULL, credential_source = 'none', allow_withdraw_key = 0",
        [],
    )?;
    tx.execute("UPDATE settings SET value = '' WHERE key = 'ledger_id'", [])?;
    // Computed rows are made again by `report`; they only repeat what the inputs say. Closed
    // years are inputs (later years start from their filed lots) and stay, with their
    // snapshots, but not their files (bytes that name the person) nor when only some accounts
    // are bundled (the filed figures are of all of them).
    if !options.accounts.is_empty() {
        tx.execute("DELETE FROM closed_years", [])?;
    }
    tx.execute("DELETE FROM closed_year_files", [])?;
    for table in tables(&tx)?.iter().filter(|t| t.starts_with("tax_") && !t.starts_with("tax_snapshot")) {
        tx.execute(&format!("DELETE FROM \"{table}\""), [])?;
    }
    tx.execute(&format!("DELETE FROM tax_snapshots WHERE {}", crate::ledger::snapshots::OPEN), [])?;
    // The kept copy of the transfer candidates is encoded (its transaction hashes are in a BLOB
    // the pseudonyms below do not rewrite): it goes, and the first matching of the rebuilt
    // ledger reads every candidate from its events again (`schema/0030_...`).
    tx.execute("DELETE FROM transfer_movement_blocks", [])?;
    tx.execute("UPDATE transfer_cache SET filled = 0, low_ms = NULL, outcome = NULL", [])?;
    if !options.keep_ids {
        let pseudonyms = collect(&tx)?;
        if !pseudonyms.is_empty() {
            replace_everywhere(&tx, &pseudonyms)?;
        }
    }
    tx.commit()?;
    conn.execute_batch("VACUUM")?;
    let schema_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let bundled: Vec<BundledAccount> = {
        let mut stmt = conn.prepare("SELECT id, exchange, label FROM accounts ORDER BY id")?;
        stmt.query_map([], |r| Ok(BundledAccount { id: r.get(0)?, exchange: r.get(1)?, label: r.get(2)? }))?
            .collect::<Result<_, _>>()?
    };
    let last_syncs = {
        let mut stmt = conn.prepare("SELECT summary FROM sync_summaries ORDER BY account_id")?;
        let texts: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        texts.iter().filter_map(|t| serde_json::from_str(t).ok()).collect()
    };
    let mut rows = std::collections::BTreeMap::new();
    for table in tables(&conn)? {
        let count: i64 = conn.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| r.get(0))?;
        rows.insert(table, count);
    }
    Ok(Manifest {
        format: FORMAT,
        cointally_version: env!("CARGO_PKG_VERSION").to_string(),
        schema_version,
        ids_kept: options.keep_ids,
        accounts: bundled,
        rows,
        last_syncs,
    })
}

/// The ledger's tables, by name.
fn tables(conn: &Connection) -> Result<Vec<String>, rusqlite::Error> {
    let mut stmt =
        conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?;
    stmt.query_map([], |r| r.get(0))?.collect()
}

/// Every label, address, tag and tx hash of the copy: in accounts, events, raw records and
/// imported files.
fn collect(conn: &Connection) -> Result<Pseudonyms, rusqlite::Error> {
    let salt: String = conn.query_row("SELECT lower(hex(randomblob(32)))", [], |r| r.get(0))?;
    let mut pseudonyms = Pseudonyms::new(salt);
    let mut stmt = conn.prepare("SELECT label FROM accounts ORDER BY id")?;
    let labels: Vec<String> = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?;
    pseudonyms.labels(&labels);
    let mut stmt = conn.prepare("SELECT tx_hash, address FROM events ORDER BY id")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?)))? {
        let (tx_hash, address) = row?;
        if let Some(tx_hash) = tx_hash {
            pseudonyms.of(Kind::TxHash, &tx_hash);
        }
        if let Some(address) = address {
            pseudonyms.of(Kind::Address, &address);
        }
    }
    let mut stmt = conn.prepare("SELECT payload FROM raw_records ORDER BY id")?;
    for payload in stmt.query_map([], |r| r.get::<_, String>(0))? {
        if let Ok(json) = serde_json::from_str::<serde_json::Value>(&payload?) {
            collect_json(&json, &mut pseudonyms);
        }
    }
    files::collect(conn, &mut pseudonyms)?;
    Ok(pseudonyms)
}

/// Rewrites every text column of every table, and every imported file, through the pseudonyms.
fn replace_everywhere(conn: &Connection, pseudonyms: &Pseudonyms) -> Result<(), rusqlite::Error> {
    let replacer = std::sync::Arc::new(pseudonyms.replacer());
    let r = replacer.clone();
    conn.create_scalar_function("cointally_pseudonym", 1, FunctionFlags::SQLITE_DETERMINISTIC, move |ctx| {
        Ok(ctx.get::<Option<String>>(0)?.map(|text| r.apply(&text)))
    })?;
    // Only rows holding an original are rewritten (a price cache of many rows holds none).
    let r = replacer.clone();
    conn.create_scalar_function("cointally_identifying", 1, FunctionFlags::SQLITE_DETERMINISTIC, move |ctx| {
        Ok(ctx.get::<Option<String>>(0)?.is_some_and(|text| r.touches(&text)))
    })?;
    files::rewrite(conn, &replacer)?;
    for table in tables(conn)? {
        let columns: Vec<String> = {
            let mut stmt = conn.prepare(&format!("SELECT name, type FROM pragma_table_info('{table}')"))?;
            stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                .filter_map(|c| c.ok())
                .filter(|(_, kind)| kind.eq_ignore_ascii_case("TEXT"))
                .map(|(name, _)| name)
                .collect()
        };
        for column in columns {
            conn.execute(
                &format!("UPDATE \"{table}\" SET \"{column}\" = cointally_pseudonym(\"{column}\") WHERE cointally_identifying(\"{column}\")"),
                [],
            )?;
        }
    }
    Ok(())
}

/// Rebuilds a ledger at `target` (which must not exist) from the bundle at `bundle`.
pub fn import(bundle: &Path, target: &Path) -> Result<Manifest, BundleError> {
    if target.exists() {
        return Err(BundleError::Exists(target.to_path_buf()));
    }
    let file = std::fs::File::open(bundle).map_err(io(bundle))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| zip_error(bundle, e))?;
    let manifest: Manifest = {
        let mut entry = zip.by_name(MANIFEST).map_err(|e| zip_error(bundle, e))?;
        let mut text = String::new();
        entry.by_ref().take(1 << 20).read_to_string(&mut text).map_err(io(bundle))?;
        serde_json::from_str(&text).map_err(|e| zip_error(bundle, format!("{MANIFEST}: {e}")))?
    };
    if manifest.format != FORMAT {
        return Err(zip_error(bundle, format!("bundle format {} (this cointally reads {FORMAT})", manifest.format)));
    }
    if manifest.schema_version > LEDGER_VERSION {
        return Err(zip_error(
            bundle,
            format!("ledger schema {} is newer than this cointally's", manifest.schema_version),
        ));
    }
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    {
        let mut entry = zip.by_name(LEDGER).map_err(|e| zip_error(bundle, e))?;
        std::io::copy(&mut entry, &mut tmp.as_file()).map_err(io(bundle))?;
    }
    {
        let conn = Connection::open(tmp.path())?;
        conn.execute("UPDATE settings SET value = lower(hex(randomblob(16))) WHERE key = 'ledger_id'", [])?;
    }
    // The ledger module checks and migrates it before it takes the target's name.
    drop(Ledger::open(tmp.path(), OpenMode::Existing)?);
    tmp.persist_noclobber(target).map_err(|e| BundleError::Io { path: target.to_path_buf(), source: e.error })?;
    Ok(manifest)
}
