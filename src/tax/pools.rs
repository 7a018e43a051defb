//! Lots and the queues they wait in, ordered by the identification method.
//!
//! A pool is the lots of one asset (in one wallet under per-wallet tracking), kept in a
//! B-tree under a key that puts the next lot to use first: FIFO by acquisition (oldest
//! first), LIFO newest first, HIFO highest basis per unit first (basis including acquisition
//! fees; ties by earliest acquisition, then creation order), LOFO lowest first. A lot taken in
//! part keeps its acquisition date and basis per unit; the part taken gets the basis in
//! proportion and the part left keeps the rest, so basis is never created or lost by rounding.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::Method;

/// Units acquired together: one acquisition, or what is left of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    /// Creation order (stable tie-break).
    pub id: i64,
    /// The acquiring event.
    pub event_id: i64,
    /// When acquired (UTC ms).
    pub acquired_ms: i64,
    /// Units.
    pub amount: Decimal,
    /// Basis of those units.
    pub basis: Decimal,
    /// The basis is unknown (counted as zero).
    pub basis_missing: bool,
    /// A value behind the basis is missing.
    pub price_missing: bool,
    /// The account the units were acquired in.
    pub origin_account: i64,
    /// The units (or some merged with them) left their account by an own transfer once.
    pub moved: bool,
}

impl Lot {
    /// Basis per unit (the HIFO/LOFO ranking).
    fn unit_basis(&self) -> Decimal {
        // A large basis over a tiny amount (10^20 over 10^-18) overflows: such a lot ranks
        // as the dearest, which is what its basis per unit is.
        if self.amount.is_zero() {
            Decimal::ZERO
        } else {
            self.basis.checked_div(self.amount).unwrap_or(
                if self.basis.is_sign_negative() == self.amount.is_sign_negative() {
                    Decimal::MAX
                } else {
                    Decimal::MIN
                },
            )
        }
    }

    /// Splits off `amount` units (less than the lot holds) with their share of the basis.
    fn split_off(&mut self, amount: Decimal) -> Lot {
        let basis = super::engine::proportion(self.basis, amount, self.amount);
        self.amount -= amount;
        self.basis -= basis;
        Lot { amount, basis, ..self.clone() }
    }
}

/// The ordering key: the first key is the next lot to use.
type Key = (Decimal, i64, i64);

/// The lots of one asset (in one wallet), in the order of a method.
#[derive(Debug, Clone)]
pub struct Pool {
    method: Method,
    lots: BTreeMap<Key, Lot>,
}

impl Pool {
    /// An empty pool that gives lots in `method`'s order.
    pub fn new(method: Method) -> Pool {
        Pool { method, lots: BTreeMap::new() }
    }

    /// Orders the lots by `method` from now on (an election changed): the lots stay, only
    /// their order changes.
    pub fn set_method(&mut self, method: Method) {
        if method == self.method {
            return;
        }
        self.method = method;
        for lot in std::mem::take(&mut self.lots).into_values() {
            self.put(lot);
        }
    }

    /// The method the lots are ordered by now.
    pub fn method(&self) -> Method {
        self.method
    }

    fn key(&self, lot: &Lot) -> Key {
        match self.method {
            Method::Fifo => (Decimal::ZERO, lot.acquired_ms, lot.id),
            Method::Lifo => (Decimal::ZERO, -lot.acquired_ms, -lot.id),
            Method::Hifo => (-lot.unit_basis(), lot.acquired_ms, lot.id),
            Method::Lofo => (lot.unit_basis(), lot.acquired_ms, lot.id),
        }
    }

    /// Adds a lot; a part of a lot already here (the same acquisition, come back by a
    /// transfer) is merged into it.
    pub fn put(&mut self, lot: Lot) {
        let key = self.key(&lot);
        match self.lots.get_mut(&key) {
            Some(held) => {
                held.amount += lot.amount;
                held.basis += lot.basis;
                held.basis_missing |= lot.basis_missing;
                held.price_missing |= lot.price_missing;
                held.moved |= lot.moved;
            }
            None => {
                self.lots.insert(key, lot);
            }
        }
    }

    /// Takes `amount` units in the method's order: the lots (or parts) taken, and how many
    /// units were missing when the pool held less.
    pub fn take(&mut self, amount: Decimal) -> (Vec<Lot>, Decimal) {
        let mut need = amount;
        let mut taken = Vec::new();
        while need > Decimal::ZERO {
            let Some(mut entry) = self.lots.first_entry() else { break };
            if entry.get().amount <= need {
                let lot = entry.remove();
                need -= lot.amount;
                taken.push(lot);
            } else {
                taken.push(entry.get_mut().split_off(need));
                need = Decimal::ZERO;
            }
        }
        (taken, need)
    }

    /// Units held.
    pub fn amount(&self) -> Decimal {
        self.lots.values().map(|l| l.amount).sum()
    }

    /// The lots, in the method's order.
    pub fn lots(&self) -> impl Iterator<Item = &Lot> {
        self.lots.values()
    }

    /// Empties the pool, giving its lots oldest first.
    pub fn drain_oldest_first(&mut self) -> Vec<Lot> {
        let mut lots: Vec<Lot> = std::mem::take(&mut self.lots).into_values().collect();
        lots.sort_by_key(|l| (l.acquired_ms, l.id));
        lots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn lot(id: i64, acquired_ms: i64, amount: &str, basis: &str) -> Lot {
        Lot {
            id,
            event_id: id,
            acquired_ms,
            amount: d(amount),
            basis: d(basis),
            basis_missing: false,
            price_missing: false,
            origin_account: 1,
            moved: false,
        }
    }

    /// Lot identification: four lots, 1.5 units sold; which lots each method uses.
    #[test]
    fn each_method_takes_the_reference_lots() {
        let want = [
            (Method::Fifo, vec![(1, "1.0", "20000"), (2, "0.5", "15000")]),
            (Method::Lifo, vec![(4, "1.0", "40000"), (3, "0.5", "30000")]),
            (Method::Hifo, vec![(3, "1.0", "60000"), (4, "0.5", "20000")]),
            (Method::Lofo, vec![(1, "1.0", "20000"), (2, "0.5", "15000")]),
        ];
        for (method, expected) in want {
            let mut pool = Pool::new(method);
            pool.put(lot(1, 10, "1.0", "20000"));
            pool.put(lot(2, 20, "1.0", "30000"));
            pool.put(lot(3, 30, "1.0", "60000"));
            pool.put(lot(4, 40, "1.0", "40000"));
            let (taken, short) = pool.take(d("1.5"));
            assert_eq!(short, Decimal::ZERO);
            let got: Vec<(i64, Decimal, Decimal)> = taken.iter().map(|l| (l.id, l.amount, l.basis)).collect();
            let expected: Vec<(i64, Decimal, Decimal)> = expected.iter().map(|(id, a, b)| (*id, d(a), d(b))).collect();
            assert_eq!(got, expected, "{method:?}");
            assert_eq!(pool.amount(), d("2.5"));
        }
    }

    #[test]
    fn a_split_keeps_all_the_basis_and_a_short_pool_says_how_much_is_missing() {
        let mut pool = Pool::new(Method::Fifo);
        pool.put(lot(1, 10, "3", "100"));
        let (first, _) = pool.take(d("1"));
        let (second, short) = pool.take(d("5"));
        assert_eq!(short, d("3"));
        let total: Decimal = first.iter().chain(&second).map(|l| l.basis).sum();
        assert_eq!(total, d("100"));
        assert_eq!(pool.amount(), Decimal::ZERO);
    }

    #[test]
    fn hifo_ties_go_to_the_earliest_then_the_first_made() {
        let mut pool = Pool::new(Method::Hifo);
        pool.put(lot(3, 20, "1", "10"));
        pool.put(lot(2, 10, "1", "10"));
        pool.put(lot(1, 10, "2", "20"));
        let (taken, _) = pool.take(d("4"));
        assert_eq!(taken.iter().map(|l| l.id).collect::<Vec<_>>(), [1, 2, 3]);
    }

    #[test]
    fn a_part_coming_back_merges_with_its_lot() {
        let mut pool = Pool::new(Method::Fifo);
        pool.put(lot(1, 10, "2", "20"));
        let (taken, _) = pool.take(d("0.5"));
        for part in taken {
            pool.put(part);
        }
        assert_eq!(pool.lots().count(), 1);
        assert_eq!((pool.amount(), pool.lots().next().unwrap().basis), (d("2"), d("20")));
    }
}
