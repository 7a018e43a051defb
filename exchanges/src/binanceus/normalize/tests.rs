//! Binance.US fixtures (`fixtures/binanceus/api/<stream>/`), one record type per file.

use std::path::Path;
use std::str::FromStr;

use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;

use super::*;
use crate::event::{EventKind, Leg};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/binanceus/api");

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn run(file: &str, scope: &str, raw_id: &str) -> Result<Vec<NewEvent>, NormalizeError> {
    let endpoint = file.split_once('/').unwrap().0;
    let payload = std::fs::read_to_string(Path::new(FIXTURES).join(file)).unwrap();
    normalize(&Stream::new(endpoint, scope), &RawRecord { external_id: raw_id.to_owned(), payload })
}

fn at(ms: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).unwrap()
}

#[test]
fn documentation_trade_example_is_a_trade_with_a_bnb_fee() {
    let events = run("myTrades/doc_example_bnb_btc_buy.json", "BNB/BTC", "28457").unwrap();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(
        (event.external_id.as_str(), event.kind, event.time),
        ("trade:BNBBTC:28457", EventKind::Trade, at(1_499_865_549_590))
    );
    assert_eq!(
        event.legs,
        vec![Leg::sent("BTC", d("48.000012")), Leg::received("BNB", d("12")), Leg::fee("BNB", d("10.1"))]
    );
}

#[test]
fn usd_pair_sell_sends_base_and_receives_dollars() {
    let events = run("myTrades/btc_usd_sell_fee_in_usd.json", "BTC/USD", "90211").unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].external_id, "trade:BTCUSD:90211");
    assert_eq!(
        events[0].legs,
        vec![Leg::sent("BTC", d("0.015")), Leg::received("USD", d("648.7518")), Leg::fee("USD", d("0.6487518"))]
    );
}

#[test]
fn credited_deposit_keeps_hash_address_and_network() {
    let events = run("deposits/credited.json", "", "1033291540261646337").unwrap();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!((event.kind, event.time), (EventKind::Deposit, at(1_706_745_600_000)));
    assert_eq!(event.legs, vec![Leg::received("ETH", d("0.05"))]);
    assert_eq!(event.tx_hash.as_deref(), Some("0x6e1f0d6c1e2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5"));
    assert_eq!(event.network.as_deref(), Some("ETH"));
}

#[test]
fn pending_deposit_gives_no_event_yet() {
    assert_eq!(run("deposits/pending_status_0.json", "", "1033291540261646338").unwrap(), Vec::new());
}

#[test]
fn completed_withdrawal_has_its_network_fee() {
    let events = run("withdrawals/completed.json", "", "4a3a1fcd2a6e4f7d9e0b5c6d7e8f9a0b").unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::Withdrawal);
    assert_eq!(events[0].legs, vec![Leg::sent("BTC", d("0.02")), Leg::fee("BTC", d("0.0002"))]);
    assert_eq!(events[0].tx_hash.as_deref(), Some("f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"));
}

#[test]
fn a_binance_com_only_stream_is_refused_with_its_name() {
    let record = RawRecord { external_id: "1".to_owned(), payload: "{}".to_owned() };
    let error = normalize(&Stream::new("convert", ""), &record).unwrap_err();
    assert!(error.reason.contains("convert"), "{}", error.reason);
}
