//! The Bitstamp account of the generated person: `user_transactions` records, from a seed.
//!
//! Prices come from the shared [`Market`] of [`crate::sim::generate`]. The account funds
//! itself with USD and EUR, deposits crypto, trades on Bitstamp's pairs (fee in the quote
//! currency, charged on top), withdraws crypto with a fee and fiat to a bank, earns ETH staking
//! rewards and the odd referral reward. Ids grow with time; every balance is tracked per
//! currency and never goes below zero; amounts are exact decimals with Bitstamp's places
//! (8 for crypto, 2 for fiat).

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::sim::amounts::{fixed, floor_dp, percent};
use crate::sim::generate::Market;

/// How big and how long a Bitstamp history is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitstampProfile {
    /// First millisecond (UTC).
    pub start_ms: i64,
    /// Last millisecond.
    pub end_ms: i64,
    /// Records to generate.
    pub records: usize,
    /// Whether crypto arrives and leaves (deposits and withdrawals of crypto); without them
    /// the account is funded with fiat only (the demo's, whose wallet has no side of them).
    pub crypto_transfers: bool,
}

impl BitstampProfile {
    /// About 600 records over 2024–2025.
    pub fn demo() -> BitstampProfile {
        BitstampProfile { start_ms: 1_704_067_200_000, end_ms: 1_767_225_599_999, records: 600, crypto_transfers: true }
    }

    /// 50,000 records over 2022–2025 (the benchmark).
    pub fn bench() -> BitstampProfile {
        BitstampProfile {
            start_ms: 1_640_995_200_000,
            end_ms: 1_767_225_599_999,
            records: 50_000,
            crypto_transfers: true,
        }
    }
}

/// One `user_transactions` record as the simulator serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Bitstamp's id, growing with time.
    pub id: u64,
    /// When, ms.
    pub time_ms: i64,
    /// The type number (0 deposit, 1 withdrawal, 2 trade, 27 staking reward, 32 referral …).
    pub kind: u32,
    /// Signed movements by lowercase currency code, before the fee.
    pub amounts: Vec<(String, Decimal)>,
    /// The fee, paid on top in `fee_currency`.
    pub fee: Decimal,
    /// The currency of the fee (the quote of a trade, else the one currency moved).
    pub fee_currency: String,
    /// The order of a trade.
    pub order_id: Option<u64>,
    /// A trade's rate key (`btc_usd`) and rate.
    pub rate: Option<(String, Decimal)>,
}

impl Transaction {
    /// The record's JSON, as Bitstamp sends it: numbers as strings, `type` as text.
    pub fn json(&self) -> String {
        let datetime = chrono::DateTime::from_timestamp_millis(self.time_ms)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
            .unwrap_or_default();
        let mut text = format!(r#"{{"id": {}, "datetime": "{datetime}", "type": "{}""#, self.id, self.kind);
        text.push_str(&format!(r#", "fee": "{}""#, fixed(self.fee, places(&self.fee_currency))));
        match self.order_id {
            Some(order) => text.push_str(&format!(r#", "order_id": {order}"#)),
            None => text.push_str(r#", "order_id": null"#),
        }
        for (code, amount) in &self.amounts {
            text.push_str(&format!(r#", "{code}": "{}""#, fixed(*amount, places(code))));
        }
        if let Some((key, rate)) = &self.rate {
            text.push_str(&format!(r#", "{key}": "{rate}""#));
        }
        text.push('}');
        text
    }

    /// The balance changes it makes.
    pub fn effects(&self) -> Vec<(String, Decimal)> {
        let mut effects = self.amounts.clone();
        if !self.fee.is_zero() {
            effects.push((self.fee_currency.clone(), -self.fee));
        }
        effects
    }
}

/// Bitstamp's pairs the person trades: (base, quote).
pub const PAIRS: &[(&str, &str)] = &[
    ("btc", "usd"),
    ("btc", "eur"),
    ("eth", "usd"),
    ("eth", "eur"),
    ("eth", "btc"),
    ("sol", "usd"),
    ("ltc", "usd"),
    ("xrp", "eur"),
];

/// Crypto the person deposits, with a withdrawal fee.
const CRYPTO: &[(&str, &str)] = &[("btc", "0.0001"), ("eth", "0.001"), ("sol", "0.01"), ("ltc", "0.001")];

fn is_fiat(code: &str) -> bool {
    matches!(code, "usd" | "eur" | "gbp")
}

/// Decimal places Bitstamp shows for a currency.
pub fn places(code: &str) -> u32 {
    if is_fiat(code) { 2 } else { 8 }
}

/// The generated account.
#[derive(Debug, Clone)]
pub struct Generator {
    /// Every record, oldest first.
    pub transactions: Vec<Transaction>,
    balances: BTreeMap<String, Decimal>,
    rng: fastrand::Rng,
    next_id: u64,
    next_order: u64,
    crypto_transfers: bool,
}

impl Generator {
    /// The history of `seed` on `market`.
    pub fn generate(seed: u64, market: &Market, profile: &BitstampProfile) -> Generator {
        let mut generator = Generator {
            transactions: Vec::new(),
            balances: BTreeMap::new(),
            rng: fastrand::Rng::with_seed(seed ^ 0x6269_7473_7461_6d70),
            next_id: 25_000_000,
            next_order: 1_600_000_000_000_000,
            crypto_transfers: profile.crypto_transfers,
        };
        let count = profile.records.max(2);
        let step = ((profile.end_ms - profile.start_ms) / count as i64).max(1);
        generator.fund("usd", Decimal::new(2_000_000, 2), profile.start_ms);
        generator.fund("eur", Decimal::new(1_000_000, 2), profile.start_ms + 1_000);
        let mut time_ms = profile.start_ms + step;
        while generator.transactions.len() < count {
            let jitter = generator.rng.i64(0..step.max(2) / 2);
            generator.one(market, time_ms + jitter);
            time_ms += step;
        }
        generator
    }

    /// Adds `count` trades at `time_ms` onwards (one a second); returns how many were added.
    pub fn add_trades(&mut self, market: &Market, count: usize, time_ms: i64) -> usize {
        let before = self.transactions.len();
        let mut at = time_ms;
        let mut tries = 0;
        while self.transactions.len() - before < count && tries < count * 20 {
            self.trade(market, at);
            at += 1_000;
            tries += 1;
        }
        self.transactions.len() - before
    }

    /// Adds a record of type `kind` moving `amount` of `code` at `time_ms` (after every other record).
    pub fn insert(&mut self, kind: u32, code: &str, amount: Decimal, time_ms: i64) -> u64 {
        let time_ms = time_ms.max(self.transactions.last().map_or(0, |t| t.time_ms));
        self.push(kind, vec![(code.to_owned(), amount)], Decimal::ZERO, code, None, None, time_ms)
    }

    /// Balances by lowercase code (zeros kept).
    pub fn balances(&self) -> &BTreeMap<String, Decimal> {
        &self.balances
    }

    fn balance(&self, code: &str) -> Decimal {
        self.balances.get(code).copied().unwrap_or_default()
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        kind: u32,
        amounts: Vec<(String, Decimal)>,
        fee: Decimal,
        fee_currency: &str,
        order_id: Option<u64>,
        rate: Option<(String, Decimal)>,
        time_ms: i64,
    ) -> u64 {
        self.next_id += 1 + self.rng.u64(0..3);
        let transaction = Transaction {
            id: self.next_id,
            time_ms,
            kind,
            amounts,
            fee,
            fee_currency: fee_currency.to_owned(),
            order_id,
            rate,
        };
        for (code, delta) in transaction.effects() {
            *self.balances.entry(code).or_default() += delta;
        }
        self.transactions.push(transaction);
        self.next_id
    }

    fn fund(&mut self, code: &str, amount: Decimal, time_ms: i64) {
        self.push(0, vec![(code.to_owned(), amount)], Decimal::ZERO, code, None, None, time_ms);
    }

    fn one(&mut self, market: &Market, time_ms: i64) {
        match self.rng.u32(0..100) {
            0..=54 => self.trade(market, time_ms),
            55..=74 if !self.crypto_transfers => self.trade(market, time_ms),
            55..=66 => {
                let (code, _) = CRYPTO[self.rng.usize(0..CRYPTO.len())];
                let usd = Decimal::from(self.rng.i64(100..3_000));
                let price = market.price(&code.to_ascii_uppercase(), "USD", time_ms).unwrap_or(Decimal::ONE);
                let amount = floor_dp(usd / price.max(Decimal::new(1, 8)), 8);
                if !amount.is_zero() {
                    self.push(0, vec![(code.to_owned(), amount)], Decimal::ZERO, code, None, None, time_ms);
                }
            }
            67..=74 => {
                let (code, fee) = CRYPTO[self.rng.usize(0..CRYPTO.len())];
                let fee: Decimal = fee.parse().unwrap_or_default();
                let amount = floor_dp(self.balance(code) * percent(&mut self.rng, 10..=40), 8);
                if amount > fee * Decimal::TWO {
                    self.push(1, vec![(code.to_owned(), -(amount - fee))], fee, code, None, None, time_ms);
                } else {
                    self.trade(market, time_ms);
                }
            }
            75..=80 => {
                let code = if self.rng.bool() { "usd" } else { "eur" };
                let amount = Decimal::new(self.rng.i64(50_000..500_000), 2);
                self.fund(code, amount, time_ms);
            }
            81..=84 => {
                let code = if self.rng.bool() { "usd" } else { "eur" };
                let fee = Decimal::new(90, 2);
                let amount = floor_dp(self.balance(code) * percent(&mut self.rng, 5..=20), 2);
                if amount > fee * Decimal::TEN {
                    self.push(1, vec![(code.to_owned(), -(amount - fee))], fee, code, None, None, time_ms);
                } else {
                    self.trade(market, time_ms);
                }
            }
            85..=96 => {
                let staked = self.balance("eth");
                let reward = floor_dp(staked * Decimal::new(1, 4), 8);
                if reward.is_zero() {
                    self.trade(market, time_ms);
                } else {
                    self.push(27, vec![("eth".to_owned(), reward)], Decimal::ZERO, "eth", None, None, time_ms);
                }
            }
            _ => {
                self.push(
                    32,
                    vec![("usd".to_owned(), Decimal::new(1_000, 2))],
                    Decimal::ZERO,
                    "usd",
                    None,
                    None,
                    time_ms,
                );
            }
        }
    }

    fn trade(&mut self, market: &Market, time_ms: i64) {
        let (base, quote) = PAIRS[self.rng.usize(0..PAIRS.len())];
        let Some(price) = market.price(&base.to_ascii_uppercase(), &quote.to_ascii_uppercase(), time_ms) else {
            return;
        };
        let price = floor_dp(price, if is_fiat(quote) { 2 } else { 8 });
        if price.is_zero() {
            return;
        }
        let quote_places = places(quote);
        let (buy, qty) = if self.rng.u32(0..100) < 60 || self.balance(base).is_zero() {
            let budget = self.balance(quote) * percent(&mut self.rng, 3..=15);
            (true, floor_dp(budget / price, 8))
        } else {
            (false, floor_dp(self.balance(base) * percent(&mut self.rng, 10..=60), 8))
        };
        let cost = floor_dp(qty * price, quote_places);
        let fee = floor_dp(cost * Decimal::new(3, 3), quote_places);
        if qty.is_zero() || cost.is_zero() {
            return;
        }
        let fits = if buy { self.balance(quote) >= cost + fee } else { self.balance(base) >= qty && cost > fee };
        if !fits {
            return;
        }
        let (base_delta, quote_delta) = if buy { (qty, -cost) } else { (-qty, cost) };
        self.next_order += 1 + self.rng.u64(0..50);
        let order = self.next_order;
        self.push(
            2,
            vec![(base.to_owned(), base_delta), (quote.to_owned(), quote_delta)],
            fee,
            quote,
            Some(order),
            Some((format!("{base}_{quote}"), price)),
            time_ms,
        );
    }
}
