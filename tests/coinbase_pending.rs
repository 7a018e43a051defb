//! Coinbase transactions that are not final never hold back the rest of their wallet: they are
//! passed over, remembered, asked again at each sync, and stored once when final.

mod common;

use cointally_exchanges::coinbase::sim::history::CoinbaseProfile;
use cointally_exchanges::coinbase::sim::{self, AccountsConfig, CoinbaseSim, CoinbaseSimConfig, Limits};
use common::Sandbox;
use rust_decimal::Decimal;

const ADD_ACCOUNT: [&str; 9] =
    ["account", "add", "coinbase", "--label", "main", "--key-env", "SIM_KEY", "--secret-env", "SIM_SECRET"];

fn start() -> CoinbaseSim {
    let config = CoinbaseSimConfig { limits: Limits::Off, ..CoinbaseSimConfig::demo(11) };
    let accounts = AccountsConfig {
        profile: CoinbaseProfile { transactions: 150, ..CoinbaseProfile::demo() },
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
