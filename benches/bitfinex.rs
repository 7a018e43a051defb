//! Bitfinex sync benchmark: the real sync engine against the in-process Bitfinex simulator.
//!
//! Run: `cargo bench --bench bitfinex`. The account is `BitfinexProfile::bench()` (50,000
//! ledger entries over 2022–2025; `BITFINEX_BENCH_ENTRIES=N` for another size, e.g. a quick
//! check), synced through the library API exactly as `cointally sync` does (ledger,
//! `sync::run`, the Bitfinex adapter).
//!
//! 1. Throughput: the simulator meters nothing and the client's budget is too large to wait
//!    on, so the run measures fetching, parsing, normalising and writing. Three runs into fresh
//!    ledgers; records stored per second (median).
//! 2. Budget use: at Bitfinex's real limit (90 requests a minute per endpoint) a sync of 50,000
//!    entries takes 20 ledgers calls, within the burst and one minute: the run reports the time
//!    and refusals. To show the limiter keeps a binding limit busy, a second run gives the
//!    simulator (counting over a sliding window) and the client a limit of 10 requests a second:
//!    the share is the ledgers requests served over what the limit allowed during the sync, and
//!    refusals (`ERR_RATE_LIMIT`) are counted. (With 20 calls the sync lasts about two seconds:
//!    `BITFINEX_BENCH_ENTRIES=250000` gives a longer, steadier measure.)

mod support;

use std::sync::Arc;
use std::time::Instant;

use cointally::sync::Job;
use cointally_exchanges::bitfinex::adapter::BitfinexAdapter;
use cointally_exchanges::bitfinex::api::{BitfinexApi, Budget, DEFAULT_BUDGET};
use cointally_exchanges::bitfinex::sim::history::BitfinexProfile;
use cointally_exchanges::bitfinex::sim::{self as bitfinex_sim, BitfinexSim, SimConfig, SimKey};
use cointally_exchanges::http::{ClientConfig, Clock, SystemClock};
use cointally_exchanges::{Exchange, Secret};
use support::Outcome;

const SEED: u64 = 1;
/// A budget too large to wait on.
const UNLIMITED: Budget = Budget { limit: 1_000_000_000, window_seconds: 1 };
/// The binding limit of the second part (10 a second: 1 at once, then 9 a second).
const SCALED: Budget = Budget { limit: 10, window_seconds: 1 };

fn main() {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {cores} cores");
    println!("profile: {:?}", profile());
    println!();
    throughput();
    println!();
    budget();
}

/// The bench profile, or `BITFINEX_BENCH_ENTRIES` entries.
fn profile() -> BitfinexProfile {
    let entries = std::env::var("BITFINEX_BENCH_ENTRIES").ok().and_then(|n| n.parse().ok());
    BitfinexProfile { entries: entries.unwrap_or(BitfinexProfile::bench().entries), ..BitfinexProfile::bench() }
}

fn sync_once(sim: &BitfinexSim, budget: Budget) -> Outcome {
    support::sync_once("bitfinex-api", "bitfinex", |account| {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let key = SimKey::demo();
        let api = BitfinexApi::new(
            Some(&sim.base_url()),
            Secret::new(key.api_key),
            Secret::new(key.secret),
            &account.label,
            BitfinexApi::new_limiter(Arc::clone(&clock), budget),
            ClientConfig::from_env(),
            clock,
        )
        .expect("api");
        Job { account, exchange: Exchange::Bitfinex, adapter: Arc::new(BitfinexAdapter::new(api)) }
    })
}

fn verdict(sim: &BitfinexSim, outcome: &Outcome) -> String {
    let expected = sim.entries().len();
    let notes = support::problems(&outcome.summaries, outcome.records as u64, expected as u64, "records");
    if notes.is_empty() { format!("ok (all {expected} records, balances equal)") } else { notes.join("; ") }
}

fn start(budget: Option<Budget>) -> BitfinexSim {
    let generated = Instant::now();
    let sim =
        bitfinex_sim::start(SimConfig { profile: profile(), budget, ..SimConfig::demo(SEED) }).expect("simulator");
    println!("simulator: {} entries, generated in {:.2} s", sim.entries().len(), generated.elapsed().as_secs_f64());
    sim
}

fn throughput() {
    println!("== 1. Throughput: simulator unmetered, client budget too large to wait on ==");
    let sim = start(None);
    support::three_runs(|| {
        let outcome = sync_once(&sim, UNLIMITED);
        let check = verdict(&sim, &outcome);
        (outcome, check)
    });
}

fn budget() {
    println!("== 2. Budget use ==");
    let sim = start(Some(DEFAULT_BUDGET));
    let outcome = sync_once(&sim, DEFAULT_BUDGET);
    println!(
        "real limit ({} per {} s per endpoint): sync took {:.2} s, {} requests; {} refusals; {}",
        DEFAULT_BUDGET.limit,
        DEFAULT_BUDGET.window_seconds,
        outcome.seconds,
        outcome.requests,
        sim.stats().rate_limited,
        verdict(&sim, &outcome)
    );
    let sim = start(Some(SCALED));
    let outcome = sync_once(&sim, SCALED);
    let stats = sim.stats();
    let served = stats.requests_by_path.get("/v2/auth/r/ledgers/hist").copied().unwrap_or(0) - stats.rate_limited;
    // What the limit allowed during the sync. (The permissions and wallets calls have buckets
    // of their own.)
    let allowed = outcome.seconds * SCALED.limit as f64 / SCALED.window_seconds as f64;
    let share = served as f64 * 100.0 / allowed.max(1.0);
    println!(
        "scaled budget ({} per {} s): sync took {:.2} s, {served} requests served, {} refusals; share of the budget used: {share:.1} % (target >= 85 %: {}); {}",
        SCALED.limit,
        SCALED.window_seconds,
        outcome.seconds,
        stats.rate_limited,
        if share >= 85.0 { "met" } else { "MISSED" },
        verdict(&sim, &outcome)
    );
}
