//! Rebates tied to their purchases (`cointally rebates link`) under `settings rebates basis`:
//! the rebate's value comes off the basis of what the purchase bought (Rev. Rul. 76-96: "an
//! adjustment in purchase price", quoted in `src/tax/rebates.rs`). Small generic-CSV ledgers,
//! every figure computed by hand.

mod common;

use common::{Sandbox, generic_ledger};

/// 1 ETH bought for $2,000 (March 2024); a fee rebate of 0.01 ETH ($20) the next day; 1 ETH
/// sold for $3,000 in June 2025 (FIFO: the purchased unit, long term).
fn rebated_purchase() -> Sandbox {
    generic_ledger(
        &[(
            "other",
            "x",
            "2024-03-01 10:00:00,trade,2000,USD,1,ETH,,,,,,,,,buy\n\
             2024-03-02 10:00:00,rebate,,,0.01,ETH,,,,,,,,,fee rebate on the buy\n\
             2025-06-01 10:00:00,trade,1,ETH,3000,USD,,,,,,,,,sell\n",
        )],
        "2024-03-01,ETH,2000\n2024-03-02,ETH,2000\n2025-06-01,ETH,3000",
    )
}

/// The id of the `nth` event (from 0) in time order.
fn event_id(sb: &Sandbox, nth: usize) -> String {
    let events = sb.ok(&["--json", "events"]).json();
    events[nth]["id"].to_string()
}

fn gains(sb: &Sandbox, year: &str) -> (String, String) {
    let r = sb.ok(&["--json", "report", "--year", year]).json();
    let t = &r["totals"];
    (t["cost_basis"].as_str().unwrap().to_owned(), t["long_term_gain"].as_str().unwrap().to_owned())
}

/// The cost basis of each lot held at the end of `year` (`export holdings`), oldest first.
fn held(sb: &Sandbox, year: &str) -> Vec<String> {
    sb.ok(&["export", "holdings", "--year", year, "-o", "holdings.csv"]);
    let text = std::fs::read_to_string(sb.path("holdings.csv")).unwrap();
    text.lines().skip(1).map(|l| l.split(',').nth(3).unwrap().to_owned()).collect()
}

#[test]
fn a_linked_rebate_comes_off_the_basis_of_its_purchase() {
    let sb = rebated_purchase();
    let (buy, rebate) = (event_id(&sb, 0), event_id(&sb, 1));
    // Income (the default): $20 of 2024 income; the sold unit keeps its $2,000.
    assert_eq!(gains(&sb, "2025"), ("2000.00".to_owned(), "1000.00".to_owned()));
    // A price reduction, untied: the rebate's units come in at basis zero, the purchase keeps
    // its basis. The 2025 report stores a snapshot at the end of 2024.
    sb.ok(&["settings", "rebates", "basis"]);
    assert_eq!(gains(&sb, "2025"), ("2000.00".to_owned(), "1000.00".to_owned()));
    assert_eq!(held(&sb, "2024"), ["2000.00", "0.00"]);
    // Tied to the buy: $20 off the purchased unit's basis, and the rebate's 0.01 ETH carries
    // it. The snapshot at the end of 2024 no longer fits and is not used.
    sb.ok(&["rebates", "link", &rebate, &buy]);
    assert_eq!(gains(&sb, "2025"), ("1980.00".to_owned(), "1020.00".to_owned()));
    assert_eq!(held(&sb, "2024"), ["1980.00", "20.00"]);
    let check = sb.run(&["check"]);
    assert_eq!(check.code, 0, "the basis still adds up: {}{}", check.stdout, check.stderr);
    let list = sb.ok(&["--json", "rebates"]).json();
    assert_eq!(list["treatment"], "basis");
    assert_eq!(list["rebates"][0]["purchase"].to_string(), buy);
    assert_eq!(list["rebates"][0]["received"][0], "0.01 ETH");
    // Untied again: back to basis zero on the rebate's units.
    sb.ok(&["rebates", "unlink", &rebate]);
    assert_eq!(held(&sb, "2024"), ["2000.00", "0.00"]);
    // Under `income` a link changes nothing.
    sb.ok(&["rebates", "link", &rebate, &buy]);
    sb.ok(&["settings", "rebates", "income"]);
    assert_eq!(held(&sb, "2024"), ["2000.00", "20.00"]);
    assert_eq!(sb.ok(&["--json", "report", "--year", "2024"]).json()["totals"]["income"], "20.00");
}

/// Cash back in dollars tied to a purchase lowers its basis; the cash makes no lot. A reduction
/// larger than the basis still held stops at zero, and the rebate's units carry only what
/// came off (the basis of everything held adds up to what was paid).
#[test]
fn cash_rebates_reduce_and_a_reduction_stops_at_the_basis_held() {
    let sb = generic_ledger(
        &[(
            "other",
            "x",
            "2024-03-01 10:00:00,trade,2000,USD,1,ETH,,,,,,,,,buy\n\
             2024-03-01 11:00:00,trade,0.5,ETH,1000,USD,,,,,,,,,sell half\n\
             2024-03-02 10:00:00,rebate,,,50,USD,,,,,,,,,cash back\n\
             2024-04-01 10:00:00,trade,4,USD,0.002,ETH,,,,,,,,,small buy\n\
             2024-04-02 10:00:00,rebate,,,0.005,ETH,,,,,,,,,big rebate\n",
        )],
        "2024-03-01,ETH,2000\n2024-03-02,ETH,2000\n2024-04-01,ETH,2000\n2024-04-02,ETH,2000",
    );
    sb.ok(&["settings", "rebates", "basis"]);
    sb.ok(&["rebates", "link", &event_id(&sb, 2), &event_id(&sb, 0)]);
    sb.ok(&["rebates", "link", &event_id(&sb, 4), &event_id(&sb, 3)]);
    // The half still held: 1,000 − 50. The small buy: $4, less at most $4 of the $10 rebate;
    // the rebate's 0.005 ETH carries the $4 that came off.
    assert_eq!(held(&sb, "2024"), ["950.00", "0.00", "4.00"]);
    let r = sb.ok(&["--json", "report", "--year", "2024"]).json();
    assert_eq!(r["totals"]["income"], "0.00");
}

#[test]
fn only_a_rebate_after_a_purchase_that_bought_crypto_can_be_tied() {
    let sb = rebated_purchase();
    let (buy, rebate, sell) = (event_id(&sb, 0), event_id(&sb, 1), event_id(&sb, 2));
    let not_a_rebate = sb.run(&["rebates", "link", &buy, &buy]);
    assert_eq!(not_a_rebate.code, 2, "{}", not_a_rebate.stderr);
    assert!(not_a_rebate.stderr.contains("not a rebate"), "{}", not_a_rebate.stderr);
    let not_a_purchase = sb.run(&["rebates", "link", &rebate, &sell]);
    assert_eq!(not_a_purchase.code, 2, "{}", not_a_purchase.stderr);
    assert!(not_a_purchase.stderr.contains("bought no crypto"), "{}", not_a_purchase.stderr);
    let missing = sb.run(&["rebates", "link", &rebate, "9999"]);
    assert!(missing.code == 2 && missing.stderr.contains("no event 9999"), "{}", missing.stderr);
    let list = sb.ok(&["--json", "rebates"]).json();
    assert!(list["rebates"][0]["purchase"].is_null(), "nothing was tied: {list}");
}

#[test]
fn a_rebate_before_its_purchase_is_refused() {
    let sb = generic_ledger(
        &[(
            "other",
            "x",
            "2024-03-01 10:00:00,rebate,,,0.01,ETH,,,,,,,,,early\n\
             2024-03-02 10:00:00,trade,2000,USD,1,ETH,,,,,,,,,buy\n",
        )],
        "2024-03-01,ETH,2000\n2024-03-02,ETH,2000",
    );
    let refused = sb.run(&["rebates", "link", &event_id(&sb, 0), &event_id(&sb, 1)]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("came before purchase"), "{}", refused.stderr);
}
