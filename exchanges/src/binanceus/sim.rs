//! A local Binance.US: Binance's simulator ([`crate::binance::sim`]) serving only the paths
//! Binance.US has, at its weights and budgets ([`super::api::VENUE`]), with an account whose
//! history holds what Binance.US's walked endpoints can show: spot trades, crypto deposits and
//! withdrawals (generated as for Binance), and Binance.US's own streams rendered here
//! ([`us_history`]): USD deposits and withdrawals, staking rewards (each also listed as a
//! `Staking Rewards` distribution with the same `tranId`, as Binance.US lists them), other
//! distributions, dust conversions to BNB and OTC orders paid in USD. The account's balances
//! include every one of them, counted once.

use std::collections::BTreeMap;
use std::io;

use rust_decimal::Decimal;
use serde_json::json;

use crate::binance::sim::store::{Row, Store, pad8};
use crate::binance::sim::{self, BinanceSim, SimConfig};
use crate::sim::amounts::floor_dp;
use crate::sim::generate::{DAY_MS, HOUR_MS, Market, Profile};
use crate::sim::ids::{hex, uuid};

use super::api::{LAUNCH_MS, VENUE};

/// Mixed into the seed of the Binance.US streams, so they do not repeat the generator's draws.
const US_SEED_SALT: u64 = 0x5553_4849_5354; // "USHIST"

/// `profile` with only what Binance's generator renders for Binance.US (no binance.com fiat,
/// card buys, converts, dust, distributions or Simple Earn, whose shapes and EUR money are
/// binance.com's; no failed records, which the generator spreads over those kinds too).
/// Binance.US's own streams are sized from the original profile by [`us_history`].
pub fn us_profile(profile: Profile) -> Profile {
    Profile {
        fiat_transfers: 0,
        card_buys: 0,
        converts: 0,
        dust: 0,
        dividends: 0,
        earn_flexible: 0,
        earn_locked: 0,
        failed: 0,
        ..profile
    }
}

/// Generates the history of `config` (its profile reduced by [`us_profile`], plus
/// [`us_history`] sized by the full profile) and serves it as Binance.US.
pub fn start(config: SimConfig) -> io::Result<BinanceSim> {
    let (profile, seed) = (config.profile.clone(), config.seed);
    let reduced = SimConfig { profile: us_profile(config.profile.clone()), ..config };
    sim::start_at_with(&VENUE, reduced, move |market, store| us_history(market, &profile, seed, store))
}

/// What one Binance.US record of [`us_history`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Fiat,
    Stake,
    Distribution,
    Dust,
    Otc,
}

/// Renders Binance.US's own streams into `store`, in USD only: `profile.fiat_transfers` USD
/// deposits and withdrawals (an opening deposit first, one failed deposit), half of
/// `profile.dividends` staking rewards and the other half distributions (referral rewards,
/// airdrops; one in twenty of zero amount), `profile.dust` dust conversions sweeping part of
/// what rewards brought into BNB, and `profile.converts` OTC orders buying crypto with USD the
/// deposits brought (the first one failed). Every amount spent comes from what earlier records
/// of these streams brought in, so no balance goes below zero at any time.
pub fn us_history(market: &Market, profile: &Profile, seed: u64, store: &mut Store) {
    let mut rng = fastrand::Rng::with_seed(seed ^ US_SEED_SALT);
    let first = profile.start_ms.max(LAUNCH_MS) + DAY_MS;
    let last = (profile.end_ms - DAY_MS).max(first + 1);
    let mut slots: Vec<(i64, Slot)> = Vec::new();
    let mut add = |count: usize, slot: Slot, rng: &mut fastrand::Rng| {
        for _ in 0..count {
            slots.push((rng.i64(first..last), slot));
        }
    };
    let stakes = profile.dividends / 2;
    add(profile.fiat_transfers.saturating_sub(1), Slot::Fiat, &mut rng);
    add(stakes, Slot::Stake, &mut rng);
    add(profile.dividends - stakes, Slot::Distribution, &mut rng);
    add(profile.dust, Slot::Dust, &mut rng);
    add(profile.converts, Slot::Otc, &mut rng);
    slots.sort_unstable();

    let mut us = UsHistory { rng, held: BTreeMap::new(), next_tran: 0, next_order: 0, failed_fiat: false };
    us.next_tran = 4_000_000_000 + us.rng.u64(0..1_000_000);
    us.next_order = 10_000_000 + us.rng.u64(0..1_000_000);
    if profile.fiat_transfers > 0 {
        us.fiat_deposit(store, first - HOUR_MS, Decimal::new(500_000, 2));
    }
    let mut otc_index = 0usize;
    for (time_ms, slot) in slots {
        match slot {
            Slot::Fiat => us.fiat(store, time_ms),
            Slot::Stake => us.stake(market, store, time_ms),
            Slot::Distribution => us.distribution(market, store, time_ms),
            Slot::Dust => us.dust(market, store, time_ms),
            Slot::Otc => {
                us.otc(market, store, time_ms, otc_index == 0 && profile.converts >= 3);
                otc_index += 1;
            }
        }
    }
}

/// The state of [`us_history`]: its random draws and what its records brought in.
struct UsHistory {
    rng: fastrand::Rng,
    /// Asset → what these records brought in, less what they spent.
    held: BTreeMap<String, Decimal>,
    next_tran: u64,
    next_order: u64,
    failed_fiat: bool,
}

/// A decimal with exactly two places (USD amounts).
fn pad2(value: Decimal) -> String {
    format!("{value:.2}")
}

impl UsHistory {
    fn held(&self, asset: &str) -> Decimal {
        self.held.get(asset).copied().unwrap_or(Decimal::ZERO)
    }

    fn push(&mut self, store: &mut Store, stream: &'static str, row: Row, effects: &[(&str, Decimal)]) {
        for (asset, delta) in effects {
            *self.held.entry((*asset).to_owned()).or_insert(Decimal::ZERO) += *delta;
        }
        store.push_row(stream, row, effects);
    }

    fn tran_id(&mut self) -> u64 {
        self.next_tran += self.rng.u64(1..50_000);
        self.next_tran
    }

    /// A USD deposit of `amount` (what reaches the balance; a wire pays a fee on top).
    fn fiat_deposit(&mut self, store: &mut Store, time_ms: i64, amount: Decimal) {
        let wire = self.rng.u8(0..4) == 0;
        let (method, fee) = if wire { ("WIRE", Decimal::new(1_000, 2)) } else { ("ACH", Decimal::ZERO) };
        let failed = !self.failed_fiat && time_ms > 0 && self.rng.u8(0..3) == 0 && !self.held.is_empty();
        self.failed_fiat |= failed;
        let id = hex(&mut self.rng, 32);
        let json = json!({
            "orderId": id,
            "paymentAccount": uuid(&mut self.rng),
            "paymentChannel": "PRIMETRUST",
            "paymentMethod": method,
            "orderStatus": if failed { "Failed" } else { "Successful" },
            "fiatCurrency": "USD",
            "amount": pad2(amount),
            "transactionFee": pad2(fee),
            "platformFee": "0.00",
            "createTime": time_ms,
        });
        let row = Row::new(time_ms, "USD", "", &id, &json);
        let effects: &[(&str, Decimal)] = if failed { &[] } else { &[("USD", amount)] };
        self.push(store, "fiatDepositHistory", row, effects);
    }

    /// A USD withdrawal when enough is held, else a deposit.
    fn fiat(&mut self, store: &mut Store, time_ms: i64) {
        let held = self.held("USD");
        if self.rng.bool() && held > Decimal::new(200, 0) {
            let wire = self.rng.bool();
            let fee = if wire { Decimal::new(1_500, 2) } else { Decimal::ZERO };
            let share = Decimal::new(self.rng.i64(20..=60), 2);
            let amount = floor_dp((held - fee) * share, 2);
            if amount > Decimal::ZERO {
                let id = hex(&mut self.rng, 32);
                let json = json!({
                    "orderId": id,
                    "paymentAccount": uuid(&mut self.rng),
                    "paymentChannel": "PRIMETRUST",
                    "paymentMethod": if wire { "WIRE" } else { "ACH" },
                    "orderStatus": "Successful",
                    "fiatCurrency": "USD",
                    "amount": pad2(amount),
                    "transactionFee": pad2(fee),
                    "platformFee": "0.00",
                    "createTime": time_ms,
                });
                let row = Row::new(time_ms, "USD", "", &id, &json);
                self.push(store, "fiatWithdrawHistory", row, &[("USD", -(amount + fee))]);
                return;
            }
        }
        let amount = Decimal::new(self.rng.i64(10_000..=500_000), 2);
        self.fiat_deposit(store, time_ms, amount);
    }

    /// `usd` dollars of `asset` at `time_ms`, floored to 8 places (at least 10^-8).
    fn worth(market: &Market, asset: &str, usd: Decimal, time_ms: i64) -> Option<Decimal> {
        let price = market.usd(asset, time_ms).filter(|p| !p.is_zero())?;
        Some(floor_dp(usd / price, 8).max(Decimal::new(1, 8)))
    }

    /// A staking reward, listed in the staking history and as a `Staking Rewards`
    /// distribution with the same `tranId` (one balance change).
    fn stake(&mut self, market: &Market, store: &mut Store, time_ms: i64) {
        let assets = ["ETH", "SOL", "ADA", "BNB"];
        let asset = assets[self.rng.usize(0..assets.len())];
        let usd = Decimal::new(self.rng.i64(100..=5_000), 2);
        let Some(amount) = Self::worth(market, asset, usd, time_ms) else { return };
        let tran_id = self.tran_id();
        let reward = json!({
            "asset": asset,
            "amount": pad8(amount),
            "usdValue": pad2(usd),
            "time": time_ms,
            "tranId": tran_id,
            "autoRestaked": false,
        });
        let row = Row::new(time_ms, asset, "", &tran_id.to_string(), &reward);
        self.push(store, "stakingRewards", row, &[(asset, amount)]);
        let listed = json!({
            "amount": pad8(amount),
            "asset": asset,
            "divTime": time_ms,
            "category": "Staking Rewards",
            "tranId": tran_id,
        });
        store.push_row(
            "distributions",
            Row::new(time_ms, asset, "Staking Rewards", &tran_id.to_string(), &listed),
            &[],
        );
    }

    /// A referral reward, airdrop or other distribution (one in twenty of zero amount).
    fn distribution(&mut self, market: &Market, store: &mut Store, time_ms: i64) {
        let (category, asset) =
            [("Referral Rewards", "USDT"), ("Airdrop", "BNB"), ("Others", "ETH")][self.rng.usize(0..3)];
        let usd = Decimal::new(self.rng.i64(10..=2_000), 2);
        let zero = self.rng.u8(0..20) == 0;
        let Some(amount) = Self::worth(market, asset, usd, time_ms) else { return };
        let amount = if zero { Decimal::new(0, 8) } else { amount };
        let tran_id = self.tran_id();
        let json = json!({
            "amount": pad8(amount),
            "asset": asset,
            "divTime": time_ms,
            "category": category,
            "tranId": tran_id,
        });
        let row = Row::new(time_ms, asset, category, &tran_id.to_string(), &json);
        self.push(store, "distributions", row, &[(asset, amount)]);
    }

    /// A dust conversion of part of up to three assets the rewards brought, into BNB (2 %
    /// service charge in BNB).
    fn dust(&mut self, market: &Market, store: &mut Store, time_ms: i64) {
        let Some(bnb_price) = market.usd("BNB", time_ms).filter(|p| !p.is_zero()) else { return };
        let candidates: Vec<(String, Decimal)> = self
            .held
            .iter()
            .filter(|(asset, held)| !matches!(asset.as_str(), "USD" | "BNB") && **held > Decimal::ZERO)
            .map(|(asset, held)| (asset.clone(), *held))
            .take(3)
            .collect();
        let tran_id = self.tran_id();
        let mut details = Vec::new();
        let mut effects: Vec<(String, Decimal)> = Vec::new();
        let (mut total, mut charges) = (Decimal::ZERO, Decimal::ZERO);
        for (asset, held) in candidates {
            let Some(price) = market.usd(&asset, time_ms) else { continue };
            let amount = floor_dp(held * Decimal::new(self.rng.i64(20..=60), 2), 8);
            let bnb = floor_dp(amount * price / bnb_price, 8);
            let charge = floor_dp(bnb * Decimal::new(2, 2), 8);
            if amount.is_zero() || bnb.is_zero() {
                continue;
            }
            let credited = bnb - charge;
            details.push(json!({
                "tranId": tran_id,
                "fromAsset": asset,
                "amount": pad8(amount),
                "transferedAmount": pad8(credited),
                "serviceChargeAmount": pad8(charge),
                "operateTime": time_ms,
            }));
            effects.push((asset, -amount));
            effects.push(("BNB".to_owned(), credited));
            total += credited;
            charges += charge;
        }
        if details.is_empty() {
            return;
        }
        let json = json!({
            "operateTime": time_ms,
            "totalTransferedAmount": pad8(total),
            "totalServiceChargeAmount": pad8(charges),
            "tranId": tran_id,
            "userAssetDribbletDetails": details,
        });
        let effects: Vec<(&str, Decimal)> = effects.iter().map(|(asset, delta)| (asset.as_str(), *delta)).collect();
        self.push(store, "dustLogs", Row::new(time_ms, "BNB", "", &tran_id.to_string(), &json), &effects);
    }

    /// An OTC order buying crypto with USD the deposits brought (`failed`: it ended `FAIL`).
    fn otc(&mut self, market: &Market, store: &mut Store, time_ms: i64, failed: bool) {
        let held = self.held("USD");
        let spend = floor_dp(Decimal::new(self.rng.i64(5_000..=50_000), 2).min(held * Decimal::new(3, 1)), 2);
        if spend < Decimal::ONE {
            return;
        }
        let to = ["BTC", "ETH", "USDT"][self.rng.usize(0..3)];
        let Some(received) = Self::worth(market, to, spend, time_ms) else { return };
        self.next_order += self.rng.u64(1..1_000);
        let order_id = self.next_order.to_string();
        let json = json!({
            "quoteId": hex(&mut self.rng, 32),
            "orderId": order_id,
            "orderStatus": if failed { "FAIL" } else { "SUCCESS" },
            "fromCoin": "USD",
            "fromAmount": pad2(spend),
            "toCoin": to,
            "toAmount": pad8(received),
            "ratio": pad8(floor_dp(received / spend, 8)),
            "inverseRatio": pad2(floor_dp(spend / received, 2)),
            "createTime": time_ms,
        });
        let row = Row::new(time_ms, "USD", to, &order_id, &json);
        let effects: &[(&str, Decimal)] = if failed { &[] } else { &[("USD", -spend), (to, received)] };
        self.push(store, "otcOrders", row, effects);
    }
}

#[cfg(test)]
mod tests;
