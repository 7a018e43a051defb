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
//! income at its value on receipt), with the UTC calendar date as the day. [`year`] sums up
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
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use self::acb::{Disposition, Removal, SUPERFICIAL_DAYS, walk_token};
use crate::ledger::{IncomeRow, Ledger, LedgerError, TaxEvent};
use crate::tax::engine::TransferPlan;
use crate::tax::holding::utc_date;
use crate::tax::jurisdiction::{Rules, TaxYear, UsRules};
use crate::tax::uk::events::{LostRow, Sorter};
use crate::tax::uk::pool::Pool;
use crate::tax::uk::{ReadEvents, read_events};
use crate::transfers::Matching;

const DAY_MS: i64 = 86_400_000;

/// The setting that holds how a Canadian ledger's crypto activity is treated.
pub const TREATMENT_SETTING: &str = "ca_treatment";

/// Canada's time rules: calendar years (UTC dates), read 30 days past their end.
pub struct CaRules;

impl Rules for CaRules {
    fn code(&self) -> &'static str {
        "CA"
    }

    fn currency(&self) -> Option<&'static str> {
        Some("CAD")
    }

    fn tax_year(&self, year: i32) -> TaxYear {
        UsRules.tax_year(year)
    }

    fn events_until_ms(&self, year: i32) -> i64 {
        crate::tax::year_start_ms(year + 1).saturating_add((SUPERFICIAL_DAYS + 1) * DAY_MS)
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

/// The day number of an instant: its UTC calendar date.
pub fn day_of(ms: i64) -> i64 {
    day_number(utc_date(ms))
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
    /// Net capital losses of other years available in the year (the year's
    /// `losses_brought_forward` setting, [`crate::tax::losses`]; zero when not set).
    pub losses_brought_forward: Decimal,
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
) -> CaComputed {
    let mut sorter = Sorter::with_days(transfers, day_of);
    let mut count = 0u64;
    for event in events {
        sorter.process(event);
        count += 1;
    }
    finish(year, ReadEvents { sorter, inputs_hash: String::new(), events: count })
}

fn finish(year: i32, read: ReadEvents) -> CaComputed {
    let tax_year = CaRules.tax_year(year);
    let (first, last) = (day_number(tax_year.first_day), day_number(tax_year.last_day));
    let in_year = |day: i64| (first..=last).contains(&day);
    let sorted = read.sorter.finish();
    let mut out = CaComputed {
        income: sorted.income.into_iter().filter(|i| utc_date(i.received_ms).year() == year).collect(),
        lost: sorted.lost.into_iter().filter(|l| in_year(l.day)).collect(),
        year: tax_year,
        disposals: Vec::new(),
        holdings: Vec::new(),
        removals: Vec::new(),
        short: BTreeMap::new(),
        losses_brought_forward: Decimal::ZERO,
        inputs_hash: read.inputs_hash,
        events: read.events,
    };
    for (asset, ops) in &sorted.ops {
        let outcome = walk_token(ops, first..=last);
        out.disposals.extend(outcome.rows.iter().map(|r| CaDisposal { asset: asset.clone(), row: r.clone() }));
        out.removals.extend(outcome.removals.iter().map(|r| (asset.clone(), r.clone())));
        let holding = outcome.holding_at(last);
        if !holding.units.is_zero() || !holding.cost.is_zero() {
            out.holdings.push(YearEndHolding { asset: asset.clone(), holding });
        }
        if !outcome.short.is_zero() {
            out.short.insert(asset.clone(), outcome.short);
        }
    }
    out
}

/// Runs the Canadian computation of calendar year `year` over the ledger, with the transfers
/// of `matching` (from [`crate::transfers::refresh`]).
pub fn compute(ledger: &Ledger, year: i32, matching: &Matching) -> Result<CaComputed, LedgerError> {
    let until = CaRules.events_until_ms(year);
    let mut read = read_events(ledger, matching, "CA", until, |plans| Sorter::with_days(plans, day_of))?;
    // The year's own setting only (no carry between years: see crate::tax::losses); it enters
    // the inputs hash only when set, so a ledger without it keeps its hash.
    let this_year: BTreeMap<i32, Decimal> =
        crate::tax::losses::of_ledger(ledger)?.into_iter().filter(|(y, _)| *y == year).collect();
    if !this_year.is_empty() {
        let mut hasher = Sha256::new();
        hasher.update(read.inputs_hash.as_bytes());
        crate::tax::losses::hash_into(&mut hasher, &this_year);
        read.inputs_hash = crate::digest::hex(&hasher.finalize());
    }
    let losses_brought_forward = this_year.get(&year).copied().unwrap_or_default();
    Ok(CaComputed { losses_brought_forward, ..finish(year, read) })
}
