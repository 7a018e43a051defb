//! `cointally sync` against the Bitfinex simulator: the complete ledger once, balances equal
//! currency by currency; re-runs that fetch only what is new; faults and kills that change
//! nothing; the per-endpoint limits never tripped; keys refused with nothing written and no
//! secret shown; the ledger export and the API meeting instead of doubling.

mod common;

use cointally_exchanges::bitfinex::api::Budget;
use cointally_exchanges::bitfinex::sim::history::BitfinexProfile;
use cointally_exchanges::bitfinex::sim::{self, BitfinexSim, SimConfig, SimKey};
use cointally_exchanges::sim::faults::{FaultConfig, FaultKind};
use common::exchange::{
    Synced, assert_add_refused_for_wrong_secret, assert_ledger_holds_none, assert_unchecked_wrong_secret_fails_at_sync,
    events_after_kills, totals,
};
use rust_decimal::Decimal;

/// Adds the Bitfinex account `main` whose key is in $SIM_KEY and $SIM_SECRET.
const ADD_ACCOUNT: [&str; 9] =
    ["account", "add", "bitfinex", "--label", "main", "--key-env", "SIM_KEY", "--secret-env", "SIM_SECRET"];

const LEDGERS_PATH: &str = "/v2/auth/r/ledgers/hist";
const MOVEMENTS_PATH: &str = "/v2/auth/r/movements/hist";

fn config(entries: usize) -> SimConfig {
    SimConfig { profile: BitfinexProfile { entries, ..BitfinexProfile::demo() }, ..SimConfig::demo(13) }
}

/// Commands that reach the simulator, pacing for its limits.
impl Synced {
    fn new(sim: &BitfinexSim, key: &SimKey) -> Synced {
        let budget = sim.budget().unwrap_or(Budget { limit: 1_000_000, window_seconds: 1 }).render();
        Synced::with_env(&[
            ("SIM_KEY", &key.api_key),
            ("SIM_SECRET", &key.secret),
            ("COINTALLY_BITFINEX_BASE_URL", &sim.base_url()),
            ("COINTALLY_BITFINEX_BUDGET", &budget),
        ])
    }
}

fn ledger_calls(sim: &BitfinexSim) -> u64 {
    sim.stats().requests_by_path.get(LEDGERS_PATH).copied().unwrap_or(0)
}

/// The retries a sync summary counts for `endpoint`.
fn endpoint_retries(summary: &serde_json::Value, endpoint: &str) -> u64 {
    let endpoints = summary["accounts"][0]["endpoints"].as_array().unwrap();
    endpoints.iter().filter(|e| e["endpoint"] == endpoint).map(|e| e["retries"].as_u64().unwrap()).sum()
}

fn movement_calls(sim: &BitfinexSim) -> u64 {
    sim.stats().requests_by_path.get(MOVEMENTS_PATH).copied().unwrap_or(0)
}

#[test]
fn a_full_sync_has_every_entry_once_and_the_wallets_balances_and_a_resync_asks_only_whats_new() {
    let sim = sim::start(config(5_200)).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let first = s.ok(&["--json", "sync"]).json();
    assert_eq!(first["accounts"][0]["error"], serde_json::Value::Null, "{first}");
    assert_eq!(first["accounts"][0]["balance_differences"], serde_json::json!([]), "{first}");
    assert_eq!(s.balances(), sim.balances());
    let served = sim.entries();
    let movements = sim.movements();
    assert_eq!(totals(&first, "new_records") as usize, served.len() + movements.len());
    let events = s.events();
    assert_eq!(events.len(), served.len(), "movements are details of the ledger's events, never events");
    // Every crypto deposit and withdrawal carries its movement's tx hash.
    let hashes: Vec<&str> = movements.iter().filter_map(|m| m.tx_id.as_deref()).collect();
    assert!(hashes.len() > 10, "the account moves crypto: {}", hashes.len());
    let hashed: Vec<&str> = events.iter().filter_map(|e| e["tx_hash"].as_str()).collect();
    let mut expected = hashes.clone();
    expected.sort_unstable();
    let mut got = hashed.clone();
    got.sort_unstable();
    assert_eq!(got, expected);
    for event in events.iter().filter(|e| e["tx_hash"].is_string()) {
        assert!(event["kind"] == "deposit" || event["kind"] == "withdrawal", "{event}");
    }
    let count = |kind: &str| events.iter().filter(|e| e["kind"] == kind).count();
    let described = |prefix: &str| served.iter().filter(|e| e.description.starts_with(prefix)).count();
    assert_eq!(count("trade"), described("Exchange "));
    assert_eq!(count("internal_transfer"), described("Transfer of "));
    assert_eq!(count("interest"), described("Margin Funding Payment"));
    assert_eq!(count("unknown"), 0);
    // 5,200 entries at 2,500 a page: three pages (and any retry the sync counted: on a loaded
    // machine a call can time out and be asked again).
    assert_eq!(ledger_calls(&sim), 3 + endpoint_retries(&first, "ledgers"), "{first}");

    // Again: nothing new, and one call per stream only (a retry, on a machine so loaded that a
    // call timed out, is the same call again).
    let (ledgers_before, movements_before) = (ledger_calls(&sim), movement_calls(&sim));
    let second = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&second, "new_records"), 0, "{second}");
    for endpoint in second["accounts"][0]["endpoints"].as_array().unwrap() {
        let (pages, retries) = (endpoint["pages"].as_u64().unwrap(), endpoint["retries"].as_u64().unwrap());
        assert_eq!((pages, endpoint["requests"].as_u64().unwrap() - retries), (1, 1), "{endpoint}");
    }
    assert_eq!(ledger_calls(&sim) - ledgers_before, 1 + endpoint_retries(&second, "ledgers"));
    assert_eq!(movement_calls(&sim) - movements_before, 1 + endpoint_retries(&second, "movements"));
    assert_eq!(s.events(), events);

    // New trades: the next sync fetches them, and only them.
    let (before, ledgers_before) = (sim.entries().len(), ledger_calls(&sim));
    assert_eq!(sim.add_trades(7), 7);
    let third = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&third, "new_records") as usize, sim.entries().len() - before, "{third}");
    assert_eq!(s.balances(), sim.balances());
    assert_eq!(ledger_calls(&sim) - ledgers_before, 1 + endpoint_retries(&third, "ledgers"));

    let report = s.ok(&["--json", "renormalize"]).json();
    assert_eq!(report[0]["events_before"], report[0]["events_after"]);

    // One millisecond's entries are in id order: a trade's fee never comes before what it is
    // paid from, so no balance goes below zero on the way.
    let check = s.run(&["--json", "check"]);
    assert!(!check.stdout.contains("negative_balance"), "{}", check.stdout);
    assert!(check.stdout.contains("findings") || check.stdout.contains("clean"), "{}", check.stdout);
}

#[test]
fn the_pace_keeps_every_endpoint_within_its_limit_over_any_window() {
    // 3 calls a second per endpoint, counted over a sliding window: 12,000 entries take 5
    // ledgers calls, more than one window allows, and not one is refused.
    let sim = sim::start(SimConfig { budget: Some(Budget { limit: 3, window_seconds: 1 }), ..config(12_000) }).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["--json", "sync"]).json();
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    assert!(ledger_calls(&sim) > 3, "{} calls", ledger_calls(&sim));
    assert_eq!(sim.stats().rate_limited, 0, "the limit was tripped");
    assert_eq!(s.balances(), sim.balances());
}

#[test]
fn faults_do_not_change_the_ledger() {
    let clean = sim::start(config(5_200)).unwrap();
    let reference = Synced::new(&clean, &SimKey::demo());
    reference.ok(&ADD_ACCOUNT);
    reference.ok(&["sync", "--quiet"]);

    let faults = FaultConfig {
        rate_permille: 250,
        seed: 4,
        kinds: vec![FaultKind::ServerError, FaultKind::Truncated, FaultKind::TooManyRequests, FaultKind::Timeout],
    };
    let faulty = sim::start(SimConfig { faults: Some(faults), ..config(5_200) }).unwrap();
    let s = Synced::new(&faulty, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["--json", "sync"]).json();
    assert!(faulty.stats().faults > 0, "no fault was injected");
    assert!(totals(&run, "retries") > 0, "no fault was met: {run}");
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), faulty.balances());
}

#[test]
fn a_killed_sync_resumes_to_the_same_ledger() {
    let unmetered = SimConfig { budget: None, ..config(6_000) };
    let clean = sim::start(unmetered).unwrap();
    let reference = Synced::new(&clean, &SimKey::demo());
    reference.ok(&ADD_ACCOUNT);
    reference.ok(&["sync", "--quiet"]);
    let all = reference.events().len();

    // Paced at one ledgers call every three seconds (after the first), so the walk of three
    // pages takes about six seconds. The first kill strikes when the second ledgers page is
    // asked (the first stored), the second when the resumed walk asks its next page.
    let target =
        sim::start(SimConfig { budget: Some(Budget { limit: 2, window_seconds: 3 }), ..config(6_000) }).unwrap();
    let s = Synced::new(&target, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let ledger_pages = || target.stats().requests_by_path.get("/v2/auth/r/ledgers/hist").copied().unwrap_or(0);
    let partial = events_after_kills(&s.sb, &ledger_pages, &[2, 1]);
    // At least one kill struck in the middle of the walk: some pages stored, not all.
    assert!(partial.iter().any(|&n| n > 0 && n < all), "no kill struck mid-sync: {partial:?} of {all}");
    s.ok(&["sync", "--quiet"]);
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), target.balances());
}

#[test]
fn a_key_that_may_withdraw_is_refused_unless_allowed() {
    let sim = sim::start(SimConfig { key_may_withdraw: true, ..config(40) }).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    let refused = s.run(&ADD_ACCOUNT);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("withdraw"), "{}", refused.stderr);
    assert_eq!(s.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));
    let mut allowed = ADD_ACCOUNT.to_vec();
    allowed.push("--allow-withdraw-key");
    s.ok(&allowed);
    let run = s.ok(&["sync"]);
    assert!(run.stderr.contains("can withdraw"), "{}", run.stderr);
}

#[test]
fn a_wrong_secret_is_a_clear_error_writes_nothing_and_no_secret_is_shown() {
    let sim = sim::start(config(60)).unwrap();
    let wrong = SimKey { secret: "a-secret-that-is-not-the-keys-secret-0123456789".into(), ..SimKey::demo() };
    let s = Synced::new(&sim, &wrong);
    assert_add_refused_for_wrong_secret(&s.sb, &ADD_ACCOUNT, &wrong.secret);

    // Added without the variables set, so without a check: it fails at sync with nothing written.
    assert_unchecked_wrong_secret_fails_at_sync(&s.sb, &ADD_ACCOUNT, &["SIM_KEY", "SIM_SECRET"], &wrong.secret);

    // The right key, verbose, with faults: no secret reaches the output or the ledger.
    let right = SimKey::demo();
    let faults = FaultConfig { rate_permille: 100, seed: 9, kinds: vec![FaultKind::ServerError, FaultKind::Truncated] };
    let sim = sim::start(SimConfig { faults: Some(faults), ..config(300) }).unwrap();
    let s = Synced::new(&sim, &right);
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["-vv", "sync"]);
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(&right.secret));
        assert!(!text.contains(&right.api_key), "the API key reached the output");
    }
    assert_ledger_holds_none(&s.sb, &[&right.secret, &right.api_key]);
}

#[test]
fn an_unknown_description_is_kept_as_unknown_with_its_leg_and_never_stops_the_sync() {
    let sim = sim::start(config(200)).unwrap();
    let unknown_id = sim.insert("SOL", Decimal::new(15, 1), "Something new from Bitfinex on wallet exchange");
    sim.add_trades(3);
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["--json", "sync"]).json();
    let account = &run["accounts"][0];
    assert_eq!(account["error"], serde_json::Value::Null, "{run}");
    assert_eq!(totals(&run, "unknown_records"), 1, "{run}");
    assert_eq!(account["balance_differences"], serde_json::json!([]), "{run}");
    assert_eq!(s.balances(), sim.balances());
    let unknown: Vec<serde_json::Value> = s.events().into_iter().filter(|e| e["kind"] == "unknown").collect();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0]["external_id"], unknown_id.to_string());
}

/// The simulator's ledger written as Bitfinex's ledger export (newest first, as it downloads).
fn export_csv(sim: &BitfinexSim) -> String {
    let mut csv = String::from("#,DESCRIPTION,CURRENCY,AMOUNT,BALANCE,DATE,WALLET\n");
    for e in sim.entries().iter().rev() {
        let time = chrono::DateTime::from_timestamp_millis(e.time_ms).unwrap().format("%Y-%m-%d %H:%M:%S%.3f");
        let description = e.description.replace('"', "\"\"");
        csv.push_str(&format!(
            "{},\"{description}\",{},{},{},{time},{}\n",
            e.id,
            e.currency,
            e.amount.normalize(),
            e.balance.normalize(),
            e.wallet
        ));
    }
    csv
}

#[test]
fn an_export_and_the_api_of_one_account_meet_instead_of_doubling() {
    let sim = sim::start(config(400)).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let file = s.sb.path("bitfinex-ledgers.csv");
    std::fs::write(&file, export_csv(&sim)).unwrap();
    s.ok(&["import", file.to_str().unwrap(), "--account", "main"]);
    let imported = s.events();
    assert_eq!(imported.len(), sim.entries().len());
    assert_eq!(s.balances(), sim.balances());

    let run = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&run, "new_records") as usize, sim.entries().len() + sim.movements().len());
    assert_eq!(totals(&run, "new_events"), 0, "the API doubled events of the export: {run}");
    let hashed = s.events().iter().filter(|e| e["tx_hash"].is_string()).count();
    assert_eq!(
        hashed,
        sim.movements().iter().filter(|m| m.tx_id.is_some()).count(),
        "the file's events got their hashes"
    );
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    assert_eq!(s.events().len(), imported.len());
    assert_eq!(s.balances(), sim.balances());
}
