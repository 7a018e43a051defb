//! Client directories: one folder per client of an accountant, each with its own ledger and
//! its own credentials file.
//!
//! ```text
//! DIR/                       0700
//!   cointally-clients.toml   marks DIR as a client directory
//!   NAME/                    0700, one per client
//!     ledger.sqlite          0600, the client's ledger
//!     credentials.toml       0600, the client's API keys (never inside the ledger)
//! ```
//!
//! Keeping each client's keys in a file of its own means one client's keys are never read
//! while another client is worked on, and a client leaving takes their folder with them.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::credentials::{CredentialsFile, create_private_dir, set_owner_only};
use crate::ledger::{Ledger, LedgerError, OpenMode};

/// The file that marks a directory as a client directory.
pub const MARKER: &str = "cointally-clients.toml";
/// A client's ledger file, inside the client's folder.
pub const LEDGER_FILE: &str = "ledger.sqlite";
/// A client's credentials file, inside the client's folder.
pub const CREDENTIALS_FILE: &str = "credentials.toml";
/// The longest client name.
const MAX_NAME: usize = 64;

/// Why a client directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ClientsError {
    /// The directory is not a client directory.
    #[error("{0} is not a client directory (no {MARKER} in it); create one with `cointally clients init DIR`")]
    NotClientDir(PathBuf),
    /// `init` on a directory that holds other files.
    #[error("{0} exists and holds other files; choose an empty or new directory")]
    NotEmpty(PathBuf),
    /// A client name that cannot be a folder name.
    #[error(
        "client name {0:?} is not allowed: use 1 to {MAX_NAME} letters, digits, '-' or '_', starting with a letter or digit"
    )]
    BadName(String),
    /// `add` of a client that exists.
    #[error("client {0:?} exists already")]
    Exists(String),
    /// A client named that is not in the directory.
    #[error("no client {name:?} in {dir}")]
    NoSuchClient {
        /// The name asked for.
        name: String,
        /// The client directory.
        dir: PathBuf,
    },
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The client's ledger could not be created.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The client's credentials file could not be created.
    #[error(transparent)]
    Credentials(#[from] crate::credentials::CredentialsError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ClientsError + '_ {
    move |source| ClientsError::Io { path: path.to_path_buf(), source }
}

/// One client: their name, ledger and credentials file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Client {
    /// The client's name (their folder's name).
    pub client: String,
    /// Their ledger.
    pub ledger: PathBuf,
    /// Their credentials file.
    pub credentials: PathBuf,
}

impl Client {
    fn at(dir: &Path, name: &str) -> Client {
        let folder = dir.join(name);
        Client {
            client: name.to_string(),
            ledger: folder.join(LEDGER_FILE),
            credentials: folder.join(CREDENTIALS_FILE),
        }
    }

    /// The client's folder.
    pub fn folder(&self) -> &Path {
        self.ledger.parent().unwrap_or(Path::new("."))
    }
}

/// Whether `name` may name a client: a plain folder name, never a path.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_NAME
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Creates a client directory (owner-only), or accepts one that is already a client directory.
pub fn init(dir: &Path) -> Result<(), ClientsError> {
    if dir.join(MARKER).is_file() {
        return Ok(());
    }
    if dir.exists() && fs::read_dir(dir).map_err(io(dir))?.next().is_some() {
        return Err(ClientsError::NotEmpty(dir.to_path_buf()));
    }
    create_private_dir(dir).map_err(io(dir))?;
    set_private_dir(dir)?;
    let marker = dir.join(MARKER);
    fs::write(
        &marker,
        "# A cointally client directory: one folder per client (ledger.sqlite, credentials.toml).\nformat = 1\n",
    )
    .map_err(io(&marker))?;
    set_owner_only(&marker).map_err(io(&marker))?;
    Ok(())
}

/// Adds a client: their folder, a new ledger in `currency`, an empty credentials file.
pub fn add(dir: &Path, name: &str, currency: &str) -> Result<Client, ClientsError> {
    require_client_dir(dir)?;
    if !valid_name(name) {
        return Err(ClientsError::BadName(name.to_string()));
    }
    let client = Client::at(dir, name);
    let folder = client.folder().to_path_buf();
    if folder.exists() {
        return Err(ClientsError::Exists(name.to_string()));
    }
    create_private_dir(&folder).map_err(io(&folder))?;
    set_private_dir(&folder)?;
    let created = (|| {
        let mut ledger = Ledger::open(&client.ledger, OpenMode::CreateNew)?;
        ledger.set_setting("reporting_currency", currency)?;
        drop(ledger);
        set_owner_only(&client.ledger).map_err(io(&client.ledger))?;
        CredentialsFile::at(Some(client.credentials.clone()))?.create_empty()?;
        Ok(())
    })();
    if let Err(e) = created {
        // Nothing half-made: a client is all there or not there.
        let _ = fs::remove_dir_all(&folder);
        return Err(e);
    }
    Ok(client)
}

/// Every client of the directory, by name, with absolute paths (a script may run from
/// anywhere with them).
pub fn list(dir: &Path) -> Result<Vec<Client>, ClientsError> {
    require_client_dir(dir)?;
    let dir = &fs::canonicalize(dir).map_err(io(dir))?;
    let mut clients = Vec::new();
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else { continue };
        if valid_name(&name) && entry.path().join(LEDGER_FILE).is_file() {
            clients.push(Client::at(dir, &name));
        }
    }
    clients.sort_by(|a, b| a.client.cmp(&b.client));
    Ok(clients)
}

/// The clients named (each once, in the order given), or all when none is named.
pub fn select(dir: &Path, names: &[String]) -> Result<Vec<Client>, ClientsError> {
    let all = list(dir)?;
    if names.is_empty() {
        return Ok(all);
    }
    let mut chosen: Vec<Client> = Vec::new();
    for name in names {
        let client = all
            .iter()
            .find(|c| &c.client == name)
            .ok_or_else(|| ClientsError::NoSuchClient { name: name.clone(), dir: dir.to_path_buf() })?;
        if !chosen.contains(client) {
            chosen.push(client.clone());
        }
    }
    Ok(chosen)
}

fn require_client_dir(dir: &Path) -> Result<(), ClientsError> {
    match dir.join(MARKER).is_file() {
        true => Ok(()),
        false => Err(ClientsError::NotClientDir(dir.to_path_buf())),
    }
}

#[cfg(unix)]
fn set_private_dir(dir: &Path) -> Result<(), ClientsError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))
}

#[cfg(not(unix))]
fn set_private_dir(_: &Path) -> Result<(), ClientsError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_folder_names() {
        assert!(valid_name("acme-2024_b"));
        for bad in ["", "../x", "a/b", ".hidden", "-x", "é", &"a".repeat(65)] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn init_add_list_select() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("clients");
        assert!(matches!(list(&dir), Err(ClientsError::NotClientDir(_))));
        init(&dir).unwrap();
        init(&dir).unwrap();
        add(&dir, "zeta", "USD").unwrap();
        add(&dir, "alpha", "GBP").unwrap();
        assert!(matches!(add(&dir, "alpha", "USD"), Err(ClientsError::Exists(_))));
        assert!(matches!(add(&dir, "../evil", "USD"), Err(ClientsError::BadName(_))));
        let names: Vec<String> = list(&dir).unwrap().into_iter().map(|c| c.client).collect();
        assert_eq!(names, ["alpha", "zeta"]);
        let chosen = select(&dir, &["zeta".into(), "zeta".into()]).unwrap();
        assert_eq!(chosen.len(), 1);
        assert!(matches!(select(&dir, &["nobody".into()]), Err(ClientsError::NoSuchClient { .. })));
        let ledger = Ledger::open(&dir.join("alpha").join(LEDGER_FILE), OpenMode::Existing).unwrap();
        assert_eq!(ledger.setting("reporting_currency").unwrap().as_deref(), Some("GBP"));
    }

    #[cfg(unix)]
    #[test]
    fn files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("c");
        init(&dir).unwrap();
        let client = add(&dir, "one", "USD").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(client.folder()), 0o700);
        assert_eq!(mode(&client.ledger), 0o600);
        assert_eq!(mode(&client.credentials), 0o600);
    }

    #[test]
    fn init_refuses_a_directory_with_other_files() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("notes.txt"), "x").unwrap();
        assert!(matches!(init(tmp.path()), Err(ClientsError::NotEmpty(_))));
    }
}
