//! Bybit sync benchmark: the real sync engine against the in-process Bybit simulator.
//!
//! Run: `cargo bench --bench bybit`. The account has 20,000 records over the last 600 days
//! (`BYBIT_BENCH_RECORDS=N` for another size, e.g. a quick check), synced through the library
//! API exactly as `cointally sync` does (ledger, `sync::run`, the Bybit adapter): two years of
//! 7-day log and transfer windows and 30-day deposit and withdrawal windows.
//!
//! 1. Throughput: the simulator meters nothing and the client's budget is too large to wait
//!    on. Three runs into fresh ledgers; records stored per second (median).
//!    The requests per endpoint of the last run are printed: the log has the most calls.
//! 2. Budget use: the simulator (counting over a sliding window) and the client get a limit of
//!    20 requests a second per endpoint; the log, the endpoint asked most (every endpoint has its
//!    own bucket; the Earn orders, two categories a week at a time, come next), is walked alone
//!    through the adapter and the share is its requests served over what the limit allowed
//!    meanwhile; refusals (`10006`) are counted.

use std::sync::Arc;
use std::time::Instant;

use cointally::ledger::{Ledger, NewAccount, OpenMode};
use cointally::sync::{self, AccountSummary, Job, Options, Reporter};
use cointally_exchanges::adapter::{Adapter, Stream, SyncPlan};
use cointally_exchanges::bybit::adapter::BybitAdapter;
use cointally_exchanges::bybit::api::{Budget, BybitApi};
use cointally_exchanges::bybit::normalize::LOG;
use cointally_exchanges::bybit::sim::history::BybitProfile;
use cointally_exchanges::bybit::sim::{self as bybit_sim, BybitSim, SimConfig, SimKey};
use cointally_exchanges::http::{ClientConfig, Clock, SystemClock};
use cointally_exchanges::sim::now_ms;
use cointally_exchanges::{Exchange, Secret};

const SEED: u64 = 1;
/// A budget too large to wait on.
const UNLIMITED: Budget = Budget { limit: 1_000_000_000, window_seconds: 1 };
/// The binding limit of the second part.
const SCALED: Budget = Budget { limit: 20, window_seconds: 1 };

fn main() {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {cores} cores");
    throughput();
    println!();
    budget();
}

fn profile() -> BybitProfile {
    let records = std::env::var("BYBIT_BENCH_RECORDS").ok().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    BybitProfile::recent(now_ms(), records)
}

struct Outcome {
    records: usize,
    requests: u64,
    seconds: f64,
    summaries: Vec<AccountSummary>,
}

fn sync_once(sim: &BybitSim, budget: Budget) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::open(&dir.path().join("bench.sqlite"), OpenMode::CreateNew).expect("ledger");
    let account = ledger.add_account(&NewAccount::files_only("bybit-api", "bybit")).expect("account");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let key = SimKey::demo();
    let api = BybitApi::new(
        Some(&sim.base_url()),
        Secret::new(key.api_key),
        Secret::new(key.secret),
        &account.label,
        BybitApi::new_limiter(Arc::clone(&clock), budget),
        ClientConfig::from_env(),
        clock,
    )
    .expect("api");
    let jobs = [Job { account, exchange: Exchange::Bybit, adapter: Arc::new(BybitAdapter::new(api)) }];
    let options = Options { full: false, since_ms: None, workers: 2 };
    let start = Instant::now();
    let summaries = sync::run(&mut ledger, &jobs, &options, &Reporter::new(true)).expect("sync");
    let seconds = start.elapsed().as_secs_f64();
    let records = ledger.events(&Default::default()).expect("events").len();
    let requests = summaries.iter().flat_map(|s| s.endpoints.iter()).map(|e| e.requests).sum();
    Outcome { records, requests, seconds, summaries }
}

fn verdict(sim: &BybitSim, outcome: &Outcome) -> String {
    let expected = sim.event_count();
    let mut notes = Vec::new();
    for s in &outcome.summaries {
        if let Some(error) = &s.error {
            notes.push(format!("ERROR: {error}"));
        }
        if !s.balance_differences.is_empty() {
            notes.push(format!("{} balances DIFFER", s.balance_differences.len()));
        }
    }
    if outcome.records != expected {
        notes.push(format!("stored {} of the simulator's {expected} events", outcome.records));
    }
    if notes.is_empty() { format!("ok (all {expected} events, balances equal)") } else { notes.join("; ") }
}

fn start(budget: Option<Budget>) -> BybitSim {
    let generated = Instant::now();
    let sim =
        bybit_sim::start(SimConfig { profile: profile(), budget, ..SimConfig::recent(SEED, 0) }).expect("simulator");
    println!("simulator: {} events, generated in {:.2} s", sim.event_count(), generated.elapsed().as_secs_f64());
    sim
}

fn throughput() {
    println!("== 1. Throughput: simulator unmetered, client budget too large to wait on ==");
    let sim = start(None);
    let mut rates = Vec::new();
    let mut last = None;
    for run in 1..=3 {
        let outcome = sync_once(&sim, UNLIMITED);
        let rate = outcome.records as f64 / outcome.seconds;
        println!(
            "run {run}: {} records, {} requests, {:.2} s, {rate:.0} records/s, {}",
            outcome.records,
            outcome.requests,
            outcome.seconds,
            verdict(&sim, &outcome)
        );
        rates.push((rate, outcome.seconds));
        last = Some(outcome);
    }
    rates.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (rate, seconds) = rates[1];
    println!("median: {seconds:.2} s = {rate:.0} records/s");
    // Every endpoint has its own bucket at the same limit, so the one asked most binds: the
    // budget part walks that one (the log), which this line shows still outnumbers the Earn
    // streams' calls.
    let outcome = last.expect("three runs");
    let mut calls: Vec<(&str, u64)> =
        outcome.summaries.iter().flat_map(|s| s.endpoints.iter()).map(|e| (e.endpoint.as_str(), e.requests)).collect();
    calls.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let calls: Vec<String> = calls.iter().map(|(name, n)| format!("{name} {n}")).collect();
    println!("requests per endpoint (last run): {}", calls.join(", "));
}

fn budget() {
    println!("== 2. Budget use at {} per {} s per endpoint ==", SCALED.limit, SCALED.window_seconds);
    let sim = start(Some(SCALED));
    // The log walked alone through the adapter: its bucket is the one that binds.
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let key = SimKey::demo();
    let limiter = BybitApi::new_limiter(Arc::clone(&clock), SCALED);
    let api = BybitApi::new(
        Some(&sim.base_url()),
        Secret::new(key.api_key),
        Secret::new(key.secret),
        "bench",
        limiter,
        ClientConfig::from_env(),
        clock,
    )
    .expect("api");
    let adapter = BybitAdapter::new(api);
    let stream = Stream::new(LOG, "");
    let plan = SyncPlan { full: false, since_ms: None };
    let started = Instant::now();
    let mut cursor = adapter.start(&stream, None, &plan).expect("start");
    let mut records = 0;
    loop {
        let page = adapter.fetch_page(&stream, &cursor).expect("page");
        records += page.records.len();
        cursor = page.cursor;
        if page.done {
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let stats = sim.stats();
    let served = stats.requests_by_path.get("/v5/account/transaction-log").copied().unwrap_or(0) - stats.rate_limited;
    let allowed = seconds * SCALED.limit as f64 / SCALED.window_seconds as f64;
    let share = served as f64 * 100.0 / allowed.max(1.0);
    println!(
        "transaction-log: {records} records, {served} requests served in {seconds:.2} s, {} refusals; share of the budget used: {share:.1} % (target >= 85 %: {})",
        stats.rate_limited,
        if share >= 85.0 { "met" } else { "MISSED" },
    );
}
