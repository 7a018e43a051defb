//! The Gemini account of the generated person: fills and transfers, from a seed.
//!
//! Prices come from the shared [`Market`]; crypto that arrives at or leaves Gemini is mirrored
//! in the person's `external` wallet with the same transaction hash. The account funds itself
//! by ACH and crypto deposits, trades on Gemini's symbols (now and then an order filled twice
//! in the same millisecond), withdraws crypto with a network fee, earns the odd reward and gets
//! an admin credit or debit; the last transfer is still `Pending`. Every balance is tracked and
//! never goes below zero; amounts are exact decimals.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::sim::amounts::{floor_dp, percent};
use crate::sim::generate::{Activity, Market, Outcome};
use crate::sim::ids::{hex, random_text};

/// How big and how long a Gemini history is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeminiProfile {
    /// First millisecond (UTC).
    pub start_ms: i64,
    /// Last millisecond.
    pub end_ms: i64,
    /// Records (fills and transfers) to generate, about.
    pub records: usize,
    /// Every symbol and kind ([`PAIRS`], GUSD, admin credits and debits), or only what the
    /// demo's price sources value (BTC, ETH and USD: [`DEMO_PAIRS`]).
    pub wide: bool,
    /// Percent of the steps that are staking transactions on top of the usual few (0: the
    /// usual mix; a test raises it to get more staking history than one page holds).
    pub extra_staking_percent: u32,
}

impl GeminiProfile {
    /// About 600 records over 2024–2025.
    pub fn demo() -> GeminiProfile {
        GeminiProfile {
            start_ms: 1_704_067_200_000,
            end_ms: 1_767_225_599_999,
            records: 600,
            wide: true,
            extra_staking_percent: 0,
        }
    }

    /// The demo's account: about 300 records in BTC, ETH and USD only, which the demo's
    /// simulated candles value.
    pub fn narrow() -> GeminiProfile {
        GeminiProfile { records: 300, wide: false, ..GeminiProfile::demo() }
    }

    /// 50,000 records over 2022–2025 (the benchmark).
    pub fn bench() -> GeminiProfile {
        GeminiProfile {
            start_ms: 1_640_995_200_000,
            end_ms: 1_767_225_599_999,
            records: 50_000,
            wide: true,
            extra_staking_percent: 0,
        }
    }
}

/// Gemini's symbols the person trades: (symbol, base, quote).
pub const PAIRS: &[(&str, &str, &str)] = &[
    ("btcusd", "BTC", "USD"),
    ("ethusd", "ETH", "USD"),
    ("ethbtc", "ETH", "BTC"),
    ("solusd", "SOL", "USD"),
    ("dogeusd", "DOGE", "USD"),
    ("ltcusd", "LTC", "USD"),
    ("ethgusd", "ETH", "GUSD"),
];

/// The symbols of a narrow profile.
pub const DEMO_PAIRS: &[(&str, &str, &str)] =
    &[("btcusd", "BTC", "USD"), ("ethusd", "ETH", "USD"), ("ethbtc", "ETH", "BTC")];

/// Symbols listed but never traded by the person.
pub const UNTRADED: &[&str] = &["btceur", "btcgbp", "linkusd", "maticusd"];

/// One fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fill {
    /// Trade id.
    pub tid: u64,
    /// Order id.
    pub order_id: u64,
    /// Symbol (`btcusd`).
    pub symbol: &'static str,
    /// When, ms.
    pub time_ms: i64,
    /// Whether the person bought.
    pub is_buy: bool,
    /// Price in quote.
    pub price: Decimal,
    /// Base quantity.
    pub amount: Decimal,
    /// Fee in the quote.
    pub fee: Decimal,
    /// The quote (the fee's currency).
    pub quote: &'static str,
}

/// One transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Event id.
    pub eid: u64,
    /// `Deposit`, `Withdrawal`, `Reward`, `AdminCredit`, `AdminDebit`.
    pub kind: &'static str,
    /// `Complete`, `Advanced` or `Pending`.
    pub status: &'static str,
    /// When, ms.
    pub time_ms: i64,
    /// Currency.
    pub currency: String,
    /// Amount (positive).
    pub amount: Decimal,
    /// Withdrawal fee, on top.
    pub fee: Decimal,
    /// Transaction hash (crypto).
    pub tx_hash: Option<String>,
    /// Address (crypto).
    pub destination: Option<String>,
    /// Fiat method.
    pub method: Option<&'static str>,
}

impl Transfer {
    /// Its effect on the balance (nothing while pending).
    pub fn delta(&self) -> Decimal {
        if self.status == "Pending" {
            return Decimal::ZERO;
        }
        match self.kind {
            "Withdrawal" => -(self.amount + self.fee),
            "AdminDebit" => -self.amount,
            _ => self.amount,
        }
    }
}

/// One staking transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StakingTx {
    /// Its id (`TQN9OPN`).
    pub id: String,
    /// `Deposit`, `Redeem` or `Interest`.
    pub kind: &'static str,
    /// Currency.
    pub currency: String,
    /// Amount (positive).
    pub amount: Decimal,
    /// When, ms.
    pub time_ms: i64,
}

/// The generated account.
#[derive(Debug, Clone)]
pub struct Generator {
    /// Fills, oldest first (ties by tid).
    pub fills: Vec<Fill>,
    /// Transfers, oldest first (ties by eid).
    pub transfers: Vec<Transfer>,
    /// Staking transactions, oldest first.
    pub staking: Vec<StakingTx>,
    /// The person's own wallet's side of crypto transfers.
    pub external: Vec<Activity>,
    balances: BTreeMap<String, Decimal>,
    staked: BTreeMap<String, Decimal>,
    rng: fastrand::Rng,
    wide: bool,
    extra_staking_percent: u32,
    next_tid: u64,
    next_order: u64,
    next_eid: u64,
}

fn places(asset: &str) -> u32 {
    match asset {
        "USD" | "EUR" | "GBP" | "GUSD" => 2,
        _ => 8,
    }
}

impl Generator {
    /// The account of `seed` on `market`.
    pub fn generate(seed: u64, market: &Market, profile: &GeminiProfile) -> Generator {
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x6765_6d69_6e69);
        let mut g = Generator {
            fills: Vec::new(),
            transfers: Vec::new(),
            staking: Vec::new(),
            external: Vec::new(),
            balances: BTreeMap::new(),
            staked: BTreeMap::new(),
            next_tid: 1_000_000_000 + rng.u64(0..1_000_000),
            next_order: 900_000_000 + rng.u64(0..1_000_000),
            next_eid: 300_000_000 + rng.u64(0..1_000_000),
            rng,
            wide: profile.wide,
            extra_staking_percent: profile.extra_staking_percent,
        };
        let span = (profile.end_ms - profile.start_ms).max(1);
        let count = i64::try_from(profile.records.max(1)).unwrap_or(1);
        let step = (span / (count + 1)).max(1);
        let mut t = profile.start_ms;
        g.fiat_deposit(t, Decimal::new(50_000, 0));
        while g.fills.len() + g.transfers.len() + g.staking.len() < profile.records {
            t += g.rng.i64(1..=step * 2);
            if t >= profile.end_ms {
                break;
            }
            g.step(market, t);
        }
        // The last transfer is still pending: not in the balance, not final.
        let at = profile.end_ms.min(t + 1);
        g.push_transfer("Deposit", "Pending", at, "USD", Decimal::new(25_000, 2), Decimal::ZERO, None);
        g
    }

    /// Exchange balances per currency (zeros kept), as `/v1/balances` reports them.
    pub fn balances(&self) -> &BTreeMap<String, Decimal> {
        &self.balances
    }

    /// Staking balances per currency (zeros kept), as `/v1/balances/staking` reports them.
    pub fn staked(&self) -> &BTreeMap<String, Decimal> {
        &self.staked
    }

    fn push_staking(&mut self, kind: &'static str, currency: &str, amount: Decimal, time_ms: i64) {
        let id = random_text(&mut self.rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 8);
        match kind {
            "Deposit" => self.add(currency, -amount),
            "Redeem" => self.add(currency, amount),
            _ => {}
        }
        let staked = self.staked.entry(currency.to_owned()).or_default();
        *staked += if kind == "Redeem" { -amount } else { amount };
        self.staking.push(StakingTx { id, kind, currency: currency.to_owned(), amount, time_ms });
    }

    fn stake(&mut self, t: i64) {
        let currencies: &[&str] = if self.wide { &["ETH", "SOL"] } else { &["ETH"] };
        let currency = currencies[self.rng.usize(0..currencies.len())];
        let staked = self.staked.get(currency).copied().unwrap_or_default();
        match self.rng.u32(0..4) {
            0 | 1 if staked > Decimal::ZERO => {
                let interest = floor_dp(staked * Decimal::new(i64::from(self.rng.u32(1..30)), 5), 8);
                if !interest.is_zero() {
                    self.push_staking("Interest", currency, interest, t);
                }
            }
            2 if staked > Decimal::ZERO => {
                let amount = floor_dp(staked * percent(&mut self.rng, 10..=50), 8);
                if !amount.is_zero() {
                    self.push_staking("Redeem", currency, amount, t);
                }
            }
            _ => {
                let amount = floor_dp(self.balance(currency) * percent(&mut self.rng, 10..=40), 8);
                if !amount.is_zero() {
                    self.push_staking("Deposit", currency, amount, t);
                }
            }
        }
    }

    /// Makes every pending transfer complete.
    pub fn settle_pending(&mut self) {
        for transfer in self.transfers.iter_mut().filter(|t| t.status == "Pending") {
            transfer.status = "Complete";
            *self.balances.entry(transfer.currency.clone()).or_default() += transfer.amount;
        }
    }

    /// Adds `count` BTC/USD buys at `time_ms` (one millisecond apart), with an ACH deposit
    /// first to pay for them; returns how many fills were added.
    pub fn add_fills(&mut self, market: &Market, count: usize, time_ms: i64) -> usize {
        let Some(price) = market.price("BTC", "USD", time_ms).map(|p| p.round_dp(2)).filter(|p| !p.is_zero()) else {
            return 0;
        };
        let amount = Decimal::new(1, 4);
        let total = price * amount;
        let fee = total * Decimal::new(25, 4);
        let needed = (total + fee) * Decimal::from(count) + Decimal::ONE;
        self.fiat_deposit(time_ms, needed.round_dp(2));
        for index in 0..count {
            let at = time_ms + 1 + i64::try_from(index).unwrap_or(0);
            self.next_tid += 1;
            self.next_order += 1;
            self.add("BTC", amount);
            self.add("USD", -(total + fee));
            let fill = Fill {
                tid: self.next_tid,
                order_id: self.next_order,
                symbol: "btcusd",
                time_ms: at,
                is_buy: true,
                price,
                amount,
                fee,
                quote: "USD",
            };
            self.fills.push(fill);
        }
        count
    }

    fn balance(&self, asset: &str) -> Decimal {
        self.balances.get(asset).copied().unwrap_or_default()
    }

    fn add(&mut self, asset: &str, delta: Decimal) {
        *self.balances.entry(asset.to_owned()).or_default() += delta;
    }

    #[allow(clippy::too_many_arguments)]
    fn push_transfer(
        &mut self,
        kind: &'static str,
        status: &'static str,
        time_ms: i64,
        currency: &str,
        amount: Decimal,
        fee: Decimal,
        chain: Option<(String, String)>,
    ) {
        self.next_eid += self.rng.u64(1..40);
        let fiat = matches!(currency, "USD" | "EUR" | "GBP");
        let transfer = Transfer {
            eid: self.next_eid,
            kind,
            status,
            time_ms,
            currency: currency.to_owned(),
            amount,
            fee,
            tx_hash: chain.as_ref().map(|(hash, _)| hash.clone()),
            destination: chain.map(|(_, address)| address),
            method: (fiat && kind == "Deposit").then_some("ACH"),
        };
        let delta = transfer.delta();
        self.add(currency, delta);
        self.transfers.push(transfer);
    }

    fn fiat_deposit(&mut self, t: i64, amount: Decimal) {
        let status = if self.rng.bool() { "Complete" } else { "Advanced" };
        self.push_transfer("Deposit", status, t, "USD", amount, Decimal::ZERO, None);
    }

    fn chain(&mut self) -> (String, String) {
        (hex(&mut self.rng, 64), format!("0x{}", hex(&mut self.rng, 40)))
    }

    fn step(&mut self, market: &Market, t: i64) {
        // Rolled only when asked for, so the usual profiles keep their histories.
        if self.extra_staking_percent > 0 && self.rng.u32(0..100) < self.extra_staking_percent {
            return self.stake(t);
        }
        match self.rng.u32(0..100) {
            0..=5 => {
                let amount = Decimal::new(i64::from(self.rng.u32(100..5_000)), 0);
                self.fiat_deposit(t, amount);
            }
            6..=11 => self.crypto_deposit(market, t),
            12..=16 => self.withdraw(market, t),
            17 => {
                let amount = floor_dp(Decimal::new(i64::from(self.rng.u32(100..5_000)), 8), 8);
                self.push_transfer("Reward", "Complete", t, "BTC", amount, Decimal::ZERO, None);
            }
            19..=22 => self.stake(t),
            18 if self.wide => {
                let kind =
                    if self.balance("USD") > Decimal::TEN && self.rng.bool() { "AdminDebit" } else { "AdminCredit" };
                let amount = Decimal::new(i64::from(self.rng.u32(1..500)), 2);
                self.push_transfer(kind, "Complete", t, "USD", amount, Decimal::ZERO, None);
            }
            _ => self.trade(market, t),
        }
    }

    fn crypto_deposit(&mut self, market: &Market, t: i64) {
        let assets: &[&str] = if self.wide { &["BTC", "ETH", "SOL", "GUSD"] } else { &["BTC", "ETH"] };
        let asset = assets[self.rng.usize(0..assets.len())];
        let usd = Decimal::new(i64::from(self.rng.u32(200..3_000)), 0);
        let price = if asset == "GUSD" { Some(Decimal::ONE) } else { market.usd(asset, t) };
        let Some(price) = price.filter(|p| !p.is_zero()) else { return };
        let amount = floor_dp(usd / price, places(asset));
        if amount.is_zero() {
            return;
        }
        let (hash, address) = self.chain();
        self.push_transfer(
            "Deposit",
            "Complete",
            t,
            asset,
            amount,
            Decimal::ZERO,
            Some((hash.clone(), address.clone())),
        );
        let id = hex(&mut self.rng, 16);
        self.external.push(Activity::Withdrawal {
            asset: asset.to_owned(),
            amount,
            fee: Decimal::ZERO,
            network: asset.to_owned(),
            address,
            tx_hash: hash,
            time_ms: t - 600_000,
            id,
            outcome: Outcome::Completed,
        });
    }

    fn withdraw(&mut self, _market: &Market, t: i64) {
        let assets: &[&str] = if self.wide { &["BTC", "ETH", "SOL"] } else { &["BTC", "ETH"] };
        let asset = assets[self.rng.usize(0..assets.len())];
        let fee = match asset {
            "BTC" => Decimal::new(1, 4),
            "ETH" => Decimal::new(15, 4),
            _ => Decimal::new(1, 2),
        };
        let held = self.balance(asset);
        if held <= fee * Decimal::TWO {
            return;
        }
        let amount = floor_dp((held - fee) * percent(&mut self.rng, 10..=60), 8);
        if amount.is_zero() {
            return;
        }
        let (hash, address) = self.chain();
        self.push_transfer("Withdrawal", "Complete", t, asset, amount, fee, Some((hash.clone(), address.clone())));
        let id = hex(&mut self.rng, 16);
        self.external.push(Activity::Deposit {
            asset: asset.to_owned(),
            amount,
            network: asset.to_owned(),
            address,
            tx_hash: hash,
            time_ms: t + 600_000,
            id,
            outcome: Outcome::Completed,
        });
    }

    fn trade(&mut self, market: &Market, t: i64) {
        let pairs = if self.wide { PAIRS } else { DEMO_PAIRS };
        let (symbol, base, quote) = pairs[self.rng.usize(0..pairs.len())];
        let market_quote = if quote == "GUSD" { "USD" } else { quote };
        let price_dp = if quote == "BTC" { 5 } else { 2 };
        let Some(price) = market.price(base, market_quote, t).map(|p| p.round_dp(price_dp)).filter(|p| !p.is_zero())
        else {
            return;
        };
        let is_buy = self.rng.u32(0..100) < 55;
        let fee_rate = Decimal::new(25, 4);
        let fills = if self.rng.u32(0..5) == 0 { 2 } else { 1 };
        self.next_order += self.rng.u64(1..1_000);
        for _ in 0..fills {
            let budget = if is_buy {
                self.balance(quote) * percent(&mut self.rng, 5..=30) / price
            } else {
                self.balance(base) * percent(&mut self.rng, 5..=40)
            };
            let amount = floor_dp(budget, 6);
            if amount.is_zero() {
                return;
            }
            let total = price * amount;
            let fee = total * fee_rate;
            if is_buy {
                if self.balance(quote) < total + fee {
                    return;
                }
                self.add(base, amount);
                self.add(quote, -(total + fee));
            } else {
                if self.balance(base) < amount {
                    return;
                }
                self.add(base, -amount);
                self.add(quote, total - fee);
            }
            self.next_tid += self.rng.u64(1..50);
            self.fills.push(Fill {
                tid: self.next_tid,
                order_id: self.next_order,
                symbol,
                time_ms: t,
                is_buy,
                price,
                amount,
                fee,
                quote,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::generate::{Profile, generate};

    #[test]
    fn the_same_seed_gives_the_same_history_with_no_negative_balance_and_same_millisecond_fills() {
        let profile = GeminiProfile::demo();
        let world =
            generate(3, &Profile { start_ms: profile.start_ms, end_ms: profile.end_ms, trades: 0, ..Profile::demo() });
        let a = Generator::generate(3, &world.market, &profile);
        let b = Generator::generate(3, &world.market, &profile);
        assert_eq!((&a.fills, &a.transfers, &a.balances), (&b.fills, &b.transfers, &b.balances));
        assert!(a.fills.len() > 300, "{}", a.fills.len());
        assert!(a.balances.values().all(|b| !b.is_sign_negative()), "{:?}", a.balances);
        assert!(a.fills.windows(2).any(|w| w[0].time_ms == w[1].time_ms), "no two fills in one millisecond");
        assert_eq!(a.transfers.iter().filter(|t| t.status == "Pending").count(), 1);
        for kind in ["Deposit", "Withdrawal", "Reward"] {
            assert!(a.transfers.iter().any(|t| t.kind == kind), "{kind}");
        }
        for kind in ["Deposit", "Redeem", "Interest"] {
            assert!(a.staking.iter().any(|t| t.kind == kind), "staking {kind}");
        }
        assert!(a.staked.values().all(|b| !b.is_sign_negative()), "{:?}", a.staked);
    }
}
