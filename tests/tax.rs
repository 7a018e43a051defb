//! `report`, `transfers` and `check` end to end, on small ledgers built from fixture files and
//! valued from a price file (no network), with every figure computed by hand.

mod common;

use common::{Sandbox, fixture};
use serde_json::Value;

/// An exchange and a wallet: bought 1 BTC in 2022 (fee 10), moved it to the wallet in 2023
/// (0.9995 arrived: the same hash, written differently), half came back in 2024 (matched by
/// amount and time) and was sold; ETH bought, staked, half sold.
fn two_accounts() -> Sandbox {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    sb.ok(&["account", "add", "wallet", "--label", "exchange"]);
    sb.ok(&["account", "add", "wallet", "--label", "wallet"]);
    sb.ok(&["import", &fixture("tax/exchange.csv"), "--account", "exchange"]);
    sb.ok(&["import", &fixture("tax/wallet.csv"), "--account", "wallet"]);
    sb.ok(&["prices", "import", &fixture("tax/prices.csv")]);
    sb.ok(&["prices", "--offline"]);
    sb
}

fn figures(v: &Value) -> [&str; 5] {
    ["proceeds", "cost_basis", "short_term_gain", "long_term_gain", "income"].map(|k| v[k].as_str().unwrap())
}

#[test]
fn a_year_report_by_hand() {
    let sb = two_accounts();
    let run = sb.ok(&["--json", "report", "--year", "2024"]);
    let report = run.json();
    assert_eq!(report["year"], 2024);
    assert_eq!(report["jurisdiction"], "US");
    assert_eq!((report["method"].as_str(), report["lots"].as_str()), (Some("fifo"), Some("universal")));
    assert_eq!(report["currency"], "USD");
    // BTC: 0.4995 of the lot bought for 40,010 (basis 19,984.995 → 19,985.00), sold for
    // 29,970 less a 20 fee; long-term (2022-01-10 → 2024-07-01). ETH: 1 of 2 bought for 6,000
    // sold for 3,000 (FIFO: no gain); 0.1 ETH staking at 3,400 = 340 income.
    assert_eq!(figures(&report["totals"]), ["32950.00", "22985.00", "0.00", "9965.00", "340.00"]);
    let assets: Vec<(&str, [&str; 5])> =
        report["assets"].as_array().unwrap().iter().map(|a| (a["asset"].as_str().unwrap(), figures(a))).collect();
    assert_eq!(
        assets,
        [
            ("BTC", ["29950.00", "19985.00", "0.00", "9965.00", "0.00"]),
            ("ETH", ["3000.00", "3000.00", "0.00", "0.00", "340.00"]),
        ]
    );
    let d = &report["disposals"][0];
    assert_eq!(
        [&d["asset"], &d["amount"], &d["acquired"], &d["disposed"], &d["proceeds"], &d["cost_basis"], &d["gain"]],
        ["BTC", "0.4995", "2022-01-10", "2024-07-01", "29950.00", "19985.00", "9965.00"]
    );
    assert_eq!((d["term"].as_str(), d["account"].as_str()), (Some("long"), Some("exchange")));
    // The same ledger and options give the same bytes.
    assert_eq!(sb.ok(&["--json", "report", "--year", "2024"]).stdout, run.stdout);

    // HIFO takes the staked 0.1 ETH (3,400 a unit) before the bought ETH (3,000).
    let hifo = sb.ok(&["--json", "report", "--year", "2024", "--method", "hifo"]).json();
    assert_eq!(figures(&hifo["assets"][1]), ["3000.00", "3040.00", "-40.00", "0.00", "340.00"]);

    // 2023: the transfer's network fee, 0.0005 BTC at 27,000, disposed of (basis 20.005).
    let y2023 = sb.ok(&["--json", "report", "--year", "2023"]).json();
    assert_eq!(figures(&y2023["totals"]), ["13.50", "20.01", "0.00", "-6.51", "0.00"]);
    assert_eq!(y2023["disposals"][0]["kind"], "transfer_fee");
    // The alternative: the fee's basis rides on, nothing is disposed of in 2023.
    let carry = sb.ok(&["--json", "report", "--year", "2023", "--transfer-fees", "carry"]).json();
    assert_eq!(carry["disposals"].as_array().unwrap().len(), 0);

    let text = sb.ok(&["report", "--year", "2024"]).stdout;
    assert!(text.contains("Total") && text.contains("32950.00") && text.contains("staking"), "{text}");
    // The manifest: version, options and the hash of the inputs, in both forms.
    let hash = report["inputs_hash"].as_str().unwrap();
    assert_eq!(hash.len(), 64);
    assert_eq!(report["cointally"], env!("CARGO_PKG_VERSION"));
    assert!(text.contains(&format!("inputs sha256 {hash}")), "{text}");
}

#[test]
fn transfers_are_matched_and_the_check_is_clean() {
    let sb = two_accounts();
    let transfers = sb.ok(&["--json", "transfers"]).json();
    let methods: Vec<&str> =
        transfers["matched"].as_array().unwrap().iter().map(|m| m["method"].as_str().unwrap()).collect();
    assert_eq!(methods, ["tx_hash", "amount_time"]);
    assert_eq!(transfers["matched"][0]["withdrawal"]["account"], "exchange");
    assert_eq!(transfers["matched"][0]["deposit"]["amount"], "0.9995");
    assert_eq!(transfers["unmatched_withdrawals"], serde_json::json!([]));
    let check = sb.run(&["--json", "check"]);
    assert_eq!(check.code, 0, "{}\n{}", check.stdout, check.stderr);
    assert_eq!(check.json(), serde_json::json!({"clean": true, "findings": []}));
}

#[test]
fn check_groups_findings_and_the_users_links_resolve_them() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    for label in ["a", "b", "c"] {
        sb.ok(&["account", "add", "wallet", "--label", label]);
        sb.ok(&["import", &fixture(&format!("tax/messy-{label}.csv")), "--account", label]);
    }
    sb.ok(&["prices", "import", &fixture("tax/messy-prices.csv")]);
    assert_eq!(sb.run(&["prices", "--offline"]).code, 1, "ZZZ has no price");

    let check = sb.run(&["--json", "check"]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    let json = check.json();
    assert_eq!(json["clean"], false);
    let kinds: Vec<(String, String, u64)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (f["account"].as_str().unwrap().into(), f["kind"].as_str().unwrap().into(), f["count"].as_u64().unwrap())
        })
        .collect();
    let want = [
        ("b", "negative_balance", 1),
        ("a", "ambiguous_transfer", 1),
        ("a", "unmatched_withdrawal", 1),
        ("b", "unmatched_deposit", 1),
        ("c", "unmatched_deposit", 1),
        ("a", "missing_price", 1),
    ];
    assert_eq!(kinds, want.map(|(a, k, n)| (a.to_owned(), k.to_owned(), n)));
    // One line per kind and account, the items only on request.
    let text = sb.run(&["check"]);
    assert_eq!(text.stdout.lines().filter(|l| l.contains("unmatched_deposit")).count(), 3, "{}", text.stdout);
    assert!(!text.stdout.contains("no withdrawal matches"));
    assert!(sb.run(&["check", "--details"]).stdout.contains("no withdrawal matches"));

    // Reports refuse while a leg has no value, and say what to do.
    let refused = sb.run(&["report", "--year", "2024"]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("no value in USD") && refused.stderr.contains("--allow-missing-prices"),
        "{}",
        refused.stderr
    );
    let allowed = sb.ok(&["--json", "report", "--year", "2024", "--allow-missing-prices"]).json();
    // b sold 1 BTC holding 0.5: the other half has no basis and is marked.
    let rows = allowed["disposals"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["basis_missing"] == true && r["amount"] == "0.5"), "{rows:?}");

    // The user picks b's deposit for a's withdrawal.
    let transfers = sb.ok(&["--json", "transfers"]).json();
    let ambiguous = &transfers["ambiguous"][0];
    let withdrawal = ambiguous["event"]["event"].as_i64().unwrap();
    let to_b = ambiguous["candidates"].as_array().unwrap().iter().find(|c| c["account"] == "b").unwrap();
    let deposit = to_b["event"].as_i64().unwrap();
    sb.ok(&["transfers", "link", &deposit.to_string(), &withdrawal.to_string()]);
    let after = sb.run(&["--json", "check"]).json();
    let kinds: Vec<&str> = after["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert!(!kinds.contains(&"ambiguous_transfer"), "{kinds:?}");
    let transfers = sb.ok(&["--json", "transfers"]).json();
    assert_eq!(transfers["matched"][0]["method"], "manual");
    // Unlinked, the pair is not matched again automatically, nor listed as ambiguous.
    sb.ok(&["transfers", "unlink", &withdrawal.to_string()]);
    let transfers = sb.ok(&["--json", "transfers"]).json();
    assert_eq!(transfers["matched"], serde_json::json!([]));
    assert_eq!(transfers["ambiguous"], serde_json::json!([]));

    // a's other withdrawal went to a friend: the user says it was a gift, and check agrees.
    let gone = transfers["unmatched_withdrawals"].as_array().unwrap().iter().find(|w| w["amount"] == "0.2").unwrap();
    let gone = gone["event"].as_i64().unwrap().to_string();
    let kinds = |sb: &Sandbox| -> Vec<(String, String)> {
        let json = sb.run(&["--json", "check"]).json();
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["account"].as_str().unwrap().to_owned(), f["kind"].as_str().unwrap().to_owned()))
            .collect()
    };
    let a_unmatched = ("a".to_owned(), "unmatched_withdrawal".to_owned());
    assert!(kinds(&sb).contains(&a_unmatched));
    let wrong = sb.run(&["reclassify", &gone, "staking"]);
    assert_eq!(wrong.code, 2);
    assert!(wrong.stderr.contains("only sends"), "{}", wrong.stderr);
    sb.ok(&["reclassify", &gone, "gift"]);
    let gifts = sb.ok(&["--json", "events", "--kind", "gift"]).json();
    assert_eq!(gifts.as_array().unwrap().len(), 1);
    // Only a's two withdrawals: the gift is not a transfer candidate any more.
    assert!(!kinds(&sb).iter().any(|k| *k == a_unmatched || k.1 == "ambiguous_transfer"));
    sb.ok(&["reclassify", &gone, "withdrawal"]);
    assert!(kinds(&sb).contains(&a_unmatched));

    let bad = sb.run(&["transfers", "link", &withdrawal.to_string(), "999999"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("no event 999999"), "{}", bad.stderr);
}
