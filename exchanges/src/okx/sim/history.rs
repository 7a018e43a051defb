//! The OKX account of the generated person: the bills of its trading and funding accounts.
//!
//! Prices come from the shared [`Market`] of [`crate::sim::generate`]. The person funds the
//! funding account with EUR (and, when `crypto_transfers`, crypto), moves it to the trading
//! account (a bill in each), trades there on OKX's pairs (a bill per currency at one
//! millisecond, the 0.1 % fee taken from the currency received), moves crypto back, puts USDT
//! or ETH in Simple Earn Flexible for a few hours (two days at most) and takes all of it out, earns ETH
//! staking rewards and the odd referral reward, and withdraws crypto with a fee bill. Bill ids
//! grow with time in each account; balances never go below zero; amounts are exact decimals
//! (8 places).
//!
//! Simple Earn Flexible ([`Savings`]): a subscription is a funding bill `75` (−X) and X in the
//! position; every whole hour the position earns `amt` × `rate` / 8760 (8 places, down), added
//! to it (compounded) and listed in the lending history ([`Earning`]) with no bill; a redemption
//! takes the whole position, earnings included, back as a funding bill `76` (+`amt`). One
//! position is open at a time, so the lending history is in time order as it is made; the
//! balances ([`Generator::balances`]) hold the open position's `amt`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::sim::amounts::{floor_dp, percent};
use crate::sim::generate::Market;

/// How big and how long an OKX history is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OkxProfile {
    /// First millisecond (UTC).
    pub start_ms: i64,
    /// Last millisecond.
    pub end_ms: i64,
    /// Bills to generate (about, both accounts).
    pub bills: usize,
    /// Whether crypto arrives and leaves; without it the account is funded with EUR only (the
    /// demo's, whose wallet has no side of such transfers).
    pub crypto_transfers: bool,
    /// The most hours a Simple Earn Flexible position earns before it is taken out (at least
    /// 2): each hour is a lending-history record. `0`: the person never uses Simple Earn.
    pub earn_hours: i64,
}

impl OkxProfile {
    /// About 600 bills over 2024–2025, the span of the demo's market. (The simulator serves
    /// every bill: it does not model OKX's 3-month reach.)
    pub fn demo() -> OkxProfile {
        OkxProfile {
            start_ms: 1_704_067_200_000,
            end_ms: 1_767_225_599_999,
            bills: 600,
            crypto_transfers: true,
            earn_hours: 48,
        }
    }

    /// 50,000 bills over 2022–2025 (the benchmark).
    pub fn bench() -> OkxProfile {
        OkxProfile {
            start_ms: 1_640_995_200_000,
            end_ms: 1_767_225_599_999,
            bills: 50_000,
            crypto_transfers: true,
            earn_hours: 48,
        }
    }
}

/// Which of the person's OKX accounts a bill is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Book {
    /// The trading account (`bills-archive`).
    Trading,
    /// The funding account (`asset/bills`).
    Funding,
}

/// One bill as the simulator serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bill {
    /// OKX's id, growing with time within its account.
    pub id: u64,
    /// The account.
    pub book: Book,
    /// The currency.
    pub ccy: String,
    /// When, ms.
    pub ts: i64,
    /// The change of the balance (net of `fee`).
    pub change: Decimal,
    /// The balance after it.
    pub balance: Decimal,
    /// The bill type.
    pub kind: &'static str,
    /// The subtype (trading account), or empty.
    pub sub_type: &'static str,
    /// The fee (negative), or zero.
    pub fee: Decimal,
    /// The instrument of a trade, or empty.
    pub inst_id: String,
    /// The fill price of a trade, or zero.
    pub px: Decimal,
}

impl Bill {
    /// The bill's JSON, as OKX sends it: an object of strings.
    pub fn json(&self) -> serde_json::Value {
        let text = |d: Decimal| d.normalize().to_string();
        match self.book {
            Book::Funding => serde_json::json!({
                "billId": self.id.to_string(), "ccy": self.ccy, "clientId": "", "balChg": text(self.change),
                "bal": text(self.balance), "type": self.kind, "ts": self.ts.to_string(), "notes": "",
            }),
            Book::Trading => serde_json::json!({
                "bal": text(self.balance), "balChg": text(self.change), "billId": self.id.to_string(),
                "ccy": self.ccy, "execType": if self.inst_id.is_empty() { "" } else { "T" }, "fee": text(self.fee),
                "from": "", "instId": self.inst_id, "instType": if self.inst_id.is_empty() { "" } else { "SPOT" },
                "mgnMode": if self.inst_id.is_empty() { "" } else { "cash" }, "notes": "", "ordId": "", "pnl": "0",
                "posBal": "0", "posBalChg": "0",
                "px": if self.px.is_zero() { String::new() } else { text(self.px) },
                "subType": self.sub_type, "sz": text(self.change.abs()), "to": "", "ts": self.ts.to_string(),
                "type": self.kind,
            }),
        }
    }
}

/// OKX's pairs the person trades: (base, quote).
pub const PAIRS: &[(&str, &str)] =
    &[("BTC", "EUR"), ("ETH", "EUR"), ("USDT", "EUR"), ("BTC", "USDT"), ("ETH", "USDT"), ("SOL", "USDT")];

/// Crypto the person deposits, with a withdrawal fee.
const CRYPTO: &[(&str, &str)] = &[("BTC", "0.0001"), ("ETH", "0.001"), ("USDT", "1"), ("SOL", "0.01")];

/// One hour's earnings of Simple Earn Flexible, as the lending history lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earning {
    /// The currency.
    pub ccy: String,
    /// The amount lent during the hour (the position before it).
    pub amt: Decimal,
    /// What it earned.
    pub earnings: Decimal,
    /// The annual rate.
    pub rate: Decimal,
    /// The end of the hour, ms.
    pub ts: i64,
}

impl Earning {
    /// The record's JSON, as OKX sends it: an object of strings.
    pub fn json(&self) -> serde_json::Value {
        let text = |d: Decimal| d.normalize().to_string();
        serde_json::json!({
            "ccy": self.ccy, "amt": text(self.amt), "earnings": text(self.earnings), "rate": text(self.rate),
            "ts": self.ts.to_string(),
        })
    }
}

/// A Simple Earn Flexible position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Savings {
    /// What is in it, earnings included (`amt`).
    pub amt: Decimal,
    /// What it has earned since it was opened (`earnings`).
    pub earnings: Decimal,
    /// The annual rate.
    pub rate: Decimal,
    /// The last whole hour it earned for, ms.
    accrued_to: i64,
    /// When the person takes it out (`None`: not planned).
    redeem_at: Option<i64>,
}

/// One hour, ms.
pub const HOUR_MS: i64 = 3_600_000;

/// The generated account.
#[derive(Debug, Clone)]
pub struct Generator {
    /// Every bill, oldest first (both accounts).
    pub bills: Vec<Bill>,
    /// Simple Earn Flexible's lending history, oldest first.
    pub lending: Vec<Earning>,
    /// The open Simple Earn Flexible positions by currency.
    pub savings: BTreeMap<String, Savings>,
    balances: BTreeMap<(Book, String), Decimal>,
    rng: fastrand::Rng,
    next_id: BTreeMap<Book, u64>,
    crypto_transfers: bool,
    earn_hours: i64,
}

impl Generator {
    /// The history of `seed` on `market`.
    pub fn generate(seed: u64, market: &Market, profile: &OkxProfile) -> Generator {
        let mut generator = Generator {
            bills: Vec::new(),
            lending: Vec::new(),
            savings: BTreeMap::new(),
            balances: BTreeMap::new(),
            rng: fastrand::Rng::with_seed(seed ^ 0x6f6b_785f_6269_6c6c),
            next_id: BTreeMap::from([(Book::Trading, 600_000_000_000_000_000), (Book::Funding, 90_000_000)]),
            crypto_transfers: profile.crypto_transfers,
            earn_hours: if profile.earn_hours <= 0 { 0 } else { profile.earn_hours.max(2) },
        };
        let count = profile.bills.max(4);
        // About two bills per happening.
        let step = ((profile.end_ms - profile.start_ms) / (count as i64 / 2).max(1)).max(2);
        generator.fund(Decimal::new(2_000_000, 2), profile.start_ms);
        let mut time_ms = profile.start_ms + step;
        while generator.bills.len() < count {
            let jitter = generator.rng.i64(0..step / 2);
            generator.one(market, time_ms + jitter);
            time_ms += step;
        }
        // A position still open earns until the person would take it out or the history ends.
        let end = generator.bills.last().map_or(profile.end_ms, |b| b.ts).max(profile.start_ms);
        let open: Vec<String> = generator.savings.keys().cloned().collect();
        for ccy in open {
            let until = generator.savings[&ccy].redeem_at.map_or(end, |at| at.min(end));
            generator.accrue(&ccy, until);
        }
        generator
    }

    /// Puts `amount` of `ccy` from the funding account into Simple Earn Flexible after every
    /// bill, and lets it earn for `hours` hours (it stays open); returns the subscription's
    /// bill id, or `None` when the funding account holds less than `amount` or a position is open.
    pub fn subscribe(&mut self, ccy: &str, amount: Decimal, hours: i64) -> Option<u64> {
        if !self.savings.is_empty() || self.balance(Book::Funding, ccy) < amount || amount <= Decimal::ZERO {
            return None;
        }
        let ts = self.bills.last().map_or(0, |b| b.ts).max(self.lending.last().map_or(0, |e| e.ts)) + 60_000;
        let id = self.open_savings(ccy, amount, ts, None);
        self.accrue(ccy, ts - ts.rem_euclid(HOUR_MS) + hours * HOUR_MS);
        Some(id)
    }

    /// Takes the whole Simple Earn Flexible position of `ccy` back into the funding account
    /// (after every bill and earning); returns the redemption's bill id and amount.
    pub fn redeem(&mut self, ccy: &str) -> Option<(u64, Decimal)> {
        let ts = self.bills.last().map_or(0, |b| b.ts).max(self.lending.last().map_or(0, |e| e.ts)) + 60_000;
        let position = self.savings.remove(ccy)?;
        let id = self.push(Book::Funding, ccy, position.amt, "76", ts);
        Some((id, position.amt))
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

    /// Adds a funding bill of `amount` `ccy` with bill type `kind` (one cointally may not know)
    /// at `time_ms` (after every other bill); returns its id.
    pub fn insert(&mut self, ccy: &str, amount: Decimal, kind: &'static str, time_ms: i64) -> u64 {
        let time_ms = time_ms.max(self.bills.last().map_or(0, |b| b.ts));
        self.push(Book::Funding, ccy, amount, kind, time_ms)
    }

    /// Balances by currency, both accounts and Simple Earn Flexible added up (zeros kept).
    pub fn balances(&self) -> BTreeMap<String, Decimal> {
        let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
        for ((_, ccy), amount) in &self.balances {
            *totals.entry(ccy.clone()).or_default() += *amount;
        }
        for (ccy, position) in &self.savings {
            *totals.entry(ccy.clone()).or_default() += position.amt;
        }
        totals
    }

    /// The balances of one account by currency.
    pub fn book(&self, book: Book) -> BTreeMap<String, Decimal> {
        self.balances.iter().filter(|((b, _), _)| *b == book).map(|((_, ccy), amount)| (ccy.clone(), *amount)).collect()
    }

    fn balance(&self, book: Book, ccy: &str) -> Decimal {
        self.balances.get(&(book, ccy.to_owned())).copied().unwrap_or_default()
    }

    fn push(&mut self, book: Book, ccy: &str, change: Decimal, kind: &'static str, ts: i64) -> u64 {
        self.push_bill(Bill {
            id: 0,
            book,
            ccy: ccy.to_owned(),
            ts,
            change,
            balance: Decimal::ZERO,
            kind,
            sub_type: "",
            fee: Decimal::ZERO,
            inst_id: String::new(),
            px: Decimal::ZERO,
        })
    }

    fn push_bill(&mut self, mut bill: Bill) -> u64 {
        let step = 1 + self.rng.u64(0..3);
        let id = self.next_id.entry(bill.book).or_default();
        *id += step;
        bill.id = *id;
        let balance = self.balances.entry((bill.book, bill.ccy.clone())).or_default();
        *balance += bill.change;
        bill.balance = *balance;
        let id = bill.id;
        self.bills.push(bill);
        id
    }

    /// EUR into the funding account, then on to the trading account.
    fn fund(&mut self, amount: Decimal, ts: i64) {
        self.push(Book::Funding, "EUR", amount, "1", ts);
        self.move_between(Book::Funding, "EUR", amount, ts);
    }

    /// `amount` of `ccy` from `from` to the other account: a bill in each.
    fn move_between(&mut self, from: Book, ccy: &str, amount: Decimal, ts: i64) {
        let (out_kind, in_kind, to) = match from {
            Book::Funding => ("131", "1", Book::Trading),
            Book::Trading => ("1", "130", Book::Funding),
        };
        self.push(from, ccy, -amount, out_kind, ts);
        self.push(to, ccy, amount, in_kind, ts);
    }

    fn one(&mut self, market: &Market, ts: i64) {
        self.settle_savings(ts);
        let done = match self.rng.u32(0..100) {
            0..=54 => self.trade(market, ts),
            55..=61 if self.crypto_transfers => self.deposit(market, ts),
            62..=67 if self.crypto_transfers => self.withdraw(ts),
            68..=71 => {
                let amount = Decimal::new(self.rng.i64(50_000..500_000), 2);
                self.fund(amount, ts);
                true
            }
            72..=79 => self.back_to_funding(ts),
            80..=86 => self.earn(ts),
            87..=93 => self.staking(ts),
            94..=99 => {
                let amount = Decimal::new(self.rng.i64(10..500), 2);
                self.push(Book::Funding, "USDT", amount, "151", ts);
                true
            }
            _ => false,
        };
        if !done {
            self.trade(market, ts);
        }
    }

    fn deposit(&mut self, market: &Market, ts: i64) -> bool {
        let (ccy, _) = CRYPTO[self.rng.usize(0..CRYPTO.len())];
        let usd = Decimal::from(self.rng.i64(100..3_000));
        let Some(price) = market.price(ccy, "USDT", ts) else { return false };
        let amount = floor_dp(usd / price.max(Decimal::new(1, 8)), 8);
        if amount.is_zero() {
            return false;
        }
        self.push(Book::Funding, ccy, amount, "1", ts);
        true
    }

    fn withdraw(&mut self, ts: i64) -> bool {
        let (ccy, fee) = CRYPTO[self.rng.usize(0..CRYPTO.len())];
        let fee: Decimal = fee.parse().unwrap_or_default();
        let amount = floor_dp(self.balance(Book::Funding, ccy) * percent(&mut self.rng, 10..=40), 8);
        if amount <= fee * Decimal::TWO {
            return false;
        }
        self.push(Book::Funding, ccy, -(amount - fee), "2", ts);
        self.push(Book::Funding, ccy, -fee, "221", ts);
        true
    }

    /// Crypto from the trading account back to funding.
    fn back_to_funding(&mut self, ts: i64) -> bool {
        let (ccy, _) = CRYPTO[self.rng.usize(0..CRYPTO.len())];
        let amount = floor_dp(self.balance(Book::Trading, ccy) * percent(&mut self.rng, 10..=50), 8);
        if amount.is_zero() {
            return false;
        }
        self.move_between(Book::Trading, ccy, amount, ts);
        true
    }

    /// USDT or ETH into Simple Earn Flexible for 2 to `earn_hours` hours (one position at a time).
    fn earn(&mut self, ts: i64) -> bool {
        if !self.savings.is_empty() || self.earn_hours == 0 {
            return false;
        }
        let ccy = if self.rng.bool() { "USDT" } else { "ETH" };
        let places = if ccy == "USDT" { 2 } else { 6 };
        let amount = floor_dp(self.balance(Book::Funding, ccy) * percent(&mut self.rng, 20..=60), places);
        if amount.is_zero() {
            return false;
        }
        let hours = self.rng.i64(2..=self.earn_hours);
        self.open_savings(ccy, amount, ts, Some(ts + hours * HOUR_MS));
        true
    }

    /// The subscription bill of `amount` `ccy` at `ts` and its position.
    fn open_savings(&mut self, ccy: &str, amount: Decimal, ts: i64, redeem_at: Option<i64>) -> u64 {
        let rate = Decimal::new(self.rng.i64(1..=12), 2);
        let id = self.push(Book::Funding, ccy, -amount, "75", ts);
        self.savings.insert(
            ccy.to_owned(),
            Savings { amt: amount, earnings: Decimal::ZERO, rate, accrued_to: ts - ts.rem_euclid(HOUR_MS), redeem_at },
        );
        id
    }

    /// The earnings of the position of `ccy` for each whole hour up to `until`.
    fn accrue(&mut self, ccy: &str, until: i64) {
        let Some(position) = self.savings.get_mut(ccy) else { return };
        while position.accrued_to + HOUR_MS <= until {
            position.accrued_to += HOUR_MS;
            let earnings = floor_dp(position.amt * position.rate / Decimal::from(8_760), 8);
            if earnings.is_zero() {
                continue;
            }
            self.lending.push(Earning {
                ccy: ccy.to_owned(),
                amt: position.amt,
                earnings,
                rate: position.rate,
                ts: position.accrued_to,
            });
            position.amt += earnings;
            position.earnings += earnings;
        }
    }

    /// Takes out, with their earnings, the positions the person meant to take out by `ts`.
    fn settle_savings(&mut self, ts: i64) {
        let due: Vec<(String, i64)> = self
            .savings
            .iter()
            .filter_map(|(ccy, p)| p.redeem_at.filter(|at| *at <= ts).map(|at| (ccy.clone(), at)))
            .collect();
        for (ccy, at) in due {
            self.accrue(&ccy, at);
            if let Some(position) = self.savings.remove(&ccy) {
                self.push(Book::Funding, &ccy, position.amt, "76", at);
            }
        }
    }

    fn staking(&mut self, ts: i64) -> bool {
        let held = self.balance(Book::Funding, "ETH") + self.balance(Book::Trading, "ETH");
        let amount = floor_dp(held * Decimal::new(1, 4), 8);
        if amount.is_zero() {
            return false;
        }
        self.push(Book::Funding, "ETH", amount, "139", ts);
        true
    }

    /// One trade in the trading account: a bill per currency at one millisecond, the 0.1 % fee
    /// taken from the currency received.
    fn trade(&mut self, market: &Market, ts: i64) -> bool {
        let (base, quote) = PAIRS[self.rng.usize(0..PAIRS.len())];
        let Some(price) = market.price(base, quote, ts) else { return false };
        let price = floor_dp(price, 4).normalize();
        if price.is_zero() {
            return false;
        }
        let buy = self.rng.u32(0..100) < 60 || self.balance(Book::Trading, base).is_zero();
        let qty = if buy {
            floor_dp(self.balance(Book::Trading, quote) * percent(&mut self.rng, 3..=15) / price, 8)
        } else {
            floor_dp(self.balance(Book::Trading, base) * percent(&mut self.rng, 10..=60), 8)
        };
        let cost = floor_dp(qty * price, 8);
        if qty.is_zero() || cost.is_zero() {
            return false;
        }
        let fits =
            if buy { self.balance(Book::Trading, quote) >= cost } else { self.balance(Book::Trading, base) >= qty };
        if !fits {
            return false;
        }
        let inst_id = format!("{base}-{quote}");
        let sub_type = if buy { "1" } else { "2" };
        let (paid, paid_amount, received, received_amount) =
            if buy { (quote, cost, base, qty) } else { (base, qty, quote, cost) };
        let fee = floor_dp(received_amount * Decimal::new(1, 3), 8);
        let bill = |ccy: &str, change: Decimal, fee: Decimal| Bill {
            id: 0,
            book: Book::Trading,
            ccy: ccy.to_owned(),
            ts,
            change,
            balance: Decimal::ZERO,
            kind: "2",
            sub_type,
            fee,
            inst_id: inst_id.clone(),
            px: price,
        };
        let paid_bill = bill(paid, -paid_amount, Decimal::ZERO);
        let received_bill = bill(received, received_amount - fee, -fee);
        self.push_bill(paid_bill);
        self.push_bill(received_bill);
        true
    }
}

/// A deposit or withdrawal as OKX's deposit and withdrawal histories list it: one per crypto
/// deposit bill (type `1`) and per withdrawal bill (type `2`) of the funding account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Whether it is a withdrawal (else a deposit).
    pub withdrawal: bool,
    /// `depId` or `wdId`.
    pub id: u64,
    /// The funding bill it repeats.
    pub bill_id: u64,
    /// The currency.
    pub ccy: String,
    /// The amount (a withdrawal's without its fee).
    pub amount: Decimal,
    /// The withdrawal fee (its type `221` bill), or zero.
    pub fee: Decimal,
    /// When the record was created (a deposit: 10 minutes before it was credited; a
    /// withdrawal: 5 s before its bill).
    pub ts: i64,
    /// The on-chain hash.
    pub tx_id: String,
    /// The deposit address or the receiving address.
    pub address: String,
    /// The chain (`BTC-Bitcoin`).
    pub chain: String,
}

impl Transfer {
    /// The record's JSON as OKX sends it, in `state`.
    pub fn json(&self, state: &str) -> serde_json::Value {
        let text = |d: Decimal| d.normalize().to_string();
        if self.withdrawal {
            serde_json::json!({
                "chain": self.chain, "fee": text(self.fee), "feeCcy": self.ccy, "ccy": self.ccy, "clientId": "",
                "amt": text(self.amount), "txId": if state == "2" { self.tx_id.as_str() } else { "" }, "from": "",
                "areaCodeFrom": "", "to": self.address, "areaCodeTo": "", "toAddrType": "1", "state": state,
                "nonTradableAsset": false, "ts": self.ts.to_string(), "wdId": self.id.to_string(), "note": "",
            })
        } else {
            serde_json::json!({
                "actualDepBlkConfirm": "12", "amt": text(self.amount), "areaCodeFrom": "", "ccy": self.ccy,
                "chain": self.chain, "depId": self.id.to_string(), "from": "", "fromWdId": "", "state": state,
                "to": self.address, "ts": self.ts.to_string(), "txId": self.tx_id,
            })
        }
    }
}

/// The chain a currency moves on in the simulator.
fn chain_of(ccy: &str) -> String {
    match ccy {
        "BTC" => "BTC-Bitcoin".to_owned(),
        "ETH" => "ETH-ERC20".to_owned(),
        "USDT" => "USDT-TRC20".to_owned(),
        other => format!("{other}-{other}"),
    }
}

impl Generator {
    /// The deposit and withdrawal histories' records, oldest first: one per crypto deposit and
    /// withdrawal bill of the funding account, with a hash and an address made from its id.
    pub fn transfers(&self) -> Vec<Transfer> {
        let mut out = Vec::new();
        for (i, bill) in self.bills.iter().enumerate() {
            let withdrawal = match (bill.book, bill.kind) {
                (Book::Funding, "1") if bill.ccy != "EUR" => false,
                (Book::Funding, "2") => true,
                _ => continue,
            };
            let fee = self.bills[i + 1..]
                .iter()
                .take(4)
                .find(|b| {
                    withdrawal && b.book == Book::Funding && b.kind == "221" && b.ccy == bill.ccy && b.ts == bill.ts
                })
                .map_or(Decimal::ZERO, |b| b.change.abs());
            let id = bill.id + if withdrawal { 7_000_000_000 } else { 8_000_000_000 };
            let mix = id.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            out.push(Transfer {
                withdrawal,
                id,
                bill_id: bill.id,
                ccy: bill.ccy.clone(),
                amount: bill.change.abs(),
                fee,
                ts: bill.ts - if withdrawal { 5_000 } else { 600_000 },
                tx_id: format!("{mix:016x}{:016x}{id:032x}", mix.rotate_left(17)),
                address: format!("okxsim{}{:010}", bill.ccy.to_ascii_lowercase(), mix % 10_000_000_000),
                chain: chain_of(&bill.ccy),
            });
        }
        out
    }
}
