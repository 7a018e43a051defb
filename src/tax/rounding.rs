//! Cents that add up: a sale split over several lots is rounded as a whole, and its cents are
//! spread over its fragments by the largest-remainder method.
//!
//! Rounding each lot fragment alone makes a sale's rows disagree with the sale: three fragments
//! of a $100.00 sale would print 33.33 three times (99.99). Here the sale's total is rounded to
//! the cent once (half away from zero), every fragment is first cut down to the cent below, and
//! the cents still missing go one each to the fragments that lost the most in the cut (ties to
//! the earlier fragment). So the rows of every sale add up to its own rounded figure, and each
//! row is within one cent of its exact figure.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// Rounds to the cent, half away from zero.
pub fn cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The parts of `exact` rounded to the cent so that they sum to `cents(Σ exact)`.
pub fn spread_cents(exact: &[Decimal]) -> Vec<Decimal> {
    spread_in_units(exact).unwrap_or_else(|| spread_decimals(exact))
}

/// [`spread_cents`] in integers, the same arithmetic on each part as a whole number of units of
/// 10^-S (S the largest scale of the parts, at least 2), which is exact: a year's sales spread
/// their cents several times faster so. `None` when a part or the sum does not fit in an i128
/// (or a cent count in a decimal); [`spread_decimals`] serves those.
fn spread_in_units(exact: &[Decimal]) -> Option<Vec<Decimal>> {
    let scale = exact.iter().map(|x| x.scale()).max().unwrap_or(2).max(2);
    let unit = 10i128.checked_pow(scale - 2)?;
    let mut units = Vec::with_capacity(exact.len());
    let mut sum = 0i128;
    for x in exact {
        let u = x.mantissa().checked_mul(10i128.checked_pow(scale - x.scale())?)?;
        sum = sum.checked_add(u)?;
        units.push(u);
    }
    // The total to the cent, half away from zero; each part cut down to the cent below.
    let (whole, rest) = (sum / unit, sum % unit);
    let total = if rest.checked_abs()?.checked_mul(2)? >= unit { whole + sum.signum() } else { whole };
    let floors: Vec<i128> = units.iter().map(|u| u.div_euclid(unit)).collect();
    let given = floors.iter().try_fold(0i128, |a, f| a.checked_add(*f))?;
    let missing = usize::try_from(total.checked_sub(given)?.max(0)).ok()?.min(units.len());
    // The `missing` largest remainders (the earlier part first among equals) get a cent each.
    let mut bonus = vec![false; units.len()];
    if missing > 0 {
        let mut order: Vec<usize> = (0..units.len()).collect();
        let rest = |i: usize| units[i].rem_euclid(unit);
        if missing < order.len() {
            order.select_nth_unstable_by(missing, |&a, &b| rest(b).cmp(&rest(a)).then(a.cmp(&b)));
        }
        for &i in order.iter().take(missing) {
            bonus[i] = true;
        }
    }
    // As the decimal arithmetic gives them: a part already in cents (scale 2 or less) that gets
    // no cent is itself, every other one is in cents (scale 2).
    exact
        .iter()
        .zip(floors)
        .zip(bonus)
        .map(|((x, floor), bonus)| {
            if x.scale() <= 2 && !bonus {
                Some(*x)
            } else {
                Decimal::try_from_i128_with_scale(floor + i128::from(bonus), 2).ok()
            }
        })
        .collect()
}

/// [`spread_cents`] in decimal arithmetic (any parts).
fn spread_decimals(exact: &[Decimal]) -> Vec<Decimal> {
    let total = cents(exact.iter().copied().fold(Decimal::ZERO, |a, b| a.checked_add(b).unwrap_or(a)));
    let mut parts: Vec<Decimal> =
        exact.iter().map(|x| x.round_dp_with_strategy(2, RoundingStrategy::ToNegativeInfinity)).collect();
    let cent = Decimal::new(1, 2);
    let given: Decimal = parts.iter().sum();
    // `given` is a multiple of a cent no greater than the exact sum, so the cents missing are
    // between zero and the number of parts.
    let missing = ((total - given) / cent).trunc().to_usize().unwrap_or(0).min(parts.len());
    if missing == 0 {
        return parts;
    }
    // The `missing` largest remainders (the earlier part first among equals) get a cent each:
    // picked out, not sorted (a year's income is tens of thousands of parts).
    let rest: Vec<Decimal> = exact.iter().zip(&parts).map(|(x, p)| x - p).collect();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    if missing < order.len() {
        order.select_nth_unstable_by(missing, |&a, &b| rest[b].cmp(&rest[a]).then(a.cmp(&b)));
    }
    for &i in order.iter().take(missing) {
        parts[i] += cent;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// The case: a $100.00 sale over three lots of equal size.
    #[test]
    fn three_fragments_of_a_hundred_dollars_add_up_to_a_hundred() {
        let third = d("100") / d("3");
        let parts = spread_cents(&[third, third, third]);
        assert_eq!(parts, [d("33.34"), d("33.33"), d("33.33")], "equal remainders: the first gets the cent");
        let parts = spread_cents(&[third, third, d("100") - third - third]);
        assert_eq!(parts, [d("33.33"), d("33.33"), d("33.34")], "the last holds the largest remainder");
        assert_eq!(parts.iter().sum::<Decimal>(), d("100.00"));
    }

    #[test]
    fn the_cent_goes_to_the_largest_remainder() {
        // 0.004 + 0.007 + 1.009 = 1.020: cut 0.00, 0.00, 1.00; two cents to the two largest.
        let parts = spread_cents(&[d("0.004"), d("0.007"), d("1.009")]);
        assert_eq!(parts, [d("0.00"), d("0.01"), d("1.01")]);
    }

    #[test]
    fn one_part_is_plain_rounding_and_negatives_add_up_too() {
        assert_eq!(spread_cents(&[d("2.005")]), [d("2.01")]);
        assert_eq!(spread_cents(&[d("-2.005")]), [d("-2.01")]);
        let parts = spread_cents(&[d("-0.335"), d("-0.335"), d("-0.335")]);
        assert_eq!(parts.iter().sum::<Decimal>(), d("-1.01"));
        assert!(parts.iter().all(|p| (*p - d("-0.335")).abs() < d("0.01")));
        assert!(spread_cents(&[]).is_empty());
    }

    proptest::proptest! {
        /// The cents picked out are those of the largest remainders, the earlier first among
        /// equals (what a full sort gives), and the parts add up to the rounded total.
        #[test]
        fn the_picked_cents_are_those_of_a_full_sort(
            parts in proptest::collection::vec((-5_000_000i64..5_000_000, 0u32..8), 0..40),
        ) {
            // Mixed scales, the parts of a sale as the engine gives them and whole cents.
            let exact: Vec<Decimal> = parts.iter().map(|(m, scale)| Decimal::new(*m, *scale)).collect();
            let mut parts: Vec<Decimal> =
                exact.iter().map(|x| x.round_dp_with_strategy(2, RoundingStrategy::ToNegativeInfinity)).collect();
            let total = cents(exact.iter().sum());
            let missing = ((total - parts.iter().sum::<Decimal>()) / Decimal::new(1, 2)).to_usize().unwrap_or(0);
            let mut order: Vec<usize> = (0..parts.len()).collect();
            order.sort_by(|&a, &b| (exact[b] - parts[b]).cmp(&(exact[a] - parts[a])).then(a.cmp(&b)));
            for &i in order.iter().take(missing) {
                parts[i] += Decimal::new(1, 2);
            }
            let spread = spread_cents(&exact);
            proptest::prop_assert_eq!(&spread, &parts);
            proptest::prop_assert_eq!(spread.iter().sum::<Decimal>(), total);
            // The integer way gives the decimal way's figures to the digit (as they print).
            let texts = |d: &[Decimal]| d.iter().map(Decimal::to_string).collect::<Vec<_>>();
            proptest::prop_assert_eq!(texts(&spread), texts(&spread_decimals(&exact)));
            proptest::prop_assert!(spread_in_units(&exact).is_some());
        }
    }
}
