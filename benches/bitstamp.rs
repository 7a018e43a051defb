//! Bitstamp sync benchmark: the real sync engine against the in-process Bitstamp simulator.
//!
//! Run: `cargo bench --bench bitstamp`. The account is `BitstampProfile::bench()` (50,000
//! `user_transactions` records over 2022–2025), synced through the library API exactly as
//! `cointally sync` does (ledger, `sync::run`, the Bitstamp adapter): both streams, the
//! `user_transactions` walk and the `crypto-transactions` walk (the crypto deposits' and
//! withdrawals' hashes, one request per 1,000 entries, each entry attached to its event; the
//! check column says how many and in how many requests). Records/s counts the events.
//!
//! 1. Throughput: the simulator meters nothing and the client's budget is too large to wait
//!    on, so the run measures fetching, parsing, normalising and writing. Three runs into fresh
//!    ledgers; records stored per second (median).
//! 2. Budget use: Bitstamp's real budget (10,000 requests per 10 minutes, 400 a second) is far
//!    above what one sync needs (a page of 1,000 records per request), so the sync is not paced
//!    at all at real weights: the run reports how much of the 10-minute budget it used. To show
//!    the limiter keeps a binding budget busy, a second run gives the simulator and the client a
//!    budget of 5 requests a second: the share is the requests served over what the windows
//!    between the first and the last request allowed, and refusals (`400.002`) are counted.

mod support;

use std::sync::Arc;
use std::time::Instant;

use cointally::sync::Job;
use cointally_exchanges::bitstamp::adapter::BitstampAdapter;
use cointally_exchanges::bitstamp::api::{BitstampApi, Budget};
use cointally_exchanges::bitstamp::sim::history::BitstampProfile;
use cointally_exchanges::bitstamp::sim::{self as bitstamp_sim, BitstampSim, SimConfig, SimKey};
use cointally_exchanges::http::{ClientConfig, Clock, SystemClock};
use cointally_exchanges::{Exchange, Secret};
use support::Outcome;

const SEED: u64 = 1;
/// A budget too large to wait on.
const UNLIMITED: Budget = Budget { limit: 1_000_000_000, window_seconds: 1 };
/// The binding budget of the second part.
const SCALED: Budget = Budget { limit: 5, window_seconds: 1 };

fn main() {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {cores} cores");
    println!("profile: {:?}", BitstampProfile::bench());
    println!();
    throughput();
    println!();
    budget();
}

fn sync_once(sim: &BitstampSim, budget: Budget) -> Outcome {
    support::sync_once("bitstamp-api", "bitstamp", |account| {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let key = SimKey::demo();
        let api = BitstampApi::new(
            Some(&sim.base_url()),
            Secret::new(key.api_key),
            Secret::new(key.secret),
            &account.label,
            BitstampApi::new_limiter(Arc::clone(&clock), budget),
            ClientConfig::from_env(),
            clock,
        )
        .expect("api");
        Job { account, exchange: Exchange::Bitstamp, adapter: Arc::new(BitstampAdapter::new(api)) }
    })
}

fn verdict(sim: &BitstampSim, outcome: &Outcome) -> String {
    let expected = sim.transactions().len();
    let mut notes = support::problems(&outcome.summaries, outcome.records as u64, expected as u64, "records");
    // The crypto-transactions walk: every entry stored, each attached to its event.
    let crypto_expected = sim.crypto_transactions().len() as u64;
    let crypto =
        outcome.summaries.iter().flat_map(|s| s.endpoints.iter()).find(|e| e.endpoint == "crypto-transactions");
    let (crypto_records, crypto_requests) = crypto.map_or((0, 0), |e| (e.new_records, e.requests));
    let waiting: u64 = outcome.summaries.iter().map(|s| s.details_waiting).sum();
    if crypto_records != crypto_expected || waiting > 0 {
        notes.push(format!(
            "crypto-transactions: {crypto_records} of {crypto_expected} entries stored, {waiting} details waiting"
        ));
    }
    if notes.is_empty() {
        format!(
            "ok (all {expected} records, balances equal; crypto-transactions {crypto_records} entries in {crypto_requests} requests, all attached)"
        )
    } else {
        notes.join("; ")
    }
}

fn start(budget: Option<Budget>) -> BitstampSim {
    let generated = Instant::now();
    let sim = bitstamp_sim::start(SimConfig { profile: BitstampProfile::bench(), budget, ..SimConfig::demo(SEED) })
        .expect("simulator");
    println!(
        "simulator: {} records, generated in {:.2} s",
        sim.transactions().len(),
        generated.elapsed().as_secs_f64()
    );
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
    let sim = start(Some(Budget::DEFAULT));
    let outcome = sync_once(&sim, Budget::DEFAULT);
    println!(
        "real budget ({} per {} s): sync took {:.2} s, {} requests = {:.2} % of one window; {} refusals; {}",
        Budget::DEFAULT.limit,
        Budget::DEFAULT.window_seconds,
        outcome.seconds,
        outcome.requests,
        outcome.requests as f64 * 100.0 / Budget::DEFAULT.limit as f64,
        sim.stats().rate_limited,
        verdict(&sim, &outcome)
    );
    let sim = start(Some(SCALED));
    let outcome = sync_once(&sim, SCALED);
    let stats = sim.stats();
    let served = stats.requests_by_path.values().sum::<u64>() - stats.rate_limited;
    // The windows between the first and the last request: the run's whole seconds.
    let windows = outcome.seconds.ceil().max(1.0);
    let share = served as f64 * 100.0 / (windows * SCALED.limit as f64);
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
