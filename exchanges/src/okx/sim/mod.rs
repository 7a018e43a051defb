//! A local OKX: the private endpoints a history import uses, served over real HTTP.
//!
//! [`start`] generates the person's OKX account ([`history`], on the shared market of
//! [`crate::sim::generate`]) and serves it on `127.0.0.1`: `GET /api/v5/account/bills-archive`
//! (`after` = a bill id, `limit` up to 100, newest first), `GET /api/v5/asset/bills` (`after` =
//! a time in ms), `GET /api/v5/asset/deposit-history` and `GET /api/v5/asset/withdrawal-history`
//! (`after` = a time in ms, or one record by `depId`/`wdId`; a record made of each crypto deposit
//! and withdrawal bill, [`history::Transfer`]), `GET /api/v5/finance/savings/lending-history`
//! (Simple Earn Flexible's hourly earnings, [`history::Earning`]: `ccy`, `after` / `before` = a
//! time in ms, strictly earlier / later, `limit` up to 100, newest first),
//! `GET /api/v5/finance/savings/balance` (the open positions' `amt`, `earnings`, `rate`),
//! `GET /api/v5/account/balance`, `GET /api/v5/asset/balances`,
//! `GET /api/v5/account/config` (the key's `perm`) and `GET /api/v5/public/time`, with the v5
//! authentication checked ([`super::auth`]: key, passphrase, a timestamp within 30 s, the
//! signature over timestamp + `GET` + path and query), OKX's error answers
//! (`{"code": "50113", "msg": "Invalid Sign", "data": []}` with HTTP 401), each endpoint's
//! limit counted in fixed windows (429 with code `50011` when over it), and the server's
//! injected faults. [`OkxSim::balances`] says what a complete import must end with;
//! [`OkxSim::add_trades`], [`OkxSim::insert`], [`OkxSim::subscribe`] and [`OkxSim::redeem`] add
//! bills (and earnings) between syncs.

pub mod history;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use rust_decimal::Decimal;

use self::history::{Bill, Book, Earning, Generator, OkxProfile, Savings, Transfer};
use super::api::{Budget, Endpoint};
use super::auth;
use crate::Secret;
use crate::http::decode_pairs;
use crate::sim::counters::FixedWindow;
use crate::sim::faults::FaultConfig;
use crate::sim::generate::{Market, Profile, generate};
use crate::sim::server::{Handler, Request, Response, Server};
pub use crate::sim::stats::SimStats;
use crate::sim::{amounts, now_ms};

/// The one key the simulator accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct SimKey {
    /// The API key (`OK-ACCESS-KEY`).
    pub api_key: String,
    /// The secret key.
    pub secret: String,
    /// The passphrase.
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
            api_key: "c0174a11-5157-4f3e-9d1a-0c0ffee0beef".to_owned(),
            secret: "C0174A11SIMULATEDOKXSECRET000000".to_owned(),
            passphrase: "Cointally-sim-1".to_owned(),
        }
    }
}

/// Everything that shapes a simulator run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of the market and the history.
    pub seed: u64,
    /// Size of the history.
    pub profile: OkxProfile,
    /// Every endpoint's limit; `None`: each its documented one. Unmetered when `metered` is false.
    pub budget: Option<Budget>,
    /// Whether limits are enforced at all.
    pub metered: bool,
    /// Injected faults.
    pub faults: Option<FaultConfig>,
    /// The accepted key.
    pub key: SimKey,
    /// Whether the key may withdraw (`perm` in `account/config`).
    pub key_may_withdraw: bool,
    /// The error code both Simple Earn Flexible endpoints answer (an account OKX gives no
    /// Simple Earn, such as a sub-account: `51735`), or `None`.
    pub savings_refused: Option<&'static str>,
    /// Port on 127.0.0.1 (0: any).
    pub port: u16,
}

impl SimConfig {
    /// The demo account: demo profile, OKX's limits, demo key (read-only).
    pub fn demo(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            profile: OkxProfile::demo(),
            budget: None,
            metered: true,
            faults: None,
            key: SimKey::demo(),
            key_may_withdraw: false,
            savings_refused: None,
            port: 0,
        }
    }
}

struct State {
    key: SimKey,
    secret: Secret,
    key_may_withdraw: bool,
    savings_refused: Option<&'static str>,
    generator: Mutex<Generator>,
    market: Market,
    budget: Option<Budget>,
    metered: bool,
    windows: Mutex<BTreeMap<Endpoint, FixedWindow>>,
    stats: Mutex<SimStats>,
    /// States given to deposits and withdrawals (by `depId`/`wdId`) other than the final one.
    states: Mutex<BTreeMap<u64, &'static str>>,
}

/// A running OKX simulator; stops on drop.
pub struct OkxSim {
    server: Server,
    state: Arc<State>,
}

impl std::fmt::Debug for OkxSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OkxSim").field("addr", &self.server.base_url()).finish_non_exhaustive()
    }
}

/// Generates the account of `config` and starts serving it.
pub fn start(config: SimConfig) -> io::Result<OkxSim> {
    let market_profile =
        Profile { start_ms: config.profile.start_ms, end_ms: config.profile.end_ms, trades: 0, ..Profile::demo() };
    let world = generate(config.seed, &market_profile);
    let generator = Generator::generate(config.seed, &world.market, &config.profile);
    let state = Arc::new(State {
        secret: Secret::new(config.key.secret.clone()),
        key: config.key,
        key_may_withdraw: config.key_may_withdraw,
        savings_refused: config.savings_refused,
        generator: Mutex::new(generator),
        market: world.market,
        budget: config.budget,
        metered: config.metered,
        windows: Mutex::new(BTreeMap::new()),
        stats: Mutex::new(SimStats::default()),
        states: Mutex::new(BTreeMap::new()),
    });
    let server = Server::start(config.port, Arc::clone(&state) as Arc<dyn Handler>, config.faults)?;
    Ok(OkxSim { server, state })
}

impl OkxSim {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The limit a client should pace every endpoint with: `None` when unmetered or when each
    /// endpoint has its documented limit.
    pub fn budget(&self) -> Option<Budget> {
        self.state.budget
    }

    /// Balances by currency, both accounts added up, as the two balance endpoints report them
    /// (zeros left out).
    pub fn balances(&self) -> BTreeMap<String, Decimal> {
        let generator = self.state.generator.lock().unwrap_or_else(PoisonError::into_inner);
        amounts::reported_balances(generator.balances())
    }

    /// Every bill served, oldest first.
    pub fn bills(&self) -> Vec<Bill> {
        self.state.generator.lock().unwrap_or_else(PoisonError::into_inner).bills.clone()
    }

    /// The deposit and withdrawal histories' records, oldest first.
    pub fn transfers(&self) -> Vec<Transfer> {
        self.state.generator.lock().unwrap_or_else(PoisonError::into_inner).transfers()
    }

    /// Simple Earn Flexible's lending history, oldest first.
    pub fn lending(&self) -> Vec<Earning> {
        self.state.generator.lock().unwrap_or_else(PoisonError::into_inner).lending.clone()
    }

    /// The open Simple Earn Flexible positions by currency.
    pub fn savings(&self) -> BTreeMap<String, Savings> {
        self.state.generator.lock().unwrap_or_else(PoisonError::into_inner).savings.clone()
    }

    /// Puts `amount` of `ccy` in Simple Earn Flexible now and lets it earn `hours` hours (it
    /// stays open); the subscription's bill id, or `None` (too little in the funding account, or
    /// a position already open).
    pub fn subscribe(&self, ccy: &str, amount: Decimal, hours: i64) -> Option<u64> {
        self.state.generator.lock().unwrap_or_else(PoisonError::into_inner).subscribe(ccy, amount, hours)
    }

    /// Takes the whole position of `ccy`, earnings included, back to the funding account: the
    /// redemption's bill id and amount.
    pub fn redeem(&self, ccy: &str) -> Option<(u64, Decimal)> {
        self.state.generator.lock().unwrap_or_else(PoisonError::into_inner).redeem(ccy)
    }

    /// Gives the deposit or withdrawal `id` the `state` OKX would show (`"1"`: a withdrawal
    /// broadcasting); `None` gives it back its final state.
    pub fn set_transfer_state(&self, id: u64, state: Option<&'static str>) {
        let mut states = self.state.states.lock().unwrap_or_else(PoisonError::into_inner);
        match state {
            Some(state) => states.insert(id, state),
            None => states.remove(&id),
        };
    }

    /// Adds `count` trades now; returns how many were added.
    pub fn add_trades(&self, count: usize) -> usize {
        let mut generator = self.state.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let at = generator.bills.last().map_or(0, |b| b.ts) + 60_000;
        generator.add_trades(&self.state.market, count, at)
    }

    /// Adds a funding bill of `amount` `ccy` with bill type `kind`; returns its id.
    pub fn insert(&self, ccy: &str, amount: Decimal, kind: &'static str) -> u64 {
        let mut generator = self.state.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let at = generator.bills.last().map_or(0, |b| b.ts) + 60_000;
        generator.insert(ccy, amount, kind, at)
    }

    /// Requests, refusals and faults so far.
    pub fn stats(&self) -> SimStats {
        self.state.stats.lock().unwrap_or_else(PoisonError::into_inner).clone().with_server_counts(&self.server)
    }
}

/// OKX's error answer.
fn error(status: u16, code: &str, message: &str) -> Response {
    Response::json_value(status, &serde_json::json!({ "code": code, "msg": message, "data": [] }))
}

/// OKX's success answer around `data`.
fn ok(data: Vec<serde_json::Value>) -> Response {
    Response::json_value(200, &serde_json::json!({ "code": "0", "msg": "", "data": data }))
}

impl State {
    fn count(&self, update: impl FnOnce(&mut SimStats)) {
        update(&mut self.stats.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Counts one request to `endpoint` at `now`, or says its window is spent.
    fn admit(&self, endpoint: Endpoint, now: i64) -> bool {
        if !self.metered {
            return true;
        }
        let budget = self.budget.unwrap_or(endpoint.budget());
        let window_ms = i64::try_from(budget.window_seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let window = windows.entry(endpoint).or_insert_with(|| FixedWindow::new(budget.limit, window_ms));
        window.roll(now);
        if !window.fits(1) {
            window.refuse();
            return false;
        }
        window.add(1);
        true
    }

    /// Checks the `OK-ACCESS-` headers; the error answer when they fail.
    fn authenticate(&self, request: &Request, now: i64) -> Result<(), Response> {
        let refuse = |code: &str, message: &str| {
            self.count(|s| s.refused += 1);
            Err(error(401, code, message))
        };
        let header = |name: &str| request.header(name).unwrap_or_default();
        if header("OK-ACCESS-KEY") != self.key.api_key {
            return refuse("50111", "Invalid OK-ACCESS-KEY");
        }
        if header("OK-ACCESS-PASSPHRASE") != self.key.passphrase {
            return refuse("50105", "Invalid OK-ACCESS-PASSPHRASE");
        }
        let timestamp = header("OK-ACCESS-TIMESTAMP");
        let Ok(sent) = chrono::DateTime::parse_from_rfc3339(timestamp) else {
            return refuse("50112", "Invalid OK-ACCESS-TIMESTAMP");
        };
        if (sent.timestamp_millis() - now).abs() > 30_000 {
            return refuse("50102", "Timestamp request expired");
        }
        let path = super::api::request_path(&request.path, &request.query);
        if auth::signature(&self.secret, timestamp, &request.method, &path, &request.body_text())
            != header("OK-ACCESS-SIGN")
        {
            return refuse("50113", "Invalid Sign");
        }
        Ok(())
    }

    /// A page of `book`'s bills, newest first, strictly older than `after` (a bill id for the
    /// trading account, a time in ms for the funding account).
    fn bills(&self, book: Book, query: &str) -> Response {
        let params: BTreeMap<String, String> = decode_pairs(query).into_iter().collect();
        let limit = match params.get("limit").map(|l| l.parse::<usize>()) {
            None => 100,
            Some(Ok(limit @ 1..=100)) => limit,
            Some(_) => return error(400, "51000", "Parameter limit error"),
        };
        let after = match params.get("after").map(|a| a.parse::<i64>()) {
            None => None,
            Some(Ok(after)) => Some(after),
            Some(Err(_)) => return error(400, "51000", "Parameter after error"),
        };
        let generator = self.generator.lock().unwrap_or_else(PoisonError::into_inner);
        // The bills are kept oldest first, each account's in (ts, id) order
        // (`Generator::bills`): newest first is the list read backwards, and a page ends
        // `limit` bills after the first one older than `after` (no sort of the whole history
        // per request: that was most of the benchmark's simulator time).
        let chosen: Vec<serde_json::Value> = generator
            .bills
            .iter()
            .rev()
            .filter(|b| b.book == book)
            .filter(|b| match (book, after) {
                (_, None) => true,
                (Book::Trading, Some(after)) => i64::try_from(b.id).unwrap_or(i64::MAX) < after,
                (Book::Funding, Some(after)) => b.ts < after,
            })
            .take(limit)
            .map(Bill::json)
            .collect();
        ok(chosen)
    }

    /// A page of a history (deposits or withdrawals), newest first, strictly earlier than
    /// `after` (ms), or the one record `depId`/`wdId` names.
    fn transfers(&self, withdrawal: bool, query: &str) -> Response {
        let params: BTreeMap<String, String> = decode_pairs(query).into_iter().collect();
        let limit = match params.get("limit").map(|l| l.parse::<usize>()) {
            None => 100,
            Some(Ok(limit @ 1..=100)) => limit,
            Some(_) => return error(400, "51000", "Parameter limit error"),
        };
        let after = match params.get("after").map(|a| a.parse::<i64>()) {
            None => None,
            Some(Ok(after)) => Some(after),
            Some(Err(_)) => return error(400, "51000", "Parameter after error"),
        };
        let id_field = if withdrawal { "wdId" } else { "depId" };
        let only = match params.get(id_field).map(|id| id.parse::<u64>()) {
            None => None,
            Some(Ok(id)) => Some(id),
            Some(Err(_)) => return ok(Vec::new()),
        };
        let states = self.states.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let mut chosen: Vec<Transfer> = self
            .generator
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .transfers()
            .into_iter()
            .filter(|t| t.withdrawal == withdrawal)
            .filter(|t| after.is_none_or(|after| t.ts < after))
            .filter(|t| only.is_none_or(|id| t.id == id))
            .collect();
        chosen.sort_by_key(|t| std::cmp::Reverse((t.ts, t.id)));
        ok(chosen.into_iter().take(limit).map(|t| t.json(states.get(&t.id).copied().unwrap_or("2"))).collect())
    }

    /// A page of the lending history, newest first: of `ccy` if given, strictly earlier than
    /// `after` and later than `before` (ms), `limit` (up to 100) records.
    fn lending(&self, query: &str) -> Response {
        let params: BTreeMap<String, String> = decode_pairs(query).into_iter().collect();
        let limit = match params.get("limit").map(|l| l.parse::<usize>()) {
            None => 100,
            Some(Ok(limit @ 1..=100)) => limit,
            Some(_) => return error(400, "51000", "Parameter limit error"),
        };
        let mut bounds = [None, None];
        for (bound, name) in bounds.iter_mut().zip(["after", "before"]) {
            *bound = match params.get(name).map(|a| a.parse::<i64>()) {
                None => None,
                Some(Ok(ms)) => Some(ms),
                Some(Err(_)) => return error(400, "51000", &format!("Parameter {name} error")),
            };
        }
        let [after, before] = bounds;
        let ccy = params.get("ccy").map(|c| c.to_ascii_uppercase());
        let generator = self.generator.lock().unwrap_or_else(PoisonError::into_inner);
        // Kept in time order (one position at a time): newest first is the list read backwards.
        let chosen: Vec<serde_json::Value> = generator
            .lending
            .iter()
            .rev()
            .filter(|e| after.is_none_or(|after| e.ts < after))
            .take_while(|e| before.is_none_or(|before| e.ts > before))
            .filter(|e| ccy.as_ref().is_none_or(|ccy| &e.ccy == ccy))
            .take(limit)
            .map(Earning::json)
            .collect();
        ok(chosen)
    }

    fn savings_balance(&self) -> Response {
        let generator = self.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let text = |d: Decimal| d.normalize().to_string();
        ok(generator
            .savings
            .iter()
            .map(|(ccy, p)| {
                serde_json::json!({
                    "ccy": ccy, "amt": text(p.amt), "earnings": text(p.earnings), "rate": text(p.rate),
                    "loanAmt": text(p.amt), "pendingAmt": "0", "redemptAmt": "",
                })
            })
            .collect())
    }

    fn balance(&self) -> Response {
        let generator = self.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let details: Vec<serde_json::Value> = generator
            .book(Book::Trading)
            .into_iter()
            .map(|(ccy, amount)| {
                let amount = amount.normalize().to_string();
                serde_json::json!({ "ccy": ccy, "cashBal": amount, "eq": amount, "availBal": amount, "frozenBal": "0" })
            })
            .collect();
        ok(vec![serde_json::json!({ "totalEq": "", "details": details, "uTime": now_ms().to_string() })])
    }

    fn asset_balances(&self) -> Response {
        let generator = self.generator.lock().unwrap_or_else(PoisonError::into_inner);
        ok(generator
            .book(Book::Funding)
            .into_iter()
            .filter(|(_, amount)| !amount.is_zero())
            .map(|(ccy, amount)| {
                let amount = amount.normalize().to_string();
                serde_json::json!({ "ccy": ccy, "bal": amount, "availBal": amount, "frozenBal": "0" })
            })
            .collect())
    }

    fn config(&self) -> Response {
        let perm = if self.key_may_withdraw { "read_only,withdraw" } else { "read_only" };
        ok(vec![serde_json::json!({
            "uid": "44705892343619584", "mainUid": "44705892343619584", "acctLv": "1", "posMode": "net_mode",
            "label": "cointally", "ip": "", "perm": perm,
        })])
    }
}

impl Handler for State {
    fn handle(&self, request: &Request) -> Response {
        let now = now_ms();
        self.count(|s| *s.requests_by_path.entry(request.path.clone()).or_default() += 1);
        let Some(endpoint) = Endpoint::from_path(&request.path) else {
            return error(404, "50030", "Illegal request");
        };
        if request.method != "GET" {
            return error(405, "50030", "Illegal request");
        }
        if !self.admit(endpoint, now) {
            self.count(|s| s.rate_limited += 1);
            return error(
                429,
                "50011",
                "Rate limit reached. Please refer to API documentation and throttle requests accordingly.",
            );
        }
        if endpoint == Endpoint::Time {
            return ok(vec![serde_json::json!({ "ts": now.to_string() })]);
        }
        if let Err(refused) = self.authenticate(request, now) {
            return refused;
        }
        if let Some(code) =
            self.savings_refused.filter(|_| matches!(endpoint, Endpoint::LendingHistory | Endpoint::SavingsBalance))
        {
            return error(200, code, "Sub-account is not supported");
        }
        match endpoint {
            Endpoint::BillsArchive => self.bills(Book::Trading, &request.query),
            Endpoint::AssetBills => self.bills(Book::Funding, &request.query),
            Endpoint::DepositHistory => self.transfers(false, &request.query),
            Endpoint::WithdrawalHistory => self.transfers(true, &request.query),
            Endpoint::LendingHistory => self.lending(&request.query),
            Endpoint::SavingsBalance => self.savings_balance(),
            Endpoint::Balance => self.balance(),
            Endpoint::AssetBalances => self.asset_balances(),
            Endpoint::Config | Endpoint::Time => self.config(),
        }
    }

    fn error_response(&self, status: u16, _request: &Request) -> Response {
        if status == 429 {
            return error(429, "50011", "Rate limit reached");
        }
        error(status, "50001", "Service temporarily unavailable. Please try again later.")
    }
}
