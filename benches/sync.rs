//! Sync benchmark: the real sync engine against the in-process Binance simulator.
//!
//! Run: `cargo bench --bench sync`. The account is `Profile::bench()` (100,000 trades over
//! 50 symbols plus ~5,000 deposits/withdrawals and the smaller kinds), synced through the
//! library API exactly as `cointally demo` syncs its simulator (ledger, `sync::run`, the
//! Binance adapter), with 8 fetching threads.
//!
//! 1. Throughput: the simulator meters nothing (`Limits::Off`) and the client limiter has no
//!    budgets declared (unknown buckets are unlimited), so the run measures fetching, parsing,
//!    normalising and writing. Three runs, each into a fresh ledger; records stored per
//!    second (target at least 20,000) and the process's peak resident memory (simulator
//!    included, it lives in the same process).
//! 2. Budget use: the simulator counts Binance's real weights with every per-minute budget
//!    per 5 s, the client uses its normal limiter. Per budget: weight, windows, and the share of
//!    the budget used; 429 and 418 counts (targets: share at least 85 %, no 418, at most one
//!    429). One sync needs only ~3 windows, so the same is also measured over four back-to-back
//!    syncs sharing one limiter, and with a 1 s window (the simulator cannot lower a limit).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cointally::ledger::{Ledger, NewAccount, OpenMode};
use cointally::sync::{self, AccountSummary, Job, Options, Reporter};
use cointally_exchanges::binance::adapter::BinanceAdapter;
use cointally_exchanges::binance::api::BinanceApi;
use cointally_exchanges::binance::sim::{self as binance_sim, BinanceSim, BucketStats, Limits, SimConfig, SimKey};
use cointally_exchanges::http::{ClientConfig, Clock, Limiter, SystemClock};
use cointally_exchanges::sim::generate::Profile;
use cointally_exchanges::{Exchange, Secret};

const WORKERS: usize = 8;
const SEED: u64 = 1;
/// Back-to-back full syncs (fresh ledgers, one shared limiter) of the longer budget run.
const REPEATS: usize = 4;

fn main() {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let profile = Profile::bench();
    println!("machine: {cores} cores; sync workers: {WORKERS}");
    println!("profile: {profile:?}");
    println!();

    throughput(&profile);
    println!();
    budget(&profile, Duration::from_secs(5), 1);
    println!();
    // One sync spans only ~3 windows (its heaviest budgets need ~2.9 windows' worth), so the
    // figure rests on one interior window. The simulator has no setting for a smaller limit;
    // these give the same measure over more windows: back-to-back syncs sharing one limiter
    // (as one run with several accounts would), and a 1 s window.
    budget(&profile, Duration::from_secs(5), REPEATS);
    println!();
    budget(&profile, Duration::from_secs(1), 1);
}

/// What one sync run did.
struct Outcome {
    new_records: u64,
    requests: u64,
    seconds: f64,
    summaries: Vec<AccountSummary>,
}

/// Syncs the simulator's account into a fresh ledger in a temporary directory.
fn sync_once(sim: &BinanceSim, key: &SimKey, limiter: Arc<Limiter>) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::open(&dir.path().join("bench.sqlite"), OpenMode::CreateNew).expect("ledger");
    let account = ledger.add_account(&NewAccount::files_only("binance-api", "binance")).expect("account");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let api = BinanceApi::new(
        Some(&sim.base_url()),
        Secret::new(key.api_key.clone()),
        Secret::new(key.secret.clone()),
        &account.label,
        limiter,
        ClientConfig::from_env(),
        clock,
    )
    .expect("api");
    let jobs = [Job { account, exchange: Exchange::Binance, adapter: Arc::new(BinanceAdapter::new(api)) }];
    let options = Options { full: false, since_ms: None, workers: WORKERS };
    let reporter = Reporter::new(true);
    let start = Instant::now();
    let summaries = sync::run(&mut ledger, &jobs, &options, &reporter).expect("sync");
    let seconds = start.elapsed().as_secs_f64();
    let endpoints = summaries.iter().flat_map(|s| s.endpoints.iter());
    let (new_records, requests) = endpoints.fold((0, 0), |(n, r), e| (n + e.new_records, r + e.requests));
    Outcome { new_records, requests, seconds, summaries }
}

/// Checks the sync ended well: no error, balances equal to the simulator's, every record stored.
fn verdict(sim: &BinanceSim, outcome: &Outcome) -> String {
    let expected: usize = sim.records().values().sum();
    let mut notes = Vec::new();
    for s in &outcome.summaries {
        if let Some(error) = &s.error {
            notes.push(format!("ERROR: {error}"));
        }
        if !s.balance_differences.is_empty() {
            notes.push(format!("{} balances DIFFER", s.balance_differences.len()));
        }
    }
    if outcome.new_records as usize != expected {
        notes.push(format!("stored {} of the simulator's {expected} records", outcome.new_records));
    }
    if notes.is_empty() { format!("ok (all {expected} records, balances equal)") } else { notes.join("; ") }
}

fn throughput(profile: &Profile) {
    println!("== 1. Throughput: simulator Limits::Off, client limiter without budgets ==");
    let key = SimKey::demo();
    let generated = Instant::now();
    let sim = binance_sim::start(SimConfig {
        seed: SEED,
        profile: profile.clone(),
        limits: Limits::Off,
        faults: None,
        key: key.clone(),
        port: 0,
    })
    .expect("simulator");
    let records: usize = sim.records().values().sum();
    println!(
        "simulator: {records} records ({:?}), generated in {:.2} s; resident memory now {} MB",
        sim.records(),
        generated.elapsed().as_secs_f64(),
        status_mb("VmRSS").map_or("?".into(), |m| m.to_string())
    );
    println!(
        "{:>4} {:>10} {:>9} {:>8} {:>10} {:>13}  check",
        "run", "records", "requests", "seconds", "records/s", "peak RSS MB"
    );
    let mut rates = Vec::new();
    for run in 1..=3 {
        // No bucket declared: every bucket is created on demand without limits. (exchangeInfo
        // then sets `api` to the simulator's listed 1,000,000,000 per minute.)
        let limiter = Arc::new(Limiter::new(Arc::new(SystemClock)));
        let outcome = sync_once(&sim, &key, limiter);
        let rate = outcome.new_records as f64 / outcome.seconds;
        rates.push((rate, outcome.seconds, outcome.new_records));
        println!(
            "{run:>4} {:>10} {:>9} {:>8.2} {:>10.0} {:>13}  {}",
            outcome.new_records,
            outcome.requests,
            outcome.seconds,
            rate,
            status_mb("VmHWM").map_or("?".into(), |m| m.to_string()),
            verdict(&sim, &outcome)
        );
    }
    rates.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (rate, seconds, stored) = rates[rates.len() / 2];
    println!(
        "median: {stored} records in {seconds:.2} s = {rate:.0} records/s (target >= 20000: {})",
        if rate >= 20_000.0 { "met" } else { "MISSED" }
    );
}

fn budget(profile: &Profile, window: Duration, repeats: usize) {
    println!(
        "== 2. Budget use: simulator Limits::Scaled {{ window: {} s }} (real weights, per-minute budgets per {} s), \
         normal limiter, {} ==",
        window.as_secs(),
        window.as_secs(),
        if repeats == 1 { "one full sync".to_owned() } else { format!("{repeats} full syncs back to back") }
    );
    let key = SimKey::demo();
    let sim = binance_sim::start(SimConfig {
        seed: SEED,
        profile: profile.clone(),
        limits: Limits::Scaled { window },
        faults: None,
        key: key.clone(),
        port: 0,
    })
    .expect("simulator");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let limiter = BinanceApi::new_limiter(clock);
    let mut total = 0.0;
    for run in 1..=repeats {
        let outcome = sync_once(&sim, &key, Arc::clone(&limiter));
        total += outcome.seconds;
        println!(
            "sync {run} took {:.2} s: {} records, {} requests; {}",
            outcome.seconds,
            outcome.new_records,
            outcome.requests,
            verdict(&sim, &outcome)
        );
    }
    let stats = sim.stats();
    if repeats > 1 {
        println!("all {repeats} syncs: {total:.2} s, {} requests", stats.requests);
    }
    let binding = binding(&stats.buckets);
    println!(
        "{:<12} {:>7} {:>6} {:>9} {:>7} {:>5} {:>9} {:>9} {:>8} {:>8} {:>9}",
        "bucket",
        "limit",
        "window",
        "weight",
        "windows",
        "span",
        "share(a)",
        "share(b)",
        "full≥95%",
        "binding",
        "share(c)"
    );
    let mut best: Option<(String, f64)> = None;
    for bucket in &stats.buckets {
        let Some(row) = Shares::of(bucket) else {
            println!("{:<12} {:>7} {:>5}s {:>9} {:>7}", bucket.name, bucket.limit, bucket.window.as_secs(), 0, 0);
            continue;
        };
        let interior = row.interior.map_or("-".to_owned(), |s| format!("{s:.2}%"));
        let (bound, share_bound) = binding.get(&bucket.name).copied().unwrap_or((0, None));
        println!(
            "{:<12} {:>7} {:>5}s {:>9} {:>7} {:>5} {:>8.2}% {:>9} {:>8} {:>8} {:>9}",
            bucket.name,
            bucket.limit,
            bucket.window.as_secs_f64(),
            row.weight,
            row.touched,
            row.span,
            row.inclusive,
            interior,
            row.full,
            bound,
            share_bound.map_or("-".to_owned(), |s| format!("{s:.2}%"))
        );
        let share = row.interior.unwrap_or(row.inclusive);
        if best.as_ref().is_none_or(|(_, s)| share > *s) {
            best = Some((bucket.name.clone(), share));
        }
        if let Some(expected) = bucket.share_percent() {
            debug_assert_eq!(format!("{expected:.2}"), format!("{:.2}", row.inclusive));
        }
    }
    if let Some((name, share)) = best {
        println!(
            "budget share: {share:.2}% ({name}, the bucket with the highest share; target >= 85%: {})",
            if share >= 85.0 { "met" } else { "MISSED" }
        );
    }
    println!(
        "429 answers: {} (target <= 1), 418 answers: {} (target 0); requests by path: {:?}",
        stats.rate_limited, stats.banned, stats.requests_by_path
    );
    let client: Vec<String> = limiter
        .stats()
        .iter()
        .map(|(name, s)| format!("{name}: {} weight, waited {:.2} s", s.weight, s.waited.as_secs_f64()))
        .collect();
    println!("client limiter: {}", client.join("; "));
    println!(
        "  windows = windows with any use; span = windows from the first used to the last used, inclusive;\n  \
         share(a) = weight / (limit × span) (the simulator's share_percent);\n  \
         share(b) = same over the span without its first and last windows (the sync starts and ends at an\n  \
         arbitrary point inside them, so they are partial by construction), '-' when span < 3;\n  \
         full≥95% = windows of the span that used at least 95% of the limit;\n  \
         binding = interior windows (of all buckets with this window length, first and last excluded) in\n  \
         which this bucket had the highest used/limit of them (above 0), i.e. was the binding constraint;\n  \
         share(c) = weight / (limit × binding) over those windows;\n  \
         budget share = the highest share(b) (share(a) when no share(b)) over the buckets."
    );
}

/// Per bucket name: the interior windows where it was the most used bucket of its window
/// length (the binding constraint), and its share of the budget over those windows.
fn binding(buckets: &[BucketStats]) -> BTreeMap<String, (usize, Option<f64>)> {
    let mut out = BTreeMap::new();
    let mut lengths: Vec<Duration> = buckets.iter().map(|b| b.window).collect();
    lengths.sort();
    lengths.dedup();
    for length in lengths {
        let group: Vec<&BucketStats> = buckets.iter().filter(|b| b.window == length).collect();
        let starts: BTreeSet<i64> = group.iter().flat_map(|b| b.used.keys().copied()).collect();
        let (Some(&first), Some(&last)) = (starts.first(), starts.last()) else { continue };
        let window_ms = (length.as_millis() as i64).max(1);
        let mut tally: BTreeMap<&str, (usize, u64)> = BTreeMap::new();
        let mut start = first + window_ms;
        while start < last {
            let fraction = |b: &BucketStats| b.used.get(&start).copied().unwrap_or(0) as f64 / b.limit as f64;
            // A window where nothing was spent constrained nothing.
            let top = group.iter().max_by(|a, b| fraction(a).total_cmp(&fraction(b))).filter(|b| fraction(b) > 0.0);
            if let Some(top) = top {
                let entry = tally.entry(top.name.as_str()).or_default();
                entry.0 += 1;
                entry.1 += top.used.get(&start).copied().unwrap_or(0);
            }
            start += window_ms;
        }
        for b in group {
            let (count, weight) = tally.get(b.name.as_str()).copied().unwrap_or((0, 0));
            let share = (count > 0).then(|| weight as f64 * 100.0 / (b.limit as f64 * count as f64));
            out.insert(b.name.clone(), (count, share));
        }
    }
    out
}

/// One bucket's use.
struct Shares {
    weight: u64,
    touched: usize,
    span: u64,
    inclusive: f64,
    interior: Option<f64>,
    full: usize,
}

impl Shares {
    fn of(bucket: &BucketStats) -> Option<Shares> {
        let (&first, _) = bucket.used.first_key_value()?;
        let (&last, _) = bucket.used.last_key_value()?;
        let window_ms = (bucket.window.as_millis() as i64).max(1);
        let span = ((last - first) / window_ms + 1) as u64;
        let weight: u64 = bucket.used.values().sum();
        let limit = bucket.limit as f64;
        let inclusive = weight as f64 * 100.0 / (limit * span as f64);
        let interior = (span >= 3).then(|| {
            let inner: u64 = bucket.used.range(first + 1..last).map(|(_, w)| *w).sum();
            inner as f64 * 100.0 / (limit * (span - 2) as f64)
        });
        let full = bucket.used.values().filter(|&&w| w as f64 >= 0.95 * limit).count();
        Some(Shares { weight, touched: bucket.used.len(), span, inclusive, interior, full })
    }
}

/// A `/proc/self/status` memory field (`VmHWM`, `VmRSS`) in MB.
fn status_mb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}
