//! A local KuCoin: the authenticated endpoints a history import uses, served over real HTTP.
//!
//! [`start`] generates the person's KuCoin account ([`history`], on the shared market of
//! [`crate::sim::generate`]) and serves it on `127.0.0.1`: `GET /api/v1/accounts/ledgers`
//! (`startAt`, `endAt` inclusive and at most a week apart, `currentPage`, `pageSize` 10 to
//! 500, newest first; the main, trade and margin accounts), `GET /api/v1/hf/accounts/ledgers`
//! (the `TRADE_HF` account: `startAt`..`endAt` cut to its last three days, `lastId`, `limit` up
//! to 200, newest first), `GET /api/v3/hf/margin/account/ledgers` (the `MARGIN_V2` account,
//! paged and limited alike), `GET /api/v3/margin/accounts` (`queryType=MARGIN_V2`: its total
//! assets and liabilities, as KuCoin's example shapes them) and `GET /api/v3/isolated/accounts`
//! (no isolated margin: an empty list), `GET /api/v1/deposits` and `GET /api/v1/withdrawals` (crypto
//! deposits and withdrawals with hash, address and chain, paged like the ledger; the v1
//! `hist-` lists, paged alike, empty),
//! `GET /api/v1/accounts` and `GET /api/v1/user/api-key`, with the v2
//! authentication checked ([`super::auth`]: the key, the signed passphrase, the signature over
//! timestamp + method + path?query, a timestamp within 5 s), KuCoin's `{"code", "msg"}` errors,
//! the Management and Spot pools' weights counted over any sliding window (429 `429000` when
//! over it), and
//! the server's injected faults. [`KucoinSim::balances`] says what a complete import must end
//! with; [`KucoinSim::add_trades`] and [`KucoinSim::insert`] add entries between syncs.

pub mod history;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use rust_decimal::Decimal;

use self::history::{Entry, Generator, KucoinProfile, ListItem, MARGIN_HF_ACCOUNT};
use super::adapter::{HF_WINDOW_MS, WINDOW_MS};
use super::api::{Endpoint, POOL, spot_budget};
use super::auth;
use crate::Secret;
use crate::http::budget::WindowBudget;
use crate::http::decode_pairs;
use crate::sim::faults::FaultConfig;
use crate::sim::generate::{Market, Profile, generate};
use crate::sim::now_ms;
use crate::sim::server::{Handler, Request, Response, Server};

/// The one key the simulator accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct SimKey {
    /// The API key (`KC-API-KEY`).
    pub api_key: String,
    /// The API secret.
    pub secret: String,
    /// The passphrase chosen when the key was made.
    pub passphrase: String,
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
            api_key: "6571a1e7cointallysimkucoin".to_owned(),
            secret: "cointally-simulated-kucoin-secret-00000000".to_owned(),
            passphrase: "cointally-sim-passphrase".to_owned(),
        }
    }
}

/// Everything that shapes a simulator run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of the market and the history.
    pub seed: u64,
    /// Size of the history.
    pub profile: KucoinProfile,
    /// The Management pool's quota; `None`: unmetered.
    pub budget: Option<WindowBudget>,
    /// Injected faults.
    pub faults: Option<FaultConfig>,
    /// The accepted key.
    pub key: SimKey,
    /// The key's `permission` list (`General` only: read-only).
    pub permissions: String,
    /// Port on 127.0.0.1 (0: any).
    pub port: u16,
}

impl SimConfig {
    /// The demo account: demo profile, KuCoin's VIP 0 quota, demo key (read-only).
    pub fn demo(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            profile: KucoinProfile::demo(),
            budget: Some(super::api::DEFAULT_BUDGET),
            faults: None,
            key: SimKey::demo(),
            permissions: "General".to_owned(),
            port: 0,
        }
    }
}

pub use crate::sim::stats::SimStats;

struct State {
    key: SimKey,
    permissions: String,
    generator: Mutex<Generator>,
    market: Market,
    /// The quota (`None`: unmetered); tests may lift it ([`KucoinSim::set_budget`]).
    budget: Mutex<Option<WindowBudget>>,
    /// (time, weight) of the admitted requests within the last window, per pool.
    recent: Mutex<BTreeMap<&'static str, VecDeque<(i64, u64)>>>,
    stats: Mutex<SimStats>,
}

/// A running KuCoin simulator; stops on drop.
pub struct KucoinSim {
    server: Server,
    state: Arc<State>,
}

impl std::fmt::Debug for KucoinSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KucoinSim").field("addr", &self.server.base_url()).finish_non_exhaustive()
    }
}

/// Generates the account of `config` and starts serving it.
pub fn start(config: SimConfig) -> io::Result<KucoinSim> {
    let market_profile =
        Profile { start_ms: config.profile.start_ms, end_ms: config.profile.end_ms, trades: 0, ..Profile::demo() };
    let world = generate(config.seed, &market_profile);
    let generator = Generator::generate(config.seed, &world.market, &config.profile);
    let state = Arc::new(State {
        key: config.key,
        permissions: config.permissions,
        generator: Mutex::new(generator),
        market: world.market,
        budget: Mutex::new(config.budget),
        recent: Mutex::new(BTreeMap::new()),
        stats: Mutex::new(SimStats::default()),
    });
    let server = Server::start(config.port, Arc::clone(&state) as Arc<dyn Handler>, config.faults)?;
    Ok(KucoinSim { server, state })
}

impl KucoinSim {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The Management pool's quota a client should pace itself with (`None`: unmetered).
    pub fn budget(&self) -> Option<WindowBudget> {
        *self.state.budget.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the quota from the next request on (`None`: unmetered): a test whose paced part
    /// is over finishes at full speed.
    pub fn set_budget(&self, budget: Option<WindowBudget>) {
        *self.state.budget.lock().unwrap_or_else(PoisonError::into_inner) = budget;
    }

    /// Balances by currency, every account added up, as `accounts` reports them (zeros left out).
    pub fn balances(&self) -> BTreeMap<String, Decimal> {
        let generator = self.state.generator.lock().unwrap_or_else(PoisonError::into_inner);
        generator
            .balances()
            .into_iter()
            .filter(|(_, amount)| !amount.is_zero())
            .map(|(code, amount)| (code, amount.normalize()))
            .collect()
    }

    /// What the margin account owes per currency (zeros left out).
    pub fn liabilities(&self) -> BTreeMap<String, Decimal> {
        let generator = self.state.generator.lock().unwrap_or_else(PoisonError::into_inner);
        generator
            .liabilities()
            .iter()
            .filter(|(_, amount)| !amount.is_zero())
            .map(|(code, amount)| (code.clone(), amount.normalize()))
            .collect()
    }

    /// Every entry served, oldest first.
    pub fn entries(&self) -> Vec<Entry> {
        self.state.generator.lock().unwrap_or_else(PoisonError::into_inner).entries.clone()
    }

    /// The deposit and withdrawal lists' items, oldest first in each.
    pub fn movements(&self) -> (Vec<ListItem>, Vec<ListItem>) {
        let generator = self.state.generator.lock().unwrap_or_else(PoisonError::into_inner);
        (generator.deposits.clone(), generator.withdrawals.clone())
    }

    /// Adds `count` trades in the last minute (after every other entry, none in the future);
    /// returns how many were added.
    pub fn add_trades(&self, count: usize) -> usize {
        let mut generator = self.state.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let at = (generator.entries.last().map_or(0, |e| e.time_ms) + 1).max(now_ms() - 50_000);
        generator.add_trades(&self.state.market, count, at)
    }

    /// Adds `count` margin trades (the `MARGIN_V2` account's ledger) in the last minute, after
    /// every other entry; returns how many were added.
    pub fn add_margin_trades(&self, count: usize) -> usize {
        let mut generator = self.state.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let at = (generator.entries.last().map_or(0, |e| e.time_ms) + 1).max(now_ms() - 50_000);
        generator.add_margin_trades(&self.state.market, count, at)
    }

    /// Adds an incoming entry of `amount` `currency` with `biz_type` to the margin HF ledger
    /// (the `MARGIN_V2` account); returns its id.
    pub fn insert_margin_hf(&self, currency: &str, amount: Decimal, biz_type: &'static str) -> String {
        let mut generator = self.state.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let at = generator.entries.last().map_or(0, |e| e.time_ms) + 60_000;
        generator.insert_margin_hf(currency, amount, biz_type, at)
    }

    /// Adds an incoming entry of `amount` `currency` with `biz_type` (one cointally may not
    /// know); returns its id.
    pub fn insert(&self, currency: &str, amount: Decimal, biz_type: &'static str) -> String {
        let mut generator = self.state.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let at = generator.entries.last().map_or(0, |e| e.time_ms) + 60_000;
        generator.insert(currency, amount, biz_type, at)
    }

    /// Requests, refusals and faults so far.
    pub fn stats(&self) -> SimStats {
        self.state.stats.lock().unwrap_or_else(PoisonError::into_inner).clone().with_server_counts(&self.server)
    }
}

/// KuCoin's error answer.
fn error(status: u16, code: &str, message: &str) -> Response {
    Response::json_value(status, &serde_json::json!({ "code": code, "msg": message }))
}

/// A page of `items` (oldest first by `time_of`; those `keep` accepts) as the account ledger
/// and the deposit and withdrawal lists answer: `startAt`..`endAt` inclusive and at most a week
/// apart, `currentPage`, `pageSize` 10 to 500, newest first. The week is found by binary search
/// and only the page's items are written as JSON, so a call costs what its page holds, not what
/// the whole history holds (writing every entry per call made the simulator, not the client,
/// the bulk of the benchmark's time).
fn paged<T>(
    query: &str,
    items: &[T],
    time_of: impl Fn(&T) -> i64,
    keep: impl Fn(&T) -> bool,
    json: impl Fn(&T) -> String,
) -> Response {
    let params: BTreeMap<String, String> = decode_pairs(query).into_iter().collect();
    let number = |name: &str| params.get(name).map(|v| v.parse::<i64>());
    let (start, end) = match (number("startAt"), number("endAt")) {
        (Some(Ok(start)), Some(Ok(end))) => (start, end),
        (None, None) => (now_ms() - WINDOW_MS, now_ms()),
        _ => return error(400, "400100", "startAt or endAt invalid"),
    };
    if end < start || end - start > WINDOW_MS {
        return error(400, "400100", "the query time range cannot exceed 7 days");
    }
    let page = match number("currentPage") {
        None => 1,
        Some(Ok(page)) if page >= 1 => page as usize,
        _ => return error(400, "400100", "currentPage invalid"),
    };
    let size = match number("pageSize") {
        None => 50,
        Some(Ok(size @ 10..=500)) => size as usize,
        _ => return error(400, "400100", "pageSize invalid"),
    };
    let matching: Vec<&T> = in_range(items, &time_of, start, end).iter().rev().filter(|item| keep(item)).collect();
    let total = matching.len();
    let page_items: Vec<String> =
        matching.iter().skip((page - 1).saturating_mul(size)).take(size).map(|item| json(item)).collect();
    ok(&format!(
        r#"{{"currentPage":{page},"pageSize":{size},"totalNum":{total},"totalPage":{},"items":[{}]}}"#,
        total.div_ceil(size),
        page_items.join(",")
    ))
}

/// The items of `items` (oldest first by `time_of`) from `start` to `end` inclusive.
fn in_range<T>(items: &[T], time_of: impl Fn(&T) -> i64, start: i64, end: i64) -> &[T] {
    let from = items.partition_point(|item| time_of(item) < start);
    let to = items.partition_point(|item| time_of(item) <= end).max(from);
    &items[from..to]
}

/// KuCoin's success answer around `data` (JSON text).
fn ok(data: &str) -> Response {
    Response::json(200, format!(r#"{{"code":"200000","data":{data}}}"#))
}

impl State {
    fn count(&self, update: impl FnOnce(&mut SimStats)) {
        update(&mut self.stats.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Counts `endpoint`'s weight in its pool at `now`, or says in how many ms the pool has room
    /// again. The Spot pool's quota is twice the Management pool's, as at VIP 0.
    fn admit(&self, endpoint: Endpoint, now: i64) -> Result<(), i64> {
        let Some(budget) = *self.budget.lock().unwrap_or_else(PoisonError::into_inner) else { return Ok(()) };
        let budget = if endpoint.pool() == POOL { budget } else { spot_budget(budget) };
        let weight = endpoint.weight();
        let window_ms = i64::try_from(budget.window_seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
        let mut pools = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        let recent = pools.entry(endpoint.pool()).or_default();
        while recent.front().is_some_and(|(at, _)| *at <= now - window_ms) {
            recent.pop_front();
        }
        let used: u64 = recent.iter().map(|(_, weight)| weight).sum();
        if used + weight > budget.limit {
            return Err(recent.front().map_or(window_ms, |(at, _)| at + window_ms - now).max(1));
        }
        recent.push_back((now, weight));
        Ok(())
    }

    /// Checks the `KC-API-` headers; the error answer when they fail.
    fn authenticate(&self, request: &Request, now: i64) -> Result<(), Response> {
        let refuse = |code: &str, message: &str| {
            self.count(|s| s.refused += 1);
            Err(error(401, code, message))
        };
        let header = |name: &str| request.header(name).unwrap_or_default();
        if header("KC-API-KEY") != self.key.api_key {
            return refuse("400003", "KC-API-KEY not exists");
        }
        let secret = Secret::new(self.key.secret.clone());
        if header("KC-API-KEY-VERSION") != auth::KEY_VERSION
            || header("KC-API-PASSPHRASE")
                != auth::signed_passphrase(&secret, &Secret::new(self.key.passphrase.clone()))
        {
            return refuse("400004", "Invalid KC-API-PASSPHRASE");
        }
        let timestamp = header("KC-API-TIMESTAMP");
        if timestamp.parse::<i64>().map_or(true, |ms| (ms - now).abs() > 5_000) {
            return refuse("400002", "KC-API-TIMESTAMP Invalid");
        }
        let endpoint =
            if request.query.is_empty() { request.path.clone() } else { format!("{}?{}", request.path, request.query) };
        if auth::signature(&secret, timestamp, &request.method, &endpoint, &request.body_text())
            != header("KC-API-SIGN")
        {
            return refuse("400005", "Invalid KC-API-SIGN");
        }
        Ok(())
    }

    fn ledgers(&self, query: &str) -> Response {
        let generator = self.generator.lock().unwrap_or_else(PoisonError::into_inner);
        paged(query, &generator.entries, |e| e.time_ms, |e| !e.is_hf() && !e.is_margin_hf(), Entry::json)
    }

    /// The deposit list, or the withdrawal list.
    fn list(&self, query: &str, withdrawals: bool) -> Response {
        let generator = self.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let list = if withdrawals { &generator.withdrawals } else { &generator.deposits };
        paged(query, list, |item| item.time_ms, |_| true, ListItem::json)
    }

    /// The HF ledger: `startAt`..`endAt` (a range wider than three days cut to its last three,
    /// as KuCoin documents), newest first by time and id, `limit` 1 to 200 (100 when not given),
    /// the ids below `lastId`; the entries `keep` accepts (the trade or the margin HF ledger's).
    fn hf_ledgers(&self, query: &str, keep: impl Fn(&Entry) -> bool) -> Response {
        let params: BTreeMap<String, String> = decode_pairs(query).into_iter().collect();
        let number = |name: &str| params.get(name).map(|v| v.parse::<i64>());
        let end = match number("endAt") {
            None => now_ms(),
            Some(Ok(end)) => end,
            Some(Err(_)) => return error(400, "400100", "endAt invalid"),
        };
        let start = match number("startAt") {
            None => end - HF_WINDOW_MS,
            Some(Ok(start)) => start.max(end - HF_WINDOW_MS),
            Some(Err(_)) => return error(400, "400100", "startAt invalid"),
        };
        let limit = match number("limit") {
            None => 100,
            Some(Ok(limit @ 1..=200)) => limit as usize,
            _ => return error(400, "400100", "limit invalid"),
        };
        let last_id = match params.get("lastId").map(|v| v.parse::<u64>()) {
            None => u64::MAX,
            Some(Ok(id)) => id,
            Some(Err(_)) => return error(400, "400100", "lastId invalid"),
        };
        let generator = self.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let mut matching: Vec<(i64, u64, &Entry)> = in_range(&generator.entries, |e| e.time_ms, start, end)
            .iter()
            .filter(|e| keep(e))
            .filter_map(|e| e.id.parse::<u64>().ok().filter(|id| *id < last_id).map(|id| (e.time_ms, id, e)))
            .collect();
        matching.sort_by_key(|(time_ms, id, _)| std::cmp::Reverse((*time_ms, *id)));
        let items: Vec<String> = matching.iter().take(limit).map(|(_, _, e)| e.json()).collect();
        ok(&format!("[{}]", items.join(",")))
    }

    fn accounts(&self) -> Response {
        let generator = self.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let rows: Vec<serde_json::Value> = generator
            .accounts()
            .iter()
            // The HF margin account is not listed here but by the margin endpoints.
            .filter(|((account, _), _)| *account != MARGIN_HF_ACCOUNT)
            .enumerate()
            .map(|(n, ((account, code), amount))| {
                let amount = amount.normalize().to_string();
                serde_json::json!({
                    "id": format!("5bd6e9286d99522a52e458{n:02x}"),
                    "currency": code,
                    "type": account.to_ascii_lowercase(),
                    "balance": amount,
                    "available": amount,
                    "holds": "0",
                })
            })
            .collect();
        ok(&serde_json::Value::from(rows).to_string())
    }

    /// The cross margin balances as the documented example shapes them (`items[].assets[]`,
    /// `totalAsset` and `borrowed`): the `MARGIN_V2` account's when `queryType` asks for it
    /// (`MARGIN_V2` or `ALL`), none for the default low-frequency `MARGIN`.
    fn margin_accounts(&self, query: &str) -> Response {
        let params: BTreeMap<String, String> = decode_pairs(query).into_iter().collect();
        let wanted = matches!(params.get("queryType").map(String::as_str), Some("MARGIN_V2" | "ALL"));
        let generator = self.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let assets: Vec<serde_json::Value> = generator
            .accounts()
            .iter()
            .filter(|((account, _), _)| wanted && *account == MARGIN_HF_ACCOUNT)
            .map(|((_, code), amount)| {
                let owed = generator.liabilities().get(code).copied().unwrap_or_default();
                serde_json::json!({
                    "currency": code,
                    "borrowEnabled": true,
                    "repayEnabled": true,
                    "transferEnabled": true,
                    "borrowed": owed.normalize().to_string(),
                    "totalAsset": amount.normalize().to_string(),
                    "available": amount.normalize().to_string(),
                    "hold": "0",
                    "maxBorrowSize": "0",
                })
            })
            .collect();
        ok(&serde_json::json!({
            "timestamp": now_ms(),
            "currentPage": 1,
            "pageSize": 100,
            "totalNum": 1,
            "totalPage": 1,
            "items": [{ "debtRatio": "0", "status": "EFFECTIVE", "assets": assets }],
        })
        .to_string())
    }

    fn api_key(&self) -> Response {
        ok(&serde_json::json!({
            "remark": "cointally simulator",
            "apiKey": "[the key]",
            "apiVersion": 2,
            "permission": self.permissions,
            "ipWhitelist": "",
            "isMaster": true,
            "createdAt": 1_704_067_200_000_i64,
        })
        .to_string())
    }
}

impl Handler for State {
    fn handle(&self, request: &Request) -> Response {
        let now = now_ms();
        self.count(|s| *s.requests_by_path.entry(request.path.clone()).or_default() += 1);
        let Some(endpoint) = Endpoint::from_path(&request.path) else {
            return error(404, "404000", "Not Found");
        };
        if request.method != "GET" {
            return error(405, "405000", "Method Not Allowed");
        }
        if let Err(reset_ms) = self.admit(endpoint, now) {
            self.count(|s| s.rate_limited += 1);
            return error(429, "429000", "Too Many Requests").with_header("gw-ratelimit-reset", reset_ms.to_string());
        }
        if let Err(refused) = self.authenticate(request, now) {
            return refused;
        }
        match endpoint {
            Endpoint::Ledgers => self.ledgers(&request.query),
            Endpoint::HfLedgers => self.hf_ledgers(&request.query, Entry::is_hf),
            Endpoint::MarginHfLedgers => self.hf_ledgers(&request.query, Entry::is_margin_hf),
            Endpoint::MarginAccounts => self.margin_accounts(&request.query),
            // The simulated person has no isolated margin account.
            Endpoint::IsolatedAccounts => ok("[]"),
            Endpoint::Deposits => self.list(&request.query, false),
            Endpoint::Withdrawals => self.list(&request.query, true),
            // The simulated account was opened after API v2 began: the v1 lists are empty.
            Endpoint::HistDeposits | Endpoint::HistWithdrawals => {
                paged(&request.query, &[] as &[ListItem], |item| item.time_ms, |_| true, ListItem::json)
            }
            Endpoint::Accounts => self.accounts(),
            Endpoint::ApiKey => self.api_key(),
        }
    }

    fn error_response(&self, status: u16, _request: &Request) -> Response {
        if status == 429 {
            return error(429, "429000", "Too Many Requests");
        }
        error(status, "500000", "Internal Server Error (injected fault)")
    }
}
