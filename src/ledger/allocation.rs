//! The stored 2025 allocation of unused basis (`schema/0011_allocation.sql`): written once by
//! `cointally basis allocate` (replaced only on request), read by every US computation from
//! 2025 on.

use rusqlite::{OptionalExtension, params};
use rust_decimal::Decimal;

use super::{Ledger, LedgerError, decimal, now_text};

/// How an allocation was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AllocationRule {
    /// cointally's written rule (oldest lots first, wallets by label).
    Global,
    /// The user's own unit-by-unit file.
    Specific,
}

impl AllocationRule {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            AllocationRule::Global => "global",
            AllocationRule::Specific => "specific",
        }
    }
}

/// Units of one asset in one wallet, with the basis and acquisition date allocated to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocatedLot {
    /// The wallet (account).
    pub account_id: i64,
    /// Asset.
    pub asset: String,
    /// Units.
    pub units: Decimal,
    /// Basis allocated to them.
    pub basis: Decimal,
    /// The acquisition time the basis keeps (UTC ms).
    pub acquired_ms: i64,
    /// The engine's lot id (orders lots acquired at the same instant).
    pub lot_id: i64,
    /// The acquiring event (0: not known, a specific allocation).
    pub event_id: i64,
    /// The account the units were acquired in.
    pub origin_account: i64,
    /// The units left their account by an own transfer once (or cointally cannot tell).
    pub moved: bool,
    /// The basis is unknown (counted as zero).
    pub basis_missing: bool,
    /// A value behind the basis is missing.
    pub price_missing: bool,
}

/// A stored allocation, whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAllocation {
    /// Global rule or the user's file.
    pub rule: AllocationRule,
    /// The instant it is made at (UTC ms): 2025-01-01T00:00:00Z.
    pub as_of_ms: i64,
    /// The file it was read from and its SHA-256 (a specific allocation).
    pub source: Option<String>,
    /// SHA-256 of what the history before `as_of_ms` gave when it was stored.
    pub history_hash: String,
    /// When it was stored (RFC 3339).
    pub created_at: String,
    /// Its lots, in the order stored (wallet, asset, acquisition).
    pub lots: Vec<AllocatedLot>,
}

impl Ledger {
    /// The stored allocation, if any.
    pub fn stored_allocation(&self) -> Result<Option<StoredAllocation>, LedgerError> {
        let head = self
            .conn
            .query_row(
                "SELECT rule, as_of_ms, source, history_hash, created_at FROM basis_allocation WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()?;
        let Some((rule, as_of_ms, source, history_hash, created_at)) = head else { return Ok(None) };
        let rule = match rule.as_str() {
            "global" => AllocationRule::Global,
            "specific" => AllocationRule::Specific,
            other => return Err(LedgerError::Corrupt(format!("allocation rule {other:?}"))),
        };
        let mut stmt = self.conn.prepare(
            "SELECT account_id, asset, units, basis, acquired_ms, lot_id, event_id, origin_account, moved,
                    basis_missing, price_missing
             FROM basis_allocation_lots ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                [r.get::<_, i64>(4)?, r.get(5)?, r.get(6)?, r.get(7)?],
                [r.get::<_, bool>(8)?, r.get(9)?, r.get(10)?],
            ))
        })?;
        let mut lots = Vec::new();
        for row in rows {
            let (account_id, asset, units, basis, [acquired_ms, lot_id, event_id, origin_account], flags) = row?;
            lots.push(AllocatedLot {
                account_id,
                asset,
                units: decimal(&units, "allocated units")?,
                basis: decimal(&basis, "allocated basis")?,
                acquired_ms,
                lot_id,
                event_id,
                origin_account,
                moved: flags[0],
                basis_missing: flags[1],
                price_missing: flags[2],
            });
        }
        Ok(Some(StoredAllocation { rule, as_of_ms, source, history_hash, created_at, lots }))
    }

    /// Stores `allocation` (its `created_at` is now), replacing the one stored before, in one
    /// transaction: the old one stays whole if anything fails. The schema's triggers drop the
    /// snapshots it invalidates at the next report.
    pub fn store_allocation(&mut self, allocation: &StoredAllocation) -> Result<(), LedgerError> {
        let tx = self.transaction()?;
        tx.execute("DELETE FROM basis_allocation_lots", [])?;
        tx.execute("DELETE FROM basis_allocation", [])?;
        tx.execute(
            "INSERT INTO basis_allocation (id, rule, as_of_ms, source, history_hash, created_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5)",
            params![
                allocation.rule.as_str(),
                allocation.as_of_ms,
                allocation.source,
                allocation.history_hash,
                now_text()
            ],
        )?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO basis_allocation_lots (seq, account_id, asset, units, basis, acquired_ms, lot_id,
                     event_id, origin_account, moved, basis_missing, price_missing)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for (seq, lot) in allocation.lots.iter().enumerate() {
                insert.execute(params![
                    seq as i64,
                    lot.account_id,
                    lot.asset,
                    lot.units.normalize().to_string(),
                    lot.basis.normalize().to_string(),
                    lot.acquired_ms,
                    lot.lot_id,
                    lot.event_id,
                    lot.origin_account,
                    lot.moved,
                    lot.basis_missing,
                    lot.price_missing,
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
