//! KuCoin sync benchmark: the real sync engine against the in-process KuCoin simulator.
//!
//! Run: `cargo bench --bench kucoin`. The account is `KucoinProfile::bench()` (50,000 ledger
//! entries over 2024–2025, trading in a high-frequency account from 2025;
//! `KUCOIN_BENCH_ENTRIES=N` for another size, e.g. a quick check), synced from 2024-01-01
//! (`--since`) through the library API exactly as `cointally sync` does (ledger, `sync::run`,
//! the KuCoin adapter): the account ledger and the deposit and withdrawal lists one week at a
//! time, the HF ledger and the margin HF ledger three days at a time, up to today. The profile
//! does no margin trading, so the margin HF ledger's walk (about 360 calls, Spot pool, weight 2)
//! is all empty windows: it costs requests and Spot weight, and stores nothing.
//!
//! 1. Throughput: the simulator meters nothing and the client's budget is too large to wait
//!    on, so the run measures fetching, parsing, normalising and writing. Three runs into fresh
//!    ledgers; records stored per second (median).
//! 2. Budget use, at a scaled quota: the simulator (counting weight over a sliding window, as
//!    KuCoin does) and the client get 200 weight a second for the Management pool and 400 for
//!    the Spot pool, the same ratio as VIP 0's 2,000 and 4,000 a 30 s, so the run takes tens of
//!    seconds instead of minutes. The Management pool binds: the withdrawal list weighs 20 a
//!    call and the deposit list 5, both walked a week at a time, about 4,200 of its weight
//!    against some 1,500 of Spot's (the two HF ledgers). The share is the weight the Management pool served
//!    over what its quota allowed during the sync; refusals (`429000`) are counted and should
//!    be none. The pacing is the same leaky bucket at any scale (a tenth of the quota at once,
//!    then 90 % of it spread over the window), so the share at 200 a second is the share at
//!    2,000 a 30 s as long as a call's round trip stays far below the time the bucket makes it
//!    wait (here 1/90 s a ledger call, 1/9 s a list call), which at 200 a second on 127.0.0.1
//!    it does. `KUCOIN_BENCH_VIP0=1` also runs the sync at VIP 0's own quota (about two
//!    minutes) and reports its time, Management share and refusals.

use std::sync::Arc;
use std::time::Instant;

use cointally::ledger::{Ledger, NewAccount, OpenMode};
use cointally::sync::{self, AccountSummary, Job, Options, Reporter};
use cointally_exchanges::http::budget::WindowBudget;
use cointally_exchanges::http::{ClientConfig, Clock, SystemClock};
use cointally_exchanges::kucoin::adapter::KucoinAdapter;
use cointally_exchanges::kucoin::api::{DEFAULT_BUDGET, Endpoint, KucoinApi, POOL, SPOT_POOL, spot_budget};
use cointally_exchanges::kucoin::sim::history::KucoinProfile;
use cointally_exchanges::kucoin::sim::{self as kucoin_sim, KucoinSim, SimConfig, SimKey};
use cointally_exchanges::{Exchange, Secret};

const SEED: u64 = 1;
/// A budget too large to wait on.
const UNLIMITED: WindowBudget = WindowBudget { limit: 1_000_000_000, window_seconds: 1 };
/// The binding quota of the second part.
const SCALED: WindowBudget = WindowBudget { limit: 200, window_seconds: 1 };

fn main() {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {cores} cores");
    println!("profile: {:?}", profile());
    println!();
    throughput();
    println!();
    budget();
}

/// The bench profile, or `KUCOIN_BENCH_ENTRIES` entries.
fn profile() -> KucoinProfile {
    let entries = std::env::var("KUCOIN_BENCH_ENTRIES").ok().and_then(|n| n.parse().ok());
    KucoinProfile { entries: entries.unwrap_or(KucoinProfile::bench().entries), ..KucoinProfile::bench() }
}

struct Outcome {
    records: usize,
    requests: u64,
    seconds: f64,
    summaries: Vec<AccountSummary>,
}

fn sync_once(sim: &KucoinSim, budget: WindowBudget) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::open(&dir.path().join("bench.sqlite"), OpenMode::CreateNew).expect("ledger");
    let account = ledger.add_account(&NewAccount::files_only("kucoin-api", "kucoin")).expect("account");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let key = SimKey::demo();
    let api = KucoinApi::new(
        Some(&sim.base_url()),
        Secret::new(key.api_key),
        Secret::new(key.secret),
        Some(Secret::new(key.passphrase)),
        &account.label,
        KucoinApi::new_limiter(Arc::clone(&clock), budget),
        ClientConfig::from_env(),
        clock,
    )
    .expect("api");
    let jobs = [Job { account, exchange: Exchange::Kucoin, adapter: Arc::new(KucoinAdapter::new(api)) }];
    let options = Options { full: false, since_ms: Some(profile().start_ms), workers: 2 };
    let start = Instant::now();
    let summaries = sync::run(&mut ledger, &jobs, &options, &Reporter::new(true)).expect("sync");
    let seconds = start.elapsed().as_secs_f64();
    let records = ledger.events(&Default::default()).expect("events").len();
    let requests = summaries.iter().flat_map(|s| s.endpoints.iter()).map(|e| e.requests).sum();
    Outcome { records, requests, seconds, summaries }
}

fn verdict(sim: &KucoinSim, outcome: &Outcome) -> String {
    let expected = sim.entries().len();
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
        notes.push(format!("stored {} of the simulator's {expected} records", outcome.records));
    }
    if notes.is_empty() { format!("ok (all {expected} records, balances equal)") } else { notes.join("; ") }
}

fn start(budget: Option<WindowBudget>) -> KucoinSim {
    let generated = Instant::now();
    let sim = kucoin_sim::start(SimConfig { profile: profile(), budget, ..SimConfig::demo(SEED) }).expect("simulator");
    println!("simulator: {} entries, generated in {:.2} s", sim.entries().len(), generated.elapsed().as_secs_f64());
    sim
}

fn throughput() {
    println!("== 1. Throughput: simulator unmetered, client budget too large to wait on ==");
    let sim = start(None);
    println!("{:>4} {:>9} {:>9} {:>8} {:>10}  check", "run", "records", "requests", "seconds", "records/s");
    let mut rates = Vec::new();
    for run in 1..=3 {
        let outcome = sync_once(&sim, UNLIMITED);
        let rate = outcome.records as f64 / outcome.seconds;
        println!(
            "{run:>4} {:>9} {:>9} {:>8.2} {:>10.0}  {}",
            outcome.records,
            outcome.requests,
            outcome.seconds,
            rate,
            verdict(&sim, &outcome)
        );
        rates.push((rate, outcome.seconds));
    }
    rates.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (rate, seconds) = rates[1];
    println!("median: {seconds:.2} s = {rate:.0} records/s");
}

/// The weight `sim` served in `pool` and its share of what `quota` allowed in `seconds`. The
/// simulator counts a refused call under its path too, and does not say which path was
/// refused: each refusal takes the heaviest weight (20) off the pool's figure, so a refusal can
/// only lower the share (and none is expected).
fn pool_share(sim: &KucoinSim, pool: &str, quota: WindowBudget, seconds: f64) -> (u64, f64) {
    let stats = sim.stats();
    let served = |endpoint: Endpoint| stats.requests_by_path.get(endpoint.path()).copied().unwrap_or(0);
    let refused_weight = stats.rate_limited * Endpoint::ALL.into_iter().map(Endpoint::weight).max().unwrap_or(0);
    let asked: u64 = Endpoint::ALL.into_iter().filter(|e| e.pool() == pool).map(|e| served(e) * e.weight()).sum();
    let weight = asked.saturating_sub(refused_weight);
    let allowed = seconds * quota.limit as f64 / quota.window_seconds as f64;
    (weight, weight as f64 * 100.0 / allowed.max(1.0))
}

fn budget() {
    println!("== 2. Budget use ==");
    if std::env::var_os("KUCOIN_BENCH_VIP0").is_some() {
        let sim = start(Some(DEFAULT_BUDGET));
        let outcome = sync_once(&sim, DEFAULT_BUDGET);
        let (weight, share) = pool_share(&sim, POOL, DEFAULT_BUDGET, outcome.seconds);
        println!(
            "VIP 0 quota ({} weight per {} s): sync took {:.2} s, {} requests, Management {weight} weight served, share {share:.1} %; {} refusals; {}",
            DEFAULT_BUDGET.limit,
            DEFAULT_BUDGET.window_seconds,
            outcome.seconds,
            outcome.requests,
            sim.stats().rate_limited,
            verdict(&sim, &outcome)
        );
    }
    let sim = start(Some(SCALED));
    let outcome = sync_once(&sim, SCALED);
    for (name, pool, quota) in [("Management", POOL, SCALED), ("Spot", SPOT_POOL, spot_budget(SCALED))] {
        let (weight, share) = pool_share(&sim, pool, quota, outcome.seconds);
        println!(
            "scaled {name} quota ({} per {} s): sync took {:.2} s, {weight} weight served; share of the quota used: {share:.1} %",
            quota.limit, quota.window_seconds, outcome.seconds,
        );
    }
    let (_, share) = pool_share(&sim, POOL, SCALED, outcome.seconds);
    println!(
        "binding pool (Management): share {share:.1} % (target >= 85 %: {}), {} refusals; {}",
        if share >= 85.0 { "met" } else { "MISSED" },
        sim.stats().rate_limited,
        verdict(&sim, &outcome)
    );
}
