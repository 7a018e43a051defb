//! A local Bitstamp: the private endpoints a history import uses, served over real HTTP.
//!
//! [`start`] generates the person's Bitstamp account ([`history`], on the shared market of
//! [`crate::sim::generate`]) and serves it on `127.0.0.1`: `POST /api/v2/user_transactions/`
//! (`offset` up to 200,000, `limit` up to 1,000, `sort`, `since_id` inclusive, which sets the
//! limit to 1,000, `since_timestamp`, `until_timestamp`), `POST /api/v2/crypto-transactions/`
//! (`offset`, `limit`; the crypto deposits and withdrawals again with tx hashes, in [`crypto`])
//! and `POST /api/v2/account_balances/`,
//! with the v2 authentication checked ([`super::auth`]: the key, the signature over the host
//! as received, a UUID nonce never reused, a timestamp within 150 seconds), Bitstamp's error
//! bodies (`{"status": "error", "reason": …, "code": "API0005"}`), its request budget as a
//! fixed window (`400.002` when spent), and the server's injected faults. Its public market
//! data (`GET /api/v2/markets/`, `GET /api/v2/ohlc/{pair}/`, in [`market`]) prices from the same
//! generated market, metered in the same budget.
//! [`BitstampSim::balances`] says what a complete import must end with;
//! [`BitstampSim::add_trades`] and [`BitstampSim::insert`] add records between syncs.

pub mod crypto;
pub mod history;
pub mod market;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use rust_decimal::Decimal;

use self::history::{BitstampProfile, Generator, Transaction};
use super::api::{Budget, Endpoint};
use super::auth::{self, ToSign};
use crate::Secret;
use crate::http::decode_pairs;
use crate::sim::counters::FixedWindow;
use crate::sim::faults::FaultConfig;
use crate::sim::generate::{Market, Profile, generate};
use crate::sim::now_ms;
use crate::sim::server::{Handler, Request, Response, Server};
pub use crate::sim::stats::SimStats;

/// How far a request's timestamp may be from the server's clock (Bitstamp: 150 seconds).
const TIMESTAMP_WINDOW_MS: i64 = 150_000;
/// The highest `offset` Bitstamp accepts.
const MAX_OFFSET: usize = 200_000;

/// The one key the simulator accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct SimKey {
    /// The API key (`X-Auth: BITSTAMP <key>`).
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
            api_key: "cointallysimulatedbitstampkey000".to_owned(),
            secret: "cointallysimulatedbitstampsecret".to_owned(),
        }
    }
}

/// Everything that shapes a simulator run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of the market and the history.
    pub seed: u64,
    /// Size of the history.
    pub profile: BitstampProfile,
    /// The request budget, and 400 a second beside it; `None`: unmetered.
    pub budget: Option<Budget>,
    /// Injected faults.
    pub faults: Option<FaultConfig>,
    /// The accepted key.
    pub key: SimKey,
    /// Port on 127.0.0.1 (0: any).
    pub port: u16,
}

impl SimConfig {
    /// The demo account: demo profile, Bitstamp's default budget, demo key.
    pub fn demo(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            profile: BitstampProfile::demo(),
            budget: Some(Budget::DEFAULT),
            faults: None,
            key: SimKey::demo(),
            port: 0,
        }
    }
}

/// The budget windows.
struct Meter {
    long: Option<FixedWindow>,
    second: Option<FixedWindow>,
}

impl Meter {
    /// Counts one request at `now`, or says it is over the budget.
    fn admit(&mut self, now: i64) -> bool {
        for window in [&mut self.long, &mut self.second].into_iter().flatten() {
            window.roll(now);
            if !window.fits(1) {
                window.refuse();
                return false;
            }
        }
        for window in [&mut self.long, &mut self.second].into_iter().flatten() {
            window.add(1);
        }
        true
    }
}

/// Nonces seen in the last 150 s, and when each was seen (oldest first).
#[derive(Default)]
struct Nonces {
    seen: BTreeSet<String>,
    order: Vec<(i64, String)>,
}

struct State {
    /// The seed (tx hashes and addresses are drawn from it).
    seed: u64,
    key: SimKey,
    secret: Secret,
    generator: Mutex<Generator>,
    market: Market,
    meter: Mutex<Meter>,
    /// Nonces seen, with when (kept 150 s).
    nonces: Mutex<Nonces>,
    stats: Mutex<SimStats>,
}

/// A running Bitstamp simulator; stops on drop.
pub struct BitstampSim {
    server: Server,
    state: Arc<State>,
    budget: Option<Budget>,
}

impl std::fmt::Debug for BitstampSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BitstampSim").field("addr", &self.server.base_url()).finish_non_exhaustive()
    }
}

/// Generates the account of `config` and starts serving it.
pub fn start(config: SimConfig) -> io::Result<BitstampSim> {
    let market_profile =
        Profile { start_ms: config.profile.start_ms, end_ms: config.profile.end_ms, trades: 0, ..Profile::demo() };
    let world = generate(config.seed, &market_profile);
    let generator = Generator::generate(config.seed, &world.market, &config.profile);
    let window = |budget: Budget| {
        FixedWindow::new(budget.limit, i64::try_from(budget.window_seconds * 1000).unwrap_or(i64::MAX))
    };
    let state = Arc::new(State {
        seed: config.seed,
        secret: Secret::new(config.key.secret.clone()),
        key: config.key,
        generator: Mutex::new(generator),
        market: world.market,
        meter: Mutex::new(Meter {
            long: config.budget.map(window),
            second: config.budget.map(|_| window(Budget::PER_SECOND)),
        }),
        nonces: Mutex::new(Nonces::default()),
        stats: Mutex::new(SimStats::default()),
    });
    let server = Server::start(config.port, Arc::clone(&state) as Arc<dyn Handler>, config.faults)?;
    Ok(BitstampSim { server, state, budget: config.budget })
}

impl BitstampSim {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The budget a client should pace itself with (`None`: unmetered).
    pub fn budget(&self) -> Option<Budget> {
        self.budget
    }

    /// Balances by canonical symbol, as `account_balances` reports them (zeros left out).
    pub fn balances(&self) -> BTreeMap<String, Decimal> {
        let generator = self.state.generator.lock().unwrap_or_else(PoisonError::into_inner);
        generator
            .balances()
            .iter()
            .filter(|(_, amount)| !amount.is_zero())
            .map(|(code, amount)| (code.to_ascii_uppercase(), amount.normalize()))
            .collect()
    }

    /// Every record served, oldest first.
    pub fn transactions(&self) -> Vec<Transaction> {
        self.state.generator.lock().unwrap_or_else(PoisonError::into_inner).transactions.clone()
    }

    /// Every `crypto-transactions` entry (derived from the crypto deposits and withdrawals).
    pub fn crypto_transactions(&self) -> Vec<crypto::CryptoEntry> {
        let generator = self.state.generator.lock().unwrap_or_else(PoisonError::into_inner);
        crypto::entries(self.state.seed, &generator.transactions)
    }

    /// Adds `count` trades now; returns how many were added.
    pub fn add_trades(&self, count: usize) -> usize {
        let mut generator = self.state.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let at = generator.transactions.last().map_or(0, |t| t.time_ms) + 60_000;
        generator.add_trades(&self.state.market, count, at)
    }

    /// Adds a record of type `kind` (one cointally may not know) moving `amount` of `code`;
    /// returns its id.
    pub fn insert(&self, kind: u32, code: &str, amount: Decimal) -> u64 {
        let mut generator = self.state.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let at = generator.transactions.last().map_or(0, |t| t.time_ms) + 60_000;
        generator.insert(kind, code, amount, at)
    }

    /// The market the public endpoints price from.
    pub fn market(&self) -> &Market {
        &self.state.market
    }

    /// Requests, refusals and faults so far.
    pub fn stats(&self) -> SimStats {
        self.state.stats.lock().unwrap_or_else(PoisonError::into_inner).clone().with_server_counts(&self.server)
    }

    /// A paragraph saying what is served, for `cointally sandbox serve`.
    pub fn describe(&self) -> String {
        let count = self.state.generator.lock().unwrap_or_else(PoisonError::into_inner).transactions.len();
        format!(
            "A simulated Bitstamp is listening on {url} with a generated account of {count} user transactions, \
             served by POST /api/v2/user_transactions/, /api/v2/crypto-transactions/ (tx hashes of its crypto \
             deposits and withdrawals) and /api/v2/account_balances/ with Bitstamp's v2 \
             authentication, pages, errors and request budget ({budget:?}), and its public GET /api/v2/markets/ and \
             /api/v2/ohlc/{{pair}}/ candles. Nothing here touches the real Bitstamp.",
            url = self.base_url(),
            budget = self.budget,
        )
    }
}

/// Bitstamp's error body with HTTP `status`.
fn error(status: u16, code: &str, reason: &str) -> Response {
    Response::json_value(status, &serde_json::json!({ "status": "error", "reason": reason, "code": code }))
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

impl State {
    fn count(&self, update: impl FnOnce(&mut SimStats)) {
        update(&mut self.stats.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Checks the v2 authentication headers; the error answer when they fail.
    fn authenticate(&self, request: &Request, now: i64) -> Result<(), Response> {
        let refuse = |code: &str, reason: &str| {
            self.count(|s| s.refused += 1);
            Err(error(403, code, reason))
        };
        let header = |name: &str| request.header(name).unwrap_or_default();
        let Some(key) = header("X-Auth").strip_prefix("BITSTAMP ") else {
            return refuse("API0001", "Missing key");
        };
        if key != self.key.api_key {
            return refuse("API0001", "Invalid API key");
        }
        if header("X-Auth-Version") != auth::VERSION {
            return refuse("API0012", "Invalid authentication version");
        }
        let nonce = header("X-Auth-Nonce");
        if !auth::is_uuid(nonce) {
            return refuse("API0004", "Invalid nonce");
        }
        let Ok(timestamp_ms) = header("X-Auth-Timestamp").parse::<i64>() else {
            return refuse("API0017", "Invalid timestamp");
        };
        if (timestamp_ms - now).abs() > TIMESTAMP_WINDOW_MS {
            return refuse("API0017", "Timestamp is too old or too far in the future");
        }
        let body = request.body_text();
        if !body.is_empty() && request.header("Content-Type") != Some(auth::FORM_CONTENT_TYPE) {
            return refuse("API0020", "Content type must be application/x-www-form-urlencoded");
        }
        let to_sign = ToSign {
            method: &request.method,
            host: header("Host"),
            path: &request.path,
            query: &request.query,
            nonce,
            timestamp_ms,
            body: &body,
        };
        if auth::signature(&self.secret, key, &to_sign) != header("X-Auth-Signature") {
            return refuse("API0005", "Invalid signature");
        }
        let mut nonces = self.nonces.lock().unwrap_or_else(PoisonError::into_inner);
        let Nonces { seen, order } = &mut *nonces;
        let keep = order.partition_point(|(at, _)| *at < now - TIMESTAMP_WINDOW_MS);
        for (_, old) in order.drain(..keep) {
            seen.remove(&old);
        }
        if !seen.insert(nonce.to_owned()) {
            drop(nonces);
            return refuse("API0004", "Nonce already used");
        }
        order.push((now, nonce.to_owned()));
        Ok(())
    }

    fn user_transactions(&self, params: &[(String, String)]) -> Response {
        let number = |name: &str| param(params, name).map(str::parse::<i64>);
        let bad = |code: &str, what: &str| {
            Response::json_value(
                400,
                &serde_json::json!({ "status": "error", "reason": format!("POST parameter(s) is malformed: {what}"), "code": code }),
            )
        };
        let offset = match number("offset") {
            None => 0,
            Some(Ok(value)) if (0..=MAX_OFFSET as i64).contains(&value) => value as usize,
            Some(_) => return bad("400.010", "offset"),
        };
        let mut limit = match number("limit") {
            None => 100,
            Some(Ok(value)) if (1..=1000).contains(&value) => value as usize,
            Some(_) => return bad("400.011", "limit"),
        };
        let descending = match param(params, "sort") {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(_) => return bad("400.012", "sort"),
        };
        let since_id = match number("since_id") {
            None => None,
            Some(Ok(value)) if value >= 0 => Some(value as u64),
            Some(_) => return bad("400.007", "since_id"),
        };
        if since_id.is_some() {
            limit = 1000;
        }
        let since_ms = match number("since_timestamp") {
            None => None,
            Some(Ok(value)) => Some(value.saturating_mul(1000)),
            Some(_) => return bad("400.013", "since_timestamp"),
        };
        let until_ms = match number("until_timestamp") {
            None => None,
            Some(Ok(value)) => Some(value.saturating_mul(1000)),
            Some(_) => return bad("400.007", "until_timestamp"),
        };
        let generator = self.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let selected = generator.transactions.iter().filter(|t| {
            since_id.is_none_or(|id| t.id >= id)
                && since_ms.is_none_or(|ms| t.time_ms >= ms)
                && until_ms.is_none_or(|ms| t.time_ms <= ms)
        });
        let mut selected: Vec<&Transaction> = selected.collect();
        if descending {
            selected.reverse();
        }
        let page: Vec<String> = selected.into_iter().skip(offset).take(limit).map(Transaction::json).collect();
        Response::json(200, format!("[{}]", page.join(", ")))
    }

    fn crypto_transactions(&self, params: &[(String, String)]) -> Response {
        let number = |name: &str| param(params, name).map(str::parse::<i64>);
        let bad = |code: &str, reason: &str| {
            Response::json_value(400, &serde_json::json!({ "status": "error", "reason": reason, "code": code }))
        };
        let offset = match number("offset") {
            None => 0,
            Some(Ok(value)) if (0..=MAX_OFFSET as i64).contains(&value) => value as usize,
            Some(Ok(value)) if value > MAX_OFFSET as i64 => return bad("400.010", "Offset too large"),
            Some(_) => return bad("400.010", "Invalid offset"),
        };
        let limit = match number("limit") {
            None => 100,
            Some(Ok(value)) if (1..=1000).contains(&value) => value as usize,
            Some(Ok(value)) if value > 1000 => return bad("400.011", "Limit too large"),
            Some(_) => return bad("400.011", "Invalid limit"),
        };
        let generator = self.generator.lock().unwrap_or_else(PoisonError::into_inner);
        crypto::page(&crypto::entries(self.seed, &generator.transactions), offset, limit)
    }

    fn account_balances(&self) -> Response {
        let generator = self.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let rows: Vec<serde_json::Value> = generator
            .balances()
            .iter()
            .map(|(code, amount)| {
                let total = crate::sim::amounts::fixed(*amount, history::places(code));
                let reserved = crate::sim::amounts::fixed(Decimal::ZERO, history::places(code));
                serde_json::json!({ "currency": code, "total": total, "available": total, "reserved": reserved })
            })
            .collect();
        Response::json_value(200, &rows)
    }
}

impl State {
    /// A public market-data request (unsigned GET, metered like every request); `None` when
    /// the path is not one.
    fn public(&self, request: &Request, now: i64) -> Option<Response> {
        let markets = request.path == Endpoint::Markets.path();
        let pair = request.path.strip_prefix(&Endpoint::Ohlc.path()).and_then(|rest| rest.strip_suffix('/'));
        if !markets && pair.is_none() {
            return None;
        }
        if !self.meter.lock().unwrap_or_else(PoisonError::into_inner).admit(now) {
            self.count(|s| s.rate_limited += 1);
            return Some(rate_limited());
        }
        Some(match pair {
            Some(symbol) => market::ohlc(&self.market, symbol, &decode_pairs(&request.query), now),
            None => market::list(),
        })
    }
}

/// Bitstamp's answer to a request over the budget.
fn rate_limited() -> Response {
    Response::json_value(
        400,
        &serde_json::json!({ "status": "error", "reason": "Request rejected due to exceeded rate limit.", "response_code": "400.002" }),
    )
}

impl Handler for State {
    fn handle(&self, request: &Request) -> Response {
        let now = now_ms();
        self.count(|s| *s.requests_by_path.entry(request.path.clone()).or_default() += 1);
        if request.method == "GET" {
            if let Some(answer) = self.public(request, now) {
                return answer;
            }
        }
        let Some(endpoint) = Endpoint::from_path(&request.path) else {
            return Response::json_value(404, &serde_json::json!({ "status": "error", "reason": "Not found" }));
        };
        if request.method != "POST" {
            return error(405, "400.018", "GET parameters not allowed for this request.");
        }
        if !self.meter.lock().unwrap_or_else(PoisonError::into_inner).admit(now) {
            self.count(|s| s.rate_limited += 1);
            return rate_limited();
        }
        if let Err(refused) = self.authenticate(request, now) {
            return refused;
        }
        let params = decode_pairs(&request.body_text());
        match endpoint {
            Endpoint::UserTransactions => self.user_transactions(&params),
            Endpoint::CryptoTransactions => self.crypto_transactions(&params),
            Endpoint::AccountBalances => self.account_balances(),
            // Public paths are answered above; from_path never names them.
            Endpoint::Markets | Endpoint::Ohlc => error(405, "400.018", "Use GET for market data."),
        }
    }
}
