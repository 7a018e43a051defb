//! Records a walk passed over as not final yet, remembered per (account, stream) until a later
//! sync finds them final (`schema/0006_pending.sql`).

use std::collections::BTreeMap;

use cointally_exchanges::adapter::{Pending, Stream};
use rusqlite::params;

use super::writer::Writer;
use super::{Ledger, LedgerError};

impl Ledger {
    /// The account's pending records, per stream, sorted by id.
    pub fn pending(&self, account_id: i64) -> Result<BTreeMap<Stream, Vec<Pending>>, LedgerError> {
        let mut stmt = self.conn.prepare(
            "SELECT endpoint, scope, external_id, locator, what FROM pending_records WHERE account_id = ?1
             ORDER BY endpoint, scope, external_id",
        )?;
        let mut rows = stmt.query(params![account_id])?;
        let mut out: BTreeMap<Stream, Vec<Pending>> = BTreeMap::new();
        while let Some(row) = rows.next()? {
            let stream = Stream::new(row.get::<_, String>(0)?, row.get::<_, String>(1)?);
            out.entry(stream).or_default().push(Pending {
                external_id: row.get(2)?,
                locator: row.get(3)?,
                what: row.get(4)?,
            });
        }
        Ok(out)
    }
}

impl Writer<'_> {
    /// Remembers a record the page passed over as not final (or notes that it still is).
    pub fn pending(
        &mut self,
        account_id: i64,
        stream: &Stream,
        record: &Pending,
        seen_ms: i64,
    ) -> Result<(), LedgerError> {
        self.conn.execute(
            "INSERT INTO pending_records (account_id, endpoint, scope, external_id, locator, what, first_seen_ms, last_seen_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
             ON CONFLICT (account_id, endpoint, scope, external_id) DO UPDATE SET
               locator = excluded.locator, what = excluded.what, last_seen_ms = excluded.last_seen_ms",
            params![account_id, stream.endpoint, stream.scope, record.external_id, record.locator, record.what, seen_ms],
        )?;
        Ok(())
    }

    /// Forgets a pending record: it is final now (stored, or nothing to store).
    pub fn settled(&mut self, account_id: i64, stream: &Stream, external_id: &str) -> Result<(), LedgerError> {
        self.conn.execute(
            "DELETE FROM pending_records WHERE account_id = ?1 AND endpoint = ?2 AND scope = ?3 AND external_id = ?4",
            params![account_id, stream.endpoint, stream.scope, external_id],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{NewAccount, OpenMode};

    #[test]
    fn pending_records_are_remembered_once_and_forgotten_when_settled() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.db"), OpenMode::CreateNew).unwrap();
        let account = ledger.add_account(&NewAccount::files_only("main", "coinbase")).unwrap();
        let stream = Stream::new("transactions", "");
        let record = |what: &str| Pending { external_id: "t1".into(), locator: "w1".into(), what: what.into() };
        let mut writer = ledger.writer().unwrap();
        writer.pending(account.id, &stream, &record("pending"), 1).unwrap();
        writer.pending(account.id, &stream, &record("still pending"), 2).unwrap();
        writer.commit().unwrap();
        let all = ledger.pending(account.id).unwrap();
        assert_eq!(all.get(&stream), Some(&vec![record("still pending")]));
        let mut writer = ledger.writer().unwrap();
        writer.settled(account.id, &stream, "t1").unwrap();
        writer.commit().unwrap();
        assert!(ledger.pending(account.id).unwrap().is_empty());
    }
}
