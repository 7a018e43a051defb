//! `diff`: a saved run manifest against today's computation names what changed and why.

mod common;

use common::{Sandbox, fixture};

#[test]
fn diff_after_adding_one_event_names_that_event_and_the_disposal_it_made() {
    let sb = Sandbox::new();
    sb.ok(&["init"]);
    sb.ok(&["account", "add", "wallet", "--label", "exchange"]);
    sb.ok(&["import", &fixture("tax/exchange.csv"), "--account", "exchange"]);
    sb.ok(&["prices", "import", &fixture("tax/prices.csv")]);
    sb.ok(&["prices", "--offline"]);
    sb.ok(&["diff", "--year", "2024", "--save", "sent.json"]);
    let same = sb.ok(&["diff", "--year", "2024", "--against", "sent.json"]);
    assert!(same.stdout.contains("no change in 2024"), "{}", same.stdout);

    // The client finds one more sale of 2024.
    let late = sb.path("late.csv");
    std::fs::write(
        &late,
        "time,kind,sent_amount,sent_asset,received_amount,received_asset,fee_amount,fee_asset,fiat_value,fiat_currency,tx_hash,address,network,id,note\n\
         2024-09-02 10:00:00,trade,0.5,ETH,1500,USD,,,,,,,,late-sale-1,found later\n",
    )
    .unwrap();
    sb.ok(&["import", late.to_str().unwrap(), "--account", "exchange"]);
    sb.ok(&["prices", "--offline"]);
    let diff = sb.ok(&["--json", "diff", "--year", "2024", "--against", "sent.json"]).json();
    let added: Vec<&String> = diff["events"]["added"].as_object().unwrap().keys().collect();
    assert_eq!(added, ["exchange/late-sale-1"], "{diff}");
    assert!(diff["events"]["removed"].as_object().unwrap().is_empty());
    let disposals: Vec<&String> = diff["disposals"]["added"].as_object().unwrap().keys().collect();
    assert!(disposals.iter().all(|k| k.starts_with("exchange/late-sale-1 @")), "{diff}");
    assert!(!disposals.is_empty(), "{diff}");
    assert!(diff["assets"]["ETH"].is_array(), "{diff}");

    let text = sb.ok(&["diff", "--year", "2024", "--against", "sent.json"]).stdout;
    assert!(text.contains("+ exchange/late-sale-1"), "{text}");

    let wrong_year = sb.run(&["diff", "--year", "2023", "--against", "sent.json"]);
    assert_eq!(wrong_year.code, 2, "{}", wrong_year.stderr);
}

/// Under each country's rules `diff` saves and compares that country's computation (its tax
/// year, currency, rows and inputs hash), never the US one: a sale found later is named with
/// the rows it made.
#[test]
fn diff_follows_the_ledgers_country_and_names_a_late_sale_with_its_rows() {
    for (code, currency, year, rules) in [
        ("uk", "GBP", "2024", "UK rules"),
        ("ca", "CAD", "2024", "CA rules, capital treatment"),
        ("au", "AUD", "2025", "AU rules, fifo"),
        ("de", "EUR", "2024", "DE rules (FIFO per wallet)"),
    ] {
        let sb = common::country_ledger(code, currency);
        sb.ok(&["diff", "--year", year, "--save", "sent.json"]);
        let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(sb.path("sent.json")).unwrap()).unwrap();
        let report = sb.ok(&["--json", "report", "--year", year]).json();
        assert_eq!(saved["options"], rules, "{code}");
        assert_eq!(saved["currency"], currency, "{code}");
        assert_eq!(saved["inputs_hash"], report["inputs_hash"], "{code}: the manifest is of the country's computation");
        assert!(saved["disposals"].as_object().is_some_and(|d| !d.is_empty()), "{code}: {saved}");
        let same = sb.ok(&["diff", "--year", year, "--against", "sent.json"]);
        assert!(same.stdout.contains(&format!("no change in {year}")), "{code}: {}", same.stdout);

        let late = sb.path("late.csv");
        std::fs::write(
            &late,
            format!(
                "time,kind,sent_amount,sent_asset,received_amount,received_asset,fee_amount,fee_asset,fiat_value,fiat_currency,tx_hash,address,network,id,note\n\
                 2024-12-02 10:00:00,trade,0.01,BTC,600,{currency},,,,,,,,late-1,found later\n"
            ),
        )
        .unwrap();
        sb.ok(&["import", late.to_str().unwrap(), "--account", "exchange"]);
        sb.ok(&["prices", "--offline"]);
        let diff = sb.ok(&["--json", "diff", "--year", year, "--against", "sent.json"]).json();
        let added: Vec<&String> = diff["events"]["added"].as_object().unwrap().keys().collect();
        assert_eq!(added, ["exchange/late-1"], "{code}: {diff}");
        let rows: Vec<&String> = diff["disposals"]["added"].as_object().unwrap().keys().collect();
        assert!(!rows.is_empty() && rows.iter().all(|k| k.starts_with("exchange/late-1 @")), "{code}: {diff}");
        assert!(diff["assets"]["BTC"].is_array(), "{code}: {diff}");
        assert!(diff["options_changed"].is_null(), "{code}: {diff}");
    }
}
