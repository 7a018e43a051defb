//! Binance.US's raw API records turned into events: a pure function of one stored record.
//!
//! The records of `myTrades`, `deposits` and `withdrawals` have Binance's shape, field for field
//! (<https://github.com/binance-us/binance-us-api-docs/blob/master/rest-api.md#account-trade-list-user_data>),
//! so Binance's normaliser reads them. Binance.US's own streams are read here:
//!
//! - `fiatDepositHistory`, `fiatWithdrawHistory` (one `assetLogRecordList` element): a
//!   `Successful` order is a fiat deposit keyed `deposit:{orderId}` or a fiat withdrawal keyed
//!   `withdrawal:{orderId}` (the keys the transaction history export's `Deposit`/`Withdrawal`
//!   rows get, so a file and a sync meet). The docs' deposit example (`amount` 0.95,
//!   `transactionFee` 0.05) reads as `amount` being what reached the balance after the fees, so
//!   a deposit receives `amount` + fees and pays the fees (net `amount`); a withdrawal sends
//!   `amount` and pays `transactionFee` + `platformFee` on top, as crypto withdrawals do. The
//!   currency is `fiatCurrency` (USD when absent: Binance.US's fiat is USD). `Processing` is not
//!   final (the walk holds it back); `Failed`, `Canceled`, `Cancelled`, `Expired`, `Refunded`
//!   moved nothing.
//! - `stakingRewards` (one `data` element): staking income keyed `binanceus:distribution:{tranId}`.
//! - `distributions` (one `rows` element): keyed `binanceus:distribution:{tranId}`; a category
//!   naming staking is staking income, one naming a referral, rebate or commission a rebate,
//!   anything else an airdrop; a negative amount is a fee, a zero one nothing. **No double
//!   counting:** Binance.US lists a staking reward both in the staking history and as a
//!   `Staking Rewards` distribution with the same `tranId`; both records give the *same* event
//!   (same key, kind, time, leg and note), so the ledger keeps one event with two sources, in
//!   whichever order the streams arrive. The key is also the export's `Distribution` row key.
//! - `dustLogs` (one `userDustConvertHistory` element, a conversion with its details): each
//!   small balance becomes a conversion to BNB keyed `dust:{tranId}:{fromAsset}`, receiving
//!   `transferedAmount` + `serviceChargeAmount` and paying the charge, as Binance's dust log.
//! - `otcOrders` (one `rows` element): a `SUCCESS` order is a trade keyed `otc:{orderId}`;
//!   `PROCESS`/`ACCEPT_SUCCESS` are not final, `FAIL` moved nothing. `createTime` is read in
//!   seconds or milliseconds (docs.binance.us's example writes seconds).
//!
//! These shapes beyond the fiat history's example follow docs.binance.us, which could not be
//! read from here (see [`super::api`]); an unknown status is an error naming it, never a guess.

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::adapter::{NormalizeError, RawRecord, Stream};
use crate::amount::parse_amount;
use crate::binance::assets::asset;
use crate::binance::normalize::{Id, Reason, canonical, decimal, fiat_value, millis, parse, present, push_fee};
use crate::event::{EventKind, Leg, NewEvent};

use super::api::VENUE;

/// The note of every staking reward, from either stream (so both give one identical event).
const STAKING_NOTE: &str = "Binance.US staking reward";

/// The events a stored Binance.US record stands for (see [`crate::binance::normalize`] for the
/// streams Binance.US shares with Binance).
pub fn normalize(stream: &Stream, record: &RawRecord) -> Result<Vec<NewEvent>, NormalizeError> {
    let payload = record.payload.as_str();
    let own = match stream.endpoint.as_str() {
        "fiatDepositHistory" => Some(parse(payload).and_then(|r| fiat(true, r))),
        "fiatWithdrawHistory" => Some(parse(payload).and_then(|r| fiat(false, r))),
        "stakingRewards" => Some(parse(payload).and_then(staking_reward)),
        "distributions" => Some(parse(payload).and_then(distribution)),
        "dustLogs" => Some(parse(payload).and_then(dust)),
        "otcOrders" => Some(parse(payload).and_then(otc)),
        _ => None,
    };
    let error = |reason: String| NormalizeError {
        endpoint: stream.endpoint.clone(),
        external_id: record.external_id.clone(),
        reason,
    };
    if let Some(events) = own {
        return events.map_err(error);
    }
    let walked = stream.endpoint == "myTrades" || VENUE.streams.iter().any(|(name, _)| *name == stream.endpoint);
    if !walked {
        return Err(error(format!("unknown Binance.US endpoint {:?}", stream.endpoint)));
    }
    crate::binance::normalize::normalize(stream, record)
}

// ---- the records, as Binance.US writes them ----------------------------------------------

/// A USD deposit or withdrawal from `/sapi/v1/fiatpayment/query/{deposit,withdraw}/history`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FiatRecord {
    order_id: Id,
    order_status: String,
    #[serde(default)]
    fiat_currency: Option<String>,
    amount: String,
    #[serde(default)]
    transaction_fee: Option<String>,
    #[serde(default)]
    platform_fee: Option<String>,
    /// Absent from the docs' examples (which show only failed and processing orders); an
    /// order that moved money without it is an error.
    #[serde(default)]
    create_time: Option<i64>,
    #[serde(default)]
    payment_method: Option<String>,
}

/// A staking reward from `/sapi/v1/staking/stakingRewardsHistory`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StakingReward {
    asset: String,
    amount: String,
    time: i64,
    tran_id: Id,
}

/// A distribution from `/sapi/v1/asset/assetDistributionHistory`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Distribution {
    asset: String,
    amount: String,
    div_time: i64,
    #[serde(default)]
    category: Option<String>,
    tran_id: Id,
}

/// One dust conversion from `/sapi/v1/asset/query/dust-logs`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DustConversion {
    #[serde(default, alias = "transId")]
    tran_id: Option<Id>,
    operate_time: i64,
    #[serde(default)]
    user_asset_dribblet_details: Vec<DustDetail>,
}

/// One small balance of a dust conversion.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DustDetail {
    from_asset: String,
    amount: String,
    transfered_amount: String,
    service_charge_amount: String,
    operate_time: i64,
    #[serde(default, alias = "toAsset")]
    target_asset: Option<String>,
}

/// An OTC (Convert) order from `/sapi/v1/otc/orders`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OtcOrder {
    order_id: Id,
    order_status: String,
    from_coin: String,
    from_amount: String,
    to_coin: String,
    to_amount: String,
    create_time: i64,
}

// ---- one function per stream -------------------------------------------------------------

/// A USD deposit (`deposit`) or withdrawal through a bank.
fn fiat(deposit: bool, r: FiatRecord) -> Result<Vec<NewEvent>, Reason> {
    match r.order_status.as_str() {
        "Successful" | "Success" | "Completed" | "Finished" => {}
        "Processing" | "Failed" | "Canceled" | "Cancelled" | "Expired" | "Refunded" => return Ok(vec![]),
        other => return Err(format!("field `orderStatus`: unknown fiat order status {other:?}")),
    }
    let create_time = r.create_time.ok_or("field `createTime`: missing from a completed order")?;
    let time = millis("createTime", create_time)?;
    let code = present(r.fiat_currency).unwrap_or_else(|| "USD".to_string());
    let currency = canonical("fiatCurrency", &code, create_time)?;
    let amount = decimal("amount", &r.amount)?;
    let fee_of = |field: &str, text: Option<String>| match present(text) {
        Some(text) => decimal(field, &text),
        None => Ok(Decimal::ZERO),
    };
    // Both parsed, so below 10^20 in size (`parse_amount`): the sums cannot overflow.
    let fees = fee_of("transactionFee", r.transaction_fee)? + fee_of("platformFee", r.platform_fee)?;
    let (id, kind, mut legs) = if deposit {
        let legs = vec![Leg::received(currency.clone(), amount + fees)];
        (format!("deposit:{}", r.order_id), EventKind::FiatDeposit, legs)
    } else {
        (format!("withdrawal:{}", r.order_id), EventKind::FiatWithdrawal, vec![Leg::sent(currency.clone(), amount)])
    };
    push_fee(&mut legs, currency, fees);
    Ok(vec![NewEvent { note: present(r.payment_method), ..NewEvent::new(id, time, kind, legs) }])
}

/// A staking reward: staking income, the same event as its `Staking Rewards` distribution.
fn staking_reward(r: StakingReward) -> Result<Vec<NewEvent>, Reason> {
    let amount = decimal("amount", &r.amount)?;
    if amount.is_zero() {
        return Ok(vec![]);
    }
    let time = millis("time", r.time)?;
    let coin = canonical("asset", &r.asset, r.time)?;
    Ok(vec![NewEvent {
        note: Some(STAKING_NOTE.to_string()),
        ..NewEvent::new(
            format!("binanceus:distribution:{}", r.tran_id),
            time,
            EventKind::Staking,
            vec![Leg::received(coin, amount)],
        )
    }])
}

/// The kind of a distribution from its category.
fn distribution_kind(category: &str) -> EventKind {
    let lower = category.to_ascii_lowercase();
    if lower.contains("staking") {
        EventKind::Staking
    } else if ["referral", "rebate", "commission"].iter().any(|word| lower.contains(word)) {
        EventKind::Rebate
    } else {
        EventKind::Airdrop
    }
}

/// A distribution: staking income, a rebate or an airdrop by its category.
fn distribution(r: Distribution) -> Result<Vec<NewEvent>, Reason> {
    let amount = parse_amount(&r.amount).map_err(|e| format!("field `amount`: {e}"))?;
    if amount.is_zero() {
        return Ok(vec![]);
    }
    let time = millis("divTime", r.div_time)?;
    let coin = canonical("asset", &r.asset, r.div_time)?;
    let category = present(r.category);
    let id = format!("binanceus:distribution:{}", r.tran_id);
    if amount.is_sign_negative() {
        return Ok(vec![NewEvent {
            note: category,
            ..NewEvent::new(id, time, EventKind::Fee, vec![Leg::fee(coin, amount.abs())])
        }]);
    }
    let kind = distribution_kind(category.as_deref().unwrap_or(""));
    let note = if kind == EventKind::Staking { Some(STAKING_NOTE.to_string()) } else { category };
    Ok(vec![NewEvent { note, ..NewEvent::new(id, time, kind, vec![Leg::received(coin, amount)]) }])
}

/// A dust conversion: each small balance becomes its own conversion to BNB, with its fee.
fn dust(r: DustConversion) -> Result<Vec<NewEvent>, Reason> {
    if r.user_asset_dribblet_details.is_empty() {
        return Err("field `userAssetDribbletDetails`: the conversion lists no asset".to_string());
    }
    let group = match r.tran_id {
        Some(id) => id.to_string(),
        None => r.operate_time.to_string(),
    };
    let mut events: Vec<NewEvent> = Vec::with_capacity(r.user_asset_dribblet_details.len());
    for detail in r.user_asset_dribblet_details {
        let id = format!("dust:{group}:{}", detail.from_asset.trim());
        if events.iter().any(|e| e.external_id == id) {
            return Err(format!("field `fromAsset`: {} appears twice in one conversion", detail.from_asset));
        }
        let time = millis("operateTime", detail.operate_time)?;
        let from = canonical("fromAsset", &detail.from_asset, detail.operate_time)?;
        let spent = decimal("amount", &detail.amount)?;
        let credited = decimal("transferedAmount", &detail.transfered_amount)?;
        let charge = decimal("serviceChargeAmount", &detail.service_charge_amount)?;
        let target = match present(detail.target_asset) {
            Some(code) => canonical("targetAsset", &code, detail.operate_time)?,
            None => asset("BNB", detail.operate_time),
        };
        // Both parsed, so below 10^20 in size (`parse_amount`): the sum cannot overflow.
        let mut legs = vec![Leg::sent(from, spent), Leg::received(target.clone(), credited + charge)];
        push_fee(&mut legs, target, charge);
        events.push(NewEvent::new(id, time, EventKind::Conversion, legs));
    }
    Ok(events)
}

/// An OTC order: one asset given for another, no fee leg (the fee is in the quoted rate).
fn otc(r: OtcOrder) -> Result<Vec<NewEvent>, Reason> {
    match r.order_status.as_str() {
        "SUCCESS" => {}
        "PROCESS" | "ACCEPT_SUCCESS" | "FAIL" => return Ok(vec![]),
        other => return Err(format!("field `orderStatus`: unknown OTC order status {other:?}")),
    }
    let time_ms = crate::time::seconds_or_millis(r.create_time);
    let time = millis("createTime", time_ms)?;
    let from = canonical("fromCoin", &r.from_coin, time_ms)?;
    let to = canonical("toCoin", &r.to_coin, time_ms)?;
    let from_amount = decimal("fromAmount", &r.from_amount)?;
    let to_amount = decimal("toAmount", &r.to_amount)?;
    let value = fiat_value(&from, from_amount).or_else(|| fiat_value(&to, to_amount));
    let legs = vec![Leg::sent(from, from_amount), Leg::received(to, to_amount)];
    Ok(vec![NewEvent {
        fiat_value: value,
        note: Some("Binance.US OTC".to_string()),
        ..NewEvent::new(format!("otc:{}", r.order_id), time, EventKind::Trade, legs)
    }])
}

#[cfg(test)]
mod tests;
