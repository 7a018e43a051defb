use super::*;
use crate::event::LegRole;
use crate::rows::read_text;
use std::str::FromStr;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Runs the reader over a whole file's text as the importer does.
fn read_all(text: &str) -> Result<Vec<ImportedEvent>, RowError> {
    let read = read_text(&mut Reader::default(), matches, text);
    assert_eq!(read.header_line, Some(1), "the fixture's header is a Binance statement header");
    read.into_result()
}

fn events(text: &str) -> Vec<NewEvent> {
    let mut all: Vec<NewEvent> = read_all(text).unwrap().into_iter().map(|e| e.event).collect();
    all.sort_by_key(|e| e.time);
    all
}

fn time(text: &str) -> DateTime<Utc> {
    crate::time::parse_utc(text).unwrap()
}

fn leg(role: LegRole, asset: &str, amount: &str) -> Leg {
    match role {
        LegRole::Sent => Leg::sent(asset, dec(amount)),
        LegRole::Received => Leg::received(asset, dec(amount)),
        LegRole::Fee => Leg::fee(asset, dec(amount)),
    }
}

use LegRole::{Fee, Received, Sent};

/// (time, kind, legs) of each event, for comparing with what is expected.
fn shapes(events: &[NewEvent]) -> Vec<(DateTime<Utc>, EventKind, Vec<Leg>)> {
    events.iter().map(|e| (e.time, e.kind, e.legs.clone())).collect()
}

fn balances(events: &[NewEvent]) -> BTreeMap<String, Decimal> {
    let mut sums = BTreeMap::new();
    for leg in events.iter().flat_map(|e| &e.legs) {
        *sums.entry(leg.asset.clone()).or_insert(Decimal::ZERO) += leg.amount;
    }
    sums.retain(|_, v| !v.is_zero());
    sums
}

/// The sum of the `Change` column per coin, straight from the file's text.
fn change_sums(text: &str) -> BTreeMap<String, Decimal> {
    let mut csv = ::csv::ReaderBuilder::new().from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let names = csv.headers().unwrap().clone();
    let coin = names.iter().position(|n| n == "Coin").unwrap();
    let change = names.iter().position(|n| n == "Change").unwrap();
    let mut sums = BTreeMap::new();
    for record in csv.records() {
        let record = record.unwrap();
        *sums.entry(record[coin].to_string()).or_insert(Decimal::ZERO) += dec(&record[change]);
    }
    sums.retain(|_, v| !v.is_zero());
    sums
}

fn expected_balances(pairs: &[(&str, &str)]) -> BTreeMap<String, Decimal> {
    pairs.iter().map(|(a, v)| (a.to_string(), dec(v))).collect()
}

const V2021: &str = include_str!("../../../../fixtures/binance/csv/transactions_2021.csv");
const V2024: &str = include_str!("../../../../fixtures/binance/csv/transactions_2024.csv");
const V2025: &str = include_str!("../../../../fixtures/binance/csv/transactions_2025.csv");

#[test]
fn binance_headers_are_recognised_and_others_are_not() {
    for text in [V2021, V2024, V2025] {
        let first = text.lines().next().unwrap();
        assert!(matches(&Header::new(first.split(','))), "{first}");
    }
    for other in [
        "Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,Net Worth Amount,Net Worth Currency,Label,Description,TxHash",
        "time,kind,sent_amount,sent_asset,received_amount,received_asset,fee_amount,fee_asset,account",
        "txid,refid,time,type,subtype,aclass,asset,amount,fee,balance",
        "Date(UTC),Pair,Side,Price,Executed,Amount,Fee",
    ] {
        assert!(!matches(&Header::new(other.split(','))), "{other}");
    }
}

#[test]
fn binance_2021_layout_with_old_operation_names() {
    let events = events(V2021);
    let t = time;
    assert_eq!(
        shapes(&events),
        vec![
            (t("2021-02-01 09:12:40"), EventKind::Deposit, vec![leg(Received, "USDT", "2000")]),
            (t("2021-02-01 09:40:05"), EventKind::Deposit, vec![leg(Received, "BNB", "1")]),
            (
                t("2021-02-02 14:03:11"),
                EventKind::Trade,
                vec![leg(Sent, "USDT", "812.5"), leg(Received, "ETH", "0.5"), leg(Fee, "BNB", "0.0061")]
            ),
            (t("2021-02-03 08:00:00"), EventKind::InternalTransfer, vec![leg(Sent, "USDT", "500")]),
            (t("2021-02-03 08:00:00"), EventKind::InternalTransfer, vec![leg(Received, "USDT", "500")]),
            (t("2021-02-04 00:00:00"), EventKind::Interest, vec![leg(Received, "USDT", "0.06849315")]),
            (
                t("2021-02-05 17:22:09"),
                EventKind::Trade,
                vec![leg(Sent, "ETH", "0.2"), leg(Received, "USDT", "331.2"), leg(Fee, "BNB", "0.0025")]
            ),
            (t("2021-02-06 10:00:00"), EventKind::Staking, vec![leg(Received, "BNB", "0.000412")]),
            (t("2021-02-07 11:30:00"), EventKind::Rebate, vec![leg(Received, "BNB", "0.00012")]),
            // The two sides were stamped a second apart: one trade at the earlier second.
            (
                t("2021-02-08 21:45:13"),
                EventKind::Trade,
                vec![leg(Sent, "USDT", "48.6"), leg(Received, "ADA", "120"), leg(Fee, "BNB", "0.00036")]
            ),
            (t("2021-02-10 00:00:00"), EventKind::InternalTransfer, vec![leg(Sent, "USDT", "500")]),
            (t("2021-02-10 00:00:00"), EventKind::InternalTransfer, vec![leg(Received, "USDT", "500")]),
            (t("2021-02-12 06:00:00"), EventKind::Airdrop, vec![leg(Received, "ONT", "1.25")]),
            (
                t("2021-02-15 04:10:33"),
                EventKind::Conversion,
                vec![leg(Sent, "ADA", "0.4"), leg(Sent, "ONT", "1.25"), leg(Received, "BNB", "0.0037")]
            ),
            (t("2021-02-20 19:02:00"), EventKind::Withdrawal, vec![leg(Sent, "ETH", "0.29")]),
        ]
    );
    assert!(events.iter().all(|e| e.external_id.is_empty()));
    let withdrawal = events.iter().find(|e| e.kind == EventKind::Withdrawal).unwrap();
    assert_eq!(withdrawal.note.as_deref(), Some("Withdraw (Spot); Withdraw fee is included"));
    let dust = events.iter().find(|e| e.kind == EventKind::Conversion).unwrap();
    assert_eq!(dust.note.as_deref(), Some("Small assets exchange BNB (Spot)"));
    assert_eq!(
        balances(&events),
        expected_balances(&[("USDT", "1470.16849315"), ("ETH", "0.01"), ("BNB", "0.995272"), ("ADA", "119.6")])
    );
    assert_eq!(balances(&events), change_sums(V2021));
}

#[test]
fn binance_2024_layout_with_new_operation_names() {
    let imported = read_all(V2024).unwrap();
    let mut events: Vec<NewEvent> = imported.iter().map(|e| e.event.clone()).collect();
    events.sort_by_key(|e| e.time);
    let t = time;
    assert_eq!(
        shapes(&events),
        vec![
            (t("2024-03-01 08:00:12"), EventKind::Deposit, vec![leg(Received, "USDT", "1500")]),
            (t("2024-03-01 08:30:00"), EventKind::Deposit, vec![leg(Received, "BNB", "0.5")]),
            (
                t("2024-03-02 10:15:33"),
                EventKind::Trade,
                vec![leg(Sent, "USDT", "500"), leg(Received, "BTC", "0.008"), leg(Fee, "BNB", "0.0009")]
            ),
            // Two fills of one order in the same second: summed per coin.
            (
                t("2024-03-05 14:02:48"),
                EventKind::Trade,
                vec![leg(Sent, "BTC", "0.004"), leg(Received, "USDT", "270.8"), leg(Fee, "USDT", "0.2708")]
            ),
            (
                t("2024-03-07 09:41:20"),
                EventKind::Trade,
                vec![leg(Sent, "USDT", "100"), leg(Received, "SOL", "0.68965517")]
            ),
            (t("2024-03-08 00:00:05"), EventKind::InternalTransfer, vec![leg(Sent, "USDT", "300")]),
            (t("2024-03-08 00:00:05"), EventKind::InternalTransfer, vec![leg(Received, "USDT", "300")]),
            (t("2024-03-09 00:12:44"), EventKind::Interest, vec![leg(Received, "USDT", "0.04109589")]),
            (t("2024-03-09 00:12:44"), EventKind::Interest, vec![leg(Received, "USDT", "0.04109589")]),
            (t("2024-03-10 03:05:17"), EventKind::Staking, vec![leg(Received, "SOL", "0.00071234")]),
            (
                t("2024-03-11 06:00:00"),
                EventKind::Conversion,
                vec![leg(Sent, "SOL", "0.00071234"), leg(Received, "BNB", "0.0001871")]
            ),
            (t("2024-03-12 20:30:59"), EventKind::Withdrawal, vec![leg(Sent, "BTC", "0.0035")]),
            (t("2024-03-13 12:00:00"), EventKind::InternalTransfer, vec![leg(Sent, "USDT", "50")]),
            (t("2024-03-13 12:00:00"), EventKind::InternalTransfer, vec![leg(Received, "USDT", "50")]),
            (t("2024-03-13 12:05:10"), EventKind::Spend, vec![leg(Sent, "USDT", "12.4")]),
            (t("2024-03-14 02:00:00"), EventKind::Rebate, vec![leg(Received, "USDT", "0.0352")]),
            (t("2024-03-15 00:00:01"), EventKind::InternalTransfer, vec![leg(Sent, "USDT", "300")]),
            (t("2024-03-15 00:00:01"), EventKind::InternalTransfer, vec![leg(Received, "USDT", "300")]),
        ]
    );
    // The buffered trade keeps all its rows, in file order: the lines the ledger notes for it.
    let sell = imported.iter().find(|e| e.event.time == t("2024-03-05 14:02:48")).unwrap();
    assert_eq!(sell.rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![7, 8, 9, 10, 11, 12]);
    assert_eq!(sell.event.note.as_deref(), Some("Transaction Sold + Transaction Revenue + Transaction Fee (Spot)"));
    let earn = events.iter().find(|e| e.kind == EventKind::InternalTransfer && e.legs[0].amount > Decimal::ZERO);
    assert_eq!(earn.unwrap().note.as_deref(), Some("Simple Earn Flexible Subscription (Earn)"));
    assert!(events.iter().all(|e| e.external_id.is_empty()));
    assert_eq!(
        balances(&events),
        expected_balances(
            &[("USDT", "1158.24659178"), ("BNB", "0.4992871"), ("BTC", "0.0005"), ("SOL", "0.68965517"),]
        )
    );
    assert_eq!(balances(&events), change_sums(V2024));
}

#[test]
fn binance_2025_layout_with_bom_and_two_digit_years() {
    assert!(V2025.starts_with('\u{feff}'));
    let events = events(V2025);
    let t = time;
    assert_eq!(
        shapes(&events),
        vec![
            (t("2025-01-06 11:20:03"), EventKind::FiatDeposit, vec![leg(Received, "EUR", "300")]),
            (t("2025-01-06 11:25:40"), EventKind::InternalTransfer, vec![leg(Sent, "EUR", "250")]),
            (t("2025-01-06 11:25:40"), EventKind::InternalTransfer, vec![leg(Received, "EUR", "250")]),
            (
                t("2025-01-06 11:25:41"),
                EventKind::Trade,
                vec![leg(Sent, "EUR", "250"), leg(Received, "ETH", "0.07512"), leg(Fee, "ETH", "0.00007512")]
            ),
            (t("2025-01-09 18:00:00"), EventKind::InternalTransfer, vec![leg(Sent, "ETH", "0.05")]),
            (t("2025-01-09 18:00:00"), EventKind::InternalTransfer, vec![leg(Received, "ETH", "0.05")]),
            (t("2025-01-20 00:01:12"), EventKind::Interest, vec![leg(Received, "ETH", "0.0000184")]),
            (t("2025-01-22 07:45:00"), EventKind::Airdrop, vec![leg(Received, "ARB", "3.1")]),
            (
                t("2025-01-25 13:14:15"),
                EventKind::Trade,
                vec![leg(Sent, "ETH", "0.02"), leg(Received, "USDC", "66.48")]
            ),
            (t("2025-02-01 09:00:00"), EventKind::Rebate, vec![leg(Received, "BNB", "0.0015")]),
            (t("2025-02-02 16:45:30"), EventKind::Withdrawal, vec![leg(Sent, "ETH", "0.005")]),
            (t("2025-02-03 10:00:00"), EventKind::FiatWithdrawal, vec![leg(Sent, "EUR", "50")]),
        ]
    );
    assert_eq!(
        balances(&events),
        // EUR: 300 in, 50 out, 250 spent: nothing left.
        expected_balances(&[("ETH", "0.05006328"), ("ARB", "3.1"), ("USDC", "66.48"), ("BNB", "0.0015")])
    );
    assert_eq!(balances(&events), change_sums(V2025));
}

#[test]
fn binance_several_pairs_in_one_second_are_one_event_with_a_note() {
    let text = include_str!("../../../../fixtures/binance/csv/same_second_pairs.csv");
    let events = events(text);
    let t = time("2024-04-02 15:30:00");
    assert_eq!(
        shapes(&events),
        vec![
            (
                t,
                EventKind::Trade,
                vec![
                    leg(Sent, "ETH", "0.05"),
                    leg(Sent, "USDT", "100"),
                    leg(Received, "BTC", "0.0025"),
                    leg(Received, "SOL", "0.7"),
                    leg(Fee, "BNB", "0.0003"),
                ]
            ),
            // The convert at the same second is a family of its own: a clean pair.
            (t, EventKind::Trade, vec![leg(Sent, "USDT", "20"), leg(Received, "DOGE", "130")]),
        ]
    );
    assert!(events[0].note.as_deref().unwrap().contains("several pairs were traded in this second"));
    assert_eq!(events[1].note.as_deref(), Some("Binance Convert (Spot)"));
    assert_eq!(balances(&events), change_sums(text));
}

#[test]
fn binance_fee_rows_alone_are_a_fee_event() {
    let text = "UTC_Time,Account,Operation,Coin,Change,Remark\n2021-01-01 00:00:00,Spot,Fee,BNB,-0.001,\n";
    let events = events(text);
    assert_eq!(shapes(&events), vec![(time("2021-01-01"), EventKind::Fee, vec![leg(Fee, "BNB", "0.001")])]);
}

#[test]
fn binance_operation_names_ignore_case_and_spacing() {
    let text = "UTC_Time,Account,Operation,Coin,Change,Remark\n\
                2021-01-01 00:00:00,Spot,Small Assets Exchange BNB,XRP,-1,\n\
                2021-01-01 00:00:00,Spot,Small  assets exchange bnb,BNB,0.001,\n\
                2021-01-02 00:00:00,Spot,Transfer Between Spot Account and UM Futures Account,USDT,-5,\n";
    let events = events(text);
    assert_eq!(events[0].kind, EventKind::Conversion);
    assert_eq!(events[0].legs, vec![leg(Sent, "XRP", "1"), leg(Received, "BNB", "0.001")]);
    assert_eq!(events[1].kind, EventKind::InternalTransfer);
}

fn error_of(text: &str) -> RowError {
    read_all(text).unwrap_err()
}

#[test]
fn binance_unknown_operation_is_kept_as_kind_unknown_with_its_legs() {
    let all = events(include_str!("../../../../fixtures/binance/csv/unknown_operation.csv"));
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].kind, EventKind::Unknown);
    assert_eq!(all[1].legs, vec![Leg::received("USDT", Decimal::new(325, 2))]);
    assert!(all[1].note.as_deref().is_some_and(|n| n.contains("Realized Profit and Loss")), "{:?}", all[1].note);
}

#[test]
fn binance_bad_number_is_refused() {
    let e = error_of(include_str!("../../../../fixtures/binance/csv/bad_number.csv"));
    assert_eq!(e.line, Some(2));
    assert!(e.message.contains("column \"Change\"") && e.message.contains("\"1,500.00\""), "{e}");
}

#[test]
fn binance_bad_date_is_refused() {
    let e = error_of(include_str!("../../../../fixtures/binance/csv/bad_date.csv"));
    assert_eq!(e.line, Some(2));
    assert!(e.message.contains("column \"Time\"") && e.message.contains("\"24-13-01 10:00:00\""), "{e}");
    assert!(e.message.contains("YY-MM-DD HH:MM:SS"), "{e}");
    for bad in ["2024/01/02 10:00:00", "123-01-02 10:00:00", "", "24-01-02"] {
        let text = format!("User ID,Time,Account,Operation,Coin,Change,Remark\n1,{bad},Spot,Deposit,BTC,1,\n");
        assert!(read_all(&text).is_err(), "{bad}");
    }
}

#[test]
fn binance_one_sided_trade_is_refused_with_its_lines() {
    let e = error_of(include_str!("../../../../fixtures/binance/csv/bad_one_sided_trade.csv"));
    assert_eq!(e.line, Some(3));
    assert!(e.message.contains("lines 3, 4) only receive BTC"), "{e}");
    assert!(e.message.contains("cannot tell what was traded"), "{e}");
}

#[test]
fn binance_wrong_sign_for_the_operation_is_refused() {
    let e = error_of(include_str!("../../../../fixtures/binance/csv/bad_direction.csv"));
    assert_eq!(e.line, Some(2));
    assert!(e.message.contains("a \"Deposit\" row should have a positive Change, not -0.1"), "{e}");
}

#[test]
fn binance_positive_fee_is_refused() {
    let text = "UTC_Time,Account,Operation,Coin,Change,Remark\n\
                2021-01-01 00:00:00,Spot,Buy,BTC,1,\n\
                2021-01-01 00:00:00,Spot,Transaction Related,USDT,-100,\n\
                2021-01-01 00:00:00,Spot,Fee,BNB,0.1,\n";
    let e = error_of(text);
    assert!(e.message.contains("+0.1 BNB"), "{e}");
}
