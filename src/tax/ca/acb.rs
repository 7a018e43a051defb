//! The adjusted cost base of one token of one person, and the superficial-loss rule.
//!
//! - **Average cost of identical properties** (Income Tax Act s47; CRA, "Identical
//!   properties", <https://www.canada.ca/en/revenue-agency/services/tax/individuals/topics/about-your-tax-return/tax-return/completing-a-tax-return/personal-income/line-12700-capital-gains/shares-funds-other-units/identical-properties.html>):
//!   every unit of a token is identical to every other, across all of a person's wallets, so
//!   one ACB per token: an acquisition adds its units and its cost (with the fees of acquiring
//!   it), a disposition takes ACB × units disposed / units held, and the ACB per unit of what
//!   remains is unchanged. The holding is the UK's pool ([`crate::tax::uk::pool::Pool`]): the
//!   same arithmetic, so the same code.
//! - **Gain** (CRA, Schedule 3 columns, and T4037 chapter 1): proceeds of disposition less
//!   the ACB of the units and the outlays and expenses of disposing of them.
//! - **Superficial loss** (Income Tax Act s54 "superficial loss", s53(1)(f); CRA,
//!   <https://www.canada.ca/en/revenue-agency/services/tax/individuals/topics/about-your-tax-return/tax-return/completing-a-tax-return/personal-income/line-12700-capital-gains/capital-losses-deductions/what-a-superficial-loss.html>):
//!   a loss is denied when the same token is acquired in the period from 30 calendar days
//!   before to 30 calendar days after the disposition and is still held at the end of that
//!   period; the denied loss is added to the ACB of the substituted units. When fewer units
//!   were reacquired or are still held than were sold, only part of the loss is denied:
//!   loss × min(S, P, B) / S, with S the units sold, P the units acquired in the 61-day
//!   window and B the units held at its end (the proration the CRA applies, discussed in its
//!   interpretation 2022-0940941C6; `../shared/reference/tax/methods.md` §3 — secondary).
//!   Every acquisition in the window counts towards P, income receipts included, and each
//!   disposition is tested on its own (an acquisition can substitute for two dispositions).
//!   The denied part is added to the token's ACB when the disposition is made (the pool holds
//!   the substituted units; when the sale emptied it, the cost waits for the units to return).

use std::ops::RangeInclusive;

use rust_decimal::Decimal;

use crate::tax::engine::proportion;
use crate::tax::pooled_years::TokenStart;
use crate::tax::uk::matching::Op;
use crate::tax::uk::pool::Pool;

/// The days before and after a disposition in which an acquisition makes its loss superficial.
pub const SUPERFICIAL_DAYS: i64 = 30;

/// A loss denied, wholly or in part, by the superficial-loss rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// Units sold (S).
    pub sold: Decimal,
    /// Units acquired from 30 days before to 30 days after (P).
    pub acquired: Decimal,
    /// Units held at the end of the 30th day after (B).
    pub held_after: Decimal,
    /// The loss before the rule (a positive figure).
    pub loss: Decimal,
    /// The part denied: loss × min(S, P, B) / S (a positive figure), added to the ACB.
    pub denied: Decimal,
    /// The acquisitions in the window that caused it, per day: (day number, units).
    pub acquisitions: Vec<(i64, Decimal)>,
}

/// What a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// A disposition (sale, trade, spending, gift, a fee paid in the token).
    Disposition,
    /// A gift to a spouse or common-law partner: rolled over at its ACB (Income Tax Act
    /// s73(1)), no gain and no loss.
    Rollover,
}

impl RowKind {
    /// The name in JSON and exports.
    pub fn as_str(self) -> &'static str {
        match self {
            RowKind::Disposition => "disposition",
            RowKind::Rollover => "spouse_rollover",
        }
    }
}

/// One disposition of a token and what it did to the token's ACB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disposition {
    /// Day number (local date in the ledger's zone).
    pub day: i64,
    /// The event.
    pub event_id: i64,
    /// What it is.
    pub kind: RowKind,
    /// Units disposed of.
    pub units: Decimal,
    /// Proceeds of disposition.
    pub proceeds: Decimal,
    /// Outlays and expenses of the disposition (fees).
    pub outlays: Decimal,
    /// The ACB of the units disposed of.
    pub acb: Decimal,
    /// Units held before.
    pub units_before: Decimal,
    /// The token's ACB before.
    pub acb_before: Decimal,
    /// Units held after.
    pub units_after: Decimal,
    /// The token's ACB after (a denied loss included).
    pub acb_after: Decimal,
    /// The superficial-loss denial, when there is one.
    pub denial: Option<Denial>,
    /// Units disposed of beyond what was held (no cost is known for them).
    pub short: Decimal,
    /// Some cost in the ACB is not known (counted as zero).
    pub basis_missing: bool,
    /// A value it needed was missing (counted as zero).
    pub price_missing: bool,
}

impl Disposition {
    /// The part of the loss denied (zero when none).
    pub fn denied(&self) -> Decimal {
        self.denial.as_ref().map_or(Decimal::ZERO, |d| d.denied)
    }

    /// Gain or loss before the superficial-loss rule: proceeds − ACB − outlays.
    pub fn gain_before_denial(&self) -> Decimal {
        self.proceeds - self.acb - self.outlays
    }

    /// The gain or allowed loss: the loss less its denied part.
    pub fn gain(&self) -> Decimal {
        self.gain_before_denial() + self.denied()
    }
}

/// Units that left without a disposition (an unmatched withdrawal), at their ACB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// Day number.
    pub day: i64,
    /// The event.
    pub event_id: i64,
    /// Units.
    pub units: Decimal,
    /// Their ACB.
    pub cost: Decimal,
}

/// A token's whole history under the rules.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Its dispositions of the days kept, in time order.
    pub rows: Vec<Disposition>,
    /// Units that left without a disposition, on the days kept.
    pub removals: Vec<Removal>,
    /// Units disposed of beyond what was held, all history.
    pub short: Decimal,
    /// The holding after each day that changed it: (day number, holding), in day order.
    pub after_day: Vec<(i64, Pool)>,
}

impl Outcome {
    /// The holding at the end of `day`.
    pub fn holding_at(&self, day: i64) -> Pool {
        let i = self.after_day.partition_point(|(d, _)| *d <= day);
        if i == 0 { Pool::default() } else { self.after_day[i - 1].1 }
    }
}

fn day_of(op: &Op) -> i64 {
    match op {
        Op::Acquire { day, .. } | Op::Dispose { day, .. } | Op::Leave { day, .. } => *day,
    }
}

/// Units held after each op (the pool's units, never below zero).
fn units_after_each(held: Decimal, ops: &[Op]) -> Vec<Decimal> {
    let mut units = held;
    ops.iter()
        .map(|op| {
            units = match op {
                Op::Acquire { units: u, .. } => units + *u,
                Op::Dispose { units: u, .. } | Op::Leave { units: u, .. } => (units - *u).max(Decimal::ZERO),
            };
            units
        })
        .collect()
}

/// Looks ahead for a disposition: what makes its loss superficial. Built once per token so
/// that each look-up is two binary searches, whatever the trading frequency.
struct Window {
    /// The day of each op.
    days: Vec<i64>,
    /// Units held after each op.
    units_after: Vec<Decimal>,
    /// Units acquired per day, in day order.
    acquired: Vec<(i64, Decimal)>,
    /// `acquired_before[k]`: units acquired on the days `acquired[..k]`.
    acquired_before: Vec<Decimal>,
}

impl Window {
    /// The window over `ops`, after the acquisitions `before` (by day, before the first op).
    fn new(before: &[(i64, Decimal)], ops: &[Op]) -> Window {
        let mut acquired: Vec<(i64, Decimal)> = before.to_vec();
        for op in ops {
            if let Op::Acquire { day, units, .. } = op {
                match acquired.last_mut() {
                    Some((d, total)) if d == day => *total += *units,
                    _ => acquired.push((*day, *units)),
                }
            }
        }
        let mut acquired_before = Vec::with_capacity(acquired.len() + 1);
        let mut total = Decimal::ZERO;
        acquired_before.push(total);
        for (_, units) in &acquired {
            total += *units;
            acquired_before.push(total);
        }
        Window { days: ops.iter().map(day_of).collect(), units_after: Vec::new(), acquired, acquired_before }
    }

    /// The denial of a loss of `loss` on `sold` units disposed of on `day`, if any; `list`
    /// says whether to list the acquisitions that caused it (rows that are reported).
    fn denial(&self, day: i64, sold: Decimal, loss: Decimal, list: bool) -> Option<Denial> {
        let (first, last) = (day - SUPERFICIAL_DAYS, day + SUPERFICIAL_DAYS);
        let from = self.acquired.partition_point(|(d, _)| *d < first);
        let to = self.acquired.partition_point(|(d, _)| *d <= last);
        // A difference of running totals: its scale depends on where the totals started (the
        // first event, or a snapshot's carried acquisitions), so it is normalized (4.280 from
        // one start, 4.28 from the other, were the same year computed two ways).
        let acquired = (self.acquired_before[to] - self.acquired_before[from]).normalize();
        let held = self.days.partition_point(|d| *d <= last);
        let held_after = if held == 0 { Decimal::ZERO } else { self.units_after[held - 1] };
        let substituted = sold.min(acquired).min(held_after);
        if substituted <= Decimal::ZERO || sold <= Decimal::ZERO {
            return None;
        }
        let denied = proportion(loss, substituted, sold).min(loss);
        let acquisitions = if list { self.acquired[from..to].to_vec() } else { Vec::new() };
        Some(Denial { sold, acquired, held_after, loss, denied, acquisitions })
    }
}

/// Applies the rules to one token's operations (in time order); only the rows and removals
/// of the days in `keep` are kept (the year reported: the others change the ACB but are not
/// needed, and a long history would hold them all).
pub fn walk_token(ops: &[Op], keep: RangeInclusive<i64>) -> Outcome {
    walk_from(None, ops, keep, &[]).0
}

/// [`walk_token`] from `start` (its operations up to the start's day are not in `ops`; `None`:
/// from the first operation). Also returns, for each of `cuts` (days, in order), the state a
/// later walk starts from at that day: everything before it applied, and the acquisitions of
/// the 30 days before it (a loss denied just before a year's end depends on the 30 days after
/// it and adds to the ACB at once, so such a state holds only while those days are unchanged).
pub fn walk_from(
    start: Option<&TokenStart>,
    ops: &[Op],
    keep: RangeInclusive<i64>,
    cuts: &[i64],
) -> (Outcome, Vec<TokenStart>) {
    let mut window = Window::new(start.map_or(&[][..], |s| &s.carried), ops);
    let mut pool = Pool::default();
    let mut missing = false;
    let mut out = Outcome::default();
    if let Some(start) = start {
        (pool, missing, out.short) = (start.pool, start.missing, start.short);
        out.after_day.push((start.day, pool));
    }
    window.units_after = units_after_each(pool.units, ops);
    let mut states = Vec::with_capacity(cuts.len());
    let state = |cut: i64, pool: Pool, missing: bool, short: Decimal| {
        let from = window.acquired.partition_point(|(d, _)| *d < cut - SUPERFICIAL_DAYS);
        let to = window.acquired.partition_point(|(d, _)| *d < cut);
        TokenStart { day: cut - 1, pool, missing, short, carried: window.acquired[from..to].to_vec() }
    };
    for op in ops {
        while let Some(cut) = cuts.get(states.len()).filter(|cut| day_of(op) >= **cut) {
            states.push(state(*cut, pool, missing, out.short));
        }
        let before = pool;
        match op {
            Op::Acquire { units, cost, basis_missing, .. } => {
                if pool.units <= Decimal::ZERO {
                    missing = false;
                }
                missing |= *basis_missing;
                pool.add(*units, *cost);
            }
            Op::Dispose { day, units, proceeds, costs, event_id, price_missing } => {
                let taken = pool.take(*units);
                let mut row = Disposition {
                    day: *day,
                    event_id: *event_id,
                    kind: RowKind::Disposition,
                    units: *units,
                    proceeds: *proceeds,
                    outlays: *costs,
                    acb: taken.cost,
                    units_before: before.units,
                    acb_before: before.cost,
                    units_after: pool.units,
                    acb_after: pool.cost,
                    denial: None,
                    short: taken.short,
                    basis_missing: missing || taken.short > Decimal::ZERO,
                    price_missing: *price_missing,
                };
                let gain = row.gain_before_denial();
                if gain < Decimal::ZERO {
                    row.denial = window.denial(*day, *units, -gain, keep.contains(day));
                    pool.add(Decimal::ZERO, row.denied());
                    row.acb_after = pool.cost;
                }
                out.short += taken.short;
                if keep.contains(day) {
                    out.rows.push(row);
                }
            }
            Op::Leave { day, units, event_id, no_gain_no_loss } => {
                let taken = pool.take(*units);
                out.short += taken.short;
                match (keep.contains(day), *no_gain_no_loss) {
                    (false, _) => {}
                    (true, true) => {
                        out.rows.push(Disposition {
                            day: *day,
                            event_id: *event_id,
                            kind: RowKind::Rollover,
                            units: *units,
                            proceeds: taken.cost,
                            outlays: Decimal::ZERO,
                            acb: taken.cost,
                            units_before: before.units,
                            acb_before: before.cost,
                            units_after: pool.units,
                            acb_after: pool.cost,
                            denial: None,
                            short: taken.short,
                            basis_missing: missing || taken.short > Decimal::ZERO,
                            price_missing: false,
                        });
                    }
                    (true, false) => {
                        out.removals.push(Removal {
                            day: *day,
                            event_id: *event_id,
                            units: taken.units,
                            cost: taken.cost,
                        });
                    }
                }
            }
        }
        let day = day_of(op);
        match out.after_day.last_mut() {
            Some((d, held)) if *d == day => *held = pool,
            _ => out.after_day.push((day, pool)),
        }
    }
    while let Some(cut) = cuts.get(states.len()) {
        states.push(state(*cut, pool, missing, out.short));
    }
    (out, states)
}
