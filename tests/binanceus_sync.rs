//! `cointally sync` against the Binance.US simulator (Binance's API on Binance.US's paths,
//! weights and budget): complete history once, re-runs that add nothing, faults and kills that
//! change nothing, keys that are refused, and `sandbox serve --exchange binance-us`.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use cointally_exchanges::binance::sim::store::Row;
use cointally_exchanges::binance::sim::{BinanceSim, Limits, SimConfig, SimKey};
use cointally_exchanges::binanceus::sim;
use cointally_exchanges::sim::faults::{FaultConfig, FaultKind};
use cointally_exchanges::sim::generate::Profile;
use common::exchange::assert_ledger_holds_none;
use common::{Run, Sandbox, assert_kills_strike_mid_sync};
use rust_decimal::Decimal;

/// Adds the Binance.US account `main` whose key is in $SIM_KEY and $SIM_SECRET.
const ADD_ACCOUNT: [&str; 9] =
    ["account", "add", "binanceus", "--label", "main", "--key-env", "SIM_KEY", "--secret-env", "SIM_SECRET"];

const BASE_URL_ENV: &str = "COINTALLY_BINANCEUS_BASE_URL";

fn config(profile: Profile) -> SimConfig {
    SimConfig {
        seed: 11,
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

    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut command = self.sb.command(args);
        command
            .env("SIM_KEY", &self.key.api_key)
            .env("SIM_SECRET", &self.key.secret)
            .env(BASE_URL_ENV, &self.base_url)
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
        non_zero(
            self.ok(&["--json", "balances", "--account", "main"])
                .json()
                .as_array()
                .unwrap()
                .iter()
                .map(|b| (b["asset"].as_str().unwrap().to_string(), b["amount"].as_str().unwrap().parse().unwrap()))
                .collect(),
        )
    }

    /// Every event without its row id, by time and id: what "the same ledger" means.
    fn events(&self) -> Vec<serde_json::Value> {
        let mut events = self.ok(&["--json", "events", "--account", "main"]).json().as_array().unwrap().clone();
        for event in &mut events {
            event.as_object_mut().unwrap().remove("id");
        }
        events.sort_by_key(|e| (e["time"].as_str().unwrap_or("").to_owned(), e["external_id"].to_string()));
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
fn binanceus_full_sync_matches_the_exchange_and_a_resync_sends_only_the_minimal_requests() {
    let sim = sim::start(config(Profile::demo())).unwrap();
    let s = Synced::new(&sim, SimKey::demo());
    s.add_account();
    let first = s.ok(&["--json", "sync"]).json();
    assert_eq!(first["accounts"][0]["error"], serde_json::Value::Null, "{first}");
    assert_eq!(first["accounts"][0]["balance_differences"], serde_json::json!([]), "{first}");
    assert_eq!(s.balances(), non_zero(sim.balances()));
    assert!(s.balances().len() > 2, "a real history: {:?}", s.balances());

    let stored: BTreeMap<String, u64> = first["accounts"][0]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["endpoint"].as_str().unwrap().to_string(), e["new_records"].as_u64().unwrap()))
        .collect();
    for (endpoint, count) in sim.records() {
        assert_eq!(stored.get(endpoint).copied().unwrap_or(0), count as u64, "endpoint {endpoint}");
    }
    // Only Binance.US's paths were asked: binance.com's wallet history was never requested.
    let paths = sim.stats().requests_by_path;
    let us_paths = [
        "/sapi/v1/fiatpayment/query/deposit/history",
        "/sapi/v1/fiatpayment/query/withdraw/history",
        "/sapi/v1/staking/stakingRewardsHistory",
        "/sapi/v1/asset/assetDistributionHistory",
        "/sapi/v1/asset/query/dust-logs",
        "/sapi/v1/otc/orders",
    ];
    for path in paths.keys() {
        assert!(
            path.starts_with("/api/v3/")
                || path.starts_with("/sapi/v1/capital/")
                || path.ends_with("apiRestrictions")
                || us_paths.contains(&path.as_str()),
            "asked {path}: {paths:?}"
        );
    }
    for path in us_paths {
        assert!(paths.contains_key(path), "{path} was walked: {paths:?}");
    }
    // Its budget was the binding one, used without a 429 or a ban.
    let stats = sim.stats();
    assert_eq!((stats.rate_limited, stats.banned), (0, 0), "{stats:?}");
    let api = stats.buckets.iter().find(|b| b.name == "api").unwrap();
    assert_eq!(api.limit, 1_200);

    let events = s.events();
    let before = sim.stats();
    let second = s.ok(&["--json", "sync"]).json();
    assert_eq!(new_records(&second), 0, "{second}");
    let after = sim.stats();
    let requests = after.requests - before.requests;
    // Key check, balances before and after, exchangeInfo, and one window per time-walked
    // stream (the eight of them: a fiat history window that has records is asked once more
    // at the next offset, to see it end); no pair is asked again while no balance moved.
    assert!(
        requests <= 14,
        "a re-sync with nothing new sent {requests} requests: {:?} then {:?}",
        before.requests_by_path,
        after.requests_by_path
    );
    assert_eq!(s.events(), events);

    sim.add_trades(5);
    let third = s.ok(&["--json", "sync"]).json();
    assert_eq!(new_records(&third), 5, "{third}");
    assert_eq!(s.balances(), non_zero(sim.balances()));

    // A staking reward paid since (in both listings) and a USD deposit: the next sync stores
    // those three records, from each stream's own cursor, and the reward once as an event.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let at = now - 3_600_000;
    let reward = serde_json::json!({
        "asset": "ETH", "amount": "0.01230000", "usdValue": "40.00", "time": at, "tranId": 9_000_000_001u64,
        "autoRestaked": false,
    });
    let listed = serde_json::json!({
        "amount": "0.01230000", "asset": "ETH", "divTime": at, "category": "Staking Rewards", "tranId": 9_000_000_001u64,
    });
    let deposit = serde_json::json!({
        "orderId": "feedc0de00000000000000000000beef", "paymentAccount": "x", "paymentChannel": "PRIMETRUST",
        "paymentMethod": "ACH", "orderStatus": "Successful", "fiatCurrency": "USD", "amount": "750.00",
        "transactionFee": "0.00", "platformFee": "0.00", "createTime": at,
    });
    let eth: Decimal = "0.0123".parse().unwrap();
    let usd: Decimal = "750".parse().unwrap();
    sim.push_rows(vec![
        ("stakingRewards", Row::new(at, "ETH", "", "9000000001", &reward), vec![("ETH", eth)]),
        ("distributions", Row::new(at, "ETH", "Staking Rewards", "9000000001", &listed), vec![]),
        ("fiatDepositHistory", Row::new(at, "USD", "", "feedc0de", &deposit), vec![("USD", usd)]),
    ]);
    let stakes = s.events().iter().filter(|e| e["kind"] == "staking").count();
    let fourth = s.ok(&["--json", "sync"]).json();
    assert_eq!(new_records(&fourth), 3, "{fourth}");
    assert_eq!(fourth["accounts"][0]["balance_differences"], serde_json::json!([]), "{fourth}");
    assert_eq!(s.balances(), non_zero(sim.balances()));
    assert_eq!(s.events().iter().filter(|e| e["kind"] == "staking").count(), stakes + 1);
}

#[test]
fn binanceus_own_streams_are_classified_and_staking_rewards_count_once() {
    let sim = sim::start(config(Profile::demo())).unwrap();
    let records = sim.records();
    let count = |stream: &str| records.get(stream).copied().unwrap_or(0);
    let stakes = count("stakingRewards");
    assert!(stakes > 0 && count("distributions") > stakes, "{records:?}");
    for stream in ["fiatDepositHistory", "fiatWithdrawHistory", "dustLogs", "otcOrders"] {
        assert!(count(stream) > 0, "{stream}: {records:?}");
    }
    let s = Synced::new(&sim, SimKey::demo());
    s.add_account();
    s.ok(&["sync", "--quiet"]);
    assert_eq!(s.balances(), non_zero(sim.balances()));
    let events = s.events();
    let of = |kind: &str| events.iter().filter(|e| e["kind"] == kind).collect::<Vec<_>>();
    let id = |e: &serde_json::Value| e["external_id"].as_str().unwrap_or_default().to_owned();
    // Every reward is listed twice (staking history, distribution history), kept once.
    assert_eq!(of("staking").len(), stakes, "one staking event per reward");
    assert!(of("staking").iter().all(|e| id(e).starts_with("binanceus:distribution:")));
    assert!(!of("rebate").is_empty() || !of("airdrop").is_empty());
    let fiat_in = of("fiat_deposit");
    assert!(!fiat_in.is_empty() && fiat_in.len() <= count("fiatDepositHistory"));
    assert!(fiat_in.iter().all(|e| e["legs"].to_string().contains("\"USD\"")), "USD only");
    assert_eq!(of("fiat_withdrawal").len(), count("fiatWithdrawHistory"));
    assert!(of("conversion").len() >= count("dustLogs"));
    assert!(of("conversion").iter().all(|e| id(e).starts_with("dust:")));
    // The first OTC order failed and moved nothing; the others are trades.
    let otc = events.iter().filter(|e| id(e).starts_with("otc:")).count();
    assert_eq!(otc, count("otcOrders") - 1);
    assert!(events.iter().all(|e| e["kind"] != "unknown"), "every record read");
}

/// More USD orders in one 89-day window than one answer holds (the simulator answers 50 per
/// `offset`): the walk reads on from the records it has, until an empty answer, and stores each
/// once.
#[test]
fn binanceus_fiat_history_pages_by_offset_within_a_window() {
    let profile = Profile {
        start_ms: 1_735_689_600_000, // 2025-01-01
        end_ms: 1_740_787_199_999,   // 2025-02-28
        fiat_transfers: 160,
        ..Profile::demo()
    };
    let sim = sim::start(config(profile)).unwrap();
    let fiat = sim.records().get("fiatDepositHistory").copied().unwrap_or(0)
        + sim.records().get("fiatWithdrawHistory").copied().unwrap_or(0);
    assert!(fiat >= 150, "{:?}", sim.records());
    let s = Synced::new(&sim, SimKey::demo());
    s.add_account();
    let run = s.ok(&["--json", "sync"]).json();
    assert_eq!(run["accounts"][0]["balance_differences"], serde_json::json!([]), "{run}");
    let stored: u64 = run["accounts"][0]["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["endpoint"].as_str().is_some_and(|name| name.starts_with("fiat")))
        .map(|e| e["new_records"].as_u64().unwrap())
        .sum();
    assert_eq!(stored, fiat as u64);
    assert_eq!(s.balances(), non_zero(sim.balances()));
    let asked = sim.stats().requests_by_path;
    let deposits = asked.get("/sapi/v1/fiatpayment/query/deposit/history").copied().unwrap_or(0);
    let windows = asked.get("/sapi/v1/otc/orders").copied().unwrap_or(0);
    assert!(deposits >= windows + 2, "pages past the first in the busy window: {asked:?}");
}

/// A USD withdrawal still `Processing` is not stored; once Binance.US says `Successful`, the
/// next sync walks back to it (the cursor held its time, five days before the run's lookback
/// would reach) and stores it once.
#[test]
fn binanceus_processing_fiat_order_is_stored_once_it_is_final() {
    let sim = sim::start(config(Profile::demo())).unwrap();
    let s = Synced::new(&sim, SimKey::demo());
    s.add_account();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let at = now - 5 * 86_400_000;
    let key = "0c0ffee00000000000000000000000ab";
    let order = |status: &str| {
        serde_json::json!({
            "orderId": key, "paymentAccount": "x", "paymentChannel": "PRIMETRUST", "paymentMethod": "WIRE",
            "orderStatus": status, "fiatCurrency": "USD", "amount": "100.00", "transactionFee": "15.00",
            "platformFee": "0.00", "createTime": at,
        })
    };
    sim.push_rows(vec![("fiatWithdrawHistory", Row::new(at, "USD", "", key, &order("Processing")), vec![])]);
    s.ok(&["sync", "--quiet"]);
    let id = format!("withdrawal:{key}");
    assert!(!s.events().iter().any(|e| e["external_id"] == id.as_str()), "not final, not stored");
    let again = s.ok(&["--json", "sync"]).json();
    assert_eq!(new_records(&again), 0, "still processing: {again}");

    let spent: Decimal = "-115".parse().unwrap();
    sim.push_rows(vec![(
        "fiatWithdrawHistory",
        Row::new(at, "USD", "", key, &order("Successful")),
        vec![("USD", spent)],
    )]);
    let done = s.ok(&["--json", "sync"]).json();
    assert_eq!(new_records(&done), 1, "{done}");
    assert_eq!(done["accounts"][0]["balance_differences"], serde_json::json!([]), "{done}");
    assert_eq!(s.events().iter().filter(|e| e["external_id"] == id.as_str()).count(), 1);
    assert_eq!(s.balances(), non_zero(sim.balances()));
}

#[test]
fn binanceus_faults_do_not_change_the_ledger() {
    let clean = sim::start(config(Profile::demo())).unwrap();
    let reference = Synced::new(&clean, SimKey::demo());
    reference.add_account();
    reference.ok(&["sync", "--quiet"]);

    let faults = FaultConfig {
        rate_permille: 150,
        seed: 5,
        kinds: vec![FaultKind::ServerError, FaultKind::Timeout, FaultKind::Truncated, FaultKind::TooManyRequests],
    };
    let faulty = sim::start(SimConfig { faults: Some(faults), ..config(Profile::demo()) }).unwrap();
    faulty.set_fault_timeout_delay(Duration::from_millis(300));
    let s = Synced::new(&faulty, SimKey::demo());
    s.add_account();
    let run = s.ok(&["--json", "sync"]).json();
    let retries: u64 =
        run["accounts"][0]["endpoints"].as_array().unwrap().iter().map(|e| e["retries"].as_u64().unwrap()).sum();
    assert!(retries > 0, "no fault was met: {run}");
    let kinds = faulty.stats().faults_by_kind;
    assert!(kinds.len() >= 3, "several kinds of fault struck: {kinds:?}");
    assert_eq!(s.events(), reference.events());
    assert_eq!(s.balances(), non_zero(faulty.balances()));
}

#[test]
fn binanceus_killed_sync_resumes_to_the_same_ledger() {
    let profile = Profile { trades: 12_000, symbols: 12, transfers: 300, ..Profile::demo() };
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
fn binanceus_key_that_can_withdraw_is_refused_unless_allowed() {
    let key = SimKey { can_withdraw: true, ..SimKey::demo() };
    let sim = sim::start(SimConfig { key: key.clone(), ..config(Profile::demo()) }).unwrap();
    let s = Synced::new(&sim, key);
    let refused = s.run(&ADD_ACCOUNT);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("--allow-withdraw-key"), "{}", refused.stderr);
    assert_eq!(s.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));

    s.ok(&[ADD_ACCOUNT.as_slice(), &["--allow-withdraw-key"]].concat());
    let run = s.ok(&["sync"]);
    assert!(run.stderr.contains("can withdraw"), "{}", run.stderr);
}

#[test]
fn binanceus_wrong_secret_is_refused_and_writes_nothing() {
    let sim = sim::start(config(Profile::demo())).unwrap();
    let wrong = SimKey { secret: "not-the-secret-0123456789".into(), ..SimKey::demo() };
    let s = Synced::new(&sim, wrong.clone());
    let add = s.run(&ADD_ACCOUNT);
    assert_eq!(add.code, 3, "{}", add.stderr);
    assert!(add.stderr.contains("account main"), "{}", add.stderr);
    assert!(!add.stderr.contains(&wrong.secret));
    assert_eq!(s.ok(&["--json", "account", "list"]).json(), serde_json::json!([]));

    // Added without the check (no key at hand then), it fails at sync with nothing written.
    let add = s.sb.command(&ADD_ACCOUNT).env(BASE_URL_ENV, &s.base_url).status();
    assert!(add.unwrap().success());
    let sync = s.run(&["sync"]);
    assert_eq!(sync.code, 3, "{}", sync.stderr);
    assert!(!sync.stderr.contains(&wrong.secret) && !sync.stdout.contains(&wrong.secret));
    assert_eq!(s.ok(&["--json", "events"]).json(), serde_json::json!([]));
    assert_ledger_holds_none(&s.sb, &[&wrong.secret]);
}

#[test]
fn binanceus_no_secret_reaches_output_logs_or_the_ledger() {
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
    assert_ledger_holds_none(&s.sb, &[&secret]);
}

#[test]
fn binanceus_sync_says_what_it_does_not_fetch() {
    let sim = sim::start(config(Profile::demo())).unwrap();
    let s = Synced::new(&sim, SimKey::demo());
    s.add_account();
    let summary = s.ok(&["--json", "sync"]);
    let text = format!("{}{}", summary.stdout, summary.stderr);
    assert!(text.contains("ocbs"), "{text}");
    assert!(!text.contains("stakingRewardsHistory"), "staking rewards are fetched now: {text}");
}

#[test]
fn sandbox_serve_accepts_the_issue_spelling_binance_us() {
    let sb = Sandbox::new();
    let mut child = sb
        .command(&["sandbox", "serve", "--exchange", "binance-us", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(first.starts_with("Binance.US simulator on http://127.0.0.1:"), "{first}");
}

/// A Binance.US transaction history file with one `Spot Trading` row for each of `trades`
/// (events of the ledger, as `events --json` gives them).
fn history_file(trades: &[serde_json::Value]) -> String {
    let mut text = String::from(
        "User_Id,Time,Category,Operation,Order_Id,Transaction_Id,Primary_Asset,Realized_Amount_For_Primary_Asset,\
         Realized_Amount_For_Primary_Asset_In_USD_Value,Base_Asset,Realized_Amount_For_Base_Asset,\
         Realized_Amount_For_Base_Asset_In_USD_Value,Quote_Asset,Realized_Amount_For_Quote_Asset,\
         Realized_Amount_For_Quote_Asset_In_USD_Value,Fee_Asset,Realized_Amount_For_Fee_Asset,\
         Realized_Amount_For_Fee_Asset_In_USD_Value,Payment_Method,Withdrawal_Method,Additional_Note\n",
    );
    for trade in trades {
        let id = trade["external_id"].as_str().unwrap();
        let (symbol, trade_id) = id.strip_prefix("trade:").unwrap().split_once(':').unwrap();
        let legs = trade["legs"].as_array().unwrap();
        let leg = |wanted: &dyn Fn(&serde_json::Value) -> bool| legs.iter().find(|l| wanted(l)).cloned();
        let is_fee = |l: &serde_json::Value| l["role"] == "fee";
        let amount = |l: &serde_json::Value| l["amount"].as_str().unwrap().parse::<Decimal>().unwrap();
        let sent = leg(&|l| !is_fee(l) && amount(l).is_sign_negative()).unwrap();
        let received = leg(&|l| !is_fee(l) && amount(l).is_sign_positive()).unwrap();
        let asset = |l: &serde_json::Value| l["asset"].as_str().unwrap().to_owned();
        let (operation, base, quote) = if symbol.starts_with(&asset(&received)) && symbol.ends_with(&asset(&sent)) {
            ("Buy", &received, &sent)
        } else {
            ("Sell", &sent, &received)
        };
        let (fee_asset, fee_amount) = match leg(&is_fee) {
            Some(fee) => (asset(&fee), amount(&fee).abs().to_string()),
            None => (String::new(), String::new()),
        };
        text.push_str(&format!(
            "1,{time},Spot Trading,{operation},1,{trade_id},,,,{base},{base_amount},,{quote},{quote_amount},,{fee_asset},{fee_amount},,Wallet,,\n",
            time = trade["time"].as_str().unwrap(),
            base = asset(base),
            base_amount = amount(base).abs(),
            quote = asset(quote),
            quote_amount = amount(quote).abs(),
        ));
    }
    text
}

#[test]
fn binanceus_history_file_and_sync_add_nothing_twice() {
    let sim = sim::start(config(Profile::demo())).unwrap();
    let s = Synced::new(&sim, SimKey::demo());
    s.add_account();
    s.ok(&["sync", "--quiet"]);
    let events = s.events();
    let trades: Vec<serde_json::Value> = events
        .iter()
        .filter(|e| e["kind"] == "trade" && e["external_id"].as_str().is_some_and(|id| id.starts_with("trade:")))
        .take(40)
        .cloned()
        .collect();
    assert_eq!(trades.len(), 40);
    let file = s.sb.path("binanceus-history.csv");
    std::fs::write(&file, history_file(&trades)).unwrap();

    let import = s.ok(&["--json", "import", file.to_str().unwrap(), "--account", "main"]);
    assert!(import.stdout.contains("binanceus"), "the file was read as Binance.US's: {}", import.stdout);
    assert_eq!(s.events(), events, "the file's trades met the synced ones");
    assert_eq!(s.balances(), non_zero(sim.balances()));

    // And the other way round: a ledger fed the file first, then synced, has each trade once.
    let fresh = Synced::new(&sim, SimKey::demo());
    fresh.add_account();
    fresh.ok(&["import", file.to_str().unwrap(), "--account", "main"]);
    assert_eq!(fresh.events().len(), 40);
    fresh.ok(&["sync", "--quiet"]);
    assert_eq!(fresh.events().len(), events.len());
    assert_eq!(fresh.balances(), non_zero(sim.balances()));
}

/// The header of Binance.US's transaction history export.
const HISTORY_HEADER: &str = "User_Id,Time,Category,Operation,Order_Id,Transaction_Id,Primary_Asset,\
    Realized_Amount_For_Primary_Asset,Realized_Amount_For_Primary_Asset_In_USD_Value,Base_Asset,\
    Realized_Amount_For_Base_Asset,Realized_Amount_For_Base_Asset_In_USD_Value,Quote_Asset,\
    Realized_Amount_For_Quote_Asset,Realized_Amount_For_Quote_Asset_In_USD_Value,Fee_Asset,\
    Realized_Amount_For_Fee_Asset,Realized_Amount_For_Fee_Asset_In_USD_Value,Payment_Method,\
    Withdrawal_Method,Additional_Note\n";

/// One export row of `event` (from `events --json`), under `transaction_id` (never the API's
/// id, so the row can meet its API record only by content), written as the export writes its
/// time (`2021-12-31 00:07:03.819`). `None` for an event the export has no known row for.
fn history_row(event: &serde_json::Value, transaction_id: u64, convert_category: &str) -> Option<String> {
    let legs = event["legs"].as_array().unwrap();
    let amount = |l: &serde_json::Value| l["amount"].as_str().unwrap().parse::<Decimal>().unwrap();
    let asset = |l: &serde_json::Value| l["asset"].as_str().unwrap().to_owned();
    let of_role = |role: &str| legs.iter().find(|l| l["role"] == role);
    let time = chrono::DateTime::parse_from_rfc3339(event["time"].as_str().unwrap()).unwrap();
    let time = time.format("%Y-%m-%d %H:%M:%S%.3f");
    let fee = match of_role("fee") {
        Some(fee) => format!("{},{}", asset(fee), amount(fee).abs()),
        None => ",".to_owned(),
    };
    let primary = |category: &str, operation: &str, leg: &serde_json::Value| {
        format!("1,{time},{category},{operation},,{transaction_id},{},{},,,,,,,,{fee},,,,\n", asset(leg), amount(leg),)
    };
    let kind = event["kind"].as_str().unwrap();
    let id = event["external_id"].as_str().unwrap();
    Some(match kind {
        "trade" if id.starts_with("otc:") => {
            let (sent, received) = (of_role("sent")?, of_role("received")?);
            format!(
                "1,{time},{convert_category},{operation},{transaction_id:032x},{transaction_id},,,,{},{},,{},{},,{fee},,ACH,,\n",
                asset(sent),
                amount(sent).abs(),
                asset(received),
                amount(received),
                operation = if convert_category == "Quick Sell" { "Sell" } else { "Buy" },
            )
        }
        "deposit" => primary("Deposit", "Crypto Deposit", of_role("received")?),
        "fiat_deposit" => primary("Deposit", "USD Deposit", of_role("received")?),
        "withdrawal" => primary("Withdrawal", "Crypto Withdrawal", of_role("sent")?),
        "fiat_withdrawal" => primary("Withdrawal", "USD Withdrawal", of_role("sent")?),
        "staking" => primary("Distribution", "Staking Rewards", of_role("received")?),
        "rebate" => primary("Distribution", "Referral Commission", of_role("received")?),
        "airdrop" => primary("Distribution", "Others", of_role("received")?),
        _ => return None,
    })
}

/// Binance.US's own conversions (`Convert`, `Quick Buy`, `Quick Sell` rows; OTC orders in the
/// API), USD and crypto deposits and withdrawals, and distributions (staking rewards listed in
/// two API streams, referral rewards, airdrops), imported from the export with ids the API does
/// not use, meet their API records by content: a file then a sync, a sync then the file and
/// `renormalize` (a ledger that stored both before this version), each event once, balances
/// equal to the exchange's.
#[test]
fn binanceus_history_file_conversions_transfers_and_distributions_meet_the_api_once() {
    let sim = sim::start(config(Profile::demo())).unwrap();
    // An OTC order selling crypto for USD (the generated ones all buy), for a `Quick Sell` row.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let at = now - 7_200_000;
    let sell = serde_json::json!({
        "quoteId": "0123456789abcdef0123456789abcdef", "orderId": "777000111", "orderStatus": "SUCCESS",
        "fromCoin": "BTC", "fromAmount": "0.00100000", "toCoin": "USD", "toAmount": "61.25",
        "ratio": "61250.00000000", "inverseRatio": "0.00", "createTime": at,
    });
    let btc: Decimal = "0.001".parse().unwrap();
    let usd: Decimal = "61.25".parse().unwrap();
    sim.push_rows(vec![(
        "otcOrders",
        Row::new(at, "BTC", "USD", "777000111", &sell),
        vec![("BTC", -btc), ("USD", usd)],
    )]);

    let synced = Synced::new(&sim, SimKey::demo());
    synced.add_account();
    synced.ok(&["sync", "--quiet"]);
    let events = synced.events();
    assert_eq!(synced.balances(), non_zero(sim.balances()));

    let mut file = String::from(HISTORY_HEADER);
    let mut rows_by_kind: BTreeMap<String, usize> = BTreeMap::new();
    let categories = ["Convert", "Quick Buy"];
    let mut converts = 0;
    for (n, event) in events.iter().enumerate() {
        let id = event["external_id"].as_str().unwrap();
        let category = if id == "otc:777000111" { "Quick Sell" } else { categories[converts % 2] };
        let Some(row) = history_row(event, 900_000_000 + n as u64, category) else { continue };
        if id.starts_with("otc:") {
            converts += 1;
        }
        *rows_by_kind.entry(event["kind"].as_str().unwrap().to_owned()).or_default() += 1;
        file.push_str(&row);
    }
    assert!(converts >= 3, "OTC orders in the file: {converts}");
    assert!(file.contains(",Quick Sell,") && file.contains(",Quick Buy,") && file.contains(",Convert,"));
    for kind in ["fiat_deposit", "fiat_withdrawal", "deposit", "withdrawal", "staking", "airdrop"] {
        assert!(rows_by_kind.get(kind).is_some_and(|n| *n > 0), "{kind} rows: {rows_by_kind:?}");
    }
    let rows: usize = rows_by_kind.values().sum();
    let path = synced.sb.path("binanceus-history.csv");
    std::fs::write(&path, &file).unwrap();

    // The file first, then the sync: the API records meet the file's events.
    let fresh = Synced::new(&sim, SimKey::demo());
    fresh.add_account();
    fresh.ok(&["import", path.to_str().unwrap(), "--account", "main"]);
    assert_eq!(fresh.events().len(), rows);
    let summary = fresh.ok(&["--json", "sync"]).json();
    assert_eq!(summary["accounts"][0]["balance_differences"], serde_json::json!([]), "{summary}");
    assert_eq!(fresh.balances(), non_zero(sim.balances()));
    let after = fresh.events();
    assert_eq!(after.len(), events.len(), "each happening once");
    assert!(after.iter().all(|e| !e["external_id"].as_str().unwrap().starts_with("otc:")), "OTC orders met the rows");
    // Staking rewards: one event each, though the API lists each one twice.
    let stakes = |events: &[serde_json::Value]| events.iter().filter(|e| e["kind"] == "staking").count();
    assert_eq!(stakes(&after), stakes(&events));
    // A re-sync and `renormalize` keep it so.
    fresh.ok(&["sync", "--quiet"]);
    let report = fresh.ok(&["--json", "renormalize"]).json();
    assert!(report[0]["matched_file_events"].as_u64().unwrap() >= rows as u64, "{report}");
    assert_eq!(fresh.events(), after);
    assert_eq!(fresh.balances(), non_zero(sim.balances()));

    // The sync first, then the file: the file's rows are added beside the API's (different
    // ids: the balances double), and `renormalize` makes them meet — also what a ledger that
    // stored both before this version gets.
    synced.ok(&["import", path.to_str().unwrap(), "--account", "main"]);
    assert_ne!(synced.balances(), non_zero(sim.balances()), "the fault struck: both sources kept");
    synced.ok(&["renormalize"]);
    assert_eq!(synced.balances(), non_zero(sim.balances()));
    assert_eq!(synced.events().len(), events.len());
    assert_eq!(stakes(&synced.events()), stakes(&events));
}

/// A staking reward whose second listing (the distribution history) arrives a sync after the
/// first (the staking history), both under an id the file's row does not carry: the second
/// meets the file's row the first met, in a later run too (the sync re-reads the stored links).
#[test]
fn binanceus_staking_reward_listed_again_in_a_later_sync_meets_its_file_row_once() {
    let sim = sim::start(config(Profile::demo())).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    // Ten days ago: a re-sync's staking history window (from a day before where the last one
    // ended) no longer reaches it, so only the stored link can say what its id met.
    let at = now - 10 * 86_400_000;
    let time = chrono::DateTime::from_timestamp_millis(at).unwrap().format("%Y-%m-%d %H:%M:%S%.3f");
    let s = Synced::new(&sim, SimKey::demo());
    s.add_account();
    let file = s.sb.path("binanceus-reward.csv");
    std::fs::write(
        &file,
        format!("{HISTORY_HEADER}1,{time},Distribution,Staking Rewards,,555000111,ETH,0.04560000,,,,,,,,,,,,,\n"),
    )
    .unwrap();
    s.ok(&["import", file.to_str().unwrap(), "--account", "main"]);

    let reward = serde_json::json!({
        "asset": "ETH", "amount": "0.04560000", "usdValue": "150.00", "time": at, "tranId": 9_000_000_077u64,
        "autoRestaked": false,
    });
    let eth: Decimal = "0.0456".parse().unwrap();
    sim.push_rows(vec![("stakingRewards", Row::new(at, "ETH", "", "9000000077", &reward), vec![("ETH", eth)])]);
    s.ok(&["sync", "--quiet"]);
    assert_eq!(s.balances(), non_zero(sim.balances()));
    let events = s.events();

    // The distribution history lists it only now (its time is when it was listed), under the
    // same `tranId`.
    let listed_at = now - 3_600_000;
    let listed = serde_json::json!({
        "amount": "0.04560000", "asset": "ETH", "divTime": listed_at, "category": "Staking Rewards",
        "tranId": 9_000_000_077u64,
    });
    sim.push_rows(vec![(
        "distributions",
        Row::new(listed_at, "ETH", "Staking Rewards", "9000000077", &listed),
        vec![],
    )]);
    let second = s.ok(&["--json", "sync"]).json();
    assert_eq!(new_records(&second), 1, "the second listing was fetched: {second}");
    assert_eq!(second["accounts"][0]["balance_differences"], serde_json::json!([]), "{second}");
    assert_eq!(s.balances(), non_zero(sim.balances()));
    assert_eq!(s.events(), events, "no event added");
    let rewards: Vec<_> = events.iter().filter(|e| e["legs"].to_string().contains("0.0456")).collect();
    assert_eq!(rewards.len(), 1, "{rewards:?}");
    assert_eq!(rewards[0]["external_id"], "binanceus:distribution:555000111");
}
