//! The KuCoin account of the generated person: ledger entries, from a seed.
//!
//! Prices come from the shared [`Market`] of [`crate::sim::generate`]. The account is funded
//! with EUR (KuCoin's fiat deposits) and, unless the profile says otherwise, crypto deposits to
//! the main account; moves funds main → trade to trade on USDT and BTC pairs (each trade an
//! `out` entry of what was paid, its 0.1 % fee inside, and an `in` entry of what was bought, at
//! one millisecond), moves USDT between the trade and margin accounts, subscribes USDT to
//! KuCoin Earn and redeems part of it, earns Earn profits and ETH staking profits, the odd
//! KuCoin bonus, and withdraws crypto from the main account with KuCoin's fee inside the amount.
//! From the profile's `hf_from_ms` the account trades in a high-frequency trade account
//! (`TRADE_HF`): its trade balances move over (a `Transfer` out of `TRADE`, a `TRANSFER` into
//! `TRADE_HF`), and its trades and transfers are entries of the HF ledger, with decimal ids and
//! the bizType codes `TRADE_EXCHANGE` and `TRANSFER`.
//! From the profile's `margin_hf_from_ms` (none in the demo) the person also trades on margin in
//! a high-frequency cross margin account (`MARGIN_V2`, the margin HF ledger's entries, decimal
//! ids): funds it from the trade account (`TRANSFER`), borrows USDT (`BORROW`, the liability
//! tracked), trades BTC and ETH against USDT (`MARGIN_EXCHANGE`), repays with interest
//! (`REPAY`, `INTEREST`), moves funds back, and is now and then liquidated (`LIQUIDATION`:
//! the coin sold, the USDT it fetched, the debt repaid). `BORROW`, `REPAY` and `INTEREST` are
//! the simulator's names: KuCoin's page does not list these `bizType`s.
//! Ids grow with time; every balance is tracked per (account, currency) and never goes below
//! zero; amounts are exact decimals (8 places).

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::sim::amounts::{floor_dp, percent};
use crate::sim::generate::Market;

/// How big and how long a KuCoin history is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KucoinProfile {
    /// First millisecond (UTC).
    pub start_ms: i64,
    /// Last millisecond.
    pub end_ms: i64,
    /// Entries to generate (about).
    pub entries: usize,
    /// Whether crypto arrives and leaves (deposits and withdrawals of crypto); without them the
    /// account is funded with EUR only (the demo's, whose wallet has no side of them).
    pub crypto_transfers: bool,
    /// When the account moved to a high-frequency trade account (`TRADE_HF`): from then on its
    /// trade balances are there, its trades and transfers in the HF ledger. `None`: never.
    pub hf_from_ms: Option<i64>,
    /// When the person began trading on margin in a high-frequency cross margin account
    /// (`MARGIN_V2`). `None`: never (the demo's; its output stays what it was).
    pub margin_hf_from_ms: Option<i64>,
}

impl KucoinProfile {
    /// About 600 entries over 2024–2025, trading in a high-frequency account from 2025.
    pub fn demo() -> KucoinProfile {
        KucoinProfile {
            start_ms: 1_704_067_200_000,
            end_ms: 1_767_225_599_999,
            entries: 600,
            crypto_transfers: true,
            hf_from_ms: Some(1_735_689_600_000),
            margin_hf_from_ms: None,
        }
    }

    /// 50,000 entries over 2024–2025 (the benchmark).
    pub fn bench() -> KucoinProfile {
        KucoinProfile { entries: 50_000, ..KucoinProfile::demo() }
    }
}

/// One ledger entry as the simulator serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// KuCoin's id: 24 hex digits (the HF ledger's: a decimal number), growing with time.
    pub id: String,
    /// The currency.
    pub currency: String,
    /// The amount moved (positive).
    pub amount: Decimal,
    /// The fee inside it.
    pub fee: Decimal,
    /// The account's balance after it.
    pub balance: Decimal,
    /// `MAIN`, `TRADE`, `MARGIN`, `TRADE_HF` or `MARGIN_V2`.
    pub account_type: &'static str,
    /// What happened.
    pub biz_type: &'static str,
    /// Whether the amount came in.
    pub incoming: bool,
    /// When, ms.
    pub time_ms: i64,
    /// The context (JSON text, or empty).
    pub context: String,
}

impl Entry {
    /// Whether it is in the high-frequency trade account's ledger.
    pub fn is_hf(&self) -> bool {
        self.account_type == HF_ACCOUNT
    }

    /// Whether it is in the high-frequency margin accounts' ledger.
    pub fn is_margin_hf(&self) -> bool {
        self.account_type == MARGIN_HF_ACCOUNT
    }

    /// The entry's JSON, as KuCoin sends it: amounts as text (and, in the HF ledgers, `createdAt`).
    pub fn json(&self) -> String {
        if self.is_hf() || self.is_margin_hf() {
            return serde_json::json!({
                "id": self.id,
                "currency": self.currency,
                "amount": self.amount.normalize().to_string(),
                "fee": self.fee.normalize().to_string(),
                "tax": "0",
                "balance": self.balance.normalize().to_string(),
                "accountType": self.account_type,
                "bizType": self.biz_type,
                "direction": if self.incoming { "in" } else { "out" },
                "createdAt": self.time_ms.to_string(),
                "context": self.context,
            })
            .to_string();
        }
        serde_json::json!({
            "id": self.id,
            "currency": self.currency,
            "amount": self.amount.normalize().to_string(),
            "fee": self.fee.normalize().to_string(),
            "balance": self.balance.normalize().to_string(),
            "accountType": self.account_type,
            "bizType": self.biz_type,
            "direction": if self.incoming { "in" } else { "out" },
            "createdAt": self.time_ms,
            "context": self.context,
        })
        .to_string()
    }

    /// The signed change of its account's balance.
    pub fn change(&self) -> Decimal {
        if self.incoming { self.amount } else { -self.amount }
    }
}

/// One item of the deposit or withdrawal list, as the simulator serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListItem {
    /// The withdrawal's id (deposits have none).
    pub id: Option<String>,
    /// The currency.
    pub currency: String,
    /// The chain.
    pub chain: &'static str,
    /// The address.
    pub address: String,
    /// What was credited (a deposit) or sent, fee excluded (a withdrawal).
    pub amount: Decimal,
    /// The fee.
    pub fee: Decimal,
    /// The tx hash.
    pub tx_hash: String,
    /// When the list's record was made, ms (a little before the ledger entry).
    pub time_ms: i64,
}

impl ListItem {
    /// The item's JSON, as KuCoin sends it (a deposit's `walletTxId` with KuCoin's `@` suffix).
    pub fn json(&self) -> String {
        let mut value = serde_json::json!({
            "currency": self.currency,
            "chain": self.chain,
            "status": "SUCCESS",
            "address": self.address,
            "memo": "",
            "isInner": false,
            "amount": self.amount.normalize().to_string(),
            "fee": self.fee.normalize().to_string(),
            "walletTxId": if self.id.is_some() { self.tx_hash.clone() } else { format!("{}@0", self.tx_hash) },
            "createdAt": self.time_ms,
            "updatedAt": self.time_ms + 30_000,
            "remark": "",
        });
        if let Some(id) = &self.id {
            value["id"] = serde_json::Value::from(id.clone());
        }
        value.to_string()
    }
}

/// The chain the simulator names for a currency.
fn chain_of(code: &str) -> &'static str {
    match code {
        "BTC" => "btc",
        "LTC" => "ltc",
        _ => "eth",
    }
}

/// The high-frequency trade account's type.
pub const HF_ACCOUNT: &str = "TRADE_HF";

/// The high-frequency cross margin account's type.
pub const MARGIN_HF_ACCOUNT: &str = "MARGIN_V2";

/// The pairs the person trades on margin: (base, quote).
const MARGIN_PAIRS: &[(&str, &str)] = &[("BTC", "USDT"), ("ETH", "USDT")];

/// KuCoin's pairs the person trades: (base, quote).
pub const PAIRS: &[(&str, &str)] =
    &[("USDT", "EUR"), ("BTC", "USDT"), ("ETH", "USDT"), ("SOL", "USDT"), ("ETH", "BTC"), ("LTC", "USDT")];

/// Crypto the person deposits, with KuCoin's withdrawal fee.
const CRYPTO: &[(&str, &str)] = &[("BTC", "0.0005"), ("ETH", "0.003"), ("USDT", "1"), ("LTC", "0.001")];

/// The generated account.
#[derive(Debug, Clone)]
pub struct Generator {
    /// Every entry, oldest first (the simulator finds a time range by binary search: entries
    /// are only ever added at or after the last one's time).
    pub entries: Vec<Entry>,
    /// The deposit list (crypto deposits), oldest first (sorted once generated).
    pub deposits: Vec<ListItem>,
    /// The withdrawal list, oldest first (sorted once generated).
    pub withdrawals: Vec<ListItem>,
    balances: BTreeMap<(&'static str, String), Decimal>,
    earn: Decimal,
    rng: fastrand::Rng,
    next_id: u128,
    next_hf_id: u64,
    crypto_transfers: bool,
    hf_from_ms: Option<i64>,
    upgraded: bool,
    margin_hf_from_ms: Option<i64>,
    /// What the margin account owes, per currency.
    liabilities: BTreeMap<String, Decimal>,
}

impl Generator {
    /// The history of `seed` on `market`.
    pub fn generate(seed: u64, market: &Market, profile: &KucoinProfile) -> Generator {
        let mut generator = Generator {
            entries: Vec::new(),
            deposits: Vec::new(),
            withdrawals: Vec::new(),
            balances: BTreeMap::new(),
            earn: Decimal::ZERO,
            rng: fastrand::Rng::with_seed(seed ^ 0x6b75_636f_696e),
            next_id: 0x6571_a1e7_c6a0_5330_0000_0000,
            next_hf_id: 42_852_417_537,
            crypto_transfers: profile.crypto_transfers,
            hf_from_ms: profile.hf_from_ms,
            upgraded: false,
            margin_hf_from_ms: profile.margin_hf_from_ms,
            liabilities: BTreeMap::new(),
        };
        let count = profile.entries.max(2);
        let step = ((profile.end_ms - profile.start_ms) / (count as i64 / 2).max(1)).max(2);
        generator.push("MAIN", "EUR", Decimal::new(2_500_000, 2), Decimal::ZERO, "Deposit", "", profile.start_ms);
        let mut time_ms = profile.start_ms + step;
        while generator.entries.len() < count && time_ms < profile.end_ms {
            let jitter = generator.rng.i64(0..step / 2);
            generator.one(market, time_ms + jitter);
            time_ms += step;
        }
        // A margin trader ends the history owing (a last borrowing when every debt was repaid),
        // so that the balance check always meets a debt.
        if generator.margin_hf_from_ms.is_some_and(|from| from < profile.end_ms)
            && generator.liabilities.values().all(Decimal::is_zero)
        {
            let at = generator.entries.last().map_or(profile.start_ms, |e| e.time_ms).max(profile.start_ms);
            let amount = Decimal::new(25_000, 2);
            *generator.liabilities.entry("USDT".to_owned()).or_default() += amount;
            generator.push(MARGIN_HF_ACCOUNT, "USDT", amount, Decimal::ZERO, "BORROW", "", at);
        }
        // A list's record is made up to ten minutes before its ledger entry, so two close
        // movements may be listed out of order: the simulator finds a week by binary search
        // and wants each list oldest first (stable: equal times keep their order).
        generator.deposits.sort_by_key(|item| item.time_ms);
        generator.withdrawals.sort_by_key(|item| item.time_ms);
        generator
    }

    /// Adds `count` trades at `time_ms` onwards (five a second; not before the last entry, so
    /// the entries stay oldest first); returns how many were added.
    pub fn add_trades(&mut self, market: &Market, count: usize, time_ms: i64) -> usize {
        let mut added = 0;
        let mut at = time_ms.max(self.entries.last().map_or(0, |e| e.time_ms));
        let mut tries = 0;
        while added < count && tries < count * 20 {
            added += usize::from(self.trade(market, at));
            at += 200;
            tries += 1;
        }
        added
    }

    /// Adds one incoming main-account entry of `amount` `currency` with `biz_type` at
    /// `time_ms` (after every other entry); returns its id.
    pub fn insert(&mut self, currency: &str, amount: Decimal, biz_type: &'static str, time_ms: i64) -> String {
        let time_ms = time_ms.max(self.entries.last().map_or(0, |e| e.time_ms));
        self.push("MAIN", currency, amount, Decimal::ZERO, biz_type, "", time_ms)
    }

    /// Adds `count` margin trades in the `MARGIN_V2` account at `time_ms` onwards (as
    /// [`Generator::add_trades`] does); returns how many were added.
    pub fn add_margin_trades(&mut self, market: &Market, count: usize, time_ms: i64) -> usize {
        let mut added = 0;
        let mut at = time_ms.max(self.entries.last().map_or(0, |e| e.time_ms));
        let mut tries = 0;
        while added < count && tries < count * 20 {
            added += usize::from(self.trade_in(MARGIN_HF_ACCOUNT, MARGIN_PAIRS, market, at));
            at += 200;
            tries += 1;
        }
        added
    }

    /// Adds one incoming `MARGIN_V2` entry of `amount` `currency` with `biz_type` at `time_ms`
    /// (after every other entry); returns its id.
    pub fn insert_margin_hf(
        &mut self,
        currency: &str,
        amount: Decimal,
        biz_type: &'static str,
        time_ms: i64,
    ) -> String {
        let time_ms = time_ms.max(self.entries.last().map_or(0, |e| e.time_ms));
        self.push(MARGIN_HF_ACCOUNT, currency, amount, Decimal::ZERO, biz_type, "", time_ms)
    }

    /// Balances by currency, every account added up (zeros kept).
    pub fn balances(&self) -> BTreeMap<String, Decimal> {
        let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
        for ((_, code), amount) in &self.balances {
            *totals.entry(code.clone()).or_default() += *amount;
        }
        totals
    }

    /// What the margin account owes per currency (zeros kept).
    pub fn liabilities(&self) -> &BTreeMap<String, Decimal> {
        &self.liabilities
    }

    /// Balances per (account type, currency), as `accounts` lists them.
    pub fn accounts(&self) -> &BTreeMap<(&'static str, String), Decimal> {
        &self.balances
    }

    fn balance(&self, account: &'static str, code: &str) -> Decimal {
        self.balances.get(&(account, code.to_owned())).copied().unwrap_or_default()
    }

    /// Adds an entry moving `change` (signed) of `code` in `account`, `fee` inside it.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        account: &'static str,
        code: &str,
        change: Decimal,
        fee: Decimal,
        biz_type: &'static str,
        context: &str,
        time_ms: i64,
    ) -> String {
        let (id, biz_type) = if account == HF_ACCOUNT || account == MARGIN_HF_ACCOUNT {
            // The HF ledgers: decimal ids, and their bizType codes.
            self.next_hf_id += 1 + u64::from(self.rng.u32(0..5));
            let biz_type = match biz_type {
                "Exchange" if account == MARGIN_HF_ACCOUNT => "MARGIN_EXCHANGE",
                "Exchange" => "TRADE_EXCHANGE",
                "Transfer" => "TRANSFER",
                other => other,
            };
            (self.next_hf_id.to_string(), biz_type)
        } else {
            self.next_id += 1 + u128::from(self.rng.u32(0..3));
            (format!("{:024x}", self.next_id), biz_type)
        };
        let balance = self.balances.entry((account, code.to_owned())).or_default();
        *balance += change;
        self.entries.push(Entry {
            id: id.clone(),
            currency: code.to_owned(),
            amount: change.abs(),
            fee,
            balance: *balance,
            account_type: account,
            biz_type,
            incoming: change.is_sign_positive(),
            time_ms,
            context: context.to_owned(),
        });
        id
    }

    /// The account trades happen in at `time_ms`: `TRADE`, or `TRADE_HF` once the account moved
    /// to it (its trade balances then moved over: a `Transfer` out of each, a `TRANSFER` in).
    fn spot(&mut self, time_ms: i64) -> &'static str {
        if self.hf_from_ms.is_none_or(|from| time_ms < from) {
            return "TRADE";
        }
        if !self.upgraded {
            self.upgraded = true;
            let held: Vec<(String, Decimal)> = self
                .balances
                .iter()
                .filter(|((account, _), amount)| *account == "TRADE" && !amount.is_zero())
                .map(|((_, code), amount)| (code.clone(), *amount))
                .collect();
            for (code, amount) in held {
                self.push("TRADE", &code, -amount, Decimal::ZERO, "Transfer", "", time_ms);
                self.push(HF_ACCOUNT, &code, amount, Decimal::ZERO, "Transfer", "", time_ms);
            }
        }
        HF_ACCOUNT
    }

    fn one(&mut self, market: &Market, time_ms: i64) {
        // No draw at all before margin trading began: the history without it stays the same.
        if self.margin_hf_from_ms.is_some_and(|from| time_ms >= from)
            && self.rng.u32(0..100) < 30
            && self.margin(market, time_ms)
        {
            return;
        }
        let done = match self.rng.u32(0..100) {
            0..=49 => self.trade(market, time_ms),
            50..=57 if self.crypto_transfers => self.deposit(market, time_ms),
            58..=62 if self.crypto_transfers => self.withdraw(time_ms),
            63..=67 => {
                let amount = Decimal::new(self.rng.i64(50_000..500_000), 2);
                self.push("MAIN", "EUR", amount, Decimal::ZERO, "Deposit", "", time_ms);
                true
            }
            68..=77 => self.transfer(time_ms),
            78..=83 => self.earn_subscription(time_ms),
            84..=89 => self.earn_profits(time_ms),
            90..=95 => self.staking(time_ms),
            96..=99 => {
                let amount = Decimal::new(self.rng.i64(10..500), 2);
                self.push("MAIN", "USDT", amount, Decimal::ZERO, "KuCoin Bonus", "", time_ms);
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
        let tx = crate::sim::ids::hex(&mut self.rng, 64);
        self.push("MAIN", code, amount, Decimal::ZERO, "Deposit", &format!(r#"{{"txId":"{tx}"}}"#), time_ms);
        let address = crate::sim::ids::hex(&mut self.rng, 40);
        let listed = time_ms - self.rng.i64(0..600_000);
        self.deposits.push(ListItem {
            id: None,
            currency: code.to_owned(),
            chain: chain_of(code),
            address: format!("0x{address}"),
            amount,
            fee: Decimal::ZERO,
            tx_hash: tx,
            time_ms: listed,
        });
        true
    }

    fn withdraw(&mut self, time_ms: i64) -> bool {
        let (code, fee) = CRYPTO[self.rng.usize(0..CRYPTO.len())];
        let fee: Decimal = fee.parse().unwrap_or_default();
        let amount = floor_dp(self.balance("MAIN", code) * percent(&mut self.rng, 10..=40), 8);
        if amount <= fee * Decimal::TWO {
            return false;
        }
        let tx = crate::sim::ids::hex(&mut self.rng, 64);
        let id = self.push("MAIN", code, -amount, fee, "Withdrawal", &format!(r#"{{"txId":"{tx}"}}"#), time_ms);
        let address = crate::sim::ids::hex(&mut self.rng, 40);
        let listed = time_ms - self.rng.i64(0..600_000);
        self.withdrawals.push(ListItem {
            id: Some(format!("w{id}")),
            currency: code.to_owned(),
            chain: chain_of(code),
            address: format!("0x{address}"),
            amount: amount - fee,
            fee,
            tx_hash: tx,
            time_ms: listed,
        });
        true
    }

    /// Funds between accounts: main → trade (whatever main holds), trade ↔ margin (USDT); the
    /// trade account is the HF one once the account moved to it.
    fn transfer(&mut self, time_ms: i64) -> bool {
        let spot = self.spot(time_ms);
        let (from, to, code) = if self.rng.bool() {
            let code = ["EUR", "USDT", "BTC", "ETH"][self.rng.usize(0..4)];
            ("MAIN", spot, code)
        } else if self.balance("MARGIN", "USDT") > Decimal::ONE_HUNDRED && self.rng.bool() {
            ("MARGIN", spot, "USDT")
        } else {
            (spot, "MARGIN", "USDT")
        };
        let share = if from == "MAIN" { percent(&mut self.rng, 60..=100) } else { percent(&mut self.rng, 5..=30) };
        let amount = floor_dp(self.balance(from, code) * share, 8);
        if amount.is_zero() {
            return false;
        }
        self.push(from, code, -amount, Decimal::ZERO, "Transfer", "", time_ms);
        self.push(to, code, amount, Decimal::ZERO, "Transfer", "", time_ms);
        true
    }

    /// USDT from the main account into KuCoin Earn, or part of it back.
    fn earn_subscription(&mut self, time_ms: i64) -> bool {
        if self.earn > Decimal::ONE_HUNDRED && self.rng.bool() {
            let amount = floor_dp(self.earn * percent(&mut self.rng, 20..=60), 8);
            self.earn -= amount;
            self.push("MAIN", "USDT", amount, Decimal::ZERO, "Earn Redemption", "", time_ms);
            return true;
        }
        let amount = floor_dp(self.balance("MAIN", "USDT") * percent(&mut self.rng, 20..=60), 8);
        if amount.is_zero() {
            return false;
        }
        self.earn += amount;
        self.push("MAIN", "USDT", -amount, Decimal::ZERO, "Earn Subscription", "", time_ms);
        true
    }

    fn earn_profits(&mut self, time_ms: i64) -> bool {
        let amount = floor_dp(self.earn * Decimal::new(5, 4), 8);
        if amount.is_zero() {
            return false;
        }
        self.push("MAIN", "USDT", amount, Decimal::ZERO, "Earn Profits", "", time_ms);
        true
    }

    fn staking(&mut self, time_ms: i64) -> bool {
        let held = self.balance("MAIN", "ETH") + self.balance("TRADE", "ETH") + self.balance(HF_ACCOUNT, "ETH");
        let amount = floor_dp(held * Decimal::new(1, 4), 8);
        if amount.is_zero() {
            return false;
        }
        self.push("MAIN", "ETH", amount, Decimal::ZERO, "Staking Profits", "", time_ms);
        true
    }

    /// One step of margin trading in the high-frequency cross margin account; whether it did.
    fn margin(&mut self, market: &Market, time_ms: i64) -> bool {
        let spot = self.spot(time_ms);
        let m = MARGIN_HF_ACCOUNT;
        let owed = self.liabilities.get("USDT").copied().unwrap_or_default();
        match self.rng.u32(0..100) {
            // Funds in from the trade account.
            0..=19 => {
                let amount = floor_dp(self.balance(spot, "USDT") * percent(&mut self.rng, 5..=30), 8);
                if amount.is_zero() {
                    return false;
                }
                self.push(spot, "USDT", -amount, Decimal::ZERO, "Transfer", "", time_ms);
                self.push(m, "USDT", amount, Decimal::ZERO, "Transfer", "", time_ms);
                true
            }
            // A borrowing: up to once what the account holds.
            20..=34 => {
                let amount = floor_dp(self.balance(m, "USDT") * percent(&mut self.rng, 20..=100), 8);
                if amount.is_zero() {
                    return false;
                }
                *self.liabilities.entry("USDT".to_owned()).or_default() += amount;
                self.push(m, "USDT", amount, Decimal::ZERO, "BORROW", "", time_ms);
                true
            }
            35..=69 => self.trade_in(m, MARGIN_PAIRS, market, time_ms),
            // A repayment and the interest on it.
            70..=84 => {
                let amount = floor_dp(owed.min(self.balance(m, "USDT")) * percent(&mut self.rng, 50..=100), 8);
                let interest = floor_dp(amount * Decimal::new(5, 4), 8);
                if amount.is_zero() || self.balance(m, "USDT") < amount + interest {
                    return false;
                }
                *self.liabilities.entry("USDT".to_owned()).or_default() -= amount;
                self.push(m, "USDT", -amount, Decimal::ZERO, "REPAY", "", time_ms);
                if !interest.is_zero() {
                    self.push(m, "USDT", -interest, Decimal::ZERO, "INTEREST", "", time_ms);
                }
                true
            }
            // Funds back to the trade account: some of what is not owed.
            85..=94 => {
                let free = (self.balance(m, "USDT") - owed).max(Decimal::ZERO);
                let amount = floor_dp(free * percent(&mut self.rng, 10..=50), 8);
                if amount.is_zero() {
                    return false;
                }
                self.push(m, "USDT", -amount, Decimal::ZERO, "Transfer", "", time_ms);
                self.push(spot, "USDT", amount, Decimal::ZERO, "Transfer", "", time_ms);
                true
            }
            // A liquidation: the coins sold below the market, the debt repaid from the proceeds.
            _ => {
                let (base, _) = MARGIN_PAIRS[self.rng.usize(0..MARGIN_PAIRS.len())];
                let qty = self.balance(m, base);
                let Some(price) = market.price(base, "USDT", time_ms) else { return false };
                let proceeds = floor_dp(qty * price * Decimal::new(97, 2), 8);
                if qty.is_zero() || proceeds.is_zero() {
                    return false;
                }
                self.push(m, base, -qty, Decimal::ZERO, "LIQUIDATION", "", time_ms);
                self.push(m, "USDT", proceeds, Decimal::ZERO, "LIQUIDATION", "", time_ms);
                let repaid = owed.min(self.balance(m, "USDT"));
                if !repaid.is_zero() {
                    *self.liabilities.entry("USDT".to_owned()).or_default() -= repaid;
                    self.push(m, "USDT", -repaid, Decimal::ZERO, "REPAY", "", time_ms);
                }
                true
            }
        }
    }

    /// One trade in the trade account: what was paid (fee inside) then what was bought.
    fn trade(&mut self, market: &Market, time_ms: i64) -> bool {
        let spot = self.spot(time_ms);
        self.trade_in(spot, PAIRS, market, time_ms)
    }

    /// One trade on one of `pairs` in `account`: what was paid (fee inside) then what was bought.
    fn trade_in(&mut self, spot: &'static str, pairs: &[(&str, &str)], market: &Market, time_ms: i64) -> bool {
        let (base, quote) = pairs[self.rng.usize(0..pairs.len())];
        let Some(price) = market.price(base, quote, time_ms) else { return false };
        let price = floor_dp(price, if quote == "BTC" { 8 } else { 4 }).normalize();
        if price.is_zero() {
            return false;
        }
        let buy = self.rng.u32(0..100) < 60 || self.balance(spot, base).is_zero();
        let qty = if buy {
            floor_dp(self.balance(spot, quote) * percent(&mut self.rng, 3..=15) / price, 8)
        } else {
            floor_dp(self.balance(spot, base) * percent(&mut self.rng, 10..=60), 8)
        };
        let cost = floor_dp(qty * price, 8);
        if qty.is_zero() || cost.is_zero() {
            return false;
        }
        let (paid, paid_amount, got, got_amount) =
            if buy { (quote, cost, base, qty) } else { (base, qty, quote, cost) };
        let fee = floor_dp(paid_amount * Decimal::new(1, 3), 8);
        if self.balance(spot, paid) < paid_amount + fee {
            return false;
        }
        let context = format!(
            r#"{{"symbol":"{base}-{quote}","orderId":"{}","tradeId":"{}"}}"#,
            crate::sim::ids::hex(&mut self.rng, 24),
            crate::sim::ids::hex(&mut self.rng, 24)
        );
        self.push(spot, paid, -(paid_amount + fee), fee, "Exchange", &context, time_ms);
        self.push(spot, got, got_amount, Decimal::ZERO, "Exchange", &context, time_ms);
        true
    }
}
