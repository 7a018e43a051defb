//! A local Bybit: the v5 endpoints a history import uses, served over real HTTP.
//!
//! [`start`] generates the person's Bybit account ([`history`], on the shared market of
//! [`crate::sim::generate`]) and serves it on `127.0.0.1` with Bybit's envelope
//! (`retCode`, `retMsg`, `result`): the transaction log (7-day windows, two years back), deposit
//! and withdrawal records (30-day windows), transfers between wallets (7-day windows), each
//! paged 50 at a time by `cursor`; both wallets' balances; the key's information. A classic
//! account (`SimConfig::unified` false) has no log but spot fills (`/v5/execution/list`,
//! 7-day windows) and a `SPOT` wallet (`wallet-balance?accountType=SPOT`). Bybit Earn: stake
//! and redeem orders per category (`/v5/earn/order`, `FlexibleSaving` and `OnChain`), yields
//! per category too (`/v5/earn/yield`, listed under `yield` as the page's example has it), both in 7-day windows
//! paged by `cursor`, and the positions (`/v5/earn/position`); without the Earn permission
//! (`SimConfig::earn_permission` false) they answer `10005`. It checks
//! the v5 signature ([`super::auth`]: `10003` unknown key, `10004` wrong signature), counts each
//! endpoint's requests over any sliding window (`10006` "Too many visits!" over the budget),
//! and injects the server's faults.

pub mod history;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use rust_decimal::Decimal;
use serde_json::json;

use self::history::{BybitProfile, Conversion, EarnOrder, EarnYield, Fill, Generator, LogEntry, Movement};
use super::api::{Budget, DEFAULT_BUDGET, Endpoint};
use super::auth;
use crate::Secret;
use crate::http::query::decode_pairs;
use crate::sim::faults::FaultConfig;
use crate::sim::generate::{Activity, Market, Outcome, Profile, generate};
use crate::sim::now_ms;
use crate::sim::server::{Handler, Request, Response, Server};

const DAY_MS: i64 = 86_400_000;

/// The one key the simulator accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct SimKey {
    /// The API key.
    pub api_key: String,
    /// The API secret.
    pub secret: String,
}

impl std::fmt::Debug for SimKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimKey").field("api_key", &"[redacted]").finish_non_exhaustive()
    }
}

impl SimKey {
    /// The simulator's demo key.
    pub fn demo() -> SimKey {
        SimKey {
            api_key: "cointallysimbybitkey0000".to_owned(),
            secret: "cointallysimulatedbybitsecret00000000000".to_owned(),
        }
    }
}

/// Everything that shapes a simulator run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of the market and the history.
    pub seed: u64,
    /// Size and span of the history.
    pub profile: BybitProfile,
    /// Each endpoint's limit; `None`: unmetered.
    pub budget: Option<Budget>,
    /// Injected faults.
    pub faults: Option<FaultConfig>,
    /// The accepted key.
    pub key: SimKey,
    /// Whether the key may withdraw (read-write, `Wallet` lists `Withdraw`).
    pub key_may_withdraw: bool,
    /// Whether the account is unified (`uta` 1).
    pub unified: bool,
    /// Whether the key has the Earn permission; without it the Earn endpoints answer `10005`.
    pub earn_permission: bool,
    /// Whether the yield history takes `category=OnChain` (Bybit's changelog of 2026-03-19);
    /// false answers `10001` to it, as Bybit did before.
    pub onchain_yields: bool,
    /// Port on 127.0.0.1 (0: any).
    pub port: u16,
}

impl SimConfig {
    /// `records` records in the last 600 days, Bybit's limits, demo key (read-only), unified.
    pub fn recent(seed: u64, records: usize) -> SimConfig {
        SimConfig {
            seed,
            profile: BybitProfile::recent(now_ms(), records),
            budget: Some(DEFAULT_BUDGET),
            faults: None,
            key: SimKey::demo(),
            key_may_withdraw: false,
            unified: true,
            earn_permission: true,
            onchain_yields: true,
            port: 0,
        }
    }
}

pub use crate::sim::stats::SimStats;

struct State {
    config: SimConfig,
    secret: Secret,
    generator: Mutex<Generator>,
    market: Market,
    recent: Mutex<BTreeMap<Endpoint, VecDeque<i64>>>,
    stats: Mutex<SimStats>,
}

/// A running Bybit simulator; stops on drop.
pub struct BybitSim {
    server: Server,
    state: Arc<State>,
}

impl std::fmt::Debug for BybitSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BybitSim").field("addr", &self.server.base_url()).finish_non_exhaustive()
    }
}

/// Generates the account of `config` and starts serving it.
pub fn start(config: SimConfig) -> io::Result<BybitSim> {
    let market_profile = Profile { trades: 0, ..Profile::demo() };
    let world = generate(config.seed, &market_profile);
    let generator = Generator::generate(config.seed, &world.market, &config.profile, !config.unified);
    let state = Arc::new(State {
        secret: Secret::new(config.key.secret.clone()),
        generator: Mutex::new(generator),
        market: world.market,
        recent: Mutex::new(BTreeMap::new()),
        stats: Mutex::new(SimStats::default()),
        config,
    });
    let faults = state.config.faults.clone();
    let server = Server::start(state.config.port, Arc::clone(&state) as Arc<dyn Handler>, faults)?;
    Ok(BybitSim { server, state })
}

impl BybitSim {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// Each endpoint's limit a client should pace itself with (`None`: unmetered).
    pub fn budget(&self) -> Option<Budget> {
        self.state.config.budget
    }

    fn generator(&self) -> std::sync::MutexGuard<'_, Generator> {
        self.state.generator.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Balances by coin, both wallets added up, as a complete import must end (zeros left out).
    pub fn balances(&self) -> BTreeMap<String, Decimal> {
        self.generator().balances().into_iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (k, v.normalize())).collect()
    }

    /// The unified wallet's log, oldest first.
    pub fn log(&self) -> Vec<LogEntry> {
        self.generator().log.clone()
    }

    /// The unified wallet's whole log as a CSV file in the layout `--format bybit-log` reads
    /// (the API's fields, newest first as Bybit lists it, times in ms): the export of the
    /// history, older than the API's two-year reach included.
    pub fn log_csv(&self) -> String {
        let mut out = csv::Writer::from_writer(Vec::new());
        let row = |out: &mut csv::Writer<Vec<u8>>, fields: Vec<String>| {
            out.write_record(&fields).expect("a CSV row written to memory");
        };
        row(&mut out, LOG_COLUMNS.iter().map(|c| (*c).to_owned()).collect());
        for entry in self.generator().log.iter().rev() {
            let value = log_json(entry);
            let cell = |name: &str| value.get(name).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
            row(&mut out, LOG_COLUMNS.iter().map(|c| cell(c)).collect());
        }
        String::from_utf8(out.into_inner().expect("a CSV written to memory")).expect("CSV of UTF-8 text")
    }

    /// The funding wallet's deposits, withdrawals and transfers that went through and its
    /// conversions, as a file in cointally's generic format, each keyed by the id the API's
    /// event has (`deposit-<id>`, `withdrawal-<withdrawId>`, `transfer-<transferId>`,
    /// `convert-<exchangeTxId>`) with the same legs:
    /// the history a user would write down for what the API does not reach, meeting the
    /// synced events instead of doubling them.
    pub fn funding_csv(&self) -> String {
        let mut out = csv::Writer::from_writer(Vec::new());
        let mut row = |fields: [&str; 15]| out.write_record(fields).expect("a CSV row written to memory");
        row([
            "time",
            "kind",
            "sent_amount",
            "sent_asset",
            "received_amount",
            "received_asset",
            "fee_amount",
            "fee_asset",
            "fiat_value",
            "fiat_currency",
            "tx_hash",
            "address",
            "network",
            "id",
            "note",
        ]);
        for m in self.generator().movements.iter().filter(|m| m.ok) {
            let time = crate::time::format_rfc3339(crate::time::from_millis(m.time_ms));
            let (chain, address, hash) = (&m.chain.0, &m.chain.1, &m.chain.2);
            let (amount, fee) = (text(m.amount), text(m.fee));
            let coin = m.coin.as_str();
            match m.stream {
                "deposits" => {
                    let id = format!("deposit-{}", m.id);
                    row([&time, "deposit", "", "", &amount, coin, "", "", "", "", hash, address, chain, &id, ""]);
                }
                "withdrawals" => {
                    let id = format!("withdrawal-{}", m.id);
                    let (fee, fee_coin) = if m.fee.is_zero() { ("", "") } else { (fee.as_str(), coin) };
                    row([
                        &time,
                        "withdrawal",
                        &amount,
                        coin,
                        "",
                        "",
                        fee,
                        fee_coin,
                        "",
                        "",
                        hash,
                        address,
                        chain,
                        &id,
                        "",
                    ]);
                }
                _ => {
                    let id = format!("transfer-{}", m.id);
                    let note = format!("{} → {}", m.wallets.0, m.wallets.1);
                    let (sent, received) = match m.wallets {
                        (history::FUND, _) => (amount.as_str(), ""),
                        _ => ("", amount.as_str()),
                    };
                    let (sent_coin, received_coin) = if sent.is_empty() { ("", coin) } else { (coin, "") };
                    row([
                        &time,
                        "internal_transfer",
                        sent,
                        sent_coin,
                        received,
                        received_coin,
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                        &id,
                        &note,
                    ]);
                }
            }
        }
        for c in &self.generator().conversions {
            let time = crate::time::format_rfc3339(crate::time::from_millis(c.time_ms));
            let id = format!("convert-{}", c.id);
            let (sent, received) = (text(c.from.1), text(c.to.1));
            row([&time, "trade", &sent, &c.from.0, &received, &c.to.0, "", "", "", "", "", "", "", &id, "convert"]);
        }
        // Earn: an order moves its coin between a wallet and Earn (both sides), a yield is interest.
        for o in self.generator().earn_orders.iter().filter(|o| o.status == "Success") {
            let time = crate::time::format_rfc3339(crate::time::from_millis(o.time_ms));
            let id = format!("earn-order-{}", o.id);
            let amount = text(o.amount);
            let note = format!("Bybit Earn {} {}", o.category, o.kind);
            let coin = o.coin.as_str();
            row([&time, "internal_transfer", &amount, coin, &amount, coin, "", "", "", "", "", "", "", &id, &note]);
        }
        for y in &self.generator().earn_yields {
            let time = crate::time::format_rfc3339(crate::time::from_millis(y.time_ms));
            let id = crate::bybit::normalize::earn_yield_key(y.category, &y.id);
            let amount = text(y.amount);
            row([&time, "interest", "", "", &amount, &y.coin, "", "", "", "", "", "", "", &id, "Bybit Earn yield"]);
        }
        String::from_utf8(out.into_inner().expect("a CSV written to memory")).expect("CSV of UTF-8 text")
    }

    /// Earn stake and redeem orders, oldest first.
    pub fn earn_orders(&self) -> Vec<EarnOrder> {
        self.generator().earn_orders.clone()
    }

    /// Earn yields, oldest first.
    pub fn earn_yields(&self) -> Vec<EarnYield> {
        self.generator().earn_yields.clone()
    }

    /// What is staked in Earn by (category, coin), zeros left out.
    pub fn earn_positions(&self) -> BTreeMap<(String, String), Decimal> {
        let g = self.generator();
        g.positions
            .iter()
            .filter(|(_, v)| !v.is_zero())
            .map(|((c, coin), v)| ((c.to_string(), coin.clone()), *v))
            .collect()
    }

    /// Adds an on-chain stake of `amount` of `coin` from the funding wallet, a minute ago, that is
    /// not final yet (`Pending`); returns its order id (`None`: the wallet holds too little).
    pub fn add_pending_stake(&self, coin: &str, amount: Decimal) -> Option<String> {
        let mut g = self.generator();
        g.add_pending_stake(coin, amount, now_ms() - 60_000)
    }

    /// Makes every pending Earn order final; returns how many.
    pub fn settle_earn(&self) -> usize {
        self.generator().settle_earn()
    }

    /// A classic account's spot fills, oldest first.
    pub fn fills(&self) -> Vec<Fill> {
        self.generator().fills.clone()
    }

    /// Coin conversions in the funding wallet, oldest first.
    pub fn conversions(&self) -> Vec<Conversion> {
        self.generator().conversions.clone()
    }

    /// Deposits, withdrawals and transfers, oldest first.
    pub fn movements(&self) -> Vec<Movement> {
        self.generator().movements.clone()
    }

    /// How many events a complete import makes: every log entry, every movement that went
    /// through, every conversion, every final Earn order and every Earn yield.
    pub fn event_count(&self) -> usize {
        let g = self.generator();
        g.log.len()
            + g.fills.len()
            + g.movements.iter().filter(|m| m.ok).count()
            + g.conversions.len()
            + g.earn_orders.iter().filter(|o| o.status == "Success").count()
            + g.earn_yields.len()
    }

    /// Adds `count` fills a minute after the last record; returns how many were added.
    pub fn add_trades(&self, count: usize) -> usize {
        let mut g = self.generator();
        let last = g.log.last().map(|e| e.time_ms).into_iter().chain(g.fills.last().map(|f| f.time_ms)).max();
        let at = last.unwrap_or(0).max(now_ms() - 60_000);
        g.add_trades(&self.state.market, count, at)
    }

    /// Adds a log entry of type `kind` (one cointally may not know); returns its id.
    pub fn insert_unknown(&self, coin: &str, amount: Decimal, kind: &'static str) -> String {
        let mut g = self.generator();
        let at = g.log.last().map_or(0, |e| e.time_ms).max(now_ms() - 60_000);
        g.insert_unknown(coin, amount, kind, at)
    }

    /// The person's own side of the account's deposits and withdrawals that went through:
    /// a wallet's send ten minutes before each deposit, its receipt ten minutes after each
    /// withdrawal (the fee stays at Bybit).
    pub fn external(&self) -> Vec<Activity> {
        let g = self.generator();
        g.movements
            .iter()
            .filter(|m| m.ok && m.stream != "transfers")
            .map(|m| {
                let (network, address, tx_hash) = m.chain.clone();
                let (asset, amount, id, outcome) =
                    (m.coin.clone(), m.amount, format!("wallet-{}", m.id), Outcome::Completed);
                if m.stream == "deposits" {
                    let time_ms = m.time_ms - 600_000;
                    Activity::Withdrawal {
                        asset,
                        amount,
                        fee: Decimal::ZERO,
                        network,
                        address,
                        tx_hash,
                        time_ms,
                        id,
                        outcome,
                    }
                } else {
                    let time_ms = m.time_ms + 600_000;
                    Activity::Deposit { asset, amount, network, address, tx_hash, time_ms, id, outcome }
                }
            })
            .collect()
    }

    /// The simulated market's USD price of `asset` at `time_ms`.
    pub fn usd(&self, asset: &str, time_ms: i64) -> Option<Decimal> {
        self.state.market.usd(asset, time_ms)
    }

    /// Requests, refusals and faults so far.
    pub fn stats(&self) -> SimStats {
        self.state.stats.lock().unwrap_or_else(PoisonError::into_inner).clone().with_server_counts(&self.server)
    }
}

/// Bybit's envelope with a non-zero `retCode`.
fn error(status: u16, code: i64, message: &str) -> Response {
    Response::json_value(
        status,
        &json!({ "retCode": code, "retMsg": message, "result": {}, "retExtInfo": {}, "time": now_ms() }),
    )
}

fn ok(result: serde_json::Value) -> Response {
    Response::json_value(
        200,
        &json!({ "retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": now_ms() }),
    )
}

fn text(value: Decimal) -> String {
    value.normalize().to_string()
}

/// The columns of the simulator's log export: the API's fields of a log entry.
const LOG_COLUMNS: &[&str] = &[
    "id",
    "symbol",
    "category",
    "side",
    "transactionTime",
    "type",
    "qty",
    "currency",
    "tradePrice",
    "fee",
    "cashFlow",
    "change",
    "cashBalance",
    "tradeId",
];

fn log_json(e: &LogEntry) -> serde_json::Value {
    let change = e.cash_flow - e.fee;
    json!({
        "id": e.id, "symbol": e.symbol, "category": if e.symbol.is_empty() { "" } else { "spot" },
        "side": e.side, "transactionTime": e.time_ms.to_string(), "type": e.kind, "transSubType": "",
        "qty": text(e.cash_flow), "size": "0", "currency": e.coin,
        "tradePrice": if e.price.is_zero() { String::new() } else { text(e.price) },
        "funding": "", "fee": text(e.fee), "cashFlow": text(e.cash_flow), "change": text(change),
        "cashBalance": text(e.balance), "feeRate": "", "bonusChange": "",
        "tradeId": if e.trade_id == 0 { String::new() } else { e.trade_id.to_string() },
        "orderId": "", "orderLinkId": ""
    })
}

/// A classic spot fill as `/v5/execution/list` lists it
/// (<https://bybit-exchange.github.io/docs/v5/order/execution>): the fields classic spot does
/// not support (`execType`, `execValue`, `feeRate`, …) are empty.
fn fill_json(f: &Fill) -> serde_json::Value {
    json!({
        "symbol": f.symbol, "orderId": f.order_id, "orderLinkId": "", "side": f.side,
        "orderPrice": text(f.price), "orderQty": text(f.qty), "leavesQty": "0", "createType": "",
        "orderType": "Limit", "stopOrderType": "", "execFee": text(f.fee), "execId": f.id,
        "execPrice": text(f.price), "execQty": text(f.qty), "execType": "", "execValue": "",
        "execTime": f.time_ms.to_string(), "feeCurrency": f.fee_coin, "isMaker": false, "feeRate": "",
        "tradeIv": "", "markIv": "", "markPrice": "", "indexPrice": "", "underlyingPrice": "",
        "blockTradeId": "", "closedSize": "", "seq": 0
    })
}

/// An Earn order as `/v5/earn/order` lists it (<https://bybit-exchange.github.io/docs/v5/earn/order-history>).
fn earn_order_json(o: &EarnOrder) -> serde_json::Value {
    let onchain = o.category == history::ONCHAIN;
    let estimate =
        |kind: &str| if onchain && o.kind == kind { (o.time_ms + DAY_MS).to_string() } else { String::new() };
    json!({
        "coin": o.coin, "orderValue": text(o.amount), "orderType": o.kind, "orderId": o.id,
        "orderLinkId": "", "status": o.status, "createdAt": o.time_ms.to_string(), "productId": o.product_id,
        "updatedAt": (o.time_ms + 1_000).to_string(), "swapOrderValue": "",
        "estimateRedeemTime": estimate("Redeem"), "estimateStakeTime": estimate("Stake")
    })
}

/// An Earn yield as `/v5/earn/yield` lists it (<https://bybit-exchange.github.io/docs/v5/earn/yield-history>).
fn earn_yield_json(y: &EarnYield) -> serde_json::Value {
    json!({
        "productId": y.product_id, "coin": y.coin, "id": y.id, "amount": text(y.amount), "yieldType": "Normal",
        "distributionMode": y.mode, "effectiveStakingAmount": text(y.staked), "orderId": y.order_id,
        "status": "Success", "createdAt": y.time_ms.to_string()
    })
}

fn conversion_json(c: &Conversion) -> serde_json::Value {
    json!({
        "fromCoin": c.from.0, "fromAmount": text(c.from.1), "toCoin": c.to.0, "toAmount": text(c.to.1),
        "exchangeRate": text(c.rate), "createdTime": (c.time_ms / 1000).to_string(), "exchangeTxId": c.id
    })
}

fn movement_json(m: &Movement) -> serde_json::Value {
    let (chain, address, hash) = &m.chain;
    match m.stream {
        "deposits" => json!({
            "id": m.id, "coin": m.coin, "chain": chain, "amount": text(m.amount),
            "txID": if m.ok { hash.clone() } else { String::new() }, "status": if m.ok { 3 } else { 4 },
            "toAddress": address, "tag": "", "depositFee": "", "successAt": m.time_ms.to_string(),
            "confirmations": "64", "txIndex": "0", "blockHash": "", "batchReleaseLimit": "-1", "depositType": "0"
        }),
        "withdrawals" => json!({
            "coin": m.coin, "chain": chain, "amount": text(m.amount), "txID": if m.ok { hash.clone() } else { String::new() },
            "status": if m.ok { "success" } else { "Reject" }, "toAddress": address, "tag": "",
            "withdrawFee": text(m.fee), "createTime": m.time_ms.to_string(),
            "updateTime": (m.time_ms + 60_000).to_string(), "withdrawId": m.id, "withdrawType": 0
        }),
        _ => json!({
            "transferId": m.id, "coin": m.coin, "amount": text(m.amount), "fromAccountType": m.wallets.0,
            "toAccountType": m.wallets.1, "timestamp": m.time_ms.to_string(), "status": "SUCCESS"
        }),
    }
}

/// One wallet's non-zero balances as Bybit lists them.
fn balances(g: &Generator, wallet: &str) -> Vec<serde_json::Value> {
    g.wallet(wallet)
        .into_iter()
        .filter(|(_, v)| !v.is_zero())
        .map(|(coin, v)| json!({ "coin": coin, "walletBalance": text(v), "transferBalance": text(v) }))
        .collect()
}

impl State {
    fn count(&self, update: impl FnOnce(&mut SimStats)) {
        update(&mut self.stats.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Counts one request to `endpoint` at `now`, or says it is over the limit of any window.
    fn admit(&self, endpoint: Endpoint, now: i64) -> bool {
        let Some(budget) = self.config.budget else { return true };
        let window_ms = i64::try_from(budget.window_seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        let times = recent.entry(endpoint).or_default();
        while times.front().is_some_and(|at| *at <= now - window_ms) {
            times.pop_front();
        }
        if times.len() as u64 >= budget.limit {
            return false;
        }
        times.push_back(now);
        true
    }

    fn authenticate(&self, request: &Request) -> Result<(), Response> {
        let refuse = |code: i64, message: &str| {
            self.count(|s| s.refused += 1);
            Err(error(401, code, message))
        };
        let header = |name: &str| request.header(name).unwrap_or_default();
        if header("X-BAPI-API-KEY") != self.config.key.api_key {
            return refuse(10003, "API key is invalid.");
        }
        let expected = auth::signature(
            &self.secret,
            header("X-BAPI-TIMESTAMP"),
            &self.config.key.api_key,
            header("X-BAPI-RECV-WINDOW"),
            &request.query,
        );
        if expected != header("X-BAPI-SIGN") {
            return refuse(10004, "error sign! origin_string[...]");
        }
        Ok(())
    }

    /// One window's page of the items at `times` (oldest first): newest first, 50 a page,
    /// each rendered by `render` (only the page's: rendering all would be slow).
    fn window(
        &self,
        params: &BTreeMap<String, String>,
        span_days: i64,
        times: &[i64],
        render: impl Fn(usize) -> serde_json::Value,
        field: &str,
        floor: i64,
    ) -> Response {
        let number = |name: &str| params.get(name).and_then(|v| v.parse::<i64>().ok());
        let now = now_ms();
        let end = number("endTime").unwrap_or(now);
        let start = number("startTime").unwrap_or(end - span_days * DAY_MS);
        if end < start || end - start > span_days * DAY_MS {
            return error(200, 10001, &format!("params error: the time range must be within {span_days} days"));
        }
        let limit = number("limit").unwrap_or(20).clamp(1, 50) as usize;
        let offset = params.get("cursor").and_then(|c| c.trim_end_matches('=').parse::<usize>().ok()).unwrap_or(0);
        let within: Vec<usize> =
            (0..times.len()).rev().filter(|i| times[*i] >= start && times[*i] <= end && times[*i] >= floor).collect();
        let page: Vec<serde_json::Value> = within.iter().skip(offset).take(limit).map(|i| render(*i)).collect();
        let next = if offset + limit < within.len() { format!("{}==", offset + limit) } else { String::new() };
        ok(json!({ field: page, "nextPageCursor": next }))
    }

    fn answer(&self, endpoint: Endpoint, params: &BTreeMap<String, String>) -> Response {
        let now = now_ms();
        let g = self.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let movements =
            |stream: &str| -> Vec<&Movement> { g.movements.iter().filter(|m| m.stream == stream).collect() };
        let walk = |stream: &str, span_days: i64, field: &str| {
            let list = movements(stream);
            let times: Vec<i64> = list.iter().map(|m| m.time_ms).collect();
            self.window(params, span_days, &times, |i| movement_json(list[i]), field, 0)
        };
        match endpoint {
            Endpoint::ApiKey => {
                let read_write = self.config.key_may_withdraw;
                let wallet: Vec<&str> = if read_write { vec!["AccountTransfer", "Withdraw"] } else { vec![] };
                ok(json!({
                    "id": "13770661", "note": "cointally", "apiKey": self.config.key.api_key,
                    "readOnly": if read_write { 0 } else { 1 }, "secret": "",
                    "permissions": { "ContractTrade": [], "Spot": [], "Wallet": wallet, "Options": [],
                        "Derivatives": [], "Exchange": [], "Earn": if self.config.earn_permission { vec!["Earn"] } else { vec![] }, "NFT": [], "BlockTrade": [], "Affiliate": [], "CopyTrading": [] },
                    "ips": ["*"], "type": 1, "deadlineDay": 83, "uta": if self.config.unified { 1 } else { 0 },
                    "userID": 24617703, "inviterID": 0, "vipLevel": "No VIP", "isMaster": true
                }))
            }
            Endpoint::WalletBalance => {
                // A unified account's wallet is `UNIFIED`; a classic account's are `SPOT` and
                // `CONTRACT` (<https://bybit-exchange.github.io/docs/v5/account/wallet-balance>).
                let wallet = g.trading();
                let asked = params.get("accountType").map(String::as_str).unwrap_or_default();
                match asked {
                    _ if asked == wallet => {
                        ok(json!({ "list": [{ "accountType": wallet, "coin": balances(&g, wallet) }] }))
                    }
                    "CONTRACT" if !self.config.unified => {
                        ok(json!({ "list": [{ "accountType": "CONTRACT", "coin": [] }] }))
                    }
                    _ if self.config.unified => error(200, 10001, "accountType only support UNIFIED"),
                    _ => error(200, 10001, "accountType only support SPOT, CONTRACT"),
                }
            }
            Endpoint::FundBalance => {
                ok(json!({ "accountType": "FUND", "bizType": 1, "balance": balances(&g, "FUND") }))
            }
            Endpoint::TransactionLog if !self.config.unified => error(200, 10001, "accountType only support UNIFIED"),
            Endpoint::TransactionLog => {
                let times: Vec<i64> = g.log.iter().map(|e| e.time_ms).collect();
                self.window(params, 7, &times, |i| log_json(&g.log[i]), "list", now - 730 * DAY_MS)
            }
            Endpoint::Executions if params.get("category").map(String::as_str) != Some("spot") => {
                error(200, 10001, "params error: category")
            }
            Endpoint::Executions => {
                let times: Vec<i64> = g.fills.iter().map(|f| f.time_ms).collect();
                self.window(params, 7, &times, |i| fill_json(&g.fills[i]), "list", now - 730 * DAY_MS)
            }
            Endpoint::Deposits => walk("deposits", 30, "rows"),
            Endpoint::Withdrawals => walk("withdrawals", 30, "rows"),
            Endpoint::Transfers => walk("transfers", 7, "list"),
            _ if endpoint.is_earn() && !self.config.earn_permission => {
                error(200, 10005, "Permission denied, please check your API key permissions.")
            }
            Endpoint::EarnOrders | Endpoint::EarnPositions | Endpoint::EarnYields
                if !matches!(
                    params.get("category").map(String::as_str),
                    Some(history::FLEXIBLE | history::ONCHAIN)
                ) =>
            {
                error(200, 10001, "params error: category")
            }
            Endpoint::EarnOrders => {
                let category = params.get("category").map(String::as_str).unwrap_or_default();
                let list: Vec<&EarnOrder> = g.earn_orders.iter().filter(|o| o.category == category).collect();
                let times: Vec<i64> = list.iter().map(|o| o.time_ms).collect();
                self.window(params, 7, &times, |i| earn_order_json(list[i]), "list", 0)
            }
            Endpoint::EarnYields
                if !self.config.onchain_yields
                    && params.get("category").map(String::as_str) == Some(history::ONCHAIN) =>
            {
                error(200, 10001, "params error: category")
            }
            Endpoint::EarnYields => {
                // The list under `yield`, as the page's example answer has it (its table says `list`).
                let category = params.get("category").map(String::as_str).unwrap_or_default();
                let list: Vec<&EarnYield> = g.earn_yields.iter().filter(|y| y.category == category).collect();
                let times: Vec<i64> = list.iter().map(|y| y.time_ms).collect();
                self.window(params, 7, &times, |i| earn_yield_json(list[i]), "yield", 0)
            }
            Endpoint::EarnPositions => {
                // A flexible position fully redeemed is still listed; an on-chain one is not.
                let category = params.get("category").map(String::as_str).unwrap_or_default();
                let flexible = category == history::FLEXIBLE;
                let list: Vec<serde_json::Value> = g
                    .positions
                    .iter()
                    .filter(|((c, _), v)| *c == category && (flexible || !v.is_zero()))
                    .map(|((c, coin), v)| {
                        let id = if flexible { String::new() } else { format!("pos-{coin}") };
                        let pending =
                            g.earn_orders.iter().any(|o| o.category == *c && o.coin == *coin && o.status == "Pending");
                        let status = match (flexible, pending) {
                            (true, _) => "",
                            (false, true) => "Processing",
                            (false, false) => "Active",
                        };
                        json!({
                            "coin": coin, "productId": history::product(c, coin), "amount": text(*v),
                            "totalPnl": "", "claimableYield": if flexible { "0" } else { "" }, "id": id,
                            "status": status, "orderId": "", "estimateRedeemTime": "", "estimateStakeTime": "",
                            "estimateInterestCalculationTime": "", "settlementTime": ""
                        })
                    })
                    .collect();
                ok(json!({ "list": list }))
            }
            Endpoint::Converts => {
                // Newest first, by offset cursor; no time range (Bybit's takes none).
                let number = |name: &str| params.get(name).and_then(|v| v.parse::<usize>().ok());
                let limit = number("limit").unwrap_or(10).clamp(1, 50);
                let offset =
                    params.get("cursor").and_then(|c| c.trim_end_matches('=').parse::<usize>().ok()).unwrap_or(0);
                let page: Vec<serde_json::Value> =
                    g.conversions.iter().rev().skip(offset).take(limit).map(conversion_json).collect();
                let next =
                    if offset + limit < g.conversions.len() { format!("{}==", offset + limit) } else { String::new() };
                ok(json!({ "orderBody": page, "nextPageCursor": next }))
            }
        }
    }
}

impl Handler for State {
    fn handle(&self, request: &Request) -> Response {
        let now = now_ms();
        self.count(|s| *s.requests_by_path.entry(request.path.clone()).or_default() += 1);
        let Some(endpoint) = Endpoint::from_path(&request.path) else {
            return error(404, 10001, "path not found");
        };
        if request.method != "GET" {
            return error(200, 10001, "method not allowed");
        }
        if let Err(refused) = self.authenticate(request) {
            return refused;
        }
        if !self.admit(endpoint, now) {
            self.count(|s| s.rate_limited += 1);
            return error(200, 10006, "Too many visits!")
                .with_header("X-Bapi-Limit-Reset-Timestamp", (now + 200).to_string());
        }
        let params: BTreeMap<String, String> = decode_pairs(&request.query).into_iter().collect();
        self.answer(endpoint, &params)
    }

    fn error_response(&self, status: u16, _request: &Request) -> Response {
        if status == 429 {
            return error(429, 10006, "Too many visits!");
        }
        error(status, 10016, "Internal server error (injected fault)")
    }
}
