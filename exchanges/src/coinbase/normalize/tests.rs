use std::path::Path;
use std::str::FromStr;

use super::*;
use crate::event::LegRole;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/coinbase/api");

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn read(file: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join(file)).unwrap()
}

fn stream_of(file: &str) -> &'static str {
    if file.starts_with("fill_") { FILLS } else { TRANSACTIONS }
}

fn run(file: &str) -> Result<Vec<NewEvent>, NormalizeError> {
    normalize(&Stream::new(stream_of(file), ""), &RawRecord { external_id: "x".into(), payload: read(file) })
}

type Short = (String, EventKind, Vec<(String, Decimal, LegRole)>);

fn short(e: &NewEvent) -> Short {
    (e.external_id.clone(), e.kind, e.legs.iter().map(|l| (l.asset.clone(), l.amount.normalize(), l.role)).collect())
}

fn ev(id: &str, kind: EventKind, legs: &[Leg]) -> Short {
    (id.into(), kind, legs.iter().map(|l| (l.asset.clone(), l.amount.normalize(), l.role)).collect())
}

/// (fixture file, the events it gives), written out by hand.
fn cases() -> Vec<(&'static str, Vec<Short>)> {
    use EventKind::*;
    let (s, r, f) = (Leg::sent, Leg::received, Leg::fee);
    let id = |n: &str| format!("6629a0f1-c2d3-4e4f-8a6b-7000000000{n}");
    vec![
        (
            "buy_btc_with_fee.json",
            vec![ev(&id("01"), Trade, &[s("USD", d("930")), r("BTC", d("0.015")), f("USD", d("13.95"))])],
        ),
        ("buy_fiat_side.json", vec![]),
        ("sell_btc.json", vec![ev(&id("09"), Trade, &[s("BTC", d("0.004")), r("USD", d("280")), f("USD", d("4.14"))])]),
        (
            "send_to_address_with_network_fee.json",
            vec![ev(&id("14"), Withdrawal, &[s("ETH", d("0.25")), f("ETH", d("0.0005"))])],
        ),
        (
            "send_to_coinbase_user.json",
            vec![ev("0ec2de93-7dae-5a50-8580-6445a08e4ae4", Withdrawal, &[s("BTC", d("1"))])],
        ),
        ("receive_from_address.json", vec![ev(&id("02"), Deposit, &[r("ETH", d("0.5"))])]),
        ("conversion_two_wallets.json", vec![ev(&id("07"), Trade, &[s("BTC", d("0.005")), r("ETH", d("0.09128"))])]),
        ("advanced_trade_fill_wallet_row.json", vec![]),
        ("staking_reward_sol.json", vec![ev(&id("05"), Staking, &[r("SOL", d("0.0125"))])]),
        ("staking_transfer_out.json", vec![ev(&id("06"), InternalTransfer, &[s("SOL", d("5")), r("SOL", d("5"))])]),
        ("fiat_deposit_usd.json", vec![ev(&id("00"), FiatDeposit, &[r("USD", d("2500"))])]),
        ("exchange_deposit_btc.json", vec![ev(&id("15"), Withdrawal, &[s("BTC", d("0.001"))])]),
        ("canceled_send.json", vec![]),
        ("unknown_type.json", vec![ev(&id("98"), Unknown, &[r("ETH", d("0.001"))])]),
        (
            "fill_v3_eth_usd_sell.json",
            vec![ev("1111-11111-111111", Trade, &[s("ETH", d("0.2")), r("USD", d("720")), f("USD", d("1.44"))])],
        ),
    ]
}

#[test]
fn every_fixture_gives_exactly_its_events() {
    for (file, expected) in cases() {
        let events = run(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(events.iter().map(short).collect::<Vec<_>>(), expected, "{file}");
    }
}

#[test]
fn every_fixture_file_has_a_case() {
    let cases: Vec<&str> = cases().iter().map(|c| c.0).collect();
    for entry in std::fs::read_dir(FIXTURES).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(cases.contains(&name.as_str()), "fixture {name} has no case");
    }
}

#[test]
fn sends_keep_hash_address_and_say_a_coinbase_user() {
    let send = &run("send_to_address_with_network_fee.json").unwrap()[0];
    assert_eq!(send.tx_hash.as_deref(), Some("a7e23afeccf863dc8359ba04d2b854eddb6dea6901643828fdb3aca53d8bf600"));
    assert_eq!(send.address.as_deref(), Some("0x3f5CE5FBFe3E9af3971dD833D26bA9b5C936f0bE"));
    let to_user = &run("send_to_coinbase_user.json").unwrap()[0];
    assert_eq!((to_user.tx_hash.as_deref(), to_user.address.as_deref()), (None, None));
    assert_eq!(to_user.note.as_deref(), Some("sent to another Coinbase user"));
    let unknown = &run("unknown_type.json").unwrap()[0];
    assert!(unknown.note.as_deref().unwrap().contains("onchain_perks_payout"));
}

/// The API and the "Transaction history" report give the same ids and legs for the same
/// transactions (the report's `ID` taken as the v2 id; the conversion under its sending row).
#[test]
fn api_records_give_the_events_of_the_same_report_rows() {
    use crate::coinbase::csv::{Reader, matches};
    use crate::rows::read_text;
    let csv = "\nTransactions\nUser,Jane,3f2a9c1e-7b4d-4e2a-9c1f-0a1b2c3d4e5f\n\
        ID,Timestamp,Transaction Type,Asset,Quantity Transacted,Price Currency,Price at Transaction,Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes\n\
        6629a0f1-c2d3-4e4f-8a6b-700000000009,2024-03-25 19:11:38 UTC,Sell,BTC,-0.004,USD,\"$70,000.00\",$280.00,$275.86,$4.14,Sold 0.004 BTC for 275.86 USD\n\
        6629a0f1-c2d3-4e4f-8a6b-700000000007,2024-03-20 10:05:44 UTC,Convert,BTC,-0.005,USD,\"$68,000.00\",-$337.28,-$340.00,$2.72,Converted 0.005 BTC to 0.09128 ETH\n\
        6629a0f1-c2d3-4e4f-8a6b-700000000005,2024-03-12 00:04:09 UTC,Staking Income,SOL,0.0125,USD,$160.00,$2.00,$2.00,$0.00,\n\
        6629a0f1-c2d3-4e4f-8a6b-700000000006,2024-03-15 07:55:12 UTC,Retail Staking Transfer,SOL,-5,USD,$160.00,-$800.00,-$800.00,$0.00,\n\
        6629a0f1-c2d3-4e4f-8a6b-700000000001,2024-03-02 10:15:30 UTC,Buy,BTC,0.015,USD,\"$62,000.00\",$930.00,$943.95,$13.95,Bought 0.015 BTC for 943.95 USD\n\
        6629a0f1-c2d3-4e4f-8a6b-700000000000,2024-03-01 09:00:00 UTC,Deposit,USD,2500,USD,$1.00,\"$2,500.00\",\"$2,500.00\",$0.00,Deposit\n";
    let parsed = read_text(&mut Reader::default(), matches, csv);
    let from_csv: Vec<Short> = parsed.into_result().unwrap().into_iter().map(|e| short(&e.event)).collect();
    let mut from_api = Vec::new();
    for file in [
        "sell_btc.json",
        "conversion_two_wallets.json",
        "staking_reward_sol.json",
        "staking_transfer_out.json",
        "buy_btc_with_fee.json",
        "fiat_deposit_usd.json",
    ] {
        from_api.extend(run(file).unwrap().iter().map(short));
    }
    assert_eq!(from_csv, from_api);
}

#[test]
fn malformed_records_are_errors_that_say_why() {
    let tx =
        |fields: &str| format!(r#"{{"id":"t","status":"completed","created_at":"2024-01-01T00:00:00Z",{fields}}}"#);
    for (payload, words) in [
        (tx(r#""type":"send","amount":{"amount":"1,5","currency":"BTC"}"#), "field `amount.amount`"),
        (tx(r#""type":"buy","amount":{"amount":"1","currency":"BTC"}"#), "subtotal"),
        ("[1]".to_owned(), "not a JSON object"),
        (r#"{"id":"t","type":"send","status":"pending","amount":{"amount":"1","currency":"BTC"},"created_at":"2024-01-01T00:00:00Z"}"#.to_owned(), "not final"),
    ] {
        let error = normalize(&Stream::new(TRANSACTIONS, ""), &RawRecord { external_id: "t".into(), payload: payload.clone() })
            .unwrap_err();
        assert!(error.to_string().contains(words), "{payload}: {error}");
    }
}

#[test]
fn a_wallet_row_without_a_visible_v3_fill_is_its_wallets_side_of_the_trade() {
    let row = read("advanced_trade_fill_wallet_row.json");
    let wrapped = format!("{{\"v3_fill\":\"none\",\"transaction\":{row}}}");
    let stream = Stream::new(TRANSACTIONS, "");
    let events = normalize(&stream, &RawRecord { external_id: "x".into(), payload: wrapped }).unwrap();
    assert_eq!(events.len(), 1);
    let tx: Transaction = serde_json::from_str(&row).unwrap();
    assert_eq!(events[0].external_id, tx.id);
    assert_eq!(events[0].kind, EventKind::Trade);
    assert_eq!(events[0].legs.len(), 1);
    let order = tx.advanced_trade_fill.and_then(|f| f.order_id).unwrap();
    let note = events[0].note.clone().unwrap_or_default();
    assert!(note.contains(&order) && note.contains("no v3 fill"), "{note}");
    // As sent, the same row gives none: its v3 fill is the event.
    assert!(normalize(&stream, &RawRecord { external_id: "x".into(), payload: row }).unwrap().is_empty());
}

#[test]
fn moves_to_coinbase_exchange_say_they_go_to_an_outside_venue() {
    let events = run("exchange_deposit_btc.json").unwrap();
    let note = events[0].note.clone().unwrap_or_default();
    assert!(note.contains("a venue outside this account") && note.contains("transfer to"), "{note}");
}
