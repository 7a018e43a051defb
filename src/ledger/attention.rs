//! Raw records that need the user's attention: kept in the archive, but this version of
//! cointally could not turn them into events.

use rusqlite::params;

use super::{Ledger, LedgerError};

/// A stored raw record that could not be read, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// The raw record's row id.
    pub raw_id: i64,
    /// The account's label.
    pub account: String,
    /// Where it came from (`api:Ledgers`).
    pub source: String,
    /// The exchange's id of the record.
    pub external_id: String,
    /// What is wrong with it.
    pub reason: String,
    /// When it was last found unreadable (Unix ms).
    pub seen_ms: i64,
}

impl Ledger {
    /// The unreadable raw records, of one account or all, in account then archive order.
    pub fn unreadable_records(&self, account: Option<&str>) -> Result<Vec<Unreadable>, LedgerError> {
        let mut stmt = self.conn.prepare(
            "SELECT u.raw_record_id, a.label, r.source, r.external_id, u.reason, u.seen_ms
             FROM unreadable_records u
             JOIN raw_records r ON r.id = u.raw_record_id
             JOIN accounts a ON a.id = r.account_id
             WHERE ?1 IS NULL OR a.label = ?1
             ORDER BY a.label, u.raw_record_id",
        )?;
        let rows = stmt.query_map(params![account], |r| {
            Ok(Unreadable {
                raw_id: r.get(0)?,
                account: r.get(1)?,
                source: r.get(2)?,
                external_id: r.get(3)?,
                reason: r.get(4)?,
                seen_ms: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
