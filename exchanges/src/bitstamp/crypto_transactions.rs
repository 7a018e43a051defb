//! Bitstamp's `crypto-transactions`: the tx hash, address and network of crypto deposits and
//! withdrawals, as details of the events `user_transactions` already makes. Pure: no network.
//!
//! `POST /api/v2/crypto-transactions/` (<https://www.bitstamp.net/api/>, "Transactions
//! private", "Crypto transactions") answers one object with the lists `deposits` and
//! `withdrawals` (and `ripple_iou_transactions` when `include_ious=true` is sent, which
//! cointally does not send). Each entry has `currency`, `amount`, `datetime`, `txid`,
//! `destinationAddress` and `network` (`bitcoin`, `ethereum` …). It takes `limit` (1 to 1,000,
//! default 100), `offset` (0 to 200,000) and `include_ious`; it has no id, no time filter and
//! no documented order, and it is for the main account only.
//!
//! Every deposit or withdrawal this list gives is also a `user_transactions` record (type 0 or
//! 1), which makes its event. The network fee of a crypto withdrawal is that record's `fee`
//! (the API page's "User transactions" has a `fee` per record; the entries here have no fee
//! field; `withdrawal-requests` is not asked, its fields could not be read from here), so the
//! withdrawal gets one fee leg, from `user_transactions`, and an entry here adds
//! none (tested end to end: `tests/bitstamp.rs`). So an entry here is never an event: it
//! is a [details record](crate::NewEvent::details) that the ledger attaches to the account's
//! deposit or withdrawal of the same currency and amount closest in time (within three days).
//! Its amount is read as the same absolute amount the user_transactions record moves before its
//! fee (not verified against a real account: if Bitstamp gave withdrawals here after the fee,
//! their details would wait unattached, reported as `details_waiting` by `sync`, and nothing
//! would be counted twice).
//!
//! A stored record is `{"list": "deposits" | "withdrawals", "entry": <the entry as sent>}`,
//! keyed by its content (list, currency, datetime, amount, txid; a repeat of the same content on
//! one page gets `#2`, `#3` …): there is no id to key it by.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::assets::canonical_asset;
use crate::adapter::RawRecord;
use crate::amount::{json_text, parse_amount};
use crate::time::parse_utc;
use crate::{EventKind, Leg, NewEvent};

/// The endpoint (and stream) whose records this reads.
pub const CRYPTO_TRANSACTIONS: &str = "crypto-transactions";

/// The lists of an answer this reads, with the kind of event their entries detail.
pub const LISTS: [(&str, EventKind); 2] = [("deposits", EventKind::Deposit), ("withdrawals", EventKind::Withdrawal)];

/// One answer page read into records.
#[derive(Debug, Clone, PartialEq)]
pub struct PageRecords {
    /// One record per deposit or withdrawal entry.
    pub records: Vec<RawRecord>,
    /// Entries on the page, every list counted (what `limit` counts).
    pub entries: usize,
}

/// An answer of `crypto-transactions`.
#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(borrow, default)]
    deposits: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    withdrawals: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    ripple_iou_transactions: Vec<&'a RawValue>,
}

/// A stored record.
#[derive(Deserialize)]
struct Stored<'a> {
    list: String,
    #[serde(borrow)]
    entry: &'a RawValue,
}

/// Reads one answer body into records (entries keyed by content); an error says what is wrong.
pub fn records_of_page(body: &[u8]) -> Result<PageRecords, String> {
    const SHAPE: &str = "not an object with `deposits` and `withdrawals` lists";
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(SHAPE.to_owned());
    }
    let answer: Answer = serde_json::from_slice(body).map_err(|e| format!("{SHAPE}: {e}"))?;
    let (Some(deposits), Some(withdrawals)) = (answer.deposits, answer.withdrawals) else {
        return Err(SHAPE.to_owned());
    };
    let answer = (deposits, withdrawals, answer.ripple_iou_transactions);
    let entries = answer.0.len() + answer.1.len() + answer.2.len();
    let mut records = Vec::with_capacity(answer.0.len() + answer.1.len());
    let mut seen: std::collections::BTreeMap<String, u32> = std::collections::BTreeMap::new();
    for (list, rows) in [("deposits", &answer.0), ("withdrawals", &answer.1)] {
        for entry in rows.iter() {
            let key = content_key(list, entry).map_err(|e| format!("{list}: {e}"))?;
            let repeat = seen.entry(key.clone()).or_default();
            *repeat += 1;
            let external_id = if *repeat == 1 { key } else { format!("{key}#{repeat}") };
            let payload = format!(r#"{{"list": "{list}", "entry": {}}}"#, entry.get());
            records.push(RawRecord { external_id, payload });
        }
    }
    Ok(PageRecords { records, entries })
}

/// `list:currency:datetime:amount:txid` from the entry's own text (`-` for what is absent).
fn content_key(list: &str, entry: &RawValue) -> Result<String, String> {
    let fields: std::collections::BTreeMap<String, &RawValue> =
        serde_json::from_str(entry.get()).map_err(|e| format!("an entry is not a JSON object: {e}"))?;
    let part = |name: &str| -> Result<String, String> {
        Ok(match fields.get(name) {
            Some(value) => json_text(value).map_err(|e| format!("`{name}`: {e}"))?.unwrap_or_else(|| "-".to_owned()),
            None => "-".to_owned(),
        })
    };
    Ok(format!(
        "{list}:{}:{}:{}:{}",
        part("currency")?.to_ascii_lowercase(),
        part("datetime")?,
        part("amount")?,
        part("txid")?
    ))
}

/// One entry read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoTransaction {
    /// Deposit or withdrawal.
    pub kind: EventKind,
    /// Canonical symbol.
    pub asset: String,
    /// The amount moved, absolute.
    pub amount: Decimal,
    /// When.
    pub time: DateTime<Utc>,
    /// The on-chain transaction hash, when given.
    pub txid: Option<String>,
    /// The destination address, when given.
    pub address: Option<String>,
    /// Bitstamp's network name (`bitcoin`, `ethereum` …), when given.
    pub network: Option<String>,
}

/// Reads one stored record.
pub fn read_record(payload: &str) -> Result<CryptoTransaction, String> {
    let stored: Stored = serde_json::from_str(payload)
        .map_err(|e| format!("not a stored crypto-transactions record ({{\"list\", \"entry\"}}): {e}"))?;
    let kind = LISTS
        .iter()
        .find(|(name, _)| *name == stored.list)
        .map(|(_, kind)| *kind)
        .ok_or_else(|| format!("list {:?} is neither deposits nor withdrawals", stored.list))?;
    let fields: std::collections::BTreeMap<String, &RawValue> =
        serde_json::from_str(stored.entry.get()).map_err(|e| format!("the entry is not a JSON object: {e}"))?;
    let field = |name: &str| -> Result<Option<String>, String> {
        match fields.get(name) {
            Some(value) => Ok(json_text(value)
                .map_err(|e| format!("`{name}`: {e}"))?
                .map(|text| text.trim().to_owned())
                .filter(|text| !text.is_empty())),
            None => Ok(None),
        }
    };
    let currency = field("currency")?.ok_or("the entry has no `currency`")?;
    let asset = canonical_asset(&currency).map_err(|e| format!("`currency`: {e}"))?;
    let amount_text = field("amount")?.ok_or("the entry has no `amount`")?;
    let amount = parse_amount(&amount_text).map_err(|e| format!("`amount`: {e}"))?.abs();
    if amount.is_zero() {
        return Err("`amount` is zero".to_owned());
    }
    let datetime = field("datetime")?.ok_or("the entry has no `datetime`")?;
    let time = read_time(&datetime).map_err(|e| format!("`datetime`: {e}"))?;
    Ok(CryptoTransaction {
        kind,
        asset,
        amount,
        time,
        txid: field("txid")?,
        address: field("destinationAddress")?,
        network: field("network")?,
    })
}

/// A `datetime`: Unix seconds (Bitstamp's API description types it as a number) or a
/// `YYYY-MM-DD HH:MM:SS` UTC text like `user_transactions` sends.
fn read_time(text: &str) -> Result<DateTime<Utc>, String> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: i64 = text.parse().map_err(|_| format!("{text:?} is not a number of seconds"))?;
        return DateTime::from_timestamp(seconds, 0).ok_or_else(|| format!("{text:?} is out of range"));
    }
    parse_utc(text).map_err(|e| e.to_string())
}

/// The details record of one stored record.
pub fn details_event(record: &RawRecord) -> Result<NewEvent, String> {
    let t = read_record(&record.payload)?;
    let leg = match t.kind {
        EventKind::Withdrawal => Leg::sent(t.asset, t.amount),
        _ => Leg::received(t.asset, t.amount),
    };
    Ok(NewEvent {
        tx_hash: t.txid,
        address: t.address,
        network: t.network,
        ..NewEvent::details(&record.external_id, t.time, t.kind, leg)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/../fixtures/bitstamp/api/crypto-transactions/{name}.json", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn page(name: &str) -> PageRecords {
        records_of_page(fixture(name).as_bytes()).unwrap()
    }

    #[test]
    fn a_page_gives_one_record_per_entry_keyed_by_content() {
        let page = page("page");
        assert_eq!(page.entries, 3);
        let ids: Vec<&str> = page.records.iter().map(|r| r.external_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "deposits:btc:1704190272:0.50000000:4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
                "withdrawals:eth:1704276672:1.25:0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060",
            ]
        );
        // The same page read again gives the same ids (a re-sync adds nothing).
        assert_eq!(records_of_page(fixture("page").as_bytes()).unwrap(), page);
    }

    #[test]
    fn a_deposit_is_a_details_record_with_hash_address_and_network() {
        let page = page("page");
        let event = details_event(&page.records[0]).unwrap();
        assert!(event.is_details());
        assert_eq!(event.kind, EventKind::Deposit);
        assert_eq!(crate::time::to_millis(event.time), 1_704_190_272_000);
        assert_eq!(event.legs, vec![Leg::received("BTC", "0.5".parse().unwrap())]);
        assert_eq!(event.tx_hash.as_deref(), Some("4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"));
        assert_eq!(event.address.as_deref(), Some("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"));
        assert_eq!(event.network.as_deref(), Some("bitcoin"));
    }

    #[test]
    fn a_withdrawal_with_a_text_datetime_and_a_number_amount_is_read_exactly() {
        let page = page("page");
        let event = details_event(&page.records[1]).unwrap();
        assert_eq!(event.kind, EventKind::Withdrawal);
        assert_eq!(event.legs, vec![Leg::sent("ETH", "1.25".parse().unwrap())]);
        assert_eq!(event.network.as_deref(), Some("ethereum"));
        let text_time =
            details_event(&RawRecord { external_id: "x".into(), payload: fixture("withdrawal_text_time") }).unwrap();
        assert_eq!(crate::time::to_millis(text_time.time), 1_704_276_672_000);
        assert_eq!(text_time.legs, vec![Leg::sent("SOL", "12.000000001".parse().unwrap())]);
        assert_eq!(text_time.tx_hash, None, "an empty txid is no hash");
    }

    #[test]
    fn the_same_content_twice_on_a_page_gets_two_ids() {
        let body = r#"{"deposits": [
            {"currency": "btc", "amount": "1", "datetime": 1700000000, "txid": "aa"},
            {"currency": "btc", "amount": "1", "datetime": 1700000000, "txid": "aa"}], "withdrawals": []}"#;
        let page = records_of_page(body.as_bytes()).unwrap();
        assert_eq!(page.records[0].external_id, "deposits:btc:1700000000:1:aa");
        assert_eq!(page.records[1].external_id, "deposits:btc:1700000000:1:aa#2");
    }

    #[test]
    fn unreadable_answers_and_records_say_what_is_wrong() {
        for (body, words) in [
            ("[]", "`deposits`"),
            (r#"{"deposits": []}"#, "`withdrawals`"),
            (r#"{"deposits": [1], "withdrawals": []}"#, "deposits: an entry is not a JSON object"),
        ] {
            let error = records_of_page(body.as_bytes()).unwrap_err();
            assert!(error.contains(words), "{body}: {error}");
        }
        for (payload, words) in [
            (r#"{"list": "loans", "entry": {}}"#, "neither deposits nor withdrawals"),
            (r#"{"list": "deposits", "entry": {"amount": "1", "datetime": 1}}"#, "no `currency`"),
            (r#"{"list": "deposits", "entry": {"currency": "btc", "amount": "x", "datetime": 1}}"#, "`amount`"),
            (r#"{"list": "deposits", "entry": {"currency": "btc", "amount": "0", "datetime": 1}}"#, "zero"),
            (r#"{"list": "deposits", "entry": {"currency": "btc", "amount": "1", "datetime": "soon"}}"#, "`datetime`"),
            (r#"{"list": "deposits", "entry": {"currency": "btc", "amount": "1"}}"#, "no `datetime`"),
            ("[]", "not a stored crypto-transactions record"),
        ] {
            let error = read_record(payload).unwrap_err();
            assert!(error.contains(words), "{payload}: {error}");
        }
    }
}
