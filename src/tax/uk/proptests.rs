//! Properties of the matching rules over random histories of one token: the pooled cost is
//! never negative; units and cost acquired are all accounted for (matched, removed or still
//! pooled); the same-day and 30-day rules never use an acquisition twice, nor one outside
//! their window.

use std::collections::BTreeMap;

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::matching::{Op, Rule, match_from, match_token};

/// One step: days after the previous step, then what happens (units in 1/1,000).
#[derive(Debug, Clone)]
enum Step {
    Buy { gap: i64, units: i64, pounds: i64 },
    Sell { gap: i64, units: i64, pounds: i64, fee: i64 },
    Leave { gap: i64, units: i64, spouse: bool },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..12i64, 1..50_000i64, 0..90_000i64).prop_map(|(gap, units, pounds)| Step::Buy { gap, units, pounds }),
        (0..12i64, 1..50_000i64, 0..90_000i64, 0..50i64).prop_map(|(gap, units, pounds, fee)| Step::Sell {
            gap,
            units,
            pounds,
            fee
        }),
        (0..12i64, 1..20_000i64, any::<bool>()).prop_map(|(gap, units, spouse)| Step::Leave { gap, units, spouse }),
    ]
}

fn ops(steps: &[Step]) -> Vec<Op> {
    let milli = |n: i64| Decimal::new(n, 3);
    let mut day = 18_000;
    let mut out = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        match *s {
            Step::Buy { gap, units, pounds } => {
                day += gap;
                out.push(Op::Acquire { day, units: milli(units), cost: Decimal::from(pounds), basis_missing: false });
            }
            Step::Sell { gap, units, pounds, fee } => {
                day += gap;
                out.push(Op::Dispose {
                    day,
                    units: milli(units),
                    proceeds: Decimal::from(pounds),
                    costs: Decimal::from(fee),
                    event_id: i as i64,
                    price_missing: false,
                });
            }
            Step::Leave { gap, units, spouse } => {
                day += gap;
                out.push(Op::Leave { day, units: milli(units), event_id: i as i64, no_gain_no_loss: spouse });
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn pooled_cost_is_never_negative(steps in prop::collection::vec(step(), 1..60)) {
        let outcome = match_token(&ops(&steps));
        for (_, pool) in &outcome.pools {
            prop_assert!(pool.cost >= Decimal::ZERO, "{pool:?}");
            prop_assert!(pool.units >= Decimal::ZERO, "{pool:?}");
        }
        for m in &outcome.matches {
            prop_assert!(m.cost >= Decimal::ZERO && m.pool_after.cost >= Decimal::ZERO, "{m:?}");
        }
    }

    #[test]
    fn units_and_cost_in_equal_units_and_cost_out_plus_the_pool(steps in prop::collection::vec(step(), 1..60)) {
        let ops = ops(&steps);
        let outcome = match_token(&ops);
        let (mut units_in, mut cost_in, mut removals_asked) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        for op in &ops {
            match op {
                Op::Acquire { units, cost, .. } => {
                    units_in += *units;
                    cost_in += *cost;
                }
                Op::Leave { units, no_gain_no_loss: false, .. } => removals_asked += *units,
                _ => {}
            }
        }
        let pool = outcome.pools.last().map(|p| p.1).unwrap_or_default();
        // Units out: every matched unit and every unit asked to leave, less those never held.
        let matched: Decimal = outcome.matches.iter().map(|m| m.units).sum();
        prop_assert_eq!(units_in, matched + removals_asked - outcome.short + pool.units);
        let cost_out: Decimal = outcome.matches.iter().map(|m| m.cost).sum::<Decimal>()
            + outcome.removals.iter().map(|r| r.cost).sum::<Decimal>();
        prop_assert!((cost_in - cost_out - pool.cost).abs() < Decimal::new(1, 12), "{cost_in} {cost_out} {pool:?}");
    }

    #[test]
    fn same_day_and_30_day_matches_never_use_an_acquisition_twice(steps in prop::collection::vec(step(), 1..60)) {
        let ops = ops(&steps);
        let outcome = match_token(&ops);
        let mut acquired: BTreeMap<i64, Decimal> = BTreeMap::new();
        for op in &ops {
            if let Op::Acquire { day, units, .. } = op {
                *acquired.entry(*day).or_default() += *units;
            }
        }
        let mut used: BTreeMap<i64, Decimal> = BTreeMap::new();
        for m in outcome.matches.iter().filter(|m| matches!(m.rule, Rule::SameDay | Rule::BedAndBreakfast)) {
            let Some(day) = m.acquired_day else { return Err(TestCaseError::fail("a match without its day")) };
            match m.rule {
                Rule::SameDay => prop_assert_eq!(day, m.day),
                _ => prop_assert!(m.day < day && day <= m.day + 30, "{m:?}"),
            }
            *used.entry(day).or_default() += m.units;
        }
        for (day, units) in used {
            prop_assert!(units <= acquired.get(&day).copied().unwrap_or_default(), "day {day}: {units} used");
        }
    }

    /// A year-end snapshot's state: matching from the state at a day (taken from a matching
    /// that read 30 days and more past it) gives, from that day on, the rows, removals, pools
    /// and shortfall of a matching from the first operation — also when disposals before the
    /// day were matched with acquisitions after it (the 30-day rule across the cut), and from
    /// a second cut made by a matching that itself started from the first.
    #[test]
    fn matching_from_the_state_at_a_day_equals_matching_from_the_first_operation(
        steps in prop::collection::vec(step(), 1..60),
        cuts in (0..400i64, 0..400i64),
    ) {
        let ops = ops(&steps);
        let whole = match_token(&ops);
        let (first, second) = (18_000 + cuts.0.min(cuts.1), 18_000 + cuts.0.max(cuts.1));
        let (_, states) = match_from(None, &ops, &[first, second]);
        let after = |cut: i64| ops.iter().filter(|op| day(op) >= cut).cloned().collect::<Vec<_>>();
        let (resumed, again) = match_from(states.first(), &after(first), &[second]);
        // The state at the second cut is the same whether the matching started at the first.
        prop_assert_eq!(again.first(), states.get(1));
        let (twice, _) = match_from(again.first(), &after(second), &[]);
        for (cut, part) in [(first, &resumed), (second, &twice)] {
            let rows: Vec<_> = whole.matches.iter().filter(|m| m.day >= cut).cloned().collect();
            prop_assert_eq!(&rows, &part.matches);
            let removals: Vec<_> = whole.removals.iter().filter(|r| r.day >= cut).cloned().collect();
            prop_assert_eq!(&removals, &part.removals);
            prop_assert_eq!(whole.short, part.short);
            for (d, pool) in &part.pools {
                prop_assert_eq!(whole.pool_at(*d), *pool, "day {}", d);
            }
        }
    }
}

fn day(op: &Op) -> i64 {
    match op {
        Op::Acquire { day, .. } | Op::Dispose { day, .. } | Op::Leave { day, .. } => *day,
    }
}
