//! Gemini sync benchmark: the real sync engine against the in-process Gemini simulator.
//!
//! Run: `cargo bench --bench gemini`. The account is `GeminiProfile::bench()` (about 50,000
//! fills, transfers and staking transactions over 2022–2025), synced through the library API
//! (ledger, `sync::run`, the Gemini adapter).
//!
//! 1. Throughput: the simulator meters nothing (`Limits::Off`) and the client paces for a
//!    budget too large to wait on, so the run measures fetching, parsing, normalising and
//!    writing. Three runs into fresh ledgers; records stored per second (median).
//! 2. Budget use: the simulator runs Gemini's private budget (bursts of 5, 10 requests a
//!    second) refilling some times faster, the client paces for the same. The share is the
//!    requests the simulator served over what the budget allowed between the first and the
//!    last (target: at least 85 %, no 429 after the first). How much faster is chosen from run
//!    1 (at most [`MAX_SPEED`]): so that the sync at the scaled budget takes at least
//!    [`BUDGET_BOUND`] times as long as the unmetered sync did, since a budget refilling faster
//!    than this machine writes measures the writer (pages queue up, fetching stalls on a full
//!    channel), not the pacing. At Gemini's real pace a page of 500 fills takes 100 ms of
//!    budget and a few of writing. `GEMINI_BENCH_SPEED=N` fixes the factor.

mod support;

use std::sync::Arc;
use std::time::Instant;

use cointally::ledger::{Ledger, NewAccount, OpenMode};
use cointally::sync::{self, AccountSummary, Job, Options, Reporter};
use cointally_exchanges::gemini::adapter::GeminiAdapter;
use cointally_exchanges::gemini::api::{GeminiApi, Pace};
use cointally_exchanges::gemini::sim::history::GeminiProfile;
use cointally_exchanges::gemini::sim::{self as gemini_sim, GeminiSim, Limits, SimConfig, SimKey};
use cointally_exchanges::http::{ClientConfig, Clock, SystemClock};
use cointally_exchanges::{Exchange, Secret};

const SEED: u64 = 1;
/// The most times faster than Gemini's the simulated budget refills in the budget run.
const MAX_SPEED: u32 = 20;
/// How many times longer than the unmetered sync the budget run must take to be bound by the
/// budget rather than by this machine.
const BUDGET_BOUND: f64 = 3.0;

fn main() {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {cores} cores");
    println!("profile: {:?}", GeminiProfile::bench());
    println!();
    let (seconds, requests) = throughput();
    println!();
    let fit = (requests as f64 / (10.0 * BUDGET_BOUND * seconds)).floor() as u32;
    let speed =
        std::env::var("GEMINI_BENCH_SPEED").ok().and_then(|v| v.parse().ok()).unwrap_or(fit.clamp(1, MAX_SPEED));
    budget(speed);
}

struct Outcome {
    records: u64,
    requests: u64,
    seconds: f64,
    summaries: Vec<AccountSummary>,
}

fn sync_once(sim: &GeminiSim, pace: Pace) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::open(&dir.path().join("bench.sqlite"), OpenMode::CreateNew).expect("ledger");
    let account = ledger.add_account(&NewAccount::files_only("gemini-api", "gemini")).expect("account");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let key = SimKey::demo();
    let api = GeminiApi::new(
        Some(&sim.base_url()),
        Secret::new(key.api_key),
        Secret::new(key.secret),
        &account.label,
        GeminiApi::new_limiter(Arc::clone(&clock), pace),
        ClientConfig::from_env(),
        clock,
    )
    .expect("api");
    let jobs = [Job { account, exchange: Exchange::Gemini, adapter: Arc::new(GeminiAdapter::new(api)) }];
    let options = Options { full: false, since_ms: None, workers: 2 };
    let start = Instant::now();
    let summaries = sync::run(&mut ledger, &jobs, &options, &Reporter::new(true)).expect("sync");
    let seconds = start.elapsed().as_secs_f64();
    let endpoints = summaries.iter().flat_map(|s| s.endpoints.iter());
    let (records, requests) = endpoints.fold((0, 0), |(r, q), e| (r + e.new_records, q + e.requests));
    Outcome { records, requests, seconds, summaries }
}

fn verdict(sim: &GeminiSim, outcome: &Outcome) -> String {
    let pending = sim.transfers().iter().filter(|t| t.status == "Pending").count();
    let expected = (sim.fills().len() + sim.transfers().len() + sim.staking().len() - pending) as u64;
    let notes = support::problems(&outcome.summaries, outcome.records, expected, "records");
    if notes.is_empty() { format!("ok (all {expected} records, balances equal)") } else { notes.join("; ") }
}

fn start(limits: Limits) -> GeminiSim {
    let generated = Instant::now();
    let sim = gemini_sim::start(SimConfig { profile: GeminiProfile::bench(), limits, ..SimConfig::demo(SEED) })
        .expect("simulator");
    println!(
        "simulator: {} fills, {} transfers, {} staking transactions, generated in {:.2} s",
        sim.fills().len(),
        sim.transfers().len(),
        sim.staking().len(),
        generated.elapsed().as_secs_f64()
    );
    sim
}

/// Run 1; the median run's seconds and requests.
fn throughput() -> (f64, u64) {
    println!("== 1. Throughput: simulator Limits::Off, client budget too large to wait on ==");
    let sim = start(Limits::Off);
    let unlimited = Pace { capacity: 1_000_000, per_second: 1_000_000_000.0 };
    println!("{:>4} {:>9} {:>9} {:>8} {:>10}  check", "run", "records", "requests", "seconds", "records/s");
    let mut rates = Vec::new();
    for run in 1..=3 {
        let outcome = sync_once(&sim, unlimited);
        let rate = outcome.records as f64 / outcome.seconds;
        println!(
            "{run:>4} {:>9} {:>9} {:>8.2} {:>10.0}  {}",
            outcome.records,
            outcome.requests,
            outcome.seconds,
            rate,
            verdict(&sim, &outcome)
        );
        rates.push((rate, outcome.seconds, outcome.requests));
    }
    rates.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (rate, seconds, requests) = rates[1];
    println!("median: {seconds:.2} s = {rate:.0} records/s");
    (seconds, requests)
}

fn budget(speed: u32) {
    println!("== 2. Budget use: private budget (5, 10/s) refilling {speed}x faster, client paced for it ==");
    let sim = start(Limits::Scaled { speed });
    let pace = sim.client_pace().expect("a metered simulator");
    let outcome = sync_once(&sim, pace);
    println!(
        "sync took {:.2} s: {} records, {} requests; {}",
        outcome.seconds,
        outcome.records,
        outcome.requests,
        verdict(&sim, &outcome)
    );
    let stats = sim.stats();
    let share = stats.budget_share.map_or("?".to_string(), |s| s.to_string());
    println!(
        "budget: {} answers 429; share of the budget used: {share} % (target >= 85 %: {})",
        stats.rate_limited,
        if stats.budget_share.is_some_and(|s| s >= rust_decimal::Decimal::from(85)) { "met" } else { "MISSED" }
    );
    println!(
        "at Gemini's real pace this sync would take about {:.1} minutes",
        outcome.seconds * f64::from(speed) / 60.0
    );
}
