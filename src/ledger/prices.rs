//! The values of legs: the reporting currency, the legs waiting for a value, the values stored,
//! and the kept answer of whether every leg has one. The prices they are made from are in
//! [`super::price_cache`].

use std::collections::BTreeMap;

use cointally_exchanges::LegRole;
use cointally_exchanges::amount::write_amount;
use rusqlite::{OptionalExtension, ToSql, params};
use rust_decimal::Decimal;

use super::events::parse_stored_amount;
use super::tax::{leg_role, opt_text, text};
use super::writer::{CHUNK, cell_pairs, multi_row_insert, write_chunk};
use super::{Ledger, LedgerError, check_foreign_keys, decimal, event_removal_count};

/// The setting that holds the reporting currency.
const CURRENCY_SETTING: &str = "reporting_currency";

/// How a leg in the reporting currency itself is valued: at its amount, a price of one. Such
/// values are not stored (in a ledger of trades against the currency they are half of all
/// values, and writing them was a third of `prices --offline`): every reader of values gives a
/// leg in the currency this value when none is stored, and the checks count it as valued.
/// Ledgers priced before kept them stored, with the same value.
pub const CURRENCY_SOURCE: &str = "currency";

/// A leg's value in `currency`: the one stored (`stored`, its text), else its amount when the
/// leg is in `currency` itself ([`CURRENCY_SOURCE`]), else none.
pub(crate) fn leg_value(
    stored: Option<&str>,
    asset: &str,
    amount: Decimal,
    currency: &str,
) -> Result<Option<Decimal>, LedgerError> {
    match stored {
        Some(text) => decimal(text, "leg value").map(Some),
        None if asset == currency => Ok(Some(own_value(amount))),
        None => Ok(None),
    }
}

/// The value of a leg in the reporting currency itself ([`CURRENCY_SOURCE`]).
fn own_value(amount: Decimal) -> Decimal {
    amount.abs()
}

/// An event with at least one leg that has no value in the currency asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingEvent {
    /// Row id.
    pub id: i64,
    /// UTC ms.
    pub time_ms: i64,
    /// The fiat value the source reported for the whole event, with its currency.
    pub fiat_value: Option<(Decimal, String)>,
    /// All its legs, in order.
    pub legs: Vec<PricingLeg>,
}

/// One leg of a [`PricingEvent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingLeg {
    /// Its position in the event.
    pub seq: i64,
    /// Its side of the event.
    pub role: LegRole,
    /// Canonical asset symbol.
    pub asset: String,
    /// Signed amount.
    pub amount: Decimal,
    /// Whether it has a value already.
    pub valued: bool,
}

impl PricingLeg {
    /// Makes this leg the one given, keeping its string's capacity (legs are read into a
    /// reused buffer).
    fn set(&mut self, seq: i64, role: LegRole, asset: &str, amount: Decimal, valued: bool) {
        (self.seq, self.role, self.amount, self.valued) = (seq, role, amount, valued);
        self.asset.clear();
        self.asset.push_str(asset);
    }
}

/// The value of one leg, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegValue {
    /// The event.
    pub event_id: i64,
    /// The leg's position.
    pub seq: i64,
    /// One unit of the leg's asset in the currency.
    pub price: Decimal,
    /// |amount| × price.
    pub value: Decimal,
    /// How it was found (see schema/0003_prices.sql).
    pub source: String,
    /// The candles used.
    pub path: String,
}

/// What a value check found ([`Ledger::value_check`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueCheck {
    /// Every leg has a value; `writes` is the count of noted writes read before the check
    /// (for [`Ledger::note_every_leg_valued`]).
    AllValued { writes: i64 },
    /// The legs without a value, in time order.
    Missing(Vec<MissingLeg>),
}

/// A leg still without a value, for `prices missing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingLeg {
    /// The event's row id.
    pub event: i64,
    /// Its account's label.
    pub account: String,
    /// Its kind.
    pub kind: String,
    /// UTC ms.
    pub time_ms: i64,
    /// The leg's asset.
    pub asset: String,
    /// Its signed amount.
    pub amount: Decimal,
    /// `sent`, `received` or `fee`.
    pub role: String,
}

impl Ledger {
    /// The currency values and reports are in (`USD` unless chosen otherwise).
    pub fn reporting_currency(&self) -> Result<String, LedgerError> {
        Ok(self.setting(CURRENCY_SETTING)?.unwrap_or_else(|| "USD".to_owned()))
    }

    /// Changes the reporting currency (the values in the old one are kept, for going back).
    pub fn set_reporting_currency(&mut self, currency: &str) -> Result<(), LedgerError> {
        self.set_setting(CURRENCY_SETTING, currency)
    }

    /// Hands `each` the next `limit` events after `after` (time, id) in time order that have a
    /// leg without a value in `currency`, with all their legs, and returns the last one's (time,
    /// id) (`None` when there was none): pricing reads the ledger in such pages so its memory
    /// does not grow with the history (the `events_by_time` index gives the order).
    ///
    /// One join walks every event after `after` with its legs and their values, and the events
    /// whose legs all have one are dropped here: filtering them in SQL (an `EXISTS` per event
    /// over its legs, and again per leg) read the legs and their values twice and was half of
    /// `prices --offline` on a fresh ledger. The event is one buffer reused from event to event
    /// (its legs keep their strings), as [`Ledger::for_each_tax_event_between`] reads: making
    /// each page's events and freeing them was a third of the reading side of `prices --offline`.
    ///
    /// `stored` says whether these events may have values stored ([`Ledger::any_leg_value`],
    /// asked before the first page: the values a run stores are of the pages before); without,
    /// no leg's value is looked up (a fifth of the query on a fresh ledger: 100,000 events read
    /// in 76 ms instead of 95 by the `sqlite3` shell).
    pub fn for_each_event_to_value(
        &self,
        currency: &str,
        after: Option<(i64, i64)>,
        limit: usize,
        stored: bool,
        mut each: impl FnMut(&PricingEvent),
    ) -> Result<Option<(i64, i64)>, LedgerError> {
        let mut stmt = self.conn.prepare_cached(if stored {
            "SELECT e.id, e.time_ms, e.fiat_value, e.fiat_currency, l.seq, l.role, l.asset, l.amount,
                    v.seq IS NOT NULL OR l.asset = ?1
             FROM events e
             JOIN legs l ON l.event_id = e.id
             LEFT JOIN leg_values v ON v.event_id = l.event_id AND v.seq = l.seq AND v.currency = ?1
             WHERE (e.time_ms, e.id) > (?2, ?3)
             ORDER BY e.time_ms, e.id, l.seq"
        } else {
            "SELECT e.id, e.time_ms, e.fiat_value, e.fiat_currency, l.seq, l.role, l.asset, l.amount, l.asset = ?1
             FROM events e
             JOIN legs l ON l.event_id = e.id
             WHERE (e.time_ms, e.id) > (?2, ?3)
             ORDER BY e.time_ms, e.id, l.seq"
        })?;
        let (time, id) = after.unwrap_or((i64::MIN, i64::MIN));
        let mut rows = stmt.query(params![currency, time, id])?;
        let mut event = PricingEvent { id: 0, time_ms: 0, fiat_value: None, legs: Vec::with_capacity(4) };
        // Legs set aside from the buffer, kept for their strings; how many of its legs are this
        // event's, whether one of them has no value; the events handed and the last one's key.
        let mut spare: Vec<PricingLeg> = Vec::new();
        let (mut used, mut wanted, mut started) = (0usize, false, false);
        let (mut handed, mut last) = (0usize, None);
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            if !started || event.id != id {
                if started && wanted {
                    spare.extend(event.legs.drain(used..));
                    each(&event);
                    (handed, last) = (handed + 1, Some((event.time_ms, event.id)));
                }
                if handed == limit {
                    return Ok(last);
                }
                started = true;
                (used, wanted) = (0, false);
                event.id = id;
                event.time_ms = row.get(1)?;
                event.fiat_value = match (opt_text(row, 2)?, opt_text(row, 3)?) {
                    (Some(value), Some(fiat)) => Some((decimal(value, "fiat value")?, fiat.to_owned())),
                    _ => None,
                };
            }
            let valued: bool = row.get(8)?;
            wanted |= !valued;
            let (seq, role) = (row.get(4)?, leg_role(text(row, 5)?)?);
            let (asset, amount) = (text(row, 6)?, parse_stored_amount(text(row, 7)?)?);
            if used == event.legs.len() {
                let leg = spare.pop().unwrap_or_else(|| PricingLeg { seq, role, asset: String::new(), amount, valued });
                event.legs.push(leg);
            }
            if let Some(leg) = event.legs.get_mut(used) {
                leg.set(seq, role, asset, amount, valued);
            }
            used += 1;
        }
        if started && wanted {
            event.legs.truncate(used);
            each(&event);
            last = Some((event.time_ms, event.id));
        }
        Ok(last)
    }

    /// Whether any leg has a value stored, in any currency (one row read at most).
    pub fn any_leg_value(&self) -> Result<bool, LedgerError> {
        Ok(self.conn.query_row("SELECT EXISTS (SELECT 1 FROM leg_values)", [], |r| r.get(0))?)
    }

    /// Stores leg values in `currency` in one transaction (a value already there is kept), and
    /// notes the earliest newly valued event for the year-end snapshots.
    pub fn store_leg_values(&mut self, currency: &str, values: &[LegValue]) -> Result<usize, LedgerError> {
        self.store_values_from(currency, values, None)
    }

    /// How many events were ever removed from the ledger (schema/0032_event_removals.sql): read
    /// before reading events whose values [`Ledger::store_page_values`] will store.
    pub fn event_removals(&self) -> Result<i64, LedgerError> {
        event_removal_count(&self.conn)
    }

    /// [`Ledger::store_leg_values`] for a page of events read in time order on another
    /// connection, after [`Ledger::event_removals`] gave `removals`: the values are of events
    /// at or after `from_ms`, so the snapshots are noted from that time when any value is new
    /// (instead of looking up each event's time, a tenth of `prices` on a fresh ledger).
    ///
    /// SQLite does not check each value's event by its foreign key here (a seventh of `prices
    /// --offline` over 100,000 fresh events, a fifth over a million legs at random times): the
    /// count of removed events, read under the write lock, must still be `removals`, else
    /// nothing is stored and the error says to run again.
    pub fn store_page_values(
        &mut self,
        currency: &str,
        values: &[LegValue],
        from_ms: i64,
        removals: i64,
    ) -> Result<usize, LedgerError> {
        // The pragma cannot change inside a transaction: off before it, on again after it
        // commits or fails.
        check_foreign_keys(&self.conn, false)?;
        let stored = self.store_values_from(currency, values, Some((from_ms, removals)));
        let on = check_foreign_keys(&self.conn, true);
        let stored = stored?;
        on?;
        Ok(stored)
    }

    fn store_values_from(
        &mut self,
        currency: &str,
        values: &[LegValue],
        page: Option<(i64, i64)>,
    ) -> Result<usize, LedgerError> {
        const HEAD: &str = "INSERT OR IGNORE INTO leg_values (event_id, seq, currency, price, value, source, path)";
        let tx = self.transaction()?;
        if let Some((_, removals)) = page {
            if event_removal_count(&tx)? != removals {
                return Err(LedgerError::EventsRemoved);
            }
        }
        let from_ms = page.map(|(from_ms, _)| from_ms);
        let mut stored = 0;
        {
            // Many rows per statement: one statement per value was most of the time `prices`
            // spent writing.
            let mut full = tx.prepare_cached(&multi_row_insert(HEAD, 7, CHUNK))?;
            let mut time_of = tx.prepare_cached("SELECT time_ms FROM events WHERE id = ?1")?;
            let mut earliest = None::<i64>;
            // A chunk's prices and values written one after another into one text, each value's
            // two ends noted (two `String`s a value before).
            let mut text = String::new();
            let mut ends: Vec<(usize, usize)> = Vec::with_capacity(CHUNK);
            for chunk in values.chunks(CHUNK) {
                text.clear();
                ends.clear();
                for v in chunk {
                    write_amount(&mut text, v.price);
                    let price_end = text.len();
                    write_amount(&mut text, v.value);
                    ends.push((price_end, text.len()));
                }
                let cells = cell_pairs(&text, ends.iter().copied());
                let mut params: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 7);
                for (v, (price, value)) in chunk.iter().zip(&cells) {
                    params.extend([&v.event_id as &dyn ToSql, &v.seq, &currency, price, value, &v.source, &v.path]);
                }
                let inserted = write_chunk(&tx, &mut full, HEAD, 7, &params)?;
                stored += inserted;
                if inserted == 0 || from_ms.is_some() {
                    continue;
                }
                // The chunk's events (a value already there counted too: noting an event too
                // early only drops a snapshot more).
                let mut noted = None;
                for v in chunk {
                    if noted != Some(v.event_id) {
                        noted = Some(v.event_id);
                        let time: Option<i64> = time_of.query_row([v.event_id], |r| r.get(0)).optional()?;
                        earliest = earliest.into_iter().chain(time).min();
                    }
                }
            }
            // What the value insert trigger did per row before 0023: a snapshot ending after the
            // earliest newly valued event no longer holds.
            if stored > 0 && from_ms.is_some() {
                earliest = from_ms;
            }
            if let Some(low) = earliest {
                tx.execute(
                    "UPDATE input_changes SET low_ms = ?1 WHERE id = 1 AND (low_ms IS NULL OR low_ms > ?1)",
                    [low],
                )?;
            }
        }
        tx.commit()?;
        Ok(stored)
    }

    /// Forgets every value in `currency` (`prices --revalue`).
    pub fn clear_leg_values(&mut self, currency: &str) -> Result<usize, LedgerError> {
        Ok(self.conn.execute("DELETE FROM leg_values WHERE currency = ?1", [currency])?)
    }

    /// The values in `currency`, by (event, seq): those stored, and the legs in `currency`
    /// itself ([`CURRENCY_SOURCE`]) without one.
    pub fn leg_values(&self, currency: &str) -> Result<BTreeMap<(i64, i64), LegValue>, LedgerError> {
        let mut stmt = self.conn.prepare(
            "SELECT event_id, seq, price, value, source, path FROM leg_values WHERE currency = ?1 ORDER BY event_id, seq",
        )?;
        let mut rows = stmt.query([currency])?;
        let mut values = BTreeMap::new();
        while let Some(row) = rows.next()? {
            let (price, value): (String, String) = (row.get(2)?, row.get(3)?);
            let v = LegValue {
                event_id: row.get(0)?,
                seq: row.get(1)?,
                price: decimal(&price, "price")?,
                value: decimal(&value, "value")?,
                source: row.get(4)?,
                path: row.get(5)?,
            };
            values.insert((v.event_id, v.seq), v);
        }
        let mut stmt = self.conn.prepare("SELECT event_id, seq, amount FROM legs WHERE asset = ?1")?;
        let mut rows = stmt.query([currency])?;
        while let Some(row) = rows.next()? {
            let (event_id, seq): (i64, i64) = (row.get(0)?, row.get(1)?);
            if values.contains_key(&(event_id, seq)) {
                continue;
            }
            let amount: String = row.get(2)?;
            let value = own_value(decimal(&amount, "leg amount")?);
            let path = String::new();
            values.insert(
                (event_id, seq),
                LegValue { event_id, seq, price: Decimal::ONE, value, source: CURRENCY_SOURCE.to_owned(), path },
            );
        }
        Ok(values)
    }

    /// The legs without a value in `currency`, in time order.
    ///
    /// Nearly always none, and asked by every report: when the last check found none in this
    /// currency, only the legs of events at or after the earliest time written since are read
    /// (`value_changes`, 0026), and a check that finds none clears that mark.
    pub fn missing_legs(&self, currency: &str) -> Result<Vec<MissingLeg>, LedgerError> {
        match self.value_check(currency)? {
            ValueCheck::AllValued { writes } => {
                self.note_every_leg_valued(currency, writes)?;
                Ok(Vec::new())
            }
            ValueCheck::Missing(legs) => Ok(legs),
        }
    }

    /// [`Ledger::missing_legs`] without noting the answer: it only reads, so a report runs it
    /// on a second connection while it matches the transfers on this one, and notes an
    /// [`ValueCheck::AllValued`] afterwards ([`Ledger::note_every_leg_valued`]).
    pub fn value_check(&self, currency: &str) -> Result<ValueCheck, LedgerError> {
        let (checked, low, writes): (Option<String>, Option<i64>, i64) =
            self.conn.query_row("SELECT currency, low_ms, writes FROM value_changes WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        let unvalued = match (checked.as_deref() == Some(currency), low) {
            (true, None) => false,
            (true, Some(from_ms)) => {
                // From the first event (a first import) the merge of all legs and values is
                // faster than a look-up per leg.
                let first_ms: Option<i64> = self.conn.query_row("SELECT min(time_ms) FROM events", [], |r| r.get(0))?;
                if first_ms.is_some_and(|first| from_ms > first) {
                    self.any_leg_unvalued_from(currency, from_ms)?
                } else {
                    self.any_leg_unvalued(currency)?
                }
            }
            (false, _) => self.any_leg_unvalued(currency)?,
        };
        if !unvalued {
            return Ok(ValueCheck::AllValued { writes });
        }
        let mut stmt = self.conn.prepare(
            "SELECT e.id, a.label, e.kind, e.time_ms, l.asset, l.amount, l.role
             FROM legs l JOIN events e ON e.id = l.event_id JOIN accounts a ON a.id = e.account_id
             WHERE l.asset <> ?1
               AND NOT EXISTS (SELECT 1 FROM leg_values v WHERE v.event_id = l.event_id AND v.seq = l.seq AND v.currency = ?1)
             ORDER BY e.time_ms, e.id, l.seq",
        )?;
        let mut rows = stmt.query([currency])?;
        let mut missing = Vec::new();
        while let Some(row) = rows.next()? {
            let amount: String = row.get(5)?;
            missing.push(MissingLeg {
                event: row.get(0)?,
                account: row.get(1)?,
                kind: row.get(2)?,
                time_ms: row.get(3)?,
                asset: row.get(4)?,
                amount: decimal(&amount, "leg amount")?,
                role: row.get(6)?,
            });
        }
        Ok(ValueCheck::Missing(missing))
    }

    /// How many writes that may leave a leg without a value were noted so far
    /// (`value_changes.writes`): read before a walk over the legs, handed back to
    /// [`Ledger::note_every_leg_valued`] after it.
    pub fn value_writes(&self) -> Result<i64, LedgerError> {
        Ok(self.conn.query_row("SELECT writes FROM value_changes WHERE id = 1", [], |r| r.get(0))?)
    }

    /// Records that every leg has a value in `currency` (the next check reads nothing), but only
    /// if no write was noted since `writes` was read: another process may have imported
    /// meanwhile, at a time after the mark, without lowering it, and then the next check reads
    /// again.
    pub fn note_every_leg_valued(&self, currency: &str, writes: i64) -> Result<(), LedgerError> {
        self.conn.execute(
            "UPDATE value_changes SET currency = ?1, low_ms = NULL WHERE id = 1 AND writes = ?2",
            params![currency, writes],
        )?;
        Ok(())
    }

    /// Whether a leg of an event at or after `from_ms` has no value in `currency`.
    fn any_leg_unvalued_from(&self, currency: &str, from_ms: i64) -> Result<bool, LedgerError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM events e INDEXED BY events_by_time JOIN legs l ON l.event_id = e.id
             WHERE e.time_ms >= ?2 AND l.asset <> ?1
               AND NOT EXISTS (SELECT 1 FROM leg_values v WHERE v.event_id = l.event_id AND v.seq = l.seq AND v.currency = ?1))",
            params![currency, from_ms],
            |r| r.get(0),
        )?)
    }

    /// Whether any leg has no value in `currency`: the legs and the values read side by side in
    /// their common key order, (event, seq), with no look-up per leg — every report asks this of
    /// all history, and the answer is nearly always no.
    fn any_leg_unvalued(&self, currency: &str) -> Result<bool, LedgerError> {
        let mut legs = self.conn.prepare("SELECT event_id, seq FROM legs WHERE asset <> ?1 ORDER BY event_id, seq")?;
        let mut values =
            self.conn.prepare("SELECT event_id, seq FROM leg_values WHERE currency = ?1 ORDER BY event_id, seq")?;
        let mut legs = legs.query([currency])?;
        let mut values = values.query([currency])?;
        let mut value: Option<(i64, i64)> = None;
        while let Some(row) = legs.next()? {
            let leg: (i64, i64) = (row.get(0)?, row.get(1)?);
            // Skip values of legs before this one (a value whose leg is gone counts for nothing).
            while value.is_none_or(|v| v < leg) {
                match values.next()? {
                    Some(row) => value = Some((row.get(0)?, row.get(1)?)),
                    None => return Ok(true),
                }
            }
            if value != Some(leg) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use cointally_exchanges::{EventKind, Leg, NewEvent};
    use rust_decimal::Decimal;

    use super::*;
    use crate::ledger::Written;

    /// Buys of one BTC for ten ETH on these days of January 2025, in this order: each one's
    /// time (ms) and id (two legs to value: neither is in the reporting currency).
    fn trades_on(ledger: &mut Ledger, account: i64, days: impl IntoIterator<Item = u32>) -> Vec<(i64, i64)> {
        let mut writer = ledger.writer().unwrap();
        let mut ids = Vec::new();
        for (i, day) in days.into_iter().enumerate() {
            let t = Utc.with_ymd_and_hms(2025, 1, day, 0, 0, 0).unwrap();
            let legs = vec![Leg::sent("ETH", Decimal::TEN), Leg::received("BTC", Decimal::ONE)];
            let event = NewEvent::new(format!("e{i}"), t, EventKind::Trade, legs);
            let (Written::New(id) | Written::Existing(id)) = writer.event(account, "test", &event, &[]).unwrap();
            ids.push((t.timestamp_millis(), id));
        }
        writer.commit().unwrap();
        ids
    }

    /// A value of one (its source `test`).
    fn value(event_id: i64, seq: i64) -> LegValue {
        LegValue { event_id, seq, price: Decimal::ONE, value: Decimal::ONE, source: "test".into(), path: String::new() }
    }

    #[test]
    fn a_page_of_values_is_stored_only_if_no_event_was_removed_since_it_was_read() {
        let (_dir, mut ledger, account) = crate::ledger::test_ledger();
        let trades = trades_on(&mut ledger, account, [1, 2, 3]);
        let page =
            |trades: &[(i64, i64)]| trades.iter().flat_map(|&(_, id)| [value(id, 0), value(id, 1)]).collect::<Vec<_>>();
        let removals = ledger.event_removals().unwrap();
        assert_eq!(ledger.store_page_values("USD", &page(&trades[..1]), trades[0].0, removals).unwrap(), 2);
        assert!(crate::ledger::foreign_keys_checked(&ledger.conn));

        // Another command removes an event of the next page after it was read: none of that
        // page's values is stored, and the error says to run again.
        ledger.conn.execute("DELETE FROM events WHERE id = ?1", [trades[2].1]).unwrap();
        assert_eq!(ledger.event_removals().unwrap(), removals + 1);
        let stale = ledger.store_page_values("USD", &page(&trades[1..]), trades[1].0, removals);
        assert!(matches!(stale, Err(LedgerError::EventsRemoved)), "{stale:?}");
        assert!(stale.unwrap_err().to_string().contains("run it again"));
        assert_eq!(ledger.leg_values("USD").unwrap().len(), 2);
        assert!(crate::ledger::foreign_keys_checked(&ledger.conn), "on again after the refusal");

        // Read again after the removal: stored, and every value names its event.
        assert_eq!(ledger.store_page_values("USD", &page(&trades[1..2]), trades[1].0, removals + 1).unwrap(), 2);
        let dangling = crate::ledger::dangling_references(&ledger.conn);
        assert_eq!((ledger.leg_values("USD").unwrap().len(), dangling), (4, 0));
    }

    #[test]
    fn unvalued_legs_are_found_wherever_they_are_and_stray_values_count_for_nothing() {
        let (_dir, mut ledger, account) = crate::ledger::test_ledger();
        let ids: Vec<i64> = trades_on(&mut ledger, account, [3, 1, 2]).into_iter().map(|(_, id)| id).collect();
        let all: Vec<(i64, i64)> = ids.iter().flat_map(|&id| [(id, 0), (id, 1)]).collect();
        // Leave out each leg in turn (first, middle, last of the key order): found, and only it.
        for skipped in 0..all.len() {
            ledger.clear_leg_values("USD").unwrap();
            let mut values: Vec<LegValue> =
                all.iter().enumerate().filter(|(i, _)| *i != skipped).map(|(_, &(e, s))| value(e, s)).collect();
            // A value with no leg behind it, and one in another currency, change nothing.
            values.push(value(all[skipped].0, 7));
            ledger.store_leg_values("USD", &values).unwrap();
            ledger.store_leg_values("EUR", &[value(all[skipped].0, all[skipped].1)]).unwrap();
            let missing = ledger.missing_legs("USD").unwrap();
            assert_eq!(missing.len(), 1, "{skipped}");
            assert_eq!(missing[0].event, all[skipped].0);
        }
        ledger.store_leg_values("USD", &all.iter().map(|&(e, s)| value(e, s)).collect::<Vec<_>>()).unwrap();
        assert!(ledger.missing_legs("USD").unwrap().is_empty());
        // The loop valued each leg once in EUR: all of them; with those gone, none.
        assert!(ledger.missing_legs("EUR").unwrap().is_empty());
        ledger.clear_leg_values("EUR").unwrap();
        assert_eq!(ledger.missing_legs("EUR").unwrap().len(), all.len());
    }

    /// The events [`Ledger::for_each_event_to_value`] hands over, copied, and the key it returns,
    /// read as a run reads: looking values up only when the ledger has any.
    fn page_to_value(
        ledger: &Ledger,
        after: Option<(i64, i64)>,
        limit: usize,
    ) -> (Vec<PricingEvent>, Option<(i64, i64)>) {
        let mut page = Vec::new();
        let stored = ledger.any_leg_value().unwrap();
        let last = ledger.for_each_event_to_value("USD", after, limit, stored, |e| page.push(e.clone())).unwrap();
        if !stored {
            // Looking values up anyway reads the same.
            let mut looked = Vec::new();
            let again = ledger.for_each_event_to_value("USD", after, limit, true, |e| looked.push(e.clone())).unwrap();
            assert_eq!((&looked, again), (&page, last));
        }
        (page, last)
    }

    /// Pages skip events whose legs all have a value (wherever they fall: first, between, last
    /// of a page), keep every leg of the others, and together hold each such event once.
    #[test]
    fn pages_to_value_hold_every_event_with_an_unvalued_leg_once_in_time_order() {
        let (_dir, mut ledger, account) = crate::ledger::test_ledger();
        // Inserted out of time order: the pages follow time, not ids.
        let mut ids = trades_on(&mut ledger, account, (0..9u32).map(|i| 1 + (i * 5) % 9));
        ids.sort();
        // Fully valued: the first, two in the middle and the last in time; one leg of a third.
        let full = [0, 3, 4, 8];
        let mut values: Vec<LegValue> = full.iter().flat_map(|&i| [value(ids[i].1, 0), value(ids[i].1, 1)]).collect();
        values.push(value(ids[5].1, 1));
        ledger.store_leg_values("USD", &values).unwrap();
        let wanted: Vec<i64> = (0..9).filter(|i| !full.contains(i)).map(|i| ids[i].1).collect();
        for limit in 1..=6 {
            let (mut seen, mut after) = (Vec::new(), None);
            loop {
                let (page, last) = page_to_value(&ledger, after, limit);
                let Some(last) = last else { break };
                assert!(!page.is_empty() && page.len() <= limit, "{limit}: {page:?}");
                assert_eq!(page.last().map(|e| (e.time_ms, e.id)), Some(last));
                after = Some(last);
                for event in page {
                    assert_eq!(event.legs.iter().map(|l| l.seq).collect::<Vec<_>>(), [0, 1]);
                    let valued = event.legs.iter().map(|l| l.valued).collect::<Vec<_>>();
                    assert_eq!(valued, [false, event.id == ids[5].1], "{limit}: {}", event.id);
                    seen.push(event.id);
                }
            }
            assert_eq!(seen, wanted, "pages of {limit}");
        }
    }

    #[test]
    fn a_check_that_found_none_is_kept_and_every_write_that_could_unvalue_a_leg_reopens_it() {
        let (_dir, mut ledger, account) = crate::ledger::test_ledger();
        let add = |ledger: &mut Ledger, name: &str, day: u32| {
            let mut writer = ledger.writer().unwrap();
            let t = Utc.with_ymd_and_hms(2025, 1, day, 0, 0, 0).unwrap();
            let legs = vec![Leg::sent("ETH", Decimal::TEN), Leg::received("BTC", Decimal::ONE)];
            let event = NewEvent::new(name, t, EventKind::Trade, legs);
            let (Written::New(id) | Written::Existing(id)) = writer.event(account, "test", &event, &[]).unwrap();
            writer.commit().unwrap();
            id
        };
        let value = |ledger: &mut Ledger, event_id| {
            ledger.store_leg_values("USD", &crate::ledger::ten_each(event_id, 2)).unwrap();
        };
        let mark = |ledger: &Ledger| -> (Option<String>, Option<i64>) {
            ledger
                .conn
                .query_row("SELECT currency, low_ms FROM value_changes", [], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
        };
        let writes = |ledger: &Ledger| -> i64 {
            ledger.conn.query_row("SELECT writes FROM value_changes", [], |r| r.get(0)).unwrap()
        };
        let (a, b) = (add(&mut ledger, "a", 10), add(&mut ledger, "b", 20));
        value(&mut ledger, a);
        value(&mut ledger, b);
        assert_eq!(mark(&ledger).0, None, "never checked: all of history is read");
        assert!(ledger.missing_legs("USD").unwrap().is_empty());
        assert_eq!(mark(&ledger), (Some("USD".into()), None));

        // The kept answer is used: a leg slipped in behind the writer's back is not looked for.
        ledger.conn.execute("INSERT INTO legs VALUES (?1, 5, 'fee', 'BTC', '1')", [a]).unwrap();
        assert!(ledger.missing_legs("USD").unwrap().is_empty());
        ledger.conn.execute("DELETE FROM legs WHERE event_id = ?1 AND seq = 5", [a]).unwrap();

        // Every noted write counts, also one after the mark that leaves it where it is: a check
        // clears the mark only if the count did not move while it read.
        let later = add(&mut ledger, "later", 25);
        let (low, count) = (mark(&ledger).1, writes(&ledger));
        let latest = add(&mut ledger, "latest", 28);
        assert_eq!((mark(&ledger).1, writes(&ledger)), (low, count + 1));
        value(&mut ledger, later);
        value(&mut ledger, latest);
        assert!(ledger.missing_legs("USD").unwrap().is_empty());

        // A new event before every other, without a value: found.
        let early = add(&mut ledger, "early", 1);
        assert_eq!(ledger.missing_legs("USD").unwrap().len(), 2);
        value(&mut ledger, early);
        assert!(ledger.missing_legs("USD").unwrap().is_empty());

        // A value deleted: found.
        ledger.conn.execute("DELETE FROM leg_values WHERE event_id = ?1 AND seq = 1", [a]).unwrap();
        let missing = ledger.missing_legs("USD").unwrap();
        assert_eq!((missing.len(), missing[0].event), (1, a));
        value(&mut ledger, a);
        assert!(ledger.missing_legs("USD").unwrap().is_empty());

        // A leg changed: its event's legs are read again (all valued: the mark is cleared).
        ledger.conn.execute("UPDATE legs SET amount = '2' WHERE event_id = ?1 AND seq = 1", [b]).unwrap();
        assert!(mark(&ledger).1.is_some());
        assert!(ledger.missing_legs("USD").unwrap().is_empty());
        assert_eq!(mark(&ledger), (Some("USD".into()), None));

        // An unvalued event moved before the time noted when it was written: still found.
        let late = add(&mut ledger, "late", 30);
        ledger.conn.execute("UPDATE events SET time_ms = time_ms - 40 * 86400000 WHERE id = ?1", [late]).unwrap();
        assert_eq!(ledger.missing_legs("USD").unwrap().len(), 2);
        assert_eq!(mark(&ledger).0.as_deref(), Some("USD"), "an answer of some is not kept");
        value(&mut ledger, late);
        assert!(ledger.missing_legs("USD").unwrap().is_empty());

        // A value's amount changed is still a value; a value moved to another currency is not.
        ledger.conn.execute("UPDATE leg_values SET value = '11' WHERE event_id = ?1 AND seq = 0", [a]).unwrap();
        assert_eq!(mark(&ledger), (Some("USD".into()), None));
        ledger.conn.execute("UPDATE leg_values SET currency = 'GBP' WHERE event_id = ?1 AND seq = 0", [a]).unwrap();
        assert_eq!(ledger.missing_legs("USD").unwrap().len(), 1);
        ledger.conn.execute("UPDATE leg_values SET currency = 'USD' WHERE event_id = ?1 AND seq = 0", [a]).unwrap();
        assert!(ledger.missing_legs("USD").unwrap().is_empty());

        // Another currency is checked over all of history.
        assert_eq!(ledger.missing_legs("EUR").unwrap().len(), 12);
    }

    #[test]
    fn a_pricing_run_that_values_every_leg_keeps_that_answer_and_one_that_misses_a_leg_does_not() {
        use crate::pricing::{NoProgress, Options, run};
        let (_dir, mut ledger, account) = crate::ledger::test_ledger();
        let add = |ledger: &mut Ledger, name: &str, day: u32, legs: Vec<Leg>| {
            let mut writer = ledger.writer().unwrap();
            let t = Utc.with_ymd_and_hms(2025, 1, day, 0, 0, 0).unwrap();
            writer.event(account, "test", &NewEvent::new(name, t, EventKind::Trade, legs), &[]).unwrap();
            writer.commit().unwrap();
        };
        let mark = |ledger: &Ledger| -> (Option<String>, Option<i64>) {
            ledger
                .conn
                .query_row("SELECT currency, low_ms FROM value_changes", [], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
        };
        let offline = Options { offline: true, ..Options::default() };
        let usd_for_btc = || vec![Leg::sent("USD", Decimal::TEN), Leg::received("BTC", Decimal::ONE)];
        add(&mut ledger, "a", 10, usd_for_btc());
        add(&mut ledger, "b", 20, usd_for_btc());
        assert_eq!(mark(&ledger).0, None);
        // Both trades value themselves (BTC from the USD side; the USD legs are worth their
        // amount without a stored value): none left.
        let summary = run(&mut ledger, &[], &offline, 0, &NoProgress).unwrap();
        assert_eq!((summary.valued, summary.missing), (2, 0));
        assert_eq!(mark(&ledger), (Some("USD".into()), None));
        // The kept answer is what the next check uses: a leg slipped in behind the writer's
        // back is not looked for (a real write would have lowered the mark).
        let a: i64 = ledger.conn.query_row("SELECT id FROM events WHERE external_id = 'a'", [], |r| r.get(0)).unwrap();
        ledger.conn.execute("INSERT INTO legs VALUES (?1, 5, 'fee', 'ZZZ', '1')", [a]).unwrap();
        assert!(ledger.missing_legs("USD").unwrap().is_empty());
        ledger.conn.execute("DELETE FROM legs WHERE event_id = ?1 AND seq = 5", [a]).unwrap();

        // A run that leaves a leg without a value (no market for ZZZ offline) keeps the mark.
        add(&mut ledger, "c", 25, vec![Leg::received("ZZZ", Decimal::ONE)]);
        let low = mark(&ledger).1;
        assert!(low.is_some());
        let summary = run(&mut ledger, &[], &offline, 0, &NoProgress).unwrap();
        assert_eq!(summary.missing, 1);
        assert_eq!(mark(&ledger).1, low);
        assert_eq!(ledger.missing_legs("USD").unwrap().len(), 1);

        // A write noted while the run read (here: before it noted its answer) keeps the mark too.
        let writes = ledger.value_writes().unwrap();
        ledger.conn.execute("DELETE FROM leg_values WHERE event_id = ?1 AND seq = 1", [a]).unwrap();
        ledger.note_every_leg_valued("USD", writes).unwrap();
        assert!(mark(&ledger).1.is_some(), "a write since the count was read: the answer is not kept");
    }

    /// A leg in the reporting currency has its amount as its value with nothing stored: the
    /// pages to value, the missing legs, the values, the pass and the exports all say so; in
    /// another currency it is a leg like any other.
    #[test]
    fn a_leg_in_the_reporting_currency_is_worth_its_amount_without_a_stored_value() {
        let (_dir, mut ledger, account) = crate::ledger::test_ledger();
        let mut writer = ledger.writer().unwrap();
        let t = Utc.with_ymd_and_hms(2025, 1, 5, 0, 0, 0).unwrap();
        let legs = vec![Leg::sent("USD", "250.50".parse().unwrap()), Leg::received("BTC", Decimal::ONE)];
        let (Written::New(id) | Written::Existing(id)) =
            writer.event(account, "test", &NewEvent::new("buy", t, EventKind::Trade, legs), &[]).unwrap();
        writer.commit().unwrap();
        let stored: i64 = ledger.conn.query_row("SELECT count(*) FROM leg_values", [], |r| r.get(0)).unwrap();
        assert_eq!(stored, 0);

        let (page, _) = page_to_value(&ledger, None, 10);
        assert_eq!(page[0].legs.iter().map(|l| l.valued).collect::<Vec<_>>(), [true, false]);
        let missing = ledger.missing_legs("USD").unwrap();
        assert_eq!(missing.iter().map(|m| m.asset.as_str()).collect::<Vec<_>>(), ["BTC"]);
        let values = ledger.leg_values("USD").unwrap();
        let usd = &values[&(id, 0)];
        let expected = ("250.5".parse::<Decimal>().unwrap(), Decimal::ONE, CURRENCY_SOURCE);
        assert_eq!((usd.value, usd.price, usd.source.as_str()), expected);
        assert!(!values.contains_key(&(id, 1)));

        let mut pass = Vec::new();
        ledger
            .try_for_each_tax_event_between("USD", i64::MIN, i64::MAX, |e| {
                pass.extend(e.legs.iter().map(|l| l.value));
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(pass, [Some("250.5".parse().unwrap()), None]);
        let mut exported = Vec::new();
        ledger
            .for_each_valued_event("USD", i64::MAX, |_, v| {
                exported.extend_from_slice(v);
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(exported, pass);

        // In EUR the USD leg is one to value like the BTC one.
        assert_eq!(ledger.missing_legs("EUR").unwrap().len(), 2);
        assert!(ledger.leg_values("EUR").unwrap().is_empty());
    }
}
