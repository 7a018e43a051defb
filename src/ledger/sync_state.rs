//! What the sync engine keeps between runs: cursors, coverage and the balances the exchange
//! reported, and the account facts it reads back (assets touched, raw records to re-normalise).

use std::collections::{BTreeMap, BTreeSet};

use cointally_exchanges::adapter::{Span, Stream};
use cointally_exchanges::amount::format_amount;
use rusqlite::params;
use rust_decimal::Decimal;

use super::events::parse_stored_amount;
use super::{Ledger, LedgerError};

/// One merged span of a stream's coverage.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Coverage {
    /// The stream.
    pub stream: Stream,
    /// The span of exchange time proven fetched.
    pub span: Span,
    /// When the newest part of it was fetched (Unix ms).
    pub fetched_ms: i64,
}

/// One asset's balance as the exchange reported it at the end of a sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportedBalance {
    /// Asset symbol.
    pub asset: String,
    /// The amount the exchange reported.
    pub amount: Decimal,
    /// When (Unix ms).
    pub reported_ms: i64,
}

/// A stored API raw record, for re-normalising.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRaw {
    /// Row id.
    pub id: i64,
    /// The stream it came from.
    pub stream: Stream,
    /// The exchange's id.
    pub external_id: String,
    /// The JSON text as received.
    pub payload: String,
}

impl Ledger {
    /// The stored cursors of an account's streams.
    pub fn cursors(&self, account_id: i64) -> Result<BTreeMap<Stream, String>, LedgerError> {
        let mut stmt = self.conn.prepare("SELECT endpoint, scope, cursor FROM sync_cursors WHERE account_id = ?1")?;
        let rows = stmt.query_map(params![account_id], |r| {
            Ok((Stream::new(r.get::<_, String>(0)?, r.get::<_, String>(1)?), r.get(2)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The coverage of an account's streams, sorted by stream then time.
    pub fn coverage(&self, account_id: i64) -> Result<Vec<Coverage>, LedgerError> {
        let mut stmt = self.conn.prepare(
            "SELECT endpoint, scope, from_ms, to_ms, fetched_ms FROM sync_coverage WHERE account_id = ?1
             ORDER BY endpoint, scope, from_ms",
        )?;
        let rows = stmt.query_map(params![account_id], |r| {
            Ok(Coverage {
                stream: Stream::new(r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                span: Span { from_ms: r.get(2)?, to_ms: r.get(3)? },
                fetched_ms: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every asset an account's events touch.
    pub fn account_assets(&self, account_id: i64) -> Result<BTreeSet<String>, LedgerError> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT l.asset FROM legs l JOIN events e ON e.id = l.event_id WHERE e.account_id = ?1",
        )?;
        let rows = stmt.query_map(params![account_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The balances the exchange reported at the account's last sync, by asset.
    pub fn reported_balances(&self, account_id: i64) -> Result<Vec<ReportedBalance>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare("SELECT asset, amount, reported_at FROM reported_balances WHERE account_id = ?1 ORDER BY asset")?;
        let mut rows = stmt.query(params![account_id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(ReportedBalance {
                asset: row.get(0)?,
                amount: parse_stored_amount(&row.get::<_, String>(1)?)?,
                reported_ms: row.get(2)?,
            });
        }
        Ok(out)
    }

    /// Replaces the account's reported balances with what the exchange reports now.
    pub fn store_reported_balances(
        &mut self,
        account_id: i64,
        balances: &[(String, Decimal)],
        reported_ms: i64,
    ) -> Result<(), LedgerError> {
        let tx = self.transaction()?;
        tx.execute("DELETE FROM reported_balances WHERE account_id = ?1", params![account_id])?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO reported_balances (account_id, asset, amount, reported_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (account_id, asset) DO UPDATE SET amount = excluded.amount",
            )?;
            for (asset, amount) in balances {
                insert.execute(params![account_id, asset, format_amount(*amount), reported_ms])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The account's raw records that came from an exchange API, in the order they were stored.
    pub fn api_raw_records(&self, account_id: i64) -> Result<Vec<StoredRaw>, LedgerError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, source, external_id, payload FROM raw_records
             WHERE account_id = ?1 AND substr(source, 1, 4) = 'api:' ORDER BY id",
        )?;
        let mut rows = stmt.query(params![account_id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let source: String = row.get(1)?;
            let stream = Stream::from_source(&source)
                .ok_or_else(|| LedgerError::Corrupt(format!("raw record source {source:?}")))?;
            out.push(StoredRaw { id: row.get(0)?, stream, external_id: row.get(2)?, payload: row.get(3)? });
        }
        Ok(out)
    }

    /// The account's events imported from files, with their legs, for matching API records
    /// of the same happenings: (event id, kind, time ms, legs as (role, asset, amount)).
    pub fn imported_events(&self, account_id: i64) -> Result<Vec<FileEvent>, LedgerError> {
        let mut stmt = self.conn.prepare(
            "SELECT e.id, e.kind, e.time_ms, l.role, l.asset, l.amount FROM events e JOIN legs l ON l.event_id = e.id
             WHERE e.account_id = ?1 AND substr(e.source, 1, 4) = 'csv:' ORDER BY e.id, l.seq",
        )?;
        let mut rows = stmt.query(params![account_id])?;
        let mut out: Vec<FileEvent> = Vec::new();
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            if out.last().is_none_or(|e| e.id != id) {
                out.push(FileEvent { id, kind: row.get(1)?, time_ms: row.get(2)?, legs: Vec::new() });
            }
            if let Some(event) = out.last_mut() {
                event.legs.push((row.get(3)?, row.get(4)?, parse_stored_amount(&row.get::<_, String>(5)?)?));
            }
        }
        Ok(out)
    }
}

impl Ledger {
    /// The API raw records already linked to events imported from files, each with that file
    /// event's id, in raw record order: the matcher re-reads them to know which API event ids
    /// met which file events in earlier runs.
    pub fn api_records_linked_to_file_events(&self, account_id: i64) -> Result<Vec<(StoredRaw, i64)>, LedgerError> {
        let mut stmt = self.conn.prepare(
            "SELECT r.id, r.source, r.external_id, r.payload, e.id FROM events e
             JOIN event_sources s ON s.event_id = e.id JOIN raw_records r ON r.id = s.raw_record_id
             WHERE e.account_id = ?1 AND substr(e.source, 1, 4) = 'csv:' AND substr(r.source, 1, 4) = 'api:'
             ORDER BY r.id",
        )?;
        let mut rows = stmt.query(params![account_id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let source: String = row.get(1)?;
            let stream = Stream::from_source(&source)
                .ok_or_else(|| LedgerError::Corrupt(format!("raw record source {source:?}")))?;
            let raw = StoredRaw { id: row.get(0)?, stream, external_id: row.get(2)?, payload: row.get(3)? };
            out.push((raw, row.get(4)?));
        }
        Ok(out)
    }
}

/// An event imported from a file, as the matcher sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEvent {
    /// Row id.
    pub id: i64,
    /// Kind name.
    pub kind: String,
    /// Time, Unix ms.
    pub time_ms: i64,
    /// Legs: role, asset, signed amount.
    pub legs: Vec<(String, String, Decimal)>,
}

impl Ledger {
    /// How many events of an account came from sources starting with `prefix` (`api:`, `csv:`).
    pub fn event_counts_by_source_prefix(&self, account_id: i64, prefix: &str) -> Result<u64, LedgerError> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM events WHERE account_id = ?1 AND substr(source, 1, length(?2)) = ?2",
            params![account_id, prefix],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }
}
