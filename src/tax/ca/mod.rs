//! Canada: the CRA's rules for an individual's crypto-assets (capital gains and income).
//!
//! Crypto-assets are property; selling, trading for another crypto-asset, spending and gifting
//! are dispositions, and an own transfer between wallets is not (CRA, "Guide for
//! cryptocurrency users and tax professionals",
//! <https://www.canada.ca/en/revenue-agency/programs/about-canada-revenue-agency-cra/compliance/cryptocurrency-guide.html>).
//! One adjusted cost base per token across every wallet (identical properties), dispositions
//! at the average cost, and losses denied by the superficial-loss rule: [`acb`]. The events
//! are read as the UK reads them ([`crate::tax::uk::events`]: what each kind of event
//! acquires and disposes of, fees into the cost of acquiring and the outlays of disposing,
//! income at its value on receipt), with the local calendar date in the ledger's time zone
//! (its `timezone` setting; UTC when unset) as the day: the year's bounds, the 30-day window of
//! a superficial loss and every date shown. [`year`] sums up
//! a calendar year (50% inclusion rate), [`report`] and [`export`] present it.
//!
//! [`compute`] reads the ledger's events up to 30 days past 31 December (a loss in late
//! December is superficial when the token is bought back in January) with their CAD values.

pub mod acb;
pub mod export;
pub mod report;
pub mod year;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use self::acb::{Disposition, Removal, SUPERFICIAL_DAYS, walk_from};
use crate::ledger::{IncomeRow, Ledger, LedgerError, TaxEvent};
use crate::tax::country_snapshots::CountryKey;
use crate::tax::engine::TransferPlan;
use crate::tax::jurisdiction::{Rules, TaxYear};
use crate::tax::pooled_years::{ReadEvents, TokenStates, each_token, pooled_years};
use crate::tax::uk::events::{Days, LostRow, Sorter};
use crate::tax::uk::pool::Pool;
use crate::tax::years::{PassInfo, Start};
use crate::tax::zone::Zone;
use crate::transfers::Matching;

const DAY_MS: i64 = 86_400_000;

/// The setting that holds how a Canadian ledger's crypto activity is treated.
pub const TREATMENT_SETTING: &str = "ca_treatment";

/// Canada's time rules: calendar years on the local dates of the ledger's time zone (its
/// `timezone` setting, UTC when unset), read 30 days past their end.
#[derive(Debug, Clone, Copy)]
pub struct CaRules {
    /// The zone whose local dates are the days, the year's bounds and the 30-day window.
    pub zone: Zone,
}

impl CaRules {
    /// Canada's rules on UTC dates (a ledger without a `timezone` setting).
    pub const UTC: CaRules = CaRules { zone: Zone::UTC };
}

impl Rules for CaRules {
    fn code(&self) -> &'static str {
        "CA"
    }

    fn currency(&self) -> Option<&'static str> {
        Some("CAD")
    }

    fn tax_year(&self, year: i32) -> TaxYear {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN);
        TaxYear {
            year,
            label: year.to_string(),
            first_day: day(year, 1, 1),
            last_day: day(year, 12, 31),
            start_ms: self.zone.year_start_ms(year),
            end_ms: self.zone.year_start_ms(year + 1),
        }
    }

    /// The start of local 1 February: 30 days after 31 December (a superficial loss's window),
    /// whole, with a day to spare.
    fn events_until_ms(&self, year: i32) -> i64 {
        match NaiveDate::from_ymd_opt(year + 1, 1, 1) {
            Some(first) => self.zone.day_start_ms(first + chrono::Duration::days(SUPERFICIAL_DAYS + 1)),
            None => crate::tax::year_start_ms(year + 1).saturating_add((SUPERFICIAL_DAYS + 1) * DAY_MS),
        }
    }

    fn year_of_ms(&self, ms: i64) -> i32 {
        self.zone.year(ms)
    }
}

/// Whether gains are capital gains or business income: a question of fact the CRA leaves
/// to the person (the guide's "business or personal activity" factors); the report says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Treatment {
    /// Dispositions on capital account (Schedule 3, 50% inclusion); rewards are income.
    #[default]
    Capital,
    /// A business: gains and rewards are business income, fully included.
    Business,
}

impl Treatment {
    /// The name in the setting and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Treatment::Capital => "capital",
            Treatment::Business => "business",
        }
    }

    /// The ledger's treatment (`capital` when the setting is absent).
    pub fn of_ledger(ledger: &Ledger) -> Result<Treatment, LedgerError> {
        match ledger.setting(TREATMENT_SETTING)? {
            None => Ok(Treatment::Capital),
            Some(text) => text.parse().map_err(|e: UnknownTreatment| LedgerError::Corrupt(e.to_string())),
        }
    }
}

impl fmt::Display for Treatment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not `capital` or `business`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown treatment {0:?} (expected capital or business)")]
pub struct UnknownTreatment(pub String);

impl FromStr for Treatment {
    type Err = UnknownTreatment;

    fn from_str(text: &str) -> Result<Treatment, UnknownTreatment> {
        match text.trim().to_ascii_lowercase().as_str() {
            "capital" => Ok(Treatment::Capital),
            "business" => Ok(Treatment::Business),
            _ => Err(UnknownTreatment(text.to_owned())),
        }
    }
}

/// The day number of an instant: its UTC calendar date (a ledger without a `timezone`).
pub fn day_of(ms: i64) -> i64 {
    Days::Local(Zone::UTC).of(ms)
}

/// A date as a day number (days since 1970-01-01).
pub fn day_number(date: NaiveDate) -> i64 {
    crate::tax::uk::day::day_number(date)
}

/// One disposition of the year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaDisposal {
    /// Token.
    pub asset: String,
    /// The disposition.
    pub row: Disposition,
}

/// A token's holding at the end of the year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearEndHolding {
    /// Token.
    pub asset: String,
    /// Units and their ACB.
    pub holding: Pool,
}

/// A Canadian year's computation.
#[derive(Debug, Clone)]
pub struct CaComputed {
    /// The tax year.
    pub year: TaxYear,
    /// The year's dispositions, by token then time.
    pub disposals: Vec<CaDisposal>,
    /// Income received in the year.
    pub income: Vec<IncomeRow>,
    /// Holdings at the end of the year (tokens with units or ACB).
    pub holdings: Vec<YearEndHolding>,
    /// Units lost or stolen in the year (still held, not a disposition).
    pub lost: Vec<LostRow>,
    /// Units that left without a disposition in the year (unmatched withdrawals).
    pub removals: Vec<(String, Removal)>,
    /// Units disposed of beyond what was held (all history), by token.
    pub short: BTreeMap<String, Decimal>,
    /// The zone whose local dates the rows are dated in (the ledger's `timezone`).
    pub zone: Zone,
    /// Net capital losses of other years available in the year (the year's
    /// `losses_brought_forward` setting, [`crate::tax::losses`]; zero when not set).
    pub losses_brought_forward: Decimal,
    /// SHA-256 (hex) of the events, legs, values and transfers read.
    pub inputs_hash: String,
    /// Events read.
    pub events: u64,
}

/// Computes tax year `year` from the events given in time order (the pure part of [`compute`]),
/// on UTC dates.
pub fn compute_events<'a>(
    year: i32,
    transfers: &[TransferPlan],
    events: impl IntoIterator<Item = &'a TaxEvent>,
) -> CaComputed {
    compute_events_in(year, Zone::UTC, transfers, events)
}

/// [`compute_events`] on the local dates of `zone`.
pub fn compute_events_in<'a>(
    year: i32,
    zone: Zone,
    transfers: &[TransferPlan],
    events: impl IntoIterator<Item = &'a TaxEvent>,
) -> CaComputed {
    let mut sorter = Sorter::with_days(transfers, Days::Local(zone));
    let mut count = 0u64;
    for event in events {
        sorter.process(event);
        count += 1;
    }
    finish(year, zone, ReadEvents { sorted: sorter.sorted(), inputs_hash: String::new(), events: count }, None, &[]).0
}

/// The year out of what was read for it (from the token states `start`, when the pass began
/// at a snapshot), and the token states at each of `cuts_ms` (year ends, in order).
fn finish(
    year: i32,
    zone: Zone,
    read: ReadEvents,
    start: Option<&TokenStates>,
    cuts_ms: &[i64],
) -> (CaComputed, Vec<TokenStates>) {
    let tax_year = CaRules { zone }.tax_year(year);
    let (first, last) = (day_number(tax_year.first_day), day_number(tax_year.last_day));
    let in_year = |day: i64| (first..=last).contains(&day);
    let sorted = read.sorted;
    let cuts: Vec<i64> = cuts_ms.iter().map(|ms| Days::Local(zone).of(*ms)).collect();
    let mut out = CaComputed {
        income: sorted.income.iter().filter(|i| zone.year(i.received_ms) == year).cloned().collect(),
        lost: sorted.lost.iter().filter(|l| in_year(l.day)).cloned().collect(),
        year: tax_year,
        disposals: Vec::new(),
        holdings: Vec::new(),
        removals: Vec::new(),
        short: BTreeMap::new(),
        zone,
        losses_brought_forward: Decimal::ZERO,
        inputs_hash: read.inputs_hash,
        events: read.events,
    };
    let states = each_token(sorted, start, cuts.len(), |asset, ops, token_start| {
        let (outcome, token_states) = walk_from(token_start, ops, first..=last, &cuts);
        out.disposals.extend(outcome.rows.iter().map(|r| CaDisposal { asset: asset.clone(), row: r.clone() }));
        out.removals.extend(outcome.removals.iter().map(|r| (asset.clone(), r.clone())));
        let holding = outcome.holding_at(last);
        if !holding.units.is_zero() || !holding.cost.is_zero() {
            out.holdings.push(YearEndHolding { asset: asset.clone(), holding });
        }
        if !outcome.short.is_zero() {
            out.short.insert(asset.clone(), outcome.short);
        }
        token_states
    });
    (out, states)
}

/// Runs the Canadian computation of calendar year `year` over the ledger, with the transfers
/// of `matching` (from [`crate::transfers::refresh`]), on the local dates of the ledger's
/// zone, from the latest year-end snapshot that fits.
pub fn compute(ledger: &mut Ledger, year: i32, matching: &Matching) -> Result<CaComputed, LedgerError> {
    let (mut years, _) = compute_years(ledger, year..=year, matching, Start::Snapshot)?;
    years.pop().ok_or_else(|| LedgerError::Corrupt(format!("the tax year {year} was not computed")))
}

/// The version of the Canadian rules a snapshot was computed by: raise it whenever the walk
/// would give a different state from the same events (every Canadian snapshot is then made
/// again).
pub const CA_RULES_VERSION: u32 = 1;

/// The code Canadian snapshots are stored under.
pub const SNAPSHOTS: &str = "ca";

/// [`compute`] for every year of `years` in one pass over history
/// ([`crate::tax::pooled_years`]): each year as a run of it alone gives it. The pass starts
/// from the latest year-end snapshot that fits (unless `start` says from the first event) and
/// stores one at the ends of the last two years.
pub fn compute_years(
    ledger: &mut Ledger,
    years: RangeInclusive<i32>,
    matching: &Matching,
    start: Start,
) -> Result<(Vec<CaComputed>, PassInfo), LedgerError> {
    let zone = Zone::of_ledger(ledger)?;
    let rules = CaRules { zone };
    let losses = crate::tax::losses::of_ledger(ledger)?;
    let currency = ledger.reporting_currency()?;
    // The zone changes the days, so it is part of the snapshots' key.
    let key = CountryKey::new(
        SNAPSHOTS,
        CA_RULES_VERSION,
        String::new(),
        (&currency, zone.name()),
        &BTreeMap::new(),
        matching,
    );
    let sorter = |plans: &[TransferPlan]| Sorter::with_days(plans, Days::Local(zone));
    pooled_years(ledger, &key, rules, years, start, sorter, |y| {
        let (year, mut read) = (y.year, y.read);
        // The year's own setting only (no carry between years: see crate::tax::losses), and a
        // zone other than UTC: each enters the inputs hash only when set, so a ledger without
        // them keeps its hash.
        let this_year: BTreeMap<i32, Decimal> =
            losses.iter().filter(|(y, _)| **y == year).map(|(y, l)| (*y, *l)).collect();
        if !this_year.is_empty() || !zone.is_utc() {
            let mut hasher = Sha256::new();
            hasher.update(read.inputs_hash.as_bytes());
            crate::tax::losses::hash_into(&mut hasher, &this_year);
            if !zone.is_utc() {
                hasher.update(format!("timezone {}\n", zone.name()).as_bytes());
            }
            read.inputs_hash = crate::digest::hex(&hasher.finalize());
        }
        let losses_brought_forward = this_year.get(&year).copied().unwrap_or_default();
        let (computed, states) = finish(year, zone, read, y.start, &y.cuts_ms);
        (CaComputed { losses_brought_forward, ..computed }, states)
    })
}
