//! OKX sync benchmark: the real sync engine against the in-process OKX simulator.
//!
//! Run: `cargo bench --bench okx`. The account is `OkxProfile::bench()` (50,000 bills over
//! 2022–2025 in the trading and funding accounts, and Simple Earn Flexible's hourly earnings of
//! the positions among them; `OKX_BENCH_BILLS=N` for another size, e.g. a quick check), synced
//! through the library API exactly as `cointally sync` does.
//!
//! 1. Throughput: the simulator meters nothing and the client's budget is too large to wait
//!    on, so the run measures fetching, parsing, normalising and writing. Three runs into fresh
//!    ledgers; records stored per second (median).
//! 2. Budget use: at OKX's documented limits (the binding one: `bills-archive`, 5 requests per
//!    2 s, fixed windows in the simulator as in the client). The share is the `bills-archive`
//!    requests served over what its limit allowed during the sync; refusals (`50011`) are
//!    counted.

mod support;

use std::sync::Arc;
use std::time::Instant;

use cointally::sync::Job;
use cointally_exchanges::http::{ClientConfig, Clock, SystemClock};
use cointally_exchanges::okx::adapter::OkxAdapter;
use cointally_exchanges::okx::api::{Budget, Endpoint, OkxApi};
use cointally_exchanges::okx::sim::history::OkxProfile;
use cointally_exchanges::okx::sim::{self as okx_sim, OkxSim, SimConfig, SimKey};
use cointally_exchanges::{Exchange, Secret};
use support::Outcome;

const SEED: u64 = 1;
/// A budget too large to wait on.
const UNLIMITED: Budget = Budget { limit: 1_000_000_000, window_seconds: 1 };

fn main() {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {cores} cores");
    println!("profile: {:?}", profile());
    println!();
    throughput();
    println!();
    budget();
}

/// The bench profile, or `OKX_BENCH_BILLS` bills.
fn profile() -> OkxProfile {
    let bills = std::env::var("OKX_BENCH_BILLS").ok().and_then(|n| n.parse().ok());
    OkxProfile { bills: bills.unwrap_or(OkxProfile::bench().bills), ..OkxProfile::bench() }
}

fn sync_once(sim: &OkxSim, budget: Option<Budget>) -> Outcome {
    support::sync_once("okx-api", "okx", |account| {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let key = SimKey::demo();
        let api = OkxApi::new(
            Some(&sim.base_url()),
            Secret::new(key.api_key),
            Secret::new(key.secret),
            Some(Secret::new(key.passphrase)),
            &account.label,
            OkxApi::new_limiter(Arc::clone(&clock), budget),
            ClientConfig::from_env(),
            clock,
        )
        .expect("api");
        Job { account, exchange: Exchange::Okx, adapter: Arc::new(OkxAdapter::new(api)) }
    })
}

fn verdict(sim: &OkxSim, outcome: &Outcome) -> String {
    // One event per bill and per Simple Earn earning (the deposit and withdrawal histories
    // only add details).
    let expected = sim.bills().len() + sim.lending().len();
    let notes = support::problems(&outcome.summaries, outcome.records as u64, expected as u64, "records");
    if notes.is_empty() { format!("ok (all {expected} records, balances equal)") } else { notes.join("; ") }
}

fn start(metered: bool) -> OkxSim {
    let generated = Instant::now();
    let sim = okx_sim::start(SimConfig { profile: profile(), metered, ..SimConfig::demo(SEED) }).expect("simulator");
    println!(
        "simulator: {} bills and {} Simple Earn earnings, generated in {:.2} s",
        sim.bills().len(),
        sim.lending().len(),
        generated.elapsed().as_secs_f64()
    );
    sim
}

fn throughput() {
    println!("== 1. Throughput: simulator unmetered, client budget too large to wait on ==");
    let sim = start(false);
    support::three_runs(|| {
        let outcome = sync_once(&sim, Some(UNLIMITED));
        let check = verdict(&sim, &outcome);
        (outcome, check)
    });
}

fn budget() {
    println!("== 2. Budget use at OKX's documented limits ==");
    let sim = start(true);
    let outcome = sync_once(&sim, None);
    let stats = sim.stats();
    let limit = Endpoint::BillsArchive.budget();
    let calls = stats.requests_by_path.get(Endpoint::BillsArchive.path()).copied().unwrap_or(0);
    // Refusals of any endpoint count against the served calls (a conservative share).
    let served = calls.saturating_sub(stats.rate_limited);
    let allowed = outcome.seconds * limit.limit as f64 / limit.window_seconds as f64;
    let share = served as f64 * 100.0 / allowed.max(1.0);
    println!(
        "bills-archive ({} per {} s): sync took {:.2} s, {served} requests served, {} refusals; share of the budget used: {share:.1} % (target >= 85 %: {}); {}",
        limit.limit,
        limit.window_seconds,
        outcome.seconds,
        stats.rate_limited,
        if share >= 85.0 { "met" } else { "MISSED" },
        verdict(&sim, &outcome)
    );
}
