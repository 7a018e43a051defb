//! The Bybit account of the generated person: a funding and a unified wallet, from a seed.
//!
//! Prices come from the shared [`Market`] of [`crate::sim::generate`]. Crypto arrives in the
//! funding wallet by on-chain deposits (the odd one failed), moves between the funding and the
//! unified wallet by transfers (a transfer record and the log's `TRANSFER_IN`/`TRANSFER_OUT`),
//! is traded in the unified wallet (two log entries a fill, the fee taken from the currency
//! received), earns the odd interest payment and bonus, and leaves the funding wallet by
//! withdrawals with a fee on top. Some of it is staked in Bybit Earn: Flexible Savings from
//! either wallet (a unified wallet's stake and redemption are in its log too), On-chain Earn
//! from the funding wallet; flexible positions earn daily `Auto` yields credited into the
//! position, on-chain ones `Auto` yields paid into the funding wallet, and some flexible
//! redemptions pay a `Manual` yield into their wallet. (Where Bybit credits
//! a yield is the simulator's choice, not a documented fact; the account's total is the same
//! either way.) Every balance is tracked per (wallet, coin) and per Earn position and never
//! goes below zero; amounts are exact decimals (8 places).

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::sim::amounts::{floor_dp, percent};
use crate::sim::generate::Market;

const DAY_MS: i64 = 86_400_000;

/// How big and how long a Bybit history is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BybitProfile {
    /// First millisecond (UTC).
    pub start_ms: i64,
    /// Last millisecond.
    pub end_ms: i64,
    /// Records to generate (about), every stream together.
    pub records: usize,
}

impl BybitProfile {
    /// About `records` records over the 600 days before `now_ms` (inside Bybit's two-year reach).
    pub fn recent(now_ms: i64, records: usize) -> BybitProfile {
        BybitProfile { start_ms: now_ms - 600 * DAY_MS, end_ms: now_ms - 3_600_000, records }
    }

    /// The demo's: about 200 records in 2025 (inside the demo market), the same on every run.
    ///
    /// It depends on nothing but constants: `cointally demo` run again on the same ledger must
    /// meet the same account. (It once started at "now less 700 days", so every run generated
    /// a history shifted by the time elapsed — other times, other prices, other amounts under
    /// the same ids — and a second demo run found the ledger's balances off the simulator's.)
    pub fn demo() -> BybitProfile {
        // 2025-01-01T00:00:00Z ..= 2025-12-31T23:59:59.999Z
        BybitProfile { start_ms: 1_735_689_600_000, end_ms: 1_767_225_599_999, records: 200 }
    }
}

/// The wallets of an account.
pub const FUND: &str = "FUND";
/// The unified trading wallet.
pub const UNIFIED: &str = "UNIFIED";
/// A classic account's spot wallet.
pub const SPOT: &str = "SPOT";

/// One spot fill of a classic account, as `/v5/execution/list?category=spot` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fill {
    /// Bybit's `execId`.
    pub id: String,
    /// The order it filled.
    pub order_id: String,
    /// When, ms.
    pub time_ms: i64,
    /// The market (`BTCUSDT`).
    pub symbol: String,
    /// `Buy` or `Sell`.
    pub side: &'static str,
    /// The price.
    pub price: Decimal,
    /// The base quantity.
    pub qty: Decimal,
    /// The fee, in `fee_coin`.
    pub fee: Decimal,
    /// The coin of the fee: the one received.
    pub fee_coin: String,
}

/// One transaction log entry of the unified wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Bybit's id.
    pub id: String,
    /// When, ms.
    pub time_ms: i64,
    /// The type (`TRADE`, …).
    pub kind: &'static str,
    /// The coin.
    pub coin: String,
    /// The market, for fills.
    pub symbol: String,
    /// `Buy`/`Sell`/`None`.
    pub side: &'static str,
    /// The fill's price.
    pub price: Decimal,
    /// Cash flow before the fee.
    pub cash_flow: Decimal,
    /// The fee.
    pub fee: Decimal,
    /// The wallet's balance after it.
    pub balance: Decimal,
    /// The fill's id.
    pub trade_id: u64,
}

/// One deposit, withdrawal or transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    /// Which stream: `deposits`, `withdrawals` or `transfers`.
    pub stream: &'static str,
    /// Bybit's id.
    pub id: String,
    /// When, ms.
    pub time_ms: i64,
    /// The coin.
    pub coin: String,
    /// The amount.
    pub amount: Decimal,
    /// The fee (withdrawals).
    pub fee: Decimal,
    /// Whether it went through.
    pub ok: bool,
    /// Chain details: (chain, address, tx hash).
    pub chain: (String, String, String),
    /// For transfers: (from, to).
    pub wallets: (&'static str, &'static str),
}

/// One coin conversion in the funding wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// Bybit's id (`exchangeTxId`).
    pub id: String,
    /// When, ms (whole seconds: Bybit gives seconds).
    pub time_ms: i64,
    /// The coin given and how much.
    pub from: (String, Decimal),
    /// The coin received and how much.
    pub to: (String, Decimal),
    /// `to` per `from`.
    pub rate: Decimal,
}

/// One Earn stake or redeem order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarnOrder {
    /// Bybit's `orderId` (a UUID).
    pub id: String,
    /// When, ms.
    pub time_ms: i64,
    /// `FlexibleSaving` or `OnChain`.
    pub category: &'static str,
    /// `Stake` or `Redeem`.
    pub kind: &'static str,
    /// The coin.
    pub coin: String,
    /// The amount.
    pub amount: Decimal,
    /// The wallet it came from (stake) or went to (redeem): `FUND` or `UNIFIED`.
    pub wallet: &'static str,
    /// The product.
    pub product_id: String,
    /// `Success` or `Pending`.
    pub status: &'static str,
}

/// One Earn yield (Flexible Savings or On-chain Earn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarnYield {
    /// Bybit's id.
    pub id: String,
    /// `FlexibleSaving` or `OnChain`.
    pub category: &'static str,
    /// When, ms.
    pub time_ms: i64,
    /// The coin.
    pub coin: String,
    /// The yield.
    pub amount: Decimal,
    /// `Auto` (a flexible position's credited into it, daily; an on-chain one's into the
    /// funding wallet) or `Manual` (paid with a redemption, into its wallet).
    pub mode: &'static str,
    /// The redemption that paid it (`Manual`), else empty.
    pub order_id: String,
    /// The product.
    pub product_id: String,
    /// The amount that earned it.
    pub staked: Decimal,
}

/// Earn's categories.
pub const FLEXIBLE: &str = "FlexibleSaving";
/// On-chain Earn.
pub const ONCHAIN: &str = "OnChain";

/// Pairs the person trades: (base, quote).
pub const PAIRS: &[(&str, &str)] = &[("BTC", "USDT"), ("ETH", "USDT"), ("SOL", "USDT"), ("ETH", "BTC")];

/// Coins deposited, their chain and withdrawal fee.
const COINS: &[(&str, &str, &str)] = &[("USDT", "TRX", "1"), ("BTC", "BTC", "0.0002"), ("ETH", "ETH", "0.0012")];

/// The product id of a coin in an Earn category (made up: one product per coin and category).
pub fn product(category: &str, coin: &str) -> String {
    let base = if category == FLEXIBLE { 400 } else { 900 };
    let offset = COINS.iter().position(|(c, _, _)| *c == coin).unwrap_or(COINS.len());
    (base + offset).to_string()
}

/// The generated account.
#[derive(Debug, Clone)]
pub struct Generator {
    /// The unified wallet's log, oldest first.
    pub log: Vec<LogEntry>,
    /// Deposits, withdrawals and transfers, oldest first.
    pub movements: Vec<Movement>,
    /// Coin conversions in the funding wallet, oldest first.
    pub conversions: Vec<Conversion>,
    /// A classic account's spot fills, oldest first (empty for a unified account).
    pub fills: Vec<Fill>,
    /// Whether the account is classic: its trading wallet is `SPOT`, its fills are listed by
    /// the execution list, and it has no transaction log.
    pub classic: bool,
    /// Earn stake and redeem orders, oldest first.
    pub earn_orders: Vec<EarnOrder>,
    /// Earn yields, oldest first.
    pub earn_yields: Vec<EarnYield>,
    /// What is staked in Earn, by (category, coin); a position fully redeemed stays at zero.
    pub positions: BTreeMap<(&'static str, String), Decimal>,
    balances: BTreeMap<(&'static str, String), Decimal>,
    rng: fastrand::Rng,
    next_id: u64,
}

impl Generator {
    /// The history of `seed` on `market`: a unified account's, or a classic one's.
    pub fn generate(seed: u64, market: &Market, profile: &BybitProfile, classic: bool) -> Generator {
        let mut g = Generator {
            log: Vec::new(),
            movements: Vec::new(),
            conversions: Vec::new(),
            fills: Vec::new(),
            classic,
            earn_orders: Vec::new(),
            earn_yields: Vec::new(),
            positions: BTreeMap::new(),
            balances: BTreeMap::new(),
            rng: fastrand::Rng::with_seed(seed ^ 0x0062_7962_6974),
            next_id: 3_900_000,
        };
        let count = profile.records.max(4);
        let step = ((profile.end_ms - profile.start_ms) / (count as i64 / 2).max(1)).max(4);
        g.deposit(market, profile.start_ms, "USDT", Decimal::from(20_000));
        let trading = g.trading();
        g.transfer(profile.start_ms + 1_000, FUND, trading, "USDT", Decimal::from(15_000));
        let mut time_ms = profile.start_ms + step;
        while g.log.len() + g.fills.len() + g.movements.len() + g.earn_orders.len() + g.earn_yields.len() < count
            && time_ms <= profile.end_ms
        {
            let jitter = g.rng.i64(0..step / 2);
            g.one(market, (time_ms + jitter).min(profile.end_ms));
            time_ms += step;
        }
        g
    }

    /// Adds `count` fills from `time_ms` on (one a second); returns how many were added.
    pub fn add_trades(&mut self, market: &Market, count: usize, time_ms: i64) -> usize {
        let (mut added, mut at, mut tries) = (0, time_ms, 0);
        while added < count && tries < count * 20 {
            added += usize::from(self.trade(market, at));
            at += 1_000;
            tries += 1;
        }
        added
    }

    /// Adds a log entry of a type cointally does not know; returns its id.
    pub fn insert_unknown(&mut self, coin: &str, amount: Decimal, kind: &'static str, time_ms: i64) -> String {
        self.log_entry(time_ms, kind, coin, "", "None", Decimal::ZERO, amount, Decimal::ZERO, 0)
    }

    /// Balances by coin, both wallets and the Earn positions added up (zeros kept).
    pub fn balances(&self) -> BTreeMap<String, Decimal> {
        let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
        for ((_, coin), amount) in self.balances.iter().chain(&self.positions) {
            *totals.entry(coin.clone()).or_default() += *amount;
        }
        totals
    }

    /// Adds an on-chain stake from the funding wallet that is not final yet (`Pending`): the
    /// coin leaves the wallet and is listed as a position being processed; returns its id, or
    /// `None` when the wallet holds less than `amount`.
    pub fn add_pending_stake(&mut self, coin: &str, amount: Decimal, time_ms: i64) -> Option<String> {
        if self.balance(FUND, coin) < amount {
            return None;
        }
        self.add(FUND, coin, -amount);
        *self.positions.entry((ONCHAIN, coin.to_owned())).or_default() += amount;
        let id = crate::sim::ids::uuid(&mut self.rng);
        self.earn_orders.push(EarnOrder {
            id: id.clone(),
            time_ms,
            category: ONCHAIN,
            kind: "Stake",
            coin: coin.to_owned(),
            amount,
            wallet: FUND,
            product_id: product(ONCHAIN, coin),
            status: "Pending",
        });
        Some(id)
    }

    /// Makes every pending Earn order final (`Success`); returns how many.
    pub fn settle_earn(&mut self) -> usize {
        let pending = self.earn_orders.iter_mut().filter(|o| o.status == "Pending");
        pending.map(|order| order.status = "Success").count()
    }

    /// Balances of one wallet by coin.
    pub fn wallet(&self, wallet: &str) -> BTreeMap<String, Decimal> {
        self.balances.iter().filter(|((w, _), _)| *w == wallet).map(|((_, coin), v)| (coin.clone(), *v)).collect()
    }

    /// The wallet trades happen in: `SPOT` (classic) or `UNIFIED`.
    pub fn trading(&self) -> &'static str {
        if self.classic { SPOT } else { UNIFIED }
    }

    fn balance(&self, wallet: &'static str, coin: &str) -> Decimal {
        self.balances.get(&(wallet, coin.to_owned())).copied().unwrap_or_default()
    }

    fn add(&mut self, wallet: &'static str, coin: &str, amount: Decimal) -> Decimal {
        let balance = self.balances.entry((wallet, coin.to_owned())).or_default();
        *balance += amount;
        *balance
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1 + self.rng.u64(0..5);
        self.next_id
    }

    #[allow(clippy::too_many_arguments)]
    fn log_entry(
        &mut self,
        time_ms: i64,
        kind: &'static str,
        coin: &str,
        symbol: &str,
        side: &'static str,
        price: Decimal,
        cash_flow: Decimal,
        fee: Decimal,
        trade_id: u64,
    ) -> String {
        let balance = self.add(UNIFIED, coin, cash_flow - fee);
        let id = format!("{}_{coin}_{}", self.id(), self.log.len());
        let entry = LogEntry {
            id: id.clone(),
            time_ms,
            kind,
            coin: coin.to_owned(),
            symbol: symbol.to_owned(),
            side,
            price,
            cash_flow,
            fee,
            balance,
            trade_id,
        };
        self.log.push(entry);
        id
    }

    fn movement(
        &mut self,
        stream: &'static str,
        time_ms: i64,
        coin: &str,
        amount: Decimal,
        fee: Decimal,
        ok: bool,
    ) -> &mut Movement {
        let id = self.id().to_string();
        let hash = crate::sim::ids::hex(&mut self.rng, 64);
        let chain = COINS.iter().find(|(c, _, _)| *c == coin).map_or("ETH", |(_, chain, _)| chain);
        self.movements.push(Movement {
            stream,
            id,
            time_ms,
            coin: coin.to_owned(),
            amount,
            fee,
            ok,
            chain: (chain.to_owned(), format!("addr-{coin}-{}", self.rng.u32(1000..9999)), hash),
            wallets: (FUND, FUND),
        });
        self.movements.last_mut().expect("just pushed")
    }

    fn deposit(&mut self, _market: &Market, time_ms: i64, coin: &str, amount: Decimal) {
        self.add(FUND, coin, amount);
        self.movement("deposits", time_ms, coin, amount, Decimal::ZERO, true);
    }

    fn transfer(&mut self, time_ms: i64, from: &'static str, to: &'static str, coin: &str, amount: Decimal) {
        self.add(FUND, coin, if from == FUND { -amount } else { amount });
        let kind = if to == FUND { "TRANSFER_OUT" } else { "TRANSFER_IN" };
        let flow = if to == FUND { -amount } else { amount };
        if self.classic {
            // A classic account has no transaction log: the transfer record is all there is.
            self.add(SPOT, coin, flow);
        } else {
            self.log_entry(time_ms, kind, coin, "", "None", Decimal::ZERO, flow, Decimal::ZERO, 0);
        }
        let uuid = crate::sim::ids::uuid(&mut self.rng);
        let record = self.movement("transfers", time_ms, coin, amount, Decimal::ZERO, true);
        record.id = uuid;
        record.wallets = (from, to);
    }

    fn one(&mut self, market: &Market, time_ms: i64) {
        if self.rng.u32(0..100) < 12 && self.earn(time_ms) {
            return;
        }
        let done = match self.rng.u32(0..100) {
            0..=59 => self.trade(market, time_ms),
            60..=67 => {
                let (coin, _, _) = COINS[self.rng.usize(0..COINS.len())];
                let usd = Decimal::from(self.rng.i64(200..3_000));
                let price = if coin == "USDT" { Some(Decimal::ONE) } else { market.price(coin, "USD", time_ms) };
                match price.filter(|p| !p.is_zero()) {
                    Some(price) => {
                        let amount = floor_dp(usd / price, 8);
                        if self.rng.u32(0..10) == 0 {
                            self.movement("deposits", time_ms, coin, amount, Decimal::ZERO, false);
                        } else {
                            self.deposit(market, time_ms, coin, amount);
                        }
                        true
                    }
                    None => false,
                }
            }
            68..=79 => {
                let (coin, _, _) = COINS[self.rng.usize(0..COINS.len())];
                let trading = self.trading();
                let (from, to) = if self.rng.bool() { (FUND, trading) } else { (trading, FUND) };
                let amount = floor_dp(self.balance(from, coin) * percent(&mut self.rng, 10..=60), 8);
                if amount.is_zero() {
                    false
                } else {
                    self.transfer(time_ms, from, to, coin, amount);
                    true
                }
            }
            80..=87 => self.withdraw(time_ms),
            92..=95 => self.convert(market, time_ms),
            // A classic account's interest and bonuses are not in what cointally reads: fills.
            88.. if self.classic => self.trade(market, time_ms),
            88..=91 => {
                let amount = floor_dp(self.balance(UNIFIED, "USDT") * Decimal::new(2, 4), 8);
                !amount.is_zero() && {
                    self.log_entry(time_ms, "INTEREST", "USDT", "", "None", Decimal::ZERO, amount, Decimal::ZERO, 0);
                    true
                }
            }
            _ => {
                let amount = Decimal::new(self.rng.i64(100..1_000), 2);
                self.log_entry(time_ms, "BONUS", "USDT", "", "None", Decimal::ZERO, amount, Decimal::ZERO, 0);
                true
            }
        };
        if !done {
            self.trade(market, time_ms);
        }
    }

    /// One Earn happening: a stake (Flexible Savings from the funding or the unified wallet,
    /// on-chain from the funding wallet only, as Bybit's Stake / Redeem page says), a redemption
    /// (some with a `Manual` yield paid with it) or an `Auto` yield credited into a flexible
    /// position. A unified wallet's side is in its log too (`FLEXIBLE_STAKING_SUBSCRIPTION`,
    /// `FLEXIBLE_STAKING_REDEMPTION`).
    fn earn(&mut self, time_ms: i64) -> bool {
        let roll = self.rng.u32(0..100);
        let held: Vec<(&'static str, String, Decimal)> =
            self.positions.iter().filter(|(_, v)| !v.is_zero()).map(|((c, coin), v)| (*c, coin.clone(), *v)).collect();
        if roll < 45 || held.is_empty() {
            let category = if self.rng.u32(0..10) < 7 { FLEXIBLE } else { ONCHAIN };
            let wallet = if category == FLEXIBLE && !self.classic && self.rng.bool() { UNIFIED } else { FUND };
            let (coin, _, _) = COINS[self.rng.usize(0..COINS.len())];
            let amount = floor_dp(self.balance(wallet, coin) * percent(&mut self.rng, 10..=40), 8);
            if amount.is_zero() {
                return false;
            }
            if wallet == UNIFIED {
                self.log_entry(
                    time_ms,
                    "FLEXIBLE_STAKING_SUBSCRIPTION",
                    coin,
                    "",
                    "None",
                    Decimal::ZERO,
                    -amount,
                    Decimal::ZERO,
                    0,
                );
            } else {
                self.add(FUND, coin, -amount);
            }
            *self.positions.entry((category, coin.to_owned())).or_default() += amount;
            self.earn_order(time_ms, category, "Stake", coin, amount, wallet);
            return true;
        }
        let (category, coin, staked) = held[self.rng.usize(0..held.len())].clone();
        if roll < 70 {
            let share = if self.rng.u32(0..4) == 0 { Decimal::ONE } else { percent(&mut self.rng, 20..=80) };
            let amount = floor_dp(staked * share, 8);
            if amount.is_zero() {
                return false;
            }
            let wallet = if category == FLEXIBLE && !self.classic && self.rng.bool() { UNIFIED } else { FUND };
            *self.positions.entry((category, coin.clone())).or_default() -= amount;
            let manual = if category == FLEXIBLE && self.rng.u32(0..3) == 0 {
                floor_dp(amount * Decimal::new(7, 4), 8)
            } else {
                Decimal::ZERO
            };
            if wallet == UNIFIED {
                let kind = "FLEXIBLE_STAKING_REDEMPTION";
                self.log_entry(time_ms, kind, &coin, "", "None", Decimal::ZERO, amount + manual, Decimal::ZERO, 0);
            } else {
                self.add(FUND, &coin, amount + manual);
            }
            let order_id = self.earn_order(time_ms, category, "Redeem", &coin, amount, wallet);
            if !manual.is_zero() {
                self.earn_yield(time_ms, FLEXIBLE, &coin, manual, "Manual", order_id, amount);
            }
            return true;
        }
        let amount = floor_dp(staked * Decimal::new(self.rng.i64(2..12), 4), 8);
        if amount.is_zero() {
            return false;
        }
        // Where Bybit credits a yield is not documented: a flexible one into its position, an
        // on-chain one (in the yield history since 2026-03-19) into the funding wallet it was
        // staked from — the simulator's choice; the account's total is the same either way.
        if category == FLEXIBLE {
            *self.positions.entry((category, coin.clone())).or_default() += amount;
        } else {
            self.add(FUND, &coin, amount);
        }
        self.earn_yield(time_ms, category, &coin, amount, "Auto", String::new(), staked);
        true
    }

    fn earn_order(
        &mut self,
        time_ms: i64,
        category: &'static str,
        kind: &'static str,
        coin: &str,
        amount: Decimal,
        wallet: &'static str,
    ) -> String {
        let id = crate::sim::ids::uuid(&mut self.rng);
        self.earn_orders.push(EarnOrder {
            id: id.clone(),
            time_ms,
            category,
            kind,
            coin: coin.to_owned(),
            amount,
            wallet,
            product_id: product(category, coin),
            status: "Success",
        });
        id
    }

    #[allow(clippy::too_many_arguments)]
    fn earn_yield(
        &mut self,
        time_ms: i64,
        category: &'static str,
        coin: &str,
        amount: Decimal,
        mode: &'static str,
        order_id: String,
        staked: Decimal,
    ) {
        let id = self.id().to_string();
        self.earn_yields.push(EarnYield {
            id,
            category,
            time_ms,
            coin: coin.to_owned(),
            amount,
            mode,
            order_id,
            product_id: product(category, coin),
            staked,
        });
    }

    /// A conversion of part of a funding wallet coin into another at the market's price.
    fn convert(&mut self, market: &Market, time_ms: i64) -> bool {
        let (from, _, _) = COINS[self.rng.usize(0..COINS.len())];
        let (to, _, _) = COINS[self.rng.usize(0..COINS.len())];
        let usd = |coin: &str| if coin == "USDT" { Some(Decimal::ONE) } else { market.price(coin, "USD", time_ms) };
        let (Some(from_usd), Some(to_usd)) = (usd(from), usd(to)) else { return false };
        if from == to || to_usd.is_zero() {
            return false;
        }
        let rate = floor_dp(from_usd / to_usd, 8);
        let from_amount = floor_dp(self.balance(FUND, from) * percent(&mut self.rng, 10..=50), 6);
        let to_amount = floor_dp(from_amount * rate, 8);
        if from_amount.is_zero() || to_amount.is_zero() {
            return false;
        }
        self.add(FUND, from, -from_amount);
        self.add(FUND, to, to_amount);
        let id = (1_784_000_000_000_000_000 + self.id()).to_string();
        let time_ms = time_ms - time_ms.rem_euclid(1_000);
        self.conversions.push(Conversion {
            id,
            time_ms,
            from: (from.to_owned(), from_amount),
            to: (to.to_owned(), to_amount),
            rate,
        });
        true
    }

    fn withdraw(&mut self, time_ms: i64) -> bool {
        let (coin, _, fee) = COINS[self.rng.usize(0..COINS.len())];
        let fee: Decimal = fee.parse().unwrap_or_default();
        let amount = floor_dp(self.balance(FUND, coin) * percent(&mut self.rng, 10..=40), 8);
        if amount <= fee * Decimal::TWO {
            return false;
        }
        let ok = self.rng.u32(0..10) != 0;
        if ok {
            self.add(FUND, coin, -(amount + fee));
        }
        self.movement("withdrawals", time_ms, coin, amount, fee, ok);
        true
    }

    /// One fill: the quote's and the base's log entries at one millisecond, the fee from what
    /// was received.
    fn trade(&mut self, market: &Market, time_ms: i64) -> bool {
        let (base, quote) = PAIRS[self.rng.usize(0..PAIRS.len())];
        let Some(price) = market.price(base, if quote == "USDT" { "USD" } else { quote }, time_ms) else {
            return false;
        };
        let price = floor_dp(price, if quote == "USDT" { 2 } else { 6 }).normalize();
        if price.is_zero() {
            return false;
        }
        let wallet = self.trading();
        let buy = self.rng.u32(0..100) < 55 || self.balance(wallet, base).is_zero();
        let qty = if buy {
            floor_dp(self.balance(wallet, quote) * percent(&mut self.rng, 3..=15) / price, 6)
        } else {
            floor_dp(self.balance(wallet, base) * percent(&mut self.rng, 10..=60), 6)
        };
        // A classic fill's quote amount is its quantity times its price, exactly (the execution
        // list gives no `execValue` for classic spot).
        let cost = if self.classic { (qty * price).normalize() } else { floor_dp(qty * price, 8) };
        if qty.is_zero() || cost.is_zero() {
            return false;
        }
        let fits = if buy { self.balance(wallet, quote) >= cost } else { self.balance(wallet, base) >= qty };
        if !fits {
            return false;
        }
        let trade_id = 2_100_000_000_000_000 + self.rng.u64(0..1_000_000_000);
        let symbol = format!("{base}{quote}");
        let side = if buy { "Buy" } else { "Sell" };
        let (base_flow, quote_flow) = if buy { (qty, -cost) } else { (-qty, cost) };
        let (base_fee, quote_fee) = if buy {
            (floor_dp(qty * Decimal::new(1, 3), 8), Decimal::ZERO)
        } else {
            (Decimal::ZERO, floor_dp(cost * Decimal::new(1, 3), 8))
        };
        if self.classic {
            let (fee, fee_coin) = if buy { (base_fee, base) } else { (quote_fee, quote) };
            self.add(SPOT, base, base_flow - base_fee);
            self.add(SPOT, quote, quote_flow - quote_fee);
            let order_id = (1_500_000_000_000_000_000 + self.id()).to_string();
            let id = (2_200_000_000_000_000_000 + self.id()).to_string();
            self.fills.push(Fill {
                id,
                order_id,
                time_ms,
                symbol,
                side,
                price,
                qty,
                fee,
                fee_coin: fee_coin.to_owned(),
            });
            return true;
        }
        self.log_entry(time_ms, "TRADE", quote, &symbol, side, price, quote_flow, quote_fee, trade_id);
        self.log_entry(time_ms, "TRADE", base, &symbol, side, price, base_flow, base_fee, trade_id);
        true
    }
}
