//! The events of the latest year a report read, kept whole (schema/0027_tax_event_cache.sql),
//! so that the next report of that year reads them in one ordered range of rows instead of
//! joining events, legs and values again (issue #21).
//!
//! A pass asks [`Ledger::for_each_pass_event`] for its events: the part the copy holds comes
//! from the copy, the rest from the tables, and what it read from the tables from the start of
//! its last year on comes back as an [`EventCapture`], which [`Ledger::keep_pass_events`]
//! stores once the pass is done. The copy is cut by the same mark and in the same transaction
//! as the year-end snapshots are dropped ([`Ledger::invalidate_snapshots`]), and is read only
//! before that mark as it stands, so it never holds back a write.

use std::ops::ControlFlow;

use cointally_exchanges::LegRole;
use rusqlite::{Connection, OptionalExtension, params};

use super::bytes::{Reader, put_decimal, put_decimal_opt, put_i64, put_len, put_text};
use super::tax::{TaxEvent, TaxLeg};
use super::{Ledger, LedgerError};

/// The span of events the copy holds: currency, first time (inclusive), end (exclusive).
type Span = (String, i64, i64);

/// What a pass read from the tables, encoded for the copy: every event at or after `keep_from`
/// that it did not read from the copy.
#[derive(Debug)]
pub struct EventCapture {
    currency: String,
    /// The start of the span to keep.
    keep_from: i64,
    /// Where the read from the tables began: the copy gave the events before (from `keep_from`).
    tables_from: i64,
    /// The end of the read.
    until: i64,
    /// The span the copy had when the read began: the copy is replaced only if it still has it.
    seen: Option<Span>,
    /// How many times the mark had been cleared when the read began (schema/0028): nor is the
    /// copy replaced if another report cleared it since.
    cleared: i64,
    /// The events' bodies one after another, and each one's (time, id, end in `bodies`).
    bodies: Vec<u8>,
    rows: Vec<(i64, i64, usize)>,
}

impl EventCapture {
    /// Events captured.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether none was captured.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl Ledger {
    /// Calls `each` with every event from `from_ms` to `until_ms` (exclusive) as
    /// [`Ledger::try_for_each_tax_event_between`] reads them, taking those the copy holds from
    /// the copy. With `keep_from`, the events at or after it read from the tables come back
    /// encoded, for [`Ledger::keep_pass_events`] (`None` when `each` stopped the read), with
    /// how many events came from the copy.
    pub fn for_each_pass_event(
        &self,
        currency: &str,
        from_ms: i64,
        until_ms: i64,
        keep_from: Option<i64>,
        mut each: impl FnMut(&TaxEvent) -> ControlFlow<()>,
    ) -> Result<(u64, Option<EventCapture>), LedgerError> {
        // One read transaction: the span, the mark, the copy and the tables as of one moment.
        let _read = ReadTransaction::begin(&self.conn)?;
        let seen = span(&self.conn)?;
        let cleared = super::snapshots::marks_cleared(&self.conn)?;
        let low: Option<i64> = self
            .conn
            .query_row("SELECT low_ms FROM input_changes WHERE id = 1", [], |r| r.get(0))
            .optional()?
            .flatten();
        let copy_until = match &seen {
            Some((c, from, until)) if c == currency && *from <= from_ms => {
                let end = (*until).min(low.unwrap_or(i64::MAX)).min(until_ms);
                (from_ms < end).then_some(end)
            }
            _ => None,
        };
        let mut stopped = false;
        let mut copied = 0u64;
        if let Some(end) = copy_until {
            let mut stmt = self.conn.prepare_cached(
                "SELECT time_ms, id, body FROM tax_event_cache WHERE time_ms >= ?1 AND time_ms < ?2 ORDER BY time_ms, id",
            )?;
            let mut rows = stmt.query(params![from_ms, end])?;
            let mut event = TaxEvent::buffer();
            while let Some(row) = rows.next()? {
                let (time_ms, id) = (row.get(0)?, row.get(1)?);
                let body = row
                    .get_ref(2)?
                    .as_blob()
                    .map_err(|_| LedgerError::Corrupt(format!("the kept copy of event {id} is not a blob")))?;
                decode(body, time_ms, id, &mut event)?;
                copied += 1;
                if each(&event).is_break() {
                    stopped = true;
                    break;
                }
            }
        }
        let tables_from = copy_until.unwrap_or(from_ms);
        // Only what this read covers can be kept: never from before its start.
        let mut capture = keep_from.map(|keep_from| EventCapture {
            currency: currency.to_owned(),
            keep_from: keep_from.max(from_ms),
            tables_from,
            until: until_ms,
            seen,
            cleared,
            bodies: Vec::new(),
            rows: Vec::new(),
        });
        if !stopped && tables_from < until_ms {
            self.try_for_each_tax_event_between(currency, tables_from, until_ms, |event| {
                if let Some(capture) = capture.as_mut().filter(|c| event.time_ms >= c.keep_from) {
                    encode(event, &mut capture.bodies);
                    capture.rows.push((event.time_ms, event.id, capture.bodies.len()));
                }
                let flow = each(event);
                stopped = flow.is_break();
                flow
            })?;
        }
        Ok((copied, if stopped { None } else { capture }))
    }

    /// Keeps the events of `capture` as the copy: from its `keep_from` to the end of its read,
    /// the part it took from the copy kept, the rest replaced. Nothing is stored if anything
    /// that can change an event before that end was written since the read began (the mark is
    /// set, or another report cleared the mark), or the copy changed meanwhile; returns whether it
    /// was stored.
    pub fn keep_pass_events(&mut self, capture: &EventCapture) -> Result<bool, LedgerError> {
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let low: Option<i64> =
            tx.query_row("SELECT low_ms FROM input_changes WHERE id = 1", [], |r| r.get(0)).optional()?.flatten();
        if low.is_some_and(|low| low < capture.until)
            || span(&tx)? != capture.seen
            || super::snapshots::marks_cleared(&tx)? != capture.cleared
        {
            return Ok(false);
        }
        // Read whole from the copy, which covers exactly what would be kept: nothing to write
        // (a report of the same year again, nothing written since).
        let same = Some((capture.currency.clone(), capture.keep_from, capture.until));
        if capture.rows.is_empty() && capture.tables_from >= capture.until && capture.seen == same {
            return Ok(true);
        }
        // What the read took from the copy (from `keep_from` on) stays; everything else goes.
        let (kept_from, kept_until) =
            if capture.tables_from > capture.keep_from { (capture.keep_from, capture.tables_from) } else { (0, 0) };
        tx.execute(
            "DELETE FROM tax_event_cache WHERE NOT (time_ms >= ?1 AND time_ms < ?2)",
            params![kept_from, kept_until],
        )?;
        {
            let mut insert = tx.prepare("INSERT INTO tax_event_cache (time_ms, id, body) VALUES (?1, ?2, ?3)")?;
            let mut start = 0;
            for &(time_ms, id, end) in &capture.rows {
                insert.execute(params![time_ms, id, &capture.bodies[start..end]])?;
                start = end;
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO tax_event_cache_span (id, currency, from_ms, until_ms) VALUES (1, ?1, ?2, ?3)",
            params![capture.currency, capture.keep_from, capture.until],
        )?;
        tx.commit()?;
        Ok(true)
    }
}

/// Cuts the copy at `low` (the earliest time written since the last cut; `None`: the mark
/// itself was gone, nothing is trusted). Called in the transaction that clears the mark.
pub(super) fn cut(conn: &Connection, low: Option<i64>) -> Result<(), LedgerError> {
    match low {
        Some(low) => {
            conn.execute("DELETE FROM tax_event_cache WHERE time_ms >= ?1", [low])?;
            conn.execute("UPDATE tax_event_cache_span SET until_ms = min(until_ms, ?1) WHERE id = 1", [low])?;
            if conn.execute("DELETE FROM tax_event_cache_span WHERE until_ms <= from_ms", [])? > 0 {
                conn.execute("DELETE FROM tax_event_cache", [])?;
            }
        }
        None => {
            conn.execute("DELETE FROM tax_event_cache_span", [])?;
            conn.execute("DELETE FROM tax_event_cache", [])?;
        }
    }
    Ok(())
}

fn span(conn: &Connection) -> Result<Option<Span>, LedgerError> {
    Ok(conn
        .query_row("SELECT currency, from_ms, until_ms FROM tax_event_cache_span WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?)
}

/// A read transaction for the length of a scope, unless the connection is in one already.
struct ReadTransaction<'c>(Option<&'c Connection>);

impl<'c> ReadTransaction<'c> {
    fn begin(conn: &'c Connection) -> Result<ReadTransaction<'c>, LedgerError> {
        if !conn.is_autocommit() {
            return Ok(ReadTransaction(None));
        }
        conn.execute_batch("BEGIN DEFERRED")?;
        Ok(ReadTransaction(Some(conn)))
    }
}

impl Drop for ReadTransaction<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.0 {
            // Only reads happened: ending it cannot lose anything.
            let _ = conn.execute_batch("COMMIT");
        }
    }
}

/// Appends an event's body: account (i64), kind (name), basis (flag, 16 bytes), legs (count
/// u32; each: seq i64, role u8, asset name, amount 16 bytes, value flag and 16 bytes). A name
/// is its length (u32) and its bytes; integers little-endian, decimals as
/// `Decimal::serialize`.
fn encode(event: &TaxEvent, out: &mut Vec<u8>) {
    put_i64(out, event.account_id);
    put_text(out, event.kind.as_str());
    put_decimal_opt(out, event.basis);
    put_len(out, event.legs.len());
    for leg in &event.legs {
        put_i64(out, leg.seq);
        out.push(match leg.role {
            LegRole::Sent => 0,
            LegRole::Received => 1,
            LegRole::Fee => 2,
        });
        put_text(out, &leg.asset);
        put_decimal(out, leg.amount);
        put_decimal_opt(out, leg.value);
    }
}

/// Reads a body written by [`encode`] into `event` (its legs' strings reused); a body that
/// does not read whole is an error, never a panic.
fn decode(body: &[u8], time_ms: i64, id: i64, event: &mut TaxEvent) -> Result<(), LedgerError> {
    let corrupt = || {
        LedgerError::Corrupt(format!(
            "the kept copy of event {id} does not read (run `cointally report --from-scratch`)"
        ))
    };
    let mut r = Reader(body);
    event.id = id;
    event.time_ms = time_ms;
    event.account_id = r.i64().ok_or_else(corrupt)?;
    event.kind = r.text().ok_or_else(corrupt)?.parse().map_err(|_| corrupt())?;
    event.basis = r.decimal_opt().ok_or_else(corrupt)?;
    let count = r.len().ok_or_else(corrupt)?;
    event.legs.truncate(count);
    for i in 0..count {
        let seq = r.i64().ok_or_else(corrupt)?;
        let role = match r.byte().ok_or_else(corrupt)? {
            0 => LegRole::Sent,
            1 => LegRole::Received,
            2 => LegRole::Fee,
            _ => return Err(corrupt()),
        };
        let asset = r.text().ok_or_else(corrupt)?;
        let amount = r.decimal().ok_or_else(corrupt)?;
        let value = r.decimal_opt().ok_or_else(corrupt)?;
        match event.legs.get_mut(i) {
            Some(leg) => leg.set(seq, role, asset, amount, value),
            None => event.legs.push(TaxLeg { seq, role, asset: asset.to_owned(), amount, value }),
        }
    }
    if !r.is_empty() {
        return Err(corrupt());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use cointally_exchanges::EventKind;

    use rust_decimal::Decimal;

    use super::*;

    fn event() -> TaxEvent {
        TaxEvent {
            id: 7,
            account_id: -3,
            kind: EventKind::Trade,
            time_ms: 1_700_000_000_000,
            basis: Some("12.50".parse().unwrap()),
            legs: vec![
                TaxLeg {
                    seq: 0,
                    role: LegRole::Sent,
                    asset: "USD".into(),
                    amount: "-100.000000000000000001".parse().unwrap(),
                    value: Some("100".parse().unwrap()),
                },
                TaxLeg { seq: 2, role: LegRole::Fee, asset: "ÉTH".into(), amount: Decimal::MAX, value: None },
            ],
        }
    }

    #[test]
    fn an_event_reads_back_as_it_was_written_into_a_used_buffer() {
        let mut body = Vec::new();
        encode(&event(), &mut body);
        // A buffer that held a longer event: its legs past the new count go.
        let mut into = event();
        into.legs.push(into.legs[0].clone());
        into.kind = EventKind::Unknown;
        into.basis = None;
        decode(&body, 1_700_000_000_000, 7, &mut into).unwrap();
        assert_eq!(into, event());
        // Scale and sign survive exactly (not only the value).
        assert_eq!(into.legs[0].amount.to_string(), "-100.000000000000000001");
        assert_eq!(into.basis.map(|b| b.to_string()), Some("12.50".into()));
    }

    /// 2025-01-01T00:00:00Z and 2026-01-01T00:00:00Z.
    const Y2025: i64 = 1_735_689_600_000;
    const Y2026: i64 = 1_767_225_600_000;
    const DAY: i64 = 86_400_000;

    fn add(ledger: &mut Ledger, account: i64, name: &str, time_ms: i64) -> i64 {
        use cointally_exchanges::time::from_millis;
        use cointally_exchanges::{Leg, NewEvent};
        let legs = vec![Leg::sent("USD", Decimal::TEN), Leg::received("BTC", Decimal::ONE)];
        let mut writer = ledger.writer().unwrap();
        let written =
            writer.event(account, "test", &NewEvent::new(name, from_millis(time_ms), EventKind::Trade, legs), &[]);
        let (crate::ledger::Written::New(id) | crate::ledger::Written::Existing(id)) = written.unwrap();
        writer.commit().unwrap();
        ledger.store_leg_values("USD", &crate::ledger::ten_each(id, 2)).unwrap();
        id
    }

    /// The events of 2025 as the tables give them, and as a pass gets them (with how many came
    /// from the copy), capturing from the start of 2025.
    fn both_ways(ledger: &Ledger, currency: &str) -> (Vec<TaxEvent>, Vec<TaxEvent>, u64, Option<EventCapture>) {
        let mut tables = Vec::new();
        ledger
            .try_for_each_tax_event_between(currency, Y2025, Y2026, |e| {
                tables.push(e.clone());
                ControlFlow::Continue(())
            })
            .unwrap();
        let mut pass = Vec::new();
        let (copied, capture) = ledger
            .for_each_pass_event(currency, Y2025, Y2026, Some(Y2025), |e| {
                pass.push(e.clone());
                ControlFlow::Continue(())
            })
            .unwrap();
        (tables, pass, copied, capture)
    }

    #[test]
    fn the_copy_gives_what_the_tables_give_and_is_cut_by_every_write_before_its_end() {
        let (_dir, mut ledger, account) = crate::ledger::test_ledger();
        add(&mut ledger, account, "old", Y2025 - DAY);
        for day in 0..10 {
            add(&mut ledger, account, &format!("e{day}"), Y2025 + day * 30 * DAY);
        }
        ledger.invalidate_snapshots().unwrap();
        // No copy yet: all from the tables, and all captured.
        let (tables, pass, copied, capture) = both_ways(&ledger, "USD");
        assert_eq!((tables.len(), copied), (10, 0));
        assert_eq!(pass, tables);
        let capture = capture.unwrap();
        assert_eq!(capture.len(), 10);
        assert!(ledger.keep_pass_events(&capture).unwrap());
        // Now all from the copy, the same events; nothing new to capture, nothing to write.
        let (tables, pass, copied, capture) = both_ways(&ledger, "USD");
        assert_eq!(copied, 10);
        assert_eq!(pass, tables);
        let capture = capture.unwrap();
        assert!(capture.is_empty());
        assert!(ledger.keep_pass_events(&capture).unwrap());
        assert_eq!(both_ways(&ledger, "USD").2, 10);
        // Another currency is not the copy's.
        assert_eq!(both_ways(&ledger, "EUR").2, 0);

        // A new event in the middle of the year, not yet seen by the invalidation: the copy is
        // read only before it, the rest from the tables.
        let new = add(&mut ledger, account, "new", Y2025 + 100 * DAY);
        let (tables, pass, copied, capture) = both_ways(&ledger, "USD");
        assert_eq!(tables.len(), 11);
        assert_eq!(pass, tables);
        assert_eq!(copied, 4, "the events of days 0, 30, 60 and 90");
        // The mark is set: a read that may lack the write is not kept.
        assert!(!ledger.keep_pass_events(&capture.unwrap()).unwrap());

        // The invalidation cuts the copy there; the next pass keeps the rest again.
        ledger.invalidate_snapshots().unwrap();
        let (tables, pass, copied, capture) = both_ways(&ledger, "USD");
        assert_eq!((pass.len(), copied), (11, 4));
        assert_eq!(pass, tables);
        assert!(ledger.keep_pass_events(&capture.unwrap()).unwrap());
        let (tables, pass, copied, _) = both_ways(&ledger, "USD");
        assert_eq!((copied, pass), (11, tables));

        // A value changed behind the writer's back (a trigger notes it), then a kind override.
        ledger.conn.execute("UPDATE leg_values SET value = '11' WHERE event_id = ?1 AND seq = 1", [new]).unwrap();
        let (tables, pass, copied, _) = both_ways(&ledger, "USD");
        assert_eq!((copied, &pass), (4, &tables));
        assert_eq!(pass[4].legs[1].value, Some("11".parse().unwrap()));
        ledger.invalidate_snapshots().unwrap();
        let capture = both_ways(&ledger, "USD").3.unwrap();
        assert!(ledger.keep_pass_events(&capture).unwrap());
        ledger
            .conn
            .execute(
                "INSERT INTO kind_overrides (account_id, external_id, kind, created_at) VALUES (?1, 'e9', 'gift', '')",
                [account],
            )
            .unwrap();
        let (tables, pass, copied, _) = both_ways(&ledger, "USD");
        assert_eq!((copied, &pass), (10, &tables));
        assert_eq!(pass[10].kind, EventKind::Gift);

        // A read that starts later than where it is asked to keep from keeps from its start.
        ledger.invalidate_snapshots().unwrap();
        let later = Y2025 + 150 * DAY;
        let (_, capture) =
            ledger.for_each_pass_event("USD", later, Y2026, Some(Y2025), |_| ControlFlow::Continue(())).unwrap();
        assert!(ledger.keep_pass_events(&capture.unwrap()).unwrap());
        assert_eq!(span(&ledger.conn).unwrap(), Some(("USD".into(), later, Y2026)));
        let (tables, pass, copied, _) = both_ways(&ledger, "USD");
        assert_eq!((copied, &pass), (0, &tables), "the copy starts after the read's start: not used");

        // The mark gone (an edited file): nothing of the copy is trusted.
        ledger.invalidate_snapshots().unwrap();
        let capture = both_ways(&ledger, "USD").3.unwrap();
        assert!(ledger.keep_pass_events(&capture).unwrap());
        ledger.conn.execute("DELETE FROM input_changes", []).unwrap();
        ledger.invalidate_snapshots().unwrap();
        assert_eq!(both_ways(&ledger, "USD").2, 0);
        let rows: i64 = ledger.conn.query_row("SELECT count(*) FROM tax_event_cache", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 0);
    }

    #[test]
    fn a_damaged_body_is_an_error_not_a_panic() {
        let mut body = Vec::new();
        encode(&event(), &mut body);
        let mut into = event();
        for cut in 0..body.len() {
            assert!(decode(&body[..cut], 0, 7, &mut into).is_err(), "cut at {cut}");
        }
        let mut longer = body.clone();
        longer.push(0);
        assert!(decode(&longer, 0, 7, &mut into).is_err());
        // A scale beyond 28 in the first amount's flags.
        let mut bad = body.clone();
        let amount_at = 8 + 4 + "trade".len() + 17 + 4 + 8 + 1 + 4 + 3;
        bad[amount_at + 2] = 29;
        assert!(decode(&bad, 0, 7, &mut into).is_err());
        for byte in 0..body.len() {
            let mut flipped = body.clone();
            flipped[byte] ^= 0xFF;
            let _ = decode(&flipped, 0, 7, &mut into);
        }
    }
}
