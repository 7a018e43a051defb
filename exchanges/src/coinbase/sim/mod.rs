//! A local Coinbase, served over real HTTP on `127.0.0.1`.
//!
//! [`start`] generates the world of a seed ([`crate::sim::generate`]) and serves it with
//! Coinbase's paths, bodies and errors. Today that is the Coinbase Exchange public market data
//! ([`market`]: products and candles, priced from the generated market, so that candles agree
//! with every simulator's history); the account APIs (App v2, Advanced Trade v3) will join the
//! same server. The public endpoints are metered like Coinbase's (10 requests per second per
//! IP with bursts of 15, answered `429 {"message":"Public rate limit exceeded"}` beyond), which
//! [`Limits::Off`] switches off; the server injects faults when asked ([`crate::sim::faults`]).
//! [`CoinbaseSim::stats`] counts requests, so tests can check what a client asked.

pub mod market;

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use self::market::Product;
use crate::sim::faults::FaultConfig;
use crate::sim::generate::{Market, Profile, generate};
use crate::sim::server::{Handler, Request, Response, Server};

/// Whether the simulator meters requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limits {
    /// No limit at all (tests that send many requests fast, benchmarks).
    Off,
    /// Coinbase's: public endpoints 10 per second with bursts of 15, per IP.
    Real,
}

/// Public requests per second, and the burst allowed.
const PUBLIC_PER_SECOND: i64 = 10;
const PUBLIC_BURST: i64 = 15;

/// Everything that shapes a simulator run.
#[derive(Debug, Clone)]
pub struct CoinbaseSimConfig {
    /// Seed of the world (the same seed as another simulator's gives the same prices).
    pub seed: u64,
    /// Size and span of the history.
    pub profile: Profile,
    /// Rate limits.
    pub limits: Limits,
    /// Injected faults, if any.
    pub faults: Option<FaultConfig>,
    /// Port to bind on 127.0.0.1 (0: chosen by the OS).
    pub port: u16,
}

impl CoinbaseSimConfig {
    /// The demo world for `seed`: demo profile, real limits, no faults, any port.
    pub fn demo(seed: u64) -> CoinbaseSimConfig {
        CoinbaseSimConfig { seed, profile: Profile::demo(), limits: Limits::Real, faults: None, port: 0 }
    }
}

/// What the simulator saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoinbaseSimStats {
    /// Every request read, faulted ones included.
    pub requests: u64,
    /// Requests per path that reached the Coinbase handler (refused ones included, faulted ones not).
    pub requests_by_path: BTreeMap<String, u64>,
    /// Candle requests that reached the handler, all products together.
    pub candle_requests: u64,
    /// Answers 429 because the public limit was exceeded (injected 429s are counted in `faults`).
    pub rate_limited: u64,
    /// Injected faults, all kinds.
    pub faults: u64,
    /// Injected faults by kind.
    pub faults_by_kind: BTreeMap<String, u64>,
}

/// A token bucket: `PUBLIC_BURST` requests at once, refilled at `PUBLIC_PER_SECOND`.
#[derive(Debug)]
struct PublicLimit {
    /// Tokens left, in thousandths.
    milli_tokens: i64,
    refilled: Instant,
}

impl PublicLimit {
    fn new(now: Instant) -> PublicLimit {
        PublicLimit { milli_tokens: PUBLIC_BURST * 1000, refilled: now }
    }

    /// Takes one request's token at `now` if there is one.
    fn admit(&mut self, now: Instant) -> bool {
        let elapsed_ms = i64::try_from(now.duration_since(self.refilled).as_millis()).unwrap_or(i64::MAX);
        if elapsed_ms > 0 {
            self.milli_tokens =
                self.milli_tokens.saturating_add(elapsed_ms.saturating_mul(PUBLIC_PER_SECOND)).min(PUBLIC_BURST * 1000);
            self.refilled = now;
        }
        if self.milli_tokens >= 1000 {
            self.milli_tokens -= 1000;
            true
        } else {
            false
        }
    }
}

/// The state behind the HTTP handler.
struct State {
    seed: u64,
    market: Market,
    products: Vec<Product>,
    limits: Limits,
    public: Mutex<PublicLimit>,
    requests: Mutex<BTreeMap<String, u64>>,
    candle_requests: Mutex<u64>,
    rate_limited: Mutex<u64>,
}

/// A running Coinbase simulator; stops on drop.
pub struct CoinbaseSim {
    server: Server,
    state: Arc<State>,
}

impl std::fmt::Debug for CoinbaseSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoinbaseSim").field("addr", &self.server.addr()).field("seed", &self.state.seed).finish()
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(0))
}

/// Generates the world of `config` and starts serving it.
pub fn start(config: CoinbaseSimConfig) -> io::Result<CoinbaseSim> {
    let world = generate(config.seed, &config.profile);
    let products = market::products(&world.market);
    let state = Arc::new(State {
        seed: config.seed,
        market: world.market,
        products,
        limits: config.limits,
        public: Mutex::new(PublicLimit::new(Instant::now())),
        requests: Mutex::new(BTreeMap::new()),
        candle_requests: Mutex::new(0),
        rate_limited: Mutex::new(0),
    });
    let server = Server::start(config.port, Arc::clone(&state) as Arc<dyn Handler>, config.faults)?;
    Ok(CoinbaseSim { server, state })
}

/// The sandbox: the demo world for `seed` on `port` with real limits.
pub fn serve(port: u16, seed: u64) -> io::Result<CoinbaseSim> {
    start(CoinbaseSimConfig { port, ..CoinbaseSimConfig::demo(seed) })
}

impl CoinbaseSim {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The generated market the prices come from.
    pub fn market(&self) -> &Market {
        &self.state.market
    }

    /// Every product listed, sorted by id.
    pub fn products(&self) -> &[Product] {
        &self.state.products
    }

    /// Requests, refusals and faults so far.
    pub fn stats(&self) -> CoinbaseSimStats {
        let faults_by_kind = self.server.faults_injected();
        CoinbaseSimStats {
            requests: self.server.requests(),
            requests_by_path: self.state.requests.lock().unwrap_or_else(PoisonError::into_inner).clone(),
            candle_requests: *self.state.candle_requests.lock().unwrap_or_else(PoisonError::into_inner),
            rate_limited: *self.state.rate_limited.lock().unwrap_or_else(PoisonError::into_inner),
            faults: faults_by_kind.values().sum(),
            faults_by_kind,
        }
    }

    /// Changes how long injected timeouts stay silent (default 3 s, see [`crate::sim::faults`]).
    pub fn set_fault_timeout_delay(&self, delay: Duration) {
        self.server.set_timeout_delay(delay);
    }

    /// A paragraph saying what is served, for `cointally sandbox serve`.
    pub fn describe(&self) -> String {
        format!(
            "A simulated Coinbase Exchange is listening on {url} (seed {seed}): {count} products (X-USD for every \
             crypto asset, EUR and GBP for the majors) with one-minute to one-day candles from {from} on, at \
             GET /products and GET /products/{{id}}/candles, limited like Coinbase's public API. Point cointally's \
             prices at it with COINTALLY_COINBASE_EXCHANGE_BASE_URL={url}. Nothing here touches the real Coinbase.",
            url = self.base_url(),
            seed = self.state.seed,
            count = self.state.products.len(),
            from = crate::time::format_rfc3339(crate::time::from_millis(self.state.market.start_ms())),
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

impl State {
    fn count(&self, path: &str) {
        let mut requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        *requests.entry(path.to_owned()).or_insert(0) += 1;
        if path.ends_with("/candles") {
            *self.candle_requests.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        }
    }
}

impl Handler for State {
    fn handle(&self, request: &Request) -> Response {
        self.count(&request.path);
        if self.limits == Limits::Real
            && !self.public.lock().unwrap_or_else(PoisonError::into_inner).admit(Instant::now())
        {
            *self.rate_limited.lock().unwrap_or_else(PoisonError::into_inner) += 1;
            return market::message(429, "Public rate limit exceeded");
        }
        match market::handle(&self.market, &self.products, self.seed, request, now_ms()) {
            Some(response) => response,
            None => market::message(404, "NotFound"),
        }
    }

    fn error_response(&self, status: u16, _request: &Request) -> Response {
        match status {
            429 => market::message(429, "Public rate limit exceeded"),
            _ => market::message(status, "Internal server error"),
        }
    }
}

#[cfg(test)]
mod tests;
