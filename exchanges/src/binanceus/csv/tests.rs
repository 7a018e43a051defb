//! The Binance.US transaction history reader on `fixtures/binanceus/csv/`.

use std::str::FromStr;

use super::*;
use crate::adapter::{RawRecord, Stream};
use crate::rows::read_text;

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

const FILE: &str = include_str!("../../../../fixtures/binanceus/csv/transaction_history.csv");

fn events() -> Vec<NewEvent> {
    let read = read_text(&mut Reader, matches, FILE);
    assert_eq!(read.header_line, Some(1));
    read.into_result().unwrap().into_iter().map(|imported| imported.event).collect()
}

fn by_id(id: &str) -> NewEvent {
    events().into_iter().find(|e| e.external_id == id).unwrap_or_else(|| panic!("no event {id}"))
}

#[test]
fn binanceus_header_is_recognised_and_binance_com_ones_are_not() {
    assert!(matches(&Header::new(FILE.lines().next().unwrap().split(','))));
    assert!(!matches(&Header::new("User_ID,UTC_Time,Account,Operation,Coin,Change,Remark".split(','))));
    assert!(!matches(&Header::new("Date(UTC),Pair,Side,Price,Executed,Amount,Fee".split(','))));
}

#[test]
fn every_row_is_one_event_and_nothing_is_fatal() {
    let events = events();
    assert_eq!(events.len(), 9);
    let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::FiatDeposit,
            EventKind::Deposit,
            EventKind::Trade,
            EventKind::Trade,
            EventKind::Staking,
            EventKind::Rebate,
            EventKind::Withdrawal,
            EventKind::Trade,
            EventKind::Unknown,
        ]
    );
}

#[test]
fn a_file_trade_is_the_api_trade_with_the_same_id_and_legs() {
    let from_file = by_id("trade:BNBBTC:28457");
    let payload = include_str!("../../../../fixtures/binanceus/api/myTrades/doc_example_bnb_btc_buy.json");
    let from_api = super::super::normalize::normalize(
        &Stream::new("myTrades", "BNB/BTC"),
        &RawRecord { external_id: "28457".to_owned(), payload: payload.to_owned() },
    )
    .unwrap();
    assert_eq!(from_api[0].external_id, from_file.external_id);
    assert_eq!(from_api[0].legs, from_file.legs);
}

#[test]
fn a_sell_sends_the_base_and_receives_the_quote_less_nothing_else() {
    let sell = by_id("trade:BTCUSD:90211");
    assert_eq!(
        sell.legs,
        vec![Leg::sent("BTC", d("0.015")), Leg::received("USD", d("648.7518")), Leg::fee("USD", d("0.6487518"))]
    );
}

#[test]
fn withdrawal_keeps_its_network_fee_and_quick_buy_pays_dollars() {
    assert_eq!(by_id("withdrawal:700000003").legs, vec![Leg::sent("BTC", d("0.02")), Leg::fee("BTC", d("0.0002"))]);
    assert_eq!(
        by_id("binanceus:Quick Buy:700000004").legs,
        vec![Leg::sent("USD", d("50.00")), Leg::received("SOL", d("0.5")), Leg::fee("USD", d("0.5"))]
    );
}

#[test]
fn an_unknown_category_is_kept_as_unknown_with_its_names() {
    let event = by_id("binanceus:Lottery:700000005");
    assert_eq!(event.kind, EventKind::Unknown);
    assert_eq!(event.legs, vec![Leg::received("DOGE", d("10"))]);
    assert!(event.note.as_deref().unwrap_or("").contains("Lottery"));
}

#[test]
fn a_bad_amount_names_its_column() {
    let text = FILE.replace("0.015,648.75", "0.0x5,648.75");
    let read = read_text(&mut Reader, matches, &text);
    let error = read.errors.first().expect("the bad row is an error");
    assert!(error.message.contains("Realized_Amount_For_Base_Asset"), "{}", error.message);
}
