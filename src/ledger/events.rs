//! Events and their legs: writing them once, and reading them back in time order.

use chrono::{DateTime, Utc};
use cointally_exchanges::amount::format_amount;
use cointally_exchanges::time::{from_millis, to_millis};
use cointally_exchanges::{EventKind, LegRole, NewEvent};
use rusqlite::{Statement, Transaction, params};
use rust_decimal::Decimal;

use super::{Ledger, LedgerError};

/// Whether an event was new or already in the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// Stored now, with this id.
    New(i64),
    /// The account already had an event with this external id.
    Existing(i64),
}

/// How many legs or links one multi-row INSERT writes.
const CHUNK: usize = 200;

/// Writes raw records and events inside one transaction, with its statements prepared once
/// (an import writes millions of rows through it). Legs and event→raw links are buffered and
/// written `CHUNK` rows per statement; [`Writer::finish`] writes the rest and must be called
/// before the transaction commits.
pub struct Writer<'t> {
    tx: &'t Transaction<'t>,
    insert_raw: Statement<'t>,
    find_raw: Statement<'t>,
    insert_event: Statement<'t>,
    find_event: Statement<'t>,
    insert_legs: Statement<'t>,
    insert_links: Statement<'t>,
    legs: Vec<(i64, i64, &'static str, String, String)>,
    links: Vec<(i64, i64)>,
}

/// `INSERT ... VALUES (...), (...)` with `rows` groups of `columns` parameters.
fn multi_row_insert(head: &str, columns: usize, rows: usize) -> String {
    let group = format!("({})", vec!["?"; columns].join(", "));
    format!("{head} VALUES {}", vec![group; rows].join(", "))
}

/// Runs a multi-row INSERT for `params` (whole rows of `columns`): the prepared full-chunk
/// statement when there are `CHUNK` rows, a statement of the right size otherwise.
fn write_chunk(
    tx: &Transaction<'_>,
    full: &mut Statement<'_>,
    head: &str,
    columns: usize,
    params: &[&dyn rusqlite::ToSql],
) -> Result<(), LedgerError> {
    match params.len() / columns {
        0 => {}
        CHUNK => {
            full.execute(params)?;
        }
        rows => {
            tx.prepare(&multi_row_insert(head, columns, rows))?.execute(params)?;
        }
    }
    Ok(())
}

const LEGS_HEAD: &str = "INSERT INTO legs (event_id, seq, role, asset, amount)";
const LINKS_HEAD: &str = "INSERT OR IGNORE INTO event_sources (event_id, raw_record_id)";

impl<'t> Writer<'t> {
    /// A writer for `tx`.
    pub fn new(tx: &'t Transaction<'t>) -> Result<Writer<'t>, LedgerError> {
        Ok(Writer {
            tx,
            insert_raw: tx.prepare(
                "INSERT OR IGNORE INTO raw_records (account_id, source, external_id, payload, fetched_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
            find_raw: tx
                .prepare("SELECT id FROM raw_records WHERE account_id = ?1 AND source = ?2 AND external_id = ?3")?,
            insert_event: tx.prepare(
                "INSERT OR IGNORE INTO events (account_id, external_id, kind, time_ms, tx_hash, address, network, note, fiat_value, fiat_currency, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?,
            find_event: tx.prepare("SELECT id FROM events WHERE account_id = ?1 AND external_id = ?2")?,
            insert_legs: tx.prepare(&multi_row_insert(LEGS_HEAD, 5, CHUNK))?,
            insert_links: tx.prepare(&multi_row_insert(LINKS_HEAD, 2, CHUNK))?,
            legs: Vec::with_capacity(CHUNK),
            links: Vec::with_capacity(CHUNK),
        })
    }

    /// Writes the buffered legs and links; call before committing.
    pub fn finish(mut self) -> Result<(), LedgerError> {
        self.flush_legs()?;
        self.flush_links()
    }

    fn flush_legs(&mut self) -> Result<(), LedgerError> {
        let params: Vec<&dyn rusqlite::ToSql> =
            self.legs.iter().flat_map(|(e, s, r, a, m)| [e as &dyn rusqlite::ToSql, s, r, a, m]).collect();
        write_chunk(self.tx, &mut self.insert_legs, LEGS_HEAD, 5, &params)?;
        self.legs.clear();
        Ok(())
    }

    fn flush_links(&mut self) -> Result<(), LedgerError> {
        let params: Vec<&dyn rusqlite::ToSql> =
            self.links.iter().flat_map(|(e, r)| [e as &dyn rusqlite::ToSql, r]).collect();
        write_chunk(self.tx, &mut self.insert_links, LINKS_HEAD, 2, &params)?;
        self.links.clear();
        Ok(())
    }

    /// Stores a raw record unless (account, source, external id) is already there; returns
    /// its row id either way.
    pub fn raw(
        &mut self,
        account_id: i64,
        source: &str,
        external_id: &str,
        payload: &str,
        fetched_ms: i64,
    ) -> Result<i64, LedgerError> {
        if self.insert_raw.execute(params![account_id, source, external_id, payload, fetched_ms])? == 1 {
            return Ok(self.tx.last_insert_rowid());
        }
        Ok(self.find_raw.query_row(params![account_id, source, external_id], |r| r.get(0))?)
    }

    /// Stores an event with its legs and links it to the raw records it came from, unless
    /// the account already has an event with the same external id (then only the links are
    /// added).
    pub fn event(
        &mut self,
        account_id: i64,
        source: &str,
        event: &NewEvent,
        raw_ids: &[i64],
    ) -> Result<Written, LedgerError> {
        let fiat_amount = event.fiat_value.as_ref().map(|v| format_amount(v.amount));
        let fiat_currency = event.fiat_value.as_ref().map(|v| v.currency.as_str());
        let inserted = self.insert_event.execute(params![
            account_id,
            event.external_id,
            event.kind.as_str(),
            to_millis(event.time),
            event.tx_hash,
            event.address,
            event.network,
            event.note,
            fiat_amount,
            fiat_currency,
            source
        ])? == 1;
        let written = if inserted {
            let id = self.tx.last_insert_rowid();
            for (seq, l) in event.legs.iter().filter(|l| !l.amount.is_zero()).enumerate() {
                self.legs.push((id, seq as i64, l.role.as_str(), l.asset.clone(), format_amount(l.amount)));
                if self.legs.len() == CHUNK {
                    self.flush_legs()?;
                }
            }
            Written::New(id)
        } else {
            Written::Existing(self.find_event.query_row(params![account_id, event.external_id], |r| r.get(0))?)
        };
        let (Written::New(event_id) | Written::Existing(event_id)) = written;
        for raw in raw_ids {
            self.links.push((event_id, *raw));
            if self.links.len() == CHUNK {
                self.flush_links()?;
            }
        }
        Ok(written)
    }
}

/// Which events to read.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    /// Only this account.
    pub account: Option<String>,
    /// Only events with a leg in this asset.
    pub asset: Option<String>,
    /// Only this kind.
    pub kind: Option<EventKind>,
    /// Only events at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only events before this instant.
    pub until: Option<DateTime<Utc>>,
    /// At most this many (the earliest).
    pub limit: Option<u64>,
}

/// An event as stored, with its legs.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
    /// Row id.
    pub id: i64,
    /// The account's label.
    pub account: String,
    /// When, UTC.
    pub time: DateTime<Utc>,
    /// What kind.
    pub kind: EventKind,
    /// The signed amounts.
    pub legs: Vec<LegRow>,
    /// On-chain hash.
    pub tx_hash: Option<String>,
    /// The source's id.
    pub external_id: String,
    /// Free text.
    pub note: Option<String>,
}

/// A leg as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct LegRow {
    /// Asset symbol.
    pub asset: String,
    /// Signed amount.
    pub amount: Decimal,
    /// Side of the event.
    pub role: LegRole,
}

impl Ledger {
    /// Events matching `filter`, in time order (ties by id), with their legs.
    pub fn events(&self, filter: &EventFilter) -> Result<Vec<EventRow>, LedgerError> {
        let mut sql = String::from(
            "SELECT e.id, a.label, e.time_ms, e.kind, e.tx_hash, e.external_id, e.note
             FROM events e JOIN accounts a ON a.id = e.account_id WHERE 1 = 1",
        );
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(account) = &filter.account {
            args.push(account.clone().into());
            sql += &format!(" AND a.label = ?{}", args.len());
        }
        if let Some(kind) = filter.kind {
            args.push(kind.as_str().to_string().into());
            sql += &format!(" AND e.kind = ?{}", args.len());
        }
        if let Some(from) = filter.from {
            args.push(to_millis(from).into());
            sql += &format!(" AND e.time_ms >= ?{}", args.len());
        }
        if let Some(until) = filter.until {
            args.push(to_millis(until).into());
            sql += &format!(" AND e.time_ms < ?{}", args.len());
        }
        if let Some(asset) = &filter.asset {
            args.push(asset.clone().into());
            sql += &format!(" AND EXISTS (SELECT 1 FROM legs l WHERE l.event_id = e.id AND l.asset = ?{})", args.len());
        }
        sql += " ORDER BY e.time_ms, e.id";
        if let Some(limit) = filter.limit {
            args.push((limit.min(i64::MAX as u64) as i64).into());
            sql += &format!(" LIMIT ?{}", args.len());
        }
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt
            .query_map(rusqlite::params_from_iter(args), |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?
            .map(|row| {
                let (id, account, time_ms, kind, tx_hash, external_id, note) = row?;
                let kind = kind.parse().map_err(|_| LedgerError::Corrupt(format!("event {id} has kind {kind:?}")))?;
                Ok(EventRow {
                    id,
                    account,
                    time: from_millis(time_ms),
                    kind,
                    legs: Vec::new(),
                    tx_hash,
                    external_id,
                    note,
                })
            })
            .collect::<Result<Vec<EventRow>, LedgerError>>()?;
        let mut legs =
            self.conn.prepare_cached("SELECT role, asset, amount FROM legs WHERE event_id = ?1 ORDER BY seq")?;
        for event in &mut rows {
            event.legs = legs
                .query_map([event.id], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get::<_, String>(2)?)))?
                .map(|leg| {
                    let (role, asset, amount) = leg?;
                    Ok(LegRow {
                        asset,
                        amount: parse_stored_amount(&amount)?,
                        role: LegRole::from_name(&role)
                            .ok_or_else(|| LedgerError::Corrupt(format!("leg role {role:?}")))?,
                    })
                })
                .collect::<Result<_, LedgerError>>()?;
        }
        Ok(rows)
    }
}

/// Reads an amount the ledger stored.
pub(crate) fn parse_stored_amount(text: &str) -> Result<Decimal, LedgerError> {
    cointally_exchanges::parse_amount(text).map_err(|e| LedgerError::Corrupt(format!("amount {text:?}: {e}")))
}
