//! The Bitfinex account of the generated person: ledger entries, from a seed.
//!
//! Prices come from the shared [`Market`] of [`crate::sim::generate`]. The account funds
//! itself with USD by wire, deposits crypto, trades on Bitfinex's pairs (each trade two entries
//! at one millisecond, and a 0.2 % fee entry in the currency received), moves USD between the
//! exchange, margin and funding wallets, earns margin funding payments in the funding wallet,
//! ETH staking payments and the odd affiliate rebate, and withdraws crypto with a fee. Each
//! deposit and withdrawal is also a [`Movement`] with its address and hash. Ids grow
//! with time; every balance is tracked per (wallet, currency) and never goes below zero;
//! amounts are exact decimals (8 places).

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::super::assets::bitfinex_code;
use crate::sim::amounts::{floor_dp, percent};
use crate::sim::generate::Market;

/// How big and how long a Bitfinex history is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitfinexProfile {
    /// First millisecond (UTC).
    pub start_ms: i64,
    /// Last millisecond.
    pub end_ms: i64,
    /// Entries to generate (about).
    pub entries: usize,
    /// Whether crypto arrives and leaves (deposits and withdrawals of crypto); without them
    /// the account is funded with USD only (the demo's, whose wallet has no side of them).
    pub crypto_transfers: bool,
}

impl BitfinexProfile {
    /// About 600 entries over 2024–2025.
    pub fn demo() -> BitfinexProfile {
        BitfinexProfile { start_ms: 1_704_067_200_000, end_ms: 1_767_225_599_999, entries: 600, crypto_transfers: true }
    }

    /// 50,000 entries over 2022–2025 (the benchmark).
    pub fn bench() -> BitfinexProfile {
        BitfinexProfile {
            start_ms: 1_640_995_200_000,
            end_ms: 1_767_225_599_999,
            entries: 50_000,
            crypto_transfers: true,
        }
    }
}

/// One ledger entry as the simulator serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Bitfinex's id, growing with time.
    pub id: u64,
    /// Bitfinex's currency code (`UST` for USDT).
    pub currency: String,
    /// The wallet.
    pub wallet: &'static str,
    /// When, ms.
    pub time_ms: i64,
    /// The signed amount.
    pub amount: Decimal,
    /// The wallet's balance after it.
    pub balance: Decimal,
    /// The description.
    pub description: String,
}

impl Entry {
    /// The entry's JSON, as Bitfinex sends it: an array, amounts as JSON numbers.
    pub fn json(&self) -> String {
        let description = serde_json::Value::from(self.description.as_str());
        format!(
            r#"[{},"{}","{}",{},null,{},{},null,{description}]"#,
            self.id,
            self.currency,
            self.wallet,
            self.time_ms,
            self.amount.normalize(),
            self.balance.normalize()
        )
    }
}

/// One deposit or withdrawal as the simulator serves it from `movements/hist`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    /// Bitfinex's movement id (the `#` of its ledger entry).
    pub id: u64,
    /// Bitfinex's currency code.
    pub currency: String,
    /// The method's name (`BITCOIN`, `WIRE`, …).
    pub method: &'static str,
    /// When it was asked for, ms.
    pub started_ms: i64,
    /// When it last changed (completed), ms: the time of its ledger entry.
    pub updated_ms: i64,
    /// `COMPLETED` (or `PROCESSING`, for one still under way).
    pub status: &'static str,
    /// Signed: the ledger entry's amount (the withdrawal fee is its own entry).
    pub amount: Decimal,
    /// The fee, negative (zero for deposits).
    pub fees: Decimal,
    /// The address (none for a wire).
    pub address: Option<String>,
    /// The on-chain hash (none for a wire).
    pub tx_id: Option<String>,
}

impl Movement {
    /// The movement's JSON, as Bitfinex sends it: a 22-field array, amounts as JSON numbers.
    pub fn json(&self) -> String {
        let text = |value: &Option<String>| value.as_ref().map_or("null".to_owned(), |v| format!("{v:?}"));
        format!(
            r#"[{},"{}","{}",null,null,{},{},null,null,"{}",null,null,{},{},null,null,{},null,null,null,{},null]"#,
            self.id,
            self.currency,
            self.method,
            self.started_ms,
            self.updated_ms,
            self.status,
            self.amount.normalize(),
            self.fees.normalize(),
            text(&self.address),
            text(&self.tx_id)
        )
    }
}

/// Bitfinex's pairs the person trades: (base, quote), canonical symbols.
pub const PAIRS: &[(&str, &str)] =
    &[("BTC", "USD"), ("ETH", "USD"), ("ETH", "BTC"), ("SOL", "USD"), ("LTC", "USD"), ("USDT", "USD")];

/// Crypto the person deposits, with a withdrawal fee.
const CRYPTO: &[(&str, &str)] = &[("BTC", "0.0004"), ("ETH", "0.00135"), ("USDT", "1"), ("LTC", "0.001")];

/// The generated account.
#[derive(Debug, Clone)]
pub struct Generator {
    /// Every entry, oldest first.
    pub entries: Vec<Entry>,
    /// Every deposit and withdrawal, by when it was last updated.
    pub movements: Vec<Movement>,
    balances: BTreeMap<(&'static str, String), Decimal>,
    rng: fastrand::Rng,
    next_id: u64,
    next_movement: u64,
    crypto_transfers: bool,
}

impl Generator {
    /// The history of `seed` on `market`.
    pub fn generate(seed: u64, market: &Market, profile: &BitfinexProfile) -> Generator {
        let mut generator = Generator {
            entries: Vec::new(),
            movements: Vec::new(),
            balances: BTreeMap::new(),
            rng: fastrand::Rng::with_seed(seed ^ 0x6269_7466_696e_6578),
            next_id: 2_480_000_000,
            next_movement: 14_000_000,
            crypto_transfers: profile.crypto_transfers,
        };
        let count = profile.entries.max(2);
        // About two entries per happening.
        let step = ((profile.end_ms - profile.start_ms) / (count as i64 / 2).max(1)).max(2);
        generator.wire(Decimal::new(2_500_000, 2), profile.start_ms);
        let mut time_ms = profile.start_ms + step;
        while generator.entries.len() < count {
            let jitter = generator.rng.i64(0..step / 2);
            generator.one(market, time_ms + jitter);
            time_ms += step;
        }
        generator
    }

    /// Adds `count` trades at `time_ms` onwards (one a second); returns how many were added.
    pub fn add_trades(&mut self, market: &Market, count: usize, time_ms: i64) -> usize {
        let mut added = 0;
        let mut at = time_ms;
        let mut tries = 0;
        while added < count && tries < count * 20 {
            added += usize::from(self.trade(market, at));
            at += 1_000;
            tries += 1;
        }
        added
    }

    /// Adds one entry of `amount` `code` (canonical) to the exchange wallet with `description`
    /// at `time_ms` (after every other entry); returns its id.
    pub fn insert(&mut self, code: &str, amount: Decimal, description: &str, time_ms: i64) -> u64 {
        let time_ms = time_ms.max(self.entries.last().map_or(0, |e| e.time_ms));
        self.push("exchange", code, amount, description.to_owned(), time_ms)
    }

    /// Balances by canonical symbol, every wallet added up (zeros kept).
    pub fn balances(&self) -> BTreeMap<String, Decimal> {
        let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
        for ((_, code), amount) in &self.balances {
            *totals.entry(code.clone()).or_default() += *amount;
        }
        totals
    }

    /// Balances per (wallet, canonical symbol), as `wallets` lists them.
    pub fn wallets(&self) -> &BTreeMap<(&'static str, String), Decimal> {
        &self.balances
    }

    fn balance(&self, wallet: &'static str, code: &str) -> Decimal {
        self.balances.get(&(wallet, code.to_owned())).copied().unwrap_or_default()
    }

    fn push(&mut self, wallet: &'static str, code: &str, amount: Decimal, description: String, time_ms: i64) -> u64 {
        self.next_id += 1 + self.rng.u64(0..3);
        let balance = self.balances.entry((wallet, code.to_owned())).or_default();
        *balance += amount;
        let entry = Entry {
            id: self.next_id,
            currency: bitfinex_code(code),
            wallet,
            time_ms,
            amount,
            balance: *balance,
            description,
        };
        self.entries.push(entry);
        self.next_id
    }

    fn movement(&mut self) -> u64 {
        self.next_movement += 1 + self.rng.u64(0..20);
        self.next_movement
    }

    fn wire(&mut self, amount: Decimal, time_ms: i64) {
        let movement = self.movement();
        self.push("exchange", "USD", amount, format!("Deposit (WIRE) #{movement} on wallet exchange"), time_ms);
        self.record_movement(movement, "USD", amount, Decimal::ZERO, time_ms);
    }

    /// Records movement `id` of `amount` `code` completed at `time_ms` (its ledger entry's time),
    /// with an address and hash derived from its id (no draw of the generator's randomness, so
    /// the ledger is the same with or without movements).
    fn record_movement(&mut self, id: u64, code: &str, amount: Decimal, fees: Decimal, time_ms: i64) {
        let method = match code {
            "USD" => "WIRE",
            "BTC" => "BITCOIN",
            "ETH" => "ETHEREUM",
            "USDT" => "TETHERUSE",
            "LTC" => "LITECOIN",
            _ => "OTHER",
        };
        let crypto = method != "WIRE";
        let digest = |salt: u64| {
            use sha2::Digest;
            crate::hex::lower_hex(&sha2::Sha256::digest(format!("bitfinex movement {id} {salt}")))
        };
        self.movements.push(Movement {
            id,
            currency: bitfinex_code(code),
            method,
            started_ms: time_ms - 600_000,
            updated_ms: time_ms,
            status: "COMPLETED",
            amount,
            fees,
            address: crypto.then(|| format!("addr-{}", &digest(1)[..40])),
            tx_id: crypto.then(|| format!("0x{}", digest(2))),
        });
    }

    fn one(&mut self, market: &Market, time_ms: i64) {
        let done = match self.rng.u32(0..100) {
            0..=54 => self.trade(market, time_ms),
            55..=62 if self.crypto_transfers => self.deposit(market, time_ms),
            63..=68 if self.crypto_transfers => self.withdraw(time_ms),
            69..=72 => {
                let amount = Decimal::new(self.rng.i64(50_000..500_000), 2);
                self.wire(amount, time_ms);
                true
            }
            73..=80 => self.transfer(time_ms),
            81..=88 => self.funding_payment(time_ms),
            89..=95 => self.staking(time_ms),
            96..=99 => {
                let amount = Decimal::new(self.rng.i64(10..500), 2);
                self.push("exchange", "USD", amount, "Affiliate Rebate on wallet exchange".to_owned(), time_ms);
                true
            }
            _ => false,
        };
        if !done {
            self.trade(market, time_ms);
        }
    }

    fn deposit(&mut self, market: &Market, time_ms: i64) -> bool {
        let (code, _) = CRYPTO[self.rng.usize(0..CRYPTO.len())];
        let usd = Decimal::from(self.rng.i64(100..3_000));
        let Some(price) = market.price(code, "USD", time_ms) else { return false };
        let amount = floor_dp(usd / price.max(Decimal::new(1, 8)), 8);
        if amount.is_zero() {
            return false;
        }
        let movement = self.movement();
        let description = format!("Deposit ({code}) #{movement} on wallet exchange");
        self.push("exchange", code, amount, description, time_ms);
        self.record_movement(movement, code, amount, Decimal::ZERO, time_ms);
        true
    }

    fn withdraw(&mut self, time_ms: i64) -> bool {
        let (code, fee) = CRYPTO[self.rng.usize(0..CRYPTO.len())];
        let fee: Decimal = fee.parse().unwrap_or_default();
        let amount = floor_dp(self.balance("exchange", code) * percent(&mut self.rng, 10..=40), 8);
        if amount <= fee * Decimal::TWO {
            return false;
        }
        let movement = self.movement();
        self.push("exchange", code, -(amount - fee), format!("Withdrawal #{movement} on wallet exchange"), time_ms);
        self.push("exchange", code, -fee, "Crypto Withdrawal fee on wallet exchange".to_owned(), time_ms);
        self.record_movement(movement, code, -(amount - fee), -fee, time_ms);
        true
    }

    /// USD between the exchange wallet and the margin or funding wallet (both ways).
    fn transfer(&mut self, time_ms: i64) -> bool {
        let other: &'static str = if self.rng.bool() { "margin" } else { "funding" };
        let (from, to) = if self.balance(other, "USD") > Decimal::ONE_HUNDRED && self.rng.bool() {
            (other, "exchange")
        } else {
            ("exchange", other)
        };
        let amount = floor_dp(self.balance(from, "USD") * percent(&mut self.rng, 5..=30), 2);
        if amount.is_zero() {
            return false;
        }
        let description =
            |wallet: &str| format!("Transfer of {amount} USD from wallet {from} to {to} on wallet {wallet}");
        self.push(from, "USD", -amount, description(from), time_ms);
        self.push(to, "USD", amount, description(to), time_ms);
        true
    }

    fn funding_payment(&mut self, time_ms: i64) -> bool {
        let lent = self.balance("funding", "USD");
        let amount = floor_dp(lent * Decimal::new(3, 4), 8);
        if amount.is_zero() {
            return false;
        }
        self.push("funding", "USD", amount, "Margin Funding Payment on wallet funding".to_owned(), time_ms);
        true
    }

    fn staking(&mut self, time_ms: i64) -> bool {
        let amount = floor_dp(self.balance("exchange", "ETH") * Decimal::new(1, 4), 8);
        if amount.is_zero() {
            return false;
        }
        self.push("exchange", "ETH", amount, "Staking Payment on wallet exchange".to_owned(), time_ms);
        true
    }

    /// One trade: the two sides at one millisecond, then the fee in the currency received.
    fn trade(&mut self, market: &Market, time_ms: i64) -> bool {
        let (base, quote) = PAIRS[self.rng.usize(0..PAIRS.len())];
        let Some(price) = market.price(base, quote, time_ms) else { return false };
        let price = floor_dp(price, if quote == "USD" { 4 } else { 8 }).normalize();
        if price.is_zero() {
            return false;
        }
        let buy = self.rng.u32(0..100) < 60 || self.balance("exchange", base).is_zero();
        let qty = if buy {
            floor_dp(self.balance("exchange", quote) * percent(&mut self.rng, 3..=15) / price, 8)
        } else {
            floor_dp(self.balance("exchange", base) * percent(&mut self.rng, 10..=60), 8)
        };
        let cost = floor_dp(qty * price, 8);
        if qty.is_zero() || cost.is_zero() {
            return false;
        }
        let (received, received_amount) = if buy { (base, qty) } else { (quote, cost) };
        let fee = floor_dp(received_amount * Decimal::new(2, 3), 8);
        let fits = if buy { self.balance("exchange", quote) >= cost } else { self.balance("exchange", base) >= qty };
        if !fits {
            return false;
        }
        let description =
            format!("Exchange {qty} {} for {} @ {price} on wallet exchange", bitfinex_code(base), bitfinex_code(quote));
        let (base_delta, quote_delta) = if buy { (qty, -cost) } else { (-qty, cost) };
        self.push("exchange", quote, quote_delta, description.clone(), time_ms);
        self.push("exchange", base, base_delta, description, time_ms);
        if !fee.is_zero() {
            let pair = format!("{}{}", bitfinex_code(base), bitfinex_code(quote));
            let fee_text = format!(
                "Trading fees for {qty} {} ({pair}) @ {price} on BFX (0.2%) on wallet exchange",
                bitfinex_code(base)
            );
            self.push("exchange", received, -fee, fee_text, time_ms);
        }
        true
    }
}
