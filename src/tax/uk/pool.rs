//! The section 104 pool: one per token per person, its units and their pooled allowable cost.
//!
//! TCGA 1992 s104 (<https://www.legislation.gov.uk/ukpga/1992/12/section/104>) and HMRC's
//! CRYPTO22200 (<https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22200>):
//! tokens of one type that are dealt in without identifying which ones are pooled; each
//! acquisition adds its units and its cost, each part disposal takes the units at the pool's
//! average cost (pool cost × units disposed / pool units).

use rust_decimal::Decimal;

use crate::tax::engine::proportion;

/// A section 104 pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pool {
    /// Units held in the pool.
    pub units: Decimal,
    /// Their pooled allowable cost.
    pub cost: Decimal,
}

/// What a part disposal took from the pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Taken {
    /// Units taken from the pool (at most what it held).
    pub units: Decimal,
    /// Their allowable cost.
    pub cost: Decimal,
    /// Units asked for beyond what the pool held (no cost is known for them).
    pub short: Decimal,
}

impl Pool {
    /// Adds an acquisition.
    pub fn add(&mut self, units: Decimal, cost: Decimal) {
        self.units += units;
        self.cost += cost;
    }

    /// Takes `units` at the pool's average cost; all of it when `units` is the whole pool or
    /// more (so the pool's cost never goes below zero and a pool emptied has no cost left).
    pub fn take(&mut self, units: Decimal) -> Taken {
        if units <= Decimal::ZERO {
            return Taken::default();
        }
        if units >= self.units {
            let taken = Taken {
                units: self.units.max(Decimal::ZERO),
                cost: self.cost,
                short: units - self.units.max(Decimal::ZERO),
            };
            *self = Pool::default();
            return taken;
        }
        let cost = proportion(self.cost, units, self.units).min(self.cost);
        self.units -= units;
        self.cost -= cost;
        Taken { units, cost, short: Decimal::ZERO }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    /// CRYPTO22251 (<https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22251>):
    /// 100 tokens for £1,000, 50 for £125,000; 50 sold take £42,000, leaving 100 at £84,000.
    #[test]
    fn crypto22251_average_cost() {
        let mut pool = Pool::default();
        pool.add(dec("100"), dec("1000"));
        pool.add(dec("50"), dec("125000"));
        assert_eq!(pool, Pool { units: dec("150"), cost: dec("126000") });
        let taken = pool.take(dec("50"));
        assert_eq!(taken.cost, dec("42000"));
        assert_eq!(dec("300000") - taken.cost, dec("258000"));
        assert_eq!(pool, Pool { units: dec("100"), cost: dec("84000") });
    }

    #[test]
    fn taking_more_than_held_empties_the_pool_and_says_how_much_was_short() {
        let mut pool = Pool { units: dec("2"), cost: dec("10") };
        let taken = pool.take(dec("5"));
        assert_eq!(taken, Taken { units: dec("2"), cost: dec("10"), short: dec("3") });
        assert_eq!(pool, Pool::default());
    }
}
