//! `cointally sync` against the Binance simulator: complete history, once; re-runs that add
//! nothing; faults and kills that change nothing; keys that are refused.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use cointally_exchanges::binance::sim::{self, BinanceSim, Limits, SimConfig, SimKey};
use cointally_exchanges::sim::faults::{FaultConfig, FaultKind};
use cointally_exchanges::sim::generate::Profile;
use common::{Run, Sandbox};
use rust_decimal::Decimal;

/// Adds the Binance account `main` whose key is in $SIM_KEY and $SIM_SECRET.
const ADD_ACCOUNT: [&str; 9] =
    ["account", "add", "binance", "--label", "main", "--key-env", "SIM_KEY", "--secret-env", "SIM_SECRET"];

fn config(profile: Profile) -> SimConfig {
    SimConfig {
        seed: 7,
        profile,
        limits: Limits::Scaled { window: Duration::from_secs(1) },
        faults: None,
        key: SimKey::demo(),
        port: 0,
    }
}

/// A sandbox whose commands reach the simulator with its key in environment variables.
struct Synced {
    sb: Sandbox,
    key: SimKey,
    base_url: String,
}

impl Synced {
    fn new(sim: &BinanceSim, key: SimKey) -> Synced {
        let synced = Synced { sb: Sandbox::new(), key, base_url: sim.base_url() };
        synced.ok(&["init"]);
        synced
    }

    fn run(&self, args: &[&str]) -> Run {
        let output = self
            .sb
            .command(args)
            .env("SIM_KEY", &self.key.api_key)
            .env("SIM_SECRET", &self.key.secret)
            .env("COINTALLY_BINANCE_BASE_URL", &self.base_url)
            .env("COINTALLY_HTTP_FAST", "1")
            .output()
            .unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert_eq!(run.code, 0, "cointally {args:?} failed:\n{}\n{}", run.stdout, run.stderr);
        run
    }

    fn add_account(&self) {
        self.ok(&ADD_ACCOUNT);
    }

    fn balances(&self) -> BTreeMap<String, Decimal> {
        let json = self.ok(&["--json", "balances", "--account", "main"]).json();
        json.as_array()
            .unwrap()
            .iter()
            .map(|b| (b["asset"].as_str().unwrap().to_string(), b["amount"].as_str().unwrap().parse().unwrap()))
            .collect()
    }

    /// Every event without its row id, in time order: what "the same ledger" means.
    fn events(&self) -> Vec<serde_json::Value> {
        let mut events = self.ok(&["--json", "events", "--account", "main"]).json().as_array().unwrap().clone();
        for event in &mut events {
            event.as_object_mut().unwrap().remove("id");
        }
        events
    }
}

fn new_records(summary: &serde_json::Value) -> u64 {
    summary["accounts"][0]["endpoints"].as_array().unwrap().iter().map(|e| e["new_records"].as_u64().unwrap()).sum()
}

fn non_zero(balances: BTreeMap<String, Decimal>) -> BTreeMap<String, Decimal> {
    balances.into_iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (k, v.normalize())).collect()
}

#[test]
fn a_full_sync_stores_every_record_once_and_a_resync_adds_nothing() {
    let sim = sim::start(config(Profile::demo())).unwrap();
    let s = Synced::new(&sim, SimKey::demo());
    s.add_account();
    let first = s.ok(&["--json", "sync"]).json();
    assert_eq!(first["accounts"][0]["error"], serde_json::Value::Null, "{first}");
    assert_eq!(first["accounts"][0]["balance_differences"], serde_json::json!([]), "{first}");
    assert_eq!(s.balances(), non_zero(sim.balances()));

    // Every endpoint's records, exactly once.
    let stored: BTreeMap<String, u64> = first["accounts"][0]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["endpoint"].as_str().unwrap().to_string(), e["new_records"].as_u64().unwrap()))
        .collect();
    for (endpoint, count) in sim.records() {
        assert_eq!(stored.get(endpoint).copied().unwrap_or(0), count as u64, "endpoint {endpoint}");
    }
    let events = s.events();

    let before = sim.stats();
    let second = s.ok(&["--json", "sync"]).json();
    assert_eq!(new_records(&second), 0, "{second}");
    let after = sim.stats();
    let requests = after.requests - before.requests;
    // Key check, balances twice, exchangeInfo, and one window per time-walked stream (11);
    // a few more when the fiat calls meet the budget the first run left (429, then a retry).
    assert!(
        requests <= 20,
        "a re-sync with nothing new sent {requests} requests: {:?} then {:?}",
        before.requests_by_path,
        after.requests_by_path
    );
    assert_eq!(s.events(), events);

    // New fills arrive: the next sync fetches them, and only them.
    sim.add_trades(5);
    let third = s.ok(&["--json", "sync"]).json();
    assert_eq!(new_records(&third), 5, "{third}");
    assert_eq!(s.balances(), non_zero(sim.balances()));
}

#[test]
fn coverage_shows_every_stream_without_gaps_and_renormalize_rebuilds_the_same_ledger() {
    let sim = sim::start(config(Profile::demo())).unwrap();
    let s = Synced::new(&sim, SimKey::demo());
    s.add_account();
    s.ok(&["sync", "--quiet"]);
    let coverage = s.ok(&["--json", "coverage"]).json();
    let rows = coverage.as_array().unwrap();
    assert!(rows.iter().any(|r| r["endpoint"] == "myTrades"));
    assert!(rows.iter().any(|r| r["endpoint"] == "deposits"));
    for row in rows {
        assert_eq!(row["gaps"], serde_json::json!([]), "{row}");
    }

    let events = s.events();
    let balances = s.balances();
    let report = s.ok(&["--json", "renormalize"]).json();
    assert_eq!(report[0]["events_before"], report[0]["events_after"]);
    assert_eq!(s.events(), events);
    assert_eq!(s.balances(), balances);
}

#[test]
fn faults_do_not_change_the_ledger() {
    let clean = sim::start(config(Profile::demo())).unwrap();
    let reference = Synced::new(&clean, SimKey::demo());
    reference.add_account();
    reference.ok(&["sync", "--quiet"]);

    let faults = FaultConfig {
        rate_permille: 150,
        seed: 3,
        kinds: vec![FaultKind::ServerError, FaultKind::Timeout, FaultKind::Truncated, FaultKind::TooManyRequests],
    };
    let faulty = sim::start(SimConfig { faults: Some(faults), ..config(Profile::demo()) }).unwrap();
    let s = Synced::new(&faulty, SimKey::demo());
    s.add_account();
    let run = s.ok(&["--json", "sync"]).json();
    let retries: u64 =
        run["accounts"][0]["endpoints"].as_array().unwrap().iter().map(|e| e["retries"].as_u64().unwrap()).sum();
    assert!(retries > 0, "no fault was met: {run}");
    assert!(faulty.stats().faults > 0);
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), non_zero(faulty.balances()));
}

#[test]
fn a_killed_sync_resumes_to_the_same_ledger() {
    let profile = Profile { trades: 20_000, symbols: 20, transfers: 600, ..Profile::demo() };
    let clean = sim::start(config(profile.clone())).unwrap();
    let reference = Synced::new(&clean, SimKey::demo());
    reference.add_account();
    reference.ok(&["sync", "--quiet"]);

    let target = sim::start(config(profile)).unwrap();
    let s = Synced::new(&target, SimKey::demo());
    s.add_account();
    for delay_ms in [150u64, 400, 900] {
        let mut child =
            s.sb.command(&["--quiet", "sync"])
                .env("SIM_KEY", &s.key.api_key)
                .env("SIM_SECRET", &s.key.secret)
                .env("COINTALLY_BINANCE_BASE_URL", &s.base_url)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
    }
    s.ok(&["sync", "--quiet"]);
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), non_zero(target.balances()));
}

#[test]
fn a_key_that_can_withdraw_is_refused_unless_allowed() {
    let key = SimKey { can_withdraw: true, ..SimKey::demo() };
    let sim = sim::start(SimConfig { key: key.clone(), ..config(Profile::demo()) }).unwrap();
    let s = Synced::new(&sim, key);
    let refused = s.run(&ADD_ACCOUNT);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("can move funds out"), "{}", refused.stderr);
    assert!(refused.stderr.contains("--allow-withdraw-key"), "{}", refused.stderr);
    assert_eq!(s.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));

    s.ok(&[ADD_ACCOUNT.as_slice(), &["--allow-withdraw-key"]].concat());
    let run = s.ok(&["sync"]);
    assert!(run.stderr.contains("can withdraw"), "{}", run.stderr);
}

#[test]
fn a_wrong_secret_is_a_clear_error_and_writes_nothing() {
    let sim = sim::start(config(Profile::demo())).unwrap();
    let wrong = SimKey { secret: "not-the-secret-0123456789".into(), ..SimKey::demo() };
    let s = Synced::new(&sim, wrong.clone());
    let add = s.run(&ADD_ACCOUNT);
    assert_eq!(add.code, 3, "{}", add.stderr);
    assert!(add.stderr.contains("account main"), "{}", add.stderr);
    assert!(add.stderr.contains("hint:"), "{}", add.stderr);
    assert!(!add.stderr.contains(&wrong.secret));
    assert_eq!(s.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));

    // An account added without a check (say the variables were not set then) fails at sync,
    // with nothing written.
    let later = Synced { sb: s.sb, key: wrong.clone(), base_url: s.base_url.clone() };
    let add = later.sb.command(&ADD_ACCOUNT).env("COINTALLY_BINANCE_BASE_URL", &later.base_url).status();
    assert!(add.unwrap().success());
    let sync = later.run(&["sync"]);
    assert_eq!(sync.code, 3, "{}", sync.stderr);
    assert!(sync.stderr.contains("main"), "{}", sync.stderr);
    assert!(!sync.stderr.contains(&wrong.secret) && !sync.stdout.contains(&wrong.secret));
    assert_eq!(later.ok(&["--json", "events"]).json(), serde_json::json!([]));
    let bytes = common::ledger_bytes(&later.sb.ledger());
    assert!(!bytes.windows(wrong.secret.len()).any(|w| w == wrong.secret.as_bytes()));
}

#[test]
fn no_secret_reaches_output_logs_or_the_ledger() {
    let faults = FaultConfig { rate_permille: 100, seed: 9, kinds: vec![FaultKind::ServerError, FaultKind::Truncated] };
    let sim = sim::start(SimConfig { faults: Some(faults), ..config(Profile::demo()) }).unwrap();
    let s = Synced::new(&sim, SimKey::demo());
    s.add_account();
    let run = s.ok(&["-vv", "sync"]);
    let secret = SimKey::demo().secret;
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(&secret));
        assert!(!text.contains("signature="), "a signed query reached the output");
    }
    let bytes = common::ledger_bytes(&s.sb.ledger());
    assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
}
