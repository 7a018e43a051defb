//! The history file reader on a fixture holding every row type.

use super::*;
use crate::event::LegRole;
use crate::rows::read_text;

fn read() -> Vec<NewEvent> {
    let path = format!("{}/../fixtures/gemini/history/transaction_history.csv", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    read_text(&mut Reader, matches, &text).into_result().unwrap().into_iter().map(|e| e.event).collect()
}

fn legs(event: &NewEvent) -> Vec<(String, String, LegRole)> {
    event.legs.iter().map(|l| (l.asset.clone(), l.amount.normalize().to_string(), l.role)).collect()
}

#[test]
fn every_row_type_becomes_its_event_and_the_totals_row_is_passed_over() {
    let events = read();
    let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::FiatDeposit,
            EventKind::Trade,
            EventKind::Deposit,
            EventKind::Trade,
            EventKind::Interest,
            EventKind::Withdrawal,
            EventKind::Adjustment,
            EventKind::Unknown,
        ]
    );
    assert_eq!(legs(&events[0]), [("USD".into(), "5000".into(), LegRole::Received)]);
    // A buy: the API's tid as the id, the quote sent as the file says, the fee on top.
    let buy = &events[1];
    assert_eq!(buy.external_id, "trade:107317526");
    assert_eq!(buy.time.timestamp_millis(), 1_646_212_500_021);
    assert_eq!(
        legs(buy),
        [
            ("BTC".into(), "0.1".into(), LegRole::Received),
            ("USD".into(), "-4361.25".into(), LegRole::Sent),
            ("USD".into(), "-15.26".into(), LegRole::Fee),
        ]
    );
    let deposit = &events[2];
    assert_eq!(deposit.external_id, "transfer:1646505607700:ETH:1.5");
    assert_eq!(deposit.tx_hash.as_deref(), Some("605c5fa8bf99458d24d61e09941bc443"));
    assert_eq!(deposit.address.as_deref(), Some("0xA63123350Acc8F5ee1b1fBd1A6717135e82dBd28"));
    // A sell on a crypto quote; the fee written in parentheses.
    assert_eq!(
        legs(&events[3]),
        [
            ("ETH".into(), "-1".into(), LegRole::Sent),
            ("BTC".into(), "0.0705".into(), LegRole::Received),
            ("BTC".into(), "-0.0000705".into(), LegRole::Fee),
        ]
    );
    assert_eq!(legs(&events[4]), [("BTC".into(), "0.00012345".into(), LegRole::Received)]);
    assert_eq!(events[4].external_id, "", "Earn rows are keyed by content");
    // A withdrawal dated the US way: its fee on top, keyed as the API's row is.
    let withdrawal = &events[5];
    assert_eq!(withdrawal.external_id, "transfer:1650443445123:BTC:-0.05");
    assert_eq!(
        legs(withdrawal),
        [("BTC".into(), "-0.05".into(), LegRole::Sent), ("BTC".into(), "-0.0001".into(), LegRole::Fee)]
    );
    assert_eq!(legs(&events[6]), [("USD".into(), "-1.25".into(), LegRole::Sent)]);
    assert_eq!(events[6].external_id, "transfer:1685620800000:USD:-1.25");
    assert_eq!(events[7].note.as_deref(), Some("Gemini file type \"Card Cashback\""));
}

#[test]
fn the_file_and_the_api_key_a_transfer_alike() {
    let api_row: Transfer = serde_json::from_str(
        r#"{"type":"Withdrawal","status":"Complete","timestampms":1650443445123,"eid":1,"currency":"BTC","amount":"0.05","feeAmount":"0.0001"}"#,
    )
    .unwrap();
    let from_api = transfer_events(&api_row).unwrap();
    assert_eq!(from_api[0].external_id, read()[5].external_id);
}

#[test]
fn bad_cells_name_the_column() {
    let header = "Date,Time (UTC),Type,Symbol,Specification,USD Amount USD,BTC Amount BTC,Trade ID,Tx Hash\n";
    let error = |row: &str| {
        let text = format!("{header}{row}\n");
        read_text(&mut Reader, matches, &text).into_result().unwrap_err().message
    };
    assert!(error("2022-13-01,00:00:00,Credit,USD,,1,,,").contains("Date"));
    assert!(error("2022-01-01,noon,Credit,USD,,1,,,").contains("Time (UTC)"));
    assert!(error("2022-01-01,00:00:00,Buy,BTCUSD,,-1,0.1,12a,").contains("Trade ID"));
    assert!(error("2022-01-01,00:00:00,Buy,BTCUSD,,,0.1,12,").contains("USD Amount USD"));
    assert!(error("2022-01-01,00:00:00,Credit,USD,,x,,,").contains("USD Amount USD"));
}
