//! German rules end to end: a EUR ledger with `init --jurisdiction de`, every figure of its
//! 2023 and 2024 reports computed by hand, the `anlage-so` and `anlage-so-disposals` exports
//! against golden files (`UPDATE_GOLDEN=1 cargo test --test de` rewrites them), `settings`,
//! `--jurisdiction`, a ledger not in euros refused, and `check` on a German ledger.
//!
//! The ledger (fixtures/de): BTC lot A, 1 BTC bought 15 January 2023 for €20,000 + €10 fee.
//! 0.25 sold on 15 January 2024 for €10,000 less €10 (the last day of the year: taxable,
//! €9,990 − €5,002.50 = €4,987.50) and 0.25 on 16 January for €10,000 (tax-free, €4,997.50).
//! 0.5 moved to the wallet on 1 February, 0.4995 arriving: the 0.0005 lost is the network fee,
//! disposed of at €20 (BTC at €40,000) against €10.005 of lot A (tax-free, €9.995 → €10.00);
//! lot A's 0.4995 moves with its date and cost, and the wallet's 0.1 sold on 1 September for
//! €5,500 is lot A's (tax-free, cost €2,001, gain €3,499). ETH: 2 bought 1 March 2023 for
//! €3,000; 0.5 sold 1 June 2023 for €900 (gain €150, below 2023's €600: not taxable); 0.1
//! staked 1 March 2024 (€300 of § 22 Nr. 3 income, ETH lot 2 at €300); 1.6 ETH swapped for
//! 0.1 BTC on 1 April 2024 (€5,120): 1.5 of lot 1 (tax-free, €4,800 − €2,250) and 0.1 of lot 2
//! (taxable, €320 − €300). The exchange's 0.1 BTC (lot C, 1 April 2024, €5,120) sold 1 October
//! for €6,000: per-wallet FIFO takes the exchange's own lot (taxable €880) rather than the
//! wallet's older lot A. 1 ETH bought for €3,000 and sold for €2,500 in November: a €500
//! loss. A staking reward at 23:30 UTC on 31 December 2024 is 1 January 2025 in Berlin.
//! 2024: private sales €5,887.50 gains, €500 losses, net €5,387.50 ≥ €1,000: all taxable.

mod common;

use common::Sandbox;

fn de_ledger() -> Sandbox {
    common::country_ledger("de", "EUR")
}

#[test]
fn de_report_2024_and_2023_by_hand() {
    let sb = de_ledger();
    let run = sb.ok(&["--json", "report", "--year", "2024"]);
    let r = run.json();
    assert_eq!((r["year"].as_i64(), r["jurisdiction"].as_str()), (Some(2024), Some("DE")));
    assert_eq!(
        r["period"],
        serde_json::json!({"tax_year": "2024", "from": "2024-01-01", "to": "2024-12-31", "time_zone": "Europe/Berlin"})
    );
    assert_eq!(
        r["private_sales"],
        serde_json::json!({"rows": 4, "proceeds": "18810.00", "cost_basis": "13422.50", "gains": "5887.50", "losses": "500.00", "net_gain": "5387.50"})
    );
    // 4,997.50 + 9.995 + 2,550 + 3,499 = 11,056.495: the exact total, rounded once.
    assert_eq!(r["held_more_than_one_year"]["net_gain"], "11056.50");
    assert_eq!(r["held_more_than_one_year"]["cost_basis"], "9263.51");
    assert_eq!(
        (r["private_sales_limit"].as_str(), r["taxable_private_sales"].as_str()),
        (Some("1000.00"), Some("5387.50"))
    );
    assert_eq!(r["loss_to_carry"], "0.00");
    assert_eq!(r["other_services"], serde_json::json!({"income": "300.00", "limit": "256.00", "taxable": "300.00"}));
    let rows: Vec<String> = r["disposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap_or("-").to_owned();
            let free = if d["held_more_than_one_year"] == true { "free" } else { "taxable" };
            format!("{} {} {} {} {} {}", s("disposed"), s("acquired"), s("asset"), s("account"), s("gain"), free)
        })
        .collect();
    assert_eq!(
        rows,
        [
            "2024-01-15 2023-01-15 BTC exchange 4987.50 taxable",
            "2024-01-16 2023-01-15 BTC exchange 4997.50 free",
            "2024-02-01 2023-01-15 BTC exchange 10.00 free",
            "2024-04-01 2023-03-01 ETH exchange 2550.00 free",
            "2024-04-01 2024-03-01 ETH exchange 20.00 taxable",
            "2024-09-01 2023-01-15 BTC wallet 3499.00 free",
            "2024-10-01 2024-04-01 BTC exchange 880.00 taxable",
            "2024-11-15 2024-11-01 ETH exchange -500.00 taxable",
        ]
    );
    assert_eq!(sb.ok(&["--json", "report", "--year", "2024"]).stdout, run.stdout, "a re-run differs");
    let text = sb.ok(&["report", "--year", "2024"]).stdout;
    for needle in [
        "Calendar year 2024 (Europe/Berlin dates)",
        "Net gain",
        "5387.50",
        "11056.50",
        "taxable private-sale gain 5387.50",
        "taxable 300.00",
    ] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
    // 2023: a €150 gain, below the €600 Freigrenze of 2023: nothing taxable.
    let y2023 = sb.ok(&["--json", "report", "--year", "2023"]).json();
    assert_eq!(y2023["private_sales"]["net_gain"], "150.00");
    assert_eq!(
        (y2023["private_sales_limit"].as_str(), y2023["taxable_private_sales"].as_str()),
        (Some("600.00"), Some("0.00"))
    );
    // The reward of 23:30 UTC on 31 December 2024 is Berlin's 1 January 2025.
    let y2025 = sb.ok(&["--json", "report", "--year", "2025"]).json();
    assert_eq!(y2025["income"][0]["date"], "2025-01-01");
    assert_eq!(y2025["other_services"]["taxable"], "0.00");
}

#[test]
fn de_exports_match_their_golden_files_and_are_byte_identical_on_rerun() {
    let sb = de_ledger();
    for format in ["anlage-so", "anlage-so-disposals"] {
        let m = common::golden_export(&sb, "de", format, "2024");
        assert_eq!((m["jurisdiction"].as_str(), m["year"].as_i64()), (Some("DE"), Some(2024)));
    }
    let list = sb.ok(&["export", "--list"]).stdout;
    assert!(list.contains("anlage-so-disposals"), "{list}");
    let us_form = sb.path("form8949-2024.csv");
    let run = sb.ok(&["export", "form8949", "--year", "2024", "-o", us_form.to_str().unwrap()]);
    assert!(run.stderr.contains("follows German rules") && run.stderr.contains("export anlage-so"), "{}", run.stderr);
}

#[test]
fn de_settings_and_a_ledger_not_in_euros_is_refused() {
    let sb = de_ledger();
    assert_eq!(sb.ok(&["settings", "jurisdiction"]).stdout.trim(), "de");
    let us = sb.ok(&["--json", "report", "--year", "2024", "--jurisdiction", "us"]).json();
    assert_eq!(us["jurisdiction"], "US");
    let check = sb.run(&["--json", "check"]);
    assert_eq!(check.code, 0, "{}\n{}", check.stdout, check.stderr);

    let usd = Sandbox::new();
    usd.ok(&["init"]);
    usd.ok(&["settings", "jurisdiction", "de"]);
    assert_eq!(usd.ok(&["settings", "jurisdiction"]).stdout.trim(), "de");
    for args in [&["report", "--year", "2024"][..], &["export", "anlage-so", "--year", "2024"][..]] {
        let run = usd.run(args);
        assert_eq!(run.code, 2, "{args:?}");
        assert!(run.stderr.contains("in euros") && run.stderr.contains("cointally currency EUR"), "{}", run.stderr);
    }
}

/// `settings losses_brought_forward 2024 2000`: a remaining § 23 loss of €2,000 from before
/// the ledger. 2024's net private-sale gain €5,387.50 is at or above the €1,000 Freigrenze, so
/// all of it is taxable and the loss takes €2,000: €3,387.50 taxable after it, nothing left.
/// The Anlage SO figure (`taxable_private_sales`) stays €5,387.50: the Finanzamt applies the
/// carry-forward. In 2023 the €150 gain is under €600: tax-free, and a €100 loss set for 2023
/// stays unused (the Freigrenze is tested first, BFH IX R 27/04).
#[test]
fn de_losses_brought_forward_after_the_freigrenze() {
    let sb = de_ledger();
    sb.ok(&["settings", "losses_brought_forward", "2024", "2000"]);
    sb.ok(&["settings", "losses_brought_forward.2023", "100"]);
    let r = sb.ok(&["--json", "report", "--year", "2024"]).json();
    assert_eq!(r["taxable_private_sales"], "5387.50");
    assert_eq!(r["taxable_private_sales_after_losses"], "3387.50");
    assert_eq!(
        r["losses_brought_forward"],
        serde_json::json!({"available": "2000.00", "applied": "2000.00", "remaining": "0.00"})
    );
    let r = sb.ok(&["--json", "report", "--year", "2023"]).json();
    assert_eq!(r["taxable_private_sales"], "0.00");
    assert_eq!(
        r["losses_brought_forward"],
        serde_json::json!({"available": "100.00", "applied": "0.00", "remaining": "100.00"})
    );
    let text = sb.ok(&["report", "--year", "2024"]).stdout;
    assert!(text.contains("taxable after them 3387.50"), "{text}");
    let file = sb.path("anlage-so.csv");
    sb.ok(&["export", "anlage-so", "--year", "2024", "-o", file.to_str().unwrap()]);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("Taxable private-sale gain after the Verlustvortrag"), "{text}");
    assert!(text.contains("3387.50"), "{text}");
}

/// Germany has one legal time (CET/CEST): the German rules date every event in Berlin time
/// whatever the ledger's `timezone` says, and say so when it names another zone. The last
/// event of the fixtures (31 December 2024, 23:30 UTC) is a 2025 event in Berlin, and stays
/// one with the ledger set to New York (where it is 31 December, 18:30).
#[test]
fn de_dates_stay_berlin_dates_under_another_ledger_timezone() {
    let sb = de_ledger();
    let before = sb.ok(&["--json", "report", "--year", "2024"]);
    assert!(!before.stderr.contains("is not used"), "{}", before.stderr);
    sb.ok(&["settings", "timezone", "America/New_York"]);
    let after = sb.ok(&["--json", "report", "--year", "2024"]);
    assert_eq!(after.stdout, before.stdout);
    assert!(
        after.stderr.contains("DE rules date every event in Europe/Berlin time")
            && after.stderr.contains("timezone America/New_York is not used"),
        "{}",
        after.stderr
    );
    let all = sb.ok(&["--json", "report", "--all-years"]).json();
    assert_eq!(all.as_array().and_then(|a| a.last()).map(|y| y["year"].clone()), Some(serde_json::json!(2025)));
}
