//! A local Binance: the private API endpoints a history import uses, served over real HTTP.
//!
//! [`start`] generates one person's history ([`crate::sim::generate`]), renders it once into
//! Binance's JSON records ([`store`]) and serves it on `127.0.0.1` with Binance's paths,
//! parameters, envelopes, field names and types, HMAC signature and timestamp checks, error
//! codes and bodies ([`endpoints`]), request weights, usage headers, 429s and 418 bans
//! ([`limits`]), and optionally injected faults. The server clock is the real wall clock,
//! because clients sign real timestamps; the history itself is fixed by the seed.
//! [`BinanceSim::balances`] and [`BinanceSim::records`] say what a complete import must end
//! with, and [`BinanceSim::stats`] how the client treated the budgets.

pub mod endpoints;
pub mod limits;
pub mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use self::endpoints::{ApiError, Context, Params, check_unread, endpoint};
use self::limits::{Admission, RateLimits};
use self::store::Store;
use crate::Secret;
use crate::binance::venue::{self, Venue};
#[cfg(test)]
use crate::sim::faults::FaultConfig;
use crate::sim::generate::{Activity, BINANCE, EXTERNAL_WALLET, Market, Profile, World, generate};
use crate::sim::json;
use crate::sim::now_ms;
use crate::sim::server::{Handler, Request, Response, Server};

pub use self::limits::BucketStats;

/// A record of a venue's own stream to add while serving: (stream, row, balance effects).
pub type VenueRow<'a> = (&'static str, store::Row, Vec<(&'a str, Decimal)>);

/// How the simulator meters request weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limits {
    /// No budgets at all (throughput benchmarks); no usage headers either.
    Off,
    /// Binance's budgets per minute (and per second for withdraw history).
    Real,
    /// Binance's budgets, but every per-minute budget counts per `window` instead; the usage
    /// headers then carry that window (`X-MBX-USED-WEIGHT-5S`).
    Scaled {
        /// The window that replaces the minute.
        window: Duration,
    },
}

/// The one API key the simulator accepts, and what it reports the key may do.
#[derive(Clone, PartialEq, Eq)]
pub struct SimKey {
    /// The API key (`X-MBX-APIKEY`).
    pub api_key: String,
    /// The HMAC secret.
    pub secret: String,
    /// Reported as `enableWithdrawals`.
    pub can_withdraw: bool,
    /// Reported as `enableSpotAndMarginTrading`.
    pub can_trade: bool,
    /// Reported as `ipRestrict`.
    pub ip_restrict: bool,
}

impl std::fmt::Debug for SimKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimKey")
            .field("api_key", &"[redacted]")
            .field("secret", &"[redacted]")
            .field("can_withdraw", &self.can_withdraw)
            .field("can_trade", &self.can_trade)
            .field("ip_restrict", &self.ip_restrict)
            .finish()
    }
}

impl SimKey {
    /// The demo key and secret published in Binance's docs (<https://developers.binance.com/docs/binance-spot-api-docs>), read-only.
    pub fn demo() -> SimKey {
        SimKey {
            api_key: "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A".to_owned(),
            secret: "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j".to_owned(),
            can_withdraw: false,
            can_trade: false,
            ip_restrict: false,
        }
    }
}

/// Everything that shapes a simulator run (its `limits` are Binance's budgets).
pub type SimConfig = crate::sim::config::SimConfig<Profile, Limits, SimKey>;

impl SimConfig {
    /// The demo account for `seed`: demo profile, real budgets, demo key, no faults, any port.
    pub fn demo(seed: u64) -> SimConfig {
        SimConfig { seed, profile: Profile::demo(), limits: Limits::Real, faults: None, key: SimKey::demo(), port: 0 }
    }
}

/// What the simulator saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimStats {
    /// Every request read, faulted ones included.
    pub requests: u64,
    /// Requests per path that reached the Binance handler (refused ones included, faulted ones not).
    pub requests_by_path: BTreeMap<String, u64>,
    /// Answers 429 because a budget was exceeded (injected 429s are counted in `faults`).
    pub rate_limited: u64,
    /// Answers 418 (IP banned).
    pub banned: u64,
    /// Injected faults, all kinds.
    pub faults: u64,
    /// Injected faults by kind (`server_error`, `timeout`, `truncated`, `too_many_requests`).
    pub faults_by_kind: BTreeMap<String, u64>,
    /// Every budget with the weight counted in each of its windows.
    pub buckets: Vec<BucketStats>,
}

/// The state behind the HTTP handler.
struct State {
    api_key: String,
    secret: Secret,
    market: Market,
    world: Mutex<World>,
    store: RwLock<Store>,
    limits: Mutex<RateLimits>,
    requests: Mutex<BTreeMap<String, u64>>,
    rate_limits: Value,
    restrictions: String,
    /// The minute budget's interval as messages write it (`1 MINUTE`, `5 SECOND`).
    interval_text: String,
    /// Symbols removed from exchangeInfo altogether: `myTrades` and `klines` answer `-1121`.
    removed: RwLock<BTreeSet<String>>,
    /// The exchange simulated: which paths exist, their weights, the `/api` budget.
    venue: &'static Venue,
}

/// A running Binance simulator; stops on drop.
pub struct BinanceSim {
    server: Server,
    state: Arc<State>,
    seed: u64,
}

impl std::fmt::Debug for BinanceSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinanceSim").field("addr", &self.server.addr()).field("seed", &self.seed).finish()
    }
}

fn rate_limits_json(limits: Limits, venue: &Venue) -> Value {
    let (number, unit, weight) = match limits {
        Limits::Off => (1, "MINUTE", 1_000_000_000),
        Limits::Real => (1, "MINUTE", venue.api_weight_per_minute),
        Limits::Scaled { window } => {
            let (number, unit) = limits::interval(i64::try_from(window.as_millis()).unwrap_or(60_000).max(1_000));
            (number, unit, venue.api_weight_per_minute)
        }
    };
    json!([
        { "rateLimitType": "REQUEST_WEIGHT", "interval": unit, "intervalNum": number, "limit": weight },
        { "rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100 },
        { "rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200_000 },
        { "rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": venue.raw_requests_per_5_minutes },
    ])
}

fn restrictions_json(key: &SimKey, created_ms: i64) -> String {
    json::text(&json!({
        "ipRestrict": key.ip_restrict,
        "createTime": created_ms,
        "enableReading": true,
        "enableWithdrawals": key.can_withdraw,
        "enableInternalTransfer": false,
        "enableMargin": false,
        "enableFutures": false,
        "permitsUniversalTransfer": false,
        "enableVanillaOptions": false,
        "enableFixApiTrade": false,
        "enableFixReadOnly": true,
        "enableSpotAndMarginTrading": key.can_trade,
        "enablePortfolioMarginTrading": false,
    }))
}

/// Generates the history of `config` and starts serving it.
pub fn start(config: SimConfig) -> io::Result<BinanceSim> {
    start_at(&venue::BINANCE, config)
}

/// [`start`] for another exchange speaking Binance's API: only the paths `venue` serves
/// exist (the others answer 404), at its weights and its `/api` budget.
pub fn start_at(venue: &'static Venue, config: SimConfig) -> io::Result<BinanceSim> {
    start_at_with(venue, config, |_, _| {})
}

/// [`start_at`] with `extend` adding the venue's own records (and their balance effects) to
/// the generated ones before serving, from the generated market.
pub fn start_at_with(
    venue: &'static Venue,
    config: SimConfig,
    extend: impl FnOnce(&Market, &mut Store),
) -> io::Result<BinanceSim> {
    let world = generate(config.seed, &config.profile);
    let mut store = Store::new(world.history.account(BINANCE));
    extend(&world.market, &mut store);
    let (enabled, minute_ms) = match config.limits {
        Limits::Off => (false, 60_000),
        Limits::Real => (true, 60_000),
        Limits::Scaled { window } => (true, i64::try_from(window.as_millis()).unwrap_or(60_000)),
    };
    let state = Arc::new(State {
        api_key: config.key.api_key.clone(),
        secret: Secret::new(config.key.secret.clone()),
        market: world.market.clone(),
        world: Mutex::new(world),
        store: RwLock::new(store),
        limits: Mutex::new(RateLimits::with_api_limit(enabled, minute_ms, venue.api_weight_per_minute)),
        requests: Mutex::new(BTreeMap::new()),
        rate_limits: rate_limits_json(config.limits, venue),
        restrictions: restrictions_json(&config.key, config.profile.start_ms - 30 * 86_400_000),
        interval_text: {
            let (number, unit) = limits::interval(minute_ms.max(1_000));
            format!("{number} {unit}")
        },
        removed: RwLock::new(BTreeSet::new()),
        venue,
    });
    let server = Server::start(config.port, Arc::clone(&state) as Arc<dyn Handler>, config.faults)?;
    Ok(BinanceSim { server, state, seed: config.seed })
}

/// The sandbox: the demo account for `seed` on `port` with real budgets and the demo key.
pub fn serve(port: u16, seed: u64) -> io::Result<BinanceSim> {
    start(SimConfig { port, ..SimConfig::demo(seed) })
}

impl BinanceSim {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The person's own wallet's side of the account's deposits and withdrawals (the same
    /// transaction hashes), oldest first: what a self-custody wallet's history would show.
    pub fn external(&self) -> Vec<Activity> {
        let world = self.state.world.lock().unwrap_or_else(PoisonError::into_inner);
        let mut external = world.history.account(EXTERNAL_WALLET).to_vec();
        external.sort_by_key(Activity::time_ms);
        external
    }

    /// The simulated market: its symbols (with their price decimals) and prices.
    pub fn market(&self) -> &Market {
        &self.state.market
    }

    /// One unit of `asset` in US dollars at `time_ms`, from the simulated market.
    pub fn usd(&self, asset: &str, time_ms: i64) -> Option<Decimal> {
        self.state.market.usd(asset, time_ms)
    }

    /// Asset → total (free + locked) as `/api/v3/account` reports it; assets at zero left out.
    pub fn balances(&self) -> BTreeMap<String, Decimal> {
        let store = self.state.store.read().unwrap_or_else(PoisonError::into_inner);
        store
            .balances
            .iter()
            .filter(|(_, total)| !total.is_zero())
            .map(|(asset, total)| (asset.clone(), *total))
            .collect()
    }

    /// Stream endpoint name → number of records it serves (all in a final state: the failed
    /// ones and zero-amount distributions are records too, stored raw without an event).
    pub fn records(&self) -> BTreeMap<&'static str, usize> {
        self.state.store.read().unwrap_or_else(PoisonError::into_inner).counts()
    }

    /// Requests, refusals, faults and budget use so far.
    pub fn stats(&self) -> SimStats {
        let limits = self.state.limits.lock().unwrap_or_else(PoisonError::into_inner);
        let faults_by_kind = self.server.faults_injected();
        SimStats {
            requests: self.server.requests(),
            requests_by_path: self.state.requests.lock().unwrap_or_else(PoisonError::into_inner).clone(),
            rate_limited: limits.too_many,
            banned: limits.banned,
            faults: faults_by_kind.values().sum(),
            faults_by_kind,
            buckets: limits.stats(),
        }
    }

    /// Changes how long injected timeouts stay silent (default 3 s, see [`crate::sim::faults`]).
    pub fn set_fault_timeout_delay(&self, delay: Duration) {
        self.server.set_timeout_delay(delay);
    }

    /// Appends `count` new trades at the current time (for incremental-sync tests).
    pub fn add_trades(&self, count: usize) {
        let added = self.state.world.lock().unwrap_or_else(PoisonError::into_inner).add_trades(count, now_ms());
        let mut store = self.state.store.write().unwrap_or_else(PoisonError::into_inner);
        for activity in &added {
            store.add(activity);
        }
    }

    /// Adds records to a venue's own streams while serving ([`Store::push_row`]), as new
    /// history that appeared since the last sync.
    pub fn push_rows(&self, rows: Vec<VenueRow<'_>>) {
        let mut store = self.state.store.write().unwrap_or_else(PoisonError::into_inner);
        for (stream, row, effects) in rows {
            store.push_row(stream, row, &effects);
        }
    }

    /// Adds a self-trade on `symbol` now (see [`Store::add_self_trade`]): two `myTrades` rows
    /// with one id, the buyer's and the seller's. Returns the trade id.
    pub fn add_self_trade(&self, symbol: &str, qty: Decimal, price: Decimal, fee: Decimal) -> Option<u64> {
        let pair = self.state.market.pair(symbol)?;
        let mut store = self.state.store.write().unwrap_or_else(PoisonError::into_inner);
        Some(store.add_self_trade(&pair.base, &pair.quote, qty, price, fee, now_ms()))
    }

    /// Adds one order on `symbol` filled now in `parts` (quantity, fee in the quote asset) at
    /// `price` (see [`Store::add_split_order`]): the fills a statement sums into one row.
    /// Returns the trade ids and the time (ms).
    pub fn add_split_order(
        &self,
        symbol: &str,
        is_buyer: bool,
        parts: &[(Decimal, Decimal)],
        price: Decimal,
    ) -> Option<(Vec<u64>, i64)> {
        let pair = self.state.market.pair(symbol)?;
        let mut store = self.state.store.write().unwrap_or_else(PoisonError::into_inner);
        let time_ms = now_ms();
        Some((store.add_split_order(&pair.base, &pair.quote, is_buyer, parts, price, time_ms), time_ms))
    }

    /// Removes every symbol of `asset` from exchangeInfo altogether, as Binance did with some
    /// old pairs: they are no longer listed (not even as `BREAK`), and `myTrades` and `klines`
    /// answer `-1121 Invalid symbol` for them, while the account's history keeps their fills.
    /// Returns the symbols removed.
    pub fn remove_pairs_of(&self, asset: &str) -> Vec<String> {
        let symbols: Vec<String> = self
            .state
            .market
            .pairs()
            .iter()
            .filter(|pair| pair.base == asset || pair.quote == asset)
            .map(|pair| pair.symbol.clone())
            .collect();
        self.state.removed.write().unwrap_or_else(PoisonError::into_inner).extend(symbols.iter().cloned());
        symbols
    }

    /// The symbols of the simulated exchangeInfo with whether the person traded them.
    pub fn symbols(&self) -> Vec<(String, bool)> {
        self.state.market.pairs().iter().map(|pair| (pair.symbol.clone(), pair.traded)).collect()
    }

    /// A paragraph saying what is served, for `cointally sandbox serve`.
    pub fn describe(&self) -> String {
        let records = self.records();
        let total: usize = records.values().sum();
        let listing: Vec<String> = records.iter().map(|(name, count)| format!("{name} {count}")).collect();
        format!(
            "A simulated Binance is listening on {url} with a generated account (seed {seed}): {total} records \
             ({listing}) over {symbols} symbols, served by the private API paths cointally uses \
             (/api/v3/account, /api/v3/myTrades, /sapi/v1/capital/deposit/hisrec, … and the public \
             /api/v3/exchangeInfo, /api/v3/klines), with Binance's signatures, windows, errors, request \
             weights and usage headers. It accepts one API key ({key_start}…; by default Binance's published \
             demo key and secret, read-only). Point an account at it with \
             --base-url {url} or COINTALLY_BINANCE_BASE_URL={url}. Nothing here touches the real Binance.",
            url = self.base_url(),
            seed = self.seed,
            listing = listing.join(", "),
            symbols = self.state.market.pairs().len(),
            key_start = self.state.api_key.chars().take(8).collect::<String>(),
        )
    }

    /// Blocks while the simulator serves (for the sandbox command, which ends with Ctrl-C).
    pub fn wait(&self) {
        while self.server.is_running() {
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stops serving (also done on drop).
    pub fn stop(mut self) {
        self.server.stop();
    }
}

fn error_response(error: &ApiError) -> Response {
    Response::json(error.http, error.body())
}

impl State {
    fn count(&self, path: &str) {
        let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        match requests.get_mut(path) {
            Some(count) => *count += 1,
            None => {
                requests.insert(path.to_owned(), 1);
            }
        }
    }

    /// The key, signature and timestamp checks of a signed request.
    fn authenticate(&self, request: &Request, params: &Params, now_ms: i64) -> Result<(), ApiError> {
        let unauthorized = |code, msg: &str| ApiError { http: 401, code, msg: msg.to_owned() };
        match request.header(crate::binance::auth::API_KEY_HEADER) {
            Some(key) if key == self.api_key => {}
            Some(key) if !key.is_empty() && key.bytes().all(|byte| byte.is_ascii_alphanumeric()) => {
                return Err(unauthorized(-2015, "Invalid API-key, IP, or permissions for action."));
            }
            _ => return Err(unauthorized(-2014, "API-key format invalid.")),
        }
        let recv_window = match params.get("recvWindow") {
            None => Decimal::new(5_000, 0),
            Some(text) => text.parse::<Decimal>().map_err(|_| ApiError::mandatory("recvWindow"))?,
        };
        if recv_window > Decimal::new(60_000, 0) {
            return Err(ApiError::bad(-1131, "recvWindow must be less than 60000"));
        }
        let timestamp = params.time("timestamp")?.ok_or_else(|| ApiError::mandatory("timestamp"))?;
        let signature = params.get("signature").ok_or_else(|| ApiError::mandatory("signature"))?;
        let strip =
            |raw: &str| raw.split('&').filter(|part| !part.starts_with("signature=")).collect::<Vec<_>>().join("&");
        let body = request.body_text();
        let expected = crate::binance::auth::signature(&self.secret, &strip(&request.query), &strip(&body));
        if !expected.is_ok_and(|expected| expected.eq_ignore_ascii_case(signature)) {
            return Err(ApiError::bad(-1022, "Signature for this request is not valid."));
        }
        if timestamp >= now_ms + 1_000 {
            return Err(ApiError::bad(-1021, "Timestamp for this request was 1000ms ahead of the server's time."));
        }
        if Decimal::from(now_ms - timestamp) > recv_window {
            return Err(ApiError::bad(-1021, "Timestamp for this request is outside of the recvWindow."));
        }
        Ok(())
    }
}

impl Handler for State {
    fn handle(&self, request: &Request) -> Response {
        let now = now_ms();
        self.count(&request.path);
        let served = crate::binance::api::Endpoint::from_path(&request.path)
            .filter(|known| self.venue.serves(*known))
            .map(|known| (known, (self.venue.weight)(known)));
        let Some((endpoint, weight)) = endpoint(&request.path)
            .filter(|_| request.method == "GET")
            .and_then(|endpoint| Some((endpoint, served?.1)))
        else {
            return Response::json(404, ApiError::bad(-1000, "Unknown path or method.").body());
        };
        let mut costs = (endpoint.cost)(&Params::lenient(&request.query));
        if let Some(weight) = weight {
            costs.iter_mut().for_each(|(_, cost)| *cost = weight);
        }
        let headers = match self.limits.lock().unwrap_or_else(PoisonError::into_inner).admit(now, &costs) {
            Admission::Allowed(headers) => headers,
            Admission::TooMany { retry_after, message, headers } => {
                let mut response = error_response(&ApiError { http: 429, code: -1003, msg: message });
                response.headers.extend(headers);
                return response.with_header("Retry-After", retry_after.to_string());
            }
            Admission::Banned { retry_after, message } => {
                return error_response(&ApiError { http: 418, code: -1003, msg: message })
                    .with_header("Retry-After", retry_after.to_string());
            }
        };
        let body = request.body_text();
        let answer = Params::parse(&[&request.query, &body]).and_then(|params| {
            if endpoint.signed {
                self.authenticate(request, &params, now)?;
            }
            check_unread(endpoint, &params)?;
            let store = self.store.read().unwrap_or_else(PoisonError::into_inner);
            let removed = self.removed.read().unwrap_or_else(PoisonError::into_inner);
            let context = Context {
                removed: &removed,
                store: &store,
                market: &self.market,
                now_ms: now,
                rate_limits: &self.rate_limits,
                restrictions: &self.restrictions,
            };
            (endpoint.answer)(&context, &params)
        });
        let mut response = match answer {
            Ok(json) => Response::json(200, json),
            Err(error) => error_response(&error),
        };
        response.headers.extend(headers);
        response
    }

    fn error_response(&self, status: u16, _request: &Request) -> Response {
        let error = match status {
            429 => ApiError {
                http: 429,
                code: -1003,
                msg: format!(
                    "Too much request weight used; current limit is {} request weight per {}. \
                     Please use WebSocket Streams for live updates to avoid polling the API.",
                    self.venue.api_weight_per_minute, self.interval_text
                ),
            },
            503 => ApiError {
                http: 503,
                code: -1007,
                msg: "Timeout waiting for response from backend server. Send status unknown; execution status unknown."
                    .to_owned(),
            },
            status => ApiError {
                http: status,
                code: -1000,
                msg: "An unknown error occurred while processing the request.".to_owned(),
            },
        };
        error_response(&error)
    }
}

#[cfg(test)]
mod tests;
