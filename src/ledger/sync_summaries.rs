//! The last sync's summary of each account (`schema/0012_sync_summaries.sql`): kept so a problem
//! bundle can show what the last run did and warned of.

use chrono::Utc;
use rusqlite::params;

use super::{Ledger, LedgerError};

impl Ledger {
    /// Replaces the account's last sync summary (JSON as `sync --json` prints it).
    pub fn store_sync_summary(&mut self, account_id: i64, summary_json: &str) -> Result<(), LedgerError> {
        self.conn.execute(
            "INSERT INTO sync_summaries (account_id, finished_at, summary) VALUES (?1, ?2, ?3)
             ON CONFLICT (account_id) DO UPDATE SET finished_at = excluded.finished_at, summary = excluded.summary",
            params![account_id, Utc::now().to_rfc3339(), summary_json],
        )?;
        Ok(())
    }

    /// Every account's last sync summary: (account id, finished at, summary JSON), by account.
    pub fn sync_summaries(&self) -> Result<Vec<(i64, String, String)>, LedgerError> {
        let mut stmt =
            self.conn.prepare("SELECT account_id, finished_at, summary FROM sync_summaries ORDER BY account_id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
