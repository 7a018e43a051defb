use std::collections::BTreeMap;
use std::str::FromStr;

use super::*;
use crate::rows::read_text;
use crate::time::format_rfc3339;

const CURRENT: &str = include_str!("../../../../fixtures/coinbase/csv/current_2024.csv");
const ADDRESSES: &str = include_str!("../../../../fixtures/coinbase/csv/current_2025_addresses.csv");
const TWO_ROWS: &str = include_str!("../../../../fixtures/coinbase/csv/current_two_row_types.csv");
const V3: &str = include_str!("../../../../fixtures/coinbase/csv/v3_2023.csv");
const LEGACY_2022: &str = include_str!("../../../../fixtures/coinbase/csv/legacy_2022.csv");
const LEGACY_2021: &str = include_str!("../../../../fixtures/coinbase/csv/legacy_2021_gbp.csv");
const UNKNOWN_TYPE: &str = include_str!("../../../../fixtures/coinbase/csv/unknown_type.csv");
const BAD_NUMBER: &str = include_str!("../../../../fixtures/coinbase/csv/bad_number.csv");
const BAD_DATE: &str = include_str!("../../../../fixtures/coinbase/csv/bad_date.csv");
const BAD_CONVERT: &str = include_str!("../../../../fixtures/coinbase/csv/bad_convert_notes.csv");
const BAD_ADVANCED: &str = include_str!("../../../../fixtures/coinbase/csv/bad_advanced_trade_notes.csv");

/// What reading a file gave.
struct Outcome {
    /// The header's line in the file.
    header_line: usize,
    events: Vec<ImportedEvent>,
    errors: Vec<(u64, String)>,
}

/// Reads a whole file as the importer does (the header found after the preamble).
fn run(text: &str) -> Outcome {
    let read = read_text(&mut Reader::default(), matches, text);
    Outcome {
        header_line: read.header_line.expect("a header in the first 30 records") as usize,
        events: read.events,
        errors: read.errors.into_iter().map(|e| (e.line.unwrap_or(0), e.message)).collect(),
    }
}

fn ok(text: &str) -> Outcome {
    let outcome = run(text);
    assert!(outcome.errors.is_empty(), "unexpected errors: {:?}", outcome.errors);
    outcome
}

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// One line per event: time, kind, id, legs, fiat value.
fn summary(events: &[ImportedEvent]) -> Vec<String> {
    events
        .iter()
        .map(|imported| {
            let e = &imported.event;
            let legs: Vec<String> =
                e.legs.iter().map(|l| format!("{} {} {}", l.amount.normalize(), l.asset, l.role.as_str())).collect();
            let value = e.fiat_value.as_ref().map(|v| format!(" = {} {}", v.amount.normalize(), v.currency));
            let id = if e.external_id.is_empty() { "-" } else { e.external_id.as_str() };
            format!("{} {} {} | {}{}", format_rfc3339(e.time), e.kind, id, legs.join(", "), value.unwrap_or_default())
        })
        .collect()
}

fn balances(events: &[ImportedEvent]) -> BTreeMap<String, Decimal> {
    let mut sums = BTreeMap::new();
    for leg in events.iter().flat_map(|e| &e.event.legs) {
        *sums.entry(leg.asset.clone()).or_insert(Decimal::ZERO) += leg.amount;
    }
    sums.retain(|_, v| !v.is_zero());
    sums
}

fn want_balances(pairs: &[(&str, &str)]) -> BTreeMap<String, Decimal> {
    pairs.iter().map(|(a, v)| (a.to_string(), d(v))).collect()
}

#[test]
fn current_layout_reads_every_type_with_ids_and_values() {
    let outcome = ok(CURRENT);
    assert_eq!(outcome.header_line, 4, "header after the empty line, Transactions and User lines");
    let id = "6629a0f1c2d3e4f5a6b700";
    let want = [
        format!("2024-04-25T16:45:00Z fiat_withdrawal {id}18 | -150 USD sent = 150 USD"),
        format!("2024-04-20T00:03:12Z staking {id}17 | 0.05 ATOM received = 0.47 USD"),
        format!("2024-04-15T13:20:05Z deposit {id}16 | 0.1 ETH received = 305 USD"),
        format!("2024-04-12T12:00:00Z withdrawal {id}15 | -0.001 BTC sent = 67 USD"),
        format!("2024-04-10T17:02:11Z withdrawal {id}14 | -0.25 ETH sent = 880.03 USD"),
        format!("2024-04-08T08:00:00Z internal_transfer {id}13 | -2 SOL sent, 2 SOL received = 340 USD"),
        format!("2024-04-05T09:30:00Z rebate {id}12 | 0.00002 BTC received = 1.32 USD"),
        format!("2024-04-02T00:00:09Z interest {id}11 | 0.82 USDC received = 0.82 USD"),
        format!("2024-04-01T11:11:11Z income {id}10 | 4.5 GRT received = 1.35 USD"),
        format!("2024-03-25T19:11:38Z trade {id}09 | -0.004 BTC sent, 280 USD received, -4.14 USD fee = 280 USD"),
        format!("2024-03-22T14:30:27Z trade {id}08 | -0.2 ETH sent, 720 USD received, -1.44 USD fee = 720 USD"),
        format!("2024-03-20T10:05:44Z trade {id}07 | -0.005 BTC sent, 0.09128 ETH received = 340 USD"),
        format!("2024-03-15T07:55:12Z internal_transfer {id}06 | -5 SOL sent, 5 SOL received = 800 USD"),
        format!("2024-03-12T00:04:09Z staking {id}05 | 0.0125 SOL received = 2 USD"),
        format!("2024-03-10T08:20:55Z trade {id}04 | -750 USDC sent, 5 SOL received, -4.5 USDC fee = 750 USD"),
        format!("2024-03-08T15:00:00Z trade {id}03 | -1000 USD sent, 1000 USDC received = 1000 USD"),
        format!("2024-03-05T16:40:00Z deposit {id}02 | 0.5 ETH received = 1750 USD"),
        format!("2024-03-02T10:15:30Z trade {id}01 | -930 USD sent, 0.015 BTC received, -13.95 USD fee = 930 USD"),
        format!("2024-03-01T09:00:00Z fiat_deposit {id}00 | 2500 USD received = 2500 USD"),
    ];
    assert_eq!(summary(&outcome.events), want);
    assert_eq!(
        balances(&outcome.events),
        want_balances(&[
            ("ATOM", "0.05"),
            ("BTC", "0.00502"),
            ("ETH", "0.24128"),
            ("GRT", "4.5"),
            ("SOL", "5.0125"),
            ("USD", "1400.47"),
            ("USDC", "246.32"),
        ])
    );
    // Every row is noted by its line in the file.
    let first = &outcome.events[0];
    assert_eq!(first.rows.len(), 1);
    assert_eq!(first.rows[0].line, 5, "after a blank line, two of preamble and the header");
    let send = &outcome.events[4].event;
    assert_eq!(send.address.as_deref(), Some("0x3f5CE5FBFe3E9af3971dD833D26bA9b5C936f0bE"));
    assert_eq!(send.note.as_deref(), Some("Sent 0.25 ETH to 0x3f5CE5FBFe3E9af3971dD833D26bA9b5C936f0bE"));
    assert_eq!(outcome.events[3].event.address, None, "Notes naming Coinbase Exchange are not an address");
}

#[test]
fn address_columns_and_krona_amounts() {
    let outcome = ok(ADDRESSES);
    let id = "67a0b1c2d3e4f5a6b7c8000";
    assert_eq!(
        summary(&outcome.events),
        [
            format!("2025-02-03T18:00:00Z withdrawal {id}4 | -0.01 BTC sent = 7050 SEK"),
            format!("2025-02-02T12:30:00Z deposit {id}3 | 0.3 ETH received = 9000 SEK"),
            format!(
                "2025-02-01T10:00:00Z trade {id}2 | -14000 SEK sent, 0.02 BTC received, -209.99 SEK fee = 14000 SEK"
            ),
            format!("2025-01-31T09:00:00Z fiat_deposit {id}1 | 20000 SEK received = 20000 SEK"),
        ]
    );
    assert_eq!(
        outcome.events[0].event.address.as_deref(),
        Some("bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"),
        "the Recipient Address column wins over the Notes"
    );
    assert_eq!(outcome.events[1].event.address.as_deref(), Some("0x71C7656EC7ab88b098defB751B7401B5f6d8976F"));
    assert_eq!(balances(&outcome.events), want_balances(&[("BTC", "0.01"), ("ETH", "0.3"), ("SEK", "5790.01")]));
}

#[test]
fn two_row_types_make_one_event_each() {
    let outcome = ok(TWO_ROWS);
    assert_eq!(
        summary(&outcome.events),
        [
            "2025-02-10T14:02:33Z trade 67a9c0d1e2f3a4b5c6d70003 | -100 USDC sent, 40 WIF received = 100 USD",
            "2024-09-04T00:00:00Z conversion - | -120 MATIC sent, 120 POL received = 48 USD",
        ]
    );
    // The conversion's two rows, ...0002 then ...0001, on lines 7 and 8.
    let lines: Vec<u64> = outcome.events[1].rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [7, 8]);
}

#[test]
fn v3_layout_reads_crypto_quoted_advanced_trades_and_outflows() {
    let outcome = ok(V3);
    assert_eq!(outcome.header_line, 8);
    assert_eq!(
        summary(&outcome.events),
        [
            "2023-04-12T10:00:00Z conversion - | -1.5 ETH2 sent, 1.5 ETH received = 2850 USD",
            "2023-05-01T00:00:00Z trade - | -0.025 BTC sent, 0.5 ETH received, -0.00008 BTC fee = 925 USD",
            "2023-06-01T00:00:00Z internal_transfer - | -0.1 BTC sent, 0.1 BTC received = 2700 USD",
            "2023-07-01T00:00:00Z gift - | -0.05 ETH sent = 97.5 USD",
            "2023-08-01T00:00:00Z trade - | -0.3 ETH sent, 540 USD received, -1.08 USD fee = 540 USD",
            "2023-09-01T00:00:00Z fee - | -29.99 USD fee = 29.99 USD",
            "2023-10-01T00:00:00Z spend - | -12.5 USDC sent = 12.5 USD",
            "2023-11-01T00:00:00Z adjustment - | -0.0001 BTC sent = 3.4 USD",
        ]
    );
}

#[test]
fn legacy_2022_layout_after_the_disclaimer() {
    let outcome = ok(LEGACY_2022);
    assert_eq!(outcome.header_line, 8, "header on line 8 after the disclaimer preamble");
    assert_eq!(
        summary(&outcome.events),
        [
            "2022-01-02T08:00:00Z fiat_deposit - | 500 EUR received = 500 EUR",
            "2022-01-03T09:12:45Z trade - | -433.42 EUR sent, 0.01052 BTC received, -6.58 EUR fee = 433.42 EUR",
            "2022-01-10T18:01:07Z deposit - | 0.5 ETH received",
            "2022-02-01T12:00:00Z income - | 7.1234567 XLM received = 1.21 EUR",
            "2022-02-14T08:30:19Z trade - | -0.2 ETH sent, 0.01341 BTC received = 520 EUR",
            "2022-03-05T00:02:31Z staking - | 0.4321 ALGO received = 0.31 EUR",
            "2022-03-20T15:45:50Z trade - | -0.005 BTC sent, 192.5 EUR received, -2.87 EUR fee = 192.5 EUR",
            "2022-04-02T10:10:10Z withdrawal - | -0.25 ETH sent = 775 EUR",
            "2022-04-15T07:30:00Z fiat_withdrawal - | -200 EUR sent = 200 EUR",
        ]
    );
    assert_eq!(
        balances(&outcome.events),
        want_balances(&[
            ("ALGO", "0.4321"),
            ("BTC", "0.01893"),
            ("ETH", "0.05"),
            ("EUR", "49.63"),
            ("XLM", "7.1234567"),
        ])
    );
    assert!(outcome.events.iter().all(|e| e.event.external_id.is_empty()), "no ID column: the importer keys");
}

#[test]
fn legacy_2021_layout_with_the_currency_in_the_column_names() {
    let outcome = ok(LEGACY_2021);
    assert_eq!(outcome.header_line, 8);
    assert_eq!(
        summary(&outcome.events),
        [
            "2021-01-30T09:00:00Z fiat_deposit - | 300 GBP received = 300 GBP",
            "2021-02-01T10:00:00Z trade - | -287.5 GBP sent, 0.25 ETH received, -4.99 GBP fee = 287.5 GBP",
            "2021-03-03T12:30:00Z rebate - | 0.001 BTC received = 36 GBP",
            "2021-04-04T08:00:00Z income - | 0.0113 COMP received = 3.39 GBP",
            "2021-05-05T16:20:00Z withdrawal - | -0.1 ETH sent = 250 GBP",
            "2021-06-06T09:09:09Z trade - | -0.05 ETH sent, 0.00318 BTC received = 90 GBP",
            "2021-06-20T11:11:11Z deposit - | 0.05 ETH received = 85 GBP",
        ]
    );
    assert_eq!(
        balances(&outcome.events),
        want_balances(&[("BTC", "0.00418"), ("COMP", "0.0113"), ("ETH", "0.15"), ("GBP", "7.51")])
    );
}

#[test]
fn header_detection_takes_every_layout_and_nothing_else() {
    let header = |line: &str| Header::new(line.split(','));
    for line in [
        "ID,Timestamp,Transaction Type,Asset,Quantity Transacted,Price Currency,Price at Transaction,Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes",
        "ID,Timestamp,Transaction Type,Asset,Quantity Transacted,Price Currency,Price at Transaction,Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes,Sender Address,Recipient Address",
        "Timestamp,Transaction Type,Asset,Quantity Transacted,Price Currency,Price at Transaction,Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes",
        "Timestamp,Transaction Type,Asset,Quantity Transacted,Spot Price Currency,Spot Price at Transaction,Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes",
        "Timestamp,Transaction Type,Asset,Quantity Transacted,Spot Price Currency,Spot Price at Transaction,Subtotal,Total (inclusive of fees),Fees,Notes",
        "Timestamp,Transaction Type,Asset,Quantity Transacted,EUR Spot Price at Transaction,EUR Subtotal,EUR Total (inclusive of fees),EUR Fees,Notes",
    ] {
        assert!(matches(&header(line)), "{line}");
    }
    for line in [
        "time,kind,sent_amount,sent_asset,received_amount,received_asset,fee_amount,fee_asset",
        "Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,Net Worth Amount,Net Worth Currency,Label,Description,TxHash",
        "txid,refid,time,type,subtype,aclass,asset,wallet,amount,fee,balance",
        "Timestamp,Balance,Amount,Currency,To,Notes,Instantly Exchanged,Transfer Total",
        "Timestamp,Type,BTC,Subtotal,Fees,Total,Currency,Price Per Coin,Payment Method,ID,Share",
        "Timestamp,Transaction Type,Asset,Quantity Transacted,BTC Spot Price at Transaction,BTC Subtotal,BTC Total (inclusive of fees),BTC Fees,Notes",
        "Transactions",
    ] {
        assert!(!matches(&header(line)), "{line}");
    }
}

#[test]
fn money_cells_lose_symbols_and_thousands_separators_on_purpose() {
    for (text, want) in [
        ("$1,234.56", "1234.56"),
        ("-$4.41", "-4.41"),
        ("€0.5", "0.5"),
        ("-kr7,050.00", "-7050"),
        ("Kč16233.43638", "16233.43638"),
        ("CA$1,000,000", "1000000"),
        ("($2.00)", "-2"),
        ("433.42", "433.42"),
        ("$-4.41", "-4.41"),
        ("-0.25", "-0.25"),
        ("1E-8", "0.00000001"),
    ] {
        assert_eq!(money(text).unwrap(), Some(d(want)), "{text}");
    }
    assert_eq!(money("  ").unwrap(), None);
    for bad in ["€0,50", "$1,23", "1,2345.6", "$", "12.3.4", "--$5", "$1.234,56", "12 34"] {
        assert!(money(bad).is_err(), "{bad} should be refused");
    }
    assert!(money("€0,50").unwrap_err().contains("decimal comma"));
}

#[test]
fn notes_are_read_for_trades_and_conversions() {
    assert_eq!(
        trade_note("Bought 5 SOL for 754.5 USDC on SOL-USDC at 150.00 USDC/SOL"),
        Some(TradeNote {
            bought: true,
            base: "SOL".into(),
            quote_amount: d("754.5"),
            quote: "USDC".into(),
            rate: Some(d("150"))
        })
    );
    assert_eq!(
        trade_note("Bought 0.01052 BTC for €440.00 EUR"),
        Some(TradeNote { bought: true, base: "BTC".into(), quote_amount: d("440"), quote: "EUR".into(), rate: None })
    );
    assert_eq!(trade_note("Bought 0.0120548 BTC for 500 EUR using EUR Wallet").map(|n| n.quote), Some("EUR".into()));
    assert_eq!(trade_note("Sold 1 ETH for 1,800.5 USD on ETH-USD at 1800.50 EUR/ETH").and_then(|n| n.rate), None);
    assert_eq!(trade_note("Received 1 ETH"), None);
    assert_eq!(
        convert_note("Converted 1,250.5 USDC to 0.01963 BTC"),
        Some(ConvertNote { from: "USDC".into(), to_amount: d("0.01963"), to: "BTC".into() })
    );
    assert_eq!(convert_note("Converted 0,02823531 BTC to 0,5 ETH"), None, "a decimal comma is not guessed");
    assert_eq!(send_address("Sent 1 BTC to jane@example.com"), None);
}

#[test]
fn unknown_type_is_kept_as_kind_unknown_with_its_legs() {
    let outcome = run(UNKNOWN_TYPE);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.events.len(), 2, "both rows are read");
    let unknown = outcome.events.iter().map(|e| &e.event).find(|e| e.kind == EventKind::Unknown).unwrap();
    assert_eq!(unknown.note.as_deref(), Some("Coinbase transaction type \"Teleport Reward\""));
    assert_eq!(unknown.legs, vec![Leg::received("BTC", Decimal::new(1, 3))]);
}

#[test]
fn decimal_comma_is_an_error_naming_the_column() {
    let outcome = run(BAD_NUMBER);
    assert_eq!(outcome.errors.len(), 1);
    let (line, message) = &outcome.errors[0];
    assert_eq!(*line, 2);
    assert!(message.contains("\"Subtotal\"") && message.contains("decimal comma"), "{message}");
}

#[test]
fn bad_date_is_an_error_naming_the_column() {
    let outcome = run(BAD_DATE);
    assert_eq!(outcome.errors.len(), 1);
    let (line, message) = &outcome.errors[0];
    assert_eq!(*line, 2);
    assert!(message.contains("\"Timestamp\"") && message.contains("2024-13-40"), "{message}");
}

#[test]
fn convert_with_unreadable_notes_is_an_error() {
    let outcome = run(BAD_CONVERT);
    assert_eq!(outcome.errors.len(), 1);
    assert!(outcome.errors[0].1.contains("Converted BTC into something"), "{}", outcome.errors[0].1);
    assert!(outcome.errors[0].1.contains("Notes must say what was received"));
}

#[test]
fn advanced_trade_without_notes_is_an_error() {
    let outcome = run(BAD_ADVANCED);
    assert_eq!(outcome.errors.len(), 1);
    assert!(outcome.errors[0].1.contains("quote asset"), "{}", outcome.errors[0].1);
}

const V4_HEADER: &str = "ID,Timestamp,Transaction Type,Asset,Quantity Transacted,Price Currency,Price at Transaction,Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes\n";

#[test]
fn a_two_row_type_without_its_partner_is_an_error_at_its_line() {
    let text = format!(
        "{V4_HEADER}a1,2024-09-04 00:00:00 UTC,Asset Migration,POL,120,USD,$0.40,$48.00,$48.00,$0.00,\n\
         a2,2024-09-05 00:00:00 UTC,Receive,BTC,0.1,USD,$1.00,$1.00,$1.00,$0.00,\n"
    );
    let outcome = run(&text);
    assert_eq!(outcome.errors.len(), 1);
    assert_eq!(outcome.errors[0].0, 2);
    assert!(outcome.errors[0].1.contains("no partner row"), "{}", outcome.errors[0].1);
    let at_end = run(&format!("{V4_HEADER}a1,2024-09-04 00:00:00 UTC,Asset Migration,POL,120,USD,$0.40,$48,$48,$0,\n"));
    assert_eq!(at_end.errors.len(), 1);
    assert_eq!(at_end.errors[0].0, 2);
}

#[test]
fn a_negative_quantity_on_an_inflow_type_is_an_error() {
    let text = format!("{V4_HEADER}a1,2024-09-05 00:00:00 UTC,Staking Income,SOL,-0.1,USD,$1.00,$1.00,$1.00,$0.00,\n");
    let outcome = run(&text);
    assert_eq!(outcome.errors.len(), 1);
    assert!(outcome.errors[0].1.contains("negative"), "{}", outcome.errors[0].1);
}

#[test]
fn a_two_row_convert_makes_one_trade() {
    let text = format!(
        "{V4_HEADER}c1,2024-06-12 14:30:27 UTC,Convert,ETH,0.18612,USD,$3500.00,$651.42,$651.42,$0.00,Converted 0.01 BTC to 0.18612 ETH\n\
         c1,2024-06-12 14:30:27 UTC,Convert,BTC,-0.01,USD,$65520.00,-$655.20,-$655.20,$5.08,Converted 0.01 BTC to 0.18612 ETH\n"
    );
    let outcome = ok(&text);
    assert_eq!(
        summary(&outcome.events),
        ["2024-06-12T14:30:27Z trade c1 | -0.01 BTC sent, 0.18612 ETH received = 655.2 USD"]
    );
    let lonely = run(&format!(
        "{V4_HEADER}c1,2024-06-12 14:30:27 UTC,Convert,ETH,0.18612,USD,$3500.00,$651.42,$651.42,$0.00,Converted 0.01 BTC to 0.18612 ETH\n"
    ));
    assert_eq!(lonely.errors.len(), 1);
    assert!(lonely.errors[0].1.contains("receiving half"), "{}", lonely.errors[0].1);
}

#[test]
fn crypto_quoted_sell_takes_the_quote_from_the_notes() {
    let text = format!(
        "{V4_HEADER}s1,2024-06-09 11:45:03 UTC,Advanced Trade Sell,ETH,-0.1,EUR,€3200.00,-€320.00,-€319.36,€0.64,Sold 0.1 ETH for 349.3 USDC on ETH-USDC at 3500.00 USDC/ETH\n"
    );
    assert_eq!(
        summary(&ok(&text).events),
        ["2024-06-09T11:45:03Z trade s1 | -0.1 ETH sent, 350 USDC received, -0.7 USDC fee = 320 EUR"]
    );
}
