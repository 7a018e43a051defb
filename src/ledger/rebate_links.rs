//! Rebates tied by hand to the purchase whose price they reduce (`cointally rebates link`).
//! A link names both events by (account, external id), so it outlives `renormalize`.

use rusqlite::params;

use super::{Ledger, LedgerError, now_text};

/// A rebate and the purchase it belongs to, as the events are now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebateLink {
    /// The `rebate` event.
    pub rebate: i64,
    /// The event that bought what the rebate reduces the price of.
    pub purchase: i64,
    /// When the rebate came (UTC ms).
    pub rebate_ms: i64,
}

impl Ledger {
    /// Ties event `rebate` to event `purchase`, replacing any purchase it was tied to before;
    /// false when either event does not exist.
    pub fn link_rebate(&mut self, rebate: i64, purchase: i64) -> Result<bool, LedgerError> {
        Ok(self.conn.execute(
            "INSERT INTO rebate_links
                 (rebate_account_id, rebate_external_id, purchase_account_id, purchase_external_id, created_at)
             SELECT r.account_id, r.external_id, p.account_id, p.external_id, ?3
             FROM events r, events p WHERE r.id = ?1 AND p.id = ?2
             ON CONFLICT (rebate_account_id, rebate_external_id) DO UPDATE SET
                 purchase_account_id = excluded.purchase_account_id,
                 purchase_external_id = excluded.purchase_external_id, created_at = excluded.created_at",
            params![rebate, purchase, now_text()],
        )? > 0)
    }

    /// Unties event `rebate`; whether it was tied.
    pub fn unlink_rebate(&mut self, rebate: i64) -> Result<bool, LedgerError> {
        Ok(self.conn.execute(
            "DELETE FROM rebate_links WHERE (rebate_account_id, rebate_external_id) =
                 (SELECT account_id, external_id FROM events WHERE id = ?1)",
            [rebate],
        )? > 0)
    }

    /// Every link whose two events exist, by rebate event id.
    pub fn rebate_links(&self) -> Result<Vec<RebateLink>, LedgerError> {
        // The links drive the loop (CROSS JOIN): left to itself SQLite read every event in id
        // order, to spare sorting the few links, and looked each one up among them.
        let mut stmt = self.conn.prepare(
            "SELECT r.id, p.id, r.time_ms FROM rebate_links l
             CROSS JOIN events r ON r.account_id = l.rebate_account_id AND r.external_id = l.rebate_external_id
             CROSS JOIN events p ON p.account_id = l.purchase_account_id AND p.external_id = l.purchase_external_id
             ORDER BY r.id",
        )?;
        let rows =
            stmt.query_map([], |r| Ok(RebateLink { rebate: r.get(0)?, purchase: r.get(1)?, rebate_ms: r.get(2)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use crate::ledger::{Ledger, OpenMode};

    #[test]
    fn a_rebate_is_tied_to_one_purchase_and_the_link_outlives_new_row_ids() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite"), OpenMode::CreateNew).unwrap();
        ledger.conn.execute_batch(
            "INSERT INTO accounts (id, label, exchange, credential_source, created_at) VALUES (1, 'a', 'wallet', 'none', 'now');
             INSERT INTO events (id, account_id, external_id, time_ms, kind, source)
             VALUES (1, 1, 'p1', 1, 'trade', 'f'), (2, 1, 'p2', 2, 'trade', 'f'), (3, 1, 'r', 3, 'rebate', 'f');",
        )
        .unwrap();
        assert!(ledger.link_rebate(3, 1).unwrap());
        assert!(ledger.link_rebate(3, 2).unwrap());
        assert!(!ledger.link_rebate(3, 99).unwrap(), "no event 99: nothing tied");
        let link = super::RebateLink { rebate: 3, purchase: 2, rebate_ms: 3 };
        assert_eq!(ledger.rebate_links().unwrap(), vec![link]);
        // Renormalising rebuilds events under new ids: the link follows the external ids.
        ledger.conn.execute_batch("UPDATE events SET id = id + 10").unwrap();
        let link = super::RebateLink { rebate: 13, purchase: 12, rebate_ms: 3 };
        assert_eq!(ledger.rebate_links().unwrap(), vec![link]);
        assert!(ledger.unlink_rebate(13).unwrap());
        assert!(!ledger.unlink_rebate(13).unwrap());
        assert!(ledger.rebate_links().unwrap().is_empty());
    }
}
