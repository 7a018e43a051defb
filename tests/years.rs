//! `report --years`, `--all-years` and `--from-scratch` end to end: one pass gives what each
//! year alone gives, a later report starts from the year-end snapshot, and an old event
//! imported afterwards invalidates the snapshots after it.

mod common;

use common::{Sandbox, fixture};
use serde_json::Value;

/// The ledger of `tests/tax.rs`: events from 2022 to 2024 in an exchange and a wallet.
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

#[test]
fn all_years_in_one_pass_equal_each_year_alone() {
    let sb = two_accounts();
    let range = sb.ok(&["--json", "report", "--years", "2022-2024"]).json();
    let docs = range.as_array().expect("an array of years");
    assert_eq!(docs.len(), 3);
    let each: Vec<Value> = (2022..=2024)
        .map(|y| sb.ok(&["--json", "report", "--year", &y.to_string(), "--from-scratch"]).json())
        .collect();
    assert_eq!(docs, &each);
    assert_eq!(docs[2]["totals"]["proceeds"], "32950.00");
    assert_eq!(sb.ok(&["--json", "report", "--all-years"]).json(), range);
    let text = sb.ok(&["report", "--years", "2023-2024"]).stdout;
    assert!(text.contains("Tax year 2023") && text.contains("Tax year 2024"), "{text}");
    // Not a range.
    let bad = sb.run(&["report", "--years", "2024-2022"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("FIRST-LAST"), "{}", bad.stderr);
}

#[test]
fn an_old_event_invalidates_the_snapshots_after_it() {
    let sb = two_accounts();
    sb.ok(&["report", "--all-years"]);
    // Nothing changed: 2024 starts from the end of 2023.
    let again = sb.ok(&["--json", "report", "--year", "2024"]);
    assert!(again.stderr.contains("snapshot at the end of 2023"), "{}", again.stderr);
    let before = again.json();
    // A buy of 2021 found late: FIFO now sells its cheaper lot first in 2024.
    sb.ok(&["import", &fixture("years/late.csv"), "--account", "exchange"]);
    sb.ok(&["prices", "--offline"]);
    let after = sb.ok(&["--json", "report", "--year", "2024"]);
    assert!(!after.stderr.contains("end of 2023"), "the 2023 snapshot was dropped: {}", after.stderr);
    let after = after.json();
    assert_ne!(after["totals"], before["totals"]);
    assert_ne!(after["inputs_hash"], before["inputs_hash"]);
    assert_eq!(after, sb.ok(&["--json", "report", "--year", "2024", "--from-scratch"]).json());
}
