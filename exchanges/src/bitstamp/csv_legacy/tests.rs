//! The older export layout: its cells, its times to the minute, its rows as the newer layout's events.

use super::*;
use crate::rows::read_text;
use crate::{EventKind, LegRole};

const HEADER: &str = "Type,Datetime,Account,Amount,Value,Rate,Fee,Sub Type\n";

fn read(body: &str) -> crate::rows::TextRead {
    read_text(&mut Reader, matches, &format!("{HEADER}{body}"))
}

fn legs(event: &ImportedEvent) -> Vec<(String, String, LegRole)> {
    event.event.legs.iter().map(|l| (l.asset.clone(), l.amount.to_string(), l.role)).collect()
}

fn ms(text: &str) -> i64 {
    crate::time::to_millis(parse_utc(text).unwrap())
}

#[test]
fn times_to_the_minute_in_every_written_form() {
    for (text, expected) in [
        ("Jan. 27, 2017, 03:28 PM", "2017-01-27 15:28:00"),
        ("Sept. 30, 2016, 12:05 AM", "2016-09-30 00:05:00"),
        ("May 3, 2017, 12:00 PM", "2017-05-03 12:00:00"),
        ("March 1, 2018, 9:07 a.m.", "2018-03-01 09:07:00"),
        ("2019-06-01 10:11", "2019-06-01 10:11:00"),
    ] {
        let time = minute_time(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(crate::time::to_millis(time), ms(expected), "{text}");
    }
    for bad in ["Foo. 27, 2017, 03:28 PM", "Jan. 32, 2017, 03:28 PM", "Jan. 27, 2017, 13:28 PM", "yesterday"] {
        assert!(minute_time(bad).unwrap_err().contains("Jan. 27, 2017"), "{bad}");
    }
}

#[test]
fn every_row_type_becomes_the_event_of_the_newer_layout_keyed_by_content() {
    let read = read(
        "Deposit,\"Dec. 1, 2016, 08:00 AM\",Main Account,5000.00 USD,,,,\n\
         Market,\"Jan. 2, 2017, 10:11 AM\",Main Account,0.02340000 BTC,1000.00 USD,42735.00 USD,3.00 USD,Buy\n\
         Market,\"Jan. 3, 2017, 08:00 AM\",Main Account,0.12345678 ETH,271.60 EUR,2200.00 EUR,0.41 EUR,Sell\n\
         Withdrawal,\"Feb. 1, 2017, 12:30 PM\",Main Account,0.20000000 BTC,,,0.00010000 BTC,\n\
         Ripple deposit,\"Feb. 2, 2017, 01:00 PM\",Main Account,20.00000000 XRP,,,,\n\
         Staking reward,\"April 1, 2017, 12:00 AM\",Main Account,0.00123400 ETH,,,,\n",
    );
    assert!(read.errors.is_empty(), "{:?}", read.errors);
    let kinds: Vec<EventKind> = read.events.iter().map(|e| e.event.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::FiatDeposit,
            EventKind::Trade,
            EventKind::Trade,
            EventKind::Withdrawal,
            EventKind::Deposit,
            EventKind::Staking
        ]
    );
    assert_eq!(crate::time::to_millis(read.events[1].event.time), ms("2017-01-02 10:11:00"));
    assert_eq!(
        legs(&read.events[1]),
        vec![
            ("BTC".into(), "0.0234".into(), LegRole::Received),
            ("USD".into(), "-1000".into(), LegRole::Sent),
            ("USD".into(), "-3".into(), LegRole::Fee),
        ]
    );
    assert_eq!(
        legs(&read.events[2]),
        vec![
            ("ETH".into(), "-0.12345678".into(), LegRole::Sent),
            ("EUR".into(), "271.6".into(), LegRole::Received),
            ("EUR".into(), "-0.41".into(), LegRole::Fee),
        ]
    );
    assert_eq!(
        legs(&read.events[3]),
        vec![("BTC".into(), "-0.2".into(), LegRole::Sent), ("BTC".into(), "-0.0001".into(), LegRole::Fee)]
    );
    // No id in the file: the importer keys each event by its content.
    assert!(read.events.iter().all(|e| e.event.external_id.is_empty()));
}

#[test]
fn the_two_layouts_are_told_apart_by_their_headers() {
    let old = Header::new(["Type", "Datetime", "Account", "Amount", "Value", "Rate", "Fee", "Sub Type"]);
    let new = Header::new([
        "ID",
        "Account",
        "Type",
        "Subtype",
        "Datetime",
        "Amount",
        "Amount currency",
        "Value",
        "Value currency",
        "Rate",
        "Rate currency",
        "Fee",
        "Fee currency",
        "Order ID",
    ]);
    assert!(matches(&old) && !super::super::csv::matches(&old));
    assert!(!matches(&new) && super::super::csv::matches(&new));
}

#[test]
fn bad_cells_and_unknown_types_are_errors_naming_the_column() {
    let read = read(
        "Card purchase,\"Jan. 2, 2017, 10:11 AM\",Main Account,1 BTC,,,,\n\
         Market,\"Jan. 2, 2017, 10:11 AM\",Main Account,1 BTC,5 USD,5 USD,,Swap\n\
         Deposit,\"Jan. 2, 2017, 10:11 AM\",Main Account,1.5,,,,\n\
         Deposit,not a time,Main Account,1 BTC,,,,\n\
         Market,\"Jan. 2, 2017, 10:11 AM\",Main Account,1 BTC,,,,Buy\n",
    );
    let messages: Vec<String> = read.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(messages.len(), 5, "{messages:?}");
    assert!(messages[0].contains("Card purchase") && messages[0].contains("generic format"), "{}", messages[0]);
    assert!(messages[1].contains("Sub Type"), "{}", messages[1]);
    assert!(messages[2].contains("Amount") && messages[2].contains("0.5 BTC"), "{}", messages[2]);
    assert!(messages[3].contains("Datetime"), "{}", messages[3]);
    assert!(messages[4].contains("Value"), "{}", messages[4]);
}
