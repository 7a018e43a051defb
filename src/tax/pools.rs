//! Lots and the queues they wait in, ordered by the identification method.
//!
//! A pool is the lots of one asset (in one wallet under per-wallet tracking), kept in a
//! B-tree under a key that puts the next lot to use first: FIFO by acquisition (oldest
//! first), LIFO newest first, HIFO highest basis per unit first (basis including acquisition
//! fees; ties by earliest acquisition, then creation order), LOFO lowest first. A lot taken in
//! part keeps its acquisition date and basis per unit; the part taken gets the basis in
//! proportion and the part left keeps the rest, so basis is never created or lost by rounding.
//!
//! The basis per unit a lot is ranked by ([`Lot::rank`]) is fixed when the lot is made and
//! travels with its parts: after a split the two parts' own quotients differ in the last
//! digits (the basis is shared out exactly, the quotient is rounded), and ranking by them made
//! a part coming back by a transfer miss its lot. A part coming back is found by its lot id and
//! merged, whatever its own quotient; a year-end snapshot stores the rank, so a computation
//! going on from it orders and merges the lots as one from the first event does (issue #21).

use std::collections::{BTreeMap, HashMap};

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
    /// The basis per unit it is ranked by under HIFO/LOFO: its basis over its units when it
    /// was made ([`unit_basis`]), kept by its parts.
    pub rank: Decimal,
}

/// Basis per unit, `basis / amount` (the HIFO/LOFO ranking of a lot made with them).
pub fn unit_basis(amount: Decimal, basis: Decimal) -> Decimal {
    // A large basis over a tiny amount (10^20 over 10^-18) overflows: such a lot ranks
    // as the dearest, which is what its basis per unit is.
    if amount.is_zero() {
        Decimal::ZERO
    } else {
        basis.checked_div(amount).unwrap_or(if basis.is_sign_negative() == amount.is_sign_negative() {
            Decimal::MAX
        } else {
            Decimal::MIN
        })
    }
}

impl Lot {
    /// The lot ranked by its own basis per unit now (a lot made, or whose units or basis
    /// changed in meaning: a swap's scaled units, a transfer's carried fee).
    pub fn reranked(self) -> Lot {
        Lot { rank: unit_basis(self.amount, self.basis), ..self }
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
    /// Where each lot id is in `lots` (a part coming back merges by id, not by its key).
    keys: HashMap<i64, Key>,
}

impl Pool {
    /// An empty pool that gives lots in `method`'s order.
    pub fn new(method: Method) -> Pool {
        Pool { method, lots: BTreeMap::new(), keys: HashMap::new() }
    }

    /// Orders the lots by `method` from now on (an election changed): the lots stay, only
    /// their order changes.
    pub fn set_method(&mut self, method: Method) {
        if method == self.method {
            return;
        }
        self.method = method;
        self.keys.clear();
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
            Method::Hifo => (-lot.rank, lot.acquired_ms, lot.id),
            Method::Lofo => (lot.rank, lot.acquired_ms, lot.id),
        }
    }

    /// Adds a lot; a part of a lot already here (the same lot id: the same acquisition, come
    /// back by a transfer) is merged into it and keeps the held part's place.
    pub fn put(&mut self, lot: Lot) {
        match self.keys.get(&lot.id).and_then(|key| self.lots.get_mut(key)) {
            Some(held) => {
                held.amount += lot.amount;
                held.basis += lot.basis;
                held.basis_missing |= lot.basis_missing;
                held.price_missing |= lot.price_missing;
                held.moved |= lot.moved;
            }
            None => {
                let key = self.key(&lot);
                self.keys.insert(lot.id, key);
                self.lots.insert(key, lot);
            }
        }
    }

    /// Lowers the basis of lot `id` by `amount` (at most its basis: a rebate tied to its
    /// purchase); the lot is ranked by its new basis per unit. Returns what was taken off.
    pub fn reduce_basis(&mut self, id: i64, amount: Decimal) -> Decimal {
        let Some(lot) = self.keys.remove(&id).and_then(|key| self.lots.remove(&key)) else { return Decimal::ZERO };
        let taken_off = amount.min(lot.basis).max(Decimal::ZERO);
        self.put(Lot { basis: lot.basis - taken_off, ..lot }.reranked());
        taken_off
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
                self.keys.remove(&lot.id);
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
        self.keys.clear();
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
            rank: Decimal::ZERO,
        }
        .reranked()
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

    /// Issue #21 (proptest seed `cc 03c70825…` in `years_proptests.txt`): under HIFO a lot split
    /// by a transfer out of a wallet came back as a part whose own basis per unit differed from
    /// the rest's in the last digits, so from the first event two fragments of the lot were held
    /// while a computation from a snapshot held one. The part merges by id now.
    #[test]
    fn a_part_of_a_split_hifo_lot_coming_back_merges_with_its_lot_whatever_its_rounding() {
        let mut pool = Pool::new(Method::Hifo);
        // A third of the basis does not divide back to the quotient the two thirds left give
        // (…3333 against …3334 in the 28th digit).
        pool.put(lot(4, 10, "3", "1"));
        pool.put(lot(5, 20, "1", "0.1"));
        let (taken, short) = pool.take(d("1"));
        assert_eq!(short, Decimal::ZERO);
        let part = taken.into_iter().next().unwrap();
        let held = pool.lots().find(|l| l.id == 4).unwrap();
        assert_ne!(unit_basis(part.amount, part.basis), unit_basis(held.amount, held.basis), "the case needs rounding");
        pool.put(part);
        let lots: Vec<(i64, Decimal, Decimal)> = pool.lots().map(|l| (l.id, l.amount, l.basis)).collect();
        assert_eq!(lots, [(4, d("3"), d("1")), (5, d("1"), d("0.1"))]);
        // A part re-ranked on its way (a swap, a carried fee) still finds its lot.
        let (taken, _) = pool.take(d("0.5"));
        pool.put(Lot { basis: taken[0].basis + d("3"), ..taken[0].clone() }.reranked());
        assert_eq!(pool.lots().filter(|l| l.id == 4).count(), 1);
        assert_eq!((pool.amount(), pool.lots().map(|l| l.basis).sum::<Decimal>()), (d("4"), d("4.1")));
        // Ordered by the rank it was made with, also after the method changes back and forth.
        pool.set_method(Method::Fifo);
        pool.set_method(Method::Hifo);
        assert_eq!(pool.lots().map(|l| l.id).collect::<Vec<_>>(), [4, 5]);
        assert_eq!(pool.lots().next().unwrap().rank, unit_basis(d("3"), d("1")));
    }
}
