//! Coinbase sync benchmark: the real sync engine against the in-process Coinbase simulator.
//!
//! Run: `cargo bench --bench coinbase`. The account is `CoinbaseProfile::bench()` (50,000 v2
//! transactions over 20 wallets, 2023–2025, with their Advanced Trade fills), synced through
//! the library API exactly as `cointally demo` syncs its simulator (ledger, `sync::run`, the
//! Coinbase adapter, an Ed25519 CDP key: every request carries a freshly signed JWT that the
//! simulator verifies).
//!
//! 1. Throughput: the simulator meters nothing (`Limits::Off`) and the client models budgets too
//!    large to wait on. Three runs into fresh ledgers; transactions and fills stored per second
//!    (median).
//! 2. Budget use: the simulator runs Coinbase's budgets (v2 10,000 per hour with bursts of 100,
//!    v3 30 per second) with time running `SPEED` times faster (`COINTALLY_BENCH_SPEED`), and
//!    each account request takes `LATENCY_MS` (an assumed round trip to Coinbase) divided by the
//!    same factor, a sleep in the simulator; the client paces for the same budgets. The share
//!    used is the v2 requests served over what the budget allowed between the first and the last
//!    one (burst plus refill over that time); refusals are counted (target: share at least 85 %).
//!    Run once reading one wallet at a time (the walk before wallets were read concurrently) and
//!    once as `cointally sync` reads them ([`WALLETS_AT_ONCE`]).
//!
//! The speed is chosen so that the budget, not the machine, is what binds: at `SPEED` the v2
//! budget lets through about 14,000 transactions a second, half of what the unmetered run stores
//! on the 2-core machine. Much faster (200 times, say), every variant takes as long as the
//! unmetered run and the share only measures the CPU.

use std::sync::Arc;
use std::time::Instant;

use cointally::ledger::{Ledger, NewAccount, OpenMode};
use cointally::sync::{self, AccountSummary, Job, Options, Reporter};
use cointally_exchanges::coinbase::adapter::{CoinbaseAdapter, WALLETS_AT_ONCE};
use cointally_exchanges::coinbase::api::{Budget, CoinbaseApi};
use cointally_exchanges::coinbase::sim::history::CoinbaseProfile;
use cointally_exchanges::coinbase::sim::{
    self as coinbase_sim, AccountsConfig, CoinbaseSim, CoinbaseSimConfig, Limits,
};
use cointally_exchanges::http::{ClientConfig, Clock, SystemClock};
use cointally_exchanges::{Exchange, Secret};

const SEED: u64 = 1;
/// How many times faster than Coinbase's the simulated budgets refill in the budget run
/// (`COINTALLY_BENCH_SPEED` overrides it).
const SPEED: u32 = 50;
/// The assumed round trip of one Coinbase account request at real speed, ms (not measured
/// against Coinbase: a page of 100 v2 transactions from a distant client).
const LATENCY_MS: u64 = 300;

fn speed() -> u32 {
    std::env::var("COINTALLY_BENCH_SPEED").ok().and_then(|v| v.parse().ok()).filter(|&s| s > 0).unwrap_or(SPEED)
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {cores} cores");
    println!("profile: {:?}", CoinbaseProfile::bench());
    println!();
    throughput();
    println!();
    budget();
}

struct Outcome {
    records: u64,
    requests: u64,
    seconds: f64,
    summaries: Vec<AccountSummary>,
}

fn sync_once(sim: &CoinbaseSim, budget: Budget, wallets_at_once: usize) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::open(&dir.path().join("bench.sqlite"), OpenMode::CreateNew).expect("ledger");
    let account = ledger.add_account(&NewAccount::files_only("coinbase-api", "coinbase")).expect("account");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let key = sim.key().clone();
    let api = CoinbaseApi::new(
        Some(&sim.base_url()),
        &Secret::new(key.key_name),
        &Secret::new(key.private_key),
        &account.label,
        CoinbaseApi::new_limiter(Arc::clone(&clock), budget),
        ClientConfig::from_env(),
        clock,
    )
    .expect("api");
    let jobs = [Job {
        account,
        exchange: Exchange::Coinbase,
        adapter: Arc::new(CoinbaseAdapter::new(api).with_wallets_at_once(wallets_at_once)),
    }];
    let options = Options { full: false, since_ms: None, workers: 2 };
    let start = Instant::now();
    let summaries = sync::run(&mut ledger, &jobs, &options, &Reporter::new(true)).expect("sync");
    let seconds = start.elapsed().as_secs_f64();
    let records = summaries.iter().flat_map(|s| s.endpoints.iter()).map(|e| e.records).sum();
    let requests = summaries.iter().flat_map(|s| s.endpoints.iter()).map(|e| e.requests).sum();
    Outcome { records, requests, seconds, summaries }
}

fn verdict(outcome: &Outcome) -> String {
    let mut notes = Vec::new();
    for s in &outcome.summaries {
        if let Some(error) = &s.error {
            notes.push(format!("ERROR: {error}"));
        }
        if !s.balance_differences.is_empty() {
            notes.push(format!("{} balances DIFFER", s.balance_differences.len()));
        }
    }
    if notes.is_empty() { "ok (balances equal)".to_owned() } else { notes.join("; ") }
}

fn start(limits: Limits, latency: std::time::Duration) -> CoinbaseSim {
    let generated = Instant::now();
    let config = CoinbaseSimConfig { limits, ..CoinbaseSimConfig::demo(SEED) };
    let accounts = AccountsConfig { profile: CoinbaseProfile::bench(), latency, ..AccountsConfig::demo() };
    let sim = coinbase_sim::start_with_accounts(config, accounts).expect("simulator");
    let account = sim.account();
    println!(
        "simulator: {} transactions in {} wallets, {} fills, generated in {:.2} s",
        account.txs.len(),
        account.wallets.len(),
        account.fills.len(),
        generated.elapsed().as_secs_f64()
    );
    sim
}

fn throughput() {
    println!("== 1. Throughput: simulator Limits::Off, client budgets too large to wait on ==");
    let sim = start(Limits::Off, std::time::Duration::ZERO);
    let unlimited = Budget { v2_burst: 1_000_000, v2_per_hour: 1_000_000_000_000, v3_per_second: 1_000_000 };
    println!("{:>4} {:>9} {:>9} {:>8} {:>10}  check", "run", "records", "requests", "seconds", "records/s");
    let mut rates = Vec::new();
    for run in 1..=3 {
        let outcome = sync_once(&sim, unlimited, WALLETS_AT_ONCE);
        let rate = outcome.records as f64 / outcome.seconds;
        println!(
            "{run:>4} {:>9} {:>9} {:>8.2} {:>10.0}  {}",
            outcome.records,
            outcome.requests,
            outcome.seconds,
            rate,
            verdict(&outcome)
        );
        rates.push((rate, outcome.seconds));
    }
    rates.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (rate, seconds) = rates[1];
    println!("median: {seconds:.2} s = {rate:.0} records/s");
}

fn budget() {
    let speed = speed();
    let limits = Limits::Scaled { speed };
    let latency = std::time::Duration::from_micros(LATENCY_MS * 1000 / u64::from(speed));
    println!(
        "== 2. Budget use: v2 10,000/h (burst 100) and v3 30/s, {speed}x faster, a request answered in \
         {LATENCY_MS} ms / {speed} = {:.1} ms, client paced for them ==",
        latency.as_secs_f64() * 1000.0
    );
    for wallets_at_once in [1, WALLETS_AT_ONCE] {
        let sim = start(limits, latency);
        let budget = sim.client_budget().expect("a metered simulator");
        let outcome = sync_once(&sim, budget, wallets_at_once);
        println!(
            "{wallets_at_once} wallet(s) at once: sync took {:.2} s: {} records, {} requests; {}",
            outcome.seconds,
            outcome.records,
            outcome.requests,
            verdict(&outcome)
        );
        let (v2, v3) = sim.budgets();
        for (name, stats) in [("v2", v2), ("v3", v3)] {
            let Some(stats) = stats else { continue };
            let share = stats.share_percent.map_or("?".to_string(), |s| s.to_string());
            let met = stats.share_percent.is_some_and(|s| s >= rust_decimal::Decimal::from(85));
            println!(
                "  {name}: {} requests served, {} refused (429); share of the budget used: {share} %{}",
                stats.spent,
                stats.refused,
                if name == "v2" {
                    if met { " (target >= 85 %: met)" } else { " (target >= 85 %: MISSED)" }
                } else {
                    ""
                }
            );
        }
        println!(
            "  at Coinbase's real pace this sync would take about {:.1} minutes",
            outcome.seconds * f64::from(speed) / 60.0
        );
    }
}
