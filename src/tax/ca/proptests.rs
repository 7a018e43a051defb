//! Properties of the ACB walk over random histories of one token: the ACB is never negative;
//! a denied superficial loss moves into the ACB exactly (row by row, to the last digit); total proceeds − total ACB of the
//! dispositions − outlays = net gain before denials, and the year's figures add up; the
//! units held equal units acquired less units gone; cost is conserved (cost in + denied =
//! cost out + ACB held).

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::CaDisposal;
use super::acb::{walk_from, walk_token};
use super::year::figures;
use crate::tax::uk::matching::Op;

/// One step: days after the previous step, then what happens (units in 1/1,000).
#[derive(Debug, Clone)]
enum Step {
    Buy { gap: i64, units: i64, dollars: i64 },
    Sell { gap: i64, units: i64, dollars: i64, fee: i64 },
    Leave { gap: i64, units: i64, spouse: bool },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..20i64, 1..50_000i64, 0..90_000i64).prop_map(|(gap, units, dollars)| Step::Buy { gap, units, dollars }),
        3 => (0..20i64, 1..50_000i64, 0..90_000i64, 0..50i64)
            .prop_map(|(gap, units, dollars, fee)| Step::Sell { gap, units, dollars, fee }),
        1 => (0..20i64, 1..20_000i64, any::<bool>()).prop_map(|(gap, units, spouse)| Step::Leave { gap, units, spouse }),
    ]
}

fn ops(steps: &[Step]) -> Vec<Op> {
    let milli = |n: i64| Decimal::new(n, 3);
    let mut day = 19_000;
    let mut out = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let event_id = i as i64;
        match *s {
            Step::Buy { gap, units, dollars } => {
                day += gap;
                out.push(Op::Acquire { day, units: milli(units), cost: Decimal::from(dollars), basis_missing: false });
            }
            Step::Sell { gap, units, dollars, fee } => {
                day += gap;
                let (proceeds, costs) = (Decimal::from(dollars), Decimal::from(fee));
                out.push(Op::Dispose { day, units: milli(units), proceeds, costs, event_id, price_missing: false });
            }
            Step::Leave { gap, units, spouse } => {
                day += gap;
                out.push(Op::Leave { day, units: milli(units), event_id, no_gain_no_loss: spouse });
            }
        }
    }
    out
}

/// Equal but for the last of Decimal's 28 digits (sums of many exact quotients round there).
fn close(a: Decimal, b: Decimal) -> bool {
    (a - b).abs() < Decimal::new(1, 12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn acb_is_never_negative_and_denials_move_into_it_exactly(steps in prop::collection::vec(step(), 1..60)) {
        let outcome = walk_token(&ops(&steps), i64::MIN..=i64::MAX);
        for (_, held) in &outcome.after_day {
            prop_assert!(held.cost >= Decimal::ZERO && held.units >= Decimal::ZERO, "{held:?}");
        }
        for row in &outcome.rows {
            prop_assert!(row.acb >= Decimal::ZERO && row.acb_after >= Decimal::ZERO, "{row:?}");
            prop_assert_eq!(row.acb_after, row.acb_before - row.acb + row.denied());
            if let Some(denial) = &row.denial {
                prop_assert!(denial.denied > Decimal::ZERO && denial.denied <= denial.loss, "{denial:?}");
                prop_assert_eq!(denial.loss, -row.gain_before_denial());
                prop_assert!(row.gain() <= Decimal::ZERO);
                prop_assert!(!denial.acquisitions.is_empty() && denial.held_after > Decimal::ZERO);
            }
        }
    }

    #[test]
    fn proceeds_less_acb_less_outlays_is_the_net_gain(steps in prop::collection::vec(step(), 1..60)) {
        let outcome = walk_token(&ops(&steps), i64::MIN..=i64::MAX);
        let rows: Vec<CaDisposal> =
            outcome.rows.iter().map(|r| CaDisposal { asset: "T".into(), row: r.clone() }).collect();
        let f = figures(&rows);
        prop_assert!(close(f.net(), f.proceeds - f.acb - f.outlays + f.denied), "{f:?}");
        prop_assert!(close(f.net(), f.proceeds - f.schedule3_acb() - f.outlays), "{f:?}");
    }

    #[test]
    fn units_held_equal_units_in_less_units_out_and_cost_is_conserved(steps in prop::collection::vec(step(), 1..60)) {
        let ops = ops(&steps);
        let outcome = walk_token(&ops, i64::MIN..=i64::MAX);
        let last = outcome.after_day.last().map(|(_, h)| *h).unwrap_or_default();
        let (mut units_in, mut units_out, mut cost_in) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        for op in &ops {
            match op {
                Op::Acquire { units, cost, .. } => { units_in += units; cost_in += cost; }
                Op::Dispose { units, .. } | Op::Leave { units, .. } => units_out += units,
            }
        }
        prop_assert_eq!(last.units, units_in - units_out + outcome.short);
        let denied: Decimal = outcome.rows.iter().map(|r| r.denied()).sum();
        let cost_out: Decimal = outcome.rows.iter().map(|r| r.acb).sum::<Decimal>()
            + outcome.removals.iter().map(|r| r.cost).sum::<Decimal>();
        prop_assert!(close(cost_in + denied, cost_out + last.cost), "{cost_in} + {denied} vs {cost_out} + {last:?}");
    }

    /// A year-end snapshot's state: the walk from the state at a day (taken from a walk that
    /// read 30 days and more past it) gives, from that day on, the rows (denials included: a
    /// loss after the day may be superficial by an acquisition before it), removals, holdings
    /// and shortfall of a walk from the first operation, also from a second cut.
    #[test]
    fn the_walk_from_the_state_at_a_day_equals_the_walk_from_the_first_operation(
        steps in prop::collection::vec(step(), 1..60),
        cuts in (0..600i64, 0..600i64),
    ) {
        let ops = ops(&steps);
        let (first, second) = (19_000 + cuts.0.min(cuts.1), 19_000 + cuts.0.max(cuts.1));
        let whole = walk_token(&ops, first..=i64::MAX);
        let (_, states) = walk_from(None, &ops, first..=i64::MAX, &[first, second]);
        let after = |cut: i64| ops.iter().filter(|op| day(op) >= cut).cloned().collect::<Vec<_>>();
        let (resumed, again) = walk_from(states.first(), &after(first), first..=i64::MAX, &[second]);
        // The state at the second cut is the same whether the walk started at the first.
        prop_assert_eq!(again.first(), states.get(1));
        let (twice, _) = walk_from(again.first(), &after(second), second..=i64::MAX, &[]);
        for (cut, part) in [(first, &resumed), (second, &twice)] {
            let rows: Vec<_> = whole.rows.iter().filter(|r| r.day >= cut).cloned().collect();
            prop_assert_eq!(&rows, &part.rows);
            let removals: Vec<_> = whole.removals.iter().filter(|r| r.day >= cut).cloned().collect();
            prop_assert_eq!(&removals, &part.removals);
            prop_assert_eq!(whole.short, part.short);
            for (d, held) in &part.after_day {
                prop_assert_eq!(whole.holding_at(*d), *held, "day {}", d);
            }
        }
    }
}

fn day(op: &Op) -> i64 {
    match op {
        Op::Acquire { day, .. } | Op::Dispose { day, .. } | Op::Leave { day, .. } => *day,
    }
}
