//! Kraken sync benchmark: the real sync engine against the in-process Kraken simulator.
//!
//! Run: `cargo bench --bench kraken`. The account is `KrakenProfile::bench()` (50,000 ledger
//! entries over 2022–2025), synced through the library API exactly as `cointally demo` syncs
//! its simulator (ledger, `sync::run`, the Kraken adapter).
//!
//! 1. Throughput: the simulator meters nothing (`Limits::Off`) and the client models a counter
//!    too large to wait on, so the run measures fetching, parsing, normalising and writing.
//!    Three runs into fresh ledgers; ledger entries stored per second (median).
//! 2. Budget use: the simulator runs Kraken's Pro counter (20, −1/s) decaying 200 times faster
//!    (a Ledgers page every 10 ms instead of every 2 s), the client paces for the same counter.
//!    The share of the budget used is the counter units the simulator served over what the
//!    counter allowed between the first and the last call (its capacity plus its decay over
//!    that time); rate-limit refusals and lockouts are counted (targets: share at least 85 %,
//!    no lockout).

mod support;

use std::sync::Arc;
use std::time::Instant;

use cointally::ledger::{Ledger, NewAccount, OpenMode};
use cointally::sync::{self, AccountSummary, Job, Options, Reporter};
use cointally_exchanges::http::{ClientConfig, Clock, SystemClock};
use cointally_exchanges::kraken::adapter::KrakenAdapter;
use cointally_exchanges::kraken::api::{KrakenApi, Tier};
use cointally_exchanges::kraken::sim::history::KrakenProfile;
use cointally_exchanges::kraken::sim::{self as kraken_sim, KrakenSim, Limits, SimConfig, SimKey};
use cointally_exchanges::{Exchange, Secret};

const SEED: u64 = 1;
/// How many times faster than Kraken's the simulated counter decays in the budget run.
const SPEED: u32 = 200;

fn main() {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {cores} cores");
    println!("profile: {:?}", KrakenProfile::bench());
    println!();
    throughput();
    println!();
    budget();
}

struct Outcome {
    entries: usize,
    requests: u64,
    seconds: f64,
    summaries: Vec<AccountSummary>,
}

fn sync_once(sim: &KrakenSim, tier: Tier) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::open(&dir.path().join("bench.sqlite"), OpenMode::CreateNew).expect("ledger");
    let account = ledger.add_account(&NewAccount::files_only("kraken-api", "kraken")).expect("account");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let key = SimKey::demo();
    let api = KrakenApi::new(
        Some(&sim.base_url()),
        Secret::new(key.api_key),
        Secret::new(key.secret),
        &account.label,
        KrakenApi::new_limiter(Arc::clone(&clock), tier),
        ClientConfig::from_env(),
        clock,
    )
    .expect("api");
    let jobs = [Job { account, exchange: Exchange::Kraken, adapter: Arc::new(KrakenAdapter::new(api)) }];
    let options = Options { full: false, since_ms: None, workers: 2 };
    let start = Instant::now();
    let summaries = sync::run(&mut ledger, &jobs, &options, &Reporter::new(true)).expect("sync");
    let seconds = start.elapsed().as_secs_f64();
    let events = ledger.events(&Default::default()).expect("events");
    let requests = summaries.iter().flat_map(|s| s.endpoints.iter()).map(|e| e.requests).sum();
    // Entries stored: the ledger entries behind the events (a trade is two).
    let trades = events.iter().filter(|e| e.kind.as_str() == "trade").count();
    Outcome { entries: events.len() + trades, requests, seconds, summaries }
}

fn verdict(sim: &KrakenSim, outcome: &Outcome) -> String {
    let expected = sim.entries().len();
    let notes = support::problems(&outcome.summaries, outcome.entries as u64, expected as u64, "entries");
    if notes.is_empty() { format!("ok (all {expected} entries, balances equal)") } else { notes.join("; ") }
}

fn start(limits: Limits) -> KrakenSim {
    let generated = Instant::now();
    let sim = kraken_sim::start(SimConfig { profile: KrakenProfile::bench(), limits, ..SimConfig::demo(SEED) })
        .expect("simulator");
    println!(
        "simulator: {} ledger entries, {} fills, generated in {:.2} s",
        sim.entries().len(),
        sim.fills().len(),
        generated.elapsed().as_secs_f64()
    );
    sim
}

fn throughput() {
    println!("== 1. Throughput: simulator Limits::Off, client counter too large to wait on ==");
    let sim = start(Limits::Off);
    let unlimited = Tier { capacity: 1_000_000, decay_milli: 1_000_000_000 };
    println!("{:>4} {:>9} {:>9} {:>8} {:>10}  check", "run", "entries", "requests", "seconds", "entries/s");
    let mut rates = Vec::new();
    for run in 1..=3 {
        let outcome = sync_once(&sim, unlimited);
        let rate = outcome.entries as f64 / outcome.seconds;
        println!(
            "{run:>4} {:>9} {:>9} {:>8.2} {:>10.0}  {}",
            outcome.entries,
            outcome.requests,
            outcome.seconds,
            rate,
            verdict(&sim, &outcome)
        );
        rates.push((rate, outcome.seconds));
    }
    rates.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (rate, seconds) = rates[1];
    println!("median: {seconds:.2} s = {rate:.0} ledger entries/s");
}

fn budget() {
    let limits = Limits::Scaled { tier: Tier::PRO, speed: SPEED };
    println!("== 2. Budget use: Pro counter (20, -1/s) decaying {SPEED}x faster, client paced for it ==");
    let sim = start(limits);
    let tier = sim.client_tier().expect("a metered simulator");
    let outcome = sync_once(&sim, tier);
    println!(
        "sync took {:.2} s: {} entries, {} requests; {}",
        outcome.seconds,
        outcome.entries,
        outcome.requests,
        verdict(&sim, &outcome)
    );
    let counter = sim.stats().counter;
    let share = counter.share_percent().map_or("?".to_string(), |s| s.to_string());
    println!(
        "counter: {} units served; {} refusals (EAPI:Rate limit exceeded); {} lockouts; share of the budget used: {share} % (target >= 85 %: {})",
        counter.spent,
        counter.rate_limited,
        counter.lockouts,
        if counter.share_percent().is_some_and(|s| s >= rust_decimal::Decimal::from(85)) { "met" } else { "MISSED" }
    );
    println!(
        "at Kraken's real pace this sync would take about {:.0} minutes on Pro, {:.0} on Starter",
        outcome.seconds * f64::from(SPEED) / 60.0,
        outcome.seconds * f64::from(SPEED) / 60.0 / 0.33
    );
}
