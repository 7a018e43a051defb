//! United Kingdom: HMRC's rules for an individual's cryptoassets (Capital Gains Tax).
//!
//! There are no lots: one section 104 pool per token per person, across every wallet and
//! exchange, and disposals matched with acquisitions of the same day, then of the following
//! 30 days, then with the pool at average cost (HMRC Cryptoassets Manual CRYPTO22200,
//! <https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22200>). [`events`]
//! says what each kind of event is, [`matching`] applies the rules to one token, [`year`]
//! sums up a tax year (6 April to 5 April, [`day`]), [`report`] and [`export`] present it.
//!
//! [`compute`] reads the ledger's events (up to 30 days past the year's end: a disposal late
//! in the year can be matched with an acquisition after 5 April) with their sterling values,
//! and the own transfers, and returns the year's rows with a SHA-256 of the inputs it read.

pub mod day;
pub mod events;
pub mod export;
pub mod matching;
pub mod pool;
pub mod report;
pub mod year;

#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod tests;

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use chrono::Duration;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use self::day::{day_number, tax_year_first_day, tax_year_label, tax_year_last_day, uk_date, uk_midnight_ms};
use self::events::{LostRow, Sorter};
use self::matching::{Match, Removal, match_token};
use self::pool::Pool;
use crate::ledger::{IncomeRow, Ledger, LedgerError, TaxEvent};
use crate::tax::country_years::{ReadFrom, YearRead, read_years};
use crate::tax::engine::{TransferPlan, within_bounds};
use crate::tax::jurisdiction::{Rules, TaxYear};
use crate::transfers::Matching;

/// The UK's time rules: tax years from 6 April, read 30 days past their end.
pub struct UkRules;

impl Rules for UkRules {
    fn code(&self) -> &'static str {
        "UK"
    }

    fn currency(&self) -> Option<&'static str> {
        Some("GBP")
    }

    fn tax_year(&self, year: i32) -> TaxYear {
        let (first_day, last_day) = (tax_year_first_day(year), tax_year_last_day(year));
        let end = last_day.succ_opt().unwrap_or(last_day);
        TaxYear {
            year,
            label: tax_year_label(year),
            first_day,
            last_day,
            start_ms: uk_midnight_ms(first_day),
            end_ms: uk_midnight_ms(end),
        }
    }

    fn events_until_ms(&self, year: i32) -> i64 {
        let last = tax_year_last_day(year);
        let after_window = last + Duration::days(matching::BED_AND_BREAKFAST_DAYS + 1);
        uk_midnight_ms(after_window)
    }

    fn own_zone(&self) -> Option<&'static str> {
        Some("Europe/London")
    }

    fn year_of_ms(&self, ms: i64) -> i32 {
        self::day::tax_year_of(uk_date(ms))
    }
}

/// One row of the year's computation: a matched part of a token's disposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UkDisposal {
    /// Token.
    pub asset: String,
    /// The match.
    pub matched: Match,
}

/// A token's pool at the end of the year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearEndPool {
    /// Token.
    pub asset: String,
    /// The pool.
    pub pool: Pool,
}

/// A UK year's computation.
#[derive(Debug, Clone)]
pub struct UkComputed {
    /// The tax year.
    pub year: TaxYear,
    /// The year's rows, by token then day.
    pub disposals: Vec<UkDisposal>,
    /// Income received in the year.
    pub income: Vec<IncomeRow>,
    /// Pools at the end of the year (tokens with units or cost).
    pub pools: Vec<YearEndPool>,
    /// Units lost or stolen in the year (still in the pools).
    pub lost: Vec<LostRow>,
    /// Units that left without a row in the year (unmatched withdrawals).
    pub removals: Vec<(String, Removal)>,
    /// Units disposed of beyond what was held (all history), by token.
    pub short: BTreeMap<String, Decimal>,
    /// SHA-256 (hex) of the events, legs, values and transfers read.
    pub inputs_hash: String,
    /// Events read.
    pub events: u64,
}

/// Computes tax year `year` from the events given in time order (the pure part of [`compute`]).
pub fn compute_events<'a>(
    year: i32,
    transfers: &[TransferPlan],
    events: impl IntoIterator<Item = &'a TaxEvent>,
) -> UkComputed {
    let mut sorter = Sorter::new(transfers);
    let mut count = 0u64;
    for event in events {
        sorter.process(event);
        count += 1;
    }
    finish(year, sorter, String::new(), count)
}

fn finish(year: i32, sorter: Sorter, inputs_hash: String, events: u64) -> UkComputed {
    let tax_year = UkRules.tax_year(year);
    let (first, last) = (day_number(tax_year.first_day), day_number(tax_year.last_day));
    let sorted = sorter.finish();
    let mut out = UkComputed {
        year: tax_year,
        disposals: Vec::new(),
        income: sorted
            .income
            .into_iter()
            .filter(|i| (first..=last).contains(&day_number(uk_date(i.received_ms))))
            .collect(),
        pools: Vec::new(),
        lost: sorted.lost.into_iter().filter(|l| (first..=last).contains(&l.day)).collect(),
        removals: Vec::new(),
        short: BTreeMap::new(),
        inputs_hash,
        events,
    };
    for (asset, ops) in &sorted.ops {
        let outcome = match_token(ops);
        let in_year = |day: i64| (first..=last).contains(&day);
        out.disposals.extend(
            outcome
                .matches
                .iter()
                .filter(|m| in_year(m.day))
                .map(|m| UkDisposal { asset: asset.clone(), matched: m.clone() }),
        );
        out.removals.extend(outcome.removals.iter().filter(|r| in_year(r.day)).map(|r| (asset.clone(), r.clone())));
        let pool = outcome.pool_at(last);
        if !pool.units.is_zero() || !pool.cost.is_zero() {
            out.pools.push(YearEndPool { asset: asset.clone(), pool });
        }
        if !outcome.short.is_zero() {
            out.short.insert(asset.clone(), outcome.short);
        }
    }
    out
}

/// Runs the UK computation of tax year `year` over the ledger, with the transfers of
/// `matching` (from [`crate::transfers::refresh`]).
pub fn compute(ledger: &Ledger, year: i32, matching: &Matching) -> Result<UkComputed, LedgerError> {
    let mut years = compute_years(ledger, year..=year, matching)?;
    years.pop().ok_or_else(|| LedgerError::Corrupt(format!("the tax year {year} was not computed")))
}

/// [`compute`] for every year of `years` in one pass over history ([`crate::tax::country_years`]):
/// each year as a run of it alone gives it.
pub fn compute_years(
    ledger: &Ledger,
    years: RangeInclusive<i32>,
    matching: &Matching,
) -> Result<Vec<UkComputed>, LedgerError> {
    let ends: Vec<(i32, i64)> = years.map(|y| (y, UkRules.events_until_ms(y))).collect();
    let mut out = Vec::with_capacity(ends.len());
    read_events(ledger, matching, "UK", &ends, ReadFrom::first(UkRules), Sorter::new, |year, read| {
        out.push(finish(year, read.sorter, read.inputs_hash, read.events));
    })?;
    Ok(out)
}

/// What [`read_events`] read for a year: the sorted events, the hash of the inputs and their number.
pub struct ReadEvents {
    /// The events sorted into each token's operations.
    pub sorter: Sorter,
    /// SHA-256 (hex) of the country code, the currency, the transfers and the events read.
    pub inputs_hash: String,
    /// Events read.
    pub events: u64,
}

/// Reads the ledger's events in time order, once, up to the last of `ends` (each a year and
/// the instant, UTC ms, its events end) into a [`Sorter`] made by `sorter` from the own
/// transfers of `matching`, hashing every input under `code`; hands `each_year` every year
/// (in order) with the sorter as it stands at the year's end: the one way a pooling country
/// (UK, Canada) reads its events.
pub fn read_events(
    ledger: &Ledger,
    matching: &Matching,
    code: &str,
    ends: &[(i32, i64)],
    from: ReadFrom,
    sorter: impl FnOnce(&[TransferPlan]) -> Sorter,
    mut each_year: impl FnMut(i32, ReadEvents),
) -> Result<(), LedgerError> {
    let currency = ledger.reporting_currency()?;
    let mut hasher = Sha256::new();
    hasher.update(format!("{code}\n").as_bytes());
    hasher.update(currency.as_bytes());
    let plans = crate::tax::transfer_plans(matching, &mut hasher);
    let years = ends.iter().map(|&(year, until_ms)| YearRead { year, until_ms, hasher: hasher.clone() }).collect();
    let mut sorter = sorter(&plans);
    // The last year takes the sorter itself; only the years before it need a copy.
    let mut years_left = ends.len();
    read_years(
        ledger,
        &currency,
        years,
        from,
        &mut sorter,
        |sorter, event| {
            within_bounds(event)?;
            sorter.process(event);
            Ok(())
        },
        |sorter, end| {
            years_left = years_left.saturating_sub(1);
            let sorter = if years_left == 0 { std::mem::replace(sorter, Sorter::new(&[])) } else { sorter.clone() };
            each_year(end.year, ReadEvents { sorter, inputs_hash: end.inputs_hash, events: end.events })
        },
    )
}
