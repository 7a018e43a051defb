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

#[test]
fn fiat_deposit_receives_the_amount_and_its_fee_and_pays_the_fee() {
    let events =
        run("fiatDepositHistory/successful_wire_with_fee.json", "", "3f9c2b1e8d7a4c6b9e0f1a2b3c4d5e6f").unwrap();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(
        (event.external_id.as_str(), event.kind, event.time),
        ("deposit:3f9c2b1e8d7a4c6b9e0f1a2b3c4d5e6f", EventKind::FiatDeposit, at(1_719_835_200_000))
    );
    // Net effect: the `amount` that reached the balance.
    assert_eq!(event.legs, vec![Leg::received("USD", d("2500.00")), Leg::fee("USD", d("10.00"))]);
    assert_eq!(event.note.as_deref(), Some("WIRE"));
}

#[test]
fn documentation_fiat_examples_failed_and_processing_give_no_event() {
    assert_eq!(run("fiatDepositHistory/doc_example_failed.json", "", "a1d").unwrap(), Vec::new());
    assert_eq!(run("fiatWithdrawHistory/doc_example_processing.json", "", "6c2").unwrap(), Vec::new());
}

#[test]
fn fiat_withdrawal_sends_the_amount_and_pays_both_fees_on_top() {
    let events = run("fiatWithdrawHistory/successful_ach.json", "", "9e8d").unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].external_id, "withdrawal:9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b");
    assert_eq!(events[0].kind, EventKind::FiatWithdrawal);
    assert_eq!(events[0].legs, vec![Leg::sent("USD", d("1200.00")), Leg::fee("USD", d("1.25"))]);
}

#[test]
fn a_completed_fiat_order_without_its_time_is_an_error_naming_the_field() {
    let payload = r#"{"orderId":"x1","orderStatus":"Successful","amount":"5","transactionFee":"0"}"#;
    let record = RawRecord { external_id: "x1".to_owned(), payload: payload.to_owned() };
    let error = normalize(&Stream::new("fiatDepositHistory", ""), &record).unwrap_err();
    assert!(error.reason.contains("createTime"), "{}", error.reason);
    let odd = payload.replace("Successful", "OnHold");
    let error = normalize(&Stream::new("fiatDepositHistory", ""), &RawRecord { payload: odd, ..record }).unwrap_err();
    assert!(error.reason.contains("OnHold"), "an unknown status is named: {}", error.reason);
}

#[test]
fn staking_reward_and_its_distribution_copy_are_one_and_the_same_event() {
    let reward = run("stakingRewards/eth_reward.json", "", "4012345678").unwrap();
    let copy = run("distributions/staking_rewards_copy.json", "", "4012345678").unwrap();
    assert_eq!(reward.len(), 1);
    assert_eq!(reward, copy, "same key, kind, time, legs and note: the ledger keeps one");
    assert_eq!(reward[0].external_id, "binanceus:distribution:4012345678");
    assert_eq!(reward[0].kind, EventKind::Staking);
    assert_eq!(reward[0].legs, vec![Leg::received("ETH", d("0.00412345"))]);
}

#[test]
fn referral_distribution_is_a_rebate_and_a_zero_airdrop_gives_nothing() {
    let events = run("distributions/referral_rewards.json", "", "4012399001").unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].kind, events[0].note.as_deref()), (EventKind::Rebate, Some("Referral Rewards")));
    assert_eq!(events[0].legs, vec![Leg::received("USDT", d("3.21"))]);
    assert_eq!(run("distributions/airdrop_zero_amount.json", "", "4012399002").unwrap(), Vec::new());
    let airdrop = r#"{"amount":"1.5","asset":"BNB","divTime":1721088000000,"category":"Airdrop","tranId":7}"#;
    let record = RawRecord { external_id: "7".to_owned(), payload: airdrop.to_owned() };
    let events = normalize(&Stream::new("distributions", ""), &record).unwrap();
    assert_eq!(events[0].kind, EventKind::Airdrop);
}

#[test]
fn dust_conversion_gives_one_conversion_to_bnb_per_asset_with_its_charge() {
    let events = run("dustLogs/two_assets_to_bnb.json", "", "4012400100").unwrap();
    let ids: Vec<&str> = events.iter().map(|e| e.external_id.as_str()).collect();
    assert_eq!(ids, ["dust:4012400100:ADA", "dust:4012400100:SOL"]);
    assert!(events.iter().all(|e| e.kind == EventKind::Conversion && e.time == at(1_723_000_000_000)));
    assert_eq!(
        events[0].legs,
        vec![Leg::sent("ADA", d("1.5")), Leg::received("BNB", d("0.001")), Leg::fee("BNB", d("0.00002"))]
    );
    assert_eq!(
        events[1].legs,
        vec![Leg::sent("SOL", d("0.0035")), Leg::received("BNB", d("0.0005")), Leg::fee("BNB", d("0.00001"))]
    );
}

#[test]
fn otc_order_is_a_trade_read_in_seconds_or_milliseconds_and_a_failed_one_nothing() {
    let events = run("otcOrders/success_create_time_in_seconds.json", "", "10002349").unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].external_id.as_str(), events[0].kind, events[0].time),
        ("otc:10002349", EventKind::Trade, at(1_641_916_714_000))
    );
    assert_eq!(events[0].legs, vec![Leg::sent("BTC", d("1")), Leg::received("USDT", d("50550.26"))]);
    let usd = run("otcOrders/usd_buy_in_milliseconds.json", "", "10002412").unwrap();
    assert_eq!(usd[0].time, at(1_722_600_000_000));
    assert_eq!(usd[0].fiat_value.as_ref().map(|v| (v.amount, v.currency.as_str())), Some((d("250.00"), "USD")));
    assert_eq!(run("otcOrders/usd_buy_failed.json", "", "10002411").unwrap(), Vec::new());
}
