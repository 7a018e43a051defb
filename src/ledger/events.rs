//! Events and their legs, read back in time order (they are written by [`super::Writer`]), and
//! the raw records each event was made from.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use cointally_exchanges::time::{from_millis, to_millis};
use cointally_exchanges::{EventKind, LegRole};
use rust_decimal::Decimal;

use super::{Ledger, LedgerError};

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
    /// Only the event with this row id.
    pub id: Option<i64>,
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

/// What an event was made from: the audit trail back to what the source sent.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RawRef {
    /// Lines of an imported file, kept whole in the ledger (`import_files`).
    Lines {
        /// The file's row id.
        file_id: i64,
        /// The format it was read as, `csv:<format>`.
        source: String,
        /// Its name when imported.
        name: String,
        /// Its lines the event was made from, space-separated.
        lines: String,
    },
    /// A raw record: what an API sent, or a row of a file imported before files were kept
    /// whole.
    Record {
        /// Row id of the raw record.
        raw_record_id: i64,
        /// Its source: the endpoint, or `csv:<format>`.
        source: String,
        /// The source's id of the record.
        external_id: String,
    },
}

impl std::fmt::Display for RawRef {
    /// The audit's text: `<source> file #<id> <name> line <n>` (`lines <n> <m>` for several),
    /// or `#<id> <source> <external id>` for a raw record.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RawRef::Lines { file_id, source, name, lines } => {
                let word = if lines.contains(' ') { "lines" } else { "line" };
                write!(f, "{source} file #{file_id} {name} {word} {lines}")
            }
            RawRef::Record { raw_record_id, source, external_id } => {
                write!(f, "#{raw_record_id} {source} {external_id}")
            }
        }
    }
}

impl Ledger {
    /// What one event was made from: the file lines first, then the raw records by id.
    pub fn sources_of_event(&self, event: i64) -> Result<Vec<RawRef>, LedgerError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.id, f.source, f.name, l.lines FROM event_lines l JOIN import_files f ON f.id = l.file_id
             WHERE l.event_id = ?1",
        )?;
        let mut refs = stmt
            .query_map([event], |r| {
                Ok(RawRef::Lines { file_id: r.get(0)?, source: r.get(1)?, name: r.get(2)?, lines: r.get(3)? })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.id, r.source, r.external_id FROM event_sources s JOIN raw_records r ON r.id = s.raw_record_id
             WHERE s.event_id = ?1 ORDER BY r.id",
        )?;
        for record in stmt.query_map([event], |r| {
            Ok(RawRef::Record { raw_record_id: r.get(0)?, source: r.get(1)?, external_id: r.get(2)? })
        })? {
            refs.push(record?);
        }
        Ok(refs)
    }

    /// The notes of those of `events` that have one, by event id.
    pub fn event_notes(&self, events: &BTreeSet<i64>) -> Result<BTreeMap<i64, String>, LedgerError> {
        let mut stmt = self.conn.prepare_cached("SELECT note FROM events WHERE id = ?1 AND note IS NOT NULL")?;
        let mut out = BTreeMap::new();
        for &event in events {
            if let Some(note) =
                rusqlite::OptionalExtension::optional(stmt.query_row([event], |r| r.get::<_, String>(0)))?
            {
                out.insert(event, note);
            }
        }
        Ok(out)
    }

    /// Events matching `filter`, in time order (ties by id), with their legs.
    pub fn events(&self, filter: &EventFilter) -> Result<Vec<EventRow>, LedgerError> {
        let mut rows = Vec::new();
        self.for_each_event(filter, |row| {
            rows.push(row);
            Ok::<(), LedgerError>(())
        })?;
        Ok(rows)
    }

    /// Calls `each` with every event `filter` matches, in time order (ties by id), as
    /// [`Ledger::events`] lists them, one in memory at a time: a listing of a million events
    /// stays flat. Stops at the first error `each` returns.
    pub fn for_each_event<E: From<LedgerError>>(
        &self,
        filter: &EventFilter,
        mut each: impl FnMut(EventRow) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut sql = String::from(
            "SELECT e.id, a.label, e.time_ms, COALESCE(o.kind, e.kind), e.tx_hash, e.external_id, e.note
             FROM events e JOIN accounts a ON a.id = e.account_id
             LEFT JOIN kind_overrides o ON o.account_id = e.account_id AND o.external_id = e.external_id
             WHERE 1 = 1",
        );
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(account) = &filter.account {
            args.push(account.clone().into());
            sql += &format!(" AND a.label = ?{}", args.len());
        }
        if let Some(id) = filter.id {
            args.push(id.into());
            sql += &format!(" AND e.id = ?{}", args.len());
        }
        if let Some(kind) = filter.kind {
            args.push(kind.as_str().to_string().into());
            sql += &format!(" AND COALESCE(o.kind, e.kind) = ?{}", args.len());
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
        let mut stmt = self.conn.prepare(&sql).map_err(LedgerError::from)?;
        let mut legs = self
            .conn
            .prepare_cached("SELECT role, asset, amount FROM legs WHERE event_id = ?1 ORDER BY seq")
            .map_err(LedgerError::from)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args)).map_err(LedgerError::from)?;
        while let Some(r) = rows.next().map_err(LedgerError::from)? {
            let event = (|| -> Result<EventRow, LedgerError> {
                let id: i64 = r.get(0)?;
                let kind: String = r.get(3)?;
                let kind = kind.parse().map_err(|_| LedgerError::Corrupt(format!("event {id} has kind {kind:?}")))?;
                let legs = legs
                    .query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get::<_, String>(2)?)))?
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
                Ok(EventRow {
                    id,
                    account: r.get(1)?,
                    time: from_millis(r.get::<_, i64>(2)?),
                    kind,
                    legs,
                    tx_hash: r.get(4)?,
                    external_id: r.get(5)?,
                    note: r.get(6)?,
                })
            })()?;
            each(event)?;
        }
        Ok(())
    }
}

impl Ledger {
    /// Calls `each` with every event before `until_ms` in time order (ties by id), as
    /// [`Ledger::events`] gives them, with its legs' values in `currency` beside its legs
    /// (`None`: no value). One query walked row by row: one event in memory at a time (the
    /// transaction exports stream through it). `each` returns `Break` to stop.
    pub fn for_each_valued_event(
        &self,
        currency: &str,
        until_ms: i64,
        mut each: impl FnMut(&EventRow, &[Option<Decimal>]) -> std::ops::ControlFlow<()>,
    ) -> Result<(), LedgerError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.id, a.label, e.time_ms, COALESCE(o.kind, e.kind), e.tx_hash, e.external_id, e.note,
                    l.role, l.asset, l.amount, v.value
             FROM events e JOIN accounts a ON a.id = e.account_id
             LEFT JOIN kind_overrides o ON o.account_id = e.account_id AND o.external_id = e.external_id
             LEFT JOIN legs l ON l.event_id = e.id
             LEFT JOIN leg_values v ON v.event_id = l.event_id AND v.seq = l.seq AND v.currency = ?1
             WHERE e.time_ms < ?2
             ORDER BY e.time_ms, e.id, l.seq",
        )?;
        let mut rows = stmt.query(rusqlite::params![currency, until_ms])?;
        let mut current: Option<EventRow> = None;
        let mut values: Vec<Option<Decimal>> = Vec::new();
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            if current.as_ref().is_none_or(|e| e.id != id) {
                if let Some(event) = current.take() {
                    if each(&event, &values).is_break() {
                        return Ok(());
                    }
                }
                values.clear();
                let kind: String = r.get(3)?;
                let kind = kind.parse().map_err(|_| LedgerError::Corrupt(format!("event {id} has kind {kind:?}")))?;
                current = Some(EventRow {
                    id,
                    account: r.get(1)?,
                    time: from_millis(r.get(2)?),
                    kind,
                    legs: Vec::new(),
                    tx_hash: r.get(4)?,
                    external_id: r.get(5)?,
                    note: r.get(6)?,
                });
            }
            let Some(role) = r.get::<_, Option<String>>(7)? else { continue };
            let amount: String = r.get(9)?;
            let leg = LegRow {
                asset: r.get(8)?,
                amount: parse_stored_amount(&amount)?,
                role: LegRole::from_name(&role).ok_or_else(|| LedgerError::Corrupt(format!("leg role {role:?}")))?,
            };
            let value = super::prices::leg_value(super::tax::opt_text(r, 10)?, &leg.asset, leg.amount, currency)?;
            if let Some(event) = current.as_mut() {
                event.legs.push(leg);
                values.push(value);
            }
        }
        if let Some(event) = current {
            let _ = each(&event, &values);
        }
        Ok(())
    }
}

/// Reads an amount the ledger stored.
pub(crate) fn parse_stored_amount(text: &str) -> Result<Decimal, LedgerError> {
    cointally_exchanges::parse_amount(text).map_err(|e| LedgerError::Corrupt(format!("amount {text:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use cointally_exchanges::{Leg, NewEvent};

    use super::*;

    /// The walk the transaction exports stream from gives every event `events` gives (kind
    /// overrides, notes, legs in order), with the values `for_each_tax_event` reads, in the
    /// same order and nothing after the end.
    #[test]
    fn the_valued_walk_gives_what_events_and_tax_events_give_together() {
        let (_dir, mut ledger, account) = crate::ledger::test_ledger();
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let at = |ms: i64| from_millis(1_700_000_000_000 + ms);
        let events = [
            NewEvent::new(
                "t",
                at(2_000),
                EventKind::Trade,
                vec![Leg::sent("USD", d("100")), Leg::received("BTC", d("0.002")), Leg::fee("BTC", d("0.00001"))],
            ),
            NewEvent::new("s", at(1_000), EventKind::Staking, vec![Leg::received("ETH", d("0.5"))]),
            NewEvent::new("i", at(1_000), EventKind::InternalTransfer, vec![Leg::sent("ETH", d("0.1"))]),
            NewEvent::new("late", at(9_000), EventKind::Deposit, vec![Leg::received("ETH", d("1"))]),
        ];
        let ids = crate::ledger::write_test_events(&mut ledger, account, &events);
        // Values for the trade's first two legs only: the fee leg has none.
        let value = crate::ledger::test_value;
        ledger
            .store_leg_values("USD", &[value(ids[0], 0, "100"), value(ids[0], 1, "100"), value(ids[1], 0, "900")])
            .unwrap();
        ledger.reclassify(ids[1], EventKind::Income).unwrap();
        let until = 1_700_000_005_000;

        let mut walked = Vec::new();
        ledger
            .for_each_valued_event("USD", until, |event, values| {
                walked.push((event.clone(), values.to_vec()));
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
        let mut valued = BTreeMap::new();
        ledger
            .for_each_tax_event("USD", Some(until), |e| {
                valued.insert(e.id, e.legs.iter().map(|l| l.value).collect::<Vec<_>>());
            })
            .unwrap();
        let listed = ledger.events(&EventFilter { until: Some(from_millis(until)), ..EventFilter::default() }).unwrap();
        let want: Vec<(EventRow, Vec<Option<Decimal>>)> =
            listed.into_iter().map(|e| (e.clone(), valued.remove(&e.id).unwrap_or_default())).collect();
        assert_eq!(walked, want);
        assert_eq!(walked.len(), 3, "the event after the end is not read");
        assert_eq!(walked[0].0.kind, EventKind::Income, "the override is the kind");
        assert_eq!(walked[2].1, [Some(d("100")), Some(d("100")), None]);
        // Stopping early stops.
        let mut seen = 0;
        ledger
            .for_each_valued_event("USD", until, |_, _| {
                seen += 1;
                std::ops::ControlFlow::Break(())
            })
            .unwrap();
        assert_eq!(seen, 1);
    }
}
