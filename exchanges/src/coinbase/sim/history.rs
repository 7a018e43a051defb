//! The Coinbase account of the generated person: wallets, v2 transactions and Advanced Trade
//! fills, from a seed, priced by the shared [`Market`].
//!
//! One USD wallet, one wallet per crypto asset and an ETH vault. The person deposits dollars,
//! buys and sells in the app (the crypto wallet's row carries the dollars in its embedded order),
//! converts (two rows, two wallets, one `trade.id`), trades on Advanced Trade (a row in the base
//! and one in the quote wallet, and the v3 fill), sends to addresses (amount = what left on chain
//! plus the network fee) and to other Coinbase users, receives, earns staking, inflation, interest,
//! Earn and incentive payouts and rebates, moves ETH to and from the vault and staking, moves to
//! Coinbase Exchange and back, pays with the card, pays the subscription, has the odd clawback,
//! canceled send and a transaction of a type cointally does not know. Balances never go below
//! zero; amounts are exact decimals; crypto that leaves or arrives on chain is mirrored in the
//! shared `external` wallet with the same transaction hash.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::sim::amounts::{fixed, floor_dp, percent};
use crate::sim::generate::{Activity, Market, Outcome, World};
use crate::sim::ids::uuid_from_words;
use crate::sim::json;

/// How big a Coinbase history is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoinbaseProfile {
    /// First millisecond (UTC).
    pub start_ms: i64,
    /// Last millisecond.
    pub end_ms: i64,
    /// v2 transactions to generate (about).
    pub transactions: usize,
    /// Wallets (USD, the ETH vault and crypto wallets).
    pub wallets: usize,
}

impl CoinbaseProfile {
    /// About 400 transactions over 12 wallets in 2024–2025.
    pub fn demo() -> CoinbaseProfile {
        CoinbaseProfile { start_ms: 1_704_067_200_000, end_ms: 1_767_225_599_999, transactions: 400, wallets: 12 }
    }

    /// 50,000 transactions over 20 wallets in 2023–2025 (the benchmark).
    pub fn bench() -> CoinbaseProfile {
        CoinbaseProfile { start_ms: 1_672_531_200_000, end_ms: 1_767_225_599_999, transactions: 50_000, wallets: 20 }
    }
}

/// One wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimWallet {
    /// UUID.
    pub id: String,
    /// `BTC Wallet`.
    pub name: String,
    /// Currency code.
    pub currency: String,
    /// `wallet`, `fiat` or `vault`.
    pub kind: &'static str,
    /// Balance now.
    pub balance: Decimal,
}

/// One v2 transaction as served.
#[derive(Debug, Clone)]
pub struct SimTx {
    /// UUID.
    pub id: String,
    /// Index of its wallet.
    pub wallet: usize,
    /// `buy`, `send`…
    pub kind: &'static str,
    /// Time, whole seconds in ms.
    pub time_ms: i64,
    /// Signed change of the wallet (0 for a canceled one).
    pub amount: Decimal,
    /// The JSON served.
    pub json: Box<RawValue>,
}

/// One Advanced Trade fill as served.
#[derive(Debug, Clone)]
pub struct SimFill {
    /// Entry id (the v3 cursor).
    pub entry_id: String,
    /// Trade id.
    pub trade_id: String,
    /// When, ms.
    pub time_ms: i64,
    /// The JSON served.
    pub json: Box<RawValue>,
}

/// Crypto wallets, in the order they are opened (those the market prices).
const CRYPTO: &[&str] = &[
    "BTC", "ETH", "SOL", "USDC", "ADA", "DOGE", "LTC", "LINK", "XRP", "DOT", "USDT", "AVAX", "ATOM", "UNI", "MATIC",
    "BCH", "XLM", "FIL", "AAVE", "ALGO", "TRX", "NEAR", "ETC", "SHIB",
];
/// Assets that earn staking rewards.
const STAKED: &[&str] = &["ETH", "SOL", "ADA", "ATOM", "DOT"];

/// The generator of one Coinbase account; keeps its state so transactions can be added later.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: fastrand::Rng,
    market: Market,
    /// Every wallet.
    pub wallets: Vec<SimWallet>,
    /// Every transaction, in time order.
    pub txs: Vec<SimTx>,
    /// Every fill, in time order.
    pub fills: Vec<SimFill>,
    /// The external wallet's side of on-chain sends and receives.
    pub external: Vec<Activity>,
    by_currency: BTreeMap<String, usize>,
    vault: Option<usize>,
}

fn places(currency: &str) -> u32 {
    if crate::asset::is_fiat(currency) { 2 } else { 8 }
}

/// An amount as Coinbase writes it: fiat with 2 places, crypto with 8.
fn text(amount: Decimal, currency: &str) -> String {
    fixed(amount, places(currency))
}

/// `{"amount": "…", "currency": "…"}`.
fn money(amount: Decimal, currency: &str) -> Value {
    json!({ "amount": text(amount, currency), "currency": currency })
}

fn iso(ms: i64) -> String {
    crate::time::format_rfc3339(crate::time::from_millis(ms))
}

impl Generator {
    /// Generates the history of `profile` on `world`'s market.
    pub fn generate(seed: u64, world: &World, profile: &CoinbaseProfile) -> Generator {
        let mut g = Generator {
            rng: fastrand::Rng::with_seed(seed ^ 0x00c0_1ba5_e000),
            market: world.market.clone(),
            wallets: Vec::new(),
            txs: Vec::new(),
            fills: Vec::new(),
            external: Vec::new(),
            by_currency: BTreeMap::new(),
            vault: None,
        };
        let at = profile.start_ms;
        g.open("USD", "fiat");
        let priced: Vec<&str> = CRYPTO.iter().copied().filter(|a| g.market.usd(a, at).is_some()).collect();
        let wanted = profile.wallets.saturating_sub(2).max(2);
        for asset in priced.iter().take(wanted) {
            g.open(asset, "wallet");
        }
        if g.by_currency.contains_key("ETH") {
            let vault = g.open_wallet("ETH", "vault", "ETH Vault");
            g.vault = Some(vault);
        }
        let mut t = at - at.rem_euclid(1000) + 3_600_000;
        g.fiat_deposit(Decimal::from(50_000), t);
        t += 3_600_000;
        let span = (profile.end_ms - t).max(1);
        let steps = profile.transactions.saturating_mul(10) / 12;
        let mut times: Vec<i64> = (0..steps.max(1)).map(|_| t + g.rng.i64(0..span) / 1000 * 1000).collect();
        times.sort_unstable();
        for time in times {
            if g.txs.len() >= profile.transactions {
                break;
            }
            g.step(time);
        }
        g
    }

    fn open(&mut self, currency: &str, kind: &'static str) -> usize {
        self.open_wallet(currency, kind, &format!("{currency} Wallet"))
    }

    fn open_wallet(&mut self, currency: &str, kind: &'static str, name: &str) -> usize {
        let id = uuid_from_words(&mut self.rng);
        self.wallets.push(SimWallet {
            id,
            name: name.to_owned(),
            currency: currency.to_owned(),
            kind,
            balance: Decimal::ZERO,
        });
        let index = self.wallets.len() - 1;
        if kind != "vault" {
            self.by_currency.insert(currency.to_owned(), index);
        }
        index
    }

    fn hash(&mut self) -> String {
        (0..4).map(|_| format!("{:016x}", self.rng.u64(..))).collect()
    }

    fn usd(&self, currency: &str, t: i64) -> Option<Decimal> {
        if currency == "USD" {
            return Some(Decimal::ONE);
        }
        self.market.usd(currency, t).filter(|p| !p.is_zero())
    }

    fn balance(&self, wallet: usize) -> Decimal {
        self.wallets[wallet].balance
    }

    fn wallet_of(&self, currency: &str) -> Option<usize> {
        self.by_currency.get(currency).copied()
    }

    fn crypto_wallets(&self) -> Vec<usize> {
        (0..self.wallets.len()).filter(|&w| self.wallets[w].kind == "wallet").collect()
    }

    /// A crypto wallet holding something (random), if any.
    fn funded(&mut self) -> Option<usize> {
        let candidates: Vec<usize> =
            self.crypto_wallets().into_iter().filter(|&w| self.balance(w) > Decimal::ZERO).collect();
        (!candidates.is_empty()).then(|| candidates[self.rng.usize(0..candidates.len())])
    }

    fn any_crypto(&mut self) -> usize {
        let all = self.crypto_wallets();
        all[self.rng.usize(0..all.len())]
    }

    /// Writes a transaction of `wallet` (`extra`: more members, an object or `null`).
    fn push(
        &mut self,
        wallet: usize,
        kind: &'static str,
        status: &str,
        amount: Decimal,
        t: i64,
        extra: Value,
    ) -> String {
        let id = uuid_from_words(&mut self.rng);
        let currency = self.wallets[wallet].currency.clone();
        let native = self.usd(&currency, t).map_or(Decimal::ZERO, |p| (amount * p).round_dp(2));
        if status == "completed" {
            self.wallets[wallet].balance += amount;
        }
        let wallet_id = self.wallets[wallet].id.clone();
        let mut tx = json!({
            "id": id,
            "type": kind,
            "status": status,
            "amount": money(amount, &currency),
            "native_amount": money(native, "USD"),
            "description": null,
            "created_at": iso(t),
            "resource": "transaction",
            "resource_path": format!("/v2/accounts/{wallet_id}/transactions/{id}"),
        });
        if let (Value::Object(members), Value::Object(more)) = (&mut tx, extra) {
            members.extend(more);
        }
        let json = json::render(&tx);
        self.txs.push(SimTx {
            id: id.clone(),
            wallet,
            kind,
            time_ms: t,
            amount: if status == "completed" { amount } else { Decimal::ZERO },
            json,
        });
        id
    }

    fn step(&mut self, t: i64) {
        match self.rng.u32(0..1000) {
            0..=79 => {
                let amount = Decimal::from(self.rng.i64(200..3_000));
                self.fiat_deposit(amount, t);
            }
            80..=229 => self.buy(t),
            230..=309 => self.sell(t),
            310..=389 => self.convert(t),
            390..=639 => self.advanced_fill(t),
            640..=699 => self.send_out(t),
            700..=719 => self.send_to_user(t),
            720..=779 => self.receive(t),
            780..=849 => self.reward(t),
            850..=879 => self.interest(t),
            880..=899 => self.vault_move(t),
            900..=919 => self.fiat_withdrawal(t),
            920..=934 => self.exchange_move(t),
            935..=959 => self.card_spend(t),
            960..=969 => self.subscription(t),
            970..=979 => self.clawback(t),
            980..=989 => self.canceled_send(t),
            _ => self.unknown(t),
        }
    }

    fn usd_wallet(&self) -> usize {
        self.wallet_of("USD").unwrap_or(0)
    }

    fn fiat_deposit(&mut self, amount: Decimal, t: i64) {
        let usd = self.usd_wallet();
        let extra = json!({ "fiat_deposit": { "payment_method_name": "Example Bank ******1234" } });
        self.push(usd, "fiat_deposit", "completed", amount, t, extra);
    }

    fn ensure_usd(&mut self, needed: Decimal, t: i64) {
        if self.balance(self.usd_wallet()) < needed {
            self.fiat_deposit((needed + Decimal::from(1_000)).round_dp(0), t);
        }
    }

    fn buy(&mut self, t: i64) {
        let wallet = self.any_crypto();
        let currency = self.wallets[wallet].currency.clone();
        let Some(price) = self.usd(&currency, t) else { return };
        let subtotal = Decimal::from(self.rng.i64(20..600));
        let fee = (subtotal * Decimal::new(149, 4)).round_dp(2);
        let qty = floor_dp(subtotal / price, 8);
        if qty.is_zero() {
            return;
        }
        self.ensure_usd(subtotal + fee, t);
        let usd = self.usd_wallet();
        self.wallets[usd].balance -= subtotal + fee;
        let order = uuid_from_words(&mut self.rng);
        let extra = json!({ "buy": {
            "id": order,
            "subtotal": money(subtotal, "USD"),
            "fee": money(fee, "USD"),
            "total": money(subtotal + fee, "USD"),
            "payment_method_name": "USD Wallet",
        } });
        self.push(wallet, "buy", "completed", qty, t, extra);
    }

    fn sell(&mut self, t: i64) {
        let Some(wallet) = self.funded() else { return };
        let currency = self.wallets[wallet].currency.clone();
        let Some(price) = self.usd(&currency, t) else { return };
        let share = percent(&mut self.rng, 10..=40);
        let qty = floor_dp(self.balance(wallet) * share, 8);
        let subtotal = (qty * price).round_dp(2);
        let fee = (subtotal * Decimal::new(149, 4)).round_dp(2);
        if qty.is_zero() || subtotal <= fee {
            return;
        }
        let usd = self.usd_wallet();
        self.wallets[usd].balance += subtotal - fee;
        let order = uuid_from_words(&mut self.rng);
        let extra = json!({ "sell": {
            "id": order,
            "subtotal": money(subtotal, "USD"),
            "fee": money(fee, "USD"),
            "total": money(subtotal - fee, "USD"),
            "payment_method_name": "USD Wallet",
        } });
        self.push(wallet, "sell", "completed", -qty, t, extra);
    }

    fn convert(&mut self, t: i64) {
        let Some(from) = self.funded() else { return };
        let to = self.any_crypto();
        if to == from {
            return;
        }
        let (a, b) = (self.wallets[from].currency.clone(), self.wallets[to].currency.clone());
        let (Some(pa), Some(pb)) = (self.usd(&a, t), self.usd(&b, t)) else { return };
        let share = percent(&mut self.rng, 10..=50);
        let qa = floor_dp(self.balance(from) * share, 8);
        let qb = floor_dp(qa * pa / pb * Decimal::new(99, 2), 8);
        if qa.is_zero() || qb.is_zero() {
            return;
        }
        let trade = uuid_from_words(&mut self.rng);
        let extra = json!({ "trade": { "id": trade, "resource": "trade" } });
        self.push(from, "trade", "completed", -qa, t, extra.clone());
        self.push(to, "trade", "completed", qb, t, extra);
    }

    fn advanced_fill(&mut self, t: i64) {
        let base_wallet = self.any_crypto();
        let base = self.wallets[base_wallet].currency.clone();
        let quote =
            if base != "USDC" && self.wallet_of("USDC").is_some() && self.rng.u32(0..4) == 0 { "USDC" } else { "USD" };
        let (Some(quote_wallet), Some(price_usd)) = (self.wallet_of(quote), self.usd(&base, t)) else { return };
        // Whole dollars and hundredths of a coin, or cents and whole coins: the cost is whole
        // cents, as the quote wallet's row shows it.
        let (price, size_dp) =
            if price_usd >= Decimal::ONE_HUNDRED { (price_usd.round_dp(0), 2) } else { (price_usd.round_dp(2), 0) };
        if price.is_zero() {
            return;
        }
        let buy = self.balance(base_wallet).is_zero() || self.rng.bool();
        let size = if buy {
            floor_dp(Decimal::from(self.rng.i64(20..800)) / price, size_dp)
        } else {
            let share = percent(&mut self.rng, 10..=50);
            floor_dp(self.balance(base_wallet) * share, size_dp)
        };
        let cost = size * price;
        let commission = (cost * Decimal::new(6, 3)).round_dp(2);
        if size.is_zero() || cost <= commission {
            return;
        }
        if buy {
            if quote == "USD" {
                self.ensure_usd(cost + commission, t);
            }
            if self.balance(quote_wallet) < cost + commission {
                return;
            }
        }
        let order = uuid_from_words(&mut self.rng);
        let trade_id = uuid_from_words(&mut self.rng);
        let product = format!("{base}-{quote}");
        let side = if buy { "BUY" } else { "SELL" };
        let extra = json!({ "advanced_trade_fill": {
            "fill_price": price.to_string(),
            "product_id": product,
            "order_id": order,
            "commission": commission.to_string(),
            "order_side": side.to_ascii_lowercase(),
        } });
        let (base_amount, quote_amount) = if buy { (size, -(cost + commission)) } else { (-size, cost - commission) };
        self.push(base_wallet, "advanced_trade_fill", "completed", base_amount, t, extra.clone());
        self.push(quote_wallet, "advanced_trade_fill", "completed", quote_amount, t, extra);
        let entry_id = uuid_from_words(&mut self.rng);
        let json = json::render(&json!({
            "entry_id": entry_id,
            "trade_id": trade_id,
            "order_id": order,
            "trade_time": iso(t),
            "trade_type": "FILL",
            "price": price.to_string(),
            "size": size.to_string(),
            "commission": commission.to_string(),
            "product_id": product,
            "sequence_timestamp": iso(t),
            "liquidity_indicator": if self.rng.bool() { "MAKER" } else { "TAKER" },
            "size_in_quote": false,
            "user_id": "cointally-sim-user",
            "side": side,
            "retail_portfolio_id": "cointally-sim-portfolio",
        }));
        self.fills.push(SimFill { entry_id, trade_id, time_ms: t, json });
    }

    fn network_fee(currency: &str) -> Decimal {
        match currency {
            "BTC" => Decimal::new(1, 4),
            "ETH" => Decimal::new(5, 4),
            "USDC" | "USDT" => Decimal::new(25, 1),
            "DOGE" => Decimal::new(2, 0),
            _ => Decimal::new(1, 2),
        }
    }

    fn send_out(&mut self, t: i64) {
        let Some(wallet) = self.funded() else { return };
        let currency = self.wallets[wallet].currency.clone();
        let fee = Self::network_fee(&currency);
        let share = percent(&mut self.rng, 10..=40);
        let amount = floor_dp(self.balance(wallet) * share, 8);
        if amount.is_zero() || amount + fee > self.balance(wallet) {
            return;
        }
        let hash = self.hash();
        let address = format!("own-wallet-{}", currency.to_ascii_lowercase());
        let extra = json!({
            "network": {
                "status": "confirmed",
                "hash": hash,
                "transaction_fee": money(fee, &currency),
                "network_name": currency.to_ascii_lowercase(),
            },
            "to": { "resource": "address", "address": address },
        });
        let id = self.push(wallet, "send", "completed", -(amount + fee), t, extra);
        self.external.push(Activity::Deposit {
            asset: currency.clone(),
            amount,
            network: currency.clone(),
            address,
            tx_hash: hash,
            time_ms: t + 600_000,
            id,
            outcome: Outcome::Completed,
        });
    }

    fn send_to_user(&mut self, t: i64) {
        let Some(wallet) = self.funded() else { return };
        let share = percent(&mut self.rng, 5..=20);
        let amount = floor_dp(self.balance(wallet) * share, 8);
        if amount.is_zero() {
            return;
        }
        let user = uuid_from_words(&mut self.rng);
        let extra = json!({ "to": { "resource": "user", "id": user, "resource_path": format!("/v2/users/{user}") } });
        self.push(wallet, "send", "completed", -amount, t, extra);
    }

    fn receive(&mut self, t: i64) {
        let wallet = self.any_crypto();
        let currency = self.wallets[wallet].currency.clone();
        let Some(price) = self.usd(&currency, t) else { return };
        let amount = floor_dp(Decimal::from(self.rng.i64(50..2_000)) / price, 8);
        if amount.is_zero() {
            return;
        }
        let hash = self.hash();
        let kind = if self.rng.u32(0..4) == 0 { "receive" } else { "send" };
        let network = currency.to_ascii_lowercase();
        let extra = json!({
            "network": { "status": "confirmed", "hash": hash, "network_name": network },
            "from": { "resource": "address", "address": format!("external-{network}") },
        });
        let id = self.push(wallet, kind, "completed", amount, t, extra);
        self.external.push(Activity::Withdrawal {
            asset: currency.clone(),
            amount,
            fee: Decimal::ZERO,
            network: currency.clone(),
            address: format!("coinbase-deposit-{}", currency.to_ascii_lowercase()),
            tx_hash: hash,
            time_ms: t - 600_000,
            id,
            outcome: Outcome::Completed,
        });
    }

    fn reward(&mut self, t: i64) {
        let staked: Vec<usize> = STAKED.iter().filter_map(|a| self.wallet_of(a)).collect();
        let kinds: [&'static str; 4] =
            ["staking_reward", "inflation_reward", "earn_payout", "incentives_rewards_payout"];
        let kind = kinds[self.rng.usize(0..4)];
        let wallet = match kind {
            "staking_reward" | "inflation_reward" if !staked.is_empty() => staked[self.rng.usize(0..staked.len())],
            _ => self.any_crypto(),
        };
        let currency = self.wallets[wallet].currency.clone();
        let Some(price) = self.usd(&currency, t) else { return };
        let amount = floor_dp(Decimal::new(self.rng.i64(10..2_000), 2) / price, 8);
        if !amount.is_zero() {
            self.push(wallet, kind, "completed", amount, t, Value::Null);
        }
    }

    fn interest(&mut self, t: i64) {
        let Some(wallet) = self.wallet_of("USDC") else { return };
        let amount = floor_dp(self.balance(wallet) * Decimal::new(3, 4), 8).max(Decimal::new(1, 2));
        let kind = if self.rng.u32(0..5) == 0 { "subscription_rebate" } else { "interest" };
        self.push(wallet, kind, "completed", amount, t, Value::Null);
    }

    fn vault_move(&mut self, t: i64) {
        let (Some(vault), Some(eth)) = (self.vault, self.wallet_of("ETH")) else { return };
        let to_vault = self.balance(vault).is_zero() || self.rng.bool();
        let (from, to) = if to_vault { (eth, vault) } else { (vault, eth) };
        let share = percent(&mut self.rng, 10..=60);
        let amount = floor_dp(self.balance(from) * share, 8);
        if amount.is_zero() {
            return;
        }
        let kind = match (to_vault, self.rng.bool()) {
            (true, true) => "staking_transfer",
            (true, false) => "transfer",
            (false, true) => "unstaking_transfer",
            (false, false) => "vault_withdrawal",
        };
        self.push(from, kind, "completed", -amount, t, Value::Null);
        self.push(to, kind, "completed", amount, t, Value::Null);
    }

    fn fiat_withdrawal(&mut self, t: i64) {
        let usd = self.usd_wallet();
        let share = percent(&mut self.rng, 5..=20);
        let amount = (self.balance(usd) * share).round_dp(0);
        if amount > Decimal::ZERO {
            let extra = json!({ "fiat_withdrawal": { "payment_method_name": "Example Bank ******1234" } });
            self.push(usd, "fiat_withdrawal", "completed", -amount, t, extra);
        }
    }

    fn exchange_move(&mut self, t: i64) {
        let Some(wallet) = self.funded() else { return };
        let share = percent(&mut self.rng, 5..=20);
        let amount = floor_dp(self.balance(wallet) * share, 8);
        if amount.is_zero() {
            return;
        }
        let out = if self.rng.bool() { "pro_deposit" } else { "exchange_deposit" };
        let back = if self.rng.bool() { "pro_withdrawal" } else { "exchange_withdrawal" };
        self.push(wallet, out, "completed", -amount, t, Value::Null);
        if self.rng.bool() {
            self.push(wallet, back, "completed", amount, t, Value::Null);
        }
    }

    fn card_spend(&mut self, t: i64) {
        let Some(wallet) = self.funded() else { return };
        let currency = self.wallets[wallet].currency.clone();
        let Some(price) = self.usd(&currency, t) else { return };
        let amount = floor_dp(Decimal::from(self.rng.i64(5..120)) / price, 8).min(self.balance(wallet));
        if amount.is_zero() {
            return;
        }
        self.push(wallet, "cardspend", "completed", -amount, t, Value::Null);
        if self.rng.u32(0..8) == 0 {
            self.push(wallet, "cardbuyback", "completed", amount, t, Value::Null);
        }
    }

    fn subscription(&mut self, t: i64) {
        let usd = self.usd_wallet();
        let fee = Decimal::new(2999, 2);
        self.ensure_usd(fee, t);
        self.push(usd, "subscription", "completed", -fee, t, Value::Null);
    }

    fn clawback(&mut self, t: i64) {
        let Some(wallet) = self.funded() else { return };
        let amount = floor_dp(self.balance(wallet) * Decimal::new(1, 3), 8);
        if !amount.is_zero() {
            self.push(wallet, "clawback", "completed", -amount, t, Value::Null);
        }
    }

    fn canceled_send(&mut self, t: i64) {
        let Some(wallet) = self.funded() else { return };
        let amount = floor_dp(self.balance(wallet) * Decimal::new(1, 1), 8);
        if !amount.is_zero() {
            let extra = json!({ "to": { "resource": "email", "email": "friend@example.com" } });
            self.push(wallet, "send", "canceled", -amount, t, extra);
        }
    }

    fn unknown(&mut self, t: i64) {
        let wallet = self.any_crypto();
        let currency = self.wallets[wallet].currency.clone();
        let Some(price) = self.usd(&currency, t) else { return };
        let amount = floor_dp(Decimal::ONE / price, 8);
        if !amount.is_zero() {
            self.push(wallet, "onchain_perks_payout", "completed", amount, t, Value::Null);
        }
    }

    /// Adds `count` happenings from `time_ms` on (one second apart), as if done now: buys,
    /// conversions and Advanced Trade fills. Returns the transactions added.
    pub fn add_activity(&mut self, count: usize, time_ms: i64) -> usize {
        let before = self.txs.len();
        let start = self.txs.last().map_or(time_ms, |tx| tx.time_ms.max(time_ms));
        let start = start - start.rem_euclid(1000);
        for index in 0..count {
            let at = start + 1000 * (i64::try_from(index).unwrap_or(0) + 1);
            match index % 3 {
                0 => self.buy(at),
                1 => self.convert(at),
                _ => self.advanced_fill(at),
            }
        }
        self.txs.len() - before
    }

    /// Adds a transaction of `kind` in status `status` to the wallet of `currency` (its first
    /// one) at `time_ms`: `amount` is its signed change; a completed one changes the balance
    /// now, another when [`Generator::set_status`] completes it. Returns its id.
    pub fn add_transaction(
        &mut self,
        currency: &str,
        kind: &'static str,
        status: &str,
        amount: Decimal,
        time_ms: i64,
    ) -> Option<String> {
        let wallet = *self.by_currency.get(currency)?;
        let time_ms = self.txs.last().map_or(time_ms, |tx| tx.time_ms.max(time_ms));
        Some(self.push(wallet, kind, status, amount, time_ms, Value::Null))
    }

    /// Changes a transaction's status (`pending` → `completed`), its wallet's balance with it.
    /// Returns whether the transaction exists.
    pub fn set_status(&mut self, id: &str, status: &str) -> bool {
        let Some(index) = self.txs.iter().position(|tx| tx.id == id) else { return false };
        let Ok(mut tx) = serde_json::from_str::<Value>(self.txs[index].json.get()) else { return false };
        let was_completed = tx["status"] == "completed";
        tx["status"] = Value::from(status);
        let full: Decimal = tx["amount"]["amount"].as_str().and_then(|a| a.parse().ok()).unwrap_or_default();
        let counted = if status == "completed" { full } else { Decimal::ZERO };
        let wallet = self.txs[index].wallet;
        self.wallets[wallet].balance += counted - if was_completed { full } else { Decimal::ZERO };
        self.txs[index].amount = counted;
        self.txs[index].json = json::render(&tx);
        true
    }

    /// Balance per currency, every wallet of it summed (zeros left out).
    pub fn balances(&self) -> BTreeMap<String, Decimal> {
        let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
        for wallet in &self.wallets {
            *sums.entry(wallet.currency.clone()).or_default() += wallet.balance;
        }
        sums.into_iter().filter(|(_, b)| !b.is_zero()).map(|(c, b)| (c, b.normalize())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::generate::{Profile, generate};

    #[test]
    fn the_same_seed_gives_the_same_history_with_every_kind_and_no_negative_balance() {
        let world = generate(3, &Profile { trades: 0, ..Profile::demo() });
        let a = Generator::generate(3, &world, &CoinbaseProfile::demo());
        let b = Generator::generate(3, &world, &CoinbaseProfile::demo());
        let served = |generator: &Generator| -> Vec<String> {
            generator.txs.iter().map(|tx| format!("{} {} {}", tx.wallet, tx.amount, tx.json.get())).collect()
        };
        assert_eq!(served(&a), served(&b));
        assert!(a.txs.len() >= 300 && a.txs.len() <= 420, "{}", a.txs.len());
        assert_eq!(a.wallets.len(), 12);
        let mut running = vec![Decimal::ZERO; a.wallets.len()];
        for tx in &a.txs {
            running[tx.wallet] += tx.amount;
        }
        for (index, wallet) in a.wallets.iter().enumerate() {
            assert!(wallet.balance >= Decimal::ZERO, "{wallet:?}");
            if wallet.currency != "USD" {
                assert_eq!(running[index], wallet.balance, "{wallet:?}: crypto wallets move only by their rows");
            }
        }
        for kind in
            ["buy", "sell", "trade", "advanced_trade_fill", "send", "fiat_deposit", "staking_reward", "interest"]
        {
            assert!(a.txs.iter().any(|t| t.kind == kind), "no {kind}");
        }
        assert_eq!(a.txs.iter().filter(|t| t.kind == "advanced_trade_fill").count(), 2 * a.fills.len());
        assert!(a.txs.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
        assert!(!a.external.is_empty());
    }
}
