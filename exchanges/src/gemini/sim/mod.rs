//! A local Gemini: the endpoints a history import uses, served over real HTTP.
//!
//! [`start`] generates the person's Gemini account ([`history`], on the shared market of
//! [`crate::sim::generate`]) and serves it on `127.0.0.1`: `GET /v1/symbols`, and signed
//! `POST`s with an empty body to `/v1/roles`, `/v1/balances`, `/v1/mytrades` and
//! `/v1/transfers`, `/v1/staking/history` and `/v1/balances/staking`. Each private call is checked as Gemini does: the key
//! (`X-GEMINI-APIKEY`, else `InvalidApiKey`), the HMAC-SHA384 of the payload (else
//! `InvalidSignature`), the payload's `request` matching the path, a nonce greater than the
//! key's last (else `InvalidNonce`). Answers have Gemini's shapes: arrays of fills and
//! transfers, newest first, holding the earliest `limit` records at or after `timestamp`
//! (seconds or milliseconds); errors `{"result":"error","reason":…,"message":…}`. The private
//! budget is a decaying counter (bursts of 5, 10 a second; optionally faster:
//! [`Limits::Scaled`]) answering HTTP 429 `RateLimit` when full; the server's injected faults
//! come on top. Its public candles (`GET /v2/candles/{symbol}/{time_frame}`, in [`market`])
//! price from the same generated market, unmetered. [`GeminiSim::balances`] says what a complete import must end with.

pub mod export;
pub mod history;
pub mod market;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use rust_decimal::Decimal;
use serde::Serialize;

use self::history::{Fill, GeminiProfile, Generator, PAIRS, StakingTx, Transfer, UNTRADED};
use super::api::Endpoint;
use super::auth;
use crate::Secret;
use crate::sim::counters::{DecayingCounter, Spending, share_percent};
use crate::sim::faults::FaultConfig;
use crate::sim::generate::{Activity, Market, Profile, generate};
use crate::sim::now_ms;
use crate::sim::server::{Handler, Request, Response, Server};

/// The one staking provider of the simulated account.
const PROVIDER: &str = "62b21e17-2534-4b9f-afcf-b7edb609dd8d";

/// The private budget as Gemini documents it: a burst of 5, 10 a second.
const BURST: u64 = 5;
const PER_SECOND: u64 = 10;

/// How the simulator meters private calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limits {
    /// No budget (throughput benchmarks).
    Off,
    /// Gemini's budget.
    Real,
    /// Gemini's budget refilling `speed` times faster.
    Scaled {
        /// How many times faster.
        speed: u32,
    },
    /// Gemini's burst, never refilled: a test of the refusal whose outcome does not depend on
    /// how fast the machine sends the requests.
    Frozen,
}

impl Limits {
    /// The pace a client should keep for these limits (`CAPACITY:PER_SECOND`), if any.
    pub fn client_pace(self) -> Option<super::api::Pace> {
        let speed = match self {
            Limits::Off => return None,
            Limits::Real | Limits::Frozen => 1,
            Limits::Scaled { speed } => speed.max(1),
        };
        Some(super::api::Pace { capacity: BURST - 1, per_second: f64::from(speed) * PER_SECOND as f64 })
    }
}

/// The one key the simulator accepts and what it may do.
#[derive(Clone, PartialEq, Eq)]
pub struct SimKey {
    /// `X-GEMINI-APIKEY`.
    pub api_key: String,
    /// The secret.
    pub secret: String,
    /// Whether the key has the Fund Manager role (may withdraw).
    pub fund_manager: bool,
}

impl std::fmt::Debug for SimKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimKey").field("api_key", &"[redacted]").field("fund_manager", &self.fund_manager).finish()
    }
}

impl SimKey {
    /// An Auditor key whose secret is the one of Gemini's published signing example.
    pub fn demo() -> SimKey {
        SimKey { api_key: "account-cointallysimulated".to_owned(), secret: "1234abcd".to_owned(), fund_manager: false }
    }
}

/// Everything that shapes a simulator run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of the market and the history.
    pub seed: u64,
    /// Size of the history.
    pub profile: GeminiProfile,
    /// The private budget.
    pub limits: Limits,
    /// Injected faults.
    pub faults: Option<FaultConfig>,
    /// The accepted key.
    pub key: SimKey,
    /// Port on 127.0.0.1 (0: any).
    pub port: u16,
}

impl SimConfig {
    /// The demo account: demo profile, budget refilling 20 times faster, demo key.
    pub fn demo(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            profile: GeminiProfile::demo(),
            limits: Limits::Scaled { speed: 20 },
            faults: None,
            key: SimKey::demo(),
            port: 0,
        }
    }
}

/// What the simulator saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimStats {
    /// Every request read, faulted ones included.
    pub requests: u64,
    /// Requests per path that reached the handler.
    pub requests_by_path: BTreeMap<String, u64>,
    /// Answers `InvalidNonce`.
    pub invalid_nonces: u64,
    /// Answers 429 for the budget.
    pub rate_limited: u64,
    /// Injected faults.
    pub faults: u64,
    /// Share of the private budget used between the first and last served call, in percent.
    pub budget_share: Option<Decimal>,
}

struct Budget {
    counter: Option<DecayingCounter>,
    spending: Spending,
    rate_limited: u64,
}

struct State {
    key: SimKey,
    secret: Secret,
    store: Mutex<Generator>,
    budget: Mutex<Budget>,
    last_nonce: Mutex<u64>,
    invalid_nonces: Mutex<u64>,
    requests: Mutex<BTreeMap<String, u64>>,
    /// (calls of `mytrades`/`transfers` before adding, fills to add).
    insert_after: crate::sim::Armed,
    market: Market,
}

/// A running Gemini simulator; stops on drop.
pub struct GeminiSim {
    server: Server,
    state: Arc<State>,
    limits: Limits,
}

impl std::fmt::Debug for GeminiSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeminiSim").field("addr", &self.server.base_url()).finish_non_exhaustive()
    }
}

/// Generates the account of `config` and starts serving it.
pub fn start(config: SimConfig) -> io::Result<GeminiSim> {
    let market_profile =
        Profile { start_ms: config.profile.start_ms, end_ms: config.profile.end_ms, trades: 0, ..Profile::demo() };
    let world = generate(config.seed, &market_profile);
    let generator = Generator::generate(config.seed, &world.market, &config.profile);
    let counter = config.limits.client_pace().map(|pace| {
        let per_second_milli = if config.limits == Limits::Frozen { 0 } else { (pace.per_second * 1000.0) as u64 };
        DecayingCounter::new(BURST, per_second_milli)
    });
    let state = Arc::new(State {
        secret: Secret::new(config.key.secret.clone()),
        key: config.key,
        store: Mutex::new(generator),
        budget: Mutex::new(Budget { counter, spending: Spending::default(), rate_limited: 0 }),
        last_nonce: Mutex::new(0),
        invalid_nonces: Mutex::new(0),
        requests: Mutex::new(BTreeMap::new()),
        insert_after: Mutex::new(None),
        market: world.market,
    });
    let server = Server::start(config.port, Arc::clone(&state) as Arc<dyn Handler>, config.faults)?;
    Ok(GeminiSim { server, state, limits: config.limits })
}

impl GeminiSim {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The pace a client should keep to use this simulator's budget to the full.
    pub fn client_pace(&self) -> Option<super::api::Pace> {
        self.limits.client_pace()
    }

    /// Balances per canonical currency, exchange and staking summed, zeros left out: what a
    /// complete import must end with.
    pub fn balances(&self) -> BTreeMap<String, Decimal> {
        let store = self.state.store.lock().unwrap_or_else(PoisonError::into_inner);
        let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
        for (currency, amount) in store.balances().iter().chain(store.staked()) {
            *sums.entry(currency.clone()).or_default() += amount;
        }
        sums.into_iter().filter(|(_, b)| !b.is_zero()).map(|(c, b)| (c, b.normalize())).collect()
    }

    /// Every staking transaction served, oldest first.
    pub fn staking(&self) -> Vec<StakingTx> {
        self.state.store.lock().unwrap_or_else(PoisonError::into_inner).staking.clone()
    }

    /// Every fill served, oldest first.
    pub fn fills(&self) -> Vec<Fill> {
        self.state.store.lock().unwrap_or_else(PoisonError::into_inner).fills.clone()
    }

    /// Every transfer served, oldest first.
    pub fn transfers(&self) -> Vec<Transfer> {
        self.state.store.lock().unwrap_or_else(PoisonError::into_inner).transfers.clone()
    }

    /// The person's own wallet's side of the account's crypto transfers, oldest first.
    pub fn external(&self) -> Vec<Activity> {
        let mut external = self.state.store.lock().unwrap_or_else(PoisonError::into_inner).external.clone();
        external.sort_by_key(Activity::time_ms);
        external
    }

    /// The account as Gemini's transaction history file (CSV): fills and final transfers.
    pub fn history_file(&self) -> String {
        export::history_file(&self.state.store.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Completes every pending transfer.
    pub fn settle_pending(&self) {
        self.state.store.lock().unwrap_or_else(PoisonError::into_inner).settle_pending();
    }

    /// Adds `count` BTC/USD fills now (buys, funded by an ACH deposit first); returns how many.
    pub fn add_trades(&self, count: usize) -> usize {
        self.state.add_trades(count)
    }

    /// After the next `calls` history answers, adds `count` fills: records arriving in the
    /// middle of a client's walk.
    pub fn insert_after_history_calls(&self, calls: u32, count: usize) {
        *self.state.insert_after.lock().unwrap_or_else(PoisonError::into_inner) = Some((calls, count));
    }

    /// The market the account was priced on.
    pub fn market(&self) -> &Market {
        &self.state.market
    }

    /// What the simulator saw.
    pub fn stats(&self) -> SimStats {
        let budget = self.state.budget.lock().unwrap_or_else(PoisonError::into_inner);
        let budget_share = match (&budget.counter, budget.spending.span_ms) {
            (Some(counter), Some((first, last))) => {
                share_percent(budget.spending.spent, counter.allowed_milli(last - first))
            }
            _ => None,
        };
        SimStats {
            requests: self.server.requests(),
            requests_by_path: self.state.requests.lock().unwrap_or_else(PoisonError::into_inner).clone(),
            invalid_nonces: *self.state.invalid_nonces.lock().unwrap_or_else(PoisonError::into_inner),
            rate_limited: budget.rate_limited,
            faults: self.server.faults_injected().values().sum(),
            budget_share,
        }
    }

    /// Changes how long injected timeouts stay silent.
    pub fn set_fault_timeout_delay(&self, delay: Duration) {
        self.server.set_timeout_delay(delay);
    }

    /// Stops serving.
    pub fn stop(mut self) {
        self.server.stop();
    }
}

/// Gemini's error answer.
fn error(status: u16, reason: &str, message: &str) -> Response {
    Response::json_value(status, &serde_json::json!({ "result": "error", "reason": reason, "message": message }))
}

/// A fill as `mytrades` lists it.
#[derive(Serialize)]
struct FillJson {
    price: String,
    amount: String,
    timestamp: i64,
    timestampms: i64,
    #[serde(rename = "type")]
    side: &'static str,
    aggressor: bool,
    fee_currency: String,
    fee_amount: String,
    tid: u64,
    order_id: String,
    exchange: &'static str,
    is_auction_fill: bool,
    is_clearing_fill: bool,
    symbol: String,
}

fn fill_json(f: &Fill) -> FillJson {
    FillJson {
        price: f.price.to_string(),
        amount: f.amount.to_string(),
        timestamp: f.time_ms.div_euclid(1000),
        timestampms: f.time_ms,
        side: if f.is_buy { "Buy" } else { "Sell" },
        aggressor: f.tid % 2 == 0,
        fee_currency: f.quote.to_owned(),
        fee_amount: f.fee.to_string(),
        tid: f.tid,
        order_id: f.order_id.to_string(),
        exchange: "gemini",
        is_auction_fill: false,
        is_clearing_fill: false,
        symbol: f.symbol.to_ascii_uppercase(),
    }
}

/// A transfer as `transfers` lists it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TransferJson<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    status: &'static str,
    timestampms: i64,
    eid: u64,
    currency: &'a str,
    amount: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fee_amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fee_currency: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tx_hash: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<&'a str>,
}

fn transfer_json(t: &Transfer) -> TransferJson<'_> {
    TransferJson {
        kind: t.kind,
        status: t.status,
        timestampms: t.time_ms,
        eid: t.eid,
        currency: &t.currency,
        amount: t.amount.to_string(),
        fee_amount: (!t.fee.is_zero()).then(|| t.fee.to_string()),
        fee_currency: (!t.fee.is_zero()).then_some(t.currency.as_str()),
        method: t.method,
        tx_hash: t.tx_hash.as_deref(),
        destination: t.destination.as_deref(),
    }
}

/// `timestamp` as ms: seconds when it is below 10^11 (Gemini takes either).
fn timestamp_ms(payload: &serde_json::Value) -> Result<i64, Response> {
    match payload.get("timestamp") {
        None => Ok(0),
        Some(value) => {
            let number = value.as_i64().ok_or_else(|| error(400, "InvalidTimestampInPayload", "timestamp"))?;
            Ok(if number < 100_000_000_000 { number.saturating_mul(1000) } else { number })
        }
    }
}

/// A limit between 1 and `max`, `default` when absent.
fn limit(payload: &serde_json::Value, name: &str, default: usize, max: usize) -> Result<usize, Response> {
    match payload.get(name) {
        None => Ok(default),
        Some(value) => value
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| error(400, "InvalidQuantity", &format!("{name} must be between 1 and {max}"))),
    }
}

/// The earliest `limit` of `items` (sorted by time) at or after `from_ms`, newest first.
fn page<T>(items: &[T], time_of: impl Fn(&T) -> i64, from_ms: i64, limit: usize) -> impl Iterator<Item = &T> {
    let start = items.partition_point(|item| time_of(item) < from_ms);
    items[start..].iter().take(limit).rev()
}

impl State {
    fn add_trades(&self, count: usize) -> usize {
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let now = now_ms();
        store.add_fills(&self.market, count, now)
    }

    fn count(&self, path: &str) {
        *self.requests.lock().unwrap_or_else(PoisonError::into_inner).entry(path.to_owned()).or_insert(0) += 1;
    }

    /// Key, signature, request and nonce checks; the decoded payload.
    fn authenticate(&self, request: &Request) -> Result<serde_json::Value, Response> {
        if request.header(auth::API_KEY_HEADER) != Some(self.key.api_key.as_str()) {
            return Err(error(400, "InvalidApiKey", "Invalid API key"));
        }
        let b64 = request.header(auth::PAYLOAD_HEADER).ok_or_else(|| error(400, "MissingPayloadHeader", ""))?;
        let expected = auth::signature(&self.secret, b64).unwrap_or_default();
        if request.header(auth::SIGNATURE_HEADER) != Some(expected.as_str()) {
            return Err(error(400, "InvalidSignature", "InvalidSignature"));
        }
        let payload: serde_json::Value = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or_else(|| error(400, "InvalidJson", "the payload is not base64 JSON"))?;
        if payload.get("request").and_then(|r| r.as_str()) != Some(request.path.as_str()) {
            return Err(error(400, "EndpointMismatch", "the payload's request is not the path"));
        }
        let nonce = payload
            .get("nonce")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| error(400, "InvalidNonce", "no nonce"))?;
        let mut last = self.last_nonce.lock().unwrap_or_else(PoisonError::into_inner);
        if nonce <= *last {
            *self.invalid_nonces.lock().unwrap_or_else(PoisonError::into_inner) += 1;
            return Err(error(400, "InvalidNonce", &format!("Nonce '{nonce}' has not increased since your last call")));
        }
        *last = nonce;
        Ok(payload)
    }

    fn admit(&self, now: i64) -> Result<(), Response> {
        let mut budget = self.budget.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(counter) = &mut budget.counter {
            if !counter.try_add(now, 1) {
                budget.rate_limited += 1;
                return Err(
                    error(429, "RateLimit", "Requests were made too frequently").with_header("Retry-After", "1")
                );
            }
        }
        budget.spending.record(now, 1);
        Ok(())
    }

    fn mytrades(&self, payload: &serde_json::Value) -> Result<Response, Response> {
        let symbol = payload.get("symbol").and_then(|s| s.as_str()).unwrap_or_default().to_ascii_lowercase();
        if !PAIRS.iter().any(|(s, _, _)| *s == symbol) && !UNTRADED.contains(&symbol.as_str()) {
            return Err(error(400, "InvalidSymbol", &format!("Received invalid symbol '{symbol}'")));
        }
        let from = timestamp_ms(payload)?;
        let limit = limit(payload, "limit_trades", 50, 500)?;
        let body = {
            let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
            let fills: Vec<&Fill> = store.fills.iter().filter(|f| f.symbol == symbol).collect();
            let rows: Vec<FillJson> = page(&fills, |f| f.time_ms, from, limit).map(|f| fill_json(f)).collect();
            crate::sim::json::text(&rows)
        };
        self.arrived();
        Ok(Response::json(200, body))
    }

    fn transfers(&self, payload: &serde_json::Value) -> Result<Response, Response> {
        let from = timestamp_ms(payload)?;
        let limit = limit(payload, "limit_transfers", 10, 50)?;
        let body = {
            let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
            let rows: Vec<TransferJson> =
                page(&store.transfers, |t| t.time_ms, from, limit).map(transfer_json).collect();
            crate::sim::json::text(&rows)
        };
        self.arrived();
        Ok(Response::json(200, body))
    }

    fn staking_history(&self, payload: &serde_json::Value) -> Result<Response, Response> {
        let since = match payload.get("since") {
            Some(serde_json::Value::String(iso)) => crate::time::parse_utc(iso)
                .map(|time| time.timestamp_millis())
                .map_err(|_| error(400, "InvalidTimestampInPayload", "since"))?,
            Some(_) => timestamp_ms(&serde_json::json!({ "timestamp": payload["since"] }))?,
            None => 0,
        };
        let until = match payload.get("until") {
            Some(value) => timestamp_ms(&serde_json::json!({ "timestamp": value }))?,
            None => i64::MAX,
        };
        let limit = limit(payload, "limit", 50, 500)?;
        // A boolean, as documented; anything else is refused rather than read as `false`
        // (a client sending `"true"` would otherwise get the newest page and lose the rest).
        let ascending = match payload.get("sortAsc") {
            None => false,
            Some(value) => {
                value.as_bool().ok_or_else(|| error(400, "InvalidParameter", "sortAsc must be a boolean"))?
            }
        };
        let body = {
            let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
            let within = store.staking.iter().filter(|t| t.time_ms >= since && t.time_ms <= until);
            let chosen: Vec<&StakingTx> = if ascending {
                within.take(limit).collect()
            } else {
                let all: Vec<&StakingTx> = within.collect();
                all.into_iter().rev().take(limit).collect()
            };
            let transactions: Vec<serde_json::Value> = chosen
                .iter()
                .map(|t| {
                    let mut row = serde_json::Map::new();
                    row.insert("transactionId".into(), t.id.clone().into());
                    row.insert("transactionType".into(), t.kind.into());
                    row.insert("amountCurrency".into(), t.currency.clone().into());
                    let amount: serde_json::Value =
                        serde_json::from_str(crate::sim::json::number(t.amount.to_string()).get()).unwrap_or_default();
                    row.insert("amount".into(), amount);
                    row.insert("dateTime".into(), t.time_ms.into());
                    serde_json::Value::Object(row)
                })
                .collect();
            let providers = if transactions.is_empty() {
                Vec::new()
            } else {
                vec![serde_json::json!({ "providerId": PROVIDER, "transactions": transactions })]
            };
            crate::sim::json::text(&providers)
        };
        Ok(Response::json(200, body))
    }

    fn staking_balances(&self) -> Response {
        let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let rows: Vec<String> = store
            .staked()
            .iter()
            .filter(|(_, amount)| !amount.is_zero())
            .map(|(currency, amount)| {
                format!(
                    "{{\"type\":\"Staking\",\"currency\":{},\"balance\":{amount},\"available\":0,\"availableForWithdrawal\":{amount},\"balanceByProvider\":{{\"{PROVIDER}\":{{\"balance\":{amount}}}}}}}",
                    serde_json::Value::String(currency.clone())
                )
            })
            .collect();
        Response::json(200, format!("[{}]", rows.join(",")))
    }

    /// Adds the armed fills once their countdown runs out.
    fn arrived(&self) {
        if let Some(count) = crate::sim::countdown(&self.insert_after) {
            self.add_trades(count);
        }
    }

    fn balances(&self) -> Response {
        let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let rows: Vec<serde_json::Value> = store
            .balances()
            .iter()
            .map(|(currency, amount)| {
                serde_json::json!({
                    "type": "exchange",
                    "currency": currency,
                    "amount": amount.to_string(),
                    "available": amount.to_string(),
                    "availableForWithdrawal": amount.to_string(),
                })
            })
            .collect();
        Response::json_value(200, &rows)
    }

    fn roles(&self) -> Response {
        Response::json_value(
            200,
            &serde_json::json!({
                "counterparty_id": "CTALLYSIM",
                "isAuditor": !self.key.fund_manager,
                "isFundManager": self.key.fund_manager,
                "isTrader": false,
            }),
        )
    }

    fn symbols(&self) -> Response {
        let mut symbols: Vec<&str> =
            PAIRS.iter().map(|(symbol, _, _)| *symbol).chain(UNTRADED.iter().copied()).collect();
        symbols.sort_unstable();
        Response::json_value(200, &symbols)
    }
}

impl Handler for State {
    fn handle(&self, request: &Request) -> Response {
        let now = now_ms();
        self.count(&request.path);
        let candles = format!("{}/", Endpoint::Candles.path());
        if let Some(rest) = request.path.strip_prefix(&candles) {
            return if request.method == "GET" {
                market::candles(&self.market, rest, now)
            } else {
                error(405, "InvalidMethod", "GET only")
            };
        }
        let Some(endpoint) = Endpoint::from_path(&request.path) else {
            return error(404, "InvalidEndpoint", "no such endpoint");
        };
        if !endpoint.private() {
            return if request.method == "GET" { self.symbols() } else { error(405, "InvalidMethod", "GET only") };
        }
        if request.method != "POST" {
            return error(405, "InvalidMethod", "POST only");
        }
        let payload = match self.authenticate(request) {
            Ok(payload) => payload,
            Err(response) => return response,
        };
        if let Err(response) = self.admit(now) {
            return response;
        }
        let answer = match endpoint {
            Endpoint::Roles => Ok(self.roles()),
            Endpoint::Balances => Ok(self.balances()),
            Endpoint::MyTrades => self.mytrades(&payload),
            Endpoint::Transfers => self.transfers(&payload),
            Endpoint::StakingHistory => self.staking_history(&payload),
            Endpoint::StakingBalances => Ok(self.staking_balances()),
            // Public paths are answered above (candles before `from_path`, which never names them).
            Endpoint::Symbols | Endpoint::Candles => Ok(self.symbols()),
        };
        answer.unwrap_or_else(|response| response)
    }

    fn error_response(&self, status: u16, _request: &Request) -> Response {
        if status == 429 {
            return error(429, "RateLimit", "Requests were made too frequently");
        }
        Response::text(status, format!("<html><body>{status} Service Unavailable</body></html>"))
    }
}
