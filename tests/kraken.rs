//! `cointally sync` against the Kraken simulator: the complete ledger once, trades paired,
//! balances equal asset by asset; re-runs that add nothing; faults and kills that change
//! nothing; keys that are refused; a CSV export and the API of one account meeting.

mod common;

use std::collections::BTreeMap;

use cointally_exchanges::kraken::api::Tier;
use cointally_exchanges::kraken::assets::canonical_asset;
use cointally_exchanges::kraken::sim::history::KrakenProfile;
use cointally_exchanges::kraken::sim::{self, KrakenSim, Limits, SimConfig, SimKey};
use cointally_exchanges::sim::faults::{FaultConfig, FaultKind};
use common::{Run, Sandbox, assert_kills_strike_mid_sync};
use rust_decimal::Decimal;

/// Adds the Kraken account `main` whose key is in $SIM_KEY and $SIM_SECRET.
const ADD_ACCOUNT: [&str; 9] =
    ["account", "add", "kraken", "--label", "main", "--key-env", "SIM_KEY", "--secret-env", "SIM_SECRET"];

fn config(entries: usize) -> SimConfig {
    SimConfig { profile: KrakenProfile { entries, ..KrakenProfile::demo() }, ..SimConfig::demo(11) }
}

/// A sandbox whose commands reach the simulator, pacing for its counter.
struct Synced {
    sb: Sandbox,
}

impl Synced {
    fn new(sim: &KrakenSim, key: SimKey) -> Synced {
        let tier = sim.client_tier().unwrap_or(Tier { capacity: 1_000, decay_milli: 100_000_000 }).render();
        let sb = Sandbox::new();
        sb.set_env("SIM_KEY", &key.api_key);
        sb.set_env("SIM_SECRET", &key.secret);
        sb.set_env("COINTALLY_KRAKEN_BASE_URL", &sim.base_url());
        sb.set_env("COINTALLY_KRAKEN_TIER", &tier);
        let synced = Synced { sb };
        synced.ok(&["init"]);
        synced
    }

    fn run(&self, args: &[&str]) -> Run {
        self.sb.run(args)
    }

    fn ok(&self, args: &[&str]) -> Run {
        self.sb.ok(args)
    }

    fn balances(&self) -> BTreeMap<String, Decimal> {
        self.sb.balances("main")
    }

    fn events(&self) -> Vec<serde_json::Value> {
        self.sb.events("main")
    }
}

/// The simulator's balances by canonical asset (staking variants summed into their asset).
fn expected(sim: &KrakenSim) -> BTreeMap<String, Decimal> {
    let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
    for (code, amount) in sim.balances() {
        *sums.entry(canonical_asset(&code).unwrap()).or_default() += amount;
    }
    sums.into_iter().filter(|(_, v)| !v.is_zero()).map(|(a, v)| (a, v.normalize())).collect()
}

fn totals(summary: &serde_json::Value, field: &str) -> u64 {
    summary["accounts"][0]["endpoints"].as_array().unwrap().iter().map(|e| e[field].as_u64().unwrap()).sum()
}

#[test]
fn a_full_sync_has_every_entry_once_trades_paired_and_the_simulators_balances() {
    let sim = sim::start(config(400)).unwrap();
    let s = Synced::new(&sim, SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let first = s.ok(&["--json", "sync"]).json();
    assert_eq!(first["accounts"][0]["error"], serde_json::Value::Null, "{first}");
    assert_eq!(first["accounts"][0]["balance_differences"], serde_json::json!([]), "{first}");
    assert_eq!(s.balances(), expected(&sim));
    // Every entry once: one record per entry outside trades, one per trade (its two entries).
    let entries = sim.entries();
    let trade_entries = entries.iter().filter(|e| matches!(e.kind, "trade" | "spend" | "receive")).count();
    let trades = entries.iter().filter(|e| matches!(e.kind, "trade" | "spend" | "receive")).map(|e| &e.refid);
    let trades = trades.collect::<std::collections::BTreeSet<_>>().len();
    assert_eq!(trade_entries, 2 * trades);
    assert_eq!(totals(&first, "new_records") as usize, entries.len() - trades);
    let events = s.events();
    assert_eq!(events.iter().filter(|e| e["kind"] == "trade").count(), trades);
    assert_eq!(events.len(), entries.len() - trades);
    // Each process starts its counter model at zero while Kraken still counts the calls of the
    // `account add` just before (two units): at most a refusal or two at the start, retried.
    let counter = sim.stats().counter;
    assert!(counter.rate_limited <= 2 && counter.lockouts == 0, "{counter:?}");

    // Again: nothing new, one Ledgers call (and balances, key check).
    let second = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&second, "new_records"), 0, "{second}");
    assert_eq!(s.events(), events);

    // New fills: the next sync fetches them, and only them.
    sim.add_trades(7);
    let third = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&third, "new_records"), 7, "{third}");
    assert_eq!(s.balances(), expected(&sim));

    let report = s.ok(&["--json", "renormalize"]).json();
    assert_eq!(report[0]["events_before"], report[0]["events_after"]);
}

#[test]
fn faults_and_an_invalid_nonce_do_not_change_the_ledger() {
    let clean = sim::start(config(300)).unwrap();
    let reference = Synced::new(&clean, SimKey::demo());
    reference.ok(&ADD_ACCOUNT);
    reference.ok(&["sync", "--quiet"]);

    let faults = FaultConfig {
        rate_permille: 150,
        seed: 4,
        kinds: vec![FaultKind::ServerError, FaultKind::Truncated, FaultKind::TooManyRequests, FaultKind::Timeout],
    };
    let faulty = sim::start(SimConfig { faults: Some(faults), ..config(300) }).unwrap();
    faulty.reject_nonces(3);
    let s = Synced::new(&faulty, SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["--json", "sync"]).json();
    assert!(totals(&run, "retries") > 0, "no fault was met: {run}");
    assert!(faulty.stats().faults > 0);
    assert_eq!(faulty.stats().invalid_nonces, 3);
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), expected(&faulty));
}

#[test]
fn a_killed_sync_resumes_to_the_same_ledger() {
    let unmetered = |entries| SimConfig { limits: Limits::Off, ..config(entries) };
    let clean = sim::start(unmetered(6_000)).unwrap();
    let reference = Synced::new(&clean, SimKey::demo());
    reference.ok(&ADD_ACCOUNT);
    reference.ok(&["sync", "--quiet"]);

    let target = sim::start(unmetered(6_000)).unwrap();
    let s = Synced::new(&target, SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let (complete, whole) = (reference.events().len(), clean.stats().requests);
    let sync = || s.sb.command(&["--quiet", "sync"]);
    assert_kills_strike_mid_sync(&sync, &|| target.stats().requests, whole, &|| s.events().len(), complete);
    s.ok(&["sync", "--quiet"]);
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), expected(&target));
}

#[test]
fn a_key_that_can_withdraw_is_refused_unless_allowed() {
    let key = SimKey { can_withdraw: true, ..SimKey::demo() };
    let sim = sim::start(SimConfig { key: key.clone(), ..config(60) }).unwrap();
    let s = Synced::new(&sim, key);
    let refused = s.run(&ADD_ACCOUNT);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("can move funds out"), "{}", refused.stderr);
    assert!(refused.stderr.contains("Funds permissions - Withdraw"), "{}", refused.stderr);
    assert_eq!(s.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));
    s.ok(&[ADD_ACCOUNT.as_slice(), &["--allow-withdraw-key"]].concat());
    let run = s.ok(&["sync"]);
    assert!(run.stderr.contains("can withdraw"), "{}", run.stderr);
}

#[test]
fn a_wrong_secret_is_a_clear_error_writes_nothing_and_no_secret_is_shown() {
    let sim = sim::start(config(60)).unwrap();
    let wrong =
        SimKey { secret: "c2VjcmV0LXRoYXQtaXMtbm90LXRoZS1rZXlzLXNlY3JldC0wMTIzNDU2Nzg5".into(), ..SimKey::demo() };
    let s = Synced::new(&sim, wrong.clone());
    let add = s.run(&ADD_ACCOUNT);
    assert_eq!(add.code, 3, "{}", add.stderr);
    assert!(add.stderr.contains("account main"), "{}", add.stderr);
    assert!(add.stderr.contains("does not belong to this API key"), "{}", add.stderr);
    assert!(!add.stderr.contains(&wrong.secret));
    assert_eq!(s.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));

    // Added without a check, it fails at sync with nothing written.
    // Added without the variables set, so without a check.
    let mut add = s.sb.command(&ADD_ACCOUNT);
    add.env_remove("SIM_KEY").env_remove("SIM_SECRET");
    assert!(add.status().unwrap().success());
    let sync = s.run(&["-vv", "sync"]);
    assert_eq!(sync.code, 3, "{}", sync.stderr);
    assert_eq!(s.ok(&["--json", "events"]).json(), serde_json::json!([]));
    for text in [&sync.stdout, &sync.stderr] {
        assert!(!text.contains(&wrong.secret));
    }
    let bytes = common::ledger_bytes(&s.sb.ledger());
    assert!(!bytes.windows(wrong.secret.len()).any(|w| w == wrong.secret.as_bytes()));

    // The right key, verbose, with faults: no secret reaches the output or the ledger.
    let right = SimKey::demo();
    let faults = FaultConfig { rate_permille: 100, seed: 9, kinds: vec![FaultKind::ServerError, FaultKind::Truncated] };
    let sim = sim::start(SimConfig { faults: Some(faults), ..config(100) }).unwrap();
    let s = Synced::new(&sim, right.clone());
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["-vv", "sync"]);
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(&right.secret));
        assert!(!text.contains("API-Sign"), "a signature header reached the output");
    }
    let bytes = common::ledger_bytes(&s.sb.ledger());
    assert!(!bytes.windows(right.secret.len()).any(|w| w == right.secret.as_bytes()));
}

/// The simulator's ledger written as Kraken's ledgers export.
fn export_csv(sim: &KrakenSim) -> String {
    let mut csv = String::from("txid,refid,time,type,subtype,aclass,asset,amount,fee,balance\n");
    for e in sim.entries() {
        let time = chrono::DateTime::from_timestamp_millis(e.time_ms).unwrap().format("%Y-%m-%d %H:%M:%S%.3f");
        csv.push_str(&format!(
            "{},{},{time},{},{},currency,{},{},{},{}\n",
            e.id, e.refid, e.kind, e.subtype, e.asset, e.amount, e.fee, e.balance
        ));
    }
    csv
}

#[test]
fn a_csv_export_and_the_api_of_one_account_meet_instead_of_doubling() {
    let sim = sim::start(config(300)).unwrap();
    let s = Synced::new(&sim, SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let file = s.sb.path("kraken-ledgers.csv");
    std::fs::write(&file, export_csv(&sim)).unwrap();
    s.ok(&["import", file.to_str().unwrap(), "--account", "main"]);
    let imported = s.events();
    assert_eq!(s.balances(), expected(&sim));

    let run = s.ok(&["--json", "sync"]).json();
    assert!(totals(&run, "new_records") > 0);
    assert_eq!(totals(&run, "new_events"), 0, "the API doubled events of the export: {run}");
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    assert_eq!(s.events().len(), imported.len());
    assert_eq!(s.balances(), expected(&sim));
}

#[test]
fn an_unknown_type_older_than_other_history_is_kept_and_the_older_history_still_arrives() {
    let sim = sim::start(config(300)).unwrap();
    let entries = sim.entries();
    let oldest = entries[0].clone();
    // Half of the history is newer than it, half older: the walk (newest first) meets it midway.
    let unknown_id = sim.insert_entry("nfttrade", "XXBT", Decimal::new(25, 2), entries[entries.len() / 2].time_ms);
    let s = Synced::new(&sim, SimKey::demo());
    s.ok(&ADD_ACCOUNT);

    let run = s.ok(&["--json", "sync"]).json();
    let account = &run["accounts"][0];
    assert_eq!(account["error"], serde_json::Value::Null, "{run}");
    assert_eq!(account["needs_attention"], 0, "an unknown type is a warning, not a record needing attention");
    assert_eq!(totals(&run, "unknown_records"), 1, "{run}");
    let warnings = account["endpoints"][0]["warnings"].to_string();
    assert!(warnings.contains("nfttrade") && warnings.contains("reclassify"), "{warnings}");
    // Its amount is in the balances, which equal Kraken's, and the history older than it arrived.
    assert_eq!(account["balance_differences"], serde_json::json!([]), "{run}");
    assert_eq!(s.balances(), expected(&sim));
    let events = s.events();
    let id_of = |e: &serde_json::Value| e["external_id"].as_str().unwrap_or_default().to_owned();
    assert!(events.iter().any(|e| id_of(e) == oldest.id || id_of(e) == oldest.refid), "the oldest entry arrived");
    let unknown: Vec<&serde_json::Value> = events.iter().filter(|e| e["kind"] == "unknown").collect();
    assert_eq!(unknown.len(), 1);
    assert_eq!(id_of(unknown[0]), unknown_id);

    // `check` names it by type; reclassified, it is gone from the findings.
    let check = s.run(&["--json", "check"]);
    let findings = check.json()["findings"].clone();
    let finding = findings.as_array().unwrap().iter().find(|f| f["kind"] == "unknown_kind").expect("unknown_kind");
    assert!(finding["message"].as_str().unwrap().contains("\"nfttrade\""), "{finding}");
    let event = finding["items"][0]["event"].to_string();
    s.ok(&["reclassify", &event, "airdrop"]);
    let after = s.run(&["--json", "check"]).json();
    assert!(!after["findings"].as_array().unwrap().iter().any(|f| f["kind"] == "unknown_kind"), "{after}");
}

#[test]
fn a_stored_record_this_version_cannot_read_is_kept_listed_and_exits_4() {
    let sim = sim::start(config(60)).unwrap();
    let s = Synced::new(&sim, SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    s.ok(&["sync", "--quiet"]);
    let events_before = s.events().len();
    // A record as a future Kraken might send it: no amount.
    let conn = rusqlite::Connection::open(s.sb.ledger()).unwrap();
    conn.execute(
        "INSERT INTO raw_records (account_id, source, external_id, payload, fetched_ms)
         SELECT id, 'api:Ledgers', 'LFUTURE-AAAAA-BBBBBB', '{\"refid\":\"R\",\"time\":1700000000,\"type\":\"deposit\",\"asset\":\"XXBT\"}', 0
         FROM accounts WHERE label = 'main'",
        [],
    )
    .unwrap();
    drop(conn);

    let run = s.run(&["--json", "renormalize"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(run.json()[0]["unreadable"], 1, "{}", run.stdout);
    assert!(run.stderr.contains("could not be read") && run.stderr.contains("check --details"), "{}", run.stderr);
    assert_eq!(s.events().len(), events_before, "every readable record still has its events");
    let check = s.run(&["--json", "check"]).json();
    let finding = check["findings"].as_array().unwrap().iter().find(|f| f["kind"] == "unreadable_record").cloned();
    let detail = finding.expect("an unreadable_record finding")["items"][0]["detail"].to_string();
    assert!(detail.contains("LFUTURE-AAAAA-BBBBBB") && detail.contains("amount"), "{detail}");

    // A sync says it too: it finishes, and exits 4 while the record needs attention.
    let sync = s.run(&["--json", "sync"]);
    assert_eq!(sync.code, 4, "{}", sync.stderr);
    assert_eq!(sync.json()["accounts"][0]["needs_attention"], 1);
}
