//! `cointally sync` against the Bybit simulator: every stream once, balances equal coin by
//! coin; re-runs that ask one page per stream; faults and kills that change nothing; the
//! per-endpoint limits never tripped; keys refused with nothing written and no secret shown.

mod common;

use std::collections::BTreeMap;

use cointally_exchanges::bybit::api::Budget;
use cointally_exchanges::bybit::sim::history::BybitProfile;
use cointally_exchanges::bybit::sim::{self, BybitSim, SimConfig, SimKey};
use cointally_exchanges::sim::faults::{FaultConfig, FaultKind};
use cointally_exchanges::sim::now_ms;
use common::{Run, Sandbox, assert_kills_strike_mid_sync};
use rust_decimal::Decimal;

/// Adds the Bybit account `main` whose key is in $SIM_KEY and $SIM_SECRET.
const ADD_ACCOUNT: [&str; 9] =
    ["account", "add", "bybit", "--label", "main", "--key-env", "SIM_KEY", "--secret-env", "SIM_SECRET"];

const DAY_MS: i64 = 86_400_000;

/// `records` records over the last 600 days, unmetered.
fn config(records: usize) -> SimConfig {
    SimConfig { budget: None, ..SimConfig::recent(13, records) }
}

/// `records` records over the last 45 days (synced with `--since` 50 days ago: a short walk).
/// The same for every simulator of this test process, so two of them serve the same history.
fn short(records: usize, budget: Option<Budget>) -> SimConfig {
    static NOW: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    let now = *NOW.get_or_init(now_ms);
    SimConfig {
        profile: BybitProfile { start_ms: now - 45 * DAY_MS, end_ms: now - 3_600_000, records },
        budget,
        ..config(0)
    }
}

fn since_50_days() -> String {
    since_days(50)
}

fn since_days(days: i64) -> String {
    chrono::DateTime::from_timestamp_millis(now_ms() - days * DAY_MS).unwrap().format("%Y-%m-%d").to_string()
}

/// A sandbox whose commands reach the simulator, pacing for its limits.
struct Synced {
    sb: Sandbox,
}

impl Synced {
    fn new(sim: &BybitSim, key: &SimKey) -> Synced {
        let sb = Sandbox::new();
        sb.set_env("SIM_KEY", &key.api_key);
        sb.set_env("SIM_SECRET", &key.secret);
        sb.set_env("COINTALLY_BYBIT_BASE_URL", &sim.base_url());
        sb.set_env(
            "COINTALLY_BYBIT_BUDGET",
            &sim.budget().unwrap_or(Budget { limit: 1_000_000, window_seconds: 1 }).render(),
        );
        sb.ok(&["init"]);
        Synced { sb }
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

/// Requests per path the simulator answered.
fn calls(sim: &BybitSim) -> BTreeMap<String, u64> {
    sim.stats().requests_by_path
}

const HISTORY_PATHS: [&str; 4] = [
    "/v5/account/transaction-log",
    "/v5/asset/deposit/query-record",
    "/v5/asset/withdraw/query-record",
    "/v5/asset/transfer/query-inter-transfer-list",
];

#[test]
fn a_full_sync_has_every_record_once_and_both_wallets_balances_and_a_resync_asks_one_page_per_stream() {
    let sim = sim::start(config(700)).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let first = s.run(&["--json", "sync"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let first = first.json();
    assert_eq!(first["accounts"][0]["error"], serde_json::Value::Null, "{first}");
    assert_eq!(first["accounts"][0]["balance_differences"], serde_json::json!([]), "{first}");
    assert_eq!(s.balances(), sim.balances());
    let events = s.events();
    assert_eq!(events.len(), sim.event_count());
    let count = |kind: &str| events.iter().filter(|e| e["kind"] == kind).count();
    let log = sim.log();
    // Fills (each currency's side) and conversions.
    assert_eq!(count("trade"), log.iter().filter(|e| e.kind == "TRADE").count() + sim.conversions().len());
    let transfers = sim.movements().iter().filter(|m| m.stream == "transfers").count();
    // Transfers (both records), Earn orders, and the log's side of Earn orders (no legs).
    let earn_orders = sim.earn_orders().iter().filter(|o| o.status == "Success").count();
    let log_moves = log.iter().filter(|e| e.kind.starts_with("TRANSFER_") || e.kind.starts_with("FLEXIBLE_STAKING_"));
    assert_eq!(count("internal_transfer"), transfers + earn_orders + log_moves.count());
    assert_eq!(count("interest"), log.iter().filter(|e| e.kind == "INTEREST").count() + sim.earn_yields().len());
    assert_eq!(count("unknown"), 0);
    // Two years of windows: 7-day ones for the log and the transfers.
    let walked = calls(&sim);
    assert!(walked["/v5/account/transaction-log"] >= 104, "{walked:?}");

    // Again: nothing new, and one call per stream.
    let second = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&second, "new_records"), 0, "{second}");
    let again = calls(&sim);
    for path in HISTORY_PATHS {
        assert_eq!(again[path], walked[path] + 1, "{path}");
    }
    assert_eq!(s.events(), events);

    // New fills: the next sync fetches them, and only them.
    assert_eq!(sim.add_trades(5), 5);
    let third = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&third, "new_records"), 10, "{third}");
    assert_eq!(s.balances(), sim.balances());
    assert!(third.to_string().contains("two years"), "the reach is not told: {third}");

    let report = s.ok(&["--json", "renormalize"]).json();
    assert_eq!(report[0]["events_before"], report[0]["events_after"]);
    let check = s.run(&["--json", "check"]);
    assert!(!check.stdout.contains("negative_balance"), "{}", check.stdout);
}

#[test]
fn the_pace_keeps_every_endpoint_within_its_limit_over_any_window() {
    // 5 calls a second per endpoint over a sliding window; the walk takes 8 log calls.
    let sim = sim::start(short(150, Some(Budget { limit: 5, window_seconds: 1 }))).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["--json", "sync", "--since", &since_50_days()]).json();
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    assert!(calls(&sim)["/v5/account/transaction-log"] > 5);
    assert_eq!(sim.stats().rate_limited, 0, "the limit was tripped");
    assert_eq!(s.balances(), sim.balances());
}

#[test]
fn faults_do_not_change_the_ledger() {
    let clean = sim::start(short(300, None)).unwrap();
    let reference = Synced::new(&clean, &SimKey::demo());
    reference.ok(&ADD_ACCOUNT);
    reference.ok(&["sync", "--quiet", "--since", &since_50_days()]);

    let faults = FaultConfig {
        rate_permille: 120,
        seed: 4,
        kinds: vec![FaultKind::ServerError, FaultKind::Truncated, FaultKind::TooManyRequests, FaultKind::Timeout],
    };
    let faulty = sim::start(SimConfig { faults: Some(faults), ..short(300, None) }).unwrap();
    let s = Synced::new(&faulty, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["--json", "sync", "--since", &since_50_days()]).json();
    assert!(faulty.stats().faults > 0, "no fault was injected");
    assert!(totals(&run, "retries") > 0, "no fault was met: {run}");
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), faulty.balances());
}

#[test]
fn a_killed_sync_resumes_to_the_same_ledger() {
    let clean = sim::start(short(400, None)).unwrap();
    let reference = Synced::new(&clean, &SimKey::demo());
    reference.ok(&ADD_ACCOUNT);
    reference.ok(&["sync", "--quiet", "--since", &since_50_days()]);
    let all = reference.events().len();

    let whole = clean.stats().requests;

    // Kills a sixth, a third and half of a whole sync's requests in (whatever the build's speed).
    let target = sim::start(short(400, None)).unwrap();
    let s = Synced::new(&target, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let since = since_50_days();
    let sync = || s.sb.command(&["--quiet", "sync", "--since", &since]);
    assert_kills_strike_mid_sync(&sync, &|| target.stats().requests, whole, &|| s.events().len(), all);
    s.ok(&["sync", "--quiet", "--since", &since]);
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), target.balances());
}

#[test]
fn a_key_that_may_withdraw_is_refused_unless_allowed() {
    let sim = sim::start(SimConfig { key_may_withdraw: true, ..short(20, None) }).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    let refused = s.run(&ADD_ACCOUNT);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("withdraw"), "{}", refused.stderr);
    assert_eq!(s.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));
    let mut allowed = ADD_ACCOUNT.to_vec();
    allowed.push("--allow-withdraw-key");
    s.ok(&allowed);
}

#[test]
fn a_wrong_secret_is_a_clear_error_writes_nothing_and_no_secret_is_shown() {
    let sim = sim::start(short(30, None)).unwrap();
    let wrong = SimKey { secret: "a-secret-that-is-not-the-keys-secret-0123456789".into(), ..SimKey::demo() };
    let s = Synced::new(&sim, &wrong);
    let add = s.run(&ADD_ACCOUNT);
    assert_eq!(add.code, 3, "{}", add.stderr);
    assert!(add.stderr.contains("does not belong to this API key"), "{}", add.stderr);
    assert!(!add.stderr.contains(&wrong.secret));
    assert_eq!(s.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));

    // Added without the variables set, so without a check: it fails at sync with nothing written.
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
    let sim = sim::start(SimConfig { faults: Some(faults), ..short(100, None) }).unwrap();
    let s = Synced::new(&sim, &right);
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["-vv", "sync", "--since", &since_50_days()]);
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(&right.secret));
        assert!(!text.contains(&right.api_key), "the API key reached the output");
    }
    let bytes = common::ledger_bytes(&s.sb.ledger());
    for secret in [&right.secret, &right.api_key] {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
    }
}

#[test]
fn an_unknown_log_type_is_kept_as_unknown_with_its_leg_and_never_stops_the_sync() {
    let sim = sim::start(short(60, None)).unwrap();
    let id = sim.insert_unknown("USDT", Decimal::new(25, 1), "SOMETHING_NEW");
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["--json", "sync", "--since", &since_50_days()]).json();
    assert_eq!(run["accounts"][0]["error"], serde_json::Value::Null, "{run}");
    assert_eq!(totals(&run, "unknown_records"), 1, "{run}");
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    let unknown: Vec<serde_json::Value> = s.events().into_iter().filter(|e| e["kind"] == "unknown").collect();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0]["external_id"], format!("log-{id}"));
}

#[test]
fn a_log_file_and_the_api_of_one_account_meet_instead_of_doubling_whichever_comes_first() {
    let sim = sim::start(short(300, None)).unwrap();
    let log = sim.log();
    let movements_done = sim.movements().iter().filter(|m| m.ok).count()
        + sim.conversions().len()
        + sim.earn_orders().len()
        + sim.earn_yields().len();
    assert!(log.len() > 100 && movements_done > 10, "{} log entries, {movements_done} movements", log.len());

    // The file first: every log entry, detected from the header; then the sync adds only what
    // is not in the log (deposits, withdrawals, the funding side of transfers).
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let file = s.sb.path("bybit-transaction-log.csv");
    std::fs::write(&file, sim.log_csv()).unwrap();
    let import = s.ok(&["--json", "import", file.to_str().unwrap(), "--account", "main"]).json();
    assert_eq!(import[0]["format"], "bybit-log", "{import}");
    assert_eq!(import[0]["new_events"].as_u64().unwrap() as usize, log.len(), "{import}");
    let run = s.ok(&["--json", "sync", "--since", &since_50_days()]).json();
    assert_eq!(totals(&run, "new_events") as usize, movements_done, "the API doubled the file: {run}");
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    assert_eq!(s.events().len(), sim.event_count());
    assert_eq!(s.balances(), sim.balances());
    // The same file again: nothing.
    let again = s.ok(&["--json", "import", file.to_str().unwrap(), "--account", "main"]).json();
    assert_eq!(again[0]["new_events"], 0, "{again}");

    // The sync first: the file then adds nothing, and the ledger is the same.
    let t = Synced::new(&sim, &SimKey::demo());
    t.ok(&ADD_ACCOUNT);
    t.ok(&["--quiet", "sync", "--since", &since_50_days()]);
    let synced = t.events();
    let file = t.sb.path("bybit-transaction-log.csv");
    std::fs::write(&file, sim.log_csv()).unwrap();
    let import = t.ok(&["--json", "import", file.to_str().unwrap(), "--account", "main"]).json();
    assert_eq!(import[0]["new_events"], 0, "the file doubled the API: {import}");
    assert_eq!(import[0]["existing_events"].as_u64().unwrap() as usize, log.len(), "{import}");
    assert_eq!(t.events(), synced);
    assert_eq!(t.balances(), sim.balances());
}

#[test]
fn history_older_than_two_years_comes_from_files_that_meet_the_synced_events() {
    // 800 days of history: the API's two years miss the first ~70 days.
    let now = now_ms();
    let profile = BybitProfile { start_ms: now - 800 * DAY_MS, end_ms: now - 3_600_000, records: 300 };
    let sim = sim::start(SimConfig { profile, ..config(0) }).unwrap();
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let first = s.ok(&["--json", "sync"]).json();
    assert_ne!(first["accounts"][0]["balance_differences"], serde_json::json!([]), "{first}");
    let synced = s.events().len();
    assert!(synced < sim.event_count(), "{synced} of {}", sim.event_count());

    let log = s.sb.path("bybit-transaction-log.csv");
    std::fs::write(&log, sim.log_csv()).unwrap();
    let funding = s.sb.path("bybit-funding-wallet.csv");
    std::fs::write(&funding, sim.funding_csv()).unwrap();
    let import =
        s.ok(&["--json", "import", log.to_str().unwrap(), funding.to_str().unwrap(), "--account", "main"]).json();
    assert_eq!(import[0]["format"], "bybit-log", "{import}");
    assert_eq!(import[1]["format"], "generic", "{import}");
    let added: u64 = import.as_array().unwrap().iter().map(|f| f["new_events"].as_u64().unwrap()).sum();
    assert_eq!(added as usize, sim.event_count() - synced, "the files doubled the API: {import}");
    assert_eq!(s.balances(), sim.balances());

    let again = s.ok(&["--json", "sync"]).json();
    assert_eq!(totals(&again, "new_events"), 0, "{again}");
    assert_eq!(again["accounts"][0]["balance_differences"], serde_json::json!([]), "{again}");
    assert_eq!(s.events().len(), sim.event_count());
}

#[test]
fn conversions_are_trades_walked_page_by_page_once_each() {
    // Enough history for several pages of 50 conversions.
    let sim = sim::start(short(6_500, None)).unwrap();
    let conversions = sim.conversions();
    assert!(conversions.len() > 60, "{} conversions", conversions.len());
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["--json", "sync", "--since", &since_50_days()]).json();
    let endpoint = |run: &serde_json::Value| {
        run["accounts"][0]["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["endpoint"] == "converts")
            .cloned()
            .unwrap()
    };
    let converts = endpoint(&run);
    assert_eq!(converts["new_events"].as_u64().unwrap() as usize, conversions.len(), "{converts}");
    assert_eq!(converts["requests"].as_u64().unwrap() as usize, conversions.len().div_ceil(50), "{converts}");
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    let events = s.events();
    let converted: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["external_id"].as_str().unwrap_or("").starts_with("convert-")).collect();
    assert_eq!(converted.len(), conversions.len());
    assert!(converted.iter().all(|e| e["kind"] == "trade"), "{converted:?}");
    let first = conversions.first().unwrap();
    let event = converted.iter().find(|e| e["external_id"] == format!("convert-{}", first.id)).unwrap();
    assert!(event["legs"].to_string().contains(&first.to.0), "{event}");

    // Again: the whole list is walked (Bybit takes no time range), nothing is added.
    let again = s.ok(&["--json", "sync", "--since", &since_50_days()]).json();
    assert_eq!(endpoint(&again)["new_records"], 0, "{again}");
    assert_eq!(s.events(), events);
    assert_eq!(s.balances(), sim.balances());
}

#[test]
fn a_conversion_is_one_event_after_a_full_sync_not_one_from_the_log_and_one_from_the_converts() {
    // Issue #20's double-count risk: a conversion listed by the converts stream must not also
    // arrive through the transaction log. After a first and a `--full` sync, each conversion is
    // one event, holding both its sides, and no other event moves either side at its second.
    let sim = sim::start(short(3_000, None)).unwrap();
    let conversions = sim.conversions();
    assert!(conversions.len() > 10, "{} conversions", conversions.len());
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    s.ok(&["sync", "--quiet", "--since", &since_50_days()]);
    let full = s.ok(&["--json", "sync", "--full", "--since", &since_50_days()]).json();
    assert_eq!(totals(&full, "new_events"), 0, "a full sync added events: {full}");
    assert_eq!(full["accounts"][0]["balance_differences"], serde_json::json!([]), "{full}");
    let events = s.events();
    let second = |e: &serde_json::Value| e["time"].as_str().unwrap_or_default().get(..19).map(str::to_owned);
    for c in &conversions {
        let id = format!("convert-{}", c.id);
        let mine: Vec<&serde_json::Value> = events.iter().filter(|e| e["external_id"] == id).collect();
        assert_eq!(mine.len(), 1, "{id}");
        let legs = mine[0]["legs"].to_string();
        let (from, to) = (c.from.1.normalize().to_string(), c.to.1.normalize().to_string());
        assert!(legs.contains(&format!("\"-{from}\"")) && legs.contains(&format!("\"{to}\"")), "{legs}");
        let at = second(mine[0]);
        let doubles: Vec<&serde_json::Value> = events
            .iter()
            .filter(|e| e["external_id"] != id && second(e) == at)
            .filter(|e| {
                let legs = e["legs"].to_string();
                legs.contains(&format!("\"{to}\"")) || legs.contains(&format!("\"-{from}\""))
            })
            .collect();
        assert!(doubles.is_empty(), "conversion {id} also came as {doubles:?}");
    }
    assert_eq!(s.balances(), sim.balances());
}

/// A classic (not unified) account of `records` records over the last 45 days.
fn classic(records: usize, budget: Option<Budget>) -> SimConfig {
    SimConfig { unified: false, ..short(records, budget) }
}

const CLASSIC_PATHS: [&str; 4] = [
    "/v5/execution/list",
    "/v5/asset/deposit/query-record",
    "/v5/asset/withdraw/query-record",
    "/v5/asset/transfer/query-inter-transfer-list",
];

#[test]
fn a_classic_account_syncs_its_spot_fills_as_trades_with_the_spot_wallet_in_the_balances_and_resyncs_minimally() {
    let sim = sim::start(classic(600, None)).unwrap();
    let fills = sim.fills();
    assert!(sim.log().is_empty() && fills.len() > 100, "{} fills", fills.len());
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let first = s.ok(&["--json", "sync", "--since", &since_50_days()]).json();
    assert_eq!(first["accounts"][0]["error"], serde_json::Value::Null, "{first}");
    assert_eq!(first["accounts"][0]["balance_differences"], serde_json::json!([]), "{first}");
    assert!(first.to_string().contains("classic"), "the classic account is not told: {first}");
    assert_eq!(s.balances(), sim.balances());
    // The spot wallet holds coins the funding wallet does not: the check needs it.
    assert!(sim.balances().contains_key("SOL"), "{:?}", sim.balances());
    let events = s.events();
    assert_eq!(events.len(), sim.event_count());
    let trades: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["external_id"].as_str().unwrap_or("").starts_with("exec-")).collect();
    assert_eq!(trades.len(), fills.len());
    assert!(trades.iter().all(|e| e["kind"] == "trade" && e["legs"].as_array().unwrap().len() == 3), "{:?}", trades[0]);
    let first_fill = &fills[0];
    let event = trades.iter().find(|e| e["external_id"] == format!("exec-{}", first_fill.id)).unwrap();
    assert!(event["legs"].to_string().contains(&format!("\"{}\"", first_fill.qty.normalize())), "{event}");
    assert!(!calls(&sim).contains_key("/v5/account/transaction-log"), "a classic account has no log");
    let walked = calls(&sim);

    // Again: nothing new, one call per stream.
    let second = s.ok(&["--json", "sync", "--since", &since_50_days()]).json();
    assert_eq!(totals(&second, "new_records"), 0, "{second}");
    let again = calls(&sim);
    for path in CLASSIC_PATHS {
        assert_eq!(again[path], walked[path] + 1, "{path}");
    }
    assert_eq!(s.events(), events);

    // New fills: only they are fetched, one record each.
    assert_eq!(sim.add_trades(4), 4);
    let third = s.ok(&["--json", "sync", "--since", &since_50_days()]).json();
    assert_eq!(totals(&third, "new_records"), 4, "{third}");
    assert_eq!(third["accounts"][0]["balance_differences"], serde_json::json!([]), "{third}");
    assert_eq!(s.balances(), sim.balances());
    let report = s.ok(&["--json", "renormalize"]).json();
    assert_eq!(report[0]["events_before"], report[0]["events_after"]);
}

#[test]
fn a_killed_classic_sync_resumes_mid_walk_to_the_same_ledger() {
    let clean = sim::start(classic(400, None)).unwrap();
    let reference = Synced::new(&clean, &SimKey::demo());
    reference.ok(&ADD_ACCOUNT);
    reference.ok(&["sync", "--quiet", "--since", &since_50_days()]);
    let all = reference.events().len();
    assert_eq!(all, clean.event_count());

    let whole = clean.stats().requests;

    // Kills a sixth, a third and half of a whole sync's requests in (whatever the build's speed).
    let target = sim::start(classic(400, None)).unwrap();
    let s = Synced::new(&target, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let since = since_50_days();
    let sync = || s.sb.command(&["--quiet", "sync", "--since", &since]);
    assert_kills_strike_mid_sync(&sync, &|| target.stats().requests, whole, &|| s.events().len(), all);
    s.ok(&["sync", "--quiet", "--since", &since]);
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), target.balances());
}

#[test]
fn faults_do_not_change_a_classic_accounts_ledger() {
    let clean = sim::start(classic(300, None)).unwrap();
    let reference = Synced::new(&clean, &SimKey::demo());
    reference.ok(&ADD_ACCOUNT);
    reference.ok(&["sync", "--quiet", "--since", &since_50_days()]);

    let faults = FaultConfig {
        rate_permille: 150,
        seed: 7,
        kinds: vec![FaultKind::ServerError, FaultKind::Truncated, FaultKind::TooManyRequests, FaultKind::Timeout],
    };
    let faulty = sim::start(SimConfig { faults: Some(faults), ..classic(300, None) }).unwrap();
    let s = Synced::new(&faulty, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let run = s.ok(&["--json", "sync", "--since", &since_50_days()]).json();
    assert!(faulty.stats().faults > 0, "no fault was injected");
    assert!(totals(&run, "retries") > 0, "no fault was met: {run}");
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), faulty.balances());
}

const EARN_PATHS: [(&str, u64); 2] = [("/v5/earn/order", 2), ("/v5/earn/yield", 2)];

fn earn_events(events: &[serde_json::Value]) -> Vec<serde_json::Value> {
    events.iter().filter(|e| e["external_id"].as_str().unwrap_or("").starts_with("earn-")).cloned().collect()
}

#[test]
fn earn_stakes_redemptions_and_yields_are_synced_with_the_positions_in_the_balances_and_a_resync_asks_one_page_per_earn_stream()
 {
    let sim = sim::start(short(900, None)).unwrap();
    let orders = sim.earn_orders();
    let yields = sim.earn_yields();
    for (category, wallet) in [("FlexibleSaving", "FUND"), ("FlexibleSaving", "UNIFIED"), ("OnChain", "FUND")] {
        assert!(orders.iter().any(|o| o.category == category && o.wallet == wallet), "no {category} from {wallet}");
    }
    assert!(yields.iter().any(|y| y.mode == "Auto") && yields.iter().any(|y| y.mode == "Manual"), "{yields:?}");
    // On-chain Earn pays yields too (listed since Bybit's changelog of 2026-03-19).
    assert!(yields.iter().any(|y| y.category == "OnChain"), "{yields:?}");
    let positions = sim.earn_positions();
    assert!(positions.keys().any(|(c, _)| c == "FlexibleSaving") && positions.keys().any(|(c, _)| c == "OnChain"));

    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let first = s.ok(&["--json", "sync", "--since", &since_50_days()]).json();
    assert_eq!(first["accounts"][0]["error"], serde_json::Value::Null, "{first}");
    // The balances Bybit reports include what is staked in Earn, and the ledger's equal them.
    assert_eq!(first["accounts"][0]["balance_differences"], serde_json::json!([]), "{first}");
    assert_eq!(s.balances(), sim.balances());
    let events = s.events();
    assert_eq!(events.len(), sim.event_count());
    let earn = earn_events(&events);
    assert_eq!(earn.len(), orders.len() + yields.len());
    for o in &orders {
        let event = earn.iter().find(|e| e["external_id"] == format!("earn-order-{}", o.id)).unwrap();
        assert_eq!(event["kind"], "internal_transfer", "{event}");
        let amount = o.amount.normalize().to_string();
        let legs = event["legs"].to_string();
        assert!(legs.contains(&format!("\"-{amount}\"")) && legs.contains(&format!("\"{amount}\"")), "{event}");
    }
    for y in &yields {
        let key = cointally_exchanges::bybit::normalize::earn_yield_key(y.category, &y.id);
        let event = earn.iter().find(|e| e["external_id"] == key.as_str()).unwrap_or_else(|| panic!("{key}"));
        assert_eq!(event["kind"], "interest", "{event}");
        assert!(event["legs"].to_string().contains(&format!("\"{}\"", y.amount.normalize())), "{event}");
    }
    // No doubles with the log: a unified wallet's stake or redemption is also a log entry, which
    // moves nothing (its Earn order holds both sides).
    let log_ids: Vec<String> =
        sim.log().iter().filter(|e| e.kind.starts_with("FLEXIBLE_STAKING_")).map(|e| format!("log-{}", e.id)).collect();
    let log_earn: Vec<&serde_json::Value> =
        events.iter().filter(|e| log_ids.iter().any(|id| e["external_id"] == id.as_str())).collect();
    let unified = orders.iter().filter(|o| o.wallet == "UNIFIED").count();
    assert_eq!(log_earn.len(), unified);
    assert!(log_earn.iter().all(|e| e["legs"].as_array().unwrap().is_empty()), "{log_earn:?}");

    // Again: nothing new, one call per Earn stream (two categories of orders, two of yields).
    let walked = calls(&sim);
    let second = s.ok(&["--json", "sync", "--since", &since_50_days()]).json();
    assert_eq!(totals(&second, "new_records"), 0, "{second}");
    let again = calls(&sim);
    for (path, streams) in EARN_PATHS {
        assert_eq!(again[path], walked[path] + streams, "{path}");
    }
    // A full walk adds nothing either.
    let full = s.ok(&["--json", "sync", "--full", "--since", &since_50_days()]).json();
    assert_eq!(totals(&full, "new_events"), 0, "{full}");
    assert_eq!(full["accounts"][0]["balance_differences"], serde_json::json!([]), "{full}");
    assert_eq!(s.events(), events);
    let report = s.ok(&["--json", "renormalize"]).json();
    assert_eq!(report[0]["events_before"], report[0]["events_after"]);
    assert_eq!(s.events(), events);
}

#[test]
fn a_pending_stake_is_not_an_event_until_it_is_final_and_then_the_next_sync_makes_it_one() {
    let sim = sim::start(short(300, None)).unwrap();
    let id = sim.add_pending_stake("USDT", Decimal::from(10)).expect("the funding wallet holds 10 USDT");
    let s = Synced::new(&sim, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let first = s.ok(&["--json", "sync", "--since", &since_50_days()]).json();
    // The coin left the wallet into a position being processed: the total holds still.
    assert_eq!(first["accounts"][0]["balance_differences"], serde_json::json!([]), "{first}");
    let event_id = format!("earn-order-{id}");
    assert!(!s.events().iter().any(|e| e["external_id"] == event_id), "a pending stake became an event");

    assert_eq!(sim.settle_earn(), 1);
    let second = s.ok(&["--json", "sync", "--since", &since_50_days()]).json();
    assert_eq!(second["accounts"][0]["balance_differences"], serde_json::json!([]), "{second}");
    let events = s.events();
    let stake: Vec<&serde_json::Value> = events.iter().filter(|e| e["external_id"] == event_id).collect();
    assert_eq!(stake.len(), 1, "the final stake is not one event");
    assert_eq!(stake[0]["kind"], "internal_transfer");
    assert!(stake[0]["legs"].to_string().contains("\"-10\""), "{}", stake[0]);
    assert_eq!(events.len(), sim.event_count());
    assert_eq!(s.balances(), sim.balances());
}

#[test]
fn a_killed_sync_resumes_mid_earn_walk_to_the_same_ledger() {
    let since = since_days(110);
    let clean = sim::start(short(900, None)).unwrap();
    let reference = Synced::new(&clean, &SimKey::demo());
    reference.ok(&ADD_ACCOUNT);
    reference.ok(&["sync", "--quiet", "--since", &since]);
    let all_earn = earn_events(&reference.events()).len();
    assert!(all_earn > 20, "{all_earn} Earn events");

    // Paced at 5 calls a second per endpoint: the 16 windows of each Earn stream (two of them on
    // the order endpoint) take seconds, and the kills strike between their pages.
    let target = sim::start(short(900, Some(Budget { limit: 5, window_seconds: 1 }))).unwrap();
    let s = Synced::new(&target, &SimKey::demo());
    s.ok(&ADD_ACCOUNT);
    let mut partial = Vec::new();
    for delay_ms in [2_000u64, 2_500, 2_500, 3_000] {
        s.sb.kill_after(&["--quiet", "sync", "--since", &since], delay_ms);
        let served = calls(&target);
        let earn_calls =
            served.get("/v5/earn/order").copied().unwrap_or(0) + served.get("/v5/earn/yield").copied().unwrap_or(0);
        partial.push((earn_events(&s.events()).len(), earn_calls));
    }
    // Proof the kill struck mid Earn walk: Earn pages were served and stored, not all of them.
    assert!(
        partial.iter().any(|&(stored, served)| stored > 0 && stored < all_earn && served > 0),
        "no kill struck mid Earn walk: {partial:?} of {all_earn}"
    );
    s.ok(&["sync", "--quiet", "--since", &since]);
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), target.balances());
}

#[test]
fn an_api_that_refuses_onchain_yields_leaves_them_out_with_one_warning_and_syncs_the_rest() {
    // Bybit's yield history took only `FlexibleSaving` before its changelog of 2026-03-19.
    let sim = sim::start(SimConfig { onchain_yields: false, ..short(900, None) }).unwrap();
    let yields = sim.earn_yields();
    let onchain = yields.iter().filter(|y| y.category == "OnChain").count();
    assert!(onchain > 0 && onchain < yields.len(), "{yields:?}");
    let s = Synced::new(&sim, &SimKey::demo());
    let summary = sync_with_one_warning(&s, "would not list on-chain Earn yields");
    // The flexible yields are there, the on-chain ones are not, and the balance check says so.
    let yield_events: Vec<String> = earn_events(&s.events())
        .iter()
        .filter_map(|e| e["external_id"].as_str().filter(|id| id.starts_with("earn-yield-")).map(str::to_owned))
        .collect();
    assert_eq!(yield_events.len(), yields.len() - onchain);
    assert!(yield_events.iter().all(|id| !id.starts_with("earn-yield-OnChain-")), "{yield_events:?}");
    assert_ne!(summary["accounts"][0]["balance_differences"], serde_json::json!([]), "{summary}");
}

/// Adds the account and syncs the last 50 days: no error, and `warning` said once. The sync's
/// JSON summary.
fn sync_with_one_warning(s: &Synced, warning: &str) -> serde_json::Value {
    s.ok(&ADD_ACCOUNT);
    let run = s.run(&["--json", "sync", "--since", &since_50_days()]);
    let summary = run.json();
    assert_eq!(summary["accounts"][0]["error"], serde_json::Value::Null, "{summary}");
    assert_eq!(run.stdout.matches(warning).count(), 1, "{}", run.stdout);
    summary
}

#[test]
fn a_key_without_the_earn_permission_is_accepted_and_the_sync_goes_on_with_one_warning() {
    let sim = sim::start(SimConfig { earn_permission: false, ..short(300, None) }).unwrap();
    assert!(!sim.earn_orders().is_empty());
    let s = Synced::new(&sim, &SimKey::demo());
    // The key check does not demand Earn.
    sync_with_one_warning(&s, "lacks the Earn permission");
    let events = s.events();
    assert!(earn_events(&events).is_empty());
    assert!(events.iter().any(|e| e["external_id"].as_str().unwrap_or("").starts_with("deposit-")));
}
