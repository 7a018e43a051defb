//! Balances: the sum of legs per account and asset, computed exactly in Rust.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cointally_exchanges::time::to_millis;
use rust_decimal::Decimal;

use super::events::parse_stored_amount;
use super::{Ledger, LedgerError};

/// One account's holding of one asset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Balance {
    /// The account's label.
    pub account: String,
    /// The account's exchange.
    pub exchange: String,
    /// Asset symbol.
    pub asset: String,
    /// The amount held.
    pub amount: Decimal,
}

impl Ledger {
    /// Non-zero balances per account and asset, sorted by account then asset; only events
    /// up to `at` (inclusive) when given.
    pub fn balances(&self, account: Option<&str>, at: Option<DateTime<Utc>>) -> Result<Vec<Balance>, LedgerError> {
        let mut stmt = self.conn.prepare(
            "SELECT a.label, a.exchange, l.asset, l.amount
             FROM legs l JOIN events e ON e.id = l.event_id JOIN accounts a ON a.id = e.account_id
             WHERE (?1 IS NULL OR a.label = ?1) AND (?2 IS NULL OR e.time_ms <= ?2)",
        )?;
        let mut sums: BTreeMap<(String, String), (String, Decimal)> = BTreeMap::new();
        let mut rows = stmt.query(rusqlite::params![account, at.map(to_millis)])?;
        while let Some(row) = rows.next()? {
            let label: String = row.get(0)?;
            let asset: String = row.get(2)?;
            let amount = parse_stored_amount(&row.get::<_, String>(3)?)?;
            let entry = sums.entry((label, asset)).or_insert_with(|| (String::new(), Decimal::ZERO));
            if entry.0.is_empty() {
                entry.0 = row.get(1)?;
            }
            entry.1 = entry.1.checked_add(amount).ok_or_else(|| LedgerError::Corrupt("a balance overflows".into()))?;
        }
        Ok(sums
            .into_iter()
            .filter(|(_, (_, amount))| !amount.is_zero())
            .map(|((account, asset), (exchange, amount))| Balance {
                account,
                exchange,
                asset,
                amount: amount.normalize(),
            })
            .collect())
    }
}
