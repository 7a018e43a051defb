//! UK rules end to end: a GBP ledger with `init --jurisdiction uk`, every figure of its
//! 2024/25 report computed by hand, the `hmrc` and `sa108` exports against golden files
//! (`UPDATE_GOLDEN=1 cargo test --test uk` rewrites them), `settings`, `--jurisdiction`, and
//! `check` on a UK ledger.
//!
//! The ledger (fixtures/uk): 1 BTC bought 10 May 2023 for £20,000 + £10 fee; 0.5 BTC moved to
//! the wallet on 1 June 2024, 0.4995 arriving (0.0005 lost on the way, at £54,000 a BTC:
//! £27 of proceeds, pooled cost £10.005); 0.25 BTC sold 1 July for £12,000 less £10 fee (pool:
//! £5,002.50); 0.2 sold 15 November for £9,000; 0.2 bought 20 November for £8,000 and 0.1 sold
//! that day for £4,100 — the same day rule takes 0.1 of the purchase first (£4,000), the
//! 30-day rule gives the other 0.1 to 15 November (£4,000), and its last 0.1 comes from the
//! pool (£2,001). ETH: 2 bought for £5,000, 0.1 staked (£250 income, pooled at £250), 1 sold
//! 4 April 2025 for £3,000: 0.5 matched with the 0.5 bought 10 April 2025 (£1,400, after the
//! year's end), 0.5 from the pool (£1,250).

mod common;

use common::Sandbox;

fn uk_ledger() -> Sandbox {
    common::country_ledger("uk", "GBP")
}

#[test]
fn uk_report_2024_by_hand() {
    let sb = uk_ledger();
    let run = sb.ok(&["--json", "report", "--year", "2024"]);
    let r = run.json();
    assert_eq!((r["year"].as_i64(), r["jurisdiction"].as_str()), (Some(2024), Some("UK")));
    assert_eq!(r["period"], serde_json::json!({"tax_year": "2024/25", "from": "2024-04-06", "to": "2025-04-05"}));
    let t = &r["totals"];
    let totals =
        ["disposals", "proceeds", "allowable_costs", "gains", "losses", "net_gain", "income"].map(|k| t[k].to_string());
    assert_eq!(totals, ["5", "\"28127.00\"", "\"17673.51\"", "\"10453.50\"", "\"0.00\"", "\"10453.50\"", "\"250.00\""]);
    assert_eq!(
        (r["annual_exempt_amount"].as_str(), r["gain_after_exempt_amount"].as_str()),
        (Some("3000.00"), Some("7453.50"))
    );
    assert_eq!(r["must_report"], true);
    let split = &r["rate_change_split"];
    assert_eq!(split["before_30_october_2024"]["gains"], "7004.50");
    assert_eq!(split["from_30_october_2024"]["gains"], "3449.00");
    let rows: Vec<(String, String, String, String)> = r["disposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap_or("-").to_owned();
            (s("disposed"), s("rule"), s("cost_basis"), s("acquired"))
        })
        .collect();
    let want = [
        ("2024-06-01", "section_104", "10.01", "-"),
        ("2024-07-01", "section_104", "5012.50", "-"),
        ("2024-11-15", "bed_and_breakfast", "4000.00", "2024-11-20"),
        ("2024-11-15", "section_104", "2001.00", "-"),
        ("2024-11-20", "same_day", "4000.00", "2024-11-20"),
        ("2025-04-04", "bed_and_breakfast", "1400.00", "2025-04-10"),
        ("2025-04-04", "section_104", "1250.00", "-"),
    ]
    .map(|(a, b, c, d)| (a.to_owned(), b.to_owned(), c.to_owned(), d.to_owned()));
    assert_eq!(rows, want);
    assert_eq!(r["disposals"][3]["pool_after"], serde_json::json!({"units": "0.6495", "cost": "12996.50"}));
    assert_eq!(
        r["pools"],
        serde_json::json!([{"asset": "BTC", "units": "0.6495", "cost": "12996.50"}, {"asset": "ETH", "units": "1.6", "cost": "4000.00"}])
    );
    assert_eq!(sb.ok(&["--json", "report", "--year", "2024"]).stdout, run.stdout);

    let text = sb.ok(&["report", "--year", "2024"]).stdout;
    for needle in [
        "Tax year 2024/25 (6 April 2024 to 5 April 2025)",
        "Number of disposals",
        "10453.50",
        "7453.50",
        "BTC    0.6495     12996.50",
    ] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
    // 2023/24: nothing disposed of; the pool holds the BTC bought in May 2023.
    let y2023 = sb.ok(&["--json", "report", "--year", "2023"]).json();
    assert_eq!(y2023["totals"]["disposals"], 0);
    assert_eq!(y2023["pools"], serde_json::json!([{"asset": "BTC", "units": "1", "cost": "20010.00"}]));
    assert_eq!(y2023["must_report"], false);
}

#[test]
fn uk_exports_match_their_golden_files_and_are_byte_identical_on_rerun() {
    let sb = uk_ledger();
    for format in ["hmrc", "sa108"] {
        let m = common::golden_export(&sb, "uk", format, "2024");
        assert_eq!((m["jurisdiction"].as_str(), m["tax_year"].as_str()), (Some("UK"), Some("2024/25")));
    }
    // The events each year read: up to 30 days past its end (5 May), in one pass over both.
    let years = sb.ok(&["--json", "export", "hmrc", "--years", "2023-2024", "-o", "range"]).json();
    let read: Vec<u64> = years.as_array().unwrap().iter().map(|m| m["inputs"]["events"].as_u64().unwrap()).collect();
    assert_eq!(read, [2, 11], "{years}");
    let list = sb.ok(&["export", "--list"]).stdout;
    assert!(list.contains("hmrc") && list.contains("sa108"), "{list}");
    // A US form from a UK ledger is made, with a note saying whose rules it follows.
    let us_form = sb.path("form8949-2024.csv");
    let run = sb.ok(&["export", "form8949", "--year", "2024", "-o", us_form.to_str().unwrap()]);
    assert!(run.stderr.contains("follows UK rules") && run.stderr.contains("export hmrc"), "{}", run.stderr);
}

#[test]
fn settings_set_the_jurisdiction_and_report_overrides_it_for_one_run() {
    let sb = uk_ledger();
    assert_eq!(sb.ok(&["settings", "jurisdiction"]).stdout.trim(), "uk");
    let all = sb.ok(&["--json", "settings"]).json();
    assert_eq!((all["jurisdiction"].as_str(), all["reporting_currency"].as_str()), (Some("uk"), Some("GBP")));
    // The US rules for one run, on the same ledger: calendar 2024, lots.
    let us = sb.ok(&["--json", "report", "--year", "2024", "--jurisdiction", "us"]).json();
    assert_eq!((us["jurisdiction"].as_str(), us["method"].as_str()), (Some("US"), Some("fifo")));
    assert_eq!(sb.ok(&["settings", "jurisdiction"]).stdout.trim(), "uk");
    sb.ok(&["settings", "jurisdiction", "us"]);
    assert_eq!(sb.ok(&["--json", "report", "--year", "2024"]).json()["jurisdiction"], "US");
    let bad = sb.run(&["settings", "jurisdiction", "fr"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("unknown jurisdiction \"fr\""), "{}", bad.stderr);
    let unknown = sb.run(&["settings", "colour", "blue"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("no setting \"colour\""), "{}", unknown.stderr);
    assert_eq!(sb.ok(&["settings", "jurisdiction"]).stdout.trim(), "us");
}

#[test]
fn uk_report_refuses_a_ledger_not_in_pounds_and_a_new_ledger_is_us() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    assert_eq!(sb.ok(&["settings", "jurisdiction"]).stdout.trim(), "us");
    let run = sb.run(&["report", "--year", "2024", "--jurisdiction", "uk"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("pounds sterling") && run.stderr.contains("cointally currency GBP"), "{}", run.stderr);
}

#[test]
fn check_works_the_same_on_a_uk_ledger() {
    let sb = uk_ledger();
    let check = sb.run(&["--json", "check"]);
    assert_eq!(check.code, 0, "{}\n{}", check.stdout, check.stderr);
    assert_eq!(check.json(), serde_json::json!({"clean": true, "findings": []}));
}
