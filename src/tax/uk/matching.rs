//! HMRC's matching rules for one token of one person: same day, then the following 30 days,
//! then the section 104 pool.
//!
//! - Same day (TCGA 1992 s105, <https://www.legislation.gov.uk/ukpga/1992/12/section/105>):
//!   all acquisitions of the token on one day are one acquisition, all disposals that day
//!   one disposal, and they are matched as far as possible, whatever their order in the day
//!   (CRYPTO22252, <https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22252>).
//! - 30 days, "bed and breakfast" (TCGA 1992 s106A(5),
//!   <https://www.legislation.gov.uk/ukpga/1992/12/section/106A>): what is left of a disposal
//!   is matched with acquisitions in the 30 days after its day, earliest first; an earlier
//!   disposal is matched before a later one (CRYPTO22253,
//!   <https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22253>). Day 31 is
//!   outside; acquisitions before the disposal are never matched by this rule.
//! - Section 104 pool (TCGA 1992 s104; CRYPTO22200,
//!   <https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22200>): the rest is
//!   a part disposal of the pool at its average cost; acquisitions not matched above join the
//!   pool on their own day.
//!
//! Acquisitions matched by the first two rules are used once: each day's acquisition keeps
//! what is left of it, and only that remainder can be matched again or join the pool.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::pool::Pool;
use crate::tax::engine::proportion;
use crate::tax::pooled_years::TokenStart;

/// The 30 days after a disposal in which an acquisition is matched with it.
pub const BED_AND_BREAKFAST_DAYS: i64 = 30;

/// How a part of a disposal was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// With acquisitions of the same day.
    SameDay,
    /// With acquisitions of the 30 days after.
    BedAndBreakfast,
    /// With the section 104 pool, at average cost.
    Section104,
    /// A gift to a spouse or civil partner: no gain, no loss (TCGA 1992 s58); units leave the
    /// pool at average cost and are not matched by the first two rules.
    NoGainNoLoss,
}

impl Rule {
    /// The name in JSON and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::SameDay => "same_day",
            Rule::BedAndBreakfast => "bed_and_breakfast",
            Rule::Section104 => "section_104",
            Rule::NoGainNoLoss => "no_gain_no_loss",
        }
    }
}

/// One happening to a token, as the matching rules see it (in time order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Units acquired for an allowable cost.
    Acquire {
        /// UK day number.
        day: i64,
        /// Units.
        units: Decimal,
        /// Allowable cost (what was given, with the fees attributed to the acquisition).
        cost: Decimal,
        /// The cost is not known (counted as zero).
        basis_missing: bool,
    },
    /// Units disposed of.
    Dispose {
        /// UK day number.
        day: i64,
        /// Units.
        units: Decimal,
        /// Disposal proceeds.
        proceeds: Decimal,
        /// Incidental allowable costs of the disposal (fees).
        costs: Decimal,
        /// The event.
        event_id: i64,
        /// A value it needed was missing (counted as zero).
        price_missing: bool,
    },
    /// Units leaving the pool at average cost without a gain: a gift to a spouse
    /// (`no_gain_no_loss`, a row of its own) or units that left for somewhere not in the
    /// ledger (an unmatched withdrawal: no row, listed as a removal).
    Leave {
        /// UK day number.
        day: i64,
        /// Units.
        units: Decimal,
        /// The event.
        event_id: i64,
        /// A spouse gift.
        no_gain_no_loss: bool,
    },
}

impl Op {
    fn day(&self) -> i64 {
        match self {
            Op::Acquire { day, .. } | Op::Dispose { day, .. } | Op::Leave { day, .. } => *day,
        }
    }
}

/// One matched part of a day's disposal: one row of the computation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The disposal's UK day.
    pub day: i64,
    /// How it was matched.
    pub rule: Rule,
    /// Units.
    pub units: Decimal,
    /// Its share of the day's proceeds (by units).
    pub proceeds: Decimal,
    /// The cost of what it was matched with.
    pub cost: Decimal,
    /// Its share of the day's incidental costs (by units).
    pub incidental: Decimal,
    /// The acquisition's day (same day and 30-day rules).
    pub acquired_day: Option<i64>,
    /// The day's disposing events.
    pub events: Vec<i64>,
    /// The pool at the end of the day.
    pub pool_after: Pool,
    /// A cost it used is unknown (counted as zero), or more was disposed of than was held.
    pub basis_missing: bool,
    /// A value it needed was missing.
    pub price_missing: bool,
}

impl Match {
    /// Allowable costs: the matched cost and the incidental costs.
    pub fn allowable_cost(&self) -> Decimal {
        self.cost + self.incidental
    }

    /// Proceeds less allowable costs.
    pub fn gain(&self) -> Decimal {
        self.proceeds - self.allowable_cost()
    }
}

/// Units that left the pool without a gain and without a row (an unmatched withdrawal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// UK day.
    pub day: i64,
    /// The event.
    pub event_id: i64,
    /// Units taken from the pool.
    pub units: Decimal,
    /// Their pooled cost.
    pub cost: Decimal,
}

/// The matching of one token over all of its history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The rows, by day, each day's rows in rule order.
    pub matches: Vec<Match>,
    /// The pool at the end of each day with something happening.
    pub pools: Vec<(i64, Pool)>,
    /// Units that left without a row.
    pub removals: Vec<Removal>,
    /// Units disposed of or removed beyond what was held.
    pub short: Decimal,
}

impl Outcome {
    /// The pool at the end of `day` (after everything up to it).
    pub fn pool_at(&self, day: i64) -> Pool {
        let i = self.pools.partition_point(|(d, _)| *d <= day);
        if i == 0 { Pool::default() } else { self.pools[i - 1].1 }
    }
}

struct Part {
    rule: Rule,
    units: Decimal,
    cost: Decimal,
    acquired_day: Option<i64>,
    basis_missing: bool,
}

#[derive(Default)]
struct Day {
    day: i64,
    acq_units: Decimal,
    acq_cost: Decimal,
    acq_left: Decimal,
    acq_cost_left: Decimal,
    acq_missing: bool,
    disp_units: Decimal,
    disp_proceeds: Decimal,
    disp_costs: Decimal,
    disp_left: Decimal,
    disp_price_missing: bool,
    disp_events: Vec<i64>,
    leaves: Vec<(Decimal, i64, bool)>,
    parts: Vec<Part>,
}

impl Day {
    /// Takes `units` (at most what is left) of the day's acquisition; the last units take
    /// the cost that is left, so the parts add up to the cost exactly.
    fn take_acquisition(&mut self, units: Decimal) -> Decimal {
        let cost = if units >= self.acq_left {
            self.acq_cost_left
        } else {
            proportion(self.acq_cost, units, self.acq_units).min(self.acq_cost_left)
        };
        self.acq_left -= units;
        self.acq_cost_left -= cost;
        cost
    }
}

fn days_of(ops: &[Op]) -> Vec<Day> {
    let mut days: BTreeMap<i64, Day> = BTreeMap::new();
    for op in ops {
        let day = days.entry(op.day()).or_insert_with(|| Day { day: op.day(), ..Day::default() });
        match op {
            Op::Acquire { units, cost, basis_missing, .. } => {
                day.acq_units += *units;
                day.acq_cost += *cost;
                day.acq_missing |= *basis_missing;
            }
            Op::Dispose { units, proceeds, costs, event_id, price_missing, .. } => {
                day.disp_units += *units;
                day.disp_proceeds += *proceeds;
                day.disp_costs += *costs;
                day.disp_price_missing |= *price_missing;
                day.disp_events.push(*event_id);
            }
            Op::Leave { units, event_id, no_gain_no_loss, .. } => {
                day.leaves.push((*units, *event_id, *no_gain_no_loss))
            }
        }
    }
    let mut days: Vec<Day> = days.into_values().collect();
    for day in &mut days {
        day.acq_left = day.acq_units;
        day.acq_cost_left = day.acq_cost;
        day.disp_left = day.disp_units;
        day.disp_events.sort_unstable();
        day.disp_events.dedup();
    }
    days
}

/// Shares `total` among parts by units; the last part takes the remainder.
fn shares(total: Decimal, units: &[Decimal], whole: Decimal) -> Vec<Decimal> {
    let mut out = Vec::with_capacity(units.len());
    let mut given = Decimal::ZERO;
    for (i, u) in units.iter().enumerate() {
        let part = if i + 1 == units.len() { total - given } else { proportion(total, *u, whole) };
        given += part;
        out.push(part);
    }
    out
}

/// Matches one token's disposals (ops in time order, every unit positive) from its first
/// operation.
pub fn match_token(ops: &[Op]) -> Outcome {
    match_from(None, ops, &[]).0
}

/// Matches one token's disposals from `start` (its operations up to the start's day are not in
/// `ops`; `None`: from the first operation). Also returns, for each of `cuts` (days, in
/// order), the state a later match starts from at that day: everything before it applied,
/// and what the 30-day rule took across it (a pool at a year's end depends on the 30 days
/// after it: a disposal before the end matched with a later acquisition takes less from it).
pub fn match_from(start: Option<&TokenStart>, ops: &[Op], cuts: &[i64]) -> (Outcome, Vec<TokenStart>) {
    let mut days = days_of(ops);
    // Rule 1: the same day.
    for day in &mut days {
        let units = day.disp_left.min(day.acq_left);
        if units > Decimal::ZERO {
            let cost = day.take_acquisition(units);
            day.disp_left -= units;
            let (acquired_day, basis_missing) = (Some(day.day), day.acq_missing);
            day.parts.push(Part { rule: Rule::SameDay, units, cost, acquired_day, basis_missing });
        }
    }
    // What the 30-day rule takes across each cut: for disposals before it, of acquisitions
    // from it on.
    let mut taken_after: Vec<Vec<(i64, Decimal)>> = vec![Vec::new(); cuts.len()];
    let mut across = |disposal_day: i64, day: i64, units: Decimal| {
        for (cut, taken) in cuts.iter().zip(taken_after.iter_mut()) {
            if disposal_day < *cut && day >= *cut {
                taken.push((day, units));
            }
        }
    };
    // Rule 2 for the disposals before the start, as they took: their turn comes before any
    // disposal after the start's.
    for &(day, units) in start.map_or(&[][..], |s| &s.carried) {
        if let Ok(i) = days.binary_search_by_key(&day, |d| d.day) {
            let units = units.min(days[i].acq_left);
            days[i].take_acquisition(units);
        }
        across(i64::MIN, day, units);
    }
    // Rule 2: the following 30 days, earliest acquisition first, earlier disposals first.
    for i in 0..days.len() {
        if days[i].disp_left <= Decimal::ZERO {
            continue;
        }
        let (head, tail) = days.split_at_mut(i + 1);
        let disposal = &mut head[i];
        for acquisition in tail.iter_mut() {
            if acquisition.day > disposal.day + BED_AND_BREAKFAST_DAYS || disposal.disp_left <= Decimal::ZERO {
                break;
            }
            let units = disposal.disp_left.min(acquisition.acq_left);
            if units <= Decimal::ZERO {
                continue;
            }
            let cost = acquisition.take_acquisition(units);
            disposal.disp_left -= units;
            across(disposal.day, acquisition.day, units);
            disposal.parts.push(Part {
                rule: Rule::BedAndBreakfast,
                units,
                cost,
                acquired_day: Some(acquisition.day),
                basis_missing: acquisition.acq_missing,
            });
        }
    }
    // Rule 3: the pool, day by day.
    let mut out = Outcome::default();
    let mut pool = Pool::default();
    let mut pool_missing = false;
    if let Some(start) = start {
        (pool, pool_missing, out.short) = (start.pool, start.missing, start.short);
        out.pools.push((start.day, pool));
    }
    let mut states = Vec::with_capacity(cuts.len());
    let mut taken_after = taken_after.into_iter();
    let mut state = |pool: Pool, pool_missing: bool, short: Decimal, states: &mut Vec<TokenStart>| {
        let day = cuts.get(states.len()).map_or(i64::MAX, |cut| cut - 1);
        let taken = taken_after.next().unwrap_or_default();
        states.push(TokenStart { day, pool, missing: pool_missing, short, carried: taken });
    };
    for mut day in days {
        while cuts.get(states.len()).is_some_and(|cut| day.day >= *cut) {
            state(pool, pool_missing, out.short, &mut states);
        }
        if day.acq_left > Decimal::ZERO {
            pool.add(day.acq_left, day.acq_cost_left);
            pool_missing |= day.acq_missing;
        }
        if day.disp_left > Decimal::ZERO {
            let taken = pool.take(day.disp_left);
            out.short += taken.short;
            let basis_missing = pool_missing || taken.short > Decimal::ZERO;
            day.parts.push(Part {
                rule: Rule::Section104,
                units: day.disp_left,
                cost: taken.cost,
                acquired_day: None,
                basis_missing,
            });
            if pool.units.is_zero() {
                pool_missing = false;
            }
        }
        let mut gifts = Vec::new();
        for (units, event_id, no_gain_no_loss) in std::mem::take(&mut day.leaves) {
            let taken = pool.take(units);
            out.short += taken.short;
            if no_gain_no_loss {
                gifts.push((units, taken, event_id, pool_missing || taken.short > Decimal::ZERO));
            } else {
                out.removals.push(Removal { day: day.day, event_id, units: taken.units, cost: taken.cost });
            }
            if pool.units.is_zero() {
                pool_missing = false;
            }
        }
        let units: Vec<Decimal> = day.parts.iter().map(|p| p.units).collect();
        let proceeds = shares(day.disp_proceeds, &units, day.disp_units);
        let incidental = shares(day.disp_costs, &units, day.disp_units);
        for ((part, proceeds), incidental) in day.parts.into_iter().zip(proceeds).zip(incidental) {
            out.matches.push(Match {
                day: day.day,
                rule: part.rule,
                units: part.units,
                proceeds,
                cost: part.cost,
                incidental,
                acquired_day: part.acquired_day,
                events: day.disp_events.clone(),
                pool_after: pool,
                basis_missing: part.basis_missing,
                price_missing: day.disp_price_missing,
            });
        }
        for (units, taken, event_id, basis_missing) in gifts {
            out.matches.push(Match {
                day: day.day,
                rule: Rule::NoGainNoLoss,
                units,
                proceeds: taken.cost,
                cost: taken.cost,
                incidental: Decimal::ZERO,
                acquired_day: None,
                events: vec![event_id],
                pool_after: pool,
                basis_missing,
                price_missing: false,
            });
        }
        out.pools.push((day.day, pool));
    }
    while states.len() < cuts.len() {
        state(pool, pool_missing, out.short, &mut states);
    }
    (out, states)
}
