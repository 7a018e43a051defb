//! Binance.US sync benchmark: the real sync engine against the in-process Binance.US simulator
//! (Binance's simulator on Binance.US's paths, weights and budget).
//!
//! Run: `cargo bench --bench binanceus`. The account is `Profile::bench()` reduced to what
//! Binance.US's walked endpoints hold (100,000 trades over 50 pairs and 5,000 deposits and
//! withdrawals) plus Binance.US's own streams sized by the same profile (USD deposits and
//! withdrawals, staking rewards listed twice, distributions, dust and OTC orders: about
//! 1,500 more records, one `/sapi` request per 89-day window each), synced through the
//! library API as `cointally sync` does.
//!
//! 1. Throughput: the simulator meters nothing (`Limits::Off`) and the client's limiter has no
//!    budgets: records stored per second, median of three runs into fresh ledgers.
//! 2. Budget use: real weights (`myTrades` weighs 10), the client pacing with the real limiter
//!    against the simulator's meter. A whole sync at Binance.US's `/api` REQUEST_WEIGHT budget
//!    (1,200 a minute) weighs about 1,300, barely one window: a share measured over it proves
//!    nothing. So the budget is scaled in both size and time: [`BUDGET_WEIGHT`] (60) per
//!    [`BUDGET_WINDOW`] (1 s), announced by the simulator's `exchangeInfo` and taken from there
//!    by the client as from the real exchange. A sync of about 200 requests (about 2,000
//!    weight) then spans some 33 windows, and needs only 6 pages (6,000 records) stored a second
//!    to keep up, so the budget, not the machine, binds (a debug build stores about 750 records
//!    a second on the 2-core machine: measure with `cargo bench`, a release build).
//!    Printed: the binding budget's share used over the windows between the first and the last
//!    (target at least 85 %), and 429 / 418 answers (target 0).
//!
//! `COINTALLY_BENCH_ONLY=budget` runs part 2 alone (`throughput` part 1 alone).

use std::sync::Arc;
use std::time::{Duration, Instant};

use cointally::ledger::{Ledger, NewAccount, OpenMode};
use cointally::sync::{self, AccountSummary, Job, Options, Reporter};
use cointally_exchanges::binance::adapter::BinanceAdapter;
use cointally_exchanges::binance::api::BinanceApi;
use cointally_exchanges::binance::sim::{BinanceSim, Limits, SimConfig, SimKey, start_at_with};
use cointally_exchanges::binance::venue::Venue;
use cointally_exchanges::binanceus::api::VENUE;
use cointally_exchanges::binanceus::sim;
use cointally_exchanges::http::{ClientConfig, Clock, Limiter, SystemClock};
use cointally_exchanges::sim::generate::Profile;
use cointally_exchanges::{Exchange, Secret};

const SEED: u64 = 1;
const WORKERS: usize = 8;
/// The scaled `/api` REQUEST_WEIGHT budget of part 2, per [`BUDGET_WINDOW`].
const BUDGET_WEIGHT: u64 = 60;
/// The window that replaces the minute in part 2.
const BUDGET_WINDOW: Duration = Duration::from_secs(1);

fn main() {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {cores} cores");
    let only = std::env::var("COINTALLY_BENCH_ONLY").unwrap_or_default();
    if only != "budget" {
        throughput();
        println!();
    }
    if only != "throughput" {
        budget(BUDGET_WINDOW);
    }
}

/// Binance.US with its `/api` weight budget scaled to [`BUDGET_WEIGHT`] (every other figure
/// its own), for part 2.
fn scaled_venue() -> &'static Venue {
    Box::leak(Box::new(Venue {
        name: VENUE.name,
        title: VENUE.title,
        base_url: VENUE.base_url,
        streams: VENUE.streams,
        api_weight_per_minute: BUDGET_WEIGHT,
        raw_requests_per_5_minutes: VENUE.raw_requests_per_5_minutes,
        weight: VENUE.weight,
        launch_ms: VENUE.launch_ms,
        not_fetched: VENUE.not_fetched,
    }))
}

struct Outcome {
    new_records: u64,
    requests: u64,
    seconds: f64,
    summaries: Vec<AccountSummary>,
}

fn start(venue: &'static Venue, limits: Limits) -> BinanceSim {
    let generated = Instant::now();
    let config = SimConfig {
        seed: SEED,
        profile: sim::us_profile(Profile::bench()),
        limits,
        faults: None,
        key: SimKey::demo(),
        port: 0,
    };
    // Binance.US's own streams (fiat, staking, distributions, dust, OTC) sized by the full
    // bench profile, as `binanceus::sim::start` renders them.
    let sim = start_at_with(venue, config, |market, store| sim::us_history(market, &Profile::bench(), SEED, store))
        .expect("simulator");
    println!("simulator: {:?}, generated in {:.2} s", sim.records(), generated.elapsed().as_secs_f64());
    sim
}

fn sync_once(venue: &'static Venue, sim: &BinanceSim, limiter: Arc<Limiter>) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::open(&dir.path().join("bench.sqlite"), OpenMode::CreateNew).expect("ledger");
    let account = ledger.add_account(&NewAccount::files_only("binanceus-api", "binanceus")).expect("account");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let key = SimKey::demo();
    let api = BinanceApi::at(
        venue,
        Some(&sim.base_url()),
        Secret::new(key.api_key),
        Secret::new(key.secret),
        &account.label,
        limiter,
        ClientConfig::from_env(),
        clock,
    )
    .expect("api");
    let jobs = [Job { account, exchange: Exchange::BinanceUs, adapter: Arc::new(BinanceAdapter::new(api)) }];
    let options = Options { full: false, since_ms: None, workers: WORKERS };
    let started = Instant::now();
    let summaries = sync::run(&mut ledger, &jobs, &options, &Reporter::new(true)).expect("sync");
    let seconds = started.elapsed().as_secs_f64();
    let endpoints = summaries.iter().flat_map(|s| s.endpoints.iter());
    let (new_records, requests) = endpoints.fold((0, 0), |(n, r), e| (n + e.new_records, r + e.requests));
    Outcome { new_records, requests, seconds, summaries }
}

/// Whether the sync ended well: no error, balances equal, every record stored.
fn verdict(sim: &BinanceSim, outcome: &Outcome) -> String {
    let expected: usize = sim.records().values().sum();
    let mut notes = Vec::new();
    for summary in &outcome.summaries {
        if let Some(error) = &summary.error {
            notes.push(format!("ERROR: {error}"));
        }
        if !summary.balance_differences.is_empty() {
            notes.push(format!("{} balances DIFFER", summary.balance_differences.len()));
        }
    }
    if outcome.new_records as usize != expected {
        notes.push(format!("stored {} of the simulator's {expected} records", outcome.new_records));
    }
    if notes.is_empty() { format!("ok (all {expected} records, balances equal)") } else { notes.join("; ") }
}

fn throughput() {
    println!("== 1. Throughput: simulator Limits::Off, client limiter without budgets ==");
    let sim = start(&VENUE, Limits::Off);
    let mut rates = Vec::new();
    for run in 1..=3 {
        let outcome = sync_once(&VENUE, &sim, Arc::new(Limiter::new(Arc::new(SystemClock))));
        let rate = outcome.new_records as f64 / outcome.seconds;
        println!(
            "run {run}: {} records, {} requests, {:.2} s = {rate:.0} records/s; {}",
            outcome.new_records,
            outcome.requests,
            outcome.seconds,
            verdict(&sim, &outcome)
        );
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    println!("median: {:.0} records/s", rates[1]);
}

fn budget(window: Duration) {
    println!(
        "== 2. Budget use: real weights, the /api budget scaled to {BUDGET_WEIGHT} weight per {} s ==",
        window.as_secs()
    );
    let venue = scaled_venue();
    let sim = start(venue, Limits::Scaled { window });
    let outcome = sync_once(venue, &sim, BinanceApi::new_limiter_at(venue, Arc::new(SystemClock)));
    println!(
        "sync took {:.2} s: {} records, {} requests; {}",
        outcome.seconds,
        outcome.new_records,
        outcome.requests,
        verdict(&sim, &outcome)
    );
    let stats = sim.stats();
    for bucket in &stats.buckets {
        let windows = bucket.used.len();
        // The share over the windows between the first and the last (both partial by nature).
        let interior: Vec<u64> = bucket.used.values().copied().skip(1).take(windows.saturating_sub(2)).collect();
        let interior_share = (!interior.is_empty())
            .then(|| interior.iter().sum::<u64>() as f64 * 100.0 / (bucket.limit as f64 * interior.len() as f64));
        println!(
            "{:<12} limit {:>7} per {:>5.1} s: {} windows used, share {} (interior {})",
            bucket.name,
            bucket.limit,
            bucket.window.as_secs_f64(),
            windows,
            bucket.share_percent().map_or("-".to_owned(), |s| format!("{s}%")),
            interior_share.map_or("-".to_owned(), |s| format!("{s:.2}%")),
        );
    }
    println!("429 answers: {}, 418 answers: {} (targets 0, 0)", stats.rate_limited, stats.banned);
}
