//! The engine's state between two events — lots, balances, the lot counter — taken out for a
//! year-end snapshot and put back to go on from it.
//!
//! What is not in it: the options, transfers and elections (given again to the new engine,
//! and part of the snapshot's key), and the all-time audit lists (removals, basis gaps,
//! negative balances, shortfalls, basis acquired and disposed of): `check` reads those and
//! always computes from the first event; a computation started from a snapshot has them from
//! the snapshot on.

use rust_decimal::Decimal;

use super::super::Method;
use super::super::pools::{Lot, Pool};
use super::Engine;

/// The state of an [`Engine`] at a year's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineState {
    /// The lots held: wallet (`None`: the universal pool), asset, the pool's method, the lot.
    pub lots: Vec<(Option<i64>, String, Method, Lot)>,
    /// Crypto balances: account, asset, amount.
    pub balances: Vec<(i64, String, Decimal)>,
    /// Lots are queued per wallet (per-wallet tracking, or the US rule from 2025).
    pub per_wallet: bool,
    /// The last lot id given.
    pub next_lot: i64,
    /// Own transfers sent and not arrived: deposit, receiving wallet, asset, units.
    pub in_flight: Vec<(i64, i64, String, Decimal)>,
    /// Deposits of own transfers that arrived before their withdrawal was sent.
    pub landed_first: Vec<i64>,
}

impl Engine {
    /// The state now, in a stable order (wallet, asset, the pool's order; account, asset).
    pub fn state(&self) -> EngineState {
        let mut lots = Vec::new();
        for (wallet, pools) in &self.pools {
            for (asset, pool) in pools {
                for lot in pool.lots() {
                    lots.push((*wallet, asset.clone(), pool.method(), lot.clone()));
                }
            }
        }
        let balances = self
            .balances
            .iter()
            .flat_map(|(account, assets)| assets.iter().map(move |(asset, amount)| (*account, asset.clone(), *amount)))
            .collect();
        let in_flight =
            self.in_flight.iter().map(|(deposit, (to, asset, units))| (*deposit, *to, asset.clone(), *units)).collect();
        EngineState {
            lots,
            balances,
            per_wallet: self.per_wallet,
            next_lot: self.next_lot,
            in_flight,
            landed_first: self.landed_first.iter().copied().collect(),
        }
    }

    /// Puts a state back into a fresh engine (made with the same options, transfers and
    /// elections): the events after the state's year end then give what a computation from the
    /// first event gives.
    pub fn restore(&mut self, state: EngineState) {
        self.pools.clear();
        for (wallet, asset, method, lot) in state.lots {
            let pools = self.pools.entry(wallet).or_default();
            let pool = match pools.get_mut(asset.as_str()) {
                Some(pool) => pool,
                None => pools.entry(asset).or_insert_with(|| Pool::new(method)),
            };
            pool.put(lot);
        }
        self.balances.clear();
        for (account, asset, amount) in state.balances {
            self.balances.entry(account).or_default().insert(asset, amount);
        }
        self.per_wallet = state.per_wallet;
        self.next_lot = state.next_lot;
        self.in_flight =
            state.in_flight.into_iter().map(|(deposit, to, asset, units)| (deposit, (to, asset, units))).collect();
        self.landed_first = state.landed_first.into_iter().collect();
    }
}

impl Engine {
    /// The units disposed of beyond what was held so far, by asset (all time).
    pub fn shortfalls(&self) -> &std::collections::BTreeMap<String, Decimal> {
        &self.out.shortfalls
    }

    /// Puts back the shortfalls a snapshot kept, for a country that reports them over all of
    /// history (Germany, Australia): the engine goes on adding to them in the same order.
    pub fn restore_shortfalls(&mut self, shortfalls: std::collections::BTreeMap<String, Decimal>) {
        self.out.shortfalls = shortfalls;
    }
}
