//! What the exchange sync benchmarks share: one sync into a fresh ledger, timed, and the
//! first words of its check (errors, balance differences, records stored). Each bench
//! includes it with `mod support;` and keeps its simulator, budget and report of its own.

// Not every bench uses every piece.
#![allow(dead_code)]

use std::time::Instant;

use cointally::ledger::{Account, Ledger, NewAccount, OpenMode};
use cointally::sync::{self, AccountSummary, Job, Options, Reporter};

/// One sync's result: what was stored, how many requests, how long.
pub struct Outcome {
    /// Events stored in the ledger.
    pub records: usize,
    /// Requests made, over all endpoints.
    pub requests: u64,
    /// Seconds `sync::run` took.
    pub seconds: f64,
    /// The engine's summaries.
    pub summaries: Vec<AccountSummary>,
}

/// Syncs one account `label` of `exchange` into a fresh ledger; `job` builds the account's job
/// (its client and adapter) before the clock starts.
pub fn sync_once(label: &str, exchange: &str, job: impl FnOnce(Account) -> Job) -> Outcome {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::open(&dir.path().join("bench.sqlite"), OpenMode::CreateNew).expect("ledger");
    let account = ledger.add_account(&NewAccount::files_only(label, exchange)).expect("account");
    let jobs = [job(account)];
    let options = Options { full: false, since_ms: None, workers: 2 };
    let start = Instant::now();
    let summaries = sync::run(&mut ledger, &jobs, &options, &Reporter::new(true)).expect("sync");
    let seconds = start.elapsed().as_secs_f64();
    let records = ledger.events(&Default::default()).expect("events").len();
    let requests = summaries.iter().flat_map(|s| s.endpoints.iter()).map(|e| e.requests).sum();
    Outcome { records, requests, seconds, summaries }
}

/// What went wrong in a sync that should have stored `expected` of the simulator's `noun`
/// (`records`, `entries`) and stored `stored`: errors, balance differences, a short count.
/// Empty when all is well.
pub fn problems(summaries: &[AccountSummary], stored: u64, expected: u64, noun: &str) -> Vec<String> {
    let mut notes = Vec::new();
    for s in summaries {
        if let Some(error) = &s.error {
            notes.push(format!("ERROR: {error}"));
        }
        if !s.balance_differences.is_empty() {
            notes.push(format!("{} balances DIFFER", s.balance_differences.len()));
        }
    }
    if stored != expected {
        notes.push(format!("stored {stored} of the simulator's {expected} {noun}"));
    }
    notes
}

/// Three syncs, `sync` giving each one's outcome and check: a row per run, then the median run's
/// seconds and records per second.
pub fn three_runs(mut sync: impl FnMut() -> (Outcome, String)) {
    println!("{:>4} {:>9} {:>9} {:>8} {:>10}  check", "run", "records", "requests", "seconds", "records/s");
    let mut rates = Vec::new();
    for run in 1..=3 {
        let (outcome, check) = sync();
        let rate = outcome.records as f64 / outcome.seconds;
        println!(
            "{run:>4} {:>9} {:>9} {:>8.2} {:>10.0}  {check}",
            outcome.records, outcome.requests, outcome.seconds, rate
        );
        rates.push((rate, outcome.seconds));
    }
    rates.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (rate, seconds) = rates[1];
    println!("median: {seconds:.2} s = {rate:.0} records/s");
}
