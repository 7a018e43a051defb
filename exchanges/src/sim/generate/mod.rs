//! One person's multi-year history, generated from a seed and shared by every exchange simulator.
//!
//! [`generate`] builds a [`World`]: a [`Market`] (a seeded hourly random walk of every asset's
//! USD price, in exact integers, from which trade prices, conversions and candles are taken)
//! and a [`History`] of exchange-neutral [`Activity`] records per account. The person deposits
//! fiat and crypto, trades, converts, buys with a card, sweeps dust into BNB, earns rewards and
//! withdraws, and the generator tracks every balance as it goes so that none ever becomes
//! negative; a few records end failed or rejected and change nothing. Every amount is an exact
//! decimal with exchange-like precision (8 places for crypto, 2 for fiat amounts typed by the
//! person). Nothing depends on the wall clock: the same seed and [`Profile`] give the same
//! history, byte for byte. Crypto that leaves the exchange arrives in the `external` wallet
//! account (and the other way round) with the same transaction hash, so a transfer between two
//! accounts of the person can be matched.

mod activity;
mod market;
mod person;

use std::collections::{BTreeMap, BTreeSet};

use crate::asset::is_fiat;
use rust_decimal::Decimal;

pub use activity::*;
use market::*;
pub use market::{MARKET_TAIL_MS, Market, Ohlc, Pair};
use person::PairIds;
pub use person::Person;

/// One hour in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;
/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;
/// The account name of the person's Binance account in a [`History`].
pub const BINANCE: &str = "binance";
/// The account name of the person's own wallet outside every exchange.
pub const EXTERNAL_WALLET: &str = "external";
/// 2020-12-01T00:00:00Z: Binance keeps dust conversions only from this day on.
pub const DUST_HISTORY_START_MS: i64 = 1_606_780_800_000;
/// 2020-01-01T00:00:00Z: the market's prices (and every symbol's candles) start here, whatever
/// the profile, so that files from earlier years than the history can be valued too.
pub const PRICE_HISTORY_START_MS: i64 = 1_577_836_800_000;

/// The size and time span of a generated history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// First millisecond of the history (UTC).
    pub start_ms: i64,
    /// Last millisecond of the history.
    pub end_ms: i64,
    /// Spot trades (fills).
    pub trades: usize,
    /// Symbols traded (one of them delisted halfway).
    pub symbols: usize,
    /// Crypto deposits and withdrawals together (successful ones).
    pub transfers: usize,
    /// Fiat deposits and withdrawals together (0: no fiat at all, not even the opening bank
    /// transfer nor a market with a fiat side, for an exchange whose simulator serves no fiat
    /// history of the generator's kind).
    pub fiat_transfers: usize,
    /// Crypto bought with a card or the fiat cash balance.
    pub card_buys: usize,
    /// Convert trades.
    pub converts: usize,
    /// Dust conversions to BNB.
    pub dust: usize,
    /// Distributions (staking, savings interest, airdrops, rebates).
    pub dividends: usize,
    /// Simple Earn flexible reward rows.
    pub earn_flexible: usize,
    /// Simple Earn locked reward rows.
    pub earn_locked: usize,
    /// Failed or rejected records (no balance change), spread over the kinds that have them.
    pub failed: usize,
}

impl Profile {
    /// A small account: about 300 trades over 8 symbols and 40 deposits/withdrawals in
    /// 2024–2025, with a few of every other kind.
    pub fn demo() -> Profile {
        Profile {
            start_ms: 1_704_067_200_000, // 2024-01-01T00:00:00Z
            end_ms: 1_767_225_599_999,   // 2025-12-31T23:59:59.999Z
            trades: 300,
            symbols: 8,
            transfers: 40,
            fiat_transfers: 10,
            card_buys: 8,
            converts: 10,
            dust: 4,
            dividends: 24,
            earn_flexible: 30,
            earn_locked: 12,
            failed: 10,
        }
    }

    /// The benchmark account: 100,000 trades over 50 symbols and 5,000 deposits/withdrawals
    /// in 2023–2025.
    pub fn bench() -> Profile {
        Profile {
            start_ms: 1_672_531_200_000, // 2023-01-01T00:00:00Z
            end_ms: 1_767_225_599_999,
            trades: 100_000,
            symbols: 50,
            transfers: 5_000,
            fiat_transfers: 200,
            card_buys: 150,
            converts: 300,
            dust: 60,
            dividends: 600,
            earn_flexible: 1_500,
            earn_locked: 400,
            failed: 100,
        }
    }
}

/// A generated market and history, and the person who can keep trading in it.
#[derive(Debug, Clone)]
pub struct World {
    /// Prices and symbols.
    pub market: Market,
    /// Every account's activity.
    pub history: History,
    /// The person's state after the history.
    pub person: Person,
}

impl World {
    /// Adds another exchange generator's external-wallet side (deposits and withdrawals with
    /// the same hashes) to the `external` wallet, kept oldest first.
    pub fn share_external(&mut self, activities: &[Activity]) {
        let external = self.history.accounts.entry(EXTERNAL_WALLET.to_string()).or_default();
        external.extend(activities.iter().cloned());
        external.sort_by_key(Activity::time_ms);
    }

    /// Appends `count` trades from `time_ms` on (one millisecond apart; normally "now") to the
    /// Binance account and returns every new Binance record in time order: the trades, and any
    /// deposit the person had to make first (its on-chain side goes to the external wallet).
    pub fn add_trades(&mut self, count: usize, time_ms: i64) -> Vec<Activity> {
        let mut binance = Vec::with_capacity(count);
        let mut external = Vec::new();
        for index in 0..count {
            let at = time_ms + i64::try_from(index).unwrap_or(0);
            let trade = self.person.trade(&self.market, at, &mut binance, &mut external);
            binance.push(trade);
        }
        binance.sort_by_key(Activity::time_ms);
        self.history.accounts.entry(BINANCE.to_owned()).or_default().extend(binance.iter().cloned());
        self.history.accounts.entry(EXTERNAL_WALLET.to_owned()).or_default().extend(external);
        binance
    }
}

/// What a time slot of the history will hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Trade,
    Transfer,
    Fiat,
    Card,
    Convert,
    Dust,
    Dividend,
    Flexible,
    Locked,
    Failed,
}

/// Generates the world for `seed` and `profile`: same inputs, same world.
pub fn generate(seed: u64, profile: &Profile) -> World {
    let mut rng = fastrand::Rng::with_seed(seed);
    // A profile that starts before 2020 moves the prices' start back to its first day.
    let prices_from = PRICE_HISTORY_START_MS.min(profile.start_ms - profile.start_ms.rem_euclid(DAY_MS));
    let mut market = Market::new(seed, prices_from, profile.end_ms);
    market.pairs = choose_pairs(&market, profile, &mut rng);
    let mut person = Person {
        rng: fastrand::Rng::with_seed(seed ^ 0x0005_eed0_fa11),
        balances: BTreeMap::new(),
        ids: BTreeMap::new(),
        next_deposit: 700_000_000_000_000_000 + rng.u64(0..1_000_000_000),
        next_convert: 900_000_000_000_000_000 + rng.u64(0..1_000_000_000),
        next_dust: 40_000_000_000 + rng.u64(0..1_000_000),
        next_dust_part: 4_000_000 + rng.u64(0..100_000),
        next_reward: 1_600_000_000 + rng.u64(0..10_000_000),
        next_position: 100_000 + rng.u64(0..100_000),
        deposit_addresses: BTreeMap::new(),
        reward_keys: BTreeSet::new(),
    };
    for pair in &market.pairs {
        person.ids.insert(
            pair.symbol.clone(),
            PairIds {
                next_trade: rng.u64(1_000_000..90_000_000),
                next_order: rng.u64(100_000..9_000_000),
                last_order: None,
            },
        );
    }

    let mut slots: Vec<(i64, Slot)> = Vec::new();
    let first = profile.start_ms + DAY_MS;
    let last = (profile.end_ms - HOUR_MS).max(first + 1);
    let mut add = |count: usize, slot: Slot, rng: &mut fastrand::Rng| {
        for _ in 0..count {
            slots.push((rng.i64(first..last), slot));
        }
    };
    add(profile.trades, Slot::Trade, &mut rng);
    add(profile.transfers.saturating_sub(4), Slot::Transfer, &mut rng);
    add(profile.fiat_transfers.saturating_sub(if profile.fiat_transfers >= 2 { 2 } else { 1 }), Slot::Fiat, &mut rng);
    add(profile.card_buys, Slot::Card, &mut rng);
    add(profile.converts, Slot::Convert, &mut rng);
    add(profile.dust, Slot::Dust, &mut rng);
    add(profile.dividends, Slot::Dividend, &mut rng);
    add(profile.earn_flexible, Slot::Flexible, &mut rng);
    add(profile.earn_locked, Slot::Locked, &mut rng);
    add(profile.failed, Slot::Failed, &mut rng);
    slots.sort_unstable();

    let mut binance = Vec::with_capacity(slots.len() + 8);
    let mut external = Vec::new();
    // Funding at the start: a bank transfer in euros and crypto from the person's own wallet.
    let funding = [("EUR", "25000"), ("USDT", "60000"), ("BTC", "1.5"), ("ETH", "20"), ("BNB", "120"), ("USD", "3000")];
    for (index, (asset, amount)) in funding.iter().enumerate() {
        let time_ms = profile.start_ms + HOUR_MS * (index as i64 + 1) + person.rng.i64(0..HOUR_MS);
        let amount: Decimal = amount.parse().unwrap_or(Decimal::ONE);
        if matches!(*asset, "EUR" | "USD") {
            if (*asset == "USD" && profile.fiat_transfers < 2) || profile.fiat_transfers == 0 {
                continue;
            }
            let activity = person.fiat_deposit(asset, amount, time_ms, Outcome::Completed);
            binance.push(activity);
        } else {
            person.deposit(asset, amount, time_ms, Outcome::Completed, &mut binance, &mut external);
        }
    }
    let mut failed_index = 0usize;
    for (time_ms, slot) in slots {
        match slot {
            Slot::Trade => {
                let trade = person.trade(&market, time_ms, &mut binance, &mut external);
                binance.push(trade);
            }
            Slot::Transfer => person.transfer(&market, time_ms, &mut binance, &mut external),
            Slot::Fiat => person.fiat_transfer(time_ms, &mut binance),
            Slot::Card => person.card_buy(&market, time_ms, Outcome::Completed, &mut binance),
            Slot::Convert => person.convert(&market, time_ms, Outcome::Completed, &mut binance),
            Slot::Dust => person.dust(&market, time_ms.max(DUST_HISTORY_START_MS), &mut binance),
            Slot::Dividend => person.dividend(&market, time_ms, &mut binance),
            Slot::Flexible => person.flexible(&market, time_ms, &mut binance),
            Slot::Locked => person.locked(&market, time_ms, &mut binance),
            Slot::Failed => {
                person.failed(&market, time_ms, failed_index, &mut binance, &mut external);
                failed_index += 1;
            }
        }
    }
    binance.sort_by_key(Activity::time_ms);
    external.sort_by_key(Activity::time_ms);
    let mut history = History::default();
    history.accounts.insert(BINANCE.to_owned(), binance);
    history.accounts.insert(EXTERNAL_WALLET.to_owned(), external);
    World { market, history, person }
}

/// The market's symbols: the core ones, then others at random until `profile.symbols` are
/// traded; then a few listed symbols the person never trades. A profile without fiat
/// (`fiat_transfers` 0: an exchange whose simulator serves no fiat of the generator's kind,
/// such as Binance.US, which lists no EUR or TRY market) has no pair with a fiat side either,
/// so the account never holds fiat the generator would have to explain.
fn choose_pairs(market: &Market, profile: &Profile, rng: &mut fastrand::Rng) -> Vec<Pair> {
    let allowed = |base: &str, quote: &str| profile.fiat_transfers > 0 || !(is_fiat(base) || is_fiat(quote));
    let mut candidates: Vec<(String, String)> = Vec::new();
    for asset in ASSETS.iter().skip(4) {
        for quote in ["USDT", "BTC", "BNB", "ETH"] {
            candidates.push((asset.code.to_owned(), quote.to_owned()));
        }
    }
    for (base, quote) in [("BNB", "USDT"), ("BNB", "EUR"), ("BTC", "BNB"), ("USDT", "EUR"), ("ETH", "BNB")] {
        candidates.push((base.to_owned(), quote.to_owned()));
    }
    candidates.retain(|(base, quote)| {
        !CORE_PAIRS.contains(&(base.as_str(), quote.as_str()))
            && !UNTRADED_PAIRS.contains(&(base.as_str(), quote.as_str()))
    });
    rng.shuffle(&mut candidates);
    let mut ordered: Vec<(String, String)> = CORE_PAIRS
        .iter()
        .filter(|(base, quote)| allowed(base, quote))
        .map(|(base, quote)| ((*base).to_owned(), (*quote).to_owned()))
        .collect();
    ordered.extend(candidates.into_iter().filter(|(base, quote)| allowed(base, quote)));
    let delist_ms = profile.start_ms + (profile.end_ms - profile.start_ms) * 9 / 20;
    let mut pairs = Vec::new();
    let make = |base: &str, quote: &str, traded: bool| {
        let price = market.price_with_dp(base, quote, market.start_ms, 12).unwrap_or(Decimal::ONE);
        let price_dp = price_places(price);
        Pair {
            symbol: format!("{base}{quote}"),
            base: base.to_owned(),
            quote: quote.to_owned(),
            price_dp,
            qty_dp: (8 - price_dp).min(6),
            delisted_ms: (base == "WAVES" && quote == "BTC").then_some(delist_ms),
            traded,
        }
    };
    for (base, quote) in ordered.iter().take(profile.symbols.max(1)) {
        pairs.push(make(base, quote, true));
    }
    for (base, quote) in UNTRADED_PAIRS.iter().filter(|(base, quote)| allowed(base, quote)) {
        pairs.push(make(base, quote, false));
    }
    pairs
}

#[cfg(test)]
mod tests;
