//! The person behind a history: balances, id counters, and the activity they add.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use super::*;
use crate::sim::amounts::{floor_dp, percent};
use crate::sim::ids::{hex, uuid};

/// Per-symbol id counters of the person's fills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PairIds {
    pub(super) next_trade: u64,
    pub(super) next_order: u64,
    /// The last order: id, side (buy?), time.
    pub(super) last_order: Option<(u64, bool, i64)>,
}

/// The person behind a history: balances and id counters, so more activity can be added later.
#[derive(Debug, Clone)]
pub struct Person {
    pub(super) rng: fastrand::Rng,
    pub(super) balances: BTreeMap<String, Decimal>,
    pub(super) ids: BTreeMap<String, PairIds>,
    pub(super) next_deposit: u64,
    pub(super) next_convert: u64,
    pub(super) next_dust: u64,
    pub(super) next_dust_part: u64,
    pub(super) next_reward: u64,
    pub(super) next_position: u64,
    pub(super) deposit_addresses: BTreeMap<String, String>,
    pub(super) reward_keys: BTreeSet<(i64, String, String, String)>,
}

impl Person {
    pub(super) fn balance(&self, asset: &str) -> Decimal {
        self.balances.get(asset).copied().unwrap_or(Decimal::ZERO)
    }

    pub(super) fn apply(&mut self, activity: &Activity) {
        for (asset, delta) in activity.effects() {
            let balance = self.balances.entry(asset).or_insert(Decimal::ZERO);
            *balance += delta;
            debug_assert!(*balance >= Decimal::ZERO, "{activity:?}");
        }
    }

    /// Whether the activity leaves every balance at zero or above.
    pub(super) fn affordable(&self, activity: &Activity) -> bool {
        let mut after: BTreeMap<String, Decimal> = BTreeMap::new();
        for (asset, delta) in activity.effects() {
            let balance = after.entry(asset.clone()).or_insert_with(|| self.balance(&asset));
            *balance += delta;
        }
        after.values().all(|balance| *balance >= Decimal::ZERO)
    }

    pub(super) fn deposit_address(&mut self, asset: &str) -> String {
        let network = asset_spec(asset).map_or("ETH", |spec| spec.network);
        if let Some(address) = self.deposit_addresses.get(network) {
            return address.clone();
        }
        let address = match network {
            "BTC" => format!("bc1q{}", hex(&mut self.rng, 38)),
            "TRX" => format!("T{}", hex(&mut self.rng, 33)),
            "ETH" | "BSC" | "AVAXC" | "MATIC" => format!("0x{}", hex(&mut self.rng, 40)),
            _ => format!("{}1{}", network.to_ascii_lowercase(), hex(&mut self.rng, 38)),
        };
        self.deposit_addresses.insert(network.to_owned(), address.clone());
        address
    }

    pub(super) fn tx_hash(&mut self, network: &str) -> String {
        match network {
            "ETH" | "BSC" | "AVAXC" | "MATIC" => format!("0x{}", hex(&mut self.rng, 64)),
            _ => hex(&mut self.rng, 64),
        }
    }

    /// A crypto deposit of `amount` from the person's own wallet (which records the withdrawal).
    pub(super) fn deposit(
        &mut self,
        asset: &str,
        amount: Decimal,
        time_ms: i64,
        outcome: Outcome,
        binance: &mut Vec<Activity>,
        external: &mut Vec<Activity>,
    ) {
        let network = asset_spec(asset).map_or("ETH", |spec| spec.network).to_owned();
        let address = self.deposit_address(asset);
        let tx_hash = self.tx_hash(&network);
        self.next_deposit += self.rng.u64(1_000..1_000_000_000);
        let deposit = Activity::Deposit {
            asset: asset.to_owned(),
            amount,
            network: network.clone(),
            address: address.clone(),
            tx_hash: tx_hash.clone(),
            time_ms,
            id: self.next_deposit.to_string(),
            outcome,
        };
        self.apply(&deposit);
        binance.push(deposit);
        if outcome == Outcome::Completed {
            external.push(Activity::Withdrawal {
                asset: asset.to_owned(),
                amount,
                fee: Decimal::ZERO,
                network,
                address,
                tx_hash,
                time_ms: time_ms - self.rng.i64(60_000..1_800_000),
                id: format!("ext-{}", hex(&mut self.rng, 16)),
                outcome,
            });
        }
    }

    pub(super) fn fiat_deposit(&mut self, currency: &str, amount: Decimal, time_ms: i64, outcome: Outcome) -> Activity {
        let (fee, method) = if currency == "EUR" {
            (Decimal::ZERO, "SEPA")
        } else {
            (floor_dp(amount * Decimal::new(1, 2), 2), "BankAccount")
        };
        let activity = Activity::FiatDeposit {
            currency: currency.to_owned(),
            amount,
            fee,
            method: method.to_owned(),
            time_ms,
            id: uuid(&mut self.rng),
            outcome,
        };
        self.apply(&activity);
        activity
    }

    /// One spot fill at `time_ms`; if nothing can be traded, the person first deposits some of a
    /// quote asset (pushed to `binance`, its on-chain side to `external`).
    pub(super) fn trade(
        &mut self,
        market: &Market,
        time_ms: i64,
        binance: &mut Vec<Activity>,
        external: &mut Vec<Activity>,
    ) -> Activity {
        let traded: Vec<usize> = (0..market.pairs.len())
            .filter(|&index| market.pairs[index].traded && market.pairs[index].open_at(time_ms))
            .collect();
        for _ in 0..12 {
            let Some(&index) = traded.get(self.rng.usize(0..traded.len().max(1))) else { break };
            if let Some(trade) = self.try_trade(market, &market.pairs[index], time_ms) {
                self.apply(&trade);
                return trade;
            }
        }
        let index = traded.first().copied().unwrap_or(0);
        let pair = &market.pairs[index];
        let value = market.convert(Decimal::new(5_000, 0), "USDT", &pair.quote, time_ms).unwrap_or(Decimal::ONE);
        let mut amount = floor_dp(value, typed_places(&pair.quote)).max(Decimal::ONE);
        loop {
            self.deposit(&pair.quote, amount, time_ms - 1, Outcome::Completed, binance, external);
            if let Some(trade) = self.try_trade(market, pair, time_ms) {
                self.apply(&trade);
                return trade;
            }
            amount *= Decimal::TEN;
        }
    }

    pub(super) fn try_trade(&mut self, market: &Market, pair: &Pair, time_ms: i64) -> Option<Activity> {
        let price = market.pair_price(pair, time_ms)?;
        let quote_usd = market.convert(self.balance(&pair.quote), &pair.quote, "USDT", time_ms)?;
        let base_usd = market.convert(self.balance(&pair.base), &pair.base, "USDT", time_ms)?;
        let ten = Decimal::TEN;
        let is_buy = match (quote_usd > ten, base_usd > ten) {
            (true, true) => self.rng.bool(),
            (true, false) => true,
            (false, true) => false,
            (false, false) => return None,
        };
        let qty = if is_buy {
            let spend = self.balance(&pair.quote) * percent(&mut self.rng, 2..=15);
            floor_dp(spend / price, pair.qty_dp)
        } else {
            floor_dp(self.balance(&pair.base) * percent(&mut self.rng, 5..=40), pair.qty_dp)
        };
        if qty.is_zero() {
            return None;
        }
        let quote_qty = price * qty;
        let is_maker = self.rng.u8(0..10) < 3;
        let (received, received_qty) = if is_buy { (&pair.base, qty) } else { (&pair.quote, quote_qty) };
        let ids = self.ids.get_mut(&pair.symbol)?;
        ids.next_trade += self.rng.u64(1..4_000);
        let id = ids.next_trade;
        let order_id = match ids.last_order {
            Some((order, side, at)) if side == is_buy && time_ms - at < HOUR_MS * 6 && self.rng.u8(0..10) < 3 => order,
            _ => {
                ids.next_order += self.rng.u64(1..20_000);
                ids.next_order
            }
        };
        ids.last_order = Some((order_id, is_buy, time_ms));
        let rate = if is_maker { Decimal::new(75, 5) } else { Decimal::new(1, 3) };
        let roll = self.rng.u8(0..100);
        let fee_in = |asset: &str, discount: bool| -> Option<(String, Decimal)> {
            let value = market.convert(quote_qty * rate, &pair.quote, asset, time_ms)?;
            let value = if discount { value * Decimal::new(75, 2) } else { value };
            let fee = floor_dp(value, 8);
            (!fee.is_zero()).then(|| (asset.to_owned(), fee))
        };
        let third = ["USDT", "BTC", "ETH"].into_iter().find(|asset| *asset != pair.base && *asset != pair.quote);
        let preferred = if roll < 55 {
            fee_in("BNB", true)
        } else if roll < 60 {
            third.and_then(|asset| fee_in(asset, false))
        } else {
            None
        };
        let fallback = (received.clone(), floor_dp(received_qty * rate, 8));
        let make = |(fee_asset, fee): (String, Decimal)| Activity::Trade {
            base: pair.base.clone(),
            quote: pair.quote.clone(),
            is_buy,
            qty,
            price,
            quote_qty,
            fee_asset,
            fee,
            time_ms,
            id,
            order_id,
            is_maker,
        };
        if let Some(fee) = preferred {
            let trade = make(fee);
            if self.affordable(&trade) {
                return Some(trade);
            }
        }
        let trade = make(fallback);
        self.affordable(&trade).then_some(trade)
    }

    pub(super) fn transfer(
        &mut self,
        market: &Market,
        time_ms: i64,
        binance: &mut Vec<Activity>,
        external: &mut Vec<Activity>,
    ) {
        let withdraw = self.rng.u8(0..100) < 45;
        if withdraw && self.withdraw(market, time_ms, Outcome::Completed, binance, external) {
            return;
        }
        let choices = ["USDT", "BTC", "ETH", "BNB", "SOL", "ADA", "XRP", "DOT", "LTC", "LINK"];
        let asset = choices[self.rng.usize(0..choices.len())];
        let usd = Decimal::new(self.rng.i64(500..=25_000), 0);
        let amount = market
            .convert(usd, "USDT", asset, time_ms)
            .map_or(Decimal::ONE, |value| floor_dp(value, typed_places(asset)));
        let amount = if amount.is_zero() { Decimal::ONE } else { amount };
        self.deposit(asset, amount, time_ms, Outcome::Completed, binance, external);
    }

    /// A withdrawal of some of a held asset; false if nothing is worth withdrawing.
    pub(super) fn withdraw(
        &mut self,
        market: &Market,
        time_ms: i64,
        outcome: Outcome,
        binance: &mut Vec<Activity>,
        external: &mut Vec<Activity>,
    ) -> bool {
        let candidates: Vec<&'static AssetSpec> = ASSETS
            .iter()
            .filter(|spec| {
                let fee: Decimal = spec.withdraw_fee.parse().unwrap_or(Decimal::ONE);
                let balance = self.balance(spec.code);
                balance > fee * Decimal::new(20, 0)
                    && market.convert(balance, spec.code, "USDT", time_ms).is_some_and(|usd| usd > Decimal::new(100, 0))
            })
            .collect();
        if candidates.is_empty() {
            return false;
        }
        let spec = candidates[self.rng.usize(0..candidates.len())];
        let fee: Decimal = spec.withdraw_fee.parse().unwrap_or(Decimal::ONE);
        let amount =
            floor_dp((self.balance(spec.code) - fee) * percent(&mut self.rng, 10..=50), typed_places(spec.code));
        if amount <= Decimal::ZERO {
            return false;
        }
        let network = spec.network.to_owned();
        let address = match spec.network {
            "BTC" => format!("bc1q{}", hex(&mut self.rng, 38)),
            "ETH" | "BSC" | "AVAXC" | "MATIC" => format!("0x{}", hex(&mut self.rng, 40)),
            other => format!("{}{}", other.to_ascii_lowercase(), hex(&mut self.rng, 36)),
        };
        let tx_hash = if outcome == Outcome::Completed { self.tx_hash(&network) } else { String::new() };
        let withdrawal = Activity::Withdrawal {
            asset: spec.code.to_owned(),
            amount,
            fee,
            network: network.clone(),
            address: address.clone(),
            tx_hash: tx_hash.clone(),
            time_ms,
            id: hex(&mut self.rng, 32),
            outcome,
        };
        self.apply(&withdrawal);
        binance.push(withdrawal);
        if outcome == Outcome::Completed {
            external.push(Activity::Deposit {
                asset: spec.code.to_owned(),
                amount,
                network,
                address,
                tx_hash,
                time_ms: time_ms + self.rng.i64(60_000..3_600_000),
                id: format!("ext-{}", hex(&mut self.rng, 16)),
                outcome,
            });
        }
        true
    }

    pub(super) fn fiat_transfer(&mut self, time_ms: i64, binance: &mut Vec<Activity>) {
        let currency = if self.rng.u8(0..10) < 7 { "EUR" } else { "USD" };
        let balance = self.balance(currency);
        if self.rng.bool() && balance > Decimal::new(200, 0) {
            let fee = if currency == "EUR" { Decimal::ONE } else { Decimal::new(15, 0) };
            let amount = floor_dp((balance - fee) * percent(&mut self.rng, 20..=80), 2);
            if amount > Decimal::ZERO {
                let activity = Activity::FiatWithdrawal {
                    currency: currency.to_owned(),
                    amount,
                    fee,
                    method: if currency == "EUR" { "SEPA" } else { "BankAccount" }.to_owned(),
                    time_ms,
                    id: uuid(&mut self.rng),
                    outcome: Outcome::Completed,
                };
                self.apply(&activity);
                binance.push(activity);
                return;
            }
        }
        let amount = Decimal::new(self.rng.i64(10_000..=1_000_000), 2);
        let activity = self.fiat_deposit(currency, amount, time_ms, Outcome::Completed);
        binance.push(activity);
    }

    pub(super) fn card_buy(&mut self, market: &Market, time_ms: i64, outcome: Outcome, binance: &mut Vec<Activity>) {
        let fiat = if self.rng.u8(0..10) < 7 { "EUR" } else { "USD" };
        let cryptos = ["BTC", "ETH", "BNB", "USDT", "SOL"];
        let crypto = cryptos[self.rng.usize(0..cryptos.len())];
        let source_amount = Decimal::new(self.rng.i64(2_000..=200_000), 2);
        let cash = self.rng.u8(0..10) < 4 && self.balance(fiat) >= source_amount;
        let method = if cash { PayMethod::CashBalance } else { PayMethod::CreditCard };
        let rate = if cash { Decimal::new(5, 3) } else { Decimal::new(18, 3) };
        let fee = (source_amount * rate).round_dp(2);
        let Some(price) = market.price_with_dp(crypto, fiat, time_ms, 2) else { return };
        let obtain_amount = floor_dp((source_amount - fee) / price, 8);
        if obtain_amount.is_zero() {
            return;
        }
        let activity = Activity::CardBuy {
            fiat: fiat.to_owned(),
            crypto: crypto.to_owned(),
            source_amount,
            obtain_amount,
            fee,
            price,
            method,
            time_ms,
            id: hex(&mut self.rng, 32),
            outcome,
        };
        self.apply(&activity);
        binance.push(activity);
    }

    pub(super) fn convert(&mut self, market: &Market, time_ms: i64, outcome: Outcome, binance: &mut Vec<Activity>) {
        let held: Vec<&'static str> = ASSETS
            .iter()
            .map(|spec| spec.code)
            .filter(|code| {
                market.convert(self.balance(code), code, "USDT", time_ms).is_some_and(|usd| usd > Decimal::new(20, 0))
            })
            .collect();
        let Some(&from) = held.get(self.rng.usize(0..held.len().max(1))) else { return };
        let targets = ["USDT", "BTC", "ETH", "BNB", "SOL", "DOGE", "ADA"];
        let mut to = targets[self.rng.usize(0..targets.len())];
        if to == from {
            to = if from == "USDT" { "BTC" } else { "USDT" };
        }
        let from_amount = floor_dp(self.balance(from) * percent(&mut self.rng, 10..=50), 8);
        // At the market's cross rate (the two assets' USD prices, which the simulated price
        // sources serve), floored to 8 places: no spread folded into the rate, so a value derived
        // from one side of the conversion can be compared with the other side's own market
        // (`cargo bench --bench prices`) and any gap is the pricing's, not the simulator's.
        let Some(value) = market.convert(from_amount, from, to, time_ms) else { return };
        let to_amount = floor_dp(value, 8);
        if from_amount.is_zero() || to_amount.is_zero() {
            return;
        }
        self.next_convert += self.rng.u64(1_000_000..1_000_000_000_000);
        let activity = Activity::Convert {
            from_asset: from.to_owned(),
            from_amount,
            to_asset: to.to_owned(),
            to_amount,
            time_ms,
            id: self.next_convert,
            quote_id: hex(&mut self.rng, 32),
            outcome,
        };
        self.apply(&activity);
        binance.push(activity);
    }

    pub(super) fn dust(&mut self, market: &Market, time_ms: i64, binance: &mut Vec<Activity>) {
        let mut chosen: Vec<(&'static str, Decimal)> = Vec::new();
        for spec in ASSETS.iter().filter(|spec| !matches!(spec.code, "BNB" | "USDT" | "BTC" | "ETH")) {
            let balance = self.balance(spec.code);
            let small =
                market.convert(balance, spec.code, "USDT", time_ms).is_some_and(|usd| usd < Decimal::new(15, 0));
            if balance > Decimal::ZERO && small && chosen.len() < 4 {
                chosen.push((spec.code, balance));
            }
        }
        if chosen.is_empty() {
            // No small balances: sweep a few dollars' worth of one holding, so the kind appears.
            let held: Vec<&'static str> = ASSETS
                .iter()
                .map(|spec| spec.code)
                .filter(|code| *code != "BNB" && self.balance(code) > Decimal::ZERO)
                .collect();
            if let Some(&asset) = held.get(self.rng.usize(0..held.len().max(1))) {
                let usd = Decimal::new(self.rng.i64(100..=1_000), 2);
                if let Some(amount) = market.convert(usd, "USDT", asset, time_ms) {
                    let amount = floor_dp(amount, 8).min(self.balance(asset));
                    if !amount.is_zero() {
                        chosen.push((asset, amount));
                    }
                }
            }
        }
        let mut parts = Vec::new();
        self.next_dust_part += self.rng.u64(1..100_000);
        for (asset, amount) in chosen {
            let Some(bnb_value) = market.convert(amount, asset, "BNB", time_ms) else { continue };
            let fee = floor_dp(bnb_value * Decimal::new(2, 2), 8);
            let bnb = floor_dp(bnb_value, 8) - fee;
            if bnb <= Decimal::ZERO {
                continue;
            }
            parts.push(DustPart { asset: asset.to_owned(), amount, bnb, fee, id: self.next_dust_part });
        }
        if parts.is_empty() {
            return;
        }
        self.next_dust += self.rng.u64(1_000..10_000_000);
        let activity = Activity::Dust { time_ms, id: self.next_dust, parts };
        self.apply(&activity);
        binance.push(activity);
    }

    pub(super) fn reward_amount(&mut self, market: &Market, asset: &str, time_ms: i64) -> Decimal {
        let usd = Decimal::new(self.rng.i64(1..=5_000), 2);
        let amount =
            market.convert(usd, "USDT", asset, time_ms).unwrap_or_else(|| Decimal::new(self.rng.i64(1..=100), 0));
        floor_dp(amount, 8).max(Decimal::new(1, 8))
    }

    /// A time not yet used by a reward with the same key fields (keeps earn ids unique).
    pub(super) fn unique_time(&mut self, time_ms: i64, asset: &str, kind: &str, product: &str) -> i64 {
        let mut time_ms = time_ms;
        while !self.reward_keys.insert((time_ms, asset.to_owned(), kind.to_owned(), product.to_owned())) {
            time_ms += 1;
        }
        time_ms
    }

    pub(super) fn dividend(&mut self, market: &Market, time_ms: i64, binance: &mut Vec<Activity>) {
        let (label, kind, asset) = DISTRIBUTIONS[self.rng.usize(0..DISTRIBUTIONS.len())];
        let source = label.replace("{ASSET}", asset);
        // One distribution in twenty is a zero-amount row, as Binance sometimes sends.
        let amount =
            if self.rng.u8(0..20) == 0 { Decimal::new(0, 8) } else { self.reward_amount(market, asset, time_ms) };
        self.next_reward += self.rng.u64(1..5_000_000);
        binance.push(self.reward(kind, RewardChannel::Distribution, source, asset, amount, time_ms));
    }

    pub(super) fn flexible(&mut self, market: &Market, time_ms: i64, binance: &mut Vec<Activity>) {
        let products = [("USDT", "USDT001"), ("BNB", "BNB001"), ("ETH", "ETH001"), ("BTC", "BTC001")];
        let (asset, product) = products[self.rng.usize(0..products.len())];
        let reward_type = if self.rng.u8(0..4) == 0 { "BONUS" } else { "REALTIME" };
        let time_ms = self.unique_time(time_ms, asset, reward_type, product);
        let amount = floor_dp(self.reward_amount(market, asset, time_ms) / Decimal::TEN, 8).max(Decimal::new(1, 8));
        self.next_reward += 1;
        let channel = RewardChannel::FlexibleEarn { product: product.to_owned(), reward_type: reward_type.to_owned() };
        let source = "Simple Earn Flexible".to_owned();
        binance.push(self.reward(RewardKind::Interest, channel, source, asset, amount, time_ms));
    }

    pub(super) fn locked(&mut self, market: &Market, time_ms: i64, binance: &mut Vec<Activity>) {
        let assets = ["BNB", "DOT", "SOL", "ETH"];
        let asset = assets[self.rng.usize(0..assets.len())];
        let reward_type = if self.rng.u8(0..5) == 0 { "Boost Rewards" } else { "Locked Rewards" };
        let lock_days = [30, 60, 120][self.rng.usize(0..3)];
        self.next_position += self.rng.u64(1..1_000);
        let position = self.next_position;
        let time_ms = self.unique_time(time_ms, asset, reward_type, &position.to_string());
        let amount = self.reward_amount(market, asset, time_ms);
        self.next_reward += 1;
        let channel = RewardChannel::LockedEarn { position, lock_days, reward_type: reward_type.to_owned() };
        let source = "Simple Earn Locked".to_owned();
        binance.push(self.reward(RewardKind::Staking, channel, source, asset, amount, time_ms));
    }

    /// The reward with the latest id (`next_reward`): `amount` of `asset` at `time_ms`,
    /// applied to the balances.
    fn reward(
        &mut self,
        kind: RewardKind,
        channel: RewardChannel,
        source: String,
        asset: &str,
        amount: Decimal,
        time_ms: i64,
    ) -> Activity {
        let activity =
            Activity::Reward { kind, channel, source, asset: asset.to_owned(), amount, time_ms, id: self.next_reward };
        self.apply(&activity);
        activity
    }

    /// A record that ended failed, rejected or expired: one of each kind in turn.
    pub(super) fn failed(
        &mut self,
        market: &Market,
        time_ms: i64,
        index: usize,
        binance: &mut Vec<Activity>,
        external: &mut Vec<Activity>,
    ) {
        match index % 5 {
            0 => {
                let amount = Decimal::new(self.rng.i64(1_000..=500_000), 2);
                self.deposit("USDT", amount, time_ms, Outcome::Failed, binance, external);
            }
            1 => {
                if !self.withdraw(market, time_ms, Outcome::Failed, binance, external) {
                    let activity = Activity::Withdrawal {
                        asset: "BTC".to_owned(),
                        amount: Decimal::new(5, 2),
                        fee: Decimal::new(2, 4),
                        network: "BTC".to_owned(),
                        address: format!("bc1q{}", hex(&mut self.rng, 38)),
                        tx_hash: String::new(),
                        time_ms,
                        id: hex(&mut self.rng, 32),
                        outcome: Outcome::Failed,
                    };
                    binance.push(activity);
                }
            }
            2 => {
                let amount = Decimal::new(self.rng.i64(10_000..=300_000), 2);
                let activity = self.fiat_deposit("EUR", amount, time_ms, Outcome::Failed);
                binance.push(activity);
            }
            3 => self.card_buy(market, time_ms, Outcome::Failed, binance),
            _ => self.convert(market, time_ms, Outcome::Failed, binance),
        }
    }
}
