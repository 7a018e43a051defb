//! Amount arithmetic the simulated histories share: exact decimals, cut to an exchange's
//! places, and random shares.

use std::collections::BTreeMap;

use rust_decimal::{Decimal, RoundingStrategy};

/// Balances as an exchange's balance endpoint reports them: zeros left out, each amount
/// without trailing zeros.
pub fn reported_balances(balances: impl IntoIterator<Item = (String, Decimal)>) -> BTreeMap<String, Decimal> {
    balances
        .into_iter()
        .filter(|(_, amount)| !amount.is_zero())
        .map(|(code, amount)| (code, amount.normalize()))
        .collect()
}

/// Rounds towards zero to `dp` places (what an exchange keeps of an amount it computes).
pub fn floor_dp(value: Decimal, dp: u32) -> Decimal {
    value.round_dp_with_strategy(dp, RoundingStrategy::ToZero)
}

/// A percentage drawn from `range` (whole percents) as a decimal fraction: 5 → 0.05.
pub fn percent(rng: &mut fastrand::Rng, range: std::ops::RangeInclusive<i64>) -> Decimal {
    Decimal::new(rng.i64(range), 2)
}

/// The amount written with exactly `dp` places (`1.5` at 4 places is `1.5000`).
pub fn fixed(amount: Decimal, dp: u32) -> String {
    let mut value = amount;
    value.rescale(dp);
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutting_padding_and_drawing_shares() {
        assert_eq!(floor_dp(Decimal::new(-19_999, 4), 2), Decimal::new(-199, 2));
        assert_eq!(fixed(Decimal::new(15, 1), 4), "1.5000");
        assert_eq!(fixed(Decimal::new(123_456, 5), 2), "1.23");
        let mut rng = fastrand::Rng::with_seed(1);
        assert!(
            (0..100).map(|_| percent(&mut rng, 5..=20)).all(|p| p >= Decimal::new(5, 2) && p <= Decimal::new(2, 1))
        );
    }
}
