//! A local Kraken: the private endpoints a ledger import uses, served over real HTTP.
//!
//! [`start`] generates the person's Kraken account ([`history`], on the shared market of
//! [`crate::sim::generate`]) and serves it on `127.0.0.1` with Kraken's paths (POST form bodies
//! under `/0/private/`, GET under `/0/public/`), `API-Key`/`API-Sign` checks, the nonce rule (each
//! nonce greater than the last one the key used), 50-entry pages with `ofs`, `start`
//! (exclusive) and `end` (inclusive) as ledger ids or seconds, newest first, `count` unless
//! `without_count`, Kraken's `{"error": [...]}` answers (`EAPI:Invalid key`, `EAPI:Invalid
//! signature`, `EAPI:Invalid nonce`, `EAPI:Rate limit exceeded`, `EGeneral:Permission denied`,
//! `EGeneral:Temporary lockout`, `EGeneral:Invalid arguments`), the per-key call counter of a
//! [`Tier`] (optionally decaying faster: [`Limits::Scaled`]) and the server's injected faults.
//! [`KrakenSim::balances`] says what a complete import must end with, [`KrakenSim::add_trades`]
//! and [`KrakenSim::insert_after_ledger_calls`] add entries while a client walks, and
//! [`KrakenSim::reject_nonces`] refuses the next nonces as another program on the key would.
//! The public market data a price source reads, `AssetPairs` and `OHLC`, is served by [`ohlc`]
//! from the same market, metered by a public counter of about one call per second (not with
//! [`Limits::Off`]), its 720 rows ending at the simulator's "now": the real time, or the one
//! [`KrakenSim::set_now`] fixes (tests).

pub mod history;
pub mod ohlc;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::value::RawValue;

use self::history::{Fill, Generator, KrakenProfile, LedgerEntry, places};
use super::api::{Endpoint, Tier};
use crate::Secret;
use crate::http::decode_pairs;
use crate::sim::counters::{DecayingCounter, Spending, share_percent};
use crate::sim::generate::{Activity, Market, Profile, generate};
use crate::sim::json::{self, Ordered};
use crate::sim::now_ms;
use crate::sim::server::{Handler, Request, Response, Server};

/// Entries per page.
const PAGE: usize = 50;
/// Rate-limit answers tolerated (within a decay of the full counter) before a lockout.
const TOLERANCE: u32 = 5;
/// Kraken's lockout, before scaling.
const LOCKOUT_MS: i64 = 15 * 60 * 1000;
/// The public (per IP) limit modelled as a counter: bursts of 5, one call a second.
const PUBLIC_TIER: Tier = Tier { capacity: 5, decay_milli: 1000 };

/// How the simulator meters calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limits {
    /// No counter (throughput benchmarks).
    Off,
    /// The tier's counter as Kraken runs it.
    Real(Tier),
    /// The tier's counter decaying `speed` times faster (tests and the demo take seconds).
    Scaled {
        /// The tier.
        tier: Tier,
        /// How many times faster the counter decays (and lockouts end).
        speed: u32,
    },
}

impl Limits {
    /// The counter a client must model for these limits (the tier with the decay scaled).
    pub fn client_tier(self) -> Option<Tier> {
        match self {
            Limits::Off => None,
            Limits::Real(tier) => Some(tier),
            Limits::Scaled { tier, speed } => {
                Some(Tier { capacity: tier.capacity, decay_milli: tier.decay_milli * u64::from(speed.max(1)) })
            }
        }
    }
}

/// The one key the simulator accepts and what it may do.
#[derive(Clone, PartialEq, Eq)]
pub struct SimKey {
    /// `API-Key`.
    pub api_key: String,
    /// The base64 private key.
    pub secret: String,
    /// Whether `WithdrawMethods` answers (the key has the Withdraw permission).
    pub can_withdraw: bool,
}

impl std::fmt::Debug for SimKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimKey").field("api_key", &"[redacted]").field("can_withdraw", &self.can_withdraw).finish()
    }
}

impl SimKey {
    /// A read-only key whose private key is the one of Kraken's published signing example.
    pub fn demo() -> SimKey {
        SimKey {
            api_key: "cointally-simulated-kraken-key".to_owned(),
            secret: "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
                .to_owned(),
            can_withdraw: false,
        }
    }
}

/// Everything that shapes a simulator run (its `limits` are the call counter).
pub type SimConfig = crate::sim::config::SimConfig<KrakenProfile, Limits, SimKey>;

impl SimConfig {
    /// The demo account: demo profile, Pro counter decaying 20 times faster, demo key.
    pub fn demo(seed: u64) -> SimConfig {
        SimConfig {
            seed,
            profile: KrakenProfile::demo(),
            limits: Limits::Scaled { tier: Tier::PRO, speed: 20 },
            faults: None,
            key: SimKey::demo(),
            port: 0,
        }
    }
}

/// How the call counter was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterStats {
    /// The counter's limits (decay as served, scaled).
    pub tier: Option<Tier>,
    /// Counter units spent by served calls.
    pub spent: u64,
    /// First and last served private call, ms.
    pub span_ms: Option<(i64, i64)>,
    /// Calls refused with `EAPI:Rate limit exceeded`.
    pub rate_limited: u64,
    /// Lockouts (`EGeneral:Temporary lockout`) begun.
    pub lockouts: u64,
}

impl CounterStats {
    /// Share of the budget used: units spent over what the counter allowed between the first
    /// and the last call (its capacity plus its decay over that time), in percent.
    pub fn share_percent(&self) -> Option<Decimal> {
        let tier = self.tier?;
        let (first, last) = self.span_ms?;
        let allowed_milli = DecayingCounter::new(tier.capacity, tier.decay_milli).allowed_milli(last - first);
        share_percent(self.spent, allowed_milli)
    }
}

/// What the simulator saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimStats {
    /// Every request read, faulted ones included.
    pub requests: u64,
    /// Requests per path that reached the handler.
    pub requests_by_path: BTreeMap<String, u64>,
    /// Answers `EAPI:Invalid nonce`.
    pub invalid_nonces: u64,
    /// Injected faults.
    pub faults: u64,
    /// The call counter.
    pub counter: CounterStats,
    /// The public counter (`AssetPairs`, `OHLC`, `Assets`).
    pub public: CounterStats,
}

/// The per-key call counter: Kraken's decaying counter, its tolerance and its lockouts.
#[derive(Debug)]
struct Counter {
    counter: Option<DecayingCounter>,
    speed: i64,
    over: u32,
    locked_until: i64,
    spending: Spending,
    stats: CounterStats,
}

impl Counter {
    fn new(limits: Limits) -> Counter {
        let (tier, speed) = match limits {
            Limits::Off => (None, 1),
            Limits::Real(tier) => (Some(tier), 1),
            Limits::Scaled { tier, speed } => (limits.client_tier().or(Some(tier)), i64::from(speed.max(1))),
        };
        Counter {
            counter: tier.map(|tier| DecayingCounter::new(tier.capacity, tier.decay_milli)),
            speed,
            over: 0,
            locked_until: 0,
            spending: Spending::default(),
            stats: CounterStats { tier, spent: 0, span_ms: None, rate_limited: 0, lockouts: 0 },
        }
    }

    /// Admits a call costing `cost` at `now`, or says which error to answer.
    fn admit(&mut self, now: i64, cost: u64) -> Result<(), &'static str> {
        if let Some(counter) = &mut self.counter {
            if now < self.locked_until {
                return Err("EGeneral:Temporary lockout");
            }
            counter.decay(now);
            if counter.is_empty() {
                self.over = 0;
            }
            if !counter.fits(cost) {
                self.over += 1;
                self.stats.rate_limited += 1;
                if self.over > TOLERANCE {
                    self.locked_until = now + LOCKOUT_MS / self.speed;
                    self.stats.lockouts += 1;
                    return Err("EGeneral:Temporary lockout");
                }
                return Err("EAPI:Rate limit exceeded");
            }
            counter.add(cost);
        }
        self.spending.record(now, cost);
        (self.stats.spent, self.stats.span_ms) = (self.spending.spent, self.spending.span_ms);
        Ok(())
    }
}

/// The account as served.
struct Store {
    generator: Generator,
    /// Ledger id → position in `generator.entries`.
    positions: BTreeMap<String, usize>,
    /// Trade id → position in `generator.fills`.
    fill_positions: BTreeMap<String, usize>,
}

impl Store {
    fn new(generator: Generator) -> Store {
        let mut store = Store { generator, positions: BTreeMap::new(), fill_positions: BTreeMap::new() };
        store.index();
        store
    }

    fn index(&mut self) {
        for (position, entry) in self.generator.entries.iter().enumerate().skip(self.positions.len()) {
            self.positions.insert(entry.id.clone(), position);
        }
        for (position, fill) in self.generator.fills.iter().enumerate().skip(self.fill_positions.len()) {
            self.fill_positions.insert(fill.txid.clone(), position);
        }
    }
}

struct State {
    key: SimKey,
    secret: Secret,
    store: Mutex<Store>,
    counter: Mutex<Counter>,
    last_nonce: Mutex<u64>,
    reject: AtomicU32,
    invalid_nonces: Mutex<u64>,
    requests: Mutex<BTreeMap<String, u64>>,
    /// (Ledgers calls still to answer before inserting, fills to insert).
    insert_after: crate::sim::Armed,
    /// The prices the public endpoints serve.
    market: Market,
    /// The public counter.
    public: Mutex<Counter>,
    /// "Now" for `OHLC`, when fixed.
    now: Mutex<Option<i64>>,
}

/// A running Kraken simulator; stops on drop.
pub struct KrakenSim {
    server: Server,
    state: Arc<State>,
    seed: u64,
    limits: Limits,
}

impl std::fmt::Debug for KrakenSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KrakenSim").field("addr", &self.server.base_url()).field("seed", &self.seed).finish()
    }
}

/// Generates the account of `config` and starts serving it.
pub fn start(config: SimConfig) -> io::Result<KrakenSim> {
    let market_profile =
        Profile { start_ms: config.profile.start_ms, end_ms: config.profile.end_ms, trades: 0, ..Profile::demo() };
    let mut world = generate(config.seed, &market_profile);
    let generator = Generator::generate(config.seed, &world, &config.profile);
    world.share_external(&generator.external);
    let public_limits = match config.limits {
        Limits::Off => Limits::Off,
        Limits::Real(_) => Limits::Real(PUBLIC_TIER),
        Limits::Scaled { speed, .. } => Limits::Scaled { tier: PUBLIC_TIER, speed },
    };
    let state = Arc::new(State {
        secret: Secret::new(config.key.secret.clone()),
        key: config.key,
        store: Mutex::new(Store::new(generator)),
        counter: Mutex::new(Counter::new(config.limits)),
        last_nonce: Mutex::new(0),
        reject: AtomicU32::new(0),
        invalid_nonces: Mutex::new(0),
        requests: Mutex::new(BTreeMap::new()),
        insert_after: Mutex::new(None),
        market: world.market,
        public: Mutex::new(Counter::new(public_limits)),
        now: Mutex::new(None),
    });
    let server = Server::start(config.port, Arc::clone(&state) as Arc<dyn Handler>, config.faults)?;
    Ok(KrakenSim { server, state, seed: config.seed, limits: config.limits })
}

impl KrakenSim {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The counter a client should model to use this simulator's budget to the full.
    pub fn client_tier(&self) -> Option<Tier> {
        self.limits.client_tier()
    }

    /// Kraken code → balance as `Balance` reports it (zeros left out).
    pub fn balances(&self) -> BTreeMap<String, Decimal> {
        let store = self.state.store.lock().unwrap_or_else(PoisonError::into_inner);
        store.generator.balances().iter().filter(|(_, b)| !b.is_zero()).map(|(c, b)| (c.clone(), *b)).collect()
    }

    /// Every ledger entry served, oldest first.
    pub fn entries(&self) -> Vec<LedgerEntry> {
        self.state.store.lock().unwrap_or_else(PoisonError::into_inner).generator.entries.clone()
    }

    /// The person's own wallet's side of the account's deposits and withdrawals (the same
    /// transaction hashes), oldest first: what a self-custody wallet's history would show.
    pub fn external(&self) -> Vec<Activity> {
        let mut external = self.state.store.lock().unwrap_or_else(PoisonError::into_inner).generator.external.clone();
        external.sort_by_key(Activity::time_ms);
        external
    }

    /// Every fill served, oldest first.
    pub fn fills(&self) -> Vec<Fill> {
        self.state.store.lock().unwrap_or_else(PoisonError::into_inner).generator.fills.clone()
    }

    /// Adds `count` fills now (two entries each); returns the entries added.
    pub fn add_trades(&self, count: usize) -> usize {
        self.state.add_trades(count)
    }

    /// Inserts one ledger entry of `kind` (one cointally may not know, such as `nfttrade`) at
    /// `time_ms`, among the history already served; returns its ledger id.
    pub fn insert_entry(&self, kind: &'static str, code: &str, amount: Decimal, time_ms: i64) -> String {
        let mut store = self.state.store.lock().unwrap_or_else(PoisonError::into_inner);
        let id = store.generator.insert_entry(kind, "", code, amount, time_ms);
        store.positions.clear();
        store.index();
        id
    }

    /// After the next `calls` answers to `Ledgers`, adds `count` fills: entries arriving in the
    /// middle of a client's walk.
    pub fn insert_after_ledger_calls(&self, calls: u32, count: usize) {
        *self.state.insert_after.lock().unwrap_or_else(PoisonError::into_inner) = Some((calls, count));
    }

    /// Answers the next `count` private calls `EAPI:Invalid nonce` (another program took a
    /// higher nonce on the key).
    pub fn reject_nonces(&self, count: u32) {
        self.state.reject.store(count, Ordering::SeqCst);
    }

    /// Fixes the "now" at which `OHLC` ends its rows (the open interval is the one containing it).
    pub fn set_now(&self, now_ms: i64) {
        *self.state.now.lock().unwrap_or_else(PoisonError::into_inner) = Some(now_ms);
    }

    /// The market the public endpoints price from.
    pub fn market(&self) -> &Market {
        &self.state.market
    }

    /// Requests, refusals, faults and counter use so far.
    pub fn stats(&self) -> SimStats {
        let faults = self.server.faults_injected();
        SimStats {
            requests: self.server.requests(),
            requests_by_path: self.state.requests.lock().unwrap_or_else(PoisonError::into_inner).clone(),
            invalid_nonces: *self.state.invalid_nonces.lock().unwrap_or_else(PoisonError::into_inner),
            faults: faults.values().sum(),
            counter: self.state.counter.lock().unwrap_or_else(PoisonError::into_inner).stats.clone(),
            public: self.state.public.lock().unwrap_or_else(PoisonError::into_inner).stats.clone(),
        }
    }

    /// A paragraph saying what is served, for `cointally sandbox serve`.
    pub fn describe(&self) -> String {
        let store = self.state.store.lock().unwrap_or_else(PoisonError::into_inner);
        format!(
            "A simulated Kraken is listening on {url} with a generated account (seed {seed}): {entries} ledger \
             entries and {fills} fills, served by /0/private/Balance, Ledgers, TradesHistory, WithdrawMethods and \
             /0/public/Assets, AssetPairs and OHLC (CAD and AUD markets included) with Kraken's signatures, nonces, pages, errors and call counter ({limits:?}). \
             Nothing here touches the real Kraken.",
            url = self.base_url(),
            seed = self.seed,
            entries = store.generator.entries.len(),
            fills = store.generator.fills.len(),
            limits = self.limits,
        )
    }

    /// Stops serving (also done on drop).
    pub fn stop(mut self) {
        self.server.stop();
    }

    /// Changes how long injected timeouts stay silent.
    pub fn set_fault_timeout_delay(&self, delay: Duration) {
        self.server.set_timeout_delay(delay);
    }
}

/// `{"error":["…"]}`.
fn error(message: &str) -> Response {
    Response::json_value(200, &serde_json::json!({ "error": [message] }))
}

/// `{"error":[],"result":…}`.
fn ok(result: Box<RawValue>) -> Response {
    #[derive(Serialize)]
    struct Envelope {
        error: [(); 0],
        result: Box<RawValue>,
    }
    Response::json_value(200, &Envelope { error: [], result })
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// `1688464484.1780`: ms as Kraken's seconds with four decimals.
fn seconds(ms: i64) -> String {
    format!("{}.{:04}", ms.div_euclid(1000), ms.rem_euclid(1000) * 10)
}

/// An amount with the code's places (Kraken pads: `0.0200000000`).
fn amount_text(amount: Decimal, code: &str) -> String {
    crate::sim::amounts::fixed(amount, if places(code) == 8 { 10 } else { places(code) })
}

/// A ledger entry as `Ledgers` lists it.
#[derive(Serialize)]
struct EntryJson<'a> {
    aclass: &'static str,
    amount: String,
    asset: &'a str,
    balance: String,
    fee: String,
    refid: &'a str,
    subtype: &'static str,
    time: Box<RawValue>,
    #[serde(rename = "type")]
    kind: &'static str,
}

fn entry_json(e: &LedgerEntry) -> EntryJson<'_> {
    EntryJson {
        aclass: "currency",
        amount: amount_text(e.amount, &e.asset),
        asset: &e.asset,
        balance: amount_text(e.balance, &e.asset),
        fee: amount_text(e.fee, &e.asset),
        refid: &e.refid,
        subtype: e.subtype,
        time: json::number(seconds(e.time_ms)),
        kind: e.kind,
    }
}

/// A fill as `TradesHistory` lists it.
#[derive(Serialize)]
struct FillJson<'a> {
    ordertxid: &'a str,
    postxid: &'static str,
    pair: &'a str,
    time: Box<RawValue>,
    #[serde(rename = "type")]
    side: &'static str,
    ordertype: &'static str,
    price: String,
    cost: String,
    fee: String,
    vol: String,
    margin: &'static str,
    misc: &'static str,
    trade_id: u64,
    maker: bool,
}

fn fill_json(f: &Fill) -> FillJson<'_> {
    FillJson {
        ordertxid: &f.ordertxid,
        postxid: "TKH2SE-M7IF5-CFI7LT",
        pair: &f.pair,
        time: json::number(seconds(f.time_ms)),
        side: f.side,
        ordertype: "limit",
        price: f.price.to_string(),
        cost: f.cost.to_string(),
        fee: f.fee.to_string(),
        vol: f.vol.to_string(),
        margin: "0.00000",
        misc: "",
        trade_id: f.trade_id,
        maker: true,
    }
}

/// The positions `[lo, hi)` that `start` (exclusive) and `end` (inclusive) select among items
/// sorted by time, each given as an id or Unix seconds.
fn range(
    params: &[(String, String)],
    len: usize,
    position_of: impl Fn(&str) -> Option<usize>,
    count_until_ms: impl Fn(i64) -> usize,
) -> Result<(usize, usize), &'static str> {
    let bound = |name: &str| -> Result<Option<usize>, &'static str> {
        let Some(value) = param(params, name) else { return Ok(None) };
        if let Ok(secs) = value.parse::<Decimal>() {
            let ms: i64 =
                (secs * Decimal::ONE_THOUSAND).floor().try_into().map_err(|_| "EGeneral:Invalid arguments")?;
            return Ok(Some(count_until_ms(ms)));
        }
        position_of(value).map(|p| Some(p + 1)).ok_or("EGeneral:Invalid arguments")
    };
    let lo = bound("start")?.unwrap_or(0);
    let hi = bound("end")?.unwrap_or(len);
    Ok((lo, hi.max(lo)))
}

impl State {
    fn add_trades(&self, count: usize) -> usize {
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let added = store.generator.add_trades(count, now_ms());
        store.index();
        added
    }

    fn count(&self, path: &str) {
        *self.requests.lock().unwrap_or_else(PoisonError::into_inner).entry(path.to_owned()).or_insert(0) += 1;
    }

    /// Key, signature and nonce checks of a private call.
    fn authenticate(&self, request: &Request, body: &str, params: &[(String, String)]) -> Result<(), &'static str> {
        if request.header("API-Key") != Some(self.key.api_key.as_str()) {
            return Err("EAPI:Invalid key");
        }
        let nonce: u64 = param(params, "nonce").and_then(|n| n.parse().ok()).ok_or("EAPI:Invalid nonce")?;
        let expected = super::auth::api_sign(&self.secret, &request.path, nonce, body);
        if !expected.is_ok_and(|expected| Some(expected.as_str()) == request.header("API-Sign")) {
            return Err("EAPI:Invalid signature");
        }
        let mut last = self.last_nonce.lock().unwrap_or_else(PoisonError::into_inner);
        let rejected = self.reject.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        if nonce <= *last || rejected {
            *self.invalid_nonces.lock().unwrap_or_else(PoisonError::into_inner) += 1;
            if rejected {
                // Another program used a higher nonce: this one is now too low.
                *last = (*last).max(nonce);
            }
            return Err("EAPI:Invalid nonce");
        }
        *last = nonce;
        Ok(())
    }

    fn ledgers(&self, params: &[(String, String)]) -> Result<Box<RawValue>, &'static str> {
        let result = {
            let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
            let entries = &store.generator.entries;
            let (lo, hi) = range(
                params,
                entries.len(),
                |id| store.positions.get(id).copied(),
                |ms| entries.partition_point(|e| e.time_ms <= ms),
            )?;
            let ofs: usize =
                param(params, "ofs").map_or(Ok(0), str::parse).map_err(|_| "EGeneral:Invalid arguments")?;
            let selected = &entries[lo..hi];
            let page = Ordered(selected.iter().rev().skip(ofs).take(PAGE).map(|e| (&e.id, entry_json(e))).collect());
            let mut fields = vec![("ledger", json::render(&page))];
            if param(params, "without_count") != Some("true") {
                fields.push(("count", json::render(&selected.len())));
            }
            json::render(&Ordered(fields))
        };
        if let Some(count) = crate::sim::countdown(&self.insert_after) {
            self.add_trades(count);
        }
        Ok(result)
    }

    fn trades_history(&self, params: &[(String, String)]) -> Result<Box<RawValue>, &'static str> {
        let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let fills = &store.generator.fills;
        let (lo, hi) = range(
            params,
            fills.len(),
            |id| store.fill_positions.get(id).copied(),
            |ms| fills.partition_point(|f| f.time_ms <= ms),
        )?;
        let ofs: usize = param(params, "ofs").map_or(Ok(0), str::parse).map_err(|_| "EGeneral:Invalid arguments")?;
        let page = Ordered(fills[lo..hi].iter().rev().skip(ofs).take(PAGE).map(|f| (&f.txid, fill_json(f))).collect());
        Ok(json::render(&Ordered(vec![("count", json::render(&(hi - lo))), ("trades", json::render(&page))])))
    }

    fn balance(&self) -> Box<RawValue> {
        let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let balances = store.generator.balances();
        json::render(&Ordered(
            balances.iter().filter(|(_, b)| !b.is_zero()).map(|(code, b)| (code, amount_text(*b, code))).collect(),
        ))
    }

    fn assets(&self) -> Box<RawValue> {
        let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let altname = |code: &str| -> String {
            match code {
                "XXBT" => "XBT".into(),
                "XXDG" => "XDG".into(),
                "KFEE" => "FEE".into(),
                c if c.len() == 4 && (c.starts_with('X') || c.starts_with('Z')) => c[1..].to_string(),
                c => c.to_string(),
            }
        };
        let items = store.generator.balances().keys().map(|code| {
            let asset = Ordered(vec![
                ("aclass", json::render(&"currency")),
                ("altname", json::render(&altname(code))),
                ("decimals", json::render(&10)),
                ("display_decimals", json::render(&5)),
                ("status", json::render(&"enabled")),
            ]);
            (code, asset)
        });
        json::render(&Ordered(items.collect()))
    }
}

impl Handler for State {
    fn handle(&self, request: &Request) -> Response {
        let now = now_ms();
        self.count(&request.path);
        let Some(endpoint) = Endpoint::from_path(&request.path) else {
            return error("EGeneral:Unknown method");
        };
        if !endpoint.private() {
            if request.method != "GET" {
                return error("EGeneral:Invalid arguments");
            }
            if let Err(message) = self.public.lock().unwrap_or_else(PoisonError::into_inner).admit(now, 1) {
                return error(message);
            }
            let ohlc_now = self.now.lock().unwrap_or_else(PoisonError::into_inner).unwrap_or(now);
            let answer = match endpoint {
                Endpoint::AssetPairs => Ok(ohlc::asset_pairs()),
                Endpoint::Ohlc => ohlc::ohlc(&self.market, &decode_pairs(&request.query), ohlc_now),
                _ => Ok(self.assets()),
            };
            return match answer {
                Ok(result) => ok(result),
                Err(message) => error(message),
            };
        }
        if request.method != "POST" {
            return error("EGeneral:Invalid arguments");
        }
        let body = request.body_text();
        let params = decode_pairs(&body);
        if let Err(message) = self.authenticate(request, &body, &params) {
            return error(message);
        }
        if let Err(message) = self.counter.lock().unwrap_or_else(PoisonError::into_inner).admit(now, endpoint.cost()) {
            return error(message);
        }
        let answer = match endpoint {
            Endpoint::Balance => Ok(self.balance()),
            Endpoint::Ledgers => self.ledgers(&params),
            Endpoint::TradesHistory => self.trades_history(&params),
            Endpoint::WithdrawMethods if self.key.can_withdraw => {
                let method = Ordered(vec![
                    ("asset", "XXBT"),
                    ("method", "Bitcoin"),
                    ("network", "Bitcoin"),
                    ("minimum", "0.0004"),
                ]);
                Ok(json::render(&[method]))
            }
            Endpoint::WithdrawMethods => Err("EGeneral:Permission denied"),
            // Public methods were answered above.
            Endpoint::Assets | Endpoint::AssetPairs | Endpoint::Ohlc => Err("EGeneral:Invalid arguments"),
        };
        match answer {
            Ok(result) => ok(result),
            Err(message) => error(message),
        }
    }

    fn error_response(&self, status: u16, _request: &Request) -> Response {
        if status == 429 {
            return Response::json(429, "{\"error\":[\"EAPI:Rate limit exceeded\"]}");
        }
        Response::text(status, format!("error code: {status}"))
    }
}
