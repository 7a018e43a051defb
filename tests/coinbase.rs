//! `cointally sync` against the Coinbase simulator: every transaction once, conversions paired,
//! Advanced Trade fills not doubled, balances equal; re-runs that add nothing; transactions
//! arriving mid-walk; faults and kills that change nothing; keys refused; no secret shown.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use cointally_exchanges::coinbase::sim::history::CoinbaseProfile;
use cointally_exchanges::coinbase::sim::{self, AccountsConfig, CoinbaseSim, CoinbaseSimConfig, Limits, SimKey};
use cointally_exchanges::sim::faults::{FaultConfig, FaultKind};
use common::{Run, Sandbox, assert_kills_strike_mid_sync};
use rust_decimal::Decimal;

/// Adds the Coinbase account `main` whose key is in $SIM_KEY and $SIM_SECRET.
const ADD_ACCOUNT: [&str; 9] =
    ["account", "add", "coinbase", "--label", "main", "--key-env", "SIM_KEY", "--secret-env", "SIM_SECRET"];

fn start(transactions: usize, limits: Limits, key: SimKey, faults: Option<FaultConfig>) -> CoinbaseSim {
    let config = CoinbaseSimConfig { limits, faults, ..CoinbaseSimConfig::demo(5) };
    let accounts = AccountsConfig {
        profile: CoinbaseProfile { transactions, ..CoinbaseProfile::demo() },
        key,
        ..AccountsConfig::demo()
    };
    sim::start_with_accounts(config, accounts).unwrap()
}

fn scaled() -> Limits {
    Limits::Scaled { speed: 3_600 }
}

/// A sandbox whose commands reach the simulator with `key`.
struct Synced {
    sb: Sandbox,
}

impl Synced {
    fn new(sim: &CoinbaseSim, key: SimKey, speed: Option<u32>) -> Synced {
        let sb = Sandbox::new();
        sb.set_env("SIM_KEY", &key.key_name);
        sb.set_env("SIM_SECRET", &key.private_key);
        sb.set_env("COINTALLY_COINBASE_BASE_URL", &sim.base_url());
        if let Some(speed) = speed {
            sb.set_env("COINTALLY_COINBASE_SPEED", &speed.to_string());
        }
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

fn totals(summary: &serde_json::Value, field: &str) -> u64 {
    summary["accounts"][0]["endpoints"].as_array().unwrap().iter().map(|e| e[field].as_u64().unwrap()).sum()
}

/// Events the simulator's account must give: every completed transaction one event, except
/// the wallet rows of Advanced Trade fills (one event per fill instead), a conversion's two rows
/// (one event) and canceled ones (none).
fn expected_events(sim: &CoinbaseSim) -> usize {
    let account = sim.account();
    let rows = account.txs.iter().filter(|t| !t.json.get().contains("\"status\":\"canceled\"")).count();
    let fills = account.fills.len();
    let conversions = account.txs.iter().filter(|t| t.kind == "trade").count() / 2;
    rows - 2 * fills + fills - conversions
}

#[test]
fn a_full_sync_has_every_transaction_once_conversions_paired_fills_single_and_the_balances() {
    let sim = start(500, scaled(), SimKey::demo(), None);
    let s = Synced::new(&sim, SimKey::demo(), Some(3_600));
    s.ok(&ADD_ACCOUNT);
    let first = s.ok(&["--json", "sync"]).json();
    assert_eq!(first["accounts"][0]["error"], serde_json::Value::Null, "{first}");
    assert_eq!(first["accounts"][0]["balance_differences"], serde_json::json!([]), "{first}");
    assert_eq!(s.balances(), sim.balances());
    let events = s.events();
    assert_eq!(events.len(), expected_events(&sim), "{first}");
    let account = sim.account();
    let conversions = account.txs.iter().filter(|t| t.kind == "trade").count() / 2;
    assert!(conversions > 3 && !account.fills.is_empty());
    // Each conversion is ONE trade, under the id of its sending row, with both assets.
    for tx in account.txs.iter().filter(|t| t.kind == "trade") {
        let found: Vec<&serde_json::Value> = events.iter().filter(|e| e["external_id"] == tx.id.as_str()).collect();
        if tx.amount < Decimal::ZERO {
            assert_eq!(found.len(), 1, "conversion row {}", tx.id);
            assert_eq!(found[0]["kind"], "trade");
            assert_eq!(found[0]["legs"].as_array().unwrap().len(), 2, "{}", found[0]);
        } else {
            assert!(found.is_empty(), "the receiving row {} made its own event", tx.id);
        }
    }
    // Fills: one event each, under the v3 trade id; their wallet rows none.
    for fill in &account.fills {
        assert_eq!(events.iter().filter(|e| e["external_id"] == fill.trade_id.as_str()).count(), 1);
    }
    for tx in account.txs.iter().filter(|t| t.kind == "advanced_trade_fill") {
        assert!(!events.iter().any(|e| e["external_id"] == tx.id.as_str()));
    }
    // The unknown type is imported and said in the summary.
    let warnings = first.to_string();
    if account.txs.iter().any(|t| t.kind == "onchain_perks_payout") {
        assert!(warnings.contains("onchain_perks_payout"), "{first}");
    }
    // Sends keep their hash and fee.
    assert!(events.iter().any(|e| e["kind"] == "withdrawal" && e["tx_hash"].is_string()), "no hash kept");
    assert_eq!(sim.unauthorized(), 0);

    // Again: nothing new.
    let second = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&second, "new_events"), 0, "{second}");
    assert_eq!(s.events(), events);

    // New activity: the next sync fetches it, and only it.
    sim.add_activity(9);
    let third = s.ok(&["--json", "sync"]).json();
    assert_eq!(third["accounts"][0]["balance_differences"], serde_json::json!([]), "{third}");
    assert_eq!(s.balances(), sim.balances());
    assert_eq!(s.events().len(), expected_events(&sim));

    let report = s.ok(&["--json", "renormalize"]).json();
    assert_eq!(report[0]["events_before"], report[0]["events_after"]);
}

#[test]
fn transactions_arriving_mid_walk_are_neither_skipped_nor_doubled_and_an_ec_key_works() {
    let sim = start(400, Limits::Off, SimKey::demo_ec(), None);
    sim.insert_after_transaction_calls(3, 12);
    let s = Synced::new(&sim, SimKey::demo_ec(), None);
    s.ok(&ADD_ACCOUNT);
    s.ok(&["sync", "--quiet"]);
    s.ok(&["sync", "--quiet"]);
    assert_eq!(s.balances(), sim.balances());
    assert_eq!(s.events().len(), expected_events(&sim));
}

#[test]
fn faults_do_not_change_the_ledger() {
    let clean = start(600, Limits::Off, SimKey::demo(), None);
    let reference = Synced::new(&clean, SimKey::demo(), None);
    reference.ok(&ADD_ACCOUNT);
    reference.ok(&["sync", "--quiet"]);

    let faults = FaultConfig {
        rate_permille: 250,
        seed: 4,
        kinds: vec![FaultKind::ServerError, FaultKind::Truncated, FaultKind::TooManyRequests, FaultKind::Timeout],
    };
    let faulty = start(600, Limits::Off, SimKey::demo(), Some(faults));
    faulty.set_fault_timeout_delay(Duration::from_millis(2_500));
    let s = Synced::new(&faulty, SimKey::demo(), None);
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["--json", "sync"]).json();
    assert!(totals(&run, "retries") > 0, "no fault was met: {run}");
    assert!(faulty.stats().faults > 0);
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), faulty.balances());
}

#[test]
fn a_killed_sync_resumes_to_the_same_ledger() {
    let clean = start(4_000, Limits::Off, SimKey::demo(), None);
    let reference = Synced::new(&clean, SimKey::demo(), None);
    reference.ok(&ADD_ACCOUNT);
    reference.ok(&["sync", "--quiet"]);

    let target = start(4_000, Limits::Off, SimKey::demo(), None);
    let s = Synced::new(&target, SimKey::demo(), None);
    s.ok(&ADD_ACCOUNT);
    let (complete, whole) = (reference.events().len(), clean.stats().requests);
    let sync = || s.sb.command(&["--quiet", "sync"]);
    assert_kills_strike_mid_sync(&sync, &|| target.stats().requests, whole, &|| s.events().len(), complete);
    s.ok(&["sync", "--quiet"]);
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), target.balances());
}

#[test]
fn a_key_that_can_transfer_is_refused_unless_allowed_and_trading_warns() {
    let key = SimKey { can_transfer: true, can_trade: true, ..SimKey::demo() };
    let sim = start(60, Limits::Off, key.clone(), None);
    let s = Synced::new(&sim, key, None);
    let refused = s.run(&ADD_ACCOUNT);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("can move funds out"), "{}", refused.stderr);
    assert!(refused.stderr.contains("Transfer"), "{}", refused.stderr);
    assert_eq!(s.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));
    s.ok(&[ADD_ACCOUNT.as_slice(), &["--allow-withdraw-key"]].concat());
    let run = s.ok(&["sync"]);
    assert!(run.stderr.contains("can withdraw"), "{}", run.stderr);
    assert!(run.stderr.contains("can trade"), "{}", run.stderr);
}

#[test]
fn a_wrong_key_is_a_clear_error_writes_nothing_and_no_secret_is_shown() {
    let sim = start(60, Limits::Off, SimKey::demo(), None);
    // A valid Ed25519 key, but not the simulator's.
    let wrong = SimKey { private_key: "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=".into(), ..SimKey::demo() };
    let s = Synced::new(&sim, wrong.clone(), None);
    let add = s.run(&ADD_ACCOUNT);
    assert_eq!(add.code, 3, "{}", add.stderr);
    assert!(add.stderr.contains("account main"), "{}", add.stderr);
    assert!(add.stderr.contains("do not belong together"), "{}", add.stderr);
    assert!(!add.stderr.contains(&wrong.private_key));
    assert_eq!(s.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));
    // Added without the variables set, so without a check.
    let mut add = s.sb.command(&ADD_ACCOUNT);
    add.env_remove("SIM_KEY").env_remove("SIM_SECRET");
    assert!(add.status().unwrap().success());
    let sync = s.run(&["-vv", "sync"]);
    assert_eq!(sync.code, 3, "{}", sync.stderr);
    assert_eq!(s.ok(&["--json", "events"]).json(), serde_json::json!([]));
    for text in [&sync.stdout, &sync.stderr] {
        assert!(!text.contains(&wrong.private_key));
        assert!(!text.contains("Bearer "), "a token reached the output");
    }

    // The right key (PEM), verbose, with faults: no PEM body, token or seed in output or ledger.
    let right = SimKey::demo_ec();
    let faults = FaultConfig { rate_permille: 100, seed: 9, kinds: vec![FaultKind::ServerError, FaultKind::Truncated] };
    let sim = start(100, Limits::Off, right.clone(), Some(faults));
    let s = Synced::new(&sim, right.clone(), None);
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["-vv", "sync"]);
    let body: String = right.private_key.lines().filter(|l| !l.starts_with("-----")).collect();
    let bytes = common::ledger_bytes(&s.sb.ledger());
    for piece in body.as_bytes().chunks(16) {
        let piece = std::str::from_utf8(piece).unwrap();
        for text in [&run.stdout, &run.stderr] {
            assert!(!text.contains(piece), "PEM material in the output");
            assert!(!text.contains("Bearer ") && !text.contains("eyJhbGci"), "a token reached the output");
        }
        assert!(!bytes.windows(piece.len()).any(|w| w == piece.as_bytes()), "PEM material in the ledger");
    }
}

/// A key file as the CDP portal downloads it: `field` (`name` or `id`) and `privateKey`.
fn key_file(members: &[(&str, &str)]) -> String {
    let object: serde_json::Map<String, serde_json::Value> =
        members.iter().map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned()))).collect();
    serde_json::to_string_pretty(&object).unwrap()
}

/// The PEM key with its second line's fifth character made one that base64 does not have.
fn garble(pem: &str) -> String {
    let mut lines: Vec<String> = pem.lines().map(str::to_owned).collect();
    lines[1].replace_range(4..5, "!");
    lines.join("\n")
}

/// Asserts that no 16-character piece of the private key is in `texts`.
fn no_key_material(key: &SimKey, texts: &[&str]) {
    let body: String = key.private_key.lines().filter(|l| !l.starts_with("-----")).collect();
    for piece in body.as_bytes().chunks(16) {
        let piece = std::str::from_utf8(piece).unwrap();
        for text in texts {
            assert!(!text.contains(piece), "key material in the output:\n{text}");
        }
    }
}

#[test]
fn a_key_file_from_the_portal_adds_the_account_stores_the_key_and_syncs_both_kinds() {
    for (key, field) in [(SimKey::demo_ec(), "name"), (SimKey::demo(), "id")] {
        let sim = start(120, Limits::Off, key.clone(), None);
        let s = Synced::new(&sim, key.clone(), None);
        let path = s.sb.path("cdp_api_key.json");
        std::fs::write(&path, key_file(&[(field, &key.key_name), ("privateKey", &key.private_key)])).unwrap();
        let path = path.to_str().unwrap();
        let add = s.ok(&["account", "add", "coinbase", "--label", "main", "--key-file", path]);
        assert!(add.stderr.contains("stored in"), "{}", add.stderr);
        let list = s.ok(&["--json", "account", "list"]).json();
        assert_eq!(list[0]["credentials"], "file", "{list}");
        assert_eq!(list[0]["key_env"], serde_json::Value::Null, "{list}");
        // Stored in the credentials file like a key typed at the prompt, not in the ledger.
        let stored = std::fs::read_to_string(s.sb.credentials()).unwrap();
        assert!(stored.contains(&key.key_name));
        let ledger = common::ledger_bytes(&s.sb.ledger());
        assert!(!ledger.windows(key.key_name.len()).any(|w| w == key.key_name.as_bytes()), "key name in the ledger");
        // The sync reads the stored key (the environment's variables are not named by this account).
        let sync = s.ok(&["-vv", "sync"]);
        assert_eq!(s.balances(), sim.balances());
        no_key_material(&key, &[&add.stdout, &add.stderr, &sync.stdout, &sync.stderr]);
    }
}

#[test]
fn a_bad_key_file_is_a_usage_error_saying_what_is_wrong_without_contacting_or_adding_anything() {
    let key = SimKey::demo_ec();
    let sim = start(60, Limits::Off, key.clone(), None);
    let s = Synced::new(&sim, key.clone(), None);
    let garbled = garble(&key.private_key);
    let cases = [
        ("no-private-key.json", key_file(&[("name", &key.key_name)]), "no \"privateKey\" field"),
        ("no-name.json", key_file(&[("privateKey", &key.private_key)]), "no key name"),
        ("key.pem", key.private_key.clone(), "holds a PEM private key, not the CDP portal's JSON key file"),
        ("notes.txt", "my coinbase key: see the portal".to_owned(), "is not JSON (line 1, column"),
        (
            "garbled.json",
            key_file(&[("name", &key.key_name), ("privateKey", &garbled)]),
            "PEM body is not valid base64",
        ),
        (
            "not-a-key.json",
            key_file(&[("name", &key.key_name), ("privateKey", "my key: see the portal, page 2")]),
            "neither a PEM key",
        ),
        (
            "legacy.json",
            key_file(&[("name", "abcdEFGH12345678"), ("privateKey", "M4009eFnOoPwhNoMwJlsAHgIgleGVFPl")]),
            "Create a CDP API key instead",
        ),
    ];
    for (name, content, expected) in cases {
        let path = s.sb.path(name);
        std::fs::write(&path, &content).unwrap();
        let run = s.run(&["account", "add", "coinbase", "--label", "main", "--key-file", path.to_str().unwrap()]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{name}: {}", run.stderr);
        assert!(run.stderr.contains(name), "{name}: the message names the file: {}", run.stderr);
        no_key_material(&key, &[&run.stdout, &run.stderr]);
    }
    let missing = s.run(&["account", "add", "coinbase", "--label", "main", "--key-file", "/nonexistent/key.json"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains("cannot read the key file /nonexistent/key.json"), "{}", missing.stderr);
    // Another exchange's key is not read from a file.
    let path = s.sb.path("cdp_api_key.json");
    std::fs::write(&path, key_file(&[("name", &key.key_name), ("privateKey", &key.private_key)])).unwrap();
    let binance = s.run(&["account", "add", "binance", "--label", "b", "--key-file", path.to_str().unwrap()]);
    assert_eq!(binance.code, 2, "{}", binance.stderr);
    assert!(binance.stderr.contains("Coinbase CDP API key"), "{}", binance.stderr);

    assert_eq!(s.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));
    assert_eq!(sim.stats().requests, 0, "a bad key file contacted the exchange");
    assert!(!s.sb.credentials().exists() || !std::fs::read_to_string(s.sb.credentials()).unwrap().contains("main"));
}
