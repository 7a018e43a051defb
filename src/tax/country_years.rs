//! Several tax years of a country (UK, Canada, Australia, Germany) in one pass over history.
//!
//! A country's computation of one year reads the events before that year's
//! `Rules::events_until_ms` and hashes what its inputs hash starts with (country, currency,
//! transfers, settings), then the *events digest* of those events: a chain of one SHA-256 per
//! tax year of the country, as the US engine chains calendar years
//! ([`crate::tax::inputs::EventsDigest`]), so that a pass that starts from a year-end snapshot
//! goes on where the snapshot stopped and reaches the same hash. [`read_years`] reads the
//! events once, up to the last year's end: each event goes into the digest and then to the
//! country's state; at each year's end the country takes its year from the state as it
//! stands. A year of a range is so computed from exactly the events, and hashed over exactly
//! the inputs, that a run of that year alone reads: the same rows, the same `inputs_hash`. A
//! run of one year is a range of one (one way to compute a year).

use std::ops::ControlFlow;
use std::sync::mpsc;

use sha2::{Digest, Sha256};

use crate::ledger::{Ledger, LedgerError, TaxEvent};
use crate::tax::engine::OutOfRange;
use crate::tax::inputs::EventsDigest;
use crate::tax::jurisdiction::Rules;

/// A year of a pass: its number, the instant its events end (excluded), and the hasher that
/// holds what its inputs hash starts with (all but the events).
pub struct YearRead {
    /// The tax year.
    pub year: i32,
    /// The end of the tax year (UTC ms): where a snapshot of its state starts the next year.
    pub end_ms: i64,
    /// Events before this instant (UTC ms) are the year's inputs: the end, or (UK, Canada) 30
    /// days past it.
    pub until_ms: i64,
    /// The year's inputs hash, the events aside.
    pub hasher: Sha256,
}

/// What a year's end hands the country: the year, its inputs hash (hex), the number of
/// events read for it and the events digest at its end.
pub struct YearEnd {
    /// The tax year.
    pub year: i32,
    /// SHA-256 (hex) of the year's inputs.
    pub inputs_hash: String,
    /// Events read for the year (from the first event, a snapshot's included).
    pub events: u64,
    /// The events before the tax year's end: how many, and their digest (hex) — what a
    /// snapshot at the end goes on from.
    pub at_end: (u64, String),
}

/// Where a pass starts reading: the first event, or the end of a year-end snapshot (the events
/// it covered, and their digest to go on from).
pub struct ReadFrom {
    /// Events from this instant (UTC ms, included) are read.
    pub from_ms: i64,
    /// Events behind it.
    pub events: u64,
    /// The digest of those events.
    pub digest: EventsDigest,
}

impl ReadFrom {
    /// From the first event, with a digest linked by the tax years of `rules`.
    pub fn first(rules: impl Rules + Send + 'static) -> ReadFrom {
        ReadFrom { from_ms: i64::MIN, events: 0, digest: tax_year_digest(rules) }
    }
}

/// An empty events digest with one link per tax year of `rules`.
pub fn tax_year_digest(rules: impl Rules + Send + 'static) -> EventsDigest {
    EventsDigest::tax_years(move |ms| rules.tax_year(rules.year_of_ms(ms)).end_ms)
}

/// Events handed from the reading thread to the computing one at a time.
const BATCH: usize = 512;
/// Batches read ahead of the computation at most (memory stays bounded).
const QUEUED: usize = 16;

/// Reads the events of `currency` in time order, once, from `from` up to the end of the last
/// of `years`: each into the events digest and to `process` (which refuses an event out of
/// the figures' bounds), and calls `year_end` with the state at each year's end, in year order.
///
/// Two threads share the work, as in the US pass ([`crate::tax::years`]): this one reads the
/// events from SQLite in batches, the other runs them through the digest and the country's
/// state in the same order (so the state sees exactly the sequence one thread would give it).
pub fn read_years<S: Send>(
    ledger: &Ledger,
    currency: &str,
    mut years: Vec<YearRead>,
    from: ReadFrom,
    state: &mut S,
    process: impl FnMut(&mut S, &TaxEvent) -> Result<(), OutOfRange> + Send,
    year_end: impl FnMut(&mut S, YearEnd) + Send,
) -> Result<(), LedgerError> {
    years.sort_by_key(|y| (y.until_ms, y.year));
    let until = years.iter().map(|y| y.until_ms).max().unwrap_or(i64::MIN);
    let from_ms = from.from_ms;
    let (batches, received) = mpsc::sync_channel::<(Vec<TaxEvent>, usize)>(QUEUED);
    let (spent, refill) = mpsc::channel::<Vec<TaxEvent>>();
    let computer = Computer { years, from, process, year_end };
    let (read, out_of_range) = std::thread::scope(|scope| {
        let computing = scope.spawn(move || computer.run(state, received, spent));
        let mut batch: Vec<TaxEvent> = Vec::with_capacity(BATCH);
        let mut used = 0usize;
        let read = ledger.try_for_each_tax_event_between(currency, from_ms, until, |event| {
            match batch.get_mut(used) {
                Some(slot) => slot.clone_from(event),
                None => batch.push(event.clone()),
            }
            used += 1;
            if used == BATCH {
                let full = std::mem::replace(&mut batch, refill.try_recv().unwrap_or_default());
                // The computing side stopped (an event out of range): nothing more to read.
                if batches.send((full, std::mem::take(&mut used))).is_err() {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        });
        if used > 0 {
            let _ = batches.send((batch, used));
        }
        drop(batches);
        let out_of_range = computing.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (read, out_of_range)
    });
    read?;
    match out_of_range {
        Some(error) => Err(LedgerError::OutOfRange(error.to_string())),
        None => Ok(()),
    }
}

/// The computing side of [`read_years`].
struct Computer<P, E> {
    years: Vec<YearRead>,
    from: ReadFrom,
    process: P,
    year_end: E,
}

impl<P, E> Computer<P, E> {
    /// Runs the batches through the digest and the state, calling each year's end as the
    /// events pass it (and the rest after the last); hands spent buffers back for refilling.
    /// Returns the error of an event out of range (the computation stops there).
    fn run<S>(
        self,
        state: &mut S,
        received: mpsc::Receiver<(Vec<TaxEvent>, usize)>,
        spent: mpsc::Sender<Vec<TaxEvent>>,
    ) -> Option<OutOfRange>
    where
        P: FnMut(&mut S, &TaxEvent) -> Result<(), OutOfRange>,
        E: FnMut(&mut S, YearEnd),
    {
        let Computer { years, from, mut process, mut year_end } = self;
        let ReadFrom { mut events, mut digest, .. } = from;
        let mut next = 0usize;
        // The events and digest at each year's own end, as the read passes it (before its
        // `until_ms` when that looks further).
        let mut at_end: Vec<Option<(u64, String)>> = vec![None; years.len()];
        let mut next_end = 0usize;
        // The digest at an end is taken from a copy: the chain closes its link when the next
        // year's first event comes, as it would had the pass not stopped here.
        let end = |i: usize, digest: &EventsDigest, events: u64, at_end: &mut [Option<(u64, String)>]| {
            let year = &years[i];
            let events_digest = digest.clone().finish_hex();
            let mut hasher = year.hasher.clone();
            hasher.update(b"events ");
            hasher.update(events_digest.as_bytes());
            let at_end = at_end.get_mut(i).and_then(Option::take).unwrap_or((events, events_digest));
            YearEnd { year: year.year, inputs_hash: crate::digest::hex(&hasher.finalize()), events, at_end }
        };
        for (batch, n) in received {
            for event in batch.iter().take(n) {
                while years.get(next_end).is_some_and(|y| event.time_ms >= y.end_ms) {
                    if let Some(slot) = at_end.get_mut(next_end) {
                        *slot = Some((events, digest.clone().finish_hex()));
                    }
                    next_end += 1;
                }
                while years.get(next).is_some_and(|y| event.time_ms >= y.until_ms) {
                    year_end(state, end(next, &digest, events, &mut at_end));
                    next += 1;
                }
                digest.add(event);
                if let Err(error) = process(state, event) {
                    return Some(error);
                }
                events += 1;
            }
            // The reader may have finished: a buffer it will not take again is dropped.
            let _ = spent.send(batch);
        }
        for i in next..years.len() {
            year_end(state, end(i, &digest, events, &mut at_end));
        }
        None
    }
}
