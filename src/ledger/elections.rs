//! Lot identification elections: a method from a date on, for one account or for all.

use rusqlite::params;

use super::{Ledger, LedgerError, now_text};

/// A stored election.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Election {
    /// Row id (what `method remove` takes).
    pub id: i64,
    /// `fifo`, `lifo`, `hifo` or `lofo`.
    pub method: String,
    /// In force from this time (UTC ms).
    pub from_ms: i64,
    /// The account it is for; `None` for every account.
    pub account_id: Option<i64>,
    /// The account's label, when it is for one.
    pub account: Option<String>,
}

impl Ledger {
    /// Records an election; returns its id.
    pub fn add_election(&mut self, method: &str, from_ms: i64, account_id: Option<i64>) -> Result<i64, LedgerError> {
        self.conn.execute(
            "INSERT INTO method_elections (method, from_ms, account_id, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![method, from_ms, account_id, now_text()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Every election, by date then id.
    pub fn elections(&self) -> Result<Vec<Election>, LedgerError> {
        let mut stmt = self.conn.prepare(
            "SELECT e.id, e.method, e.from_ms, e.account_id, a.label
             FROM method_elections e LEFT JOIN accounts a ON a.id = e.account_id
             ORDER BY e.from_ms, e.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Election {
                id: r.get(0)?,
                method: r.get(1)?,
                from_ms: r.get(2)?,
                account_id: r.get(3)?,
                account: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Deletes an election; whether it existed.
    pub fn remove_election(&mut self, id: i64) -> Result<bool, LedgerError> {
        Ok(self.conn.execute("DELETE FROM method_elections WHERE id = ?1", params![id])? > 0)
    }
}
