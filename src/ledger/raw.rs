//! Raw records: every record exactly as received, the input of re-normalising.

use rusqlite::{OptionalExtension, Transaction, params};

use super::LedgerError;

/// Stores a raw record unless (account, source, external id) is already there; returns its
/// row id either way.
pub fn insert_raw(
    tx: &Transaction<'_>,
    account_id: i64,
    source: &str,
    external_id: &str,
    payload: &str,
    fetched_at: &str,
) -> Result<i64, LedgerError> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO raw_records (account_id, source, external_id, payload, fetched_at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING RETURNING id",
    )?;
    if let Some(id) =
        insert.query_row(params![account_id, source, external_id, payload, fetched_at], |r| r.get(0)).optional()?
    {
        return Ok(id);
    }
    let mut find =
        tx.prepare_cached("SELECT id FROM raw_records WHERE account_id = ?1 AND source = ?2 AND external_id = ?3")?;
    Ok(find.query_row(params![account_id, source, external_id], |r| r.get(0))?)
}
