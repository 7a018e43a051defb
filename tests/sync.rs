//! `cointally sync` against the Binance simulator: complete history, once; re-runs that add
//! nothing; faults and kills that change nothing; keys that are refused.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use cointally_exchanges::binance::sim::{self, BinanceSim, Limits, SimConfig, SimKey};
use cointally_exchanges::sim::faults::{FaultConfig, FaultKind};
use cointally_exchanges::sim::generate::Profile;
use common::{Run, Sandbox, assert_kills_strike_mid_sync};
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

    /// The command `cointally args` pointed at the simulator with this sandbox's key.
    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut command = self.sb.command(args);
        command
            .env("SIM_KEY", &self.key.api_key)
            .env("SIM_SECRET", &self.key.secret)
            .env("COINTALLY_BINANCE_BASE_URL", &self.base_url)
            .env("COINTALLY_HTTP_FAST", "1");
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().unwrap();
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

/// The transfers as `transfers --json` pairs them, without row ids (renormalize renumbers
/// events): (withdrawal time, amount, deposit account, deposit amount, method).
fn pairs(s: &Synced) -> Vec<(String, String, String, String, String)> {
    let json = s.ok(&["--json", "transfers"]).json();
    let side = |v: &serde_json::Value, key: &str| v[key].as_str().unwrap().to_owned();
    let mut pairs: Vec<_> = json["matched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let (w, d) = (&m["withdrawal"], &m["deposit"]);
            (side(w, "time"), side(w, "amount"), side(d, "account"), side(d, "amount"), side(m, "method"))
        })
        .collect();
    pairs.sort();
    pairs
}

/// `renormalize` rebuilds API events under new row ids; the transfers the user linked and
/// unlinked by hand come back on the rebuilt events instead of vanishing with the old rows.
#[test]
fn renormalize_keeps_the_transfers_linked_and_unlinked_by_hand() {
    let sim = sim::start(config(Profile::demo())).unwrap();
    let s = Synced::new(&sim, SimKey::demo());
    s.add_account();
    s.ok(&["sync", "--quiet"]);
    let listed = s.ok(&["--json", "events", "--account", "main", "--kind", "withdrawal"]).json();
    let withdrawals = listed.as_array().unwrap();
    assert!(withdrawals.len() >= 2, "the demo account withdraws: {listed}");
    let sent = |w: &serde_json::Value| {
        let leg = w["legs"].as_array().unwrap().iter().find(|l| l["role"] == "sent").unwrap().clone();
        (leg["asset"].as_str().unwrap().to_owned(), leg["amount"].as_str().unwrap().trim_start_matches('-').to_owned())
    };
    // A wallet receives both: the first in full with its tx hash (matched automatically), the
    // second short of a tenth, without a hash (matched by nobody).
    let (a, b) = (&withdrawals[0], &withdrawals[1]);
    let ((a_asset, a_amount), (b_asset, b_amount)) = (sent(a), sent(b));
    let b_short: Decimal = b_amount.parse::<Decimal>().unwrap() * Decimal::new(9, 1);
    let rows = format!(
        "{}{},deposit,,,{a_amount},{a_asset},,,,,{},,,,first\n{},deposit,,,{b_short},{b_asset},,,,,,,,,second\n",
        common::GENERIC_HEADER,
        a["time"].as_str().unwrap(),
        a["tx_hash"].as_str().unwrap_or(""),
        b["time"].as_str().unwrap(),
    );
    std::fs::write(s.sb.path("wallet.csv"), rows).unwrap();
    s.ok(&["account", "add", "wallet", "--label", "cold"]);
    s.ok(&["import", s.sb.path("wallet.csv").to_str().unwrap(), "--account", "cold", "--format", "generic"]);
    let deposits = s.ok(&["--json", "events", "--account", "cold"]).json();
    let first_deposit = deposits[0]["id"].to_string();
    let second_deposit = deposits[1]["id"].to_string();
    let automatic = pairs(&s);
    assert!(automatic.iter().any(|p| p.1.trim_start_matches('-') == a_amount), "{automatic:?}");

    s.ok(&["transfers", "unlink", &first_deposit]);
    s.ok(&["transfers", "link", &b["id"].to_string(), &second_deposit]);
    let by_hand = pairs(&s);
    assert!(!by_hand.iter().any(|p| p.2 == "cold" && p.3 == a_amount), "unlinked: {by_hand:?}");
    assert!(by_hand.iter().any(|p| p.2 == "cold" && p.4 == "manual"), "linked: {by_hand:?}");

    let report = s.ok(&["--json", "renormalize", "--account", "main"]).json();
    assert_eq!(report[0]["manual_links_dropped"], 0, "{report}");
    let old_ids: Vec<i64> = withdrawals.iter().map(|w| w["id"].as_i64().unwrap()).collect();
    let rebuilt = s.ok(&["--json", "events", "--account", "main", "--kind", "withdrawal"]).json();
    assert!(rebuilt.as_array().unwrap().iter().all(|w| !old_ids.contains(&w["id"].as_i64().unwrap())), "new row ids");
    assert_eq!(pairs(&s), by_hand, "the links made by hand outlive the rebuild");
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

    let complete = reference.events().len();
    let whole = clean.stats().requests;

    let target = sim::start(config(profile)).unwrap();
    let s = Synced::new(&target, SimKey::demo());
    s.add_account();
    let sync = || s.command(&["--quiet", "sync"]);
    assert_kills_strike_mid_sync(&sync, &|| target.stats().requests, whole, &|| s.events().len(), complete);
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

/// Every warning of a sync summary, all endpoints together.
fn warnings(summary: &serde_json::Value) -> Vec<String> {
    summary["accounts"][0]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap().to_owned()))
        .collect()
}

/// Events whose external id starts with `prefix`.
fn events_with_id(events: &[serde_json::Value], prefix: &str) -> Vec<serde_json::Value> {
    events.iter().filter(|e| e["external_id"].as_str().is_some_and(|id| id.starts_with(prefix))).cloned().collect()
}

#[test]
fn a_delisted_break_pair_stays_in_the_walk() {
    let sim = sim::start(config(Profile::demo())).unwrap();
    let s = Synced::new(&sim, SimKey::demo());
    s.add_account();
    let run = s.ok(&["--json", "sync"]).json();
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    // WAVES/BTC stopped trading halfway: exchangeInfo lists it as BREAK, and its fills arrive.
    let waves = events_with_id(&s.events(), "trade:WAVESBTC:");
    assert!(!waves.is_empty(), "no fill of the BREAK pair arrived");
    let coverage = s.ok(&["--json", "coverage"]).json();
    assert!(
        coverage.as_array().unwrap().iter().any(|r| r["endpoint"] == "myTrades" && r["scope"] == "WAVES/BTC"),
        "{coverage}"
    );
    assert_eq!(s.balances(), non_zero(sim.balances()));
}

#[test]
fn an_asset_whose_pairs_were_removed_is_named_with_the_statement_advice_at_each_sync() {
    let sim = sim::start(config(Profile::demo())).unwrap();
    let removed = sim.remove_pairs_of("SOL");
    assert_eq!(removed, vec!["SOLBNB".to_string()]);
    let s = Synced::new(&sim, SimKey::demo());
    s.add_account();
    for _ in 0..2 {
        let run = s.ok(&["--json", "sync"]).json();
        let named: Vec<String> = warnings(&run).into_iter().filter(|w| w.starts_with("SOL:")).collect();
        assert_eq!(named.len(), 1, "{run}");
        assert!(named[0].contains("statement export") && named[0].contains("adds nothing twice"), "{}", named[0]);
        // Assets some listed pair explains are not named (BNB differs too: the SOL/BNB fills).
        assert!(!warnings(&run).iter().any(|w| w.starts_with("BNB")), "{run}");
        // What the sync does not fetch is said every time.
        assert!(warnings(&run).iter().any(|w| w.contains("universal transfers")), "{run}");
    }
}

#[test]
fn a_self_trade_keeps_both_sides_and_an_upgraded_ledger_is_not_doubled() {
    let sim = sim::start(config(Profile::demo())).unwrap();
    let s = Synced::new(&sim, SimKey::demo());
    s.add_account();
    s.ok(&["sync", "--quiet"]);
    let id = sim.add_self_trade("BTCUSDT", Decimal::new(1, 2), Decimal::new(40_000, 0), Decimal::new(5, 1)).unwrap();
    let run = s.ok(&["--json", "sync"]).json();
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    let events = s.events();
    let sides = events_with_id(&events, &format!("trade:BTCUSDT:{id}"));
    assert_eq!(sides.len(), 2, "{sides:?}");
    assert_eq!(s.balances(), non_zero(sim.balances()));

    // The ledger as the previous version left it: one side only, under the plain id.
    let ledger = rusqlite::Connection::open(s.sb.ledger()).unwrap();
    let second = format!("{id}:seller");
    let kept = format!("{id}:buyer");
    let (raw_second, event_second): (i64, i64) = ledger
        .query_row(
            "SELECT r.id, s.event_id FROM raw_records r JOIN event_sources s ON s.raw_record_id = r.id
             WHERE r.external_id IN (?1, ?2)",
            [&second, &kept],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    ledger.execute("DELETE FROM event_sources WHERE event_id = ?1", [event_second]).unwrap();
    ledger.execute("DELETE FROM legs WHERE event_id = ?1", [event_second]).unwrap();
    ledger.execute("DELETE FROM events WHERE id = ?1", [event_second]).unwrap();
    ledger.execute("DELETE FROM raw_records WHERE id = ?1", [raw_second]).unwrap();
    drop(ledger);
    assert_eq!(events_with_id(&s.events(), &format!("trade:BTCUSDT:{id}")).len(), 1);

    // A plain re-sync does not double what is stored; `--full` brings the lost side back once;
    // `renormalize` changes nothing.
    s.ok(&["sync", "--quiet"]);
    assert_eq!(events_with_id(&s.events(), &format!("trade:BTCUSDT:{id}")).len(), 1);
    s.ok(&["sync", "--quiet", "--full"]);
    assert_eq!(s.events(), events);
    s.ok(&["renormalize"]);
    assert_eq!(s.events(), events);
    assert_eq!(s.balances(), non_zero(sim.balances()));
    let ledger = rusqlite::Connection::open(s.sb.ledger()).unwrap();
    let raws: i64 = ledger
        .query_row(
            "SELECT COUNT(*) FROM raw_records WHERE source = 'api:myTrades:BTC/USDT' AND external_id LIKE ?1",
            [format!("{id}%")],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(raws, 2);
}

/// A statement holding one spot trade of `time_ms`'s second: the rows Binance writes for an
/// order whose fills it summed (bought `btc` for `usdt`, `fee` USDT in fees).
fn summed_statement(time_ms: i64, btc: &str, usdt: &str, fee: &str) -> String {
    let time = chrono::DateTime::from_timestamp_millis(time_ms).unwrap().format("%Y-%m-%d %H:%M:%S");
    format!(
        "User_ID,UTC_Time,Account,Operation,Coin,Change,Remark\n\
         1,{time},Spot,Transaction Buy,BTC,{btc},\n\
         1,{time},Spot,Transaction Spend,USDT,-{usdt},\n\
         1,{time},Spot,Transaction Fee,USDT,-{fee},\n"
    )
}

#[test]
fn a_summed_statement_row_meets_its_api_fills_once() {
    let sim = sim::start(config(Profile::demo())).unwrap();
    let parts = [
        (Decimal::new(10, 3), Decimal::new(1, 1)),
        (Decimal::new(15, 3), Decimal::new(1, 1)),
        (Decimal::new(5, 3), Decimal::new(1, 1)),
    ];
    let (ids, time_ms) = sim.add_split_order("BTCUSDT", true, &parts, Decimal::new(40_000, 0)).unwrap();
    assert_eq!(ids.len(), 3);
    let statement = summed_statement(time_ms, "0.03", "1200", "0.3");

    // The statement first, then the sync: the three fills meet the one row.
    let s = Synced::new(&sim, SimKey::demo());
    s.add_account();
    std::fs::write(s.sb.path("statement.csv"), &statement).unwrap();
    s.ok(&["import", s.sb.path("statement.csv").to_str().unwrap(), "--account", "main"]);
    let run = s.ok(&["--json", "sync"]).json();
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    let second = time_ms - time_ms.rem_euclid(1000);
    let at_second = |events: &[serde_json::Value]| -> usize {
        events
            .iter()
            .filter(|e| {
                let time = chrono::DateTime::parse_from_rfc3339(e["time"].as_str().unwrap()).unwrap();
                (time.timestamp_millis() - second).abs() < 2_000 && e["kind"] == "trade"
            })
            .count()
    };
    let events = s.events();
    assert_eq!(at_second(&events), 1, "{events:?}");
    assert!(events_with_id(&events, "trade:BTCUSDT:").iter().all(|e| {
        let id = e["external_id"].as_str().unwrap();
        !ids.iter().any(|fill| id == format!("trade:BTCUSDT:{fill}"))
    }));
    assert_eq!(s.balances(), non_zero(sim.balances()));
    // A re-sync, `--full` and `renormalize` keep it once.
    s.ok(&["sync", "--quiet", "--full"]);
    s.ok(&["renormalize"]);
    assert_eq!(s.events(), events);

    // The sync first, then the statement: `renormalize` makes them meet.
    let later = Synced::new(&sim, SimKey::demo());
    later.add_account();
    later.ok(&["sync", "--quiet"]);
    std::fs::write(later.sb.path("statement.csv"), &statement).unwrap();
    later.ok(&["import", later.sb.path("statement.csv").to_str().unwrap(), "--account", "main"]);
    later.ok(&["renormalize"]);
    assert_eq!(at_second(&later.events()), 1);
    assert_eq!(later.balances(), non_zero(sim.balances()));

    // Fills that do not add up to the row exactly are not taken for it.
    let other = Synced::new(&sim, SimKey::demo());
    other.add_account();
    std::fs::write(other.sb.path("statement.csv"), summed_statement(time_ms, "0.03", "1200", "0.2")).unwrap();
    other.ok(&["import", other.sb.path("statement.csv").to_str().unwrap(), "--account", "main"]);
    other.ok(&["sync", "--quiet"]);
    assert_eq!(at_second(&other.events()), 4);
}
