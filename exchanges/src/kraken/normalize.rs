//! Kraken's stored `Ledgers` records → events: pure, no network, no key.
//!
//! The adapter ([`super::adapter`]) stores two shapes of record in the `Ledgers` stream:
//!
//! - **one ledger entry** exactly as Kraken sent it (the value under its ledger id in the
//!   `ledger` object of the answer), keyed by its ledger id (`L…`);
//! - **one trade**: the entries of one `refid` whose type is `trade`, `spend`, `receive`, `sale`
//!   or `settled`, gathered as `{"refid": …, "ledger": {id: entry, …}, "trade": …}`, where
//!   `trade` is the `TradesHistory` entry of that trade id when Kraken has one (app purchases,
//!   `spend`/`receive`, have none). Keyed by the refid.
//!
//! Both give the events the ledgers export gives for the same rows ([`super::csv`]): the same
//! `external_id` (the refid for a trade, the ledger id otherwise), the same kind and the same
//! legs, through the same functions ([`super::csv::classify`], [`super::csv::trade_legs`],
//! [`super::csv::entry_legs`]), and asset codes through the same map
//! ([`super::assets::canonical_asset`]). So a CSV import and an API sync of one account meet on
//! the same events instead of doubling them. Only the notes differ: the API adds the pair,
//! side, volume, price and order of a trade from `TradesHistory`.
//!
//! Times are Kraken's seconds with four decimals (`1688464484.1787`), read as exact decimals
//! and rounded to the millisecond.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::assets::canonical_asset;
use super::csv::{classify, entry_legs, is_trade_type, trade_legs, unknown_note};
use crate::adapter::{NormalizeError, RawRecord, Stream};
use crate::amount::parse_amount;
use crate::event::{EventKind, NewEvent};

/// The stream every Kraken record is stored under.
pub const LEDGERS: &str = "Ledgers";

type Reason = String;

/// One ledger entry as Kraken writes it in the `Ledgers` answer.
#[derive(Deserialize)]
pub struct Entry<'a> {
    /// The id of the happening the entry belongs to (trade id, funding reference…).
    #[serde(default)]
    pub refid: String,
    /// Seconds since the epoch, with fractions.
    #[serde(borrow)]
    pub time: &'a RawValue,
    /// `trade`, `deposit`, `staking`…
    #[serde(rename = "type")]
    pub kind: String,
    /// Free text, often empty (`spottostaking`…).
    #[serde(default)]
    pub subtype: String,
    /// Kraken's asset code (`XXBT`, `DOT.S`).
    pub asset: String,
    /// Signed change before the fee.
    pub amount: String,
    /// Fee in the same asset, on top.
    #[serde(default)]
    pub fee: Option<String>,
}

/// A trade as the adapter stores it: its ledger entries and its `TradesHistory` entry.
#[derive(Deserialize)]
struct Trade<'a> {
    #[serde(borrow)]
    ledger: BTreeMap<String, Entry<'a>>,
    #[serde(default)]
    trade: Option<TradeInfo>,
}

/// What `TradesHistory` adds to a trade.
#[derive(Deserialize)]
struct TradeInfo {
    #[serde(default)]
    pair: String,
    #[serde(rename = "type", default)]
    side: String,
    #[serde(default)]
    ordertype: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    vol: String,
    #[serde(default)]
    ordertxid: String,
}

/// The events a stored Kraken record stands for.
pub fn normalize(stream: &Stream, record: &RawRecord) -> Result<Vec<NewEvent>, NormalizeError> {
    let events = match stream.endpoint.as_str() {
        LEDGERS => ledger_record(&record.external_id, &record.payload),
        other => Err(format!("unknown Kraken endpoint {other:?}")),
    };
    events.map_err(|reason| NormalizeError {
        endpoint: stream.endpoint.clone(),
        external_id: record.external_id.clone(),
        reason,
    })
}

fn ledger_record(id: &str, payload: &str) -> Result<Vec<NewEvent>, Reason> {
    let probe: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(payload).map_err(|e| format!("not a JSON object: {e}"))?;
    if probe.contains_key("ledger") {
        let trade: Trade = serde_json::from_str(payload).map_err(|e| e.to_string())?;
        return trade_event(id, trade).map(|event| vec![event]);
    }
    let entry: Entry = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    single_event(id, &entry).map(|event| vec![event])
}

/// The event of one entry outside trades, keyed by its ledger id.
fn single_event(id: &str, entry: &Entry) -> Result<NewEvent, Reason> {
    let kind = entry.kind.to_ascii_lowercase();
    let subtype = entry.subtype.to_ascii_lowercase();
    if is_trade_type(&kind) {
        return Err(format!("a {kind:?} entry must be stored with the other entries of its trade {}", entry.refid));
    }
    let (asset, amount, fee) = amounts(entry)?;
    let time = seconds(entry.time)?;
    let (kind_of, note) = classify(&kind, &subtype, &asset, amount, fee).map_err(|e| e.message)?;
    let note = match (kind_of, note) {
        (EventKind::InternalTransfer, _) => Some(format!("{kind}/{subtype}")),
        (EventKind::Unknown, None) => Some(unknown_note(&kind, &subtype)),
        (_, note) => note.map(str::to_string),
    };
    Ok(NewEvent { note, ..NewEvent::new(id, time, kind_of, entry_legs(&asset, amount, fee)) })
}

/// The event of one trade (all its entries), keyed by its refid.
fn trade_event(refid: &str, trade: Trade) -> Result<NewEvent, Reason> {
    let mut parts = Vec::with_capacity(trade.ledger.len());
    let mut earliest: Option<DateTime<Utc>> = None;
    for (ledger_id, entry) in &trade.ledger {
        let kind = entry.kind.to_ascii_lowercase();
        if !is_trade_type(&kind) {
            return Err(format!("entry {ledger_id} of trade {refid} is a {kind:?} entry, not a trade leg"));
        }
        if entry.refid != refid {
            return Err(format!("entry {ledger_id} belongs to {:?}, not to trade {refid}", entry.refid));
        }
        let time = seconds(entry.time).map_err(|e| format!("entry {ledger_id}: {e}"))?;
        earliest = Some(earliest.map_or(time, |t| t.min(time)));
        parts.push(amounts(entry).map_err(|e| format!("entry {ledger_id}: {e}"))?);
    }
    let time = earliest.ok_or_else(|| format!("trade {refid} has no ledger entry"))?;
    let (legs, one_sided) = trade_legs(parts);
    let mut notes = Vec::new();
    if let Some(info) = &trade.trade {
        let mut text = format!("{} {} {} at {}", info.pair, info.side, info.vol, info.price);
        if !info.ordertxid.is_empty() {
            text.push_str(&format!(" ({} order {})", info.ordertype, info.ordertxid));
        }
        notes.push(text);
    }
    if one_sided {
        notes.push("only one side of this Kraken trade is in the ledger (the other side is zero)".to_string());
    }
    let note = (!notes.is_empty()).then(|| notes.join("; "));
    Ok(NewEvent { note, ..NewEvent::new(refid, time, EventKind::Trade, legs) })
}

/// The entry's canonical asset, amount and fee (fees as absolute values, like the export).
fn amounts(entry: &Entry) -> Result<(String, Decimal, Decimal), Reason> {
    let asset = canonical_asset(&entry.asset).map_err(|e| format!("field `asset`: {e}"))?;
    let amount = parse_amount(&entry.amount).map_err(|e| format!("field `amount`: {e}"))?;
    let fee = match entry.fee.as_deref().map(str::trim) {
        None | Some("") => Decimal::ZERO,
        Some(text) => parse_amount(text).map_err(|e| format!("field `fee`: {e}"))?.abs(),
    };
    Ok((asset, amount, fee))
}

/// Kraken's time (seconds, a number or a string of one) as an instant, to the millisecond.
pub fn seconds(raw: &RawValue) -> Result<DateTime<Utc>, Reason> {
    let text = raw.get().trim().trim_matches('"');
    let secs: Decimal = text.parse().map_err(|_| format!("field `time`: {text:?} is not a number of seconds"))?;
    let ms: i64 = secs
        .checked_mul(Decimal::ONE_THOUSAND)
        .and_then(|ms| i64::try_from(ms.round()).ok())
        .ok_or_else(|| format!("field `time`: {text} is out of range"))?;
    Utc.timestamp_millis_opt(ms)
        .single()
        .filter(|_| ms > 0)
        .ok_or_else(|| format!("field `time`: {text} is not a time in seconds"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::str::FromStr;

    use super::*;
    use crate::event::{Leg, LegRole};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/kraken/api/Ledgers");

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn run(id: &str, payload: &str) -> Result<Vec<NewEvent>, NormalizeError> {
        normalize(&Stream::new(LEDGERS, ""), &RawRecord { external_id: id.into(), payload: payload.into() })
    }

    fn read(file: &str) -> String {
        std::fs::read_to_string(Path::new(FIXTURES).join(file)).unwrap()
    }

    type Short = (String, i64, EventKind, Vec<(String, Decimal, LegRole)>);

    fn short(e: &NewEvent) -> Short {
        (
            e.external_id.clone(),
            e.time.timestamp_millis(),
            e.kind,
            e.legs.iter().map(|l| (l.asset.clone(), l.amount.normalize(), l.role)).collect(),
        )
    }

    fn ev(id: &str, ms: i64, kind: EventKind, legs: &[Leg]) -> Short {
        (id.into(), ms, kind, legs.iter().map(|l| (l.asset.clone(), l.amount.normalize(), l.role)).collect())
    }

    /// (fixture file, record id, the event it gives), written out by hand.
    fn cases() -> Vec<(&'static str, &'static str, Short)> {
        use EventKind::*;
        let (s, r, f) = (Leg::sent, Leg::received, Leg::fee);
        vec![
            (
                "trade_btc_usd_with_trades_history.json",
                "TJKLXF-PGMUI-4NTLXU",
                ev(
                    "TJKLXF-PGMUI-4NTLXU",
                    1688464484179,
                    Trade,
                    &[s("USD", d("600.2")), r("BTC", d("0.02")), f("USD", d("0.96"))],
                ),
            ),
            (
                "trade_two_wallets_fee_in_base.json",
                "TDFXHQ-WNRRP-X7CPGW",
                ev(
                    "TDFXHQ-WNRRP-X7CPGW",
                    1741790451000,
                    Trade,
                    &[s("BTC", d("0.0019")), r("EUR", d("171")), f("EUR", d("0.4446"))],
                ),
            ),
            (
                "spend_receive_app_purchase.json",
                "TSX5AB-QX2CD-YZ7EFG",
                ev(
                    "TSX5AB-QX2CD-YZ7EFG",
                    1700000000500,
                    Trade,
                    &[s("EUR", d("100")), r("SOL", d("1.5")), f("EUR", d("1.5"))],
                ),
            ),
            (
                "deposit_btc.json",
                "L4UESK-KG3EQ-UFO4T5",
                ev("L4UESK-KG3EQ-UFO4T5", 1688464400000, Deposit, &[r("BTC", d("0.78125"))]),
            ),
            (
                "withdrawal_eth_with_fee.json",
                "LMKZCZ-Z3GVL-CXKK4H",
                ev("LMKZCZ-Z3GVL-CXKK4H", 1688444262889, Withdrawal, &[s("ETH", d("1.5")), f("ETH", d("0.0035"))]),
            ),
            (
                "withdrawal_reversal.json",
                "LHPFYC-BYG5E-ZUUPMJ",
                ev("LHPFYC-BYG5E-ZUUPMJ", 1688444300000, Deposit, &[r("ETH", d("1.5"))]),
            ),
            (
                "fiat_withdrawal_eur.json",
                "LZRKRH-PVZU4-QRBKPV",
                ev("LZRKRH-PVZU4-QRBKPV", 1741334639000, FiatWithdrawal, &[s("EUR", d("500")), f("EUR", d("0.09"))]),
            ),
            (
                "staking_reward_dot_s.json",
                "LSMMUB-9E63A-44EPQE",
                ev("LSMMUB-9E63A-44EPQE", 1739844333000, Staking, &[r("DOT", d("0.0425"))]),
            ),
            (
                "staking_reward_eth2_s.json",
                "LXBVLM-Y7JVU-53RJS5",
                ev("LXBVLM-Y7JVU-53RJS5", 1739844334000, Staking, &[r("ETH", d("0.000095"))]),
            ),
            (
                "transfer_spot_to_staking.json",
                "LRQ3JU-H5UND-RCT28J",
                ev("LRQ3JU-H5UND-RCT28J", 1739276418000, InternalTransfer, &[s("DOT", d("10"))]),
            ),
            (
                "transfer_staking_from_spot.json",
                "LQZAUH-SDGVB-686EDC",
                ev("LQZAUH-SDGVB-686EDC", 1739276418000, InternalTransfer, &[r("DOT", d("10"))]),
            ),
            (
                "earn_allocation_eth_b.json",
                "LFHKCQ-R224A-E8XQQE",
                ev("LFHKCQ-R224A-E8XQQE", 1741514400000, InternalTransfer, &[r("ETH", d("0.5"))]),
            ),
            (
                "earn_reward_usd_m.json",
                "LYDVQV-T5W66-ULCQV3",
                ev("LYDVQV-T5W66-ULCQV3", 1741514500000, Staking, &[r("USD", d("1.23"))]),
            ),
            (
                "adjustment_delisting.json",
                "L2CACA-9BB9U-ZSC3ED",
                ev("L2CACA-9BB9U-ZSC3ED", 1741600000000, Adjustment, &[s("WAVES", d("3.2"))]),
            ),
            (
                "kfee_credit.json",
                "L7YJQF-3D8T6-VRMMSE",
                ev("L7YJQF-3D8T6-VRMMSE", 1741600100000, Rebate, &[r("KFEE", d("1000"))]),
            ),
        ]
    }

    #[test]
    fn every_fixture_gives_exactly_its_event() {
        for (file, id, expected) in cases() {
            let events = run(id, &read(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(events.iter().map(short).collect::<Vec<_>>(), vec![expected], "{file}");
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
    fn trades_history_gives_the_note_and_app_purchases_have_none() {
        let events = run("TJKLXF-PGMUI-4NTLXU", &read("trade_btc_usd_with_trades_history.json")).unwrap();
        assert_eq!(
            events[0].note.as_deref(),
            Some("XXBTZUSD buy 0.02000000 at 30010.00000 (limit order OQCLML-BW3P3-BUCMWZ)")
        );
        let events = run("TSX5AB-QX2CD-YZ7EFG", &read("spend_receive_app_purchase.json")).unwrap();
        assert_eq!(events[0].note, None);
        let events = run("LRQ3JU-H5UND-RCT28J", &read("transfer_spot_to_staking.json")).unwrap();
        assert_eq!(events[0].note.as_deref(), Some("transfer/spottostaking"));
    }

    /// The API and the ledgers export give the same event ids and legs for the same rows.
    #[test]
    fn api_records_give_the_events_of_the_same_csv_rows() {
        use crate::kraken::csv::{Reader, matches};
        use crate::rows::read_text;
        let csv = "txid,refid,time,type,subtype,aclass,asset,amount,fee,balance\n\
            L4UESK-KG3EQ-UFO4T5,QCCBXKV-ZFJJZE-WPZ3RO,2023-07-04 09:53:20,deposit,,currency,XXBT,0.7812500000,0.0000000000,0.7812500000\n\
            LA1111-AAAAA-AAAAAA,TJKLXF-PGMUI-4NTLXU,2023-07-04 09:54:44.1787,trade,,currency,ZUSD,-600.2000,0.9600,399.8\n\
            LB2222-BBBBB-BBBBBB,TJKLXF-PGMUI-4NTLXU,2023-07-04 09:54:44.1790,trade,,currency,XXBT,0.0200000000,0.0000000000,0.80125\n";
        let parsed = read_text(&mut Reader::default(), matches, csv);
        let from_csv: Vec<NewEvent> = parsed.into_result().unwrap().into_iter().map(|e| e.event).collect();
        let mut from_api = run("L4UESK-KG3EQ-UFO4T5", &read("deposit_btc.json")).unwrap();
        from_api.extend(run("TJKLXF-PGMUI-4NTLXU", &read("trade_btc_usd_with_trades_history.json")).unwrap());
        let key = |e: &NewEvent| (e.external_id.clone(), e.kind, short(e).3);
        assert_eq!(from_csv.iter().map(key).collect::<Vec<_>>(), from_api.iter().map(key).collect::<Vec<_>>());
    }

    #[test]
    fn malformed_records_are_errors_that_say_why() {
        let entry = |fields: &str| format!(r#"{{"refid":"R","time":1688464484.1787,"aclass":"currency",{fields}}}"#);
        for (payload, words) in [
            (entry(r#""type":"deposit","asset":"XXBT","amount":"1,5","fee":"0""#), "field `amount`"),
            (entry(r#""type":"deposit","asset":"X X","amount":"1","fee":"0""#), "field `asset`"),
            (entry(r#""type":"trade","asset":"XXBT","amount":"1","fee":"0""#), "other entries of its trade"),
            (r#"{"refid":"R","time":"soon","type":"deposit","asset":"XXBT","amount":"1"}"#.into(), "field `time`"),
            ("[1]".into(), "not a JSON object"),
        ] {
            let error = run("L1", &payload).unwrap_err();
            assert!(error.to_string().contains(words), "{payload}: {error}");
        }
        let error = normalize(&Stream::new("Trades", ""), &RawRecord { external_id: "x".into(), payload: "{}".into() })
            .unwrap_err();
        assert!(error.reason.contains("unknown Kraken endpoint"));
    }

    #[test]
    fn an_unknown_type_is_an_event_of_kind_unknown_keeping_its_legs() {
        let payload = r#"{"refid":"R","time":1688464484.1787,"type":"nfttrade","subtype":"","asset":"XXBT","amount":"-1","fee":"0.1"}"#;
        let events = run("L1", payload).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::Unknown);
        assert_eq!(events[0].note.as_deref(), Some("Kraken ledger type \"nfttrade\", subtype \"\""));
        assert_eq!(events[0].legs, entry_legs("BTC", Decimal::NEGATIVE_ONE, Decimal::new(1, 1)));
    }

    #[test]
    fn times_are_read_exactly_and_rounded_to_the_millisecond() {
        let raw = |text: &str| RawValue::from_string(text.to_string()).unwrap();
        assert_eq!(seconds(&raw("1688464484.1787")).unwrap().timestamp_millis(), 1688464484179);
        assert_eq!(seconds(&raw("\"1688464484.1784\"")).unwrap().timestamp_millis(), 1688464484178);
        assert_eq!(seconds(&raw("1688464484")).unwrap().timestamp_millis(), 1688464484000);
        assert!(seconds(&raw("-5")).is_err());
    }
}
