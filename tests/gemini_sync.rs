//! `cointally sync` against the Gemini simulator: every fill and transfer once, balances equal
//! currency by currency; re-runs that ask only what can be new; faults and kills that change
//! nothing; keys that are refused; no secret in any output or the ledger.

mod common;

use std::collections::BTreeMap;

use cointally_exchanges::gemini::api::Pace;
use cointally_exchanges::gemini::sim::history::GeminiProfile;
use cointally_exchanges::gemini::sim::{self, GeminiSim, Limits, SimConfig, SimKey};
use cointally_exchanges::sim::faults::{FaultConfig, FaultKind};
use common::exchange::{
    Synced, assert_add_refused_for_wrong_secret, assert_ledger_holds_none, assert_unchecked_wrong_secret_fails_at_sync,
    events_after_kills, totals,
};

/// Adds the Gemini account `main` whose key is in $SIM_KEY and $SIM_SECRET.
const ADD_ACCOUNT: [&str; 9] =
    ["account", "add", "gemini", "--label", "main", "--key-env", "SIM_KEY", "--secret-env", "SIM_SECRET"];

fn config(records: usize) -> SimConfig {
    SimConfig { profile: GeminiProfile { records, ..GeminiProfile::demo() }, ..SimConfig::demo(21) }
}

/// Commands that reach the simulator, pacing for its limits.
impl Synced {
    fn new(sim: &GeminiSim, key: &SimKey) -> Synced {
        let pace = sim.client_pace().unwrap_or(Pace { capacity: 1_000, per_second: 1_000_000.0 }).render();
        Synced::with_env(&[
            ("SIM_KEY", &key.api_key),
            ("SIM_SECRET", &key.secret),
            ("COINTALLY_GEMINI_BASE_URL", &sim.base_url()),
            ("COINTALLY_GEMINI_PACE", &pace),
        ])
    }
}

/// Requests the simulator answered on the history endpoints.
fn history_requests(sim: &GeminiSim) -> u64 {
    let stats = sim.stats();
    ["/v1/mytrades", "/v1/transfers", "/v1/staking/history"]
        .iter()
        .map(|path| stats.requests_by_path.get(*path).copied().unwrap_or(0))
        .sum()
}

#[test]
fn a_full_sync_has_every_record_once_and_the_simulators_balances_and_a_resync_asks_only_what_can_be_new() {
    let sim = sim::start(config(700)).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let first = s.ok(&["--json", "sync"]).json();
    assert_eq!(first["accounts"][0]["error"], serde_json::Value::Null, "{first}");
    assert_eq!(first["accounts"][0]["balance_differences"], serde_json::json!([]), "{first}");
    assert_eq!(s.balances(), sim.balances());
    let (fills, transfers) = (sim.fills(), sim.transfers());
    let pending = transfers.iter().filter(|t| t.status == "Pending").count();
    assert_eq!(pending, 1);
    let staking = sim.staking();
    assert!(staking.iter().any(|t| t.kind == "Interest") && staking.iter().any(|t| t.kind == "Deposit"));
    assert_eq!(totals(&first, "new_records") as usize, fills.len() + transfers.len() - pending + staking.len());
    let events = s.events();
    assert_eq!(events.iter().filter(|e| e["kind"] == "trade").count(), fills.len());
    // Fills of one order in one millisecond, across pages of 500: none lost, none doubled.
    assert!(fills.windows(2).any(|w| w[0].time_ms == w[1].time_ms));
    assert!(sim.stats().rate_limited <= 2, "{:?}", sim.stats());

    // Again: nothing changed, so only transfers and staking are asked, once each.
    let before = history_requests(&sim);
    let second = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&second, "new_records"), 0, "{second}");
    assert_eq!(history_requests(&sim) - before, 2, "{second}");
    assert_eq!(s.events(), events);

    // New fills (and the deposit that paid them): fetched, and only them.
    sim.add_trades(7);
    let third = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&third, "new_records"), 8, "{third}");
    assert_eq!(s.balances(), sim.balances());

    // The pending deposit completes: the next sync stores it, once.
    sim.settle_pending();
    let fourth = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&fourth, "new_records"), 1, "{fourth}");
    assert_eq!(s.balances(), sim.balances());

    let report = s.ok(&["--json", "renormalize"]).json();
    assert_eq!(report[0]["events_before"], report[0]["events_after"]);
}

/// Found by the benchmark: `sortAsc` went out as the string `"true"`, Gemini's staking history
/// then answered its newest page, and every staking transaction before that page was lost (the
/// balances differed). More staking history than one page of 500 must all arrive.
#[test]
fn staking_history_longer_than_one_page_is_stored_whole() {
    let profile = GeminiProfile { records: 1_100, extra_staking_percent: 70, ..GeminiProfile::demo() };
    let sim = sim::start(SimConfig { profile, limits: Limits::Off, ..SimConfig::demo(21) }).unwrap();
    let staking = sim.staking();
    assert!(staking.len() > 500, "only {} staking transactions: one page", staking.len());
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["--json", "sync"]).json();
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    let stored = run["accounts"][0]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["endpoint"] == "staking/history")
        .map(|e| e["new_records"].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(stored as usize, staking.len(), "{run}");
    assert_eq!(s.balances(), sim.balances());
}

/// The events by id, with kind and legs (a note may differ between the file and the API).
fn by_id(events: &[serde_json::Value]) -> BTreeMap<String, (serde_json::Value, serde_json::Value)> {
    events.iter().map(|e| (e["external_id"].to_string(), (e["kind"].clone(), e["legs"].clone()))).collect()
}

#[test]
fn the_same_history_imported_from_the_file_and_synced_adds_nothing_twice() {
    let sim = sim::start(SimConfig { limits: Limits::Off, ..config(400) }).unwrap();
    let synced = Synced::new(&sim, &SimKey::demo());
    synced.ok(&ADD_ACCOUNT);
    synced.ok(&["sync", "--quiet"]);
    let events = synced.events();
    let file = synced.sb.path("gemini-transaction-history.csv");
    std::fs::write(&file, sim.history_file()).unwrap();
    let file = file.to_str().unwrap();

    // Synced first, then the file: the file's rows all meet synced events.
    let import = synced.ok(&["--json", "import", file, "--account", "main"]);
    assert!(import.stdout.contains("gemini"), "the file was read as Gemini's: {}", import.stdout);
    assert_eq!(by_id(&synced.events()), by_id(&events));

    // The file first, then a sync: every record once, the simulator's balances.
    let fresh = Synced::new(&sim, &SimKey::demo());
    fresh.ok(&ADD_ACCOUNT);
    fresh.ok(&["import", file, "--account", "main"]);
    let pending = sim.transfers().iter().filter(|t| t.status == "Pending").count();
    assert_eq!(fresh.events().len(), sim.fills().len() + sim.transfers().len() - pending);
    let run = fresh.ok(&["--json", "sync"]).json();
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    assert_eq!(by_id(&fresh.events()), by_id(&events));
    assert_eq!(fresh.balances(), sim.balances());
}

#[test]
fn faults_do_not_change_the_ledger() {
    let unmetered = |faults| SimConfig { limits: Limits::Off, faults, ..config(2_000) };
    let clean = sim::start(unmetered(None)).unwrap();
    let reference = Synced::new(&clean, &SimKey::demo());
    reference.ok(&ADD_ACCOUNT);
    reference.ok(&["sync", "--quiet"]);

    let faults = FaultConfig {
        rate_permille: 300,
        seed: 4,
        kinds: vec![FaultKind::ServerError, FaultKind::Truncated, FaultKind::TooManyRequests, FaultKind::Timeout],
    };
    let faulty = sim::start(unmetered(Some(faults))).unwrap();
    faulty.set_fault_timeout_delay(std::time::Duration::from_millis(1_500));
    let s = Synced::new(&faulty, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["--json", "sync"]).json();
    assert!(totals(&run, "retries") > 0, "no fault was met: {run}");
    assert!(faulty.stats().faults > 0);
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), faulty.balances());
}

#[test]
fn a_killed_sync_resumes_to_the_same_ledger() {
    let clean = sim::start(SimConfig { limits: Limits::Off, ..config(4_000) }).unwrap();
    let reference = Synced::new(&clean, &SimKey::demo());
    reference.ok(&ADD_ACCOUNT);
    reference.ok(&["sync", "--quiet"]);
    let (all, whole) = (reference.events().len(), clean.stats().requests);

    // Gemini's real pace (10 requests a second): the walk takes seconds; each kill strikes
    // after a quarter of a whole sync's requests.
    let target = sim::start(SimConfig { limits: Limits::Real, ..config(4_000) }).unwrap();
    let s = Synced::new(&target, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let seen = events_after_kills(&s.sb, &|| target.stats().requests, &[whole / 4, whole / 4]);
    // The kills struck mid-run: some history was stored, not all of it.
    assert!(seen[0] > 0 && seen[1] > seen[0] && seen[1] < all, "{seen:?} of {all}");
    s.ok(&["sync", "--quiet"]);
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), target.balances());
}

#[test]
fn a_fund_manager_key_is_refused_unless_allowed() {
    let key = SimKey { fund_manager: true, ..SimKey::demo() };
    let sim = sim::start(SimConfig { key: key.clone(), ..config(60) }).unwrap();
    let s = Synced::new(&sim, &key);
    let refused = s.run(&ADD_ACCOUNT);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("can move funds out"), "{}", refused.stderr);
    assert!(refused.stderr.contains("Fund Manager"), "{}", refused.stderr);
    assert_eq!(s.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));
    s.ok(&[ADD_ACCOUNT.as_slice(), &["--allow-withdraw-key"]].concat());
    let run = s.ok(&["sync"]);
    assert!(run.stderr.contains("can withdraw"), "{}", run.stderr);
}

#[test]
fn a_wrong_secret_is_a_clear_error_writes_nothing_and_no_secret_is_shown() {
    let sim = sim::start(config(60)).unwrap();
    let wrong = SimKey { secret: "wrong-secret-0123456789abcdef".into(), ..SimKey::demo() };
    let s = Synced::new(&sim, &wrong);
    assert_add_refused_for_wrong_secret(&s.sb, &ADD_ACCOUNT, &wrong.secret);

    // Added without the variables set, so without a check: the sync fails with nothing written.
    assert_unchecked_wrong_secret_fails_at_sync(&s.sb, &ADD_ACCOUNT, &["SIM_KEY", "SIM_SECRET"], &wrong.secret);

    // The right key, verbose, with faults: no secret (nor a signature) reaches the output or
    // the ledger.
    let right = SimKey { secret: "right-secret-of-the-gemini-sim".into(), ..SimKey::demo() };
    let faults = FaultConfig { rate_permille: 100, seed: 9, kinds: vec![FaultKind::ServerError, FaultKind::Truncated] };
    let sim = sim::start(SimConfig { faults: Some(faults), key: right.clone(), ..config(100) }).unwrap();
    let s = Synced::new(&sim, &right);
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["-vv", "sync"]);
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(&right.secret));
        assert!(!text.contains("X-GEMINI-SIGNATURE"), "a signature header reached the output");
    }
    assert_ledger_holds_none(&s.sb, &[&right.secret]);
}
