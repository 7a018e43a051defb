//! The 2025 allocation of unused basis (Rev. Proc. 2024-28), made once and kept: `basis
//! allocate|allocation`, `export allocation`, reports from 2025 starting from the stored
//! allocation, and `check`'s `allocation_changed`.
//!
//! The figures are constructed (the Revenue Procedure's own examples could not be read from
//! here; see the README): an exchange buys 1 BTC on 2021-01-10 for 10,000, 2022-01-10 for
//! 30,000 and 2023-01-10 for 50,000, sends 1 BTC to a wallet in 2023 and sells 0.5 BTC in 2024.
//! Universal FIFO before 2025 used 0.5 of the 2021 lot, so the unused basis at 2025-01-01 is
//! 0.5 × 10,000 + 30,000 + 50,000 = 85,000 for 2.5 BTC, the exchange holding 1.5 and the
//! wallet 1. The exchange sells 1 BTC for 100,000 on 2025-02-01.

mod common;

use common::{Sandbox, fixture};
use serde_json::Value;

fn import(sb: &Sandbox, file: &str, account: &str) {
    sb.ok(&["import", &fixture(&format!("allocation/{file}")), "--account", account]);
}

/// The exchange and the wallet, priced.
fn two_wallets() -> Sandbox {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    for label in ["exchange", "wallet"] {
        sb.ok(&["account", "add", "wallet", "--label", label]);
    }
    import(&sb, "exchange.csv", "exchange");
    import(&sb, "wallet.csv", "wallet");
    sb.ok(&["prices", "import", &fixture("allocation/prices.csv")]);
    sb.ok(&["prices", "--offline"]);
    sb
}

/// `(wallet, asset, units, cost_basis)` of an allocation's `--json`.
fn wallets(doc: &Value) -> Vec<(String, String, String, String)> {
    doc["wallets"]
        .as_array()
        .expect("wallets")
        .iter()
        .map(|w| {
            let text = |k: &str| w[k].as_str().unwrap_or_default().to_owned();
            (text("wallet"), text("asset"), text("units"), text("cost_basis"))
        })
        .collect()
}

fn row(wallet: &str, units: &str, basis: &str) -> (String, String, String, String) {
    (wallet.into(), "BTC".into(), units.into(), basis.into())
}

/// A disposal as `(account, amount, acquired, cost_basis, basis_missing)`.
type Sale = (String, String, String, String, bool);

/// The 2025 report and its disposals.
fn sales_2025(sb: &Sandbox, extra: &[&str]) -> (Value, Vec<Sale>) {
    let mut args = vec!["--json", "report", "--year", "2025"];
    args.extend_from_slice(extra);
    let doc = sb.ok(&args).json();
    let rows = doc["disposals"]
        .as_array()
        .expect("disposals")
        .iter()
        .map(|d| {
            let text = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
            (text("account"), text("amount"), text("acquired"), text("cost_basis"), d["basis_missing"] == true)
        })
        .collect();
    (doc, rows)
}

#[test]
fn the_global_allocation_is_stored_once_and_an_old_account_added_later_changes_no_2025_result() {
    let sb = two_wallets();
    // Before storing, a report says it computed the global rule.
    let (doc, _) = sales_2025(&sb, &[]);
    assert_eq!(doc["allocation"], "no allocation stored; computed the global rule — run `cointally basis allocate`");
    assert_eq!(sb.ok(&["--json", "basis", "allocation"]).json(), Value::Null);

    // The global rule: oldest units of unused basis first, wallets by label; the exchange's
    // 1.5 BTC get 0.5 of the 2021 lot and the 2022 lot (5,000 + 30,000), the wallet the 2023 lot.
    let stored = sb.ok(&["--json", "basis", "allocate", "--as-of", "2025-01-01"]).json();
    assert_eq!(stored["rule"], "global");
    assert_eq!(wallets(&stored), [row("exchange", "1.5", "35000"), row("wallet", "1", "50000")]);
    assert_eq!(sb.ok(&["--json", "basis", "allocation"]).json(), stored);

    // Made once: a second allocation is refused without --replace, and nothing changes.
    let again = sb.run(&["basis", "allocate", "--as-of", "2025-01-01"]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("already stored") && again.stderr.contains("--replace"), "{}", again.stderr);
    // Only the switch's date is an --as-of.
    let wrong = sb.run(&["basis", "allocate", "--as-of", "2024-12-31"]);
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);

    // 2025: the exchange's FIFO sells 0.5 BTC of 2021 (5,000) and 0.5 of 2022 (15,000).
    let (doc, before) = sales_2025(&sb, &[]);
    assert_eq!(doc["allocation"], "stored global allocation (`cointally basis allocation` shows it)");
    assert_eq!(
        before,
        [
            ("exchange".into(), "0.5".into(), "2021-01-10".into(), "5000.00".into(), false),
            ("exchange".into(), "0.5".into(), "2022-01-10".into(), "15000.00".into(), false),
        ]
    );
    assert_eq!(sb.ok(&["check"]).code, 0, "a clean ledger with its allocation");

    // An account of 2021 found later: its sale in 2021 used the exchange's 2021 lot under
    // universal FIFO, so the history now gives 97,500 of unused basis, 47,500 of it the
    // exchange's. The stored allocation stands: 2025 is as before, and check says what differs.
    sb.ok(&["account", "add", "wallet", "--label", "attic"]);
    import(&sb, "attic.csv", "attic");
    sb.ok(&["prices", "--offline"]);
    let (_, after) = sales_2025(&sb, &[]);
    assert_eq!(after, before);
    let (_, scratch) = sales_2025(&sb, &["--from-scratch"]);
    assert_eq!(scratch, before);
    let recomputed = sb.ok(&["--json", "basis", "allocate", "--as-of", "2025-01-01", "--dry-run"]).json();
    assert_eq!(wallets(&recomputed), [row("exchange", "1.5", "47500"), row("wallet", "1", "50000")]);
    assert_eq!(sb.ok(&["--json", "basis", "allocation"]).json(), stored, "a dry run stores nothing");

    let check = sb.run(&["--json", "check"]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    let findings = check.json();
    let changed: Vec<&Value> = findings["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "allocation_changed")
        .collect();
    let items: Vec<(String, String, String)> = changed
        .iter()
        .flat_map(|f| {
            f["items"].as_array().into_iter().flatten().map(move |i| {
                (
                    f["account"].as_str().unwrap_or_default().to_owned(),
                    i["asset"].as_str().unwrap_or_default().to_owned(),
                    i["amount"].as_str().unwrap_or_default().to_owned(),
                )
            })
        })
        .collect();
    assert_eq!(
        items,
        [("(all wallets)".into(), "BTC".into(), "12500".into()), ("exchange".into(), "BTC".into(), "12500".into()),]
    );
    assert!(changed[0]["hint"].as_str().unwrap_or_default().contains("--replace"));

    // Replacing it on purpose takes the history as it is now: 2025 changes, and the snapshots
    // stored before do not hide it (the report equals one from the first event).
    sb.ok(&["basis", "allocate", "--as-of", "2025-01-01", "--replace"]);
    let (_, replaced) = sales_2025(&sb, &[]);
    assert_eq!(replaced[0].3, "17500.00", "0.5 of the attic's 2021 lot of 35,000: {replaced:?}");
    assert_eq!(sales_2025(&sb, &["--from-scratch"]).1, replaced);
    assert_eq!(sb.ok(&["check"]).code, 0);
}

#[test]
fn a_specific_allocation_is_checked_whole_then_used_and_exported() {
    let sb = two_wallets();
    // Rows that cannot be read: each named by line and column, nothing stored.
    let bad = sb.run(&[
        "basis",
        "allocate",
        "--as-of",
        "2025-01-01",
        "--specific",
        &fixture("allocation/specific-bad-rows.csv"),
    ]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("specific-bad-rows.csv:3 column wallet: no account labelled \"nobody\""),
        "{}",
        bad.stderr
    );
    assert!(bad.stderr.contains("specific-bad-rows.csv:4 column acquired"), "{}", bad.stderr);
    assert!(bad.stderr.contains("nothing was stored"), "{}", bad.stderr);
    // Rows that do not add up: units per wallet, basis per asset.
    let bad = sb.run(&[
        "basis",
        "allocate",
        "--as-of",
        "2025-01-01",
        "--specific",
        &fixture("allocation/specific-bad-totals.csv"),
    ]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("wallet exchange BTC: the rows give 1 units, the wallet held 1.5"), "{}", bad.stderr);
    assert!(bad.stderr.contains("adds up to 35000, the unused basis at 2025-01-01 is 85000"), "{}", bad.stderr);
    assert_eq!(sb.ok(&["--json", "basis", "allocation"]).json(), Value::Null);

    // The user's own: the wallet gets the cheap 2021 and 2022 halves, the exchange the 2023
    // lot and the other 2022 half. Its FIFO then sells 0.5 of 2022 (15,000) and 0.5 of 2023
    // (25,000) on 2025-02-01, not the 5,000 + 15,000 of the global rule.
    let stored = sb
        .ok(&[
            "--json",
            "basis",
            "allocate",
            "--as-of",
            "2025-01-01",
            "--specific",
            &fixture("allocation/specific.csv"),
        ])
        .json();
    assert_eq!(stored["rule"], "specific");
    assert!(stored["source"].as_str().unwrap_or_default().starts_with("specific.csv sha256 "), "{stored}");
    assert_eq!(wallets(&stored), [row("exchange", "1.5", "65000"), row("wallet", "1", "20000")]);
    let (_, sales) = sales_2025(&sb, &[]);
    assert_eq!(
        sales,
        [
            ("exchange".into(), "0.5".into(), "2022-01-10".into(), "15000.00".into(), false),
            ("exchange".into(), "0.5".into(), "2023-01-10".into(), "25000.00".into(), false),
        ]
    );
    // Same ledger, same record: the golden file, byte for byte, twice.
    let out = sb.path("allocation.csv");
    let out = out.to_str().expect("utf-8 path");
    sb.ok(&["export", "allocation", "-o", out]);
    let first = std::fs::read(out).expect("record written");
    assert_eq!(String::from_utf8_lossy(&first), fixture_text("allocation/record-specific.csv"));
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(format!("{out}.manifest.json")).expect("manifest")).expect("json");
    assert_eq!(manifest["rule"], "specific");
    assert_eq!(manifest["output"]["rows"], 4);
    assert_eq!(
        manifest["totals"][0],
        serde_json::json!({"wallet": "exchange", "asset": "BTC", "units": "1.5", "cost_basis": "65000"})
    );
    let manifest_bytes = std::fs::read(format!("{out}.manifest.json")).expect("manifest");
    sb.ok(&["export", "allocation", "-o", out]);
    assert_eq!(std::fs::read(out).expect("record"), first);
    assert_eq!(std::fs::read(format!("{out}.manifest.json")).expect("manifest"), manifest_bytes);
}

fn fixture_text(path: &str) -> String {
    std::fs::read_to_string(fixture(path)).expect("fixture")
}

#[test]
fn units_in_flight_at_the_switch_belong_to_the_receiving_wallet() {
    // Constructed: the exchange holds 1 BTC of 2021 (10,000) and 1 of 2023 (50,000) and sends
    // 1 BTC at 23:00 UTC on 2024-12-31; the wallet receives it at 01:00 on 2025-01-01 and sells
    // it on 2025-03-01. At the switch the exchange holds 1 and the wallet 1 in flight: the global
    // rule gives the exchange the 2021 lot and the wallet the 2023 lot, so the wallet's sale has
    // a basis of 50,000 (not a missing basis, nor the exchange's lots).
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    for label in ["exchange", "wallet"] {
        sb.ok(&["account", "add", "wallet", "--label", label]);
    }
    import(&sb, "inflight-exchange.csv", "exchange");
    import(&sb, "inflight-wallet.csv", "wallet");
    sb.ok(&["prices", "import", &fixture("allocation/prices.csv")]);
    sb.ok(&["prices", "--offline"]);
    let planned = sb.ok(&["--json", "basis", "allocate", "--as-of", "2025-01-01", "--dry-run"]).json();
    assert_eq!(wallets(&planned), [row("exchange", "1", "10000"), row("wallet", "1", "50000")]);
    // From the first event, and from the snapshot at the end of 2024 (the transfer in flight is
    // part of the state it keeps).
    sb.ok(&["report", "--year", "2024"]);
    let (_, from_snapshot) = sales_2025(&sb, &[]);
    let expected = [("wallet".to_owned(), "1".to_owned(), "2023-01-10".to_owned(), "50000.00".to_owned(), false)];
    assert_eq!(from_snapshot, expected);
    assert_eq!(sales_2025(&sb, &["--from-scratch"]).1, expected);
    // Stored, the same.
    sb.ok(&["basis", "allocate", "--as-of", "2025-01-01"]);
    assert_eq!(sales_2025(&sb, &[]).1, expected);
}
