//! Stored Bybit records → events. Pure: no network, no key.
//!
//! Each stream's record is one event whose id names its stream, so ids never collide and a
//! re-sync or the export meet the same event:
//!
//! | stream | record | event id | event |
//! |---|---|---|---|
//! | `transaction-log` | a change of the unified wallet ([`LogEntry`]) | `log-<id>` | by `type`, below |
//! | `deposits` | an on-chain deposit to the funding wallet | `deposit-<id>` | `deposit` (status 3, success) |
//! | `withdrawals` | a withdrawal from the funding wallet | `withdrawal-<withdrawId>` | `withdrawal`: amount + `withdrawFee` (status `success`) |
//! | `transfers` | a transfer between the account's own wallets | `transfer-<transferId>` | `internal_transfer`: the funding wallet's side (status `SUCCESS`) |
//! | `converts` | a coin conversion ([`ConvertRecord`]) | `convert-<exchangeTxId>` | `trade`: `fromAmount` of `fromCoin` sent, `toAmount` of `toCoin` received |
//! | `executions` | a classic account's spot fill ([`super::fills::Execution`]) | `exec-<execId>` | `trade`: both legs and the fee leg |
//! | `earn-orders` (scope: category) | an Earn stake or redemption ([`EarnOrder`]) | `earn-order-<orderId>` | `internal_transfer`: the coin out of one place, into the other (status `Success`) |
//! | `earn-yields` (scope: category) | an Earn yield ([`EarnYield`]) | `earn-yield-<id>` (`FlexibleSaving`), `earn-yield-OnChain-<id>` ([`earn_yield_key`]) | `interest` (`yieldType` `Normal`, `Bonus`; another type: `unknown` with its leg) |
//!
//! **Earn.** The account is its wallets plus what is staked in Earn (the adapter adds the Earn
//! positions to the balances). A stake or redemption moves a coin between a wallet and Earn:
//! its event has both legs (sent and received, equal), so the account's total does not move.
//! Bybit's order record does not say which wallet (`FUND` or `UNIFIED`), so the order carries
//! both sides whichever it was, and the unified wallet's log entries for the same move
//! ([`LOG_EARN_TYPES`]) are `internal_transfer` events without legs: nothing is doubled. A
//! yield adds to the account wherever Bybit credits it (a wallet or the position).
//!
//! A transfer between the funding and the unified wallet appears twice at Bybit: in the
//! transfer list and as `TRANSFER_IN`/`TRANSFER_OUT` in the unified wallet's transaction log.
//! The log gives the unified side and the transfer the funding side (its leg only when one
//! side is `FUND`), so the account's total never moves and nothing is doubled. A classic
//! account has no log: its spot wallet (`SPOT`) is walked by its fills, and a transfer gives
//! the `SPOT` side's leg too (a unified account has no `SPOT` wallet). Other wallets
//! (`CONTRACT`, `OPTION`, `INVESTMENT`) are not fetched: money moved there leaves the account.
//!
//! Transaction log types (<https://bybit-exchange.github.io/docs/v5/enum#type-uta-translog>):
//! `TRADE` → `trade` (one currency's side of a fill, as Bybit logs each currency separately);
//! `SETTLEMENT`, `DELIVERY`, `LIQUIDATION`, `ADL` → `trade` (a derivatives position's realised
//! profit or loss and funding); `TRANSFER_IN`/`TRANSFER_OUT` → `internal_transfer`;
//! `INTEREST` → `interest` when received, `fee` when paid (borrowing); `BONUS` → `income`;
//! `FEE_REFUND` → `rebate`; `CURRENCY_BUY`/`CURRENCY_SELL` → `trade`; `AIRDROP` → `airdrop`;
//! `SPOT_REPAYMENT_SELL`/`SPOT_REPAYMENT_BUY` ("One-click repayment currency sell/buy") and
//! `CONVERT` ("Currency convert repayment") → `trade` (one currency's side, as
//! `CURRENCY_SELL`); the Earn types ([`LOG_EARN_TYPES`]) → `internal_transfer` without legs. Any
//! other type (loans, `BORROW`/`REPAY`, the other Earn and wealth products' moves, …) is kind
//! `unknown` with its leg (never fatal). A log entry's legs add up to its `change`
//! (= `cashFlow` + `funding` − `fee`): the fee as its own leg when positive.
//!
//! Amounts are Bybit's decimal strings, read exactly.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::fills::{Execution, execution_event};
use crate::adapter::{NormalizeError, RawRecord, Stream};
use crate::amount::parse_amount;
use crate::asset::{BadSymbol, asset_symbol};
use crate::{EventKind, Leg, NewEvent};

/// The stream of the unified wallet's transaction log.
pub const LOG: &str = "transaction-log";
/// The stream of on-chain deposits.
pub const DEPOSITS: &str = "deposits";
/// The stream of withdrawals.
pub const WITHDRAWALS: &str = "withdrawals";
/// The stream of transfers between the account's wallets.
pub const TRANSFERS: &str = "transfers";
/// The stream of coin conversions (Bybit's "coin exchange records").
pub const CONVERTS: &str = "converts";
/// The stream of a classic account's spot fills ([`super::fills`]).
pub const EXECUTIONS: &str = "executions";
/// The stream of Bybit Earn's stake and redeem orders; its scope is the `category`
/// (`FlexibleSaving`, `OnChain`).
pub const EARN_ORDERS: &str = "earn-orders";
/// The stream of Bybit Earn's yields; its scope is the `category` (`FlexibleSaving`).
pub const EARN_YIELDS: &str = "earn-yields";

/// The transaction log types of the unified wallet's money going into or coming out of Earn
/// (<https://bybit-exchange.github.io/docs/v5/enum#type-uta-translog>: "Byfi flexible stake
/// subscription", "… redemption", "… refund", "tranfer out for on chain earn", …). The Earn
/// order ([`EARN_ORDERS`]) carries both sides of such a move, so these entries are
/// `internal_transfer` events **without legs**: counted once, never twice.
pub const LOG_EARN_TYPES: &[&str] = &[
    "FLEXIBLE_STAKING_SUBSCRIPTION",
    "FLEXIBLE_STAKING_REDEMPTION",
    "FLEXIBLE_STAKING_REFUND",
    "ONCHAINEARN_SUBSCRIPTION",
    "ONCHAINEARN_REDEMPTION",
    "ONCHAINEARN_REFUND",
];

/// Bybit's coin names → canonical symbols: Bybit uses the tickers as they are.
pub fn canonical_asset(coin: &str) -> Result<String, BadSymbol> {
    asset_symbol(coin)
}

/// Whether a record is final, and so may be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Done: it changed the balances.
    Done,
    /// Over without changing anything (failed, cancelled, rejected).
    Void,
    /// Still moving: asked again later.
    Open,
}

/// One entry of the unified wallet's transaction log (the fields cointally reads).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LogEntry {
    /// Bybit's id.
    pub id: String,
    /// The coin.
    pub currency: String,
    /// The type (`TRADE`, `TRANSFER_IN`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// When, ms (a string).
    pub transaction_time: String,
    /// The wallet's change: cash flow + funding − fee.
    pub change: String,
    /// The fee paid (negative: a rebate).
    pub fee: String,
    /// The market (`BTCUSDT`), if any.
    pub symbol: String,
    /// `Buy`, `Sell` or `None`.
    pub side: String,
    /// The fill's price.
    pub trade_price: String,
    /// The fill's id.
    pub trade_id: String,
}

/// One deposit record.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DepositRecord {
    /// Bybit's id.
    pub id: String,
    /// The coin.
    pub coin: String,
    /// The chain.
    pub chain: String,
    /// Amount credited.
    pub amount: String,
    /// The transaction hash.
    #[serde(rename = "txID")]
    pub tx_id: String,
    /// 3 success, 4 failed, others on the way.
    pub status: serde_json::Value,
    /// The receiving address.
    pub to_address: String,
    /// When it was credited, ms.
    pub success_at: String,
}

/// One withdrawal record.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WithdrawalRecord {
    /// Bybit's id.
    pub withdraw_id: String,
    /// The coin.
    pub coin: String,
    /// The chain.
    pub chain: String,
    /// Amount sent.
    pub amount: String,
    /// The fee charged on top.
    pub withdraw_fee: String,
    /// The transaction hash.
    #[serde(rename = "txID")]
    pub tx_id: String,
    /// `success`, `CancelByUser`, `Reject`, `Fail`, or on the way.
    pub status: String,
    /// The destination (a Bybit UID for a transfer to another user).
    pub to_address: String,
    /// When it was made, ms.
    pub create_time: String,
    /// 0 on chain, 1 to another Bybit user.
    pub withdraw_type: serde_json::Value,
}

/// One transfer between the account's own wallets.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TransferRecord {
    /// Bybit's id.
    pub transfer_id: String,
    /// The coin.
    pub coin: String,
    /// The amount moved.
    pub amount: String,
    /// The wallet it left (`FUND`, `UNIFIED`, `SPOT`, `CONTRACT`, …).
    pub from_account_type: String,
    /// The wallet it reached.
    pub to_account_type: String,
    /// When, ms.
    pub timestamp: String,
    /// `SUCCESS`, `PENDING` or `FAILED`.
    pub status: String,
}

/// One coin conversion of `GET /v5/asset/exchange/order-record`
/// (<https://bybit-exchange.github.io/docs/v5/asset/exchange>): every listed one is done.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConvertRecord {
    /// Bybit's id.
    pub exchange_tx_id: String,
    /// The coin given.
    pub from_coin: String,
    /// How much of it.
    pub from_amount: String,
    /// The coin received.
    pub to_coin: String,
    /// How much of it.
    pub to_amount: String,
    /// The rate (`toAmount` / `fromAmount`), kept in the note.
    pub exchange_rate: String,
    /// When, in **seconds** (a string).
    pub created_time: String,
}

/// One stake or redeem order of `GET /v5/earn/order`
/// (<https://bybit-exchange.github.io/docs/v5/earn/order-history>). It does not say which
/// wallet the money came from or went to (`FUND` or `UNIFIED`, chosen when the order was placed,
/// <https://bybit-exchange.github.io/docs/v5/earn/create-order>).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EarnOrder {
    /// The coin.
    pub coin: String,
    /// The amount staked or redeemed.
    pub order_value: String,
    /// `Stake` or `Redeem`.
    pub order_type: String,
    /// Bybit's id.
    pub order_id: String,
    /// The person's own id, if any.
    pub order_link_id: String,
    /// `Success`, `Fail` or `Pending`.
    pub status: String,
    /// When the order was made, ms.
    pub created_at: String,
    /// The product.
    pub product_id: String,
    /// When it last changed, ms.
    pub updated_at: String,
    /// What a liquid-staking (LST) on-chain order swapped into; empty otherwise.
    pub swap_order_value: String,
}

/// One yield of `GET /v5/earn/yield`
/// (<https://bybit-exchange.github.io/docs/v5/earn/yield-history>).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EarnYield {
    /// The product.
    pub product_id: String,
    /// The coin.
    pub coin: String,
    /// Bybit's id ("guaranteed to be unique only under the same user").
    pub id: String,
    /// The yield.
    pub amount: String,
    /// `Normal` or `Bonus`.
    pub yield_type: String,
    /// `Auto` (daily), `Manual` (paid with a redemption) or `Reinvest`.
    pub distribution_mode: String,
    /// The amount that earned it.
    pub effective_staking_amount: String,
    /// The redemption that paid it (`Manual` only).
    pub order_id: String,
    /// `Pending`, `Success` or `Fail`.
    pub status: String,
    /// When, ms.
    pub created_at: String,
}

impl EarnOrder {
    /// Where the order stands.
    pub fn state(&self) -> State {
        match self.status.as_str() {
            "Success" => State::Done,
            "Fail" => State::Void,
            _ => State::Open,
        }
    }
}

impl EarnYield {
    /// Where the yield stands: a yield without a status counts as paid (the yield page lists
    /// `status`, its older examples did not).
    pub fn state(&self) -> State {
        match self.status.as_str() {
            "Success" | "" => State::Done,
            "Fail" => State::Void,
            _ => State::Open,
        }
    }
}

/// A time in whole seconds (text) as ms (text).
fn seconds_as_ms(text: &str) -> Result<String, String> {
    let seconds = text.trim().parse::<i64>().map_err(|_| format!("createdTime {text:?} is not a time in seconds"))?;
    seconds.checked_mul(1000).map(|ms| ms.to_string()).ok_or_else(|| format!("createdTime {text:?} is out of range"))
}

impl DepositRecord {
    /// Where the deposit stands.
    pub fn state(&self) -> State {
        match self.status.as_i64().or_else(|| self.status.as_str().and_then(|s| s.parse().ok())) {
            Some(3) => State::Done,
            Some(4) => State::Void,
            _ => State::Open,
        }
    }
}

impl WithdrawalRecord {
    /// Where the withdrawal stands.
    pub fn state(&self) -> State {
        match self.status.as_str() {
            "success" => State::Done,
            "CancelByUser" | "Reject" | "Fail" => State::Void,
            _ => State::Open,
        }
    }
}

impl TransferRecord {
    /// Where the transfer stands.
    pub fn state(&self) -> State {
        match self.status.as_str() {
            "SUCCESS" => State::Done,
            "FAILED" => State::Void,
            _ => State::Open,
        }
    }
}

/// What a record of `stream` is read as: its id, its time (ms) and whether it is final.
pub fn identify(stream: &str, payload: &str) -> Result<(String, i64, State), String> {
    let (id, time, state) = match stream {
        LOG => {
            let e: LogEntry = serde_json::from_str(payload).map_err(|e| e.to_string())?;
            (e.id, e.transaction_time, State::Done)
        }
        DEPOSITS => {
            let d: DepositRecord = serde_json::from_str(payload).map_err(|e| e.to_string())?;
            let state = d.state();
            let id = if d.id.is_empty() { d.tx_id } else { d.id };
            (id, d.success_at, state)
        }
        WITHDRAWALS => {
            let w: WithdrawalRecord = serde_json::from_str(payload).map_err(|e| e.to_string())?;
            let state = w.state();
            (w.withdraw_id, w.create_time, state)
        }
        TRANSFERS => {
            let t: TransferRecord = serde_json::from_str(payload).map_err(|e| e.to_string())?;
            let state = t.state();
            (t.transfer_id, t.timestamp, state)
        }
        CONVERTS => {
            let c: ConvertRecord = serde_json::from_str(payload).map_err(|e| e.to_string())?;
            (c.exchange_tx_id, seconds_as_ms(&c.created_time)?, State::Done)
        }
        EXECUTIONS => {
            let e: Execution = serde_json::from_str(payload).map_err(|e| e.to_string())?;
            (e.exec_id, e.exec_time, State::Done)
        }
        EARN_ORDERS => {
            let o: EarnOrder = serde_json::from_str(payload).map_err(|e| e.to_string())?;
            let state = o.state();
            (o.order_id, o.created_at, state)
        }
        EARN_YIELDS => {
            let y: EarnYield = serde_json::from_str(payload).map_err(|e| e.to_string())?;
            let state = y.state();
            (y.id, y.created_at, state)
        }
        other => return Err(format!("unknown Bybit stream {other:?}")),
    };
    if id.trim().is_empty() {
        return Err("the record has no id".to_owned());
    }
    let ms = time.trim().parse::<i64>().map_err(|_| format!("time {time:?} is not a time in ms"))?;
    Ok((id, ms, state))
}

/// Turns one stored record of `stream` into its event (none for a void one).
pub fn normalize(stream: &Stream, record: &RawRecord) -> Result<Vec<NewEvent>, NormalizeError> {
    let error = |reason: String| NormalizeError {
        endpoint: stream.endpoint.clone(),
        external_id: record.external_id.clone(),
        reason,
    };
    let payload = record.payload.as_str();
    let event = match stream.endpoint.as_str() {
        LOG => log_event(&serde_json::from_str(payload).map_err(|e| error(e.to_string()))?),
        DEPOSITS => deposit_event(&serde_json::from_str(payload).map_err(|e| error(e.to_string()))?),
        WITHDRAWALS => withdrawal_event(&serde_json::from_str(payload).map_err(|e| error(e.to_string()))?),
        TRANSFERS => transfer_event(&serde_json::from_str(payload).map_err(|e| error(e.to_string()))?),
        CONVERTS => convert_event(&serde_json::from_str(payload).map_err(|e| error(e.to_string()))?),
        EXECUTIONS => execution_event(&serde_json::from_str(payload).map_err(|e| error(e.to_string()))?),
        EARN_ORDERS => {
            earn_order_event(&stream.scope, &serde_json::from_str(payload).map_err(|e| error(e.to_string()))?)
        }
        EARN_YIELDS => {
            earn_yield_event(&stream.scope, &serde_json::from_str(payload).map_err(|e| error(e.to_string()))?)
        }
        other => return Err(error(format!("unknown Bybit stream {other:?}"))),
    }
    .map_err(error)?;
    Ok(event.into_iter().collect())
}

fn amount(name: &str, text: &str) -> Result<Decimal, String> {
    if text.trim().is_empty() {
        return Ok(Decimal::ZERO);
    }
    parse_amount(text).map_err(|e| format!("{name}: {e}"))
}

fn time(name: &str, text: &str) -> Result<DateTime<Utc>, String> {
    let ms = text.trim().parse::<i64>().map_err(|_| format!("{name} {text:?} is not a time in ms"))?;
    Ok(crate::time::from_millis(ms))
}

fn coin(text: &str) -> Result<String, String> {
    canonical_asset(text).map_err(|e| format!("coin: {e}"))
}

fn signed(asset: &str, amount: Decimal) -> Leg {
    if amount.is_sign_negative() { Leg::sent(asset, amount) } else { Leg::received(asset, amount) }
}

fn required<'a>(name: &str, text: &'a str) -> Result<&'a str, String> {
    let text = text.trim();
    if text.is_empty() { Err(format!("the record has no {name}")) } else { Ok(text) }
}

/// The event of one transaction log entry.
pub fn log_event(entry: &LogEntry) -> Result<Option<NewEvent>, String> {
    let id = required("id", &entry.id)?;
    let asset = coin(&entry.currency)?;
    let change = amount("change", &entry.change)?;
    let fee = amount("fee", &entry.fee)?;
    let kind = match entry.kind.as_str() {
        "TRADE"
        | "SETTLEMENT"
        | "DELIVERY"
        | "LIQUIDATION"
        | "ADL"
        | "CURRENCY_BUY"
        | "CURRENCY_SELL"
        | "SPOT_REPAYMENT_SELL"
        | "SPOT_REPAYMENT_BUY"
        | "CONVERT" => EventKind::Trade,
        "AIRDROP" => EventKind::Airdrop,
        "TRANSFER_IN" | "TRANSFER_OUT" => EventKind::InternalTransfer,
        earn if LOG_EARN_TYPES.contains(&earn) => EventKind::InternalTransfer,
        "INTEREST" if change.is_sign_negative() => EventKind::Fee,
        "INTEREST" => EventKind::Interest,
        "BONUS" => EventKind::Income,
        "FEE_REFUND" => EventKind::Rebate,
        _ => EventKind::Unknown,
    };
    let earn = LOG_EARN_TYPES.contains(&entry.kind.as_str());
    let legs = if earn {
        // The Earn order carries both sides of this move (`earn-order-<orderId>`).
        Vec::new()
    } else if kind == EventKind::Fee {
        vec![Leg::fee(asset.clone(), change)]
    } else if fee > Decimal::ZERO {
        let principal = change.checked_add(fee).ok_or("change + fee overflows")?.normalize();
        vec![signed(&asset, principal), Leg::fee(asset.clone(), fee)]
    } else {
        vec![signed(&asset, change)]
    };
    let mut note = format!("Bybit {} {}", entry.kind, entry.symbol).trim().to_owned();
    if earn {
        note = format!("{note} {} {} (counted by the Earn order)", entry.change, entry.currency);
    }
    if kind == EventKind::Trade && !entry.trade_price.is_empty() {
        note = format!("{note} {} @ {} (fill {})", entry.side, entry.trade_price, entry.trade_id);
    }
    let at = time("transactionTime", &entry.transaction_time)?;
    Ok(Some(NewEvent { note: Some(note), ..NewEvent::new(format!("log-{id}"), at, kind, legs) }))
}

/// The event of one coin conversion: a trade of `fromCoin` for `toCoin` (as OKX's and
/// KuCoin's converts are), the rate in the note.
pub fn convert_event(record: &ConvertRecord) -> Result<Option<NewEvent>, String> {
    let id = required("exchangeTxId", &record.exchange_tx_id)?;
    let legs = vec![
        Leg::sent(coin(&record.from_coin)?, amount("fromAmount", &record.from_amount)?),
        Leg::received(coin(&record.to_coin)?, amount("toAmount", &record.to_amount)?),
    ];
    let at = time("createdTime", &seconds_as_ms(&record.created_time)?)?;
    let note = format!("Bybit convert {} → {} at {}", record.from_coin, record.to_coin, record.exchange_rate);
    Ok(Some(NewEvent { note: Some(note), ..NewEvent::new(format!("convert-{id}"), at, EventKind::Trade, legs) }))
}

/// The event of one deposit record (none unless it succeeded).
pub fn deposit_event(record: &DepositRecord) -> Result<Option<NewEvent>, String> {
    if record.state() != State::Done {
        return Ok(None);
    }
    let id = if record.id.is_empty() { required("id", &record.tx_id)? } else { record.id.as_str() };
    let asset = coin(&record.coin)?;
    let leg = Leg::received(asset, amount("amount", &record.amount)?);
    let at = time("successAt", &record.success_at)?;
    Ok(Some(NewEvent {
        tx_hash: Some(record.tx_id.clone()).filter(|s| !s.is_empty()),
        address: Some(record.to_address.clone()).filter(|s| !s.is_empty()),
        network: Some(record.chain.clone()).filter(|s| !s.is_empty()),
        ..NewEvent::new(format!("deposit-{id}"), at, EventKind::Deposit, vec![leg])
    }))
}

/// The event of one withdrawal record (none unless it succeeded).
pub fn withdrawal_event(record: &WithdrawalRecord) -> Result<Option<NewEvent>, String> {
    if record.state() != State::Done {
        return Ok(None);
    }
    let id = required("withdrawId", &record.withdraw_id)?;
    let asset = coin(&record.coin)?;
    let legs = vec![
        Leg::sent(asset.clone(), amount("amount", &record.amount)?),
        Leg::fee(asset, amount("withdrawFee", &record.withdraw_fee)?),
    ];
    let internal = record.withdraw_type.as_i64() == Some(1);
    let at = time("createTime", &record.create_time)?;
    Ok(Some(NewEvent {
        tx_hash: Some(record.tx_id.clone()).filter(|s| !s.is_empty()),
        address: Some(record.to_address.clone()).filter(|s| !s.is_empty()),
        network: Some(record.chain.clone()).filter(|s| !s.is_empty()),
        note: internal.then(|| format!("to Bybit user {}", record.to_address)),
        ..NewEvent::new(format!("withdrawal-{id}"), at, EventKind::Withdrawal, legs)
    }))
}

/// The event of one transfer between the account's wallets (none unless it succeeded).
pub fn transfer_event(record: &TransferRecord) -> Result<Option<NewEvent>, String> {
    if record.state() != State::Done {
        return Ok(None);
    }
    let id = required("transferId", &record.transfer_id)?;
    let asset = coin(&record.coin)?;
    let value = amount("amount", &record.amount)?;
    // The wallets whose balances cointally follows through this record: the funding wallet, and
    // a classic account's spot wallet (the unified wallet's side is in its log).
    let followed = |wallet: &str| wallet == "FUND" || wallet == "SPOT";
    let mut legs = Vec::new();
    if followed(&record.from_account_type) {
        legs.push(Leg::sent(asset.clone(), value));
    }
    if followed(&record.to_account_type) {
        legs.push(Leg::received(asset, value));
    }
    let note = format!("{} → {}", record.from_account_type, record.to_account_type);
    let at = time("timestamp", &record.timestamp)?;
    Ok(Some(NewEvent {
        note: Some(note),
        ..NewEvent::new(format!("transfer-{id}"), at, EventKind::InternalTransfer, legs)
    }))
}

/// The event of one Earn stake or redeem order of `category` (none unless it succeeded):
/// `internal_transfer` with both sides, the wallet's and Earn's, so the account's total does not
/// move (the Earn position is part of the balances). A liquid-staking on-chain order
/// (`swapOrderValue` set) swapped the coin for a token the record does not name: `unknown`, with
/// the same two legs, shown to the user.
pub fn earn_order_event(category: &str, record: &EarnOrder) -> Result<Option<NewEvent>, String> {
    if record.state() != State::Done {
        return Ok(None);
    }
    let id = required("orderId", &record.order_id)?;
    let asset = coin(&record.coin)?;
    let value = amount("orderValue", &record.order_value)?.abs();
    let category = if category.is_empty() { "Earn" } else { category };
    let (kind, mut note) = match record.order_type.as_str() {
        "Stake" => (EventKind::InternalTransfer, format!("Bybit Earn {category} stake: wallet → Earn")),
        "Redeem" => (EventKind::InternalTransfer, format!("Bybit Earn {category} redeem: Earn → wallet")),
        other => (EventKind::Unknown, format!("Bybit Earn {category} order of type {other:?}")),
    };
    if !record.product_id.is_empty() {
        note = format!("{note} (product {})", record.product_id);
    }
    let kind = if record.swap_order_value.trim().is_empty() {
        kind
    } else {
        note = format!(
            "{note}; liquid staking: swapped for {} of a token Bybit's record does not name",
            record.swap_order_value
        );
        EventKind::Unknown
    };
    let legs = vec![Leg::sent(asset.clone(), value), Leg::received(asset, value)];
    let at = time("createdAt", &record.created_at)?;
    Ok(Some(NewEvent { note: Some(note), ..NewEvent::new(format!("earn-order-{id}"), at, kind, legs) }))
}

/// The event of one Earn yield (none unless paid): `interest` (`Normal`, `Bonus`); a
/// `yieldType` cointally does not know is `unknown` with its leg, never fatal.
pub fn earn_yield_event(category: &str, record: &EarnYield) -> Result<Option<NewEvent>, String> {
    if record.state() != State::Done {
        return Ok(None);
    }
    let id = required("id", &record.id)?;
    let asset = coin(&record.coin)?;
    let value = amount("amount", &record.amount)?;
    let kind = match record.yield_type.as_str() {
        "Normal" | "Bonus" | "" => EventKind::Interest,
        _ => EventKind::Unknown,
    };
    let category = if category.is_empty() { "Earn" } else { category };
    let mut note = format!("Bybit Earn {category} yield {} {}", record.yield_type, record.distribution_mode)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if !record.effective_staking_amount.is_empty() {
        note = format!("{note} on {} {}", record.effective_staking_amount, record.coin);
    }
    let at = time("createdAt", &record.created_at)?;
    Ok(Some(NewEvent {
        note: Some(note),
        ..NewEvent::new(earn_yield_key(category, id), at, kind, vec![signed(&asset, value)])
    }))
}

/// The external id of an Earn yield of `category`: `earn-yield-<id>` for Flexible Savings (as
/// before on-chain yields were listed), `earn-yield-<category>-<id>` for any other — Bybit's id
/// is "guaranteed to be unique only under the same user", not said to be unique across
/// categories (<https://bybit-exchange.github.io/docs/v5/earn/yield-history>).
pub fn earn_yield_key(category: &str, id: &str) -> String {
    match category {
        "" | "FlexibleSaving" => format!("earn-yield-{id}"),
        other => format!("earn-yield-{other}-{id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LegRole;

    fn fixture(stream: &str, name: &str) -> String {
        let path = format!("{}/../fixtures/bybit/{stream}/{name}.json", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn events(stream: &str, name: &str) -> Vec<NewEvent> {
        events_in(stream, "", name)
    }

    /// The events of a fixture read as a record of `stream` within `scope` (an Earn category).
    fn events_in(stream: &str, scope: &str, name: &str) -> Vec<NewEvent> {
        let record = RawRecord { external_id: "x".into(), payload: fixture(stream, name).trim().to_owned() };
        normalize(&Stream::new(stream, scope), &record).unwrap()
    }

    fn legs(event: &NewEvent) -> Vec<(String, String, LegRole)> {
        event.legs.iter().map(|l| (l.asset.clone(), l.amount.to_string(), l.role)).collect()
    }

    fn leg(asset: &str, amount: &str, role: LegRole) -> (String, String, LegRole) {
        (asset.to_owned(), amount.to_owned(), role)
    }

    /// A fixture's stream, its name, the kind it becomes and its legs.
    type Case = (&'static str, &'static str, EventKind, Vec<(String, String, LegRole)>);

    #[test]
    fn each_fixture_becomes_its_kind_with_its_exact_legs() {
        use LegRole::{Fee, Received, Sent};
        let cases: Vec<Case> = vec![
            (LOG, "trade_base", EventKind::Trade, vec![leg("BTC", "0.0105", Received), leg("BTC", "-0.0000105", Fee)]),
            (LOG, "trade_quote", EventKind::Trade, vec![leg("USDT", "-1000.5", Sent)]),
            (LOG, "transfer_in", EventKind::InternalTransfer, vec![leg("USDT", "500", Received)]),
            (LOG, "interest_paid", EventKind::Fee, vec![leg("USDT", "-0.0123", Fee)]),
            (LOG, "bonus", EventKind::Income, vec![leg("USDT", "5", Received)]),
            // Types of Bybit's enum (type(uta-translog)) read by their descriptions: an airdrop;
            // "One-click repayment currency sell" and "Currency convert repayment", each one
            // currency's side of a trade as `CURRENCY_SELL` is.
            (LOG, "airdrop", EventKind::Airdrop, vec![leg("ARB", "12.5", Received)]),
            (LOG, "spot_repayment_sell", EventKind::Trade, vec![leg("BTC", "-0.001", Sent)]),
            (LOG, "convert_repayment", EventKind::Trade, vec![leg("USDT", "95", Received)]),
            (LOG, "settlement", EventKind::Trade, vec![leg("USDT", "12.34", Received), leg("USDT", "-0.5", Fee)]),
            (LOG, "unknown_type", EventKind::Unknown, vec![leg("ETH", "0.01", Received)]),
            (DEPOSITS, "success", EventKind::Deposit, vec![leg("USDT", "2500", Received)]),
            (
                WITHDRAWALS,
                "success",
                EventKind::Withdrawal,
                vec![leg("BTC", "-0.05", Sent), leg("BTC", "-0.0002", Fee)],
            ),
            (TRANSFERS, "fund_to_unified", EventKind::InternalTransfer, vec![leg("USDT", "-500", Sent)]),
            // A classic account's spot wallet is followed: both sides, nothing leaves.
            (
                TRANSFERS,
                "fund_to_spot",
                EventKind::InternalTransfer,
                vec![leg("USDT", "-750", Sent), leg("USDT", "750", Received)],
            ),
            (
                EXECUTIONS,
                "buy",
                EventKind::Trade,
                vec![leg("BTC", "0.0105", Received), leg("USDT", "-441.00525", Sent), leg("BTC", "-0.0000105", Fee)],
            ),
            // No `feeCurrency`: a sell's positive fee is in the quote coin.
            (
                EXECUTIONS,
                "sell_without_fee_currency",
                EventKind::Trade,
                vec![leg("ETH", "-1.2", Sent), leg("BTC", "0.063", Received), leg("BTC", "-0.000063", Fee)],
            ),
            (EXECUTIONS, "unknown_symbol", EventKind::Unknown, vec![]),
            (
                CONVERTS,
                "btc_to_usdt",
                EventKind::Trade,
                vec![leg("BTC", "-0.1", Sent), leg("USDT", "9512.34", Received)],
            ),
            // The unified wallet's side of a stake: the Earn order carries both sides.
            (LOG, "flexible_staking_subscription", EventKind::InternalTransfer, vec![]),
            // A stake and a redemption: out of one place, into the other, nothing leaves the account.
            (
                EARN_ORDERS,
                "stake_flexible",
                EventKind::InternalTransfer,
                vec![leg("BTC", "-1", Sent), leg("BTC", "1", Received)],
            ),
            (
                EARN_ORDERS,
                "redeem_onchain",
                EventKind::InternalTransfer,
                vec![leg("ETH", "-0.25", Sent), leg("ETH", "0.25", Received)],
            ),
            // Liquid staking swapped the coin for a token the record does not name: shown as unknown.
            (EARN_ORDERS, "lst_onchain", EventKind::Unknown, vec![leg("SOL", "-10", Sent), leg("SOL", "10", Received)]),
            (EARN_YIELDS, "normal_manual", EventKind::Interest, vec![leg("USDT", "0.0608", Received)]),
            (EARN_YIELDS, "bonus_auto", EventKind::Interest, vec![leg("USDT", "0.0123", Received)]),
            // A yield type cointally does not know: kept with its leg, never fatal.
            (EARN_YIELDS, "unknown_type", EventKind::Unknown, vec![leg("USDT", "0.5", Received)]),
        ];
        for (stream, name, kind, expected) in cases {
            let events = events(stream, name);
            assert_eq!(events.len(), 1, "{stream}/{name}");
            assert_eq!(events[0].kind, kind, "{stream}/{name}");
            assert_eq!(legs(&events[0]), expected, "{stream}/{name}");
        }
    }

    #[test]
    fn earn_records_are_named_by_their_stream_and_category_and_only_final_ones_make_events() {
        let stake = &events_in(EARN_ORDERS, "FlexibleSaving", "stake_flexible")[0];
        assert_eq!(stake.external_id, "earn-order-9640dc23-df1a-448a-ad24-e1a48028a51f");
        assert_eq!(crate::time::to_millis(stake.time), 1_739_937_044_221);
        assert!(stake.note.as_deref().is_some_and(|n| n.contains("FlexibleSaving stake")), "{:?}", stake.note);
        let redeem = &events_in(EARN_ORDERS, "OnChain", "redeem_onchain")[0];
        assert!(redeem.note.as_deref().is_some_and(|n| n.contains("OnChain redeem")), "{:?}", redeem.note);
        let paid = &events_in(EARN_YIELDS, "FlexibleSaving", "normal_manual")[0];
        assert_eq!(paid.external_id, "earn-yield-1002096");
        assert_eq!(crate::time::to_millis(paid.time), 1_759_993_805_000);
        // An on-chain yield (listed since Bybit's changelog of 2026-03-19) with the same id as a
        // flexible one: its own event, interest, named by its category.
        let onchain = &events_in(EARN_YIELDS, "OnChain", "onchain_auto");
        assert_eq!(onchain.len(), 1);
        assert_eq!(onchain[0].external_id, "earn-yield-OnChain-1002096");
        assert_eq!(onchain[0].kind, EventKind::Interest);
        assert_eq!(legs(&onchain[0]), vec![leg("ETH", "0.00041", crate::LegRole::Received)]);
        assert!(onchain[0].note.as_deref().is_some_and(|n| n.contains("OnChain yield")), "{:?}", onchain[0].note);
        // Not final: no event, and the walk holds it to ask again.
        assert!(events(EARN_ORDERS, "pending").is_empty());
        assert!(events(EARN_YIELDS, "pending").is_empty());
        let pending = identify(EARN_ORDERS, fixture(EARN_ORDERS, "pending").trim()).unwrap();
        assert_eq!(pending, ("5f1e1c1a-1111-4a2b-9c3d-000000000001".into(), 1_740_100_000_000, State::Open));
        assert_eq!(identify(EARN_YIELDS, fixture(EARN_YIELDS, "pending").trim()).unwrap().2, State::Open);
        assert_eq!(identify(EARN_ORDERS, r#"{"orderId":"o","status":"Fail","createdAt":"1"}"#).unwrap().2, State::Void);
        assert_eq!(identify(EARN_YIELDS, r#"{"id":"y","createdAt":"1"}"#).unwrap().2, State::Done);
        assert!(identify(EARN_ORDERS, r#"{"orderId":"","status":"Success","createdAt":"1"}"#).is_err());
        let bad = RawRecord {
            external_id: "1".into(),
            payload: r#"{"id":"1","coin":"USDT","amount":"lots","status":"Success","createdAt":"1"}"#.into(),
        };
        assert!(normalize(&Stream::new(EARN_YIELDS, "FlexibleSaving"), &bad).is_err());
    }

    #[test]
    fn ids_name_their_stream_and_deposits_carry_their_chain_details() {
        let deposit = &events(DEPOSITS, "success")[0];
        assert_eq!(deposit.external_id, "deposit-3900001");
        assert_eq!(deposit.network.as_deref(), Some("TRX"));
        assert!(deposit.tx_hash.as_deref().is_some_and(|hash| hash.starts_with("a7c5")));
        assert_eq!(crate::time::to_millis(deposit.time), 1_735_700_000_000);
        assert_eq!(events(LOG, "trade_base")[0].external_id, "log-11223344_BTCUSDT_2");
        assert_eq!(events(WITHDRAWALS, "success")[0].external_id, "withdrawal-131629076");
        assert_eq!(events(EXECUTIONS, "buy")[0].external_id, "exec-2200000000003900125");
        assert_eq!(crate::time::to_millis(events(EXECUTIONS, "buy")[0].time), 1_735_700_000_000);
        assert_eq!(
            events(TRANSFERS, "fund_to_unified")[0].external_id,
            "transfer-42c0cfb0-6bca-c242-bc76-4e6df6cbab16"
        );
        // A conversion's time is in seconds.
        let convert = &events(CONVERTS, "btc_to_usdt")[0];
        assert_eq!(convert.external_id, "convert-1784371203571220480");
        assert_eq!(crate::time::to_millis(convert.time), 1_740_823_200_000);
        assert!(identify(CONVERTS, r#"{"exchangeTxId":"1","createdTime":"soon"}"#).is_err());
    }

    #[test]
    fn void_records_have_no_event_open_ones_are_not_final_and_bad_ones_are_errors() {
        assert!(events(WITHDRAWALS, "cancelled").is_empty());
        let open: WithdrawalRecord =
            serde_json::from_str(r#"{"withdrawId":"1","status":"Pending","createTime":"1"}"#).unwrap();
        assert_eq!(open.state(), State::Open);
        assert_eq!(
            identify(DEPOSITS, r#"{"id":"9","status":1,"successAt":"5"}"#).unwrap(),
            ("9".into(), 5, State::Open)
        );
        assert_eq!(identify(DEPOSITS, r#"{"id":"9","status":3,"successAt":"5"}"#).unwrap().2, State::Done);
        assert_eq!(
            identify(TRANSFERS, r#"{"transferId":"t","status":"FAILED","timestamp":"7"}"#).unwrap().2,
            State::Void
        );
        assert!(identify(LOG, r#"{"id":"","transactionTime":"1"}"#).is_err());
        assert!(identify(LOG, r#"{"id":"1","transactionTime":"soon"}"#).is_err());
        assert!(identify("orders", "{}").is_err());
        let bad = RawRecord {
            external_id: "1".into(),
            payload: r#"{"id":"1","currency":"BTC","type":"TRADE","transactionTime":"1","change":"lots"}"#.into(),
        };
        assert!(normalize(&Stream::new(LOG, ""), &bad).is_err());
    }
}
