//! A local Bitfinex: the authenticated endpoints a history import uses, served over real HTTP.
//!
//! [`start`] generates the person's Bitfinex account ([`history`], on the shared market of
//! [`crate::sim::generate`]) and serves it on `127.0.0.1`: `POST /v2/auth/r/ledgers/hist`
//! (`start`, `end` inclusive, `limit` up to 2,500, newest first), `POST /v2/auth/r/movements/hist`
//! (the same, on each movement's MTS_UPDATED), `POST /v2/auth/r/wallets` and
//! `POST /v2/auth/r/permissions`, with the v2 authentication checked ([`super::auth`]: the key,
//! the signature over `/api/` + path + nonce + body, a nonce above the last one), Bitfinex's
//! error arrays (`["error", 10100, "apikey: digest invalid"]` with HTTP 500), each endpoint's
//! request limit counted over any sliding window (429 `{"error": "ERR_RATE_LIMIT"}` when over it),
//! and the server's injected faults. [`BitfinexSim::balances`] says what a complete import must
//! end with; [`BitfinexSim::add_trades`] and [`BitfinexSim::insert`] add entries between syncs.

pub mod history;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use rust_decimal::Decimal;

use self::history::{BitfinexProfile, Entry, Generator, Movement};
use super::api::{Budget, DEFAULT_BUDGET, Endpoint};
use super::auth;
use crate::Secret;
use crate::sim::faults::FaultConfig;
use crate::sim::generate::{Market, Profile, generate};
use crate::sim::server::{Handler, Request, Response, Server};
pub use crate::sim::stats::SimStats;
use crate::sim::{amounts, now_ms};

/// The one key the simulator accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct SimKey {
    /// The API key (`bfx-apikey`).
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
            api_key: "cointallysimulatedbitfinexkey0000000000000".to_owned(),
            secret: "cointallysimulatedbitfinexsecret0000000000".to_owned(),
        }
    }
}

/// Everything that shapes a simulator run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of the market and the history.
    pub seed: u64,
    /// Size of the history.
    pub profile: BitfinexProfile,
    /// Each endpoint's limit; `None`: unmetered.
    pub budget: Option<Budget>,
    /// Injected faults.
    pub faults: Option<FaultConfig>,
    /// The accepted key.
    pub key: SimKey,
    /// Whether the key may withdraw (`withdraw` write in `permissions`).
    pub key_may_withdraw: bool,
    /// Port on 127.0.0.1 (0: any).
    pub port: u16,
}

impl SimConfig {
    /// The demo account: demo profile, Bitfinex's limits, demo key (read-only).
    pub fn demo(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            profile: BitfinexProfile::demo(),
            budget: Some(DEFAULT_BUDGET),
            faults: None,
            key: SimKey::demo(),
            key_may_withdraw: false,
            port: 0,
        }
    }
}

struct State {
    key: SimKey,
    secret: Secret,
    key_may_withdraw: bool,
    generator: Mutex<Generator>,
    market: Market,
    budget: Option<Budget>,
    /// Times of the admitted requests per endpoint, within the last window.
    recent: Mutex<BTreeMap<Endpoint, VecDeque<i64>>>,
    last_nonce: Mutex<i64>,
    stats: Mutex<SimStats>,
}

/// A running Bitfinex simulator; stops on drop.
pub struct BitfinexSim {
    server: Server,
    state: Arc<State>,
}

impl std::fmt::Debug for BitfinexSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BitfinexSim").field("addr", &self.server.base_url()).finish_non_exhaustive()
    }
}

/// Generates the account of `config` and starts serving it.
pub fn start(config: SimConfig) -> io::Result<BitfinexSim> {
    let market_profile =
        Profile { start_ms: config.profile.start_ms, end_ms: config.profile.end_ms, trades: 0, ..Profile::demo() };
    let world = generate(config.seed, &market_profile);
    let generator = Generator::generate(config.seed, &world.market, &config.profile);
    let state = Arc::new(State {
        secret: Secret::new(config.key.secret.clone()),
        key: config.key,
        key_may_withdraw: config.key_may_withdraw,
        generator: Mutex::new(generator),
        market: world.market,
        budget: config.budget,
        recent: Mutex::new(BTreeMap::new()),
        last_nonce: Mutex::new(0),
        stats: Mutex::new(SimStats::default()),
    });
    let server = Server::start(config.port, Arc::clone(&state) as Arc<dyn Handler>, config.faults)?;
    Ok(BitfinexSim { server, state })
}

impl BitfinexSim {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// Each endpoint's limit a client should pace itself with (`None`: unmetered).
    pub fn budget(&self) -> Option<Budget> {
        self.state.budget
    }

    /// Balances by canonical symbol, every wallet added up, as `wallets` reports them (zeros left out).
    pub fn balances(&self) -> BTreeMap<String, Decimal> {
        let generator = self.state.generator.lock().unwrap_or_else(PoisonError::into_inner);
        amounts::reported_balances(generator.balances())
    }

    /// Every entry served, oldest first.
    pub fn entries(&self) -> Vec<Entry> {
        self.state.generator.lock().unwrap_or_else(PoisonError::into_inner).entries.clone()
    }

    /// Every deposit and withdrawal served from `movements/hist`, oldest first.
    pub fn movements(&self) -> Vec<Movement> {
        self.state.generator.lock().unwrap_or_else(PoisonError::into_inner).movements.clone()
    }

    /// Adds `count` trades now; returns how many were added.
    pub fn add_trades(&self, count: usize) -> usize {
        let mut generator = self.state.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let at = generator.entries.last().map_or(0, |e| e.time_ms) + 60_000;
        generator.add_trades(&self.state.market, count, at)
    }

    /// Adds an entry of `amount` `code` with `description` (one cointally may not know); returns its id.
    pub fn insert(&self, code: &str, amount: Decimal, description: &str) -> u64 {
        let mut generator = self.state.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let at = generator.entries.last().map_or(0, |e| e.time_ms) + 60_000;
        generator.insert(code, amount, description, at)
    }

    /// Requests, refusals and faults so far.
    pub fn stats(&self) -> SimStats {
        self.state.stats.lock().unwrap_or_else(PoisonError::into_inner).clone().with_server_counts(&self.server)
    }
}

/// Bitfinex's error array with HTTP 500.
fn error(code: u32, message: &str) -> Response {
    Response::json_value(500, &serde_json::json!(["error", code, message]))
}

impl State {
    fn count(&self, update: impl FnOnce(&mut SimStats)) {
        update(&mut self.stats.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// Counts one request to `endpoint` at `now`, or says it is over the limit of any window.
    fn admit(&self, endpoint: Endpoint, now: i64) -> bool {
        let Some(budget) = self.budget else { return true };
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

    /// Checks the `bfx-` headers; the error answer when they fail.
    fn authenticate(&self, request: &Request) -> Result<(), Response> {
        let refuse = |code: u32, message: &str| {
            self.count(|s| s.refused += 1);
            Err(error(code, message))
        };
        let header = |name: &str| request.header(name).unwrap_or_default();
        if header("bfx-apikey") != self.key.api_key {
            return refuse(10100, "apikey: invalid");
        }
        let nonce_text = header("bfx-nonce");
        let Ok(nonce) = nonce_text.parse::<i64>() else {
            return refuse(10114, "nonce: invalid");
        };
        let body = request.body_text();
        let path = request.path.trim_start_matches('/');
        if auth::signature(&self.secret, path, nonce_text, &body) != header("bfx-signature") {
            return refuse(10100, "apikey: digest invalid");
        }
        let mut last = self.last_nonce.lock().unwrap_or_else(PoisonError::into_inner);
        if nonce <= *last {
            drop(last);
            return refuse(10114, "nonce: small");
        }
        *last = nonce;
        Ok(())
    }

    fn ledgers(&self, body: &str) -> Response {
        let params: serde_json::Value = match serde_json::from_str(if body.trim().is_empty() { "{}" } else { body }) {
            Ok(value @ serde_json::Value::Object(_)) => value,
            _ => return error(10020, "body: invalid"),
        };
        let number = |name: &str| params.get(name).and_then(serde_json::Value::as_i64);
        let limit = match params.get("limit") {
            None => 25,
            Some(_) => match number("limit") {
                Some(limit @ 1..=2500) => limit as usize,
                _ => return error(10020, "limit: invalid"),
            },
        };
        let (start, end) = (number("start"), number("end"));
        let generator = self.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let page: Vec<String> = generator
            .entries
            .iter()
            .rev()
            .filter(|e| start.is_none_or(|ms| e.time_ms >= ms) && end.is_none_or(|ms| e.time_ms <= ms))
            .take(limit)
            .map(Entry::json)
            .collect();
        Response::json(200, format!("[{}]", page.join(",")))
    }

    /// `movements/hist`: `start` and `end` select on MTS_UPDATED (inclusive), `limit` up to
    /// 2,500, newest first; `id` (a list) picks movements by id.
    fn movements(&self, body: &str) -> Response {
        let params: serde_json::Value = match serde_json::from_str(if body.trim().is_empty() { "{}" } else { body }) {
            Ok(value @ serde_json::Value::Object(_)) => value,
            _ => return error(10020, "body: invalid"),
        };
        let number = |name: &str| params.get(name).and_then(serde_json::Value::as_i64);
        let limit = match params.get("limit") {
            None => 25,
            Some(_) => match number("limit") {
                Some(limit @ 1..=2500) => limit as usize,
                _ => return error(10020, "limit: invalid"),
            },
        };
        let ids: Option<Vec<u64>> = params
            .get("id")
            .and_then(|ids| ids.as_array())
            .map(|ids| ids.iter().filter_map(|id| id.as_u64()).collect());
        let (start, end) = (number("start"), number("end"));
        let generator = self.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let mut listed: Vec<&Movement> = generator
            .movements
            .iter()
            .filter(|m| start.is_none_or(|ms| m.updated_ms >= ms) && end.is_none_or(|ms| m.updated_ms <= ms))
            .filter(|m| ids.as_ref().is_none_or(|ids| ids.contains(&m.id)))
            .collect();
        listed.sort_by_key(|m| std::cmp::Reverse((m.updated_ms, m.id)));
        let page: Vec<String> = listed.into_iter().take(limit).map(Movement::json).collect();
        Response::json(200, format!("[{}]", page.join(",")))
    }

    fn wallets(&self) -> Response {
        let generator = self.generator.lock().unwrap_or_else(PoisonError::into_inner);
        let rows: Vec<String> = generator
            .wallets()
            .iter()
            .map(|((wallet, code), amount)| {
                let amount = amount.normalize();
                format!(r#"["{wallet}","{}",{amount},0,{amount},null,null]"#, super::assets::bitfinex_code(code))
            })
            .collect();
        Response::json(200, format!("[{}]", rows.join(",")))
    }

    fn permissions(&self) -> Response {
        let withdraw = u8::from(self.key_may_withdraw);
        Response::json_value(
            200,
            &serde_json::json!([
                ["account", 1, 0],
                ["history", 1, 0],
                ["orders", 1, 0],
                ["positions", 1, 0],
                ["funding", 1, 0],
                ["settings", 1, 0],
                ["wallets", 1, 0],
                ["withdraw", withdraw, withdraw],
                ["ui_withdraw", 0, 0],
                ["bfxpay", 0, 0],
            ]),
        )
    }
}

impl Handler for State {
    fn handle(&self, request: &Request) -> Response {
        let now = now_ms();
        self.count(|s| *s.requests_by_path.entry(request.path.clone()).or_default() += 1);
        let Some(endpoint) = Endpoint::from_path(&request.path) else {
            return Response::json_value(404, &serde_json::json!(["error", 10020, "not found"]));
        };
        if request.method != "POST" {
            return error(10020, "method: invalid");
        }
        if !self.admit(endpoint, now) {
            self.count(|s| s.rate_limited += 1);
            return Response::json_value(429, &serde_json::json!({ "error": "ERR_RATE_LIMIT" }));
        }
        if let Err(refused) = self.authenticate(request) {
            return refused;
        }
        match endpoint {
            Endpoint::Ledgers => self.ledgers(&request.body_text()),
            Endpoint::Movements => self.movements(&request.body_text()),
            Endpoint::Wallets => self.wallets(),
            Endpoint::Permissions => self.permissions(),
        }
    }

    fn error_response(&self, status: u16, _request: &Request) -> Response {
        if status == 429 {
            return Response::json_value(429, &serde_json::json!({ "error": "ERR_RATE_LIMIT" }));
        }
        Response::json_value(status, &serde_json::json!(["error", 10001, "ERR_GENERIC: injected fault"]))
    }
}
