use std::str::FromStr;

use super::*;
use crate::event::LegRole;
use crate::rows::read_text;

/// Runs a whole file through the reader, as the importer does: header on the first line.
fn read_all(text: &str) -> Result<Vec<ImportedEvent>, RowError> {
    let read = read_text(&mut Reader::default(), matches, text);
    assert_eq!(read.header_line, Some(1), "the fixture's header is a Kraken ledgers header");
    read.into_result()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// An event in short: kind, id, time, legs (asset, signed amount, role).
type Short = (EventKind, String, String, Vec<ShortLeg>);

/// A leg in short: asset, signed amount, role.
type ShortLeg = (String, Decimal, LegRole);

fn short(imported: &ImportedEvent) -> Short {
    let e = &imported.event;
    (
        e.kind,
        e.external_id.clone(),
        e.time.format("%Y-%m-%d %H:%M:%S").to_string(),
        e.legs.iter().map(|l| (l.asset.clone(), l.amount.normalize(), l.role)).collect(),
    )
}

fn ev(kind: EventKind, id: &str, time: &str, legs: &[(&str, &str, LegRole)]) -> Short {
    (
        kind,
        id.to_string(),
        time.to_string(),
        legs.iter().map(|(a, v, r)| (a.to_string(), dec(v).normalize(), *r)).collect(),
    )
}

use EventKind as K;
use LegRole::{Fee as F, Received as R, Sent as S};

/// Sum of legs per asset, zero totals dropped.
fn leg_balances(events: &[ImportedEvent]) -> BTreeMap<String, Decimal> {
    let mut sums = BTreeMap::new();
    for leg in events.iter().flat_map(|e| &e.event.legs) {
        *sums.entry(leg.asset.clone()).or_insert(Decimal::ZERO) += leg.amount;
    }
    sums.retain(|_, v: &mut Decimal| !v.is_zero());
    sums.into_iter().map(|(a, v)| (a, v.normalize())).collect()
}

/// What the file's own `balance` column says at the end: the last balance per asset code
/// (and wallet), summed per canonical asset, zero totals dropped. Also checks that every
/// completed row's balance is the previous one + amount − fee, so the fixture is coherent.
fn file_balances(text: &str) -> BTreeMap<String, Decimal> {
    let mut csv = ::csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let header = Header::new(csv.headers().unwrap().iter());
    let mut last: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for record in csv.records() {
        let record = record.unwrap();
        let row = Row::new(0, &header, &record);
        let Some(balance) = row.optional_amount("balance").unwrap() else { continue };
        let key = (row.get("asset").to_string(), row.get("wallet").to_string());
        let before = last.get(&key).copied().unwrap_or_default();
        let expected = before + row.amount("amount").unwrap() - row.amount("fee").unwrap();
        assert_eq!(balance, expected, "fixture balance of {key:?} at {:?}", row.get("txid"));
        last.insert(key, balance);
    }
    let mut sums = BTreeMap::new();
    for ((code, _), balance) in last {
        *sums.entry(canonical_asset(&code).unwrap()).or_insert(Decimal::ZERO) += balance;
    }
    sums.retain(|_, v: &mut Decimal| !v.is_zero());
    sums.into_iter().map(|(a, v)| (a, v.normalize())).collect()
}

fn balances(pairs: &[(&str, &str)]) -> BTreeMap<String, Decimal> {
    pairs.iter().map(|(a, v)| (a.to_string(), dec(v).normalize())).collect()
}

fn assert_balances(text: &str, events: &[ImportedEvent], expected: &[(&str, &str)]) {
    assert_eq!(file_balances(text), balances(expected), "the fixture's balance column");
    assert_eq!(leg_balances(events), balances(expected), "the sum of legs");
}

const Y2019: &str = include_str!("../../../../fixtures/kraken/csv/ledgers_2019_no_subtype.csv");
const Y2021: &str = include_str!("../../../../fixtures/kraken/csv/ledgers_2021.csv");
const Y2022: &str = include_str!("../../../../fixtures/kraken/csv/ledgers_2022_trailing_column.csv");
const Y2023: &str = include_str!("../../../../fixtures/kraken/csv/ledgers_2023_amountusd.csv");
const Y2024: &str = include_str!("../../../../fixtures/kraken/csv/ledgers_2024_wallet.csv");
const Y2024_USD: &str = include_str!("../../../../fixtures/kraken/csv/ledgers_2024_wallet_amountusd.csv");
const Y2025: &str = include_str!("../../../../fixtures/kraken/csv/ledgers_2025.csv");

#[test]
fn every_layout_matches_and_others_do_not() {
    for text in [Y2019, Y2021, Y2022, Y2023, Y2024, Y2024_USD, Y2025] {
        let first = text.lines().next().unwrap();
        let header = Header::new(first.split(',').map(|n| n.trim_matches('"')));
        assert!(matches(&header), "{first}");
    }
    let koinly = Header::new([
        "Date",
        "Sent Amount",
        "Sent Currency",
        "Received Amount",
        "Received Currency",
        "Fee Amount",
        "Fee Currency",
        "Net Worth Amount",
        "Net Worth Currency",
        "Label",
        "Description",
        "TxHash",
    ]);
    let generic = Header::new(["time", "kind", "sent_amount", "sent_asset", "fee_amount", "fee_asset", "id"]);
    let trades = Header::new([
        "txid",
        "ordertxid",
        "pair",
        "time",
        "type",
        "ordertype",
        "price",
        "cost",
        "fee",
        "vol",
        "margin",
        "misc",
        "ledgers",
    ]);
    for other in [koinly, generic, trades] {
        assert!(!matches(&other), "{:?}", other.names());
    }
}

#[test]
fn layout_2019_without_subtype() {
    let events = read_all(Y2019).unwrap();
    let got: Vec<Short> = events.iter().map(short).collect();
    assert_eq!(
        got,
        vec![
            ev(K::FiatDeposit, "LLMHLR-ZXY6C-6E65E7", "2019-01-07 09:20:41", &[("EUR", "1000", R)]),
            ev(K::Rebate, "LMWYWH-2EGEW-S2K4HQ", "2019-01-07 09:21:15", &[("KFEE", "1000", R)]),
            ev(
                K::Trade,
                "T9XX27-FP8KL-NAD3D4",
                "2019-01-08 14:02:11",
                &[("EUR", "-600", S), ("BTC", "0.175", R), ("KFEE", "-96", F)]
            ),
            ev(
                K::Trade,
                "TBZ6NC-WDKLF-8TSTHZ",
                "2019-01-15 10:45:30",
                &[("BTC", "-0.05", S), ("ETH", "1.2", R), ("ETH", "-0.00312", F)]
            ),
            ev(K::Airdrop, "L577CH-ZJ6MF-3FYSQK", "2019-01-20 08:00:00", &[("BSV", "0.175", R)]),
            ev(
                K::Withdrawal,
                "LFX6ET-34F33-NHCPP9",
                "2019-01-28 16:41:57",
                &[("BTC", "-0.08", S), ("BTC", "-0.0005", F)]
            ),
            ev(
                K::Trade,
                "T4UL5B-M94AA-7C34PL",
                "2019-02-02 11:11:11",
                &[("ETH", "-0.5", S), ("EUR", "55", R), ("EUR", "-0.143", F)]
            ),
            ev(
                K::FiatWithdrawal,
                "LS5Z6W-RHWGX-E6V7V4",
                "2019-02-04 09:00:27",
                &[("EUR", "-200", S), ("EUR", "-0.09", F)]
            ),
        ]
    );
    // The KFEE trade fee row is part of the trade: three rows.
    let trade = &events[2];
    assert_eq!(trade.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [5, 6, 7]);
    assert_balances(
        Y2019,
        &events,
        &[("EUR", "254.767"), ("KFEE", "904"), ("BTC", "0.0445"), ("ETH", "0.69688"), ("BSV", "0.175")],
    );
}

#[test]
fn layout_2021_skips_pending_rows_and_nets_staking_moves() {
    let events = read_all(Y2021).unwrap();
    let got: Vec<Short> = events.iter().map(short).collect();
    assert_eq!(
        got,
        vec![
            ev(K::FiatDeposit, "LW4C4Z-26FCR-XTYXST", "2021-03-02 10:08:19", &[("EUR", "800", R)]),
            ev(
                K::Trade,
                "T4696R-WTZ57-DM7GJA",
                "2021-03-04 14:55:10",
                &[("EUR", "-400", S), ("BTC", "0.0096", R), ("EUR", "-0.64", F)]
            ),
            // The trade is written once a row ten minutes away is read: the staking move
            // seven minutes later comes out first.
            ev(K::InternalTransfer, "LXA2PP-3EPL6-LZ2JWL", "2021-03-05 09:20:28", &[("DOT", "-9.375", S)]),
            ev(
                K::Trade,
                "TSYH3J-QDM7D-3673VZ",
                "2021-03-05 09:12:44",
                &[("EUR", "-300", S), ("DOT", "9.375", R), ("EUR", "-0.48", F)]
            ),
            ev(K::InternalTransfer, "LHEH4S-9SE25-5UJZKK", "2021-03-05 09:22:46", &[("DOT", "9.375", R)]),
            ev(K::Staking, "L5MCMC-ZWDD7-359FHY", "2021-03-12 01:04:18", &[("DOT", "0.0312", R)]),
            ev(
                K::Trade,
                "TACUKS-XZPC3-Z2UX24",
                "2021-03-14 19:31:07",
                &[("EUR", "-50", S), ("ETH", "0.031", R), ("EUR", "-0.75", F)]
            ),
            ev(
                K::Withdrawal,
                "LHL53Z-JV3JR-LP89EU",
                "2021-03-15 17:58:03",
                &[("BTC", "-0.005", S), ("BTC", "-0.00015", F)]
            ),
            ev(K::Adjustment, "LKR7WK-AUVE8-HCXFYU", "2021-03-20 00:00:00", &[("BTC", "-0.0000001", S)]),
        ]
    );
    assert_eq!(events[2].event.note.as_deref(), Some("transfer/spottostaking"));
    // DOT and DOT.S are one asset: the staked balance shows up as DOT.
    assert_balances(Y2021, &events, &[("EUR", "48.13"), ("BTC", "0.0044499"), ("DOT", "9.4062"), ("ETH", "0.031")]);
}

#[test]
fn layout_2022_trade_rows_apart_still_make_one_trade() {
    let events = read_all(Y2022).unwrap();
    let trades: Vec<&ImportedEvent> = events.iter().filter(|e| e.event.kind == K::Trade).collect();
    assert_eq!(trades.len(), 3, "TE5RNC…, T62MPR… and the lone T7F7YM…");
    // TE5RNC's rows are lines 3 and 6, with T62MPR's rows between them.
    assert_eq!(
        short(trades[0]),
        ev(
            K::Trade,
            "TE5RNC-T3YQ8-BA33GG",
            "2022-01-05 12:00:00",
            &[("USD", "-1000", S), ("BTC", "0.023", R), ("USD", "-1.6", F)]
        )
    );
    assert_eq!(trades[0].rows.iter().map(|r| r.line).collect::<Vec<_>>(), [3, 6]);
    assert_eq!(
        short(trades[1]),
        ev(
            K::Trade,
            "T62MPR-T95LR-Q6WHDL",
            "2022-01-05 12:00:00",
            &[("USD", "-500", S), ("DOGE", "3500", R), ("USD", "-0.8", F)]
        )
    );
    // A lone trade row is a one-sided trade, written at the end of the file.
    assert_eq!(short(trades[2]), ev(K::Trade, "T7F7YM-N38T3-CYBPL3", "2022-02-01 07:07:07", &[("USD", "-0.01", S)]));
    assert!(trades[2].event.note.as_deref().unwrap().contains("only one side"));
    assert_eq!(events.last().unwrap().event.external_id, "T7F7YM-N38T3-CYBPL3");

    let kinds: Vec<(EventKind, &str)> =
        events.iter().map(|e| (e.event.kind, e.event.external_id.as_str())).filter(|(k, _)| *k != K::Trade).collect();
    assert_eq!(
        kinds,
        [
            (K::FiatDeposit, "LZ85YQ-L9ZH9-4UKUPX"),
            (K::Rebate, "L2CACA-9BB9U-ZSC3ED"),
            (K::Income, "L7YJQF-3D8T6-VRMMSE"),
            (K::Rebate, "LRZ6D6-BNDLB-6VFP2A"),
            (K::Airdrop, "LPUM6C-HH738-MA5GEA"),
            (K::InternalTransfer, "L4E8TS-JW9T8-B5L7P6"),
            (K::InternalTransfer, "L4C3FW-FQHRT-XXVU7D"),
            (K::Staking, "LXBVLM-Y7JVU-53RJS5"),
            (K::FiatWithdrawal, "LGWBED-9CS2K-5J8AEK"),
            (K::FiatDeposit, "LHPFYC-BYG5E-ZUUPMJ"),
        ]
    );
    let reversal = events.iter().find(|e| e.event.external_id == "LHPFYC-BYG5E-ZUUPMJ").unwrap();
    assert_eq!(reversal.event.note.as_deref(), Some("reversal of a failed withdrawal"));
    // USD.M (opt-in rewards) is USD.
    assert_balances(Y2022, &events, &[("USD", "514.292"), ("DOGE", "3500"), ("BTC", "0.023"), ("FLR", "150")]);
}

#[test]
fn layout_2023_with_amountusd_margin_and_eth2() {
    let events = read_all(Y2023).unwrap();
    let got: Vec<Short> = events.iter().map(short).collect();
    let ids: Vec<String> = events.iter().map(|e| e.event.external_id.clone()).collect();
    assert_eq!(
        got,
        vec![
            ev(K::FiatDeposit, &ids[0], "2023-02-01 09:00:00", &[("EUR", "5000", R)]),
            ev(
                K::Trade,
                "TCVTAN-CU2R9-QQV29A",
                "2023-02-02 10:30:00",
                &[("EUR", "-3000", S), ("ETH", "2", R), ("EUR", "-4.8", F)]
            ),
            ev(K::InternalTransfer, &ids[2], "2023-02-03 11:00:00", &[("ETH", "-1.5", S)]),
            ev(K::InternalTransfer, &ids[3], "2023-02-03 11:00:09", &[("ETH", "1.5", R)]),
            ev(K::Staking, &ids[4], "2023-02-10 00:00:00", &[("ETH", "0.0021", R)]),
            ev(K::Staking, &ids[5], "2023-02-17 00:00:00", &[("ETH", "0.002", R)]),
            ev(K::Fee, &ids[6], "2023-02-20 15:00:00", &[("EUR", "-1.2", F)]),
            ev(K::Fee, &ids[7], "2023-02-20 19:00:00", &[("EUR", "-0.4", F)]),
            ev(K::Trade, &ids[8], "2023-02-21 09:30:00", &[("EUR", "-250", S), ("BTC", "0.01", R)]),
            ev(
                K::Trade,
                &ids[9],
                "2023-02-22 12:00:00",
                &[("ETH", "-0.1", S), ("EUR", "151.5", R), ("EUR", "-0.25", F)]
            ),
            ev(K::Adjustment, &ids[10], "2023-04-12 00:00:00", &[("ETH", "-0.0001", S)]),
            ev(K::FiatWithdrawal, &ids[11], "2023-04-20 16:00:00", &[("EUR", "-1000", S), ("EUR", "-0.09", F)]),
        ]
    );
    // Trades are keyed by refid (T…), single rows by txid (L…).
    assert!(ids.iter().enumerate().all(|(i, id)| id.starts_with(if [1, 8, 9].contains(&i) { 'T' } else { 'L' })));
    assert_balances(Y2023, &events, &[("EUR", "894.76"), ("ETH", "1.904"), ("BTC", "0.01")]);
}

#[test]
fn layout_2024_with_wallet_and_earn() {
    let events = read_all(Y2024).unwrap();
    let kinds: Vec<EventKind> = events.iter().map(|e| e.event.kind).collect();
    assert_eq!(
        kinds,
        [
            K::FiatDeposit,
            K::Trade,
            K::InternalTransfer,
            K::InternalTransfer,
            K::InternalTransfer,
            K::InternalTransfer,
            K::Staking,
            K::InternalTransfer,
            K::InternalTransfer,
            K::Staking,
            K::InternalTransfer,
            K::InternalTransfer,
            K::InternalTransfer,
            K::Withdrawal,
        ]
    );
    // Both rows of an allocation share a refid, so each is its own event under its txid.
    for e in events.iter().filter(|e| e.event.kind != K::Trade) {
        assert_eq!(e.rows.len(), 1);
    }
    assert_eq!(events[5].rows[0].line, events[4].rows[0].line + 1, "the allocation's two rows");
    assert_ne!(events[4].event.external_id, events[5].event.external_id);
    assert_eq!(events[5].event.note.as_deref(), Some("earn/allocation, wallet earn / bonded"));
    assert_eq!(short(&events[6]).3, vec![("DOT".to_string(), dec("0.85"), R), ("DOT".to_string(), dec("-0.0425"), F)]);
    assert_eq!(short(&events[12]).3, vec![("USD".to_string(), dec("-100"), S)], "spot to futures leaves");
    assert_balances(Y2024, &events, &[("USD", "894.8"), ("DOT", "221.8075")]);
}

#[test]
fn layout_2024_with_wallet_and_amountusd() {
    let events = read_all(Y2024_USD).unwrap();
    let got: Vec<(EventKind, Vec<ShortLeg>)> = events.iter().map(short).map(|(k, _, _, legs)| (k, legs)).collect();
    let legs = |l: &[(&str, &str, LegRole)]| -> Vec<ShortLeg> {
        l.iter().map(|(a, v, r)| (a.to_string(), dec(v).normalize(), *r)).collect()
    };
    assert_eq!(
        got,
        vec![
            (K::Deposit, legs(&[("USDC", "1000", R)])),
            (K::InternalTransfer, legs(&[("SOL", "-8", S)])),
            (K::InternalTransfer, legs(&[("SOL", "8", R)])),
            (K::Trade, legs(&[("USDC", "-800", S), ("SOL", "8", R), ("USDC", "-2.08", F)])),
            (K::Staking, legs(&[("SOL", "0.012", R)])),
            (K::Airdrop, legs(&[("JUP", "25", R)])),
            (K::Withdrawal, legs(&[("USDC", "-150", S), ("USDC", "-1", F)])),
        ]
    );
    assert_balances(Y2024_USD, &events, &[("USDC", "46.92"), ("SOL", "8.012"), ("JUP", "25")]);
}

#[test]
fn layout_2025_with_subclass_and_wallet() {
    let events = read_all(Y2025).unwrap();
    let got: Vec<Short> = events.iter().map(short).collect();
    assert_eq!(
        got,
        vec![
            ev(K::FiatDeposit, "LDHG37-SJLDV-QB2QKD", "2025-02-03 09:14:22", &[("EUR", "1500", R)]),
            ev(
                K::Trade,
                "T5BZWH-D24V9-EEWWHL",
                "2025-02-03 09:31:05",
                &[("EUR", "-1000", S), ("BTC", "0.015", R), ("EUR", "-2.6", F)]
            ),
            ev(
                K::Trade,
                "IR374QAV-J52FP3-STA6M6",
                "2025-02-10 07:00:41",
                &[("EUR", "-200", S), ("ETH", "0.0571428571", R), ("EUR", "-3", F)]
            ),
            ev(K::InternalTransfer, "LRQ3JU-H5UND-RCT28J", "2025-02-11 12:20:18", &[("ETH", "-0.0571428571", S)]),
            ev(K::InternalTransfer, "LQZAUH-SDGVB-686EDC", "2025-02-11 12:20:18", &[("ETH", "0.0571428571", R)]),
            ev(K::Staking, "LSMMUB-9E63A-44EPQE", "2025-02-18 02:05:33", &[("ETH", "0.000095", R)]),
            ev(
                K::Trade,
                "T6KEGB-8RRC3-HSHKUX",
                "2025-03-01 16:48:09",
                &[("BTC", "-0.005", S), ("EUR", "330", R), ("EUR", "-0.858", F)]
            ),
            ev(
                K::Withdrawal,
                "LYR996-H5LJ5-G6VTXN",
                "2025-03-05 11:22:47",
                &[("BTC", "-0.008", S), ("BTC", "-0.00001", F)]
            ),
            ev(
                K::FiatWithdrawal,
                "LZRKRH-PVZU4-QRBKPV",
                "2025-03-07 08:03:59",
                &[("EUR", "-500", S), ("EUR", "-0.09", F)]
            ),
            ev(K::InternalTransfer, "LFHKCQ-R224A-E8XQQE", "2025-03-09 10:00:00", &[("BTC", "-0.001", S)]),
            ev(K::InternalTransfer, "LYDVQV-T5W66-ULCQV3", "2025-03-09 10:00:00", &[("BTC", "0.001", R)]),
            // One order filled from the spot and the Earn wallet: one sent leg, summed.
            ev(
                K::Trade,
                "TDFXHQ-WNRRP-X7CPGW",
                "2025-03-12 14:40:51",
                &[("BTC", "-0.0019", S), ("EUR", "171", R), ("EUR", "-0.4446", F)]
            ),
        ]
    );
    assert_eq!(events[11].rows.len(), 3);
    assert_balances(Y2025, &events, &[("EUR", "294.0074"), ("BTC", "0.00009"), ("ETH", "0.0572378571")]);
}

#[test]
fn unknown_type_is_kept_as_kind_unknown_with_its_legs() {
    let text = include_str!("../../../../fixtures/kraken/csv/unknown_type.csv");
    let events = read_all(text).unwrap();
    assert_eq!(events.len(), 2, "the row after the known one is read too");
    let unknown = &events[1].event;
    assert_eq!(unknown.kind, EventKind::Unknown);
    assert_eq!(unknown.note.as_deref(), Some("Kraken ledger type \"nfttrade\", subtype \"\""));
    assert_eq!(unknown.legs, vec![Leg::sent("EUR", dec("10"))], "its amount still moves the balance");
}

#[test]
fn bad_number_is_an_error_that_names_the_column() {
    let text = include_str!("../../../../fixtures/kraken/csv/bad_number.csv");
    let err = read_all(text).unwrap_err();
    assert_eq!(err.line, Some(3));
    assert!(err.message.contains("column \"amount\""), "{}", err.message);
    assert!(err.message.contains("\"1,000.0000\" is not a decimal number"), "{}", err.message);
}

#[test]
fn bad_date_is_an_error_that_names_the_column() {
    let text = include_str!("../../../../fixtures/kraken/csv/bad_date.csv");
    let err = read_all(text).unwrap_err();
    assert_eq!(err.line, Some(2));
    assert!(err.message.contains("column \"time\""), "{}", err.message);
    assert!(err.message.contains("\"02/03/2021 10:08\" is not a date and time"), "{}", err.message);
}

#[test]
fn a_trade_row_after_its_trade_was_written_is_an_error() {
    let text = include_str!("../../../../fixtures/kraken/csv/bad_trade_rows_far_apart.csv");
    let err = read_all(text).unwrap_err();
    assert_eq!(err.line, Some(6));
    assert!(err.message.contains("already completed from the rows at line 3"), "{}", err.message);
    assert!(err.message.contains("sort the file by time"), "{}", err.message);
}

fn one_row(header: &str, line: &str) -> Result<Vec<ImportedEvent>, RowError> {
    read_all(&format!("{header}\n{line}\n"))
}

const HEADER_2021: &str =
    "\"txid\",\"refid\",\"time\",\"type\",\"subtype\",\"aclass\",\"asset\",\"amount\",\"fee\",\"balance\"";

#[test]
fn empty_txid_outside_deposits_and_withdrawals_is_an_error() {
    let err = one_row(
        HEADER_2021,
        r#""","TOUPQD-AQOLA-AYA2VU","2021-05-11 18:55:10","trade","","currency","ZEUR",-200.0000,0.3200,299.6800"#,
    )
    .unwrap_err();
    assert!(err.message.contains("\"txid\" is empty on a \"trade\" row"), "{}", err.message);
}

#[test]
fn unknown_subtypes_and_margin_profits_are_kept_as_kind_unknown() {
    let unknown = |row: &str| one_row(HEADER_2021, row).unwrap().remove(0).event;
    let earn = unknown(r#""LA","RA","2024-01-01 00:00:00","earn","","currency","DOT",1.0,0,1.0"#);
    assert_eq!(
        (earn.kind, earn.note.as_deref()),
        (EventKind::Unknown, Some("Kraken ledger type \"earn\", subtype \"\""))
    );
    assert_eq!(earn.legs, vec![Leg::received("DOT", dec("1"))]);
    let teleport = unknown(r#""LA","RA","2024-01-01 00:00:00","transfer","teleport","currency","DOT",1.0,0,1.0"#);
    assert_eq!(teleport.kind, EventKind::Unknown);
    assert!(teleport.note.as_deref().is_some_and(|n| n.contains("\"teleport\"")), "{:?}", teleport.note);
    let margin = unknown(r#""LA","RA","2024-01-01 00:00:00","margin","","currency","ZEUR",12.5,0.1,12.4"#);
    assert_eq!(margin.kind, EventKind::Unknown);
    assert!(margin.note.as_deref().is_some_and(|n| n.contains("realised margin profit or loss")), "{:?}", margin.note);
    assert_eq!(margin.legs, vec![Leg::received("EUR", dec("12.5")), Leg::fee("EUR", dec("0.1"))]);
}

#[test]
fn trade_rows_split_by_other_rows_make_one_trade() {
    let events = read_all(&format!(
        "{HEADER_2021}\n\
         \"L1\",\"TX\",\"2021-05-11 18:55:10\",\"trade\",\"\",\"currency\",\"ZEUR\",-200.0000,0.3200,299.6800\n\
         \"L2\",\"QD\",\"2021-05-11 18:55:30\",\"deposit\",\"\",\"currency\",\"XXBT\",0.1,0,0.1\n\
         \"L3\",\"TY\",\"2021-05-11 18:56:00\",\"trade\",\"\",\"currency\",\"DOT\",-1.0,0,9.0\n\
         \"L4\",\"TY\",\"2021-05-11 18:56:00\",\"trade\",\"\",\"currency\",\"ZEUR\",30.0,0,329.68\n\
         \"L5\",\"TX\",\"2021-05-11 18:55:10\",\"trade\",\"\",\"currency\",\"DOT\",6.25,0,15.25\n"
    ))
    .unwrap();
    let got: Vec<Short> = events.iter().map(short).collect();
    assert_eq!(
        got,
        vec![
            ev(K::Deposit, "L2", "2021-05-11 18:55:30", &[("BTC", "0.1", R)]),
            ev(K::Trade, "TX", "2021-05-11 18:55:10", &[("EUR", "-200", S), ("DOT", "6.25", R), ("EUR", "-0.32", F)]),
            ev(K::Trade, "TY", "2021-05-11 18:56:00", &[("DOT", "-1", S), ("EUR", "30", R)]),
        ]
    );
    let lines: Vec<u64> = events[1].rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 6]);
}

#[test]
fn zero_amount_with_fee_is_a_fee_and_reversed_deposit_a_withdrawal() {
    let events = read_all(&format!(
        "{HEADER_2021}\n\
         \"LA\",\"RA\",\"2024-01-01 00:00:00\",\"withdrawal\",\"\",\"currency\",\"XXBT\",0,0.0001,1.0\n\
         \"LB\",\"RB\",\"2024-01-02 00:00:00\",\"deposit\",\"\",\"currency\",\"XXBT\",-0.5,0,0.5\n"
    ))
    .unwrap();
    assert_eq!(short(&events[0]), ev(K::Fee, "LA", "2024-01-01 00:00:00", &[("BTC", "-0.0001", F)]));
    assert_eq!(short(&events[1]), ev(K::Withdrawal, "LB", "2024-01-02 00:00:00", &[("BTC", "-0.5", S)]));
    assert_eq!(events[1].event.note.as_deref(), Some("reversal of a failed deposit"));
}

/// Kraken credited the ETHW fork through its futures wallet: that credit is the fork's income,
/// while the same subtype in another asset (coins back from Kraken Futures) stays a move.
#[test]
fn an_ethw_credit_from_futures_is_a_fork_and_other_futures_moves_are_internal() {
    let event = |row: &str| one_row(HEADER_2021, row).unwrap().remove(0).event;
    let ethw = event(r#""LF","RF","2022-09-20 10:00:00","transfer","spotfromfutures","currency","ETHW",2.5,0,2.5"#);
    assert_eq!(ethw.kind, EventKind::Fork);
    assert!(ethw.kind.is_income());
    assert_eq!(ethw.legs, vec![Leg::received("ETHW", dec("2.5"))]);
    let back = event(r#""LG","RG","2022-09-20 10:00:00","transfer","spotfromfutures","currency","XXBT",0.1,0,0.1"#);
    assert_eq!(back.kind, EventKind::InternalTransfer);
}
