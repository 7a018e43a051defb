//! KuCoin's deposit and withdrawal lists: the tx hash, address and network of crypto deposits
//! and withdrawals, as details of the events the account ledger already makes. Pure: no network.
//!
//! `GET /api/v1/deposits` and `GET /api/v1/withdrawals` (KuCoin's API documentation, "Get
//! Deposit List" and "Get Withdrawals List", as published in KuCoin's own documentation source
//! <https://github.com/Kucoin/kucoin-api-docs>, `source/localizable/index.html.md`) answer pages like
//! the ledger's (`currentPage`, `pageSize`, `totalPage`, `items`, newest first, `startAt` and
//! `endAt` in ms). An item has `currency`, `chain`, `status` (`PROCESSING`,
//! `WALLET_PROCESSING`, `SUCCESS`, `FAILURE`), `address`, `memo`, `isInner`, `amount`, `fee`,
//! `walletTxId`, `createdAt` (ms), `updatedAt` and `remark`; a withdrawal also an `id`, a
//! deposit none.
//!
//! Every successful deposit or withdrawal is also a ledger entry (`Deposit`, `Withdrawal`), which
//! makes its event. So an item here is never an event: it is a
//! [details record](crate::NewEvent::details) the ledger attaches to the account's deposit or
//! withdrawal of the same currency and amount closest in time (within three days). The amounts
//! meet as cointally reads them: a deposit's `amount` is what the ledger credits; a withdrawal's
//! `amount` is what was sent, "fees excluded" as KuCoin's withdrawal request describes it, which
//! is the ledger entry's `amount` less its `fee` (the `sent` leg). Neither was checked against a
//! real account: an item that meets no event waits (`details_waiting`), nothing is doubled.
//!
//! `walletTxId` is the hash, sometimes followed by `@` and more (the documented deposit example
//! is `HASH@e8902757…`; the v1 history's `HASH@ADDRESS@N`): the part before the first `@` is the
//! tx hash. An internal (`isInner`) move has no chain hash and keeps only its address. Items not
//! `SUCCESS` give no details (a failed one moved nothing; a processing one is read again when
//! the walk meets it complete, or not at all if it completed after the walk passed it).
//!
//! Before API v2 (2019-02-18) the lists are `GET /api/v1/hist-deposits` and
//! `GET /api/v1/hist-withdrawals` ("Get V1 Historical Deposits List", "… Withdrawals List"):
//! the same paging, items of `currency`, `createAt` (**seconds**), `amount`, `walletTxId`,
//! `isInner`, `status` (and a withdrawal's `address`), no id, no fee, no chain. They are read
//! alike; whether a v1 withdrawal's `amount` is before or after its fee is not documented (if
//! before, its details wait unattached, nothing doubled).
//!
//! A stored record is the item as sent, keyed by the withdrawal's `id`; a deposit or a v1 item,
//! which have none, by its content (time, currency, amount, chain, `walletTxId`).

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::amount::{json_text, parse_amount};
use crate::asset::asset_symbol;
use crate::{EventKind, Leg, NewEvent};

/// The deposit list's stream.
pub const DEPOSITS: &str = "deposits";
/// The withdrawal list's stream.
pub const WITHDRAWALS: &str = "withdrawals";
/// The v1 deposit list's stream (before 2019-02-18).
pub const HIST_DEPOSITS: &str = "hist-deposits";
/// The v1 withdrawal list's stream (before 2019-02-18).
pub const HIST_WITHDRAWALS: &str = "hist-withdrawals";
/// Every list this reads.
pub const LISTS: [&str; 4] = [DEPOSITS, WITHDRAWALS, HIST_DEPOSITS, HIST_WITHDRAWALS];

/// One deposit or withdrawal item read.
#[derive(Debug, Clone, PartialEq)]
pub struct Movement {
    /// `deposit` or `withdrawal`.
    pub kind: EventKind,
    /// The canonical symbol of its currency.
    pub asset: String,
    /// The amount that meets the ledger event's non-fee leg.
    pub amount: Decimal,
    /// Whether KuCoin says it is complete.
    pub succeeded: bool,
    /// The tx hash, when it has one.
    pub tx_hash: Option<String>,
    /// The address.
    pub address: Option<String>,
    /// The chain.
    pub network: Option<String>,
    /// When, ms.
    pub time_ms: i64,
}

/// The raw item's fields, numbers and texts alike as raw JSON.
#[derive(Deserialize)]
struct RawItem<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    currency: Option<&'a RawValue>,
    #[serde(borrow)]
    chain: Option<&'a RawValue>,
    #[serde(borrow)]
    status: Option<&'a RawValue>,
    #[serde(borrow)]
    address: Option<&'a RawValue>,
    #[serde(borrow)]
    amount: Option<&'a RawValue>,
    #[serde(borrow, rename = "walletTxId")]
    wallet_tx_id: Option<&'a RawValue>,
    #[serde(borrow, rename = "createdAt")]
    created_at: Option<&'a RawValue>,
    /// The v1 lists' time, in seconds.
    #[serde(borrow, rename = "createAt")]
    create_at: Option<&'a RawValue>,
}

/// A field's text, `None` when absent, null or blank.
fn field(value: Option<&RawValue>, name: &str) -> Result<Option<String>, String> {
    Ok(value
        .map(|v| json_text(v).map_err(|e| format!("{name}: {e}")))
        .transpose()?
        .flatten()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty()))
}

/// The key and time (ms) of one item of `list` ([`DEPOSITS`] or [`WITHDRAWALS`]), for the walk.
pub fn key_and_time(list: &str, payload: &str) -> Result<(String, i64), String> {
    let raw: RawItem<'_> = serde_json::from_str(payload).map_err(|e| format!("an item is an object: {e}"))?;
    let time_ms = if list == HIST_DEPOSITS || list == HIST_WITHDRAWALS {
        let created = field(raw.create_at, "createAt")?.ok_or("the item has no createAt")?;
        created
            .parse::<i64>()
            .ok()
            .and_then(|seconds| seconds.checked_mul(1000))
            .ok_or_else(|| format!("createAt {created:?} is not a time in seconds"))?
    } else {
        let created = field(raw.created_at, "createdAt")?.ok_or("the item has no createdAt")?;
        created.parse::<i64>().map_err(|_| format!("createdAt {created:?} is not a time in ms"))?
    };
    if list == WITHDRAWALS {
        let id = field(raw.id, "id")?.ok_or("the withdrawal has no id")?;
        return Ok((id, time_ms));
    }
    let part = |value: Option<&RawValue>, name: &str| field(value, name).map(Option::unwrap_or_default);
    let key = format!(
        "{time_ms}:{}:{}:{}:{}",
        part(raw.currency, "currency")?,
        part(raw.amount, "amount")?,
        part(raw.chain, "chain")?,
        part(raw.wallet_tx_id, "walletTxId")?
    );
    Ok((key, time_ms))
}

/// Reads one item of `list`.
pub fn read_movement(list: &str, payload: &str) -> Result<Movement, String> {
    let kind = match list {
        DEPOSITS | HIST_DEPOSITS => EventKind::Deposit,
        WITHDRAWALS | HIST_WITHDRAWALS => EventKind::Withdrawal,
        other => return Err(format!("unknown KuCoin list {other:?}")),
    };
    let raw: RawItem<'_> = serde_json::from_str(payload).map_err(|e| format!("an item is an object: {e}"))?;
    let currency = field(raw.currency, "currency")?.ok_or("the item has no currency")?;
    let asset = asset_symbol(&currency).map_err(|e| format!("currency: {e}"))?;
    let amount = field(raw.amount, "amount")?.ok_or("the item has no amount")?;
    let amount = parse_amount(&amount).map_err(|e| format!("amount: {e}"))?.abs();
    let (_, time_ms) = key_and_time(list, payload)?;
    let succeeded = field(raw.status, "status")?.is_some_and(|s| s.eq_ignore_ascii_case("SUCCESS"));
    let tx_hash = field(raw.wallet_tx_id, "walletTxId")?
        .and_then(|text| text.split('@').next().map(str::to_owned))
        .filter(|hash| !hash.is_empty());
    Ok(Movement {
        kind,
        asset,
        amount,
        succeeded,
        tx_hash,
        address: field(raw.address, "address")?,
        network: field(raw.chain, "chain")?,
        time_ms,
    })
}

/// The details record of one stored item of `list` (none for an item not `SUCCESS`).
pub fn details_of(list: &str, external_id: &str, payload: &str) -> Result<Vec<NewEvent>, String> {
    let m = read_movement(list, payload)?;
    if !m.succeeded || m.amount.is_zero() {
        return Ok(Vec::new());
    }
    let leg = match m.kind {
        EventKind::Withdrawal => Leg::sent(m.asset, m.amount),
        _ => Leg::received(m.asset, m.amount),
    };
    Ok(vec![NewEvent {
        tx_hash: m.tx_hash,
        address: m.address,
        network: m.network,
        ..NewEvent::details(format!("{list}:{external_id}"), crate::time::from_millis(m.time_ms), m.kind, leg)
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(list: &str, name: &str) -> String {
        let path = format!("{}/../fixtures/kucoin/{list}/{name}.json", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")).trim().to_owned()
    }

    #[test]
    fn the_documented_deposit_is_a_details_record_with_its_hash_address_and_chain() {
        let payload = fixture(DEPOSITS, "success");
        let (key, time_ms) = key_and_time(DEPOSITS, &payload).unwrap();
        assert_eq!(time_ms, 1_666_600_519_000);
        assert!(key.starts_with("1666600519000:XRP:20.50000000:xrp:2C24A6D5"), "{key}");
        let events = details_of(DEPOSITS, &key, &payload).unwrap();
        assert_eq!(events.len(), 1);
        let event = &events[0];
        assert!(event.is_details());
        assert_eq!(event.kind, EventKind::Deposit);
        assert_eq!(
            event.tx_hash.as_deref(),
            Some("2C24A6D5B3E7D5B6AA6534025B9B107AC910309A98825BF5581E25BEC94AD83B"),
            "the part before @"
        );
        assert_eq!(event.address.as_deref(), Some("rNFugeoj3ZN8Wv6xhuLegUBBPXKCyWLRkB"));
        assert_eq!(event.network.as_deref(), Some("xrp"));
        assert_eq!((event.legs[0].asset.as_str(), event.legs[0].amount.to_string()), ("XRP", "20.5".into()));
    }

    #[test]
    fn the_documented_withdrawal_is_keyed_by_its_id_and_sends_its_amount() {
        let payload = fixture(WITHDRAWALS, "success");
        assert_eq!(
            key_and_time(WITHDRAWALS, &payload).unwrap(),
            ("63564dbbd17bef00019371fb".into(), 1_666_600_379_000)
        );
        let events = details_of(WITHDRAWALS, "63564dbbd17bef00019371fb", &payload).unwrap();
        let event = &events[0];
        assert_eq!(event.kind, EventKind::Withdrawal);
        assert_eq!(event.legs[0].amount, "-20.5".parse::<Decimal>().unwrap());
        assert_eq!(event.tx_hash.as_deref(), Some("2C24A6D5B3E7D5B6AA6534025B9B107AC910309A98825BF5581E25BEC94AD83B"));
    }

    #[test]
    fn the_documented_v1_withdrawal_is_read_with_its_time_in_seconds() {
        let payload = fixture(HIST_WITHDRAWALS, "success");
        let (key, time_ms) = key_and_time(HIST_WITHDRAWALS, &payload).unwrap();
        assert_eq!(time_ms, 1_526_723_468_000);
        assert!(key.starts_with("1526723468000:BTC:0.534::aeacea86"), "{key}");
        let events = details_of(HIST_WITHDRAWALS, &key, &payload).unwrap();
        let event = &events[0];
        assert_eq!((event.kind, event.legs[0].amount.to_string()), (EventKind::Withdrawal, "-0.534".to_owned()));
        assert_eq!(event.tx_hash.as_deref(), Some("aeacea864c020acf58e51606169240e96774838dcd4f7ce48acf38e3651323f4"));
        assert_eq!(event.address.as_deref(), Some("33xW37ZSW4tQvg443Pc7NLCAs167Yc2XUV"));
        let deposit = fixture(HIST_DEPOSITS, "success");
        let events = details_of(HIST_DEPOSITS, "d", &deposit).unwrap();
        assert_eq!(crate::time::to_millis(events[0].time), 1_528_536_998_000);
        assert_eq!(
            events[0].tx_hash.as_deref(),
            Some("55c643bc2c68d6f17266383ac1be9e454038864b929ae7cee0bc408cc5c869e8"),
            "the part before the first @"
        );
    }

    #[test]
    fn failed_or_processing_items_give_nothing_and_bad_items_say_what_is_wrong() {
        let payload = fixture(WITHDRAWALS, "processing");
        assert_eq!(details_of(WITHDRAWALS, "x", &payload).unwrap(), Vec::new());
        let inner = fixture(DEPOSITS, "inner");
        let events = details_of(DEPOSITS, "x", &inner).unwrap();
        assert_eq!(events[0].tx_hash, None, "an internal deposit has no chain hash");
        for bad in [
            "[]",
            r#"{"currency":"BTC","amount":"1","status":"SUCCESS"}"#,
            r#"{"currency":"BTC","amount":"lots","status":"SUCCESS","createdAt":1}"#,
            r#"{"currency":"B C","amount":"1","status":"SUCCESS","createdAt":1}"#,
        ] {
            assert!(details_of(DEPOSITS, "x", bad).is_err(), "{bad}");
        }
        assert!(key_and_time(WITHDRAWALS, r#"{"createdAt":1}"#).unwrap_err().contains("no id"));
    }
}
