//! The credentials file: API keys kept outside the ledger, readable by their owner only.
//!
//! The ledger is what an accountant archives and shares, so it holds at most the NAMES of
//! environment variables. Keys given at the prompt are stored here instead, in a TOML file
//! (default `<config dir>/cointally/credentials.toml`) created with mode 0600 and refused,
//! like ssh refuses a private key, when group or others can read it. Entries are keyed by the
//! ledger's random id and the account label. No error from this module ever quotes the
//! file's contents: a parse error says only the line.
//!
//! Each entry also says where its key may be sent (`bound_to`: the origin, `scheme://host[:port]`,
//! of the URL the key was added for), because the ledger, which others read and could edit,
//! must never decide alone where a key goes. An account whose key comes from environment
//! variables gets an entry with `bound_to` only (no secret) when it talks to anything but
//! the exchange's production API. An entry without `bound_to` (written by an older version,
//! or an environment account on production) is bound to the exchange's production API.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use cointally_exchanges::Secret;
use serde::{Deserialize, Serialize};

/// The environment variable that overrides the credentials file's path.
pub const CREDENTIALS_ENV: &str = "COINTALLY_CREDENTIALS";

/// An API key and its secret.
#[derive(Clone, Debug)]
pub struct ApiKey {
    /// The key (public part, still never printed).
    pub key: Secret,
    /// The secret (private part).
    pub secret: Secret,
    /// The passphrase chosen when the key was made, for exchanges whose keys have one (OKX,
    /// KuCoin); `None` elsewhere.
    pub passphrase: Option<Secret>,
}

impl ApiKey {
    /// A key and its secret, without a passphrase.
    pub fn new(key: Secret, secret: Secret) -> ApiKey {
        ApiKey { key, secret, passphrase: None }
    }
}

/// Why the credentials file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// Group or others may read the file.
    #[error("credentials file {path} can be read by other users (mode {mode:o}); fix it with: chmod 600 {path}")]
    TooOpen {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file is not valid TOML (the content is deliberately not shown: it holds secrets).
    #[error("credentials file {path} is not valid TOML near line {line}; fix or remove that entry")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The line of the problem.
        line: usize,
    },
    /// No config directory and no path given.
    #[error("no place for the credentials file: give --credentials PATH or set {CREDENTIALS_ENV}")]
    NoPath,
    /// Reading or writing failed.
    #[error("credentials file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

#[derive(Default, Serialize, Deserialize)]
struct FileContents {
    #[serde(default)]
    accounts: BTreeMap<String, StoredKey>,
}

/// One account's entry: its key (absent for an account whose key comes from environment
/// variables) and the origin its key is bound to (absent: the exchange's production API).
#[derive(Default, Serialize, Deserialize)]
struct StoredKey {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bound_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    passphrase: Option<String>,
}

/// The credentials file at a path.
pub struct CredentialsFile {
    path: PathBuf,
}

impl CredentialsFile {
    /// The file at `path`, or at the default place in the user's config directory.
    pub fn at(path: Option<PathBuf>) -> Result<CredentialsFile, CredentialsError> {
        let path = match path {
            Some(path) => path,
            None => dirs::config_dir().ok_or(CredentialsError::NoPath)?.join("cointally").join("credentials.toml"),
        };
        Ok(CredentialsFile { path })
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key stored for an account of a ledger, if any.
    pub fn get(&self, ledger_id: &str, label: &str) -> Result<Option<ApiKey>, CredentialsError> {
        let contents = self.load()?;
        Ok(contents.accounts.get(&entry_name(ledger_id, label)).and_then(|stored| {
            match (&stored.key, &stored.secret) {
                (Some(key), Some(secret)) => Some(ApiKey {
                    key: Secret::new(key.clone()),
                    secret: Secret::new(secret.clone()),
                    passphrase: stored.passphrase.clone().map(Secret::new),
                }),
                _ => None,
            }
        }))
    }

    /// The origin (`scheme://host[:port]`) the key of an account of a ledger is bound to, when
    /// its entry names one; `None`: the exchange's production API.
    pub fn binding(&self, ledger_id: &str, label: &str) -> Result<Option<String>, CredentialsError> {
        let contents = self.load()?;
        Ok(contents.accounts.get(&entry_name(ledger_id, label)).and_then(|stored| stored.bound_to.clone()))
    }

    /// Stores (or replaces) the key of an account of a ledger, bound to the origin `bound_to`.
    pub fn put(&self, ledger_id: &str, label: &str, api_key: &ApiKey, bound_to: &str) -> Result<(), CredentialsError> {
        let mut contents = self.load()?;
        contents.accounts.insert(
            entry_name(ledger_id, label),
            StoredKey {
                key: Some(api_key.key.expose().to_string()),
                secret: Some(api_key.secret.expose().to_string()),
                bound_to: Some(bound_to.to_string()),
                passphrase: api_key.passphrase.as_ref().map(|p| p.expose().to_string()),
            },
        );
        self.save(&contents)
    }

    /// Binds the key of an account of a ledger to the origin `bound_to`, keeping a stored key
    /// as it is (an account whose key comes from environment variables gets an entry without
    /// a secret).
    pub fn bind(&self, ledger_id: &str, label: &str, bound_to: &str) -> Result<(), CredentialsError> {
        let mut contents = self.load()?;
        contents.accounts.entry(entry_name(ledger_id, label)).or_default().bound_to = Some(bound_to.to_string());
        self.save(&contents)
    }

    /// Creates the file with no entry (owner-only) unless it exists: a client directory's
    /// credentials file is there from the start, so its permissions are right before any key.
    pub fn create_empty(&self) -> Result<(), CredentialsError> {
        if self.path.exists() {
            return Ok(());
        }
        self.save(&FileContents::default())
    }

    /// Deletes the key of an account of a ledger; returns whether there was one.
    pub fn remove(&self, ledger_id: &str, label: &str) -> Result<bool, CredentialsError> {
        if !self.path.exists() {
            return Ok(false);
        }
        let mut contents = self.load()?;
        let removed = contents.accounts.remove(&entry_name(ledger_id, label)).is_some();
        if removed {
            self.save(&contents)?;
        }
        Ok(removed)
    }

    fn io(&self, source: std::io::Error) -> CredentialsError {
        CredentialsError::Io { path: self.path.clone(), source }
    }

    fn load(&self) -> Result<FileContents, CredentialsError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileContents::default()),
            Err(e) => return Err(self.io(e)),
        };
        self.check_mode()?;
        toml::from_str(&text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0).min(text.len());
            let line = text.as_bytes()[..offset].iter().filter(|b| **b == b'\n').count() + 1;
            CredentialsError::Malformed { path: self.path.clone(), line }
        })
    }

    #[cfg(unix)]
    fn check_mode(&self) -> Result<(), CredentialsError> {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&self.path).map_err(|e| self.io(e))?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CredentialsError::TooOpen { path: self.path.clone(), mode });
        }
        Ok(())
    }

    #[cfg(not(unix))]
    fn check_mode(&self) -> Result<(), CredentialsError> {
        Ok(())
    }

    /// Writes the whole file anew, owner-only, through a temporary file and a rename so a
    /// crash never leaves half a file.
    fn save(&self, contents: &FileContents) -> Result<(), CredentialsError> {
        let dir = self.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        create_private_dir(dir).map_err(|e| self.io(e))?;
        let body = toml::to_string(contents).map_err(|e| self.io(std::io::Error::other(e.to_string())))?;
        let mut tmp = tempfile::Builder::new().prefix(".credentials").tempfile_in(dir).map_err(|e| self.io(e))?;
        set_owner_only(tmp.path()).map_err(|e| self.io(e))?;
        tmp.write_all(b"# cointally API keys, by ledger id and account label. Keep this file private (chmod 600).\n")
            .and_then(|_| tmp.write_all(body.as_bytes()))
            .and_then(|_| tmp.as_file().sync_all())
            .map_err(|e| self.io(e))?;
        tmp.persist(&self.path).map_err(|e| self.io(e.error))?;
        Ok(())
    }
}

fn entry_name(ledger_id: &str, label: &str) -> String {
    format!("{ledger_id}/{label}")
}

/// Creates a directory (and its parents) readable by its owner only (0700 on Unix).
#[cfg(unix)]
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.exists() {
        return Ok(());
    }
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Creates a directory (and its parents).
#[cfg(not(unix))]
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

/// Makes a file readable and writable by its owner only (0600 on Unix).
#[cfg(unix)]
pub(crate) fn set_owner_only(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
}

/// Does nothing where files have no Unix modes.
#[cfg(not(unix))]
pub(crate) fn set_owner_only(_: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str, s: &str) -> ApiKey {
        ApiKey::new(Secret::new(k), Secret::new(s))
    }

    #[test]
    fn stores_reads_and_removes_per_ledger_and_label() {
        let dir = tempfile::tempdir().unwrap();
        let file = CredentialsFile::at(Some(dir.path().join("sub/credentials.toml"))).unwrap();
        file.put("ledger-a", "binance", &key("k1", "s1"), "https://api.binance.com").unwrap();
        file.put("ledger-b", "binance", &key("k2", "s2"), "http://127.0.0.1:8080").unwrap();
        assert_eq!(file.get("ledger-a", "binance").unwrap().unwrap().secret.expose(), "s1");
        assert_eq!(file.get("ledger-b", "binance").unwrap().unwrap().key.expose(), "k2");
        assert!(file.get("ledger-a", "kraken").unwrap().is_none());
        assert_eq!(file.binding("ledger-b", "binance").unwrap().as_deref(), Some("http://127.0.0.1:8080"));
        assert!(file.binding("ledger-a", "kraken").unwrap().is_none());
        assert!(file.remove("ledger-a", "binance").unwrap());
        assert!(!file.remove("ledger-a", "binance").unwrap());
        assert!(file.get("ledger-a", "binance").unwrap().is_none());
    }

    #[cfg(unix)]
    #[test]
    fn file_is_created_owner_only_and_refused_when_opened_up() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.toml");
        let file = CredentialsFile::at(Some(path.clone())).unwrap();
        file.put("l", "a", &key("k", "s"), "https://api.kraken.com").unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = file.get("l", "a").unwrap_err();
        assert!(matches!(err, CredentialsError::TooOpen { mode: 0o644, .. }), "{err}");
        assert!(err.to_string().contains("chmod 600"));
    }

    #[cfg(unix)]
    #[test]
    fn an_older_entry_has_no_binding_and_a_binding_entry_has_no_key() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.toml");
        // What the previous version wrote: a key and a secret, no binding.
        fs::write(&path, "[accounts.\"l/old\"]\nkey = \"k\"\nsecret = \"s\"\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let file = CredentialsFile::at(Some(path.clone())).unwrap();
        assert_eq!(file.get("l", "old").unwrap().unwrap().secret.expose(), "s");
        assert_eq!(file.binding("l", "old").unwrap(), None);
        // An environment account's entry: a binding, no secret, and no key to hand out.
        file.bind("l", "env", "http://127.0.0.1:9000").unwrap();
        assert!(file.get("l", "env").unwrap().is_none());
        assert_eq!(file.binding("l", "env").unwrap().as_deref(), Some("http://127.0.0.1:9000"));
        // Binding an account with a stored key keeps the key.
        file.bind("l", "old", "http://127.0.0.1:9001").unwrap();
        assert_eq!(file.get("l", "old").unwrap().unwrap().key.expose(), "k");
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("bound_to = \"http://127.0.0.1:9000\""), "{text}");
        assert!(!text.contains("\"l/env\"]\nkey"), "{text}");
    }

    #[cfg(unix)]
    #[test]
    fn a_malformed_file_is_reported_without_its_contents() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.toml");
        fs::write(&path, "[accounts.\"l/a\"]\nkey = \"AKIA-visible\"\nsecret = \"s3cr3t-unterminated\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let err = CredentialsFile::at(Some(path)).unwrap().get("l", "a").unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(matches!(err, CredentialsError::Malformed { line: 3, .. }), "{text}");
        assert!(!text.contains("s3cr3t") && !text.contains("AKIA"), "{text}");
    }
}
