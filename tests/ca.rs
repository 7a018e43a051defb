//! Canadian rules end to end: a CAD ledger with `init --jurisdiction ca`, every figure of its
//! 2024 report computed by hand, the `schedule3` and `acb` exports against golden files
//! (`UPDATE_GOLDEN=1 cargo test --test ca` rewrites them), `settings`, `--jurisdiction`, and
//! a ledger not in CAD refused.
//!
//! The ledger (fixtures/ca), in CAD:
//! - ETH: 1 bought 1 November 2023 for 4,000; sold 10 January 2024 for 3,000 (loss 1,000) and
//!   1 bought back 25 January, still held 9 February: the whole loss is superficial, the ACB
//!   becomes 3,100 + 1,000 = 4,100 (methods.md §3's test). 0.1 staked 1 September (income
//!   300, ACB 4,400 for 1.1). 1 sold 20 December for 3,000: ACB 4,400 × 1 / 1.1 = 4,000, loss
//!   1,000; 0.4 bought back 10 January 2025 (day 21) and 0.5 held on 19 January: denied
//!   1,000 × min(1, 0.4, 0.5) / 1 = 400, allowed 600; ACB left 400 + 400 = 800 for 0.1.
//! - BTC: 1 bought 1 February for 50,000 + 100 fee, 0.5 on 1 March for 30,000 (ACB 80,100,
//!   53,400 a unit); 0.5 moved to the wallet 15 May (no disposition); 0.8 sold 1 June for
//!   52,000 less 80: ACB 42,720, gain 9,200 (methods.md §3's ACB test); 0.7 left, ACB 37,380
//!   across both wallets.
//! - 2024: proceeds 58,000, ACB 50,720, outlays 80, gains 9,200, losses 600, denied 1,400,
//!   net 8,600, taxable capital gain 4,300; income 300.

mod common;

use common::Sandbox;
use serde_json::json;

fn ca_ledger() -> Sandbox {
    common::country_ledger("ca", "CAD")
}

#[test]
fn ca_report_2024_by_hand() {
    let sb = ca_ledger();
    let run = sb.ok(&["--json", "report", "--year", "2024"]);
    let r = run.json();
    assert_eq!((r["year"].as_i64(), r["jurisdiction"].as_str()), (Some(2024), Some("CA")));
    assert_eq!(r["period"], json!({"tax_year": "2024", "from": "2024-01-01", "to": "2024-12-31"}));
    assert_eq!(r["treatment"], "capital");
    let t = &r["totals"];
    let keys = [
        "disposals",
        "proceeds",
        "adjusted_cost_base",
        "outlays",
        "gains",
        "losses",
        "superficial_losses_denied",
        "net_gain",
        "income",
    ];
    let totals = keys.map(|k| t[k].to_string());
    assert_eq!(
        totals,
        [
            "3",
            "\"58000.00\"",
            "\"50720.00\"",
            "\"80.00\"",
            "\"9200.00\"",
            "\"600.00\"",
            "\"1400.00\"",
            "\"8600.00\"",
            "\"300.00\""
        ]
    );
    assert_eq!((r["inclusion_rate"].as_str(), r["taxable_capital_gain"].as_str()), (Some("0.5"), Some("4300.00")));
    assert_eq!(
        r["schedule3"],
        json!({
            "line_15199_proceeds": "58000.00",
            "adjusted_cost_base": "49320.00",
            "outlays": "80.00",
            "line_15300_gain": "8600.00",
            "line_12700_taxable_capital_gain": "4300.00",
        })
    );
    let rows: Vec<[String; 5]> = r["disposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            ["disposed", "asset", "adjusted_cost_base", "superficial_loss_denied", "gain"]
                .map(|k| d[k].as_str().unwrap().to_owned())
        })
        .collect();
    let want = [
        ["2024-06-01", "BTC", "42720.00", "0.00", "9200.00"],
        ["2024-01-10", "ETH", "4000.00", "1000.00", "0.00"],
        ["2024-12-20", "ETH", "4000.00", "400.00", "-600.00"],
    ]
    .map(|row| row.map(str::to_owned));
    assert_eq!(rows, want);
    assert_eq!(r["disposals"][1]["after"], json!({"units": "0", "adjusted_cost_base": "1000.00"}));
    assert_eq!(r["disposals"][2]["before"], json!({"units": "1.1", "adjusted_cost_base": "4400.00"}));
    assert_eq!(r["disposals"][2]["after"], json!({"units": "0.1", "adjusted_cost_base": "800.00"}));
    let denials = r["superficial_losses"].as_array().unwrap();
    assert_eq!(denials.len(), 2);
    assert_eq!(denials[0]["acquisitions"], json!([{"date": "2024-01-25", "units": "1"}]));
    assert_eq!(
        (
            denials[1]["units_acquired_in_window"].as_str(),
            denials[1]["units_held_30_days_after"].as_str(),
            denials[1]["denied"].as_str()
        ),
        (Some("0.4"), Some("0.5"), Some("400.00"))
    );
    assert_eq!(denials[1]["acquisitions"], json!([{"date": "2025-01-10", "units": "0.4"}]));
    assert_eq!(
        r["holdings"],
        json!([
            {"asset": "BTC", "units": "0.7", "adjusted_cost_base": "37380.00"},
            {"asset": "ETH", "units": "0.1", "adjusted_cost_base": "800.00"},
        ])
    );
    assert_eq!(r["income"][0]["value"], "300.00");
    assert_eq!(sb.ok(&["--json", "report", "--year", "2024"]).stdout, run.stdout);

    let text = sb.ok(&["report", "--year", "2024"]).stdout;
    for needle in [
        "Tax year 2024 (1 January to 31 December), Canadian rules",
        "Proceeds of disposition (line 15199)",
        "Superficial losses denied: 1400.00 (2 dispositions)",
        "taxable capital gain 4300.00 (line 12700)",
        "0.4 on 2025-01-10; held 0.5",
        "BTC      0.7  37380.00",
    ] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
    // 2023: nothing disposed of; the ETH bought in November is held at its cost.
    let y2023 = sb.ok(&["--json", "report", "--year", "2023"]).json();
    assert_eq!(y2023["totals"]["disposals"], 0);
    assert_eq!(y2023["holdings"], json!([{"asset": "ETH", "units": "1", "adjusted_cost_base": "4000.00"}]));
}

#[test]
fn ca_exports_match_their_golden_files_and_are_byte_identical_on_rerun() {
    let sb = ca_ledger();
    for format in ["schedule3", "acb"] {
        let m = common::golden_export(&sb, "ca", format, "2024");
        assert_eq!((m["jurisdiction"].as_str(), m["tax_year"].as_str()), (Some("CA"), Some("2024")));
    }
    let list = sb.ok(&["export", "--list"]).stdout;
    assert!(list.contains("schedule3") && list.contains("acb"), "{list}");
    let us_form = sb.path("form8949-2024.csv");
    let run = sb.ok(&["export", "form8949", "--year", "2024", "-o", us_form.to_str().unwrap()]);
    assert!(run.stderr.contains("follows Canadian rules") && run.stderr.contains("export schedule3"), "{}", run.stderr);
}

#[test]
fn ca_settings_treatment_and_jurisdiction_override() {
    let sb = ca_ledger();
    assert_eq!(sb.ok(&["settings", "jurisdiction"]).stdout.trim(), "ca");
    sb.ok(&["settings", "ca_treatment", "business"]);
    let business = sb.ok(&["--json", "report", "--year", "2024"]).json();
    assert_eq!(
        (business["treatment"].as_str(), business["business_income"].as_str()),
        (Some("business"), Some("8900.00"))
    );
    assert_eq!(
        (business["taxable_capital_gain"].as_str(), &business["schedule3"]),
        (Some("0.00"), &serde_json::Value::Null)
    );
    let bad = sb.run(&["settings", "ca_treatment", "hobby"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("unknown treatment \"hobby\""), "{}", bad.stderr);
    // The US rules for one run, on the same ledger.
    let us = sb.ok(&["--json", "report", "--year", "2024", "--jurisdiction", "us"]).json();
    assert_eq!(us["jurisdiction"], "US");
    assert_eq!(sb.ok(&["settings", "jurisdiction"]).stdout.trim(), "ca");
}

#[test]
fn ca_report_refuses_a_ledger_not_in_canadian_dollars() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    sb.ok(&["settings", "jurisdiction", "ca"]);
    assert_eq!(sb.ok(&["settings", "jurisdiction"]).stdout.trim(), "ca");
    let run = sb.run(&["report", "--year", "2024"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("Canadian dollars") && run.stderr.contains("cointally currency CAD"), "{}", run.stderr);
    let export = sb.run(&["export", "schedule3", "--year", "2024", "-o", "-"]);
    assert_eq!(export.code, 2, "{}", export.stderr);
}

#[test]
fn check_works_the_same_on_a_canadian_ledger() {
    let sb = ca_ledger();
    let check = sb.run(&["--json", "check"]);
    assert_eq!(check.code, 0, "{}\n{}", check.stdout, check.stderr);
    assert_eq!(check.json(), json!({"clean": true, "findings": []}));
}

/// `settings losses_brought_forward 2024 AMOUNT`: net capital losses of other years (from a
/// notice of assessment). 2024's taxable capital gain is 4,300 (above): of 5,000 available,
/// 4,300 can be claimed on line 25300 and 700 remain; of 2,000, all 2,000 and none remain;
/// under business treatment none (net capital losses reduce only taxable capital gains).
/// Line 12700 itself does not change.
#[test]
fn ca_net_capital_losses_of_other_years_up_to_the_taxable_capital_gain() {
    let sb = ca_ledger();
    let plain = sb.ok(&["--json", "report", "--year", "2024"]).json();
    assert_eq!(
        plain["net_capital_losses_of_other_years"],
        json!({"available": "0.00", "line_25300_applied": "0.00", "remaining": "0.00"})
    );
    sb.ok(&["settings", "losses_brought_forward", "2024", "5000"]);
    let r = sb.ok(&["--json", "report", "--year", "2024"]).json();
    assert_eq!(r["taxable_capital_gain"], json!("4300.00"));
    assert_eq!(
        r["net_capital_losses_of_other_years"],
        json!({"available": "5000.00", "line_25300_applied": "4300.00", "remaining": "700.00"})
    );
    assert_ne!(r["inputs_hash"], plain["inputs_hash"], "the setting is an input of the report");
    let text = sb.ok(&["report", "--year", "2024"]).stdout;
    assert!(text.contains("up to 4300.00 can be claimed on line 25300"), "{text}");

    sb.ok(&["settings", "losses_brought_forward", "2024", "2000"]);
    let r = sb.ok(&["--json", "report", "--year", "2024"]).json();
    assert_eq!(
        r["net_capital_losses_of_other_years"],
        json!({"available": "2000.00", "line_25300_applied": "2000.00", "remaining": "0.00"})
    );
    sb.ok(&["settings", "ca_treatment", "business"]);
    let r = sb.ok(&["--json", "report", "--year", "2024"]).json();
    assert_eq!(r["net_capital_losses_of_other_years"]["line_25300_applied"], json!("0.00"));
}

/// A CAD ledger with: 1 ETH bought 1 June 2024 for 4,000; sold for 3,000 at 2025-01-01 03:00
/// UTC, which is 31 December 2024, 22:00 in Toronto (EST, UTC−5); 0.1 ETH staked at
/// 2025-01-01 04:30 UTC (31 December, 23:30 in Toronto); 1 ETH bought back for 3,100 at
/// 2025-01-31 06:00 UTC (31 January, 01:00 in Toronto) and held.
fn toronto_new_year() -> Sandbox {
    let sb = Sandbox::new();
    sb.ok(&["init", "--currency", "CAD", "--jurisdiction", "ca"]);
    sb.ok(&["account", "add", "wallet", "--label", "w", "--no-key"]);
    let rows = "2024-06-01 16:00:00,trade,4000,CAD,1,ETH,,,,,,,,,buy\n\
                2025-01-01 03:00:00,trade,1,ETH,3000,CAD,,,,,,,,,sell on new year's eve in Toronto\n\
                2025-01-01 04:30:00,staking,,,0.1,ETH,,,,,,,,,reward\n\
                2025-01-31 06:00:00,trade,3100,CAD,1,ETH,,,,,,,,,buy back\n";
    let file = sb.path("w.csv");
    std::fs::write(&file, format!("{}{rows}", common::GENERIC_HEADER)).unwrap();
    sb.ok(&["import", file.to_str().unwrap(), "--account", "w", "--format", "generic"]);
    let prices = sb.path("prices.csv");
    std::fs::write(&prices, "time,asset,currency,price\n2024-12-31,ETH,CAD,3000\n2025-01-01,ETH,CAD,3000\n").unwrap();
    sb.ok(&["prices", "import", prices.to_str().unwrap()]);
    sb.ok(&["prices", "--offline"]);
    sb
}

/// The CRA's guide dates a disposition when it happens, and the Income Tax Act's superficial
/// loss (s. 54, "superficial loss": the period that begins 30 days before and ends 30 days
/// after the disposition) counts days; a person in Toronto lives on Toronto dates. With
/// `settings timezone America/Toronto` the evening sale of 31 December is a 2024 disposition
/// and its buy-back on 31 January (local) is on day 31, outside the window: of the 1,000 loss
/// only the part of the 0.1 staked within the window (and held on day 30) is denied,
/// 1,000 × 0.1 / 1 = 100. In UTC (no setting) the same sale is on 1 January 2025 and the
/// buy-back on day 30: a 2025 disposition whose whole loss is denied (1.1 acquired, 1.1 held).
#[test]
fn ca_an_evening_sale_on_31_december_in_toronto_is_a_2024_disposition() {
    let sb = toronto_new_year();
    let utc_2024 = sb.ok(&["--json", "report", "--year", "2024"]).json();
    assert_eq!(utc_2024["disposals"], json!([]));
    assert_eq!(utc_2024["timezone"], "UTC");
    let utc_2025 = sb.ok(&["--json", "report", "--year", "2025"]).json();
    let d = &utc_2025["disposals"][0];
    assert_eq!((d["disposed"].as_str(), d["superficial_loss_denied"].as_str()), (Some("2025-01-01"), Some("1000.00")));
    assert_eq!(utc_2025["income"][0]["date"], "2025-01-01");

    sb.ok(&["settings", "timezone", "America/Toronto"]);
    let local_2024 = sb.ok(&["--json", "report", "--year", "2024"]).json();
    assert_eq!(local_2024["timezone"], "America/Toronto");
    let d = &local_2024["disposals"][0];
    assert_eq!(
        (d["disposed"].as_str(), d["superficial_loss_denied"].as_str(), d["gain"].as_str()),
        (Some("2024-12-31"), Some("100.00"), Some("-900.00"))
    );
    let caused = &local_2024["superficial_losses"][0]["acquisitions"];
    assert_eq!(caused, &json!([{"date": "2024-12-31", "units": "0.1"}]));
    assert_eq!(local_2024["income"][0]["date"], "2024-12-31");
    assert_eq!(local_2024["totals"]["income"], "300.00");
    assert_ne!(local_2024["inputs_hash"], utc_2024["inputs_hash"], "the zone is an input of the report");
    let local_2025 = sb.ok(&["--json", "report", "--year", "2025"]).json();
    assert_eq!(
        (local_2025["disposals"].as_array().map(Vec::len), local_2025["income"].as_array().map(Vec::len)),
        (Some(0), Some(0))
    );
    // Held at the end of local 2025: the 1 ETH bought back and the 0.1 staked.
    assert_eq!(local_2025["holdings"][0]["units"], "1.1");
    let text = sb.ok(&["report", "--year", "2024"]).stdout;
    assert!(text.contains("local dates in America/Toronto"), "{text}");
    // --all-years spans Toronto's years of the first and last event: 2024 and 2025.
    let all = sb.ok(&["--json", "report", "--all-years"]).json();
    assert_eq!(all.as_array().map(Vec::len), Some(2));
    assert_eq!(all[0], local_2024);
}
