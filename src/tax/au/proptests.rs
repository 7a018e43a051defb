//! Properties of the Australian computation over random histories: the discount only on
//! gains of parcels held past the 12-month rule; losses applied before the discount; the net
//! capital gain never negative, a net loss carried forward instead; the parcels held add up to
//! the units bought and received less those disposed of.

use cointally_exchanges::{EventKind, LegRole};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::day::{au_date, financial_year_of};
use super::year::{NetCapitalGain, held_twelve_months};
use super::{AuComputed, compute_events};
use crate::ledger::{TaxEvent, TaxLeg};
use crate::tax::Method;

/// One step: hours after the previous one, then what happens (units in 1/1,000, dollars).
#[derive(Debug, Clone)]
enum Step {
    Buy {
        hours: i64,
        units: i64,
        dollars: i64,
    },
    /// Sells a share (in %) of what is held.
    Sell {
        hours: i64,
        percent: i64,
        dollars: i64,
    },
    Stake {
        hours: i64,
        units: i64,
        dollars: i64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1..4_000i64, 1..5_000i64, 0..90_000i64).prop_map(|(hours, units, dollars)| Step::Buy {
            hours,
            units,
            dollars
        }),
        (1..4_000i64, 1..=100i64, 0..90_000i64).prop_map(|(hours, percent, dollars)| Step::Sell {
            hours,
            percent,
            dollars
        }),
        (1..4_000i64, 1..500i64, 0..5_000i64).prop_map(|(hours, units, dollars)| Step::Stake { hours, units, dollars }),
    ]
}

fn leg(seq: i64, role: LegRole, asset: &str, amount: Decimal, value: Decimal) -> TaxLeg {
    TaxLeg { seq, role, asset: asset.into(), amount, value: Some(value) }
}

/// The events, and the units that should be held after them.
fn history(steps: &[Step]) -> (Vec<TaxEvent>, Decimal) {
    let mut time_ms = 1_600_000_000_000i64;
    let mut held = Decimal::ZERO;
    let mut events = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let (hours, kind, legs) = match *s {
            Step::Buy { hours, units, dollars } => {
                let (units, dollars) = (Decimal::new(units, 3), Decimal::from(dollars));
                held += units;
                let legs = vec![
                    leg(0, LegRole::Sent, "AUD", -dollars, dollars),
                    leg(1, LegRole::Received, "BTC", units, dollars),
                ];
                (hours, EventKind::Trade, legs)
            }
            Step::Sell { hours, percent, dollars } => {
                let units = (held * Decimal::from(percent) / Decimal::ONE_HUNDRED).round_dp(3);
                if units.is_zero() {
                    continue;
                }
                held -= units;
                let dollars = Decimal::from(dollars);
                let legs = vec![
                    leg(0, LegRole::Sent, "BTC", -units, dollars),
                    leg(1, LegRole::Received, "AUD", dollars, dollars),
                ];
                (hours, EventKind::Trade, legs)
            }
            Step::Stake { hours, units, dollars } => {
                let units = Decimal::new(units, 3);
                held += units;
                (hours, EventKind::Staking, vec![leg(0, LegRole::Received, "BTC", units, Decimal::from(dollars))])
            }
        };
        time_ms += hours * 3_600_000;
        events.push(TaxEvent { id: i as i64 + 1, account_id: 1, kind, time_ms, basis: None, legs });
    }
    (events, held)
}

fn last_year(events: &[TaxEvent]) -> i32 {
    events.last().map(|e| financial_year_of(au_date(e.time_ms))).unwrap_or(2021)
}

/// Equal but for the last of `Decimal`'s 28 digits (a third of a sale's proceeds is not
/// exact, so sums taken in another grouping can differ there).
fn close(a: Decimal, b: Decimal) -> bool {
    (a - b).abs() <= Decimal::new(1, 18)
}

fn check_year(c: &AuComputed) -> Result<(), TestCaseError> {
    let f = &c.figures;
    let mut discount_gains = Decimal::ZERO;
    for row in &c.disposals {
        if row.discountable() {
            let acquired = row.acquired.ok_or_else(|| TestCaseError::fail("discount without a parcel"))?;
            prop_assert!(held_twelve_months(acquired, row.disposed), "{row:?}");
            prop_assert!(row.gain() > Decimal::ZERO);
            discount_gains += row.gain();
        }
    }
    prop_assert!(close(f.discount_gains, discount_gains), "{} {discount_gains}", f.discount_gains);
    prop_assert!(f.net_capital_gain >= Decimal::ZERO);
    prop_assert!(f.discount >= Decimal::ZERO);
    // Losses first (against the other gains first), then half of the discount gains left.
    let all_losses = f.losses + f.losses_brought_forward;
    let against_discount = (all_losses - f.other_gains).max(Decimal::ZERO).min(f.discount_gains);
    prop_assert!(close(f.discount, (f.discount_gains - against_discount) / Decimal::TWO));
    let left = f.total_gains() - all_losses;
    if left <= Decimal::ZERO {
        prop_assert_eq!(f.net_capital_gain, Decimal::ZERO);
        prop_assert!(close(f.carried_forward, -left), "{} {left}", f.carried_forward);
    } else {
        prop_assert_eq!(f.carried_forward, Decimal::ZERO);
        prop_assert!(close(f.net_capital_gain + f.discount, left));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn discount_losses_and_parcels_hold_for_any_history(
        steps in prop::collection::vec(step(), 1..40),
        method in prop_oneof![Just(Method::Fifo), Just(Method::Lifo), Just(Method::Hifo)],
    ) {
        let (events, held) = history(&steps);
        let year = last_year(&events);
        let c = compute_events(year, method, &[], &events);
        check_year(&c)?;
        let parcels: Decimal = c.parcels.iter().map(|p| p.amount).sum();
        prop_assert_eq!(parcels, held);
        prop_assert!(c.short.is_empty());
        prop_assert!(c.parcels.iter().all(|p| p.cost_basis >= Decimal::ZERO));
        // The year before: the same invariants, and its carried-forward loss is this year's
        // brought-forward loss.
        let before = compute_events(year - 1, method, &[], &events);
        check_year(&before)?;
        prop_assert_eq!(before.figures.carried_forward, c.figures.losses_brought_forward);
    }

    #[test]
    fn the_net_capital_gain_steps_for_any_figures(
        other in 0..1_000_000i64, discounted in 0..1_000_000i64, losses in 0..1_000_000i64, earlier in 0..1_000_000i64,
    ) {
        let [other, discounted, losses, earlier] = [other, discounted, losses, earlier].map(|c| Decimal::new(c, 2));
        let f = NetCapitalGain::compute(other, discounted, losses, earlier);
        prop_assert!(f.net_capital_gain >= Decimal::ZERO);
        prop_assert!(f.losses_applied <= losses && f.brought_forward_applied <= earlier);
        prop_assert_eq!(f.losses_applied + f.brought_forward_applied + f.carried_forward, losses + earlier);
        prop_assert_eq!(f.net_capital_gain + f.discount + f.losses_applied + f.brought_forward_applied, other + discounted);
        prop_assert!(f.discount <= discounted / Decimal::TWO);
    }

    /// Losses from outside the ledger (`losses_brought_forward` settings, in cents; 0 = not
    /// set): a year's setting is its brought-forward figure, in place of what the year before
    /// carries (which `ledger_carried_in` still shows); without one, the year before's
    /// carried-forward loss (itself computed with the settings) comes in; the ATO's order
    /// holds either way.
    #[test]
    fn losses_brought_forward_settings_replace_the_carry_and_keep_the_order(
        steps in prop::collection::vec(step(), 1..30),
        earlier in 0..2_000_000i64,
        this in 0..2_000_000i64,
    ) {
        let (events, _) = history(&steps);
        let year = last_year(&events);
        let mut outside = std::collections::BTreeMap::new();
        if earlier > 0 { outside.insert(year - 1, Decimal::new(earlier, 2)); }
        if this > 0 { outside.insert(year, Decimal::new(this, 2)); }
        let c = super::compute_events_with(year, Method::Fifo, &[], &events, &outside);
        let before = super::compute_events_with(year - 1, Method::Fifo, &[], &events, &outside);
        check_year(&c)?;
        check_year(&before)?;
        prop_assert_eq!(c.ledger_carried_in, before.figures.carried_forward);
        let expected = if this > 0 { Decimal::new(this, 2) } else { before.figures.carried_forward };
        prop_assert_eq!(c.figures.losses_brought_forward, expected);
        prop_assert_eq!(c.losses_set, (this > 0).then(|| Decimal::new(this, 2)));
    }
}
