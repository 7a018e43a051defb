//! Binance's raw API records turned into events: a pure function of one stored record.
//!
//! One raw record is one element of an endpoint's answer, its JSON text as received (for
//! `dust`, one dribblet with its details). [`normalize`] reads it with typed serde structs,
//! which ignore fields Binance adds over time and name the field that is missing or of the
//! wrong type, and follows the shared contract in `notes/s2/binance-semantics.md`: the event
//! ids (`trade:BNBBTC:28457`, `deposit:…`, `dust:{transId}:{fromAsset}` …), the balance effect
//! of each stream, and which statuses are final. A record whose status is still in progress
//! or that moved no balance (a failed payment, a rejected deposit, a zero dividend) gives no
//! event. An unknown status of an endpoint whose statuses are all listed is an error rather
//! than a guess. Legs come in a stable order: sent, received, fee; a zero fee gives no leg.
//!
//! The function needs no network and no clock: re-normalising the raw archive gives the same
//! events. Asset codes go through [`super::assets::asset`] at the record's own time.

use std::fmt;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, Unexpected, Visitor};

use super::assets::asset;
use crate::adapter::{NormalizeError, RawRecord, Stream};
use crate::amount::parse_amount;
use crate::asset::{asset_symbol, is_fiat};
use crate::event::{EventKind, FiatValue, Leg, NewEvent};
use crate::time::parse_utc;

/// Why a record cannot be read, before the endpoint and id are added.
type Reason = String;

/// The events a stored Binance record stands for (none when its status is not final or it
/// moved nothing); an unknown endpoint or a record that does not read is an error.
pub fn normalize(stream: &Stream, record: &RawRecord) -> Result<Vec<NewEvent>, NormalizeError> {
    let payload = record.payload.as_str();
    let scope = stream.scope.as_str();
    let events = match stream.endpoint.as_str() {
        "myTrades" => parse(payload).and_then(|r| trade(scope, r)),
        "deposits" => parse(payload).and_then(deposit),
        "withdrawals" => parse(payload).and_then(withdrawal),
        "fiatOrders" => parse(payload).and_then(|r| fiat_order(scope, r)),
        "fiatPayments" => parse(payload).and_then(|r| fiat_payment(scope, r)),
        "convert" => parse(payload).and_then(convert),
        "dust" => parse(payload).and_then(dust),
        "dividends" => parse(payload).and_then(dividend),
        "earnFlexible" => parse(payload).and_then(earn_flexible),
        "earnLocked" => parse(payload).and_then(earn_locked),
        other => Err(format!("unknown Binance endpoint {other:?}")),
    };
    events.map_err(|reason| NormalizeError {
        endpoint: stream.endpoint.clone(),
        external_id: record.external_id.clone(),
        reason,
    })
}

// ---- the records, as Binance writes them -------------------------------------------------

/// A spot fill from `GET /api/v3/myTrades`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Trade {
    symbol: String,
    id: Id,
    qty: String,
    quote_qty: String,
    commission: String,
    commission_asset: String,
    time: i64,
    is_buyer: bool,
}

/// A crypto deposit from `GET /sapi/v1/capital/deposit/hisrec`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Deposit {
    id: Id,
    amount: String,
    coin: String,
    network: Option<String>,
    status: i64,
    address: Option<String>,
    address_tag: Option<String>,
    tx_id: Option<String>,
    insert_time: i64,
    transfer_type: Option<i64>,
}

/// A crypto withdrawal from `GET /sapi/v1/capital/withdraw/history`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Withdrawal {
    id: Id,
    amount: String,
    transaction_fee: String,
    coin: String,
    status: i64,
    address: Option<String>,
    tx_id: Option<String>,
    apply_time: String,
    network: Option<String>,
    transfer_type: Option<i64>,
}

/// A fiat deposit or withdrawal from `GET /sapi/v1/fiat/orders`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FiatOrder {
    order_no: Id,
    fiat_currency: String,
    amount: String,
    total_fee: String,
    method: Option<String>,
    status: String,
    create_time: i64,
}

/// A crypto buy or sell with fiat from `GET /sapi/v1/fiat/payments`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FiatPayment {
    order_no: Id,
    source_amount: String,
    fiat_currency: String,
    obtain_amount: String,
    crypto_currency: String,
    total_fee: String,
    status: String,
    payment_method: Option<String>,
    create_time: i64,
}

/// A Convert trade from `GET /sapi/v1/convert/tradeFlow`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Convert {
    order_id: Id,
    order_status: String,
    from_asset: String,
    from_amount: String,
    to_asset: String,
    to_amount: String,
    create_time: i64,
}

/// One dribblet (small balances converted to BNB at once) from `GET /sapi/v1/asset/dribblet`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Dribblet {
    trans_id: Id,
    user_asset_dribblet_details: Vec<DribbletDetail>,
}

/// One asset of a dribblet.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DribbletDetail {
    amount: String,
    from_asset: String,
    transfered_amount: String,
    service_charge_amount: String,
    operate_time: i64,
}

/// A distribution (interest, staking, airdrop …) from `GET /sapi/v1/asset/assetDividend`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Dividend {
    id: Id,
    amount: String,
    asset: String,
    div_time: i64,
    en_info: String,
}

/// A Simple Earn flexible reward.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FlexibleReward {
    asset: String,
    rewards: String,
    project_id: Id,
    #[serde(rename = "type")]
    kind: String,
    time: i64,
}

/// A Simple Earn locked reward.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LockedReward {
    position_id: Id,
    time: i64,
    asset: String,
    amount: String,
    #[serde(rename = "type")]
    kind: String,
}

/// An id Binance writes as a JSON number in some places and as a string in others.
struct Id(String);

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Id, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = Id;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id (a whole number or a non-empty string)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                Ok(Id(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                let v = v.trim();
                if v.is_empty() { Err(E::invalid_value(Unexpected::Str(v), &self)) } else { Ok(Id(v.to_string())) }
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

// ---- one function per stream -------------------------------------------------------------

/// A fill of the pair `scope` (`BASE/QUOTE`, Binance codes): base against quote, fee apart.
fn trade(scope: &str, r: Trade) -> Result<Vec<NewEvent>, Reason> {
    let (base_code, quote_code) = scope
        .split_once('/')
        .filter(|(b, q)| !b.is_empty() && !q.is_empty())
        .ok_or_else(|| format!("stream scope {scope:?} is not a pair BASE/QUOTE"))?;
    let symbol = format!("{base_code}{quote_code}");
    if r.symbol != symbol {
        return Err(format!("field `symbol`: {:?} is not the stream's pair {scope} ({symbol})", r.symbol));
    }
    let time = millis("time", r.time)?;
    let base = canonical("scope", base_code, r.time)?;
    let quote = canonical("scope", quote_code, r.time)?;
    let qty = decimal("qty", &r.qty)?;
    let quote_qty = decimal("quoteQty", &r.quote_qty)?;
    let commission = decimal("commission", &r.commission)?;
    let fee_asset = canonical("commissionAsset", &r.commission_asset, r.time)?;
    let mut legs = if r.is_buyer {
        vec![Leg::sent(quote.clone(), quote_qty), Leg::received(base, qty)]
    } else {
        vec![Leg::sent(base, qty), Leg::received(quote.clone(), quote_qty)]
    };
    push_fee(&mut legs, fee_asset, commission);
    let mut event = NewEvent::new(format!("trade:{symbol}:{}", r.id), time, EventKind::Trade, legs);
    event.fiat_value = fiat_value(&quote, quote_qty);
    Ok(vec![event])
}

/// A crypto deposit: credited (status 1, or 6 = credited but locked) adds its amount.
fn deposit(r: Deposit) -> Result<Vec<NewEvent>, Reason> {
    match r.status {
        1 | 6 => {}
        // In progress (pending, waiting for the user to confirm).
        0 | 8 => return Ok(vec![]),
        // Rejected, wrong deposit: nothing credited.
        2 | 7 => return Ok(vec![]),
        other => return Err(format!("field `status`: unknown deposit status {other}")),
    }
    let time = millis("insertTime", r.insert_time)?;
    let coin = canonical("coin", &r.coin, r.insert_time)?;
    let amount = decimal("amount", &r.amount)?;
    let (tx_hash, mut notes) = tx_hash(r.tx_id, r.transfer_type);
    if let Some(tag) = present(r.address_tag) {
        notes.push(format!("memo {tag}"));
    }
    Ok(vec![NewEvent {
        tx_hash,
        address: present(r.address),
        network: present(r.network),
        note: join(notes),
        ..NewEvent::new(format!("deposit:{}", r.id), time, EventKind::Deposit, vec![Leg::received(coin, amount)])
    }])
}

/// A crypto withdrawal: completed (status 6) removes its amount and, apart, its fee.
fn withdrawal(r: Withdrawal) -> Result<Vec<NewEvent>, Reason> {
    match r.status {
        6 => {}
        // In progress (email sent, awaiting approval, processing): a later run sees it again.
        0 | 2 | 4 => return Ok(vec![]),
        // Cancelled, rejected, failed: nothing left the account.
        1 | 3 | 5 => return Ok(vec![]),
        other => return Err(format!("field `status`: unknown withdrawal status {other}")),
    }
    let time = parse_utc(&r.apply_time).map_err(|e| format!("field `applyTime`: {e}"))?;
    let coin = canonical("coin", &r.coin, time.timestamp_millis())?;
    let amount = decimal("amount", &r.amount)?;
    let fee = decimal("transactionFee", &r.transaction_fee)?;
    let mut legs = vec![Leg::sent(coin.clone(), amount)];
    push_fee(&mut legs, coin, fee);
    let (tx_hash, notes) = tx_hash(r.tx_id, r.transfer_type);
    Ok(vec![NewEvent {
        tx_hash,
        address: present(r.address),
        network: present(r.network),
        note: join(notes),
        ..NewEvent::new(format!("withdrawal:{}", r.id), time, EventKind::Withdrawal, legs)
    }])
}

/// A fiat deposit (`scope` `deposit`) or withdrawal (`withdraw`) through a bank or card.
fn fiat_order(scope: &str, r: FiatOrder) -> Result<Vec<NewEvent>, Reason> {
    let kind = match scope {
        "deposit" => EventKind::FiatDeposit,
        "withdraw" => EventKind::FiatWithdrawal,
        other => return Err(format!("stream scope {other:?} is neither deposit nor withdraw")),
    };
    if !matches!(r.status.as_str(), "Successful" | "Finished") {
        return Ok(vec![]);
    }
    let time = millis("createTime", r.create_time)?;
    let currency = canonical("fiatCurrency", &r.fiat_currency, r.create_time)?;
    let amount = decimal("amount", &r.amount)?;
    let fee = decimal("totalFee", &r.total_fee)?;
    let mut legs = match kind {
        EventKind::FiatDeposit => vec![Leg::received(currency.clone(), amount)],
        _ => vec![Leg::sent(currency.clone(), amount)],
    };
    push_fee(&mut legs, currency, fee);
    Ok(vec![NewEvent {
        note: present(r.method),
        ..NewEvent::new(format!("fiat_order:{}", r.order_no), time, kind, legs)
    }])
}

/// A crypto buy (`scope` `buy`) or sell (`sell`) paid with fiat; a buy not paid from the
/// Binance cash balance first brings its fiat in (a `…:funding` fiat deposit, listed first).
fn fiat_payment(scope: &str, r: FiatPayment) -> Result<Vec<NewEvent>, Reason> {
    let buy = match scope {
        "buy" => true,
        "sell" => false,
        other => return Err(format!("stream scope {other:?} is neither buy nor sell")),
    };
    match r.status.as_str() {
        "Completed" => {}
        "Processing" | "Failed" | "Refunded" => return Ok(vec![]),
        other => return Err(format!("field `status`: unknown fiat payment status {other:?}")),
    }
    let time = millis("createTime", r.create_time)?;
    let fiat = canonical("fiatCurrency", &r.fiat_currency, r.create_time)?;
    let crypto = canonical("cryptoCurrency", &r.crypto_currency, r.create_time)?;
    let source = decimal("sourceAmount", &r.source_amount)?;
    let obtained = decimal("obtainAmount", &r.obtain_amount)?;
    let fee = decimal("totalFee", &r.total_fee)?;
    let id = format!("fiat_payment:{}", r.order_no);
    let method = present(r.payment_method);
    if !buy {
        let mut legs = vec![Leg::sent(crypto, source), Leg::received(fiat.clone(), obtained)];
        push_fee(&mut legs, fiat.clone(), fee);
        return Ok(vec![NewEvent {
            fiat_value: fiat_value(&fiat, obtained),
            note: method,
            ..NewEvent::new(id, time, EventKind::Trade, legs)
        }]);
    }
    // Both parsed, so below 10^20 in size (`parse_amount`): the difference cannot overflow.
    let spent = source - fee;
    if spent < Decimal::ZERO {
        return Err(format!("field `totalFee`: {fee} is more than sourceAmount {source}"));
    }
    let mut legs = vec![Leg::sent(fiat.clone(), spent), Leg::received(crypto, obtained)];
    push_fee(&mut legs, fiat.clone(), fee);
    let mut events = Vec::with_capacity(2);
    if method.as_deref() != Some("Cash Balance") {
        events.push(NewEvent {
            note: Some(format!("paid by {}", method.as_deref().unwrap_or("an unnamed method"))),
            ..NewEvent::new(
                format!("{id}:funding"),
                time,
                EventKind::FiatDeposit,
                vec![Leg::received(fiat.clone(), source)],
            )
        });
    }
    events.push(NewEvent {
        fiat_value: fiat_value(&fiat, spent),
        note: method,
        ..NewEvent::new(id, time, EventKind::Trade, legs)
    });
    Ok(events)
}

/// A Convert trade: one asset given for another, no fee leg (the fee is in the rate).
fn convert(r: Convert) -> Result<Vec<NewEvent>, Reason> {
    match r.order_status.as_str() {
        "SUCCESS" => {}
        "PROCESS" | "ACCEPT_SUCCESS" | "FAIL" => return Ok(vec![]),
        other => return Err(format!("field `orderStatus`: unknown convert status {other:?}")),
    }
    let time = millis("createTime", r.create_time)?;
    let from = canonical("fromAsset", &r.from_asset, r.create_time)?;
    let to = canonical("toAsset", &r.to_asset, r.create_time)?;
    let from_amount = decimal("fromAmount", &r.from_amount)?;
    let to_amount = decimal("toAmount", &r.to_amount)?;
    let value = fiat_value(&from, from_amount).or_else(|| fiat_value(&to, to_amount));
    let legs = vec![Leg::sent(from, from_amount), Leg::received(to, to_amount)];
    Ok(vec![NewEvent {
        fiat_value: value,
        ..NewEvent::new(format!("convert:{}", r.order_id), time, EventKind::Trade, legs)
    }])
}

/// A dribblet: each small balance becomes its own conversion to BNB, with its BNB fee.
fn dust(r: Dribblet) -> Result<Vec<NewEvent>, Reason> {
    if r.user_asset_dribblet_details.is_empty() {
        return Err("field `userAssetDribbletDetails`: the dribblet lists no asset".to_string());
    }
    let mut events: Vec<NewEvent> = Vec::with_capacity(r.user_asset_dribblet_details.len());
    for detail in r.user_asset_dribblet_details {
        let id = format!("dust:{}:{}", r.trans_id, detail.from_asset.trim());
        if events.iter().any(|e| e.external_id == id) {
            return Err(format!("field `fromAsset`: {} appears twice in one dribblet", detail.from_asset));
        }
        let time = millis("operateTime", detail.operate_time)?;
        let from = canonical("fromAsset", &detail.from_asset, detail.operate_time)?;
        let spent = decimal("amount", &detail.amount)?;
        let credited = decimal("transferedAmount", &detail.transfered_amount)?;
        let charge = decimal("serviceChargeAmount", &detail.service_charge_amount)?;
        let bnb = asset("BNB", detail.operate_time);
        // Both parsed, so below 10^20 in size (`parse_amount`): the sum cannot overflow.
        let mut legs = vec![Leg::sent(from, spent), Leg::received(bnb.clone(), credited + charge)];
        push_fee(&mut legs, bnb, charge);
        events.push(NewEvent::new(id, time, EventKind::Conversion, legs));
    }
    Ok(events)
}

/// A distribution; its kind is read from the English description `enInfo`.
fn dividend(r: Dividend) -> Result<Vec<NewEvent>, Reason> {
    let amount = decimal("amount", &r.amount)?;
    if amount.is_zero() {
        return Ok(vec![]);
    }
    let time = millis("divTime", r.div_time)?;
    let coin = canonical("asset", &r.asset, r.div_time)?;
    let kind = dividend_kind(&r.en_info);
    Ok(vec![NewEvent {
        note: present(Some(r.en_info)),
        ..NewEvent::new(format!("dividend:{}", r.id), time, kind, vec![Leg::received(coin, amount)])
    }])
}

/// The kind of a distribution from its `enInfo` (the contract's word lists, in order).
pub fn dividend_kind(en_info: &str) -> EventKind {
    let has = |words: &[&str]| words.iter().any(|w| en_info.contains(w));
    if has(&["Staking", "staking", "STAKING"]) {
        EventKind::Staking
    } else if has(&["Savings", "Flexible", "Locked", "Earn", "Vault", "Launchpool"]) {
        EventKind::Interest
    } else if has(&["distribution", "airdrop", "Airdrop"]) {
        EventKind::Airdrop
    } else if has(&["Cash Voucher", "rebate", "Rebate", "Commission"]) {
        EventKind::Rebate
    } else {
        EventKind::Income
    }
}

/// A Simple Earn flexible reward: interest.
fn earn_flexible(r: FlexibleReward) -> Result<Vec<NewEvent>, Reason> {
    let rewards = decimal("rewards", &r.rewards)?;
    if rewards.is_zero() {
        return Ok(vec![]);
    }
    let time = millis("time", r.time)?;
    let coin = canonical("asset", &r.asset, r.time)?;
    let id = format!("earn_flexible:{}:{}:{}:{}", r.time, r.asset, r.kind, r.project_id);
    Ok(vec![NewEvent {
        note: Some(format!("Simple Earn flexible, {} {}", r.project_id, r.kind)),
        ..NewEvent::new(id, time, EventKind::Interest, vec![Leg::received(coin, rewards)])
    }])
}

/// A Simple Earn locked reward: staking.
fn earn_locked(r: LockedReward) -> Result<Vec<NewEvent>, Reason> {
    let amount = decimal("amount", &r.amount)?;
    if amount.is_zero() {
        return Ok(vec![]);
    }
    let time = millis("time", r.time)?;
    let coin = canonical("asset", &r.asset, r.time)?;
    let id = format!("earn_locked:{}:{}:{}:{}", r.time, r.asset, r.kind, r.position_id);
    Ok(vec![NewEvent {
        note: Some(format!("Simple Earn locked, position {}, {}", r.position_id, r.kind)),
        ..NewEvent::new(id, time, EventKind::Staking, vec![Leg::received(coin, amount)])
    }])
}

// ---- reading fields ----------------------------------------------------------------------

/// Reads a record into its typed struct; the reason names the field when serde does not.
fn parse<T: DeserializeOwned>(payload: &str) -> Result<T, Reason> {
    serde_json::from_str(payload).map_err(|e| {
        let message = e.to_string();
        if message.contains("field `") || !e.is_data() {
            return message;
        }
        match field_at(payload, e.line(), e.column()) {
            Some(field) => format!("field `{field}`: {message}"),
            None => message,
        }
    })
}

/// The name of the JSON key whose value ends at (or contains) line/column of `payload`:
/// the nearest `"key":` before that point.
fn field_at(payload: &str, line: usize, column: usize) -> Option<String> {
    let line_start: usize = payload.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    let mut end = (line_start + column).min(payload.len());
    while !payload.is_char_boundary(end) {
        end -= 1;
    }
    let before = &payload[..end];
    for (colon, _) in before.match_indices(':').rev() {
        let key_end = before[..colon].trim_end();
        let Some(key_body) = key_end.strip_suffix('"') else { continue };
        let Some(open) = key_body.rfind('"') else { continue };
        let ahead = key_body[..open].trim_end();
        if ahead.ends_with('{') || ahead.ends_with(',') {
            return Some(key_body[open + 1..].to_string());
        }
    }
    None
}

/// An amount that must be present and not negative.
fn decimal(field: &str, text: &str) -> Result<Decimal, Reason> {
    let value = parse_amount(text).map_err(|e| format!("field `{field}`: {e}"))?;
    if value.is_sign_negative() && !value.is_zero() {
        return Err(format!("field `{field}`: {text:?} is negative"));
    }
    Ok(value)
}

/// The canonical symbol of a Binance asset code at a record's time.
fn canonical(field: &str, code: &str, time_ms: i64) -> Result<String, Reason> {
    asset_symbol(code).map_err(|e| format!("field `{field}`: {e}"))?;
    Ok(asset(code, time_ms))
}

/// The instant of a millisecond timestamp; refuses zero, negative and out-of-range values.
fn millis(field: &str, ms: i64) -> Result<DateTime<Utc>, Reason> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .filter(|_| ms > 0)
        .ok_or_else(|| format!("field `{field}`: {ms} is not a time in milliseconds"))
}

/// Appends a fee leg unless the fee is zero.
fn push_fee(legs: &mut Vec<Leg>, asset: String, fee: Decimal) {
    if !fee.is_zero() {
        legs.push(Leg::fee(asset, fee));
    }
}

/// The fiat value of a trade when the amount given is in fiat money.
fn fiat_value(currency: &str, amount: Decimal) -> Option<FiatValue> {
    is_fiat(currency).then(|| FiatValue { amount, currency: currency.to_string() })
}

/// Text that is present and not blank.
fn present(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// The on-chain hash of a transfer, and a note when it is an internal (Binance-to-Binance)
/// transfer: those carry no hash, at most a text such as `Internal transfer 123`.
fn tx_hash(tx_id: Option<String>, transfer_type: Option<i64>) -> (Option<String>, Vec<String>) {
    let tx_id = present(tx_id);
    let internal = transfer_type == Some(1) || tx_id.as_deref().is_some_and(|t| t.starts_with("Internal transfer"));
    if !internal {
        return (tx_id, vec![]);
    }
    let note = match tx_id {
        Some(text) if text.starts_with("Internal transfer") => text,
        _ => "Internal transfer".to_string(),
    };
    (None, vec![note])
}

/// Notes joined with `; `, or none.
fn join(notes: Vec<String>) -> Option<String> {
    if notes.is_empty() { None } else { Some(notes.join("; ")) }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use std::str::FromStr;

    use serde_json::Value;

    use super::*;
    use crate::time::to_millis;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/binance/api");

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    fn sent(asset: &str, amount: &str) -> Leg {
        Leg::sent(asset, d(amount))
    }

    fn received(asset: &str, amount: &str) -> Leg {
        Leg::received(asset, d(amount))
    }

    fn fee(asset: &str, amount: &str) -> Leg {
        Leg::fee(asset, d(amount))
    }

    fn ev(id: &str, ms: i64, kind: EventKind, legs: Vec<Leg>) -> NewEvent {
        NewEvent::new(id, Utc.timestamp_millis_opt(ms).unwrap(), kind, legs)
    }

    fn fiat(amount: &str, currency: &str) -> Option<FiatValue> {
        Some(FiatValue { amount: d(amount), currency: currency.to_string() })
    }

    fn note(text: &str) -> Option<String> {
        Some(text.to_string())
    }

    /// One fixture file: the stream it belongs to, its raw id, and the events it must give.
    struct Case {
        file: &'static str,
        scope: &'static str,
        raw_id: &'static str,
        events: Vec<NewEvent>,
    }

    fn case(file: &'static str, scope: &'static str, raw_id: &'static str, events: Vec<NewEvent>) -> Case {
        Case { file, scope, raw_id, events }
    }

    fn endpoint_of(file: &str) -> &str {
        file.split_once('/').unwrap().0
    }

    fn read(file: &str) -> String {
        std::fs::read_to_string(Path::new(FIXTURES).join(file)).unwrap()
    }

    fn run(endpoint: &str, scope: &str, raw_id: &str, payload: &str) -> Result<Vec<NewEvent>, NormalizeError> {
        normalize(
            &Stream::new(endpoint, scope),
            &RawRecord { external_id: raw_id.to_string(), payload: payload.to_string() },
        )
    }

    fn run_case(c: &Case) -> Vec<NewEvent> {
        run(endpoint_of(c.file), c.scope, c.raw_id, &read(c.file)).unwrap_or_else(|e| panic!("{}: {e}", c.file))
    }

    /// Every fixture and what it gives, written out by hand from the contract.
    fn cases() -> Vec<Case> {
        use EventKind::*;
        vec![
            // myTrades
            case(
                "myTrades/bnb_btc_buy_fee_in_bnb.json",
                "BNB/BTC",
                "28457",
                vec![ev(
                    "trade:BNBBTC:28457",
                    1499865549590,
                    Trade,
                    vec![sent("BTC", "48.000012"), received("BNB", "12"), fee("BNB", "10.1")],
                )],
            ),
            case(
                "myTrades/eth_btc_sell_fee_in_quote.json",
                "ETH/BTC",
                "163720",
                vec![ev(
                    "trade:ETHBTC:163720",
                    1515500000000,
                    Trade,
                    vec![sent("ETH", "0.5"), received("BTC", "0.0362705"), fee("BTC", "0.00003627")],
                )],
            ),
            case(
                "myTrades/eth_usdt_buy_fee_in_bnb_third_asset.json",
                "ETH/USDT",
                "412345678",
                vec![ev(
                    "trade:ETHUSDT:412345678",
                    1690000000000,
                    Trade,
                    vec![sent("USDT", "462.53"), received("ETH", "0.25"), fee("BNB", "0.0004121")],
                )],
            ),
            case(
                "myTrades/sol_usdt_sell_fee_in_other_asset.json",
                "SOL/USDT",
                "99887766",
                vec![ev(
                    "trade:SOLUSDT:99887766",
                    1712000000000,
                    Trade,
                    vec![sent("SOL", "3"), received("USDT", "427.05"), fee("FDUSD", "0.042705")],
                )],
            ),
            case(
                "myTrades/btc_eur_buy_fee_in_base.json",
                "BTC/EUR",
                "51234567",
                vec![NewEvent {
                    fiat_value: fiat("270", "EUR"),
                    ..ev(
                        "trade:BTCEUR:51234567",
                        1684000000000,
                        Trade,
                        vec![sent("EUR", "270"), received("BTC", "0.01"), fee("BTC", "0.00001")],
                    )
                }],
            ),
            case(
                "myTrades/bcc_btc_sell_old_code_zero_fee.json",
                "BCC/BTC",
                "1204567",
                vec![ev(
                    "trade:BCCBTC:1204567",
                    1510000000000,
                    Trade,
                    vec![sent("BCH", "1"), received("BTC", "0.152")],
                )],
            ),
            case(
                "myTrades/luna_busd_buy_before_rename.json",
                "LUNA/BUSD",
                "2345678",
                vec![ev(
                    "trade:LUNABUSD:2345678",
                    1624529919000,
                    Trade,
                    vec![sent("BUSD", "65"), received("LUNC", "10"), fee("LUNC", "0.01")],
                )],
            ),
            case(
                "myTrades/luna_usdt_buy_after_rename.json",
                "LUNA/USDT",
                "98765",
                vec![ev(
                    "trade:LUNAUSDT:98765",
                    1680000000000,
                    Trade,
                    vec![sent("USDT", "25"), received("LUNA", "20"), fee("LUNA", "0.02")],
                )],
            ),
            // deposits
            case(
                "deposits/credited.json",
                "",
                "769800519366885376",
                vec![NewEvent {
                    tx_hash: note("98A3EA560C6B3336D348B6C83F0F95ECE4F1F5919E94BD006E5BF3BF264FACFC"),
                    address: note("bnb136ns6lfw4zs5hg4n85vdthaad7hq5m4gtkgf23"),
                    network: note("BNB"),
                    note: note("memo 101764890"),
                    ..ev("deposit:769800519366885376", 1661493146000, Deposit, vec![received("BNB", "0.001")])
                }],
            ),
            case(
                "deposits/credited_but_locked_status_6.json",
                "",
                "815328436812349441",
                vec![NewEvent {
                    tx_hash: note("0x8d5c61d5e6f2c0c1b2c5d3f5a17a3ec0e2a0bb4d51e9f5e6fbc37f22bdbce4a1"),
                    address: note("0x5a0b54d5dc17e0aadc383d2db43b0a0d3e029c4c"),
                    network: note("ETH"),
                    ..ev("deposit:815328436812349441", 1672531200000, Deposit, vec![received("ETH", "0.25")])
                }],
            ),
            case(
                "deposits/old_without_network.json",
                "",
                "301842110257356800",
                vec![NewEvent {
                    tx_hash: note("4a1b2c3d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcdef"),
                    address: note("LcHKx7dLZ8dxoGbQ2VdoknQ1NjKPWmuXjz"),
                    ..ev("deposit:301842110257356800", 1520151330000, Deposit, vec![received("LTC", "1.5")])
                }],
            ),
            case(
                "deposits/internal_transfer.json",
                "",
                "4012345678901234567",
                vec![NewEvent {
                    address: note("0x3f5ce5fbfe3e9af3971dd833d26ba9b5c936f0be"),
                    network: note("BSC"),
                    note: note("Internal transfer 12345678901"),
                    ..ev("deposit:4012345678901234567", 1700041267000, Deposit, vec![received("USDT", "150")])
                }],
            ),
            case("deposits/pending_status_0.json", "", "900000000000000001", vec![]),
            case("deposits/rejected_status_2.json", "", "900000000000000002", vec![]),
            // withdrawals
            case(
                "withdrawals/completed.json",
                "",
                "b6ae22b3aa844210a7041aee7589627c",
                vec![NewEvent {
                    tx_hash: note("0xb5ef8c13b968a406cc62a93a8bd80f9e9a906ef1b3fcf20a2e48573c17659268"),
                    address: note("0x94df8b352de7f46f64b01d3666bf6e936e44ce60"),
                    network: note("ETH"),
                    ..ev(
                        "withdrawal:b6ae22b3aa844210a7041aee7589627c",
                        1570878722000,
                        Withdrawal,
                        vec![sent("USDT", "8.91"), fee("USDT", "0.004")],
                    )
                }],
            ),
            case(
                "withdrawals/old_without_network.json",
                "",
                "7213fea8e94b4a5593d507237e5a555b",
                vec![NewEvent {
                    tx_hash: note("a1075db55d416d3ca199f55b6084e2115b9345e16c5cf302fc80e9d5fbf5d48d"),
                    address: note("1BoatSLRHtKNngkdXEeobR76b53LETtpyT"),
                    ..ev(
                        "withdrawal:7213fea8e94b4a5593d507237e5a555b",
                        1520151330000,
                        Withdrawal,
                        vec![sent("BTC", "0.05"), fee("BTC", "0.0005")],
                    )
                }],
            ),
            case(
                "withdrawals/internal_transfer_no_fee.json",
                "",
                "2c9f8e1b7d6a4c3b9e0f1a2b3c4d5e6f",
                vec![NewEvent {
                    address: note("0x28c6c06298d514db089934071355e5743bf21d60"),
                    network: note("BSC"),
                    note: note("Internal transfer 98765432109"),
                    ..ev(
                        "withdrawal:2c9f8e1b7d6a4c3b9e0f1a2b3c4d5e6f",
                        1700041267000,
                        Withdrawal,
                        vec![sent("BNB", "2.5")],
                    )
                }],
            ),
            case("withdrawals/rejected_status_3.json", "", "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", vec![]),
            case("withdrawals/processing_status_4.json", "", "0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d", vec![]),
            // fiatOrders
            case(
                "fiatOrders/deposit_successful.json",
                "deposit",
                "25ced37075c1470ba8939d0df2316e23",
                vec![NewEvent {
                    note: note("BankAccount"),
                    ..ev(
                        "fiat_order:25ced37075c1470ba8939d0df2316e23",
                        1626144956000,
                        FiatDeposit,
                        vec![received("EUR", "1000"), fee("EUR", "1.5")],
                    )
                }],
            ),
            case(
                "fiatOrders/withdraw_finished.json",
                "withdraw",
                "3f1c0d9e2b9f4b57a9f4f2d5fa0d6e11",
                vec![NewEvent {
                    note: note("BankAccount"),
                    ..ev(
                        "fiat_order:3f1c0d9e2b9f4b57a9f4f2d5fa0d6e11",
                        1661990400000,
                        FiatWithdrawal,
                        vec![sent("EUR", "500"), fee("EUR", "1")],
                    )
                }],
            ),
            case("fiatOrders/deposit_expired.json", "deposit", "7d76d611-0568-4f43-afb6-24cac7767365", vec![]),
            case("fiatOrders/deposit_processing.json", "deposit", "c4b5a6978899aabbccddeeff00112233", vec![]),
            case("fiatOrders/withdraw_refunded.json", "withdraw", "d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6", vec![]),
            // fiatPayments
            case(
                "fiatPayments/buy_credit_card.json",
                "buy",
                "a0b1c2d3e4f5061728394a5b6c7d8e9f",
                vec![
                    NewEvent {
                        note: note("paid by Credit Card"),
                        ..ev(
                            "fiat_payment:a0b1c2d3e4f5061728394a5b6c7d8e9f:funding",
                            1675000000000,
                            FiatDeposit,
                            vec![received("EUR", "100")],
                        )
                    },
                    NewEvent {
                        note: note("Credit Card"),
                        fiat_value: fiat("98", "EUR"),
                        ..ev(
                            "fiat_payment:a0b1c2d3e4f5061728394a5b6c7d8e9f",
                            1675000000000,
                            Trade,
                            vec![sent("EUR", "98"), received("BTC", "0.00412345"), fee("EUR", "2")],
                        )
                    },
                ],
            ),
            case(
                "fiatPayments/buy_cash_balance.json",
                "buy",
                "5f4e3d2c1b0a99887766554433221100",
                vec![NewEvent {
                    note: note("Cash Balance"),
                    fiat_value: fiat("49.5", "EUR"),
                    ..ev(
                        "fiat_payment:5f4e3d2c1b0a99887766554433221100",
                        1690000000000,
                        Trade,
                        vec![sent("EUR", "49.5"), received("USDT", "53.21"), fee("EUR", "0.5")],
                    )
                }],
            ),
            case("fiatPayments/buy_failed.json", "buy", "353fca443f06466db0c4dc89f94f027a", vec![]),
            case("fiatPayments/buy_refunded.json", "buy", "9a8b7c6d5e4f30211203f4e5d6c7b8a9", vec![]),
            case(
                "fiatPayments/sell_completed.json",
                "sell",
                "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                vec![NewEvent {
                    fiat_value: fiat("812.4", "EUR"),
                    ..ev(
                        "fiat_payment:0f1e2d3c4b5a69788796a5b4c3d2e1f0",
                        1700041267000,
                        Trade,
                        vec![sent("ETH", "0.5"), received("EUR", "812.4"), fee("EUR", "8.2")],
                    )
                }],
            ),
            // convert
            case(
                "convert/success.json",
                "",
                "940708407462087195",
                vec![ev(
                    "convert:940708407462087195",
                    1624248872184,
                    Trade,
                    vec![sent("USDT", "20"), received("BNB", "0.06154036")],
                )],
            ),
            case(
                "convert/success_string_order_id_from_fiat.json",
                "",
                "1205436678341234567",
                vec![NewEvent {
                    fiat_value: fiat("100", "EUR"),
                    ..ev(
                        "convert:1205436678341234567",
                        1706788800000,
                        Trade,
                        vec![sent("EUR", "100"), received("BTC", "0.0025")],
                    )
                }],
            ),
            case("convert/fail.json", "", "940708407462087196", vec![]),
            case("convert/process.json", "", "940708407462087197", vec![]),
            // dust
            case(
                "dust/two_details.json",
                "",
                "45178372831",
                vec![
                    ev(
                        "dust:45178372831:USDT",
                        1615985535000,
                        Conversion,
                        vec![sent("USDT", "0.0009"), received("BNB", "0.00045"), fee("BNB", "0.000009")],
                    ),
                    ev(
                        "dust:45178372831:ETH",
                        1615985535000,
                        Conversion,
                        vec![sent("ETH", "0.0009"), received("BNB", "0.00089955"), fee("BNB", "0.00001799")],
                    ),
                ],
            ),
            case(
                "dust/one_detail_luna_before_rename.json",
                "",
                "60512345678",
                vec![ev(
                    "dust:60512345678:LUNA",
                    1653033600000,
                    Conversion,
                    vec![sent("LUNC", "3512.77"), received("BNB", "0.00062483"), fee("BNB", "0.00001249")],
                )],
            ),
            // dividends
            case(
                "dividends/distribution_airdrop.json",
                "",
                "1637366104",
                vec![NewEvent {
                    note: note("BHFT distribution"),
                    ..ev("dividend:1637366104", 1563189166000, Airdrop, vec![received("BHFT", "10")])
                }],
            ),
            case(
                "dividends/eth2_staking.json",
                "",
                "1869244211",
                vec![NewEvent {
                    note: note("ETH 2.0 Staking"),
                    ..ev("dividend:1869244211", 1625097600000, Staking, vec![received("BETH", "0.00012345")])
                }],
            ),
            case(
                "dividends/locked_staking.json",
                "",
                "1901234567",
                vec![NewEvent {
                    note: note("Locked Staking"),
                    ..ev("dividend:1901234567", 1625097600000, Staking, vec![received("DOT", "0.045123")])
                }],
            ),
            case(
                "dividends/staking_upper_case.json",
                "",
                "1901234568",
                vec![NewEvent {
                    note: note("STAKING"),
                    ..ev("dividend:1901234568", 1625097600000, Staking, vec![received("ADA", "0.31")])
                }],
            ),
            case(
                "dividends/flexible_savings.json",
                "",
                "1801234567",
                vec![NewEvent {
                    note: note("Flexible Savings"),
                    ..ev("dividend:1801234567", 1612951200000, Interest, vec![received("USDT", "0.01234567")])
                }],
            ),
            case(
                "dividends/launchpool.json",
                "",
                "1801234568",
                vec![NewEvent {
                    note: note("Launchpool"),
                    ..ev("dividend:1801234568", 1612951200000, Interest, vec![received("AXS", "1.25")])
                }],
            ),
            case(
                "dividends/cash_voucher.json",
                "",
                "2001234567",
                vec![NewEvent {
                    note: note("Cash Voucher"),
                    ..ev("dividend:2001234567", 1661990400000, Rebate, vec![received("BUSD", "5")])
                }],
            ),
            case(
                "dividends/launchpad_other_income.json",
                "",
                "2001234568",
                vec![NewEvent {
                    note: note("launchpad"),
                    ..ev("dividend:2001234568", 1612951200000, Income, vec![received("SAND", "12")])
                }],
            ),
            case("dividends/zero_amount.json", "", "2001234569", vec![]),
            // Simple Earn
            case(
                "earnFlexible/realtime.json",
                "",
                "1577233562000:USDT:REALTIME:USDT001",
                vec![NewEvent {
                    note: note("Simple Earn flexible, USDT001 REALTIME"),
                    ..ev(
                        "earn_flexible:1577233562000:USDT:REALTIME:USDT001",
                        1577233562000,
                        Interest,
                        vec![received("USDT", "0.00687654")],
                    )
                }],
            ),
            case(
                "earnFlexible/bonus.json",
                "",
                "1577233578000:BUSD:BONUS:USDT001",
                vec![NewEvent {
                    note: note("Simple Earn flexible, USDT001 BONUS"),
                    ..ev(
                        "earn_flexible:1577233578000:BUSD:BONUS:USDT001",
                        1577233578000,
                        Interest,
                        vec![received("BUSD", "0.00006408")],
                    )
                }],
            ),
            case(
                "earnLocked/numeric_position_id.json",
                "",
                "1575018510000:BNB:Locked Rewards:123123",
                vec![NewEvent {
                    note: note("Simple Earn locked, position 123123, Locked Rewards"),
                    ..ev(
                        "earn_locked:1575018510000:BNB:Locked Rewards:123123",
                        1575018510000,
                        Staking,
                        vec![received("BNB", "21312.23223")],
                    )
                }],
            ),
            case(
                "earnLocked/string_position_id.json",
                "",
                "1575018510000:BNB:Boost Rewards:123123",
                vec![NewEvent {
                    note: note("Simple Earn locked, position 123123, Boost Rewards"),
                    ..ev(
                        "earn_locked:1575018510000:BNB:Boost Rewards:123123",
                        1575018510000,
                        Staking,
                        vec![received("BNB", "1.23223")],
                    )
                }],
            ),
        ]
    }

    fn fixture_files() -> Vec<String> {
        let mut files = Vec::new();
        let root = PathBuf::from(FIXTURES);
        for dir in std::fs::read_dir(&root).unwrap() {
            let dir = dir.unwrap().path();
            for file in std::fs::read_dir(&dir).unwrap() {
                let path = file.unwrap().path();
                files.push(path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
        files.sort();
        files
    }

    #[test]
    fn every_fixture_gives_exactly_its_events() {
        for c in cases() {
            let got = run_case(&c);
            assert_eq!(got, c.events, "{}", c.file);
            for event in &got {
                assert!(event.legs.iter().all(|l| !l.amount.is_zero()), "{}: a zero leg", c.file);
            }
        }
    }

    #[test]
    fn every_fixture_file_has_a_case() {
        let listed: Vec<String> = {
            let mut v: Vec<String> = cases().iter().map(|c| c.file.to_string()).collect();
            v.sort();
            v
        };
        assert_eq!(fixture_files(), listed);
    }

    #[test]
    fn normalising_again_gives_the_same_events() {
        for c in cases() {
            assert_eq!(run_case(&c), run_case(&c), "{}", c.file);
        }
    }

    #[test]
    fn event_ids_are_unique_across_fixtures() {
        let mut seen = std::collections::BTreeSet::new();
        for c in cases() {
            for event in run_case(&c) {
                assert!(seen.insert(event.external_id.clone()), "{} twice", event.external_id);
            }
        }
    }

    /// The balance effect of one record, computed straight from the contract's words
    /// (binance-semantics.md, "Balance effects") on the untyped JSON.
    fn contract_effect(endpoint: &str, scope: &str, v: &Value) -> BTreeMap<String, Decimal> {
        let s = |k: &str| v[k].as_str().unwrap().to_string();
        let n = |k: &str| d(v[k].as_str().unwrap());
        let t = |k: &str| v[k].as_i64().unwrap();
        let mut effect: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut add = |code: &str, time: i64, amount: Decimal| {
            *effect.entry(asset(code, time)).or_default() += amount;
        };
        match endpoint {
            "myTrades" => {
                let (base, quote) = scope.split_once('/').unwrap();
                let sign = if v["isBuyer"].as_bool().unwrap() { Decimal::ONE } else { -Decimal::ONE };
                add(base, t("time"), sign * n("qty"));
                add(quote, t("time"), -sign * n("quoteQty"));
                add(&s("commissionAsset"), t("time"), -n("commission"));
            }
            "deposits" if matches!(v["status"].as_i64(), Some(1 | 6)) => add(&s("coin"), t("insertTime"), n("amount")),
            "withdrawals" if v["status"].as_i64() == Some(6) => {
                let time = to_millis(parse_utc(&s("applyTime")).unwrap());
                add(&s("coin"), time, -(n("amount") + n("transactionFee")));
            }
            "fiatOrders" if matches!(s("status").as_str(), "Successful" | "Finished") => {
                let gross = if scope == "deposit" { n("amount") } else { -n("amount") };
                add(&s("fiatCurrency"), t("createTime"), gross - n("totalFee"));
            }
            "fiatPayments" if s("status") == "Completed" => {
                let time = t("createTime");
                if scope == "buy" {
                    add(&s("cryptoCurrency"), time, n("obtainAmount"));
                    let from_cash = v["paymentMethod"].as_str() == Some("Cash Balance");
                    if from_cash {
                        add(&s("fiatCurrency"), time, -n("sourceAmount"));
                    }
                } else {
                    add(&s("cryptoCurrency"), time, -n("sourceAmount"));
                    add(&s("fiatCurrency"), time, n("obtainAmount") - n("totalFee"));
                }
            }
            "convert" if s("orderStatus") == "SUCCESS" => {
                add(&s("fromAsset"), t("createTime"), -n("fromAmount"));
                add(&s("toAsset"), t("createTime"), n("toAmount"));
            }
            "dust" => {
                for detail in v["userAssetDribbletDetails"].as_array().unwrap() {
                    let time = detail["operateTime"].as_i64().unwrap();
                    add(detail["fromAsset"].as_str().unwrap(), time, -d(detail["amount"].as_str().unwrap()));
                    add("BNB", time, d(detail["transferedAmount"].as_str().unwrap()));
                }
            }
            "dividends" => add(&s("asset"), t("divTime"), n("amount")),
            "earnFlexible" => add(&s("asset"), t("time"), n("rewards")),
            "earnLocked" => add(&s("asset"), t("time"), n("amount")),
            _ => {}
        }
        effect.retain(|_, amount| !amount.is_zero());
        effect
    }

    #[test]
    fn legs_sum_to_the_contracts_balance_effect_for_every_fixture() {
        for c in cases() {
            let value: Value = serde_json::from_str(&read(c.file)).unwrap();
            let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
            for event in run_case(&c) {
                for leg in event.legs {
                    *sums.entry(leg.asset).or_default() += leg.amount;
                }
            }
            sums.retain(|_, amount| !amount.is_zero());
            assert_eq!(sums, contract_effect(endpoint_of(c.file), c.scope, &value), "{}", c.file);
        }
    }

    #[test]
    fn legs_come_sent_received_fee_with_their_signs() {
        for c in cases() {
            for event in run_case(&c) {
                let roles: Vec<_> = event.legs.iter().map(|l| l.role).collect();
                let mut sorted = roles.clone();
                sorted.sort();
                assert_eq!(roles, sorted, "{}", event.external_id);
                for leg in &event.legs {
                    let positive = leg.amount > Decimal::ZERO;
                    assert_eq!(positive, leg.role == crate::event::LegRole::Received, "{}", event.external_id);
                }
            }
        }
    }

    // ---- bad records ---------------------------------------------------------------------

    const TRADE: &str = r#"{"symbol":"BNBBTC","id":28457,"orderId":100234,"price":"4.00000100","qty":"12.00000000",
        "quoteQty":"48.000012","commission":"10.10000000","commissionAsset":"BNB","time":1499865549590,
        "isBuyer":true,"isMaker":false}"#;

    fn trade_error(payload: &str, scope: &str) -> NormalizeError {
        run("myTrades", scope, "28457", payload).unwrap_err()
    }

    #[test]
    fn a_missing_field_is_named() {
        let e = trade_error(&TRADE.replace(r#""qty":"12.00000000","#, ""), "BNB/BTC");
        assert!(e.reason.contains("`qty`"), "{e}");
        assert_eq!(e.endpoint, "myTrades");
        assert_eq!(e.external_id, "28457");
        assert!(e.to_string().starts_with("myTrades record 28457: "), "{e}");
    }

    #[test]
    fn an_amount_that_is_not_a_plain_decimal_is_named() {
        let e = trade_error(&TRADE.replace("12.00000000", "1,5"), "BNB/BTC");
        assert!(e.reason.contains("`qty`") && e.reason.contains("1,5"), "{e}");
        let e = trade_error(&TRADE.replace("10.10000000", "-1"), "BNB/BTC");
        assert!(e.reason.contains("`commission`") && e.reason.contains("negative"), "{e}");
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named() {
        let e = trade_error(&TRADE.replace(r#""12.00000000""#, "12.0"), "BNB/BTC");
        assert!(e.reason.contains("field `qty`"), "{e}");
        let e = trade_error(&TRADE.replace("true", r#""yes""#), "BNB/BTC");
        assert!(e.reason.contains("field `isBuyer`"), "{e}");
        let e = trade_error(&TRADE.replace("28457", "28457.5"), "BNB/BTC");
        assert!(e.reason.contains("field `id`"), "{e}");
        let deposit = read("deposits/credited.json").replace(r#""status": 1"#, r#""status": "1""#);
        let e = run("deposits", "", "769800519366885376", &deposit).unwrap_err();
        assert!(e.reason.contains("field `status`"), "{e}");
        let dust = read("dust/two_details.json").replace(r#""amount": "0.0009""#, r#""amount": 0.0009"#);
        let e = run("dust", "", "45178372831", &dust).unwrap_err();
        assert!(e.reason.contains("field `amount`"), "{e}");
    }

    #[test]
    fn a_symbol_other_than_the_streams_pair_is_refused() {
        let e = trade_error(TRADE, "ETH/BTC");
        assert!(e.reason.contains("`symbol`") && e.reason.contains("BNBBTC") && e.reason.contains("ETH/BTC"), "{e}");
        let e = trade_error(TRADE, "BNBBTC");
        assert!(e.reason.contains("BASE/QUOTE"), "{e}");
    }

    #[test]
    fn unknown_endpoints_scopes_and_statuses_are_errors() {
        let e = run("futuresIncome", "", "1", TRADE).unwrap_err();
        assert!(e.reason.contains("futuresIncome"), "{e}");
        let order = read("fiatOrders/deposit_successful.json");
        assert!(run("fiatOrders", "", "x", &order).unwrap_err().reason.contains("scope"));
        let payment = read("fiatPayments/buy_credit_card.json");
        assert!(run("fiatPayments", "deposit", "x", &payment).unwrap_err().reason.contains("scope"));
        let deposit = read("deposits/credited.json").replace(r#""status": 1"#, r#""status": 9"#);
        assert!(run("deposits", "", "x", &deposit).unwrap_err().reason.contains("status 9"));
        let withdrawal = read("withdrawals/completed.json").replace(r#""status": 6"#, r#""status": 7"#);
        assert!(run("withdrawals", "", "x", &withdrawal).unwrap_err().reason.contains("status 7"));
        let convert = read("convert/success.json").replace("SUCCESS", "EXPIRED");
        assert!(run("convert", "", "x", &convert).unwrap_err().reason.contains("EXPIRED"));
        let payment = payment.replace("Completed", "Chargeback");
        assert!(run("fiatPayments", "buy", "x", &payment).unwrap_err().reason.contains("Chargeback"));
    }

    #[test]
    fn other_malformed_records_are_errors() {
        assert!(run("myTrades", "BNB/BTC", "1", "not json").is_err());
        assert!(run("myTrades", "BNB/BTC", "1", "[1,2]").is_err());
        let withdrawal = read("withdrawals/completed.json").replace("2019-10-12 11:12:02", "12/10/2019");
        let e = run("withdrawals", "", "x", &withdrawal).unwrap_err();
        assert!(e.reason.contains("`applyTime`"), "{e}");
        let e = trade_error(&TRADE.replace("1499865549590", "-5"), "BNB/BTC");
        assert!(e.reason.contains("`time`"), "{e}");
        let e = trade_error(&TRADE.replace(r#""BNB","time""#, r#""B N B","time""#), "BNB/BTC");
        assert!(e.reason.contains("`commissionAsset`"), "{e}");
        let payment = read("fiatPayments/buy_credit_card.json").replace(r#""2.00""#, r#""200.00""#);
        let e = run("fiatPayments", "buy", "x", &payment).unwrap_err();
        assert!(e.reason.contains("`totalFee`"), "{e}");
        let dust = read("dust/two_details.json").replace(r#""ETH""#, r#""USDT""#);
        let e = run("dust", "", "45178372831", &dust).unwrap_err();
        assert!(e.reason.contains("twice"), "{e}");
        let empty = r#"{"operateTime":1615985535000,"transId":1,"userAssetDribbletDetails":[]}"#;
        assert!(run("dust", "", "1", empty).unwrap_err().reason.contains("userAssetDribbletDetails"));
    }

    #[test]
    fn fields_binance_adds_later_are_ignored() {
        let with_more = TRADE.replace(r#""isMaker":false"#, r#""isMaker":false,"newThing":{"a":[1,"x"]},"z":null"#);
        assert_eq!(
            run("myTrades", "BNB/BTC", "28457", &with_more).unwrap(),
            run("myTrades", "BNB/BTC", "28457", TRADE).unwrap()
        );
    }

    #[test]
    fn a_numeric_or_text_position_id_gives_the_same_id() {
        let numeric = read("earnLocked/numeric_position_id.json");
        let text = numeric.replace(r#""positionId": 123123"#, r#""positionId": "123123""#);
        assert_ne!(numeric, text);
        assert_eq!(run("earnLocked", "", "x", &numeric).unwrap(), run("earnLocked", "", "x", &text).unwrap());
    }

    #[test]
    fn dividend_kinds_follow_the_contracts_word_lists() {
        use EventKind::*;
        for (info, kind) in [
            ("ETH 2.0 Staking", Staking),
            ("Locked Staking", Staking),
            ("STAKING", Staking),
            ("BNB Vault", Interest),
            ("Flexible", Interest),
            ("Locked Savings", Interest),
            ("Earn Rewards", Interest),
            ("Savings Trail Fund", Interest),
            ("Launchpool", Interest),
            ("SOLO airdrop", Airdrop),
            ("BHFT distribution", Airdrop),
            ("Cash Voucher", Rebate),
            ("Commission Rebate", Rebate),
            ("launchpad", Income),
            ("", Income),
        ] {
            assert_eq!(dividend_kind(info), kind, "{info}");
        }
    }

    #[test]
    fn the_field_finder_reads_keys_before_the_error() {
        let text = r#"{"a": "1:2", "qty" : 12.5}"#;
        assert_eq!(field_at(text, 1, text.len() - 1).as_deref(), Some("qty"));
        let text = "{\n  \"x\": 1,\n  \"when\": \"10:20\"\n}";
        assert_eq!(field_at(text, 3, 17).as_deref(), Some("when"));
        assert_eq!(field_at("[1, 2]", 1, 3), None);
    }
}
