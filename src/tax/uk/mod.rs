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

use self::day::{day_number, tax_year_first_day, tax_year_label, tax_year_last_day, uk_date, uk_midnight_ms};
use self::events::{LostRow, Sorter};
use self::matching::{Match, Removal, match_from};
use self::pool::Pool;
use crate::ledger::{IncomeRow, Ledger, LedgerError, TaxEvent};
use crate::tax::country_snapshots::CountryKey;
use crate::tax::engine::TransferPlan;
use crate::tax::jurisdiction::{Rules, TaxYear};
use crate::tax::pooled_years::{ReadEvents, TokenStates, each_token, pooled_years};
use crate::tax::years::{PassInfo, Start};
use crate::transfers::Matching;

/// The UK's time rules: tax years from 6 April, read 30 days past their end.
#[derive(Debug, Clone, Copy)]
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
    finish(year, ReadEvents { sorted: sorter.sorted(), inputs_hash: String::new(), events: count }, None, &[]).0
}

/// The year out of what was read for it (from the token states `start`, when the pass began
/// at a snapshot), and the token states at each of `cuts_ms` (year ends, in order).
fn finish(year: i32, read: ReadEvents, start: Option<&TokenStates>, cuts_ms: &[i64]) -> (UkComputed, Vec<TokenStates>) {
    let tax_year = UkRules.tax_year(year);
    let (first, last) = (day_number(tax_year.first_day), day_number(tax_year.last_day));
    let sorted = read.sorted;
    let cuts: Vec<i64> = cuts_ms.iter().map(|ms| day_number(uk_date(*ms))).collect();
    let mut out = UkComputed {
        year: tax_year,
        disposals: Vec::new(),
        income: sorted
            .income
            .iter()
            .filter(|i| (first..=last).contains(&day_number(uk_date(i.received_ms))))
            .cloned()
            .collect(),
        pools: Vec::new(),
        lost: sorted.lost.iter().filter(|l| (first..=last).contains(&l.day)).cloned().collect(),
        removals: Vec::new(),
        short: BTreeMap::new(),
        inputs_hash: read.inputs_hash,
        events: read.events,
    };
    let states = each_token(sorted, start, cuts.len(), |asset, ops, token_start| {
        let (outcome, token_states) = match_from(token_start, ops, &cuts);
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
        token_states
    });
    (out, states)
}

/// Runs the UK computation of tax year `year` over the ledger, with the transfers of
/// `matching` (from [`crate::transfers::refresh`]), from the latest year-end snapshot that fits.
pub fn compute(ledger: &mut Ledger, year: i32, matching: &Matching) -> Result<UkComputed, LedgerError> {
    let (mut years, _) = compute_years(ledger, year..=year, matching, Start::Snapshot)?;
    years.pop().ok_or_else(|| LedgerError::Corrupt(format!("the tax year {year} was not computed")))
}

/// The version of the UK rules a snapshot was computed by: raise it whenever the matching
/// would give a different state from the same events (every UK snapshot is then made again).
pub const UK_RULES_VERSION: u32 = 1;

/// The code UK snapshots are stored under.
pub const SNAPSHOTS: &str = "uk";

/// [`compute`] for every year of `years` in one pass over history
/// ([`crate::tax::pooled_years`]): each year as a run of it alone gives it. The pass starts
/// from the latest year-end snapshot that fits (unless `start` says from the first event) and
/// stores one at the ends of the last two years.
pub fn compute_years(
    ledger: &mut Ledger,
    years: RangeInclusive<i32>,
    matching: &Matching,
    start: Start,
) -> Result<(Vec<UkComputed>, PassInfo), LedgerError> {
    let currency = ledger.reporting_currency()?;
    let key = CountryKey::new(SNAPSHOTS, UK_RULES_VERSION, String::new(), (&currency, ""), &BTreeMap::new(), matching);
    pooled_years(ledger, &key, UkRules, years, start, Sorter::new, |y| finish(y.year, y.read, y.start, &y.cuts_ms))
}
