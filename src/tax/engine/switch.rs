//! The US switch of 1 January 2025 from one lot queue per asset to one per wallet: the unused
//! basis of the universal queue is allocated to the units each wallet holds, by the stored
//! allocation (`cointally basis allocate`) where there is one, else by the global rule.
//!
//! Rev. Proc. 2024-28 (2024-31 I.R.B. 326, <https://www.irs.gov/irb/2024-31_IRB>) lets a
//! taxpayer allocate "units of unused basis" to the "remaining digital assets" held in each
//! wallet or account as of 1 January 2025 (§3, §5.02), either by a specific unit allocation or
//! by a global allocation: a rule fixed before 2025 that allocates the units of unused basis
//! mechanically, without later discretion (§5.02(2)(b)); the allocation is irrevocable
//! (§4.02(6)). Section numbers as quoted by secondary summaries: the IRB text itself could not
//! be read from here.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use super::super::pools::{Lot, Pool};
use super::{Engine, proportion};
use crate::ledger::AllocatedLot;

impl Engine {
    /// The units each wallet holds now, by asset: its balance plus the units of own transfers
    /// sent to it and not arrived yet (in flight at the switch, they belong to the receiving
    /// wallet). Wallets in the order of their labels.
    pub(super) fn holders(&self) -> BTreeMap<String, Vec<(String, i64, Decimal)>> {
        let mut held: BTreeMap<(String, i64), Decimal> = BTreeMap::new();
        for (account, assets) in &self.balances {
            for (asset, amount) in assets {
                *held.entry((asset.clone(), *account)).or_default() += *amount;
            }
        }
        for (account, asset, units) in self.in_flight.values() {
            *held.entry((asset.clone(), *account)).or_default() += *units;
        }
        let mut holders: BTreeMap<String, Vec<(String, i64, Decimal)>> = BTreeMap::new();
        for ((asset, account), amount) in held {
            if amount > Decimal::ZERO {
                let label = self.labels.get(&account).cloned().unwrap_or_default();
                holders.entry(asset).or_default().push((label, account, amount));
            }
        }
        for wallets in holders.values_mut() {
            wallets.sort();
        }
        holders
    }

    /// The units held per (wallet, asset) at the switch, as [`Engine::holders`] counts them.
    pub fn held_now(&self) -> BTreeMap<(i64, String), Decimal> {
        let mut out = BTreeMap::new();
        for (asset, wallets) in self.holders() {
            for (_, account, amount) in wallets {
                out.insert((account, asset.clone()), amount);
            }
        }
        out
    }

    /// The basis of the lots held now, per asset (before the switch: the unused basis).
    pub fn unused_basis(&self) -> BTreeMap<String, Decimal> {
        let mut out: BTreeMap<String, Decimal> = BTreeMap::new();
        for (asset, pool) in self.pools.values().flat_map(|pools| pools.iter()) {
            let basis: Decimal = pool.lots().map(|l| l.basis).sum();
            *out.entry(asset.clone()).or_default() += basis;
        }
        out
    }

    /// Switches to per-wallet lots now (the global rule, or the stored allocation) and returns
    /// the lots each wallet starts with, in wallet, asset and pool order: what `basis allocate`
    /// stores. Lots no wallet holds (`unassigned`) are returned apart.
    pub fn switch_now(&mut self) -> (Vec<AllocatedLot>, Vec<AllocatedLot>) {
        self.reseat_per_wallet();
        let (mut assigned, mut unassigned) = (Vec::new(), Vec::new());
        for (wallet, pools) in &self.pools {
            for (asset, pool) in pools {
                for lot in pool.lots() {
                    let allocated = AllocatedLot {
                        account_id: wallet.unwrap_or(0),
                        asset: asset.clone(),
                        units: lot.amount,
                        basis: lot.basis,
                        acquired_ms: lot.acquired_ms,
                        lot_id: lot.id,
                        event_id: lot.event_id,
                        origin_account: lot.origin_account,
                        moved: lot.moved,
                        basis_missing: lot.basis_missing,
                        price_missing: lot.price_missing,
                    };
                    match wallet {
                        Some(_) => assigned.push(allocated),
                        None => unassigned.push(allocated),
                    }
                }
            }
        }
        (assigned, unassigned)
    }

    /// The switch to per-wallet lots (US, 1 January 2025). Assets the stored allocation names
    /// start from its lots (the universal lots of those assets are set aside: their basis is
    /// what the allocation distributed); the others follow the global rule
    /// ([`Engine::global_rule`]).
    pub(super) fn reseat_per_wallet(&mut self) {
        self.per_wallet = true;
        let universal = std::mem::take(&mut self.pools);
        let mut holders = self.holders();
        let stored = self.allocation.clone().unwrap_or_default();
        let named: BTreeSet<&str> = stored.iter().map(|l| l.asset.as_str()).collect();
        for (asset, pool) in universal.into_values().flatten() {
            if named.contains(asset.as_str()) {
                continue;
            }
            let wallets = holders.remove(&asset).unwrap_or_default();
            self.global_rule(asset, pool, wallets);
        }
        for allocated in &stored {
            self.next_lot = self.next_lot.max(allocated.lot_id);
        }
        for allocated in stored {
            let lot = Lot {
                id: allocated.lot_id,
                event_id: allocated.event_id,
                acquired_ms: allocated.acquired_ms,
                amount: allocated.units,
                basis: allocated.basis,
                basis_missing: allocated.basis_missing,
                price_missing: allocated.price_missing,
                origin_account: allocated.origin_account,
                moved: allocated.moved,
                rank: Decimal::ZERO,
            }
            .reranked();
            self.pool(allocated.account_id, &allocated.asset).put(lot);
        }
    }

    /// The global rule for one asset (Rev. Proc. 2024-28 §5.02(2)(b)): the lots of the
    /// universal pool are handed to the wallets that hold the asset, oldest
    /// lots first, wallets in the order of their labels (`wallets`, sorted), each wallet getting as many units as
    /// it held; lots left over (the ledger saw more acquired than the wallets hold) go to the
    /// wallet holding the most. A wallet holding more than the pool had gets the rest without
    /// basis when it disposes of it.
    /// Units in flight at the switch count as held by the receiving wallet.
    fn global_rule(&mut self, asset: String, mut pool: Pool, wallets: Vec<(String, i64, Decimal)>) {
        let mut lots = pool.drain_oldest_first().into_iter();
        let mut carry: Option<Lot> = None;
        for (_, account, held) in &wallets {
            let mut need = *held;
            let target = self.pool(*account, &asset);
            while need > Decimal::ZERO {
                let Some(mut lot) = carry.take().or_else(|| lots.next()) else { break };
                if lot.amount <= need {
                    need -= lot.amount;
                    target.put(lot);
                } else {
                    let part_basis = proportion(lot.basis, need, lot.amount);
                    let part = Lot { amount: need, basis: part_basis, ..lot.clone() };
                    lot.amount -= need;
                    lot.basis -= part_basis;
                    target.put(part);
                    need = Decimal::ZERO;
                    carry = Some(lot);
                }
            }
        }
        let rest: Vec<Lot> = carry.into_iter().chain(lots).collect();
        if rest.is_empty() {
            return;
        }
        let largest = wallets.iter().max_by(|a, b| a.2.cmp(&b.2).then_with(|| b.0.cmp(&a.0))).map(|w| w.1);
        let Some(account) = largest else {
            // No wallet holds the asset: the lots stay where no disposal reaches them.
            let method = self.method_for(None);
            let unassigned =
                self.pools.entry(None).or_default().entry(asset.clone()).or_insert_with(|| Pool::new(method));
            for lot in rest {
                unassigned.put(lot);
            }
            return;
        };
        let target = self.pool(account, &asset);
        for lot in rest {
            target.put(lot);
        }
    }
}
