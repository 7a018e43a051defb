//! The Kraken account of the generated person: ledger entries and fills, from a seed.
//!
//! Prices come from the shared [`Market`] of [`crate::sim::generate`]; crypto that arrives at or
//! leaves Kraken is mirrored in the person's `external` wallet with the same transaction hash.
//! The account funds itself with fiat and crypto, trades on Kraken's pairs (two ledger entries
//! per fill, one `refid`, the fill in `TradesHistory`), buys in the app (`spend`/`receive`),
//! stakes DOT and ETH (moves to `DOT.S`/`ETH2.S` and rewards there), allocates USDT to Earn
//! (`USDT.F`) and earns on it, withdraws with a network fee (now and then a withdrawal fails
//! and is returned), gets fee credits (`KFEE`) and the odd adjustment. Every balance is tracked
//! per Kraken code and never goes below zero; amounts are exact decimals.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use crate::sim::amounts::{floor_dp, percent};
use crate::sim::generate::{Activity, DAY_MS, Market, Outcome, World};
use crate::sim::ids::{hex_words, random_text};

/// How big and how long a Kraken history is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KrakenProfile {
    /// First millisecond (UTC).
    pub start_ms: i64,
    /// Last millisecond.
    pub end_ms: i64,
    /// Ledger entries to generate (about; a happening writes one or two).
    pub entries: usize,
}

impl KrakenProfile {
    /// About 600 entries over 2024–2025.
    pub fn demo() -> KrakenProfile {
        KrakenProfile { start_ms: 1_704_067_200_000, end_ms: 1_767_225_599_999, entries: 600 }
    }

    /// 50,000 entries over 2022–2025 (the benchmark).
    pub fn bench() -> KrakenProfile {
        KrakenProfile { start_ms: 1_640_995_200_000, end_ms: 1_767_225_599_999, entries: 50_000 }
    }
}

/// One ledger entry as the simulator serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Ledger id (`L…`).
    pub id: String,
    /// The happening's id (trade id, funding reference…).
    pub refid: String,
    /// When, ms.
    pub time_ms: i64,
    /// `trade`, `deposit`…
    pub kind: &'static str,
    /// `spottostaking`… or empty.
    pub subtype: &'static str,
    /// Kraken's asset code.
    pub asset: String,
    /// Signed change before the fee.
    pub amount: Decimal,
    /// Fee on top, same asset.
    pub fee: Decimal,
    /// Balance of the code after the entry.
    pub balance: Decimal,
}

/// One fill as `TradesHistory` serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fill {
    /// Trade id, the refid of its ledger entries.
    pub txid: String,
    /// Order id.
    pub ordertxid: String,
    /// Kraken pair id (`XXBTZUSD`).
    pub pair: String,
    /// When, ms.
    pub time_ms: i64,
    /// `buy` or `sell`.
    pub side: &'static str,
    /// Price in quote.
    pub price: Decimal,
    /// Base volume.
    pub vol: Decimal,
    /// Quote cost.
    pub cost: Decimal,
    /// Fee in quote.
    pub fee: Decimal,
    /// Public trade number.
    pub trade_id: u64,
}

/// Kraken code ↔ the market's symbol.
pub const CODES: &[(&str, &str)] = &[
    ("ADA", "ADA"),
    ("DOT", "DOT"),
    ("LINK", "LINK"),
    ("SOL", "SOL"),
    ("USDT", "USDT"),
    ("XETH", "ETH"),
    ("XLTC", "LTC"),
    ("XXBT", "BTC"),
    ("XXDG", "DOGE"),
    ("ZEUR", "EUR"),
    ("ZUSD", "USD"),
];

/// Kraken's pairs the person trades: (pair id, base code, quote code).
const PAIRS: &[(&str, &str, &str)] = &[
    ("XXBTZUSD", "XXBT", "ZUSD"),
    ("XXBTZEUR", "XXBT", "ZEUR"),
    ("XETHZUSD", "XETH", "ZUSD"),
    ("XETHZEUR", "XETH", "ZEUR"),
    ("XETHXXBT", "XETH", "XXBT"),
    ("DOTUSD", "DOT", "ZUSD"),
    ("SOLUSD", "SOL", "ZUSD"),
    ("ADAEUR", "ADA", "ZEUR"),
    ("XXDGZUSD", "XXDG", "ZUSD"),
    ("XLTCZUSD", "XLTC", "ZUSD"),
    ("LINKUSD", "LINK", "ZUSD"),
    ("USDTZUSD", "USDT", "ZUSD"),
];

/// The market symbol of a Kraken code (variants included: `DOT.S` → `DOT`).
pub fn symbol(code: &str) -> &str {
    let base = match code {
        "ETH2.S" => "XETH",
        "USDT.F" => "USDT",
        "DOT.S" => "DOT",
        other => other,
    };
    CODES.iter().find(|(c, _)| *c == base).map_or(base, |(_, s)| s)
}

fn is_fiat_code(code: &str) -> bool {
    matches!(code, "ZUSD" | "ZEUR")
}

/// Decimal places of amounts of a code (Kraken: 4 for fiat, 10 for crypto; KFEE 2).
pub fn places(code: &str) -> u32 {
    match code {
        "ZUSD" | "ZEUR" | "USDT" | "USDT.F" => 4,
        "KFEE" => 2,
        _ => 8,
    }
}

/// The generator of one Kraken account; keeps its state so entries can be added later.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: fastrand::Rng,
    market: Market,
    balances: BTreeMap<String, Decimal>,
    ids: BTreeSet<String>,
    next_trade: u64,
    /// Every entry so far, oldest first.
    pub entries: Vec<LedgerEntry>,
    /// Every fill so far, oldest first.
    pub fills: Vec<Fill>,
    /// The `external` wallet's side of deposits and withdrawals.
    pub external: Vec<Activity>,
}

impl Generator {
    /// Generates the history of `profile` on `world`'s market.
    pub fn generate(seed: u64, world: &World, profile: &KrakenProfile) -> Generator {
        let mut g = Generator {
            rng: fastrand::Rng::with_seed(seed ^ 0x004b_7261_6b65_6e00),
            market: world.market.clone(),
            balances: BTreeMap::new(),
            ids: BTreeSet::new(),
            next_trade: 40_000_000,
            entries: Vec::new(),
            fills: Vec::new(),
            external: Vec::new(),
        };
        let mut t = profile.start_ms + DAY_MS / 2;
        for (code, amount) in
            [("ZEUR", "50000"), ("ZUSD", "40000"), ("XXBT", "2"), ("XETH", "30"), ("DOT", "800"), ("USDT", "15000")]
        {
            let amount: Decimal = amount.parse().unwrap_or(Decimal::ONE);
            g.deposit(code, amount, t);
            t += 3_600_000;
        }
        let span = (profile.end_ms - t).max(1);
        let steps = (profile.entries.saturating_sub(g.entries.len()) as i64 * 10 / 16).max(1);
        let mut times: Vec<i64> = (0..steps).map(|_| t + g.rng.i64(0..span)).collect();
        times.sort_unstable();
        for time in times {
            if g.entries.len() >= profile.entries {
                break;
            }
            g.step(time);
        }
        g
    }

    /// Adds `count` fills from `time_ms` on (one ms apart), as if traded now.
    pub fn add_trades(&mut self, count: usize, time_ms: i64) -> usize {
        let before = self.entries.len();
        let start = self.entries.last().map_or(time_ms, |e| e.time_ms.max(time_ms));
        for index in 0..count {
            let at = start + i64::try_from(index).unwrap_or(0) + 1;
            if !self.trade(at) {
                self.spend_receive(at);
            }
        }
        self.entries.len() - before
    }

    /// Inserts one entry of `kind`/`subtype` at `time_ms`, among the history already there (a
    /// type Kraken added later, say), keeping every later entry's running balance right;
    /// returns its ledger id.
    pub fn insert_entry(
        &mut self,
        kind: &'static str,
        subtype: &'static str,
        code: &str,
        amount: Decimal,
        time_ms: i64,
    ) -> String {
        let id = self.id("L");
        let refid = self.id("U");
        let at = self.entries.partition_point(|e| e.time_ms <= time_ms);
        let before = self.entries[..at].iter().rev().find(|e| e.asset == code).map_or(Decimal::ZERO, |e| e.balance);
        for later in self.entries[at..].iter_mut().filter(|e| e.asset == code) {
            later.balance += amount;
        }
        let balance = before + amount;
        self.entries.insert(
            at,
            LedgerEntry {
                id: id.clone(),
                refid,
                time_ms,
                kind,
                subtype,
                asset: code.to_owned(),
                amount,
                fee: Decimal::ZERO,
                balance,
            },
        );
        *self.balances.entry(code.to_owned()).or_default() += amount;
        id
    }

    /// The balance of every code (zeros kept).
    pub fn balances(&self) -> &BTreeMap<String, Decimal> {
        &self.balances
    }

    fn balance(&self, code: &str) -> Decimal {
        self.balances.get(code).copied().unwrap_or_default()
    }

    fn id(&mut self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        loop {
            let rng = &mut self.rng;
            let id = format!(
                "{prefix}{}-{}-{}",
                random_text(rng, ALPHABET, 5),
                random_text(rng, ALPHABET, 5),
                random_text(rng, ALPHABET, 6)
            );
            if self.ids.insert(id.clone()) {
                return id;
            }
        }
    }

    fn funding_ref(&mut self) -> String {
        // Base58 without its last digit: the seeded histories were generated that way.
        const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ012345678";
        let (head, tail) = (random_text(&mut self.rng, ALPHABET, 5), random_text(&mut self.rng, ALPHABET, 22));
        format!("FT{head}-{tail}")
    }

    fn push(
        &mut self,
        refid: &str,
        time_ms: i64,
        (kind, subtype): (&'static str, &'static str),
        code: &str,
        amount: Decimal,
        fee: Decimal,
    ) {
        let balance = self.balances.entry(code.to_string()).or_default();
        *balance += amount - fee;
        let balance = *balance;
        let id = self.id("L");
        self.entries.push(LedgerEntry {
            id,
            refid: refid.to_string(),
            time_ms,
            kind,
            subtype,
            asset: code.to_string(),
            amount,
            fee,
            balance,
        });
    }

    fn price(&self, base: &str, quote: &str, time_ms: i64) -> Option<Decimal> {
        let price = self.market.price(symbol(base), symbol(quote), time_ms)?;
        let dp = if is_fiat_code(quote) && price >= Decimal::ONE { 2 } else { 6 };
        let price = price.round_dp(dp);
        (!price.is_zero()).then_some(price)
    }

    fn step(&mut self, t: i64) {
        match self.rng.u32(0..100) {
            0..=44 => {
                if !self.trade(t) {
                    self.deposit("USDT", Decimal::new(2_000, 0), t);
                }
            }
            45..=49 => self.spend_receive(t),
            50..=57 => {
                let code = ["XXBT", "XETH", "DOT", "SOL", "USDT"][self.rng.usize(0..5)];
                let usd = Decimal::from(self.rng.i64(200..3_000));
                let amount = self.market.usd(symbol(code), t).map_or(Decimal::ONE, |p| floor_dp(usd / p, places(code)));
                self.deposit(code, amount, t);
            }
            58..=64 => self.withdraw(t),
            65..=68 => {
                let code = if self.rng.bool() { "ZEUR" } else { "ZUSD" };
                let amount = Decimal::from(self.rng.i64(500..5_000));
                self.deposit(code, amount, t);
            }
            69..=70 => {
                let code = if self.rng.bool() { "ZEUR" } else { "ZUSD" };
                let amount = floor_dp(self.balance(code) * percent(&mut self.rng, 5..=20), 2);
                if amount > Decimal::ZERO {
                    let refid = self.funding_ref();
                    self.push(&refid, t, ("withdrawal", ""), code, -amount, Decimal::new(9, 2));
                }
            }
            71..=76 => self.stake(t),
            77..=90 => self.reward(t),
            91..=94 => self.earn_allocation(t),
            95..=97 => {
                let refid = self.id("Q");
                let credits = Decimal::new(self.rng.i64(100..2_000), 0);
                self.push(&refid, t, ("deposit", ""), "KFEE", credits, Decimal::ZERO);
            }
            _ => {
                let code = ["ADA", "LINK", "XXDG"][self.rng.usize(0..3)];
                let amount = floor_dp(self.balance(code) * Decimal::new(1, 3), places(code));
                if amount > Decimal::ZERO {
                    let refid = self.id("A");
                    self.push(&refid, t, ("adjustment", ""), code, -amount, Decimal::ZERO);
                }
            }
        }
    }

    /// A fill on a random pair: two entries, one refid, and its `TradesHistory` row.
    fn trade(&mut self, t: i64) -> bool {
        let (pair, base, quote) = PAIRS[self.rng.usize(0..PAIRS.len())];
        let Some(price) = self.price(base, quote, t) else { return false };
        let (qdp, bdp) = (places(quote), places(base));
        let buy = self.balance(quote) > self.balance(base) * price || self.rng.bool();
        let (vol, cost) = if buy {
            let budget = self.balance(quote) * percent(&mut self.rng, 2..=15);
            let vol = floor_dp(budget / price, bdp);
            (vol, floor_dp(vol * price, qdp))
        } else {
            let vol = floor_dp(self.balance(base) * percent(&mut self.rng, 5..=40), bdp);
            (vol, floor_dp(vol * price, qdp))
        };
        let fee = floor_dp(cost * Decimal::new(26, 4), qdp);
        if vol.is_zero()
            || cost.is_zero()
            || (buy && cost + fee > self.balance(quote))
            || (!buy && vol > self.balance(base))
        {
            return false;
        }
        let txid = self.id("T");
        let ordertxid = self.id("O");
        if buy {
            self.push(&txid, t, ("trade", ""), quote, -cost, fee);
            self.push(&txid, t, ("trade", ""), base, vol, Decimal::ZERO);
        } else {
            self.push(&txid, t, ("trade", ""), base, -vol, Decimal::ZERO);
            self.push(&txid, t, ("trade", ""), quote, cost, fee);
        }
        self.next_trade += self.rng.u64(1..5_000);
        self.fills.push(Fill {
            txid,
            ordertxid,
            pair: pair.to_string(),
            time_ms: t,
            side: if buy { "buy" } else { "sell" },
            price,
            vol,
            cost,
            fee,
            trade_id: self.next_trade,
        });
        true
    }

    /// An app purchase: `spend` of fiat (with a fee) and `receive` of crypto, one refid.
    fn spend_receive(&mut self, t: i64) {
        let (fiat, code) = if self.rng.bool() { ("ZEUR", "SOL") } else { ("ZUSD", "XXBT") };
        let spend = Decimal::from(self.rng.i64(20..300));
        let fee = floor_dp(spend * Decimal::new(15, 3), 2);
        let Some(price) = self.price(code, fiat, t) else { return };
        if spend + fee > self.balance(fiat) {
            self.deposit(fiat, Decimal::from(1_000), t);
        }
        let got = floor_dp(spend / price, places(code));
        let refid = self.id("T");
        self.push(&refid, t, ("spend", ""), fiat, -spend, fee);
        self.push(&refid, t, ("receive", ""), code, got, Decimal::ZERO);
    }

    fn deposit(&mut self, code: &str, amount: Decimal, t: i64) {
        let refid = self.funding_ref();
        self.push(&refid, t, ("deposit", ""), code, amount, Decimal::ZERO);
        if !is_fiat_code(code) {
            let tx_hash = hex_words(&mut self.rng, 4);
            self.external.push(Activity::Withdrawal {
                asset: symbol(code).to_string(),
                amount,
                fee: Decimal::ZERO,
                network: symbol(code).to_string(),
                address: format!("kraken-deposit-{}", symbol(code).to_ascii_lowercase()),
                tx_hash,
                time_ms: t - 600_000,
                id: refid,
                outcome: Outcome::Completed,
            });
        }
    }

    fn withdraw(&mut self, t: i64) {
        let code = ["XXBT", "XETH", "SOL", "USDT", "XXDG"][self.rng.usize(0..5)];
        let fee = match code {
            "XXBT" => Decimal::new(15, 5),
            "XETH" => Decimal::new(25, 4),
            "USDT" => Decimal::new(25, 1),
            "XXDG" => Decimal::new(4, 0),
            _ => Decimal::new(1, 2),
        };
        let amount = floor_dp(self.balance(code) * percent(&mut self.rng, 10..=50), places(code));
        if amount.is_zero() || amount + fee > self.balance(code) {
            return;
        }
        let refid = self.funding_ref();
        if self.rng.u32(0..15) == 0 {
            // Failed: written, then returned under the same refid.
            self.push(&refid, t, ("withdrawal", ""), code, -amount, Decimal::ZERO);
            self.push(&refid, t + 3_600_000, ("withdrawal", ""), code, amount, Decimal::ZERO);
            return;
        }
        self.push(&refid, t, ("withdrawal", ""), code, -amount, fee);
        let tx_hash = hex_words(&mut self.rng, 4);
        self.external.push(Activity::Deposit {
            asset: symbol(code).to_string(),
            amount,
            network: symbol(code).to_string(),
            address: format!("own-wallet-{}", symbol(code).to_ascii_lowercase()),
            tx_hash,
            time_ms: t + 1_200_000,
            id: refid,
            outcome: Outcome::Completed,
        });
    }

    /// Staking moves: spot → staked (`DOT` → `DOT.S`, `XETH` → `ETH2.S`) or back for DOT.
    fn stake(&mut self, t: i64) {
        let (spot, staked) = if self.rng.bool() { ("DOT", "DOT.S") } else { ("XETH", "ETH2.S") };
        let unstake = spot == "DOT" && self.balance(staked) > Decimal::ZERO && self.rng.u32(0..3) == 0;
        let (from, to, out_sub, in_sub) = if unstake {
            (staked, spot, "stakingtospot", "spotfromstaking")
        } else {
            (spot, staked, "spottostaking", "stakingfromspot")
        };
        let amount = floor_dp(self.balance(from) * percent(&mut self.rng, 10..=50), places(from));
        if amount.is_zero() {
            return;
        }
        let (out_ref, in_ref) = (self.id("B"), self.id("R"));
        self.push(&out_ref, t, ("transfer", out_sub), from, -amount, Decimal::ZERO);
        self.push(&in_ref, t + 1_000, ("transfer", in_sub), to, amount, Decimal::ZERO);
    }

    fn reward(&mut self, t: i64) {
        let code = ["DOT.S", "ETH2.S", "USDT.F"][self.rng.usize(0..3)];
        let amount = floor_dp(self.balance(code) * Decimal::new(self.rng.i64(5..30), 4), places(code));
        if amount.is_zero() {
            return;
        }
        let refid = self.id("S");
        let (kind, subtype) = if code == "USDT.F" { ("earn", "reward") } else { ("staking", "") };
        self.push(&refid, t, (kind, subtype), code, amount, Decimal::ZERO);
    }

    /// USDT allocated to Earn: two entries, one refid, `USDT` → `USDT.F`.
    fn earn_allocation(&mut self, t: i64) {
        let amount = floor_dp(self.balance("USDT") * percent(&mut self.rng, 5..=30), 4);
        if amount.is_zero() {
            return;
        }
        let refid = self.id("E");
        self.push(&refid, t, ("earn", "allocation"), "USDT", -amount, Decimal::ZERO);
        self.push(&refid, t, ("earn", "allocation"), "USDT.F", amount, Decimal::ZERO);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::generate::{Profile, generate};

    #[test]
    fn the_same_seed_gives_the_same_history_with_no_negative_balance() {
        let world = generate(3, &Profile { trades: 0, ..Profile::demo() });
        let a = Generator::generate(3, &world, &KrakenProfile::demo());
        let b = Generator::generate(3, &world, &KrakenProfile::demo());
        assert_eq!(a.entries, b.entries);
        assert!(a.entries.len() >= 550 && a.entries.len() <= 620, "{}", a.entries.len());
        let mut running: BTreeMap<&str, Decimal> = BTreeMap::new();
        for entry in &a.entries {
            let balance = running.entry(entry.asset.as_str()).or_default();
            *balance += entry.amount - entry.fee;
            assert_eq!(*balance, entry.balance, "{entry:?}");
            assert!(*balance >= Decimal::ZERO, "{entry:?}");
        }
        assert!(a.entries.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
        for kind in ["trade", "spend", "receive", "deposit", "withdrawal", "transfer", "staking", "earn"] {
            assert!(a.entries.iter().any(|e| e.kind == kind), "no {kind} entry");
        }
        for code in ["DOT.S", "ETH2.S", "USDT.F", "KFEE"] {
            assert!(a.balances().get(code).is_some_and(|b| *b > Decimal::ZERO), "no {code} balance");
        }
        let trades = a.entries.iter().filter(|e| e.kind == "trade").count();
        assert_eq!(trades, 2 * a.fills.len());
        assert!(!a.external.is_empty());
    }
}
