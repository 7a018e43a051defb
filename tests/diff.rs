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
