//! Several tax years of a country (UK, Canada, Australia, Germany) in one pass over history.
//!
//! A country's computation of one year reads the events before that year's
//! `Rules::events_until_ms` and hashes them after what its inputs hash starts with (country,
//! currency, transfers, settings). [`read_years`] reads the events once, up to the last year's
//! end: each event goes into the hasher of every year not yet ended and then to the country's
//! state; at each year's end the country takes its year from the state as it stands. A year
//! of a range is so computed from exactly the events, and hashed over exactly the inputs, that
//! a run of that year alone reads: the same rows, the same `inputs_hash`. A run of one year is
//! a range of one (one way to compute a year).

use sha2::{Digest, Sha256};

use crate::ledger::{Ledger, LedgerError, TaxEvent};
use crate::tax::engine::OutOfRange;

/// A year of a pass: its number, the instant its events end (excluded), and the hasher that
/// holds what its inputs hash starts with.
pub struct YearRead {
    /// The tax year.
    pub year: i32,
    /// Events before this instant (UTC ms) are the year's inputs.
    pub until_ms: i64,
    /// The year's inputs hash so far.
    pub hasher: Sha256,
}

/// What a year's end hands the country: the year, its inputs hash (hex) and the number of
/// events read for it.
pub struct YearEnd {
    /// The tax year.
    pub year: i32,
    /// SHA-256 (hex) of the year's inputs.
    pub inputs_hash: String,
    /// Events read for the year.
    pub events: u64,
}

/// Reads the events of `currency` in time order, once, up to the end of the last of `years`:
/// each into the hasher of every year not yet ended and to `process` (which refuses an event
/// out of the figures' bounds), and calls `year_end` with the state at each year's end, in
/// year order.
pub fn read_years<S>(
    ledger: &Ledger,
    currency: &str,
    mut years: Vec<YearRead>,
    state: &mut S,
    mut process: impl FnMut(&mut S, &TaxEvent) -> Result<(), OutOfRange>,
    mut year_end: impl FnMut(&mut S, YearEnd),
) -> Result<(), LedgerError> {
    years.sort_by_key(|y| (y.until_ms, y.year));
    let until = years.iter().map(|y| y.until_ms).max().unwrap_or(i64::MIN);
    let mut next = 0usize;
    let mut events = 0u64;
    let mut out_of_range = None;
    let end = |year: &YearRead, events: u64| YearEnd {
        year: year.year,
        inputs_hash: crate::digest::hex(&year.hasher.clone().finalize()),
        events,
    };
    ledger.for_each_tax_event_between(currency, i64::MIN, until, |event| {
        if out_of_range.is_some() {
            return;
        }
        while let Some(year) = years.get(next).filter(|y| event.time_ms >= y.until_ms) {
            year_end(state, end(year, events));
            next += 1;
        }
        for year in years.iter_mut().skip(next) {
            crate::tax::hash_event(&mut year.hasher, event);
        }
        out_of_range = process(state, event).err();
        events += 1;
    })?;
    if let Some(error) = out_of_range {
        return Err(LedgerError::OutOfRange(error.to_string()));
    }
    for year in years.iter().skip(next) {
        year_end(state, end(year, events));
    }
    Ok(())
}
