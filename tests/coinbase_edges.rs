//! Coinbase at its edges: transactions that are not final never hold back the rest of their
//! wallet (passed over, remembered, asked again at each sync, stored once when final); the
//! Advanced Trade fills of every portfolio arrive, and a fill of a portfolio the key cannot see
//! is booked from its v2 wallet rows, never dropped.

mod common;

use cointally_exchanges::coinbase::sim::accounts::OTHER_PORTFOLIO;
use cointally_exchanges::coinbase::sim::history::CoinbaseProfile;
use cointally_exchanges::coinbase::sim::{self, AccountsConfig, CoinbaseSim, CoinbaseSimConfig, Limits, Portfolios};
use common::Sandbox;
use rust_decimal::Decimal;

const ADD_ACCOUNT: [&str; 9] =
    ["account", "add", "coinbase", "--label", "main", "--key-env", "SIM_KEY", "--secret-env", "SIM_SECRET"];

fn start() -> CoinbaseSim {
    start_with(150, Portfolios::default())
}

fn start_with(transactions: usize, portfolios: Portfolios) -> CoinbaseSim {
    let config = CoinbaseSimConfig { limits: Limits::Off, ..CoinbaseSimConfig::demo(11) };
    let accounts = AccountsConfig {
        profile: CoinbaseProfile { transactions, ..CoinbaseProfile::demo() },
        portfolios,
        ..AccountsConfig::demo()
    };
    sim::start_with_accounts(config, accounts).unwrap()
}

fn sandbox(sim: &CoinbaseSim) -> Sandbox {
    let sb = Sandbox::new();
    sb.set_env("SIM_KEY", &sim.key().key_name);
    sb.set_env("SIM_SECRET", &sim.key().private_key);
    sb.set_env("COINTALLY_COINBASE_BASE_URL", &sim.base_url());
    sb.ok(&["init"]);
    sb.ok(&ADD_ACCOUNT);
    sb
}

fn count(events: &[serde_json::Value], id: &str) -> usize {
    events.iter().filter(|e| e["external_id"] == id).count()
}

fn pending_of(summary: &serde_json::Value) -> u64 {
    summary["accounts"][0]["endpoints"].as_array().unwrap().iter().map(|e| e["pending"].as_u64().unwrap()).sum()
}

#[test]
fn a_transaction_pending_across_three_syncs_then_final_arrives_exactly_once_and_blocks_nothing() {
    let sim = start();
    let wallet = sim.account().wallets.iter().find(|w| w.currency == "BTC").map(|w| w.id.clone()).unwrap();
    let stuck = sim.add_transaction("BTC", "send", "pending", Decimal::new(-1, 4)).unwrap();
    let later = sim.add_transaction("BTC", "receive", "completed", Decimal::new(2, 4)).unwrap();
    let s = sandbox(&sim);

    let mut by_id_requests = 0;
    for run in 1..=3 {
        let summary = s.ok(&["--json", "sync"]).json();
        assert_eq!(summary["accounts"][0]["error"], serde_json::Value::Null, "{summary}");
        let events = s.events("main");
        // The later transaction of the same wallet is there from the first sync on.
        assert_eq!(count(&events, &later), 1, "sync {run}: {summary}");
        assert_eq!(count(&events, &stuck), 0, "sync {run}: a pending send was stored");
        // The stuck one is named in the summary and counted by coverage.
        assert_eq!(pending_of(&summary), 1, "{summary}");
        assert!(summary.to_string().contains(&stuck), "sync {run} does not name {stuck}: {summary}");
        let coverage = s.ok(&["--json", "coverage"]).json();
        let row = coverage.as_array().unwrap().iter().find(|r| r["endpoint"] == "transactions").cloned();
        assert_eq!(row.map(|r| r["pending"].clone()), Some(serde_json::json!(1)), "{coverage}");
        assert_eq!(s.balances("main"), sim.balances(), "sync {run}");
        // From the second sync on, it is asked again by id.
        let path = format!("/v2/accounts/{wallet}/transactions/{stuck}");
        let asked = sim.stats().requests_by_path.get(&path).copied().unwrap_or(0);
        assert_eq!(asked, run - 1, "sync {run}");
        by_id_requests = asked;
    }
    assert_eq!(by_id_requests, 2);

    assert!(sim.set_status(&stuck, "completed"));
    let summary = s.ok(&["--json", "sync"]).json();
    assert_eq!(pending_of(&summary), 0, "{summary}");
    let events = s.events("main");
    assert_eq!(count(&events, &stuck), 1, "{summary}");
    assert_eq!(count(&events, &later), 1);
    assert_eq!(s.balances("main"), sim.balances());
    let coverage = s.ok(&["--json", "coverage"]).json();
    assert!(coverage.as_array().unwrap().iter().all(|r| r["pending"] == 0), "{coverage}");

    // Once more: nothing new, still once.
    let again = s.ok(&["--json", "sync"]).json();
    assert_eq!(s.events("main"), events, "{again}");
}

/// The `order_id` in a fill's or a wallet row's JSON.
fn order_of(json: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    value["order_id"]
        .as_str()
        .or_else(|| value["advanced_trade_fill"]["order_id"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn the_fills_of_every_portfolio_the_key_sees_arrive_once_and_their_wallet_rows_add_nothing() {
    let sim = start_with(500, Portfolios { other_share_percent: 40, scoped_key: false });
    let s = sandbox(&sim);
    let summary = s.ok(&["--json", "sync"]).json();
    assert_eq!(summary["accounts"][0]["error"], serde_json::Value::Null, "{summary}");
    let account = sim.account();
    let other = account.fills.iter().filter(|f| f.json.get().contains(OTHER_PORTFOLIO)).count();
    assert!(
        other > 3 && other < account.fills.len(),
        "{other} of {} fills in the other portfolio",
        account.fills.len()
    );
    let events = s.events("main");
    for fill in &account.fills {
        assert_eq!(count(&events, &fill.trade_id), 1, "fill {}", fill.trade_id);
    }
    for row in account.txs.iter().filter(|t| t.kind == "advanced_trade_fill") {
        assert_eq!(count(&events, &row.id), 0, "wallet row {} made an event beside its v3 fill", row.id);
    }
    assert_eq!(s.balances("main"), sim.balances());
    // Moves to Coinbase Exchange are transfers to an outside venue, and `check` says so.
    assert!(account.txs.iter().any(|t| t.kind == "pro_deposit" || t.kind == "exchange_deposit"));
    let findings = s.run(&["--json", "check"]);
    assert!(findings.stdout.contains("a venue outside this account"), "{}", findings.stdout);
    let check = s.ok(&["account", "check", "main"]);
    assert!(check.stderr.contains(OTHER_PORTFOLIO) && check.stderr.contains("retail_portfolio_id"), "{}", check.stderr);
}

#[test]
fn a_fill_of_a_portfolio_the_key_cannot_see_is_booked_from_its_wallet_rows_never_dropped() {
    let sim = start_with(500, Portfolios { other_share_percent: 40, scoped_key: true });
    let s = sandbox(&sim);
    let summary = s.ok(&["--json", "sync"]).json();
    assert_eq!(summary["accounts"][0]["error"], serde_json::Value::Null, "{summary}");
    let account = sim.account();
    let events = s.events("main");
    let mut hidden = 0;
    for fill in &account.fills {
        let order = order_of(fill.json.get());
        let rows: Vec<_> =
            account.txs.iter().filter(|t| t.kind == "advanced_trade_fill" && order_of(t.json.get()) == order).collect();
        assert_eq!(rows.len(), 2, "order {order}");
        if fill.json.get().contains(OTHER_PORTFOLIO) {
            hidden += 1;
            assert_eq!(count(&events, &fill.trade_id), 0);
            for row in rows {
                let found: Vec<_> = events.iter().filter(|e| e["external_id"] == row.id.as_str()).collect();
                assert_eq!(found.len(), 1, "wallet row {} of a hidden fill", row.id);
                assert_eq!(found[0]["kind"], "trade");
                assert_eq!(found[0]["legs"].as_array().map(Vec::len), Some(1), "{}", found[0]);
            }
        } else {
            assert_eq!(count(&events, &fill.trade_id), 1);
            assert!(rows.iter().all(|row| count(&events, &row.id) == 0));
        }
    }
    assert!(hidden > 3, "{hidden} hidden fills");
    assert!(summary.to_string().contains("no v3 fill this key can see"), "{summary}");
    assert_eq!(s.balances("main"), sim.balances());
    // Nothing doubles at the next sync.
    s.ok(&["sync", "--quiet"]);
    assert_eq!(s.events("main"), events);
    let check = s.ok(&["account", "check", "main"]);
    assert!(
        check.stderr.contains("docs.cdp.coinbase.com") && check.stderr.contains("one portfolio"),
        "{}",
        check.stderr
    );
}
