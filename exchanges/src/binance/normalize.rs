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
pub(crate) type Reason = String;

/// The events a stored Binance record stands for (none when its status is not final or it
/// moved nothing); an unknown endpoint or a record that does not read is an error.
pub fn normalize(stream: &Stream, record: &RawRecord) -> Result<Vec<NewEvent>, NormalizeError> {
    let payload = record.payload.as_str();
    let scope = stream.scope.as_str();
    let events = match stream.endpoint.as_str() {
        "myTrades" => parse(payload).and_then(|r| trade(scope, &record.external_id, r)),
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
pub(crate) struct Id(pub(crate) String);

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
fn trade(scope: &str, external_id: &str, r: Trade) -> Result<Vec<NewEvent>, Reason> {
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
    // The second side of a self-trade is stored as `ID:buyer` / `ID:seller` (see the adapter):
    // its event gets the side too; every other fill keeps `trade:SYMBOL:ID`.
    let id = r.id.to_string();
    let side = if r.is_buyer { "buyer" } else { "seller" };
    let key = match external_id.strip_prefix(id.as_str()).and_then(|rest| rest.strip_prefix(':')) {
        Some(suffix) if suffix == side => format!("trade:{symbol}:{id}:{side}"),
        _ => format!("trade:{symbol}:{id}"),
    };
    let mut event = NewEvent::new(key, time, EventKind::Trade, legs);
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
pub(crate) fn parse<T: DeserializeOwned>(payload: &str) -> Result<T, Reason> {
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
pub(crate) fn decimal(field: &str, text: &str) -> Result<Decimal, Reason> {
    let value = parse_amount(text).map_err(|e| format!("field `{field}`: {e}"))?;
    if value.is_sign_negative() && !value.is_zero() {
        return Err(format!("field `{field}`: {text:?} is negative"));
    }
    Ok(value)
}

/// The canonical symbol of a Binance asset code at a record's time.
pub(crate) fn canonical(field: &str, code: &str, time_ms: i64) -> Result<String, Reason> {
    asset_symbol(code).map_err(|e| format!("field `{field}`: {e}"))?;
    Ok(asset(code, time_ms))
}

/// The instant of a millisecond timestamp; refuses zero, negative and out-of-range values.
pub(crate) fn millis(field: &str, ms: i64) -> Result<DateTime<Utc>, Reason> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .filter(|_| ms > 0)
        .ok_or_else(|| format!("field `{field}`: {ms} is not a time in milliseconds"))
}

/// Appends a fee leg unless the fee is zero.
pub(crate) fn push_fee(legs: &mut Vec<Leg>, asset: String, fee: Decimal) {
    if !fee.is_zero() {
        legs.push(Leg::fee(asset, fee));
    }
}

/// The fiat value of a trade when the amount given is in fiat money.
pub(crate) fn fiat_value(currency: &str, amount: Decimal) -> Option<FiatValue> {
    is_fiat(currency).then(|| FiatValue { amount, currency: currency.to_string() })
}

/// Text that is present and not blank.
pub(crate) fn present(text: Option<String>) -> Option<String> {
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
mod tests;
