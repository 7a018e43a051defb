//! Accounts: an exchange or wallet and a label; never the credentials themselves.

use rusqlite::{OptionalExtension, Row, params};

use super::{Ledger, LedgerError, now_text};

/// Where an account's API key comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    /// No key: the account holds imported files only and is never contacted.
    None,
    /// Environment variables named in the account, read at sync time.
    Env,
    /// The owner-only credentials file.
    File,
}

impl CredentialSource {
    fn as_str(self) -> &'static str {
        match self {
            CredentialSource::None => "none",
            CredentialSource::Env => "env",
            CredentialSource::File => "file",
        }
    }

    fn parse(s: &str) -> Result<Self, LedgerError> {
        match s {
            "none" => Ok(CredentialSource::None),
            "env" => Ok(CredentialSource::Env),
            "file" => Ok(CredentialSource::File),
            other => Err(LedgerError::Corrupt(format!("credential source {other:?}"))),
        }
    }
}

/// An account as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Row id.
    pub id: i64,
    /// The user's name for it, unique in the ledger.
    pub label: String,
    /// The exchange's name (`binance`, `wallet`, ...).
    pub exchange: String,
    /// A base URL overriding the exchange's production URL.
    pub base_url: Option<String>,
    /// Where its key comes from.
    pub credential_source: CredentialSource,
    /// The environment variable holding the API key (with [`CredentialSource::Env`]).
    pub key_env: Option<String>,
    /// The environment variable holding the API secret (with [`CredentialSource::Env`]).
    pub secret_env: Option<String>,
    /// The environment variable holding the API passphrase, for exchanges whose keys have one.
    pub passphrase_env: Option<String>,
    /// The user insisted on a key that can withdraw.
    pub allow_withdraw_key: bool,
    /// When it was added (RFC 3339 UTC).
    pub created_at: String,
}

/// An account to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAccount {
    /// Label, unique in the ledger.
    pub label: String,
    /// Exchange name.
    pub exchange: String,
    /// Base URL override.
    pub base_url: Option<String>,
    /// Where its key comes from.
    pub credential_source: CredentialSource,
    /// Env var of the key.
    pub key_env: Option<String>,
    /// Env var of the secret.
    pub secret_env: Option<String>,
    /// Env var of the passphrase (KuCoin, OKX).
    pub passphrase_env: Option<String>,
    /// Allow a withdraw-capable key.
    pub allow_withdraw_key: bool,
}

impl NewAccount {
    /// An account that holds imported files only: no key, never contacted.
    pub fn files_only(label: impl Into<String>, exchange: impl Into<String>) -> NewAccount {
        NewAccount {
            label: label.into(),
            exchange: exchange.into(),
            base_url: None,
            credential_source: CredentialSource::None,
            key_env: None,
            secret_env: None,
            passphrase_env: None,
            allow_withdraw_key: false,
        }
    }
}

/// How many events (then raw records) one statement of an account's removal deletes.
const REMOVAL_CHUNK: i64 = 10_000;

const COLUMNS: &str = "id, label, exchange, base_url, credential_source, key_env, secret_env, allow_withdraw_key, created_at, passphrase_env";

fn from_row(row: &Row<'_>) -> rusqlite::Result<(Account, String)> {
    let source: String = row.get(4)?;
    Ok((
        Account {
            id: row.get(0)?,
            label: row.get(1)?,
            exchange: row.get(2)?,
            base_url: row.get(3)?,
            credential_source: CredentialSource::None,
            key_env: row.get(5)?,
            secret_env: row.get(6)?,
            allow_withdraw_key: row.get(7)?,
            created_at: row.get(8)?,
            passphrase_env: row.get(9)?,
        },
        source,
    ))
}

fn finish((mut account, source): (Account, String)) -> Result<Account, LedgerError> {
    account.credential_source = CredentialSource::parse(&source)?;
    Ok(account)
}

impl Ledger {
    /// Adds an account; the label must be new.
    pub fn add_account(&mut self, new: &NewAccount) -> Result<Account, LedgerError> {
        if self.find_account(&new.label)?.is_some() {
            return Err(LedgerError::DuplicateLabel(new.label.clone()));
        }
        self.conn.execute(
            "INSERT INTO accounts (label, exchange, base_url, credential_source, key_env, secret_env, allow_withdraw_key, created_at, passphrase_env)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                new.label,
                new.exchange,
                new.base_url,
                new.credential_source.as_str(),
                new.key_env,
                new.secret_env,
                new.allow_withdraw_key,
                now_text(),
                new.passphrase_env
            ],
        )?;
        self.account(&new.label)
    }

    /// The account with this label, if any.
    pub fn find_account(&self, label: &str) -> Result<Option<Account>, LedgerError> {
        let found = self
            .conn
            .query_row(&format!("SELECT {COLUMNS} FROM accounts WHERE label = ?1"), [label], from_row)
            .optional()?;
        found.map(finish).transpose()
    }

    /// The account with this label, or an error naming it.
    pub fn account(&self, label: &str) -> Result<Account, LedgerError> {
        self.find_account(label)?.ok_or_else(|| LedgerError::NoSuchAccount(label.to_string()))
    }

    /// Every account, sorted by label.
    pub fn accounts(&self) -> Result<Vec<Account>, LedgerError> {
        let mut stmt = self.conn.prepare(&format!("SELECT {COLUMNS} FROM accounts ORDER BY label"))?;
        let rows = stmt.query_map([], from_row)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(finish).collect()
    }

    /// Removes an account and every row that belongs to it, in one transaction.
    /// Returns how many events went with it.
    ///
    /// A statement per table, the triggers' notes made once ([`super::removal`]); row by row
    /// through SQLite's cascades on a ledger whose schema that module does not know.
    pub fn remove_account(&mut self, label: &str) -> Result<u64, LedgerError> {
        let account = self.account(label)?;
        let removed = super::removal::unchecked(&mut self.conn, |tx, plan| {
            // Another command may have removed it before the write lock was taken.
            let exists: bool =
                tx.query_row("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?1)", [account.id], |r| r.get(0))?;
            if !exists {
                return Err(LedgerError::NoSuchAccount(label.to_owned()));
            }
            let events = super::removal::remove(tx, plan, account.id)?;
            forget_tax_runs(tx)?;
            Ok(events)
        })?;
        match removed {
            Some(events) => Ok(events),
            None => self.remove_account_in_chunks(label, REMOVAL_CHUNK),
        }
    }

    pub(super) fn remove_account_in_chunks(&mut self, label: &str, chunk_rows: i64) -> Result<u64, LedgerError> {
        let account = self.account(label)?;
        let tx = self.transaction()?;
        let events: i64 =
            tx.query_row("SELECT count(*) FROM events WHERE account_id = ?1", [account.id], |r| r.get(0))?;
        // Transfers point at events of two accounts; the cascade removes the pairs too. The
        // events and raw records go REMOVAL_CHUNK at a time: SQLite keeps what one statement
        // changes in a statement journal (in memory here), and one DELETE of a 250,000-event
        // account's cascade held 360 MB so (97 MB in chunks, the same time).
        for table in ["events", "raw_records"] {
            delete_in_chunks(&tx, table, account.id, chunk_rows)?;
        }
        tx.execute("DELETE FROM accounts WHERE id = ?1", [account.id])?;
        forget_tax_runs(&tx)?;
        tx.commit()?;
        Ok(events as u64)
    }

    /// Counts of events per account id (for `account list`).
    pub fn event_counts(&self) -> Result<std::collections::BTreeMap<i64, i64>, LedgerError> {
        let mut stmt = self.conn.prepare("SELECT account_id, count(*) FROM events GROUP BY account_id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The stored tax runs were computed with a removed account's events: they go.
fn forget_tax_runs(tx: &rusqlite::Connection) -> Result<(), LedgerError> {
    Ok(tx.execute_batch("DELETE FROM tax_row_blocks; DELETE FROM tax_runs;")?)
}

/// Deletes `table`'s rows of `account_id`, `chunk_rows` per statement; returns how many
/// statements deleted rows.
fn delete_in_chunks(
    conn: &rusqlite::Connection,
    table: &str,
    account_id: i64,
    chunk_rows: i64,
) -> rusqlite::Result<usize> {
    let mut chunk = conn
        .prepare(&format!("DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE account_id = ?1 LIMIT ?2)"))?;
    let mut statements = 0;
    while chunk.execute(params![account_id, chunk_rows])? > 0 {
        statements += 1;
    }
    Ok(statements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::OpenMode;

    fn wallet(label: &str) -> NewAccount {
        NewAccount::files_only(label, "wallet")
    }

    #[test]
    fn adds_lists_and_removes_accounts() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        ledger.add_account(&wallet("b")).unwrap();
        ledger.add_account(&wallet("a")).unwrap();
        assert!(matches!(ledger.add_account(&wallet("a")), Err(LedgerError::DuplicateLabel(_))));
        let labels: Vec<_> = ledger.accounts().unwrap().into_iter().map(|a| a.label).collect();
        assert_eq!(labels, ["a", "b"]);
        assert_eq!(ledger.remove_account("a").unwrap(), 0);
        assert!(matches!(ledger.account("a"), Err(LedgerError::NoSuchAccount(_))));
    }

    #[test]
    fn an_account_removed_in_many_chunks_leaves_nothing_of_its_own_and_all_of_the_others() {
        use chrono::{TimeZone, Utc};
        use cointally_exchanges::{EventKind, Leg, NewEvent};
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        let [gone, kept] = [wallet("gone"), wallet("kept")].map(|a| ledger.add_account(&a).unwrap().id);
        let mut writer = ledger.writer().unwrap();
        for account in [gone, kept] {
            for i in 0..10 {
                let t = Utc.with_ymd_and_hms(2025, 1, 1 + i, 0, 0, 0).unwrap();
                let kind = if account == gone { EventKind::Withdrawal } else { EventKind::Deposit };
                let legs = vec![Leg::received("BTC", rust_decimal::Decimal::ONE)];
                let (raw, _) = writer.raw(account, "test", &format!("r{i}"), "{}", 0).unwrap();
                writer.event(account, "test", &NewEvent::new(format!("e{i}"), t, kind, legs), &[raw]).unwrap();
            }
        }
        writer.commit().unwrap();
        ledger
            .conn
            .execute(
                "INSERT INTO transfers (withdrawal_event_id, deposit_event_id, method, created_at)
                 SELECT w.id, d.id, 'manual', 'now' FROM events w, events d
                 WHERE w.account_id = ?1 AND d.account_id = ?2 AND w.external_id = d.external_id",
                [gone, kept],
            )
            .unwrap();
        let kept_rows = |ledger: &Ledger| -> (i64, i64, i64) {
            ledger
                .conn
                .query_row(
                    "SELECT (SELECT count(*) FROM events WHERE account_id = ?1),
                            (SELECT count(*) FROM raw_records WHERE account_id = ?1),
                            (SELECT count(*) FROM legs l JOIN events e ON e.id = l.event_id WHERE e.account_id = ?1)",
                    [kept],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .unwrap()
        };
        assert_eq!(kept_rows(&ledger), (10, 10, 10));

        // In chunks of 3: four statements each, and nothing left before the account goes.
        {
            let tx = ledger.transaction().unwrap();
            assert_eq!(delete_in_chunks(&tx, "events", gone, 3).unwrap(), 4);
            assert_eq!(delete_in_chunks(&tx, "raw_records", gone, 3).unwrap(), 4);
            let left: i64 = tx
                .query_row(
                    "SELECT (SELECT count(*) FROM events WHERE account_id = ?1)
                          + (SELECT count(*) FROM raw_records WHERE account_id = ?1)",
                    [gone],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(left, 0);
        }
        assert_eq!(ledger.remove_account_in_chunks("gone", 3).unwrap(), 10);
        let left: (i64, i64, i64, i64, i64) = ledger
            .conn
            .query_row(
                "SELECT (SELECT count(*) FROM events WHERE account_id = ?1),
                        (SELECT count(*) FROM raw_records WHERE account_id = ?1),
                        (SELECT count(*) FROM legs), (SELECT count(*) FROM event_sources),
                        (SELECT count(*) FROM transfers)",
                [gone],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!(left, (0, 0, 10, 10, 0), "only the kept account's legs and links, no transfer");
        assert_eq!(kept_rows(&ledger), (10, 10, 10));
        assert_eq!(crate::ledger::dangling_references(&ledger.conn), 0);
    }
}
