//! Australian rules end to end: an AUD ledger with `init --jurisdiction au`, every figure of
//! its 2024-25 report (`--year 2025`) computed by hand, the `ato` and `ato-summary` exports
//! against golden files (`UPDATE_GOLDEN=1 cargo test --test au` rewrites them), `settings`,
//! `--jurisdiction au`, `--method hifo`, `check`, and a ledger not in AUD refused.
//!
//! The ledger (fixtures/au), times in UTC, dates in Sydney: 1 BTC bought 1 March 2023 for
//! $30,000 + $30 fee; 2 ETH bought 1 May 2024 for $10,000; 0.1 ETH sold at 15:00 UTC on 30 June
//! 2024 — 1 July in Sydney, so in 2024-25 — for $600 (cost base $500, gain $100, no discount);
//! 0.5 BTC moved to the wallet on 1 August, 0.4995 arriving (0.0005 BTC at $90,000 = $45 of
//! proceeds, cost base $15.015, discount gain $29.985); 0.05 ETH staked 1 September ($200
//! income, a $200 parcel); 1 ETH swapped 1 October for 0.05 BTC worth $4,800 (cost base $5,000,
//! loss $200); 0.3 BTC sold 1 March 2025 for $45,000 (cost base $9,009, discount gain $35,991);
//! 0.01 BTC given away 1 May at $150,000 a BTC (proceeds $1,500, cost base $300.30, discount
//! gain $1,199.70); 0.05 BTC sold at 14:30 UTC on 30 June 2025 — 1 July in Sydney, 2025-26.
//!
//! Item 18: 18H = $37,320.685; the $200 loss takes the $100 other gain, then $100 of the
//! discount gains ($37,220.685 → $37,120.685); the discount is half of that, $18,560.3425,
//! and 18A is the same.

mod common;

use common::Sandbox;
use serde_json::json;

fn au_ledger() -> Sandbox {
    common::country_ledger("au", "AUD")
}

#[test]
fn au_report_2025_is_2024_25_by_hand() {
    let sb = au_ledger();
    let run = sb.ok(&["--json", "report", "--year", "2025"]);
    let r = run.json();
    assert_eq!((r["year"].as_i64(), r["jurisdiction"].as_str()), (Some(2025), Some("AU")));
    assert_eq!(r["period"], json!({"tax_year": "2024-25", "from": "2024-07-01", "to": "2025-06-30"}));
    assert_eq!((r["method"].as_str(), r["currency"].as_str()), (Some("fifo"), Some("AUD")));
    assert_eq!(
        r["totals"],
        json!({"disposals": 5, "proceeds": "51945.00", "cost_base": "14824.32", "gains": "37320.69",
               "losses": "200.00", "net_gain": "37120.69", "income": "200.00"})
    );
    assert_eq!(r["labels"], json!({"18H": "37320.69", "18A": "18560.34", "18V": "0.00"}));
    let n = &r["net_capital_gain"];
    assert_eq!((n["discount_gains"].as_str(), n["other_gains"].as_str()), (Some("37220.69"), Some("100.00")));
    assert_eq!(
        (n["current_year_losses_applied"].as_str(), n["cgt_discount"].as_str()),
        (Some("200.00"), Some("18560.34"))
    );
    let rows: Vec<String> = r["disposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap_or("-").to_owned();
            format!(
                "{} {} {} {} {} {} {}",
                s("disposed"),
                s("asset"),
                s("acquired"),
                s("proceeds"),
                s("cost_base"),
                s("gain"),
                d["discountable"]
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            "2024-07-01 ETH 2024-05-01 600.00 500.00 100.00 false",
            "2024-08-01 BTC 2023-03-01 45.00 15.02 29.99 true",
            "2024-10-01 ETH 2024-05-01 4800.00 5000.00 -200.00 false",
            "2025-03-01 BTC 2023-03-01 45000.00 9009.00 35991.00 true",
            "2025-05-01 BTC 2023-03-01 1500.00 300.30 1199.70 true",
        ]
    );
    assert_eq!(r["income"][0]["value"], "200.00");
    let parcels: Vec<String> = r["parcels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {} {} {}",
                p["asset"].as_str().unwrap(),
                p["amount"].as_str().unwrap(),
                p["acquired"].as_str().unwrap(),
                p["cost_base"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        parcels,
        [
            "BTC 0.6895 2023-03-01 20705.69",
            "BTC 0.05 2024-10-01 4800.00",
            "ETH 0.9 2024-05-01 4500.00",
            "ETH 0.05 2024-09-01 200.00"
        ]
    );
    assert_eq!(sb.ok(&["--json", "report", "--year", "2025"]).stdout, run.stdout, "a re-run is byte-identical");

    let text = sb.ok(&["report", "--year", "2025"]).stdout;
    for needle in [
        "Financial year 2024-25 (1 July 2024 to 30 June 2025",
        "--year 2025 names the year it ends in",
        "first in, first out (FIFO)",
        "18H Total current year capital gains                37320.69",
        "18A Net capital gain                                18560.34",
        "staking  200.00",
    ] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
    // 2023-24: the sale at 15:00 UTC on 30 June 2024 is 1 July in Sydney, not in this year.
    let y2024 = sb.ok(&["--json", "report", "--year", "2024"]).json();
    assert_eq!((y2024["totals"]["disposals"].as_u64(), y2024["labels"]["18A"].as_str()), (Some(0), Some("0.00")));
}

#[test]
fn au_exports_match_their_golden_files_and_are_byte_identical_on_rerun() {
    let sb = au_ledger();
    for format in ["ato", "ato-summary"] {
        let m = common::golden_export(&sb, "au", format, "2025");
        assert_eq!((m["jurisdiction"].as_str(), m["tax_year"].as_str()), (Some("AU"), Some("2024-25")));
    }
    let list = sb.ok(&["export", "--list"]).stdout;
    assert!(list.contains("ato-summary"), "{list}");
    let us_form = sb.path("form8949-2025.csv");
    let run = sb.ok(&["export", "form8949", "--year", "2025", "-o", us_form.to_str().unwrap()]);
    assert!(run.stderr.contains("follows Australian rules") && run.stderr.contains("export ato"), "{}", run.stderr);
}

#[test]
fn au_hifo_is_stated_and_the_jurisdiction_is_a_setting() {
    let sb = au_ledger();
    assert_eq!(sb.ok(&["settings", "jurisdiction"]).stdout.trim(), "au");
    let hifo = sb.ok(&["--json", "report", "--year", "2025", "--method", "hifo"]).json();
    assert_eq!(hifo["method"], "hifo");
    assert!(hifo["identification"].as_str().unwrap().contains("specific identification"), "{}", hifo["identification"]);
    // The dearest BTC parcel (0.05 at $96,000 a BTC, 1 October 2024) goes first on 1 March.
    assert_eq!(hifo["disposals"][3]["acquired"], "2024-10-01");
    assert_eq!(hifo["disposals"][3]["discountable"], false);
    let text = sb.ok(&["report", "--year", "2025", "--method", "hifo"]).stdout;
    assert!(text.contains("specific identification: the dearest parcel first (HIFO)"), "{text}");
    sb.ok(&["settings", "jurisdiction", "us"]);
    assert_eq!(sb.ok(&["--json", "report", "--year", "2025"]).json()["jurisdiction"], "US");
    let au = sb.ok(&["--json", "report", "--year", "2025", "--jurisdiction", "au"]).json();
    assert_eq!(au["labels"]["18A"], "18560.34");
    // `check` reads the ledger, not a country's rules: the same on an Australian ledger.
    let check = sb.run(&["--json", "check"]);
    assert_eq!((check.code, check.json()), (0, json!({"clean": true, "findings": []})));
}

#[test]
fn au_report_refuses_a_ledger_not_in_australian_dollars() {
    let sb = Sandbox::new();
    sb.ok(&["init", "--currency", "GBP"]);
    let run = sb.run(&["report", "--year", "2025", "--jurisdiction", "au"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("Australian dollars, but this ledger reports in GBP")
            && run.stderr.contains("cointally currency AUD"),
        "{}",
        run.stderr
    );
    let export = sb.run(&["export", "ato", "--year", "2025", "--jurisdiction", "au"]);
    assert_eq!(export.code, 2, "{}", export.stderr);
}

/// `settings losses_brought_forward 2025 1000`: $1,000 of net capital losses from earlier
/// years outside the ledger. By hand from the figures above: the $200 loss leaves
/// $37,120.685 of discount gains; the $1,000 takes them to $36,120.685; the discount is
/// $18,060.3425 and 18A the same ($18,060.34); nothing is carried forward. The setting lists,
/// shows, refuses a bad amount with a hint, and 0 removes it (the report is back to 18A
/// $18,560.34).
#[test]
fn au_losses_brought_forward_setting_is_applied_before_the_discount() {
    let sb = au_ledger();
    let before = sb.ok(&["--json", "report", "--year", "2025"]).json()["inputs_hash"].clone();
    sb.ok(&["settings", "losses_brought_forward", "2026", "300"]);
    let later = sb.ok(&["--json", "report", "--year", "2025"]).json()["inputs_hash"].clone();
    assert_eq!(before, later, "a later year's setting is not an input of 2024-25");
    sb.ok(&["settings", "losses_brought_forward", "2026", "0"]);
    sb.ok(&["settings", "losses_brought_forward", "2025", "1000"]);
    assert_eq!(sb.ok(&["settings", "losses_brought_forward", "2025"]).stdout.trim(), "1000");
    assert_eq!(
        sb.ok(&["--json", "settings", "losses_brought_forward"]).json(),
        json!({"losses_brought_forward": {"2025": "1000"}})
    );
    let bad = sb.run(&["settings", "losses_brought_forward", "2025", "-5"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("not an amount of losses") && bad.stderr.contains("hint:"), "{}", bad.stderr);
    let bad = sb.run(&["settings", "timezone", "UTC", "5"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);

    let r = sb.ok(&["--json", "report", "--year", "2025"]).json();
    assert_ne!(r["inputs_hash"], before, "the year's setting is an input");
    let n = &r["net_capital_gain"];
    assert_eq!(n["losses_brought_forward"], json!("1000.00"));
    assert_eq!(n["losses_brought_forward_applied"], json!("1000.00"));
    assert_eq!(n["losses_brought_forward_setting"], json!("1000.00"));
    assert_eq!(n["losses_brought_forward_ledger"], json!("0.00"));
    assert_eq!(n["cgt_discount"], json!("18060.34"));
    assert_eq!(r["labels"], json!({"18H": "37320.69", "18A": "18060.34", "18V": "0.00"}));
    let text = sb.ok(&["report", "--year", "2025"]).stdout;
    assert!(text.contains("your setting for the year"), "{text}");
    let summary = sb.path("summary.csv");
    sb.ok(&["export", "ato-summary", "--year", "2025", "-o", summary.to_str().unwrap()]);
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(summary.contains("your losses_brought_forward setting for the year"), "{summary}");
    assert!(summary.contains("18060.34"), "{summary}");

    sb.ok(&["settings", "losses_brought_forward", "2025", "0"]);
    assert_eq!(sb.ok(&["--json", "settings", "losses_brought_forward"]).json(), json!({"losses_brought_forward": {}}));
    let r = sb.ok(&["--json", "report", "--year", "2025"]).json();
    assert_eq!(r["labels"]["18A"], json!("18560.34"));
    assert_eq!(r["net_capital_gain"]["losses_brought_forward_setting"], json!(null));
}

/// 1 BTC bought for $30,000 on 1 May 2023 and sold for $40,000 at 2024-06-30 15:30 UTC: that
/// is 1 July 2024, 01:30 in Sydney (AEST, UTC+10) but 30 June 2024, 23:30 in Perth (AWST,
/// UTC+8). A Sydney ledger reports it in 2024-25; with `settings timezone Australia/Perth`
/// the sale is on the resident's own date, in 2023-24 (ITAA 1997 s995-1: the income year is
/// the financial year ending 30 June). A zone outside Australia is not used, and said so.
#[test]
fn au_a_perth_evening_sale_on_30_june_is_in_the_year_ending_that_day() {
    let sb = Sandbox::new();
    sb.ok(&["init", "--currency", "AUD", "--jurisdiction", "au"]);
    sb.ok(&["account", "add", "wallet", "--label", "w", "--no-key"]);
    let rows = "2023-05-01 02:00:00,trade,30000,AUD,1,BTC,,,,,,,,,buy\n\
                2024-06-30 15:30:00,trade,1,BTC,40000,AUD,,,,,,,,,sell late on 30 June in Perth\n";
    let file = sb.path("w.csv");
    std::fs::write(&file, format!("{}{rows}", common::GENERIC_HEADER)).unwrap();
    sb.ok(&["import", file.to_str().unwrap(), "--account", "w", "--format", "generic"]);
    sb.ok(&["prices", "--offline"]);
    let sydney_2024 = sb.ok(&["--json", "report", "--year", "2024"]).json();
    let sydney_2025 = sb.ok(&["--json", "report", "--year", "2025"]).json();
    assert_eq!(sydney_2024["disposals"], json!([]));
    assert_eq!(sydney_2025["disposals"][0]["disposed"], "2024-07-01");
    assert_eq!(sydney_2025["timezone"], "Australia/Sydney");

    sb.ok(&["settings", "timezone", "America/New_York"]);
    let elsewhere = sb.ok(&["--json", "report", "--year", "2025"]);
    assert_eq!(elsewhere.json(), sydney_2025, "a zone outside Australia changes nothing");
    assert!(elsewhere.stderr.contains("America/New_York is not an Australian zone"), "{}", elsewhere.stderr);

    sb.ok(&["settings", "timezone", "Australia/Perth"]);
    let perth_2024 = sb.ok(&["--json", "report", "--year", "2024"]).json();
    assert_eq!(perth_2024["timezone"], "Australia/Perth");
    let d = &perth_2024["disposals"][0];
    assert_eq!((d["disposed"].as_str(), d["acquired"].as_str()), (Some("2024-06-30"), Some("2023-05-01")));
    assert_eq!(perth_2024["totals"]["gains"], "10000.00");
    assert_ne!(perth_2024["inputs_hash"], sydney_2024["inputs_hash"], "the zone is an input");
    assert_eq!(sb.ok(&["--json", "report", "--year", "2025"]).json()["disposals"], json!([]));
    let text = sb.ok(&["report", "--year", "2024"]).stdout;
    assert!(text.contains("30 June 2024, Australia/Perth dates"), "{text}");
}
