//! Coinbase's stored API records → events: pure, no network, no key.
//!
//! The adapter ([`super::adapter`]) stores three shapes of record:
//!
//! - in stream [`TRANSACTIONS`], **one v2 transaction** exactly as Coinbase sent it, keyed by
//!   its id (the id the "Transaction history" report's `ID` column is taken to hold, see
//!   [`super::csv`]);
//! - in the same stream, **one conversion**: the two transactions of a `trade` (one per wallet,
//!   sharing `trade.id`) gathered as `{"trade": id, "transactions": [a, b]}`, keyed by the id of
//!   the transaction that sent (the report's row of a Convert is the sending side);
//! - in the same stream, **an Advanced Trade wallet row whose order has no v3 fill the key can
//!   see** (a portfolio the key is not scoped to, [`super::portfolios`]), gathered as
//!   `{"v3_fill": "none", "transaction": tx}`, keyed by the row's id;
//! - in stream [`FILLS`] (scope: empty for the key's portfolio, else a portfolio's uuid), **one
//!   Advanced Trade fill** (v3) as sent, keyed by its `trade_id`.
//!
//! What each v2 type becomes (<https://docs.cdp.coinbase.com/coinbase-app/track-apis/transactions>, the same kinds as the report's types in
//! [`super::csv`]):
//!
//! | type | event |
//! |---|---|
//! | `buy`, `sell` in a crypto wallet | trade: the crypto, the embedded order's `subtotal` and `fee` (fiat) |
//! | `buy`, `sell` in a fiat wallet | none: the fiat side of a purchase whose crypto row carries it |
//! | `trade` (both halves) | ONE trade; one half alone (its partner never seen): a one-leg trade, said in the note |
//! | `advanced_trade_fill` | none: the v3 fill of the same trade is the event (price, side, commission); a row whose order has no visible v3 fill (`v3_fill: none`): trade, one leg (its wallet's side), the order named in the note |
//! | `send`/`tx` out | withdrawal: what left on chain, the `network.transaction_fee` as a fee leg, `network.hash`; to another Coinbase user (`to.resource` user/email): a withdrawal without hash |
//! | `send`/`tx` in, `receive`, `request` | deposit (with hash and address when given) |
//! | `fiat_deposit`, `fiat_withdrawal` | fiat deposit / withdrawal |
//! | `staking_reward`, `inflation_reward` | staking |
//! | `interest` | interest |
//! | `earn_payout`, `incentives_rewards_payout` | income |
//! | `subscription_rebate`, `cardbuyback` | rebate |
//! | `clawback`, `incentives_shared_clawback`, `derivatives_settlement` | adjustment |
//! | `staking_transfer`, `unstaking_transfer`, `transfer`, `vault_withdrawal` | internal transfer: − and + the same quantity (each wallet's half is its own, of net zero) |
//! | `pro_deposit`, `exchange_deposit`, `intx_deposit` | withdrawal: a transfer to an outside venue (Coinbase Exchange/INTX), said in the note |
//! | `pro_withdrawal`, `exchange_withdrawal`, `prime_withdrawal`, `intx_withdrawal` | deposit: a transfer from an outside venue (Coinbase Exchange/Prime/INTX), said in the note |
//! | `cardspend` | spend |
//! | `subscription` | fee |
//! | `retail_simple_dust` | trade, one leg (each wallet's side) |
//! | anything else | adjustment of the signed amount, the type named in the note (the adapter reports it in the sync summary) |
//!
//! Only `completed` transactions change balances; `failed`, `expired` and `canceled` ones give no
//! event (the adapter never stores one that may still change). A leg's direction is the sign of
//! `amount`, whatever the type, so a type that Coinbase uses both ways stays right.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::adapter::{NormalizeError, RawRecord, Stream};
use crate::amount::parse_amount;
use crate::asset::{asset_symbol, is_fiat};
use crate::event::{EventKind, FiatValue, Leg, NewEvent};
use crate::time::parse_utc;

/// The stream of v2 transactions (every wallet).
pub const TRANSACTIONS: &str = "transactions";
/// The stream of Advanced Trade fills.
pub const FILLS: &str = "fills";

type Reason = String;

/// `{"amount": "0.1", "currency": "BTC"}`.
#[derive(Deserialize, Clone, Debug)]
pub struct Money {
    /// Signed decimal text.
    pub amount: String,
    /// Currency code.
    pub currency: String,
}

/// The on-chain part of a send or receive.
#[derive(Deserialize, Clone, Debug, Default)]
pub struct Network {
    /// Transaction hash.
    #[serde(default)]
    pub hash: Option<String>,
    /// Network fee, part of the debited amount.
    #[serde(default)]
    pub transaction_fee: Option<Money>,
    /// Network name.
    #[serde(default)]
    pub network_name: Option<String>,
}

/// The other side of a send or receive.
#[derive(Deserialize, Clone, Debug, Default)]
pub struct Party {
    /// `user`, `email`, `address`…
    #[serde(default)]
    pub resource: Option<String>,
    /// A crypto address.
    #[serde(default)]
    pub address: Option<String>,
}

/// The embedded order of a `buy` or `sell`.
#[derive(Deserialize, Clone, Debug, Default)]
pub struct Order {
    /// Id of the order (or trade, for a conversion).
    #[serde(default)]
    pub id: Option<String>,
    /// Fiat before the fee.
    #[serde(default)]
    pub subtotal: Option<Money>,
    /// Coinbase's fee.
    #[serde(default)]
    pub fee: Option<Money>,
}

/// A v2 transaction, as far as cointally reads it.
#[derive(Deserialize, Clone, Debug)]
pub struct Transaction {
    /// UUID.
    pub id: String,
    /// Type (`buy`, `send`…).
    #[serde(rename = "type")]
    pub kind: String,
    /// `completed`, `pending`…
    #[serde(default)]
    pub status: String,
    /// Signed change of the wallet.
    pub amount: Money,
    /// The same in the user's fiat, rounded to cents.
    #[serde(default)]
    pub native_amount: Option<Money>,
    /// ISO time.
    pub created_at: String,
    /// On-chain details.
    #[serde(default)]
    pub network: Option<Network>,
    /// Recipient.
    #[serde(default)]
    pub to: Option<Party>,
    /// Sender.
    #[serde(default)]
    pub from: Option<Party>,
    /// Embedded buy.
    #[serde(default)]
    pub buy: Option<Order>,
    /// Embedded sell.
    #[serde(default)]
    pub sell: Option<Order>,
    /// Embedded conversion.
    #[serde(default)]
    pub trade: Option<Order>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// The Advanced Trade fill a wallet row of type `advanced_trade_fill` belongs to.
    #[serde(default)]
    pub advanced_trade_fill: Option<FillRow>,
}

/// The `advanced_trade_fill` member of a v2 wallet row: which order it fills.
#[derive(Deserialize, Clone, Debug, Default)]
pub struct FillRow {
    /// The Advanced Trade order (the v3 fills' `order_id`).
    #[serde(default)]
    pub order_id: Option<String>,
    /// `BASE-QUOTE`.
    #[serde(default)]
    pub product_id: Option<String>,
    /// The fill's price, decimal text.
    #[serde(default)]
    pub fill_price: Option<String>,
    /// `buy` or `sell`.
    #[serde(default)]
    pub order_side: Option<String>,
}

impl Transaction {
    /// Whether the transaction can still change (pending, waiting…): not stored until it is final.
    pub fn is_final(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "failed" | "expired" | "canceled" | "cancelled")
    }
}

/// An Advanced Trade fill (v3).
#[derive(Deserialize, Clone, Debug)]
struct Fill {
    trade_id: String,
    #[serde(default)]
    order_id: String,
    trade_time: String,
    price: String,
    size: String,
    #[serde(default)]
    commission: Option<String>,
    product_id: String,
    side: String,
    #[serde(default)]
    size_in_quote: bool,
    #[serde(default)]
    liquidity_indicator: Option<String>,
}

/// An Advanced Trade wallet row whose order has no v3 fill the key can see, as the adapter
/// stores it.
#[derive(Deserialize)]
struct UnmatchedFillRow {
    transaction: Transaction,
}

/// A conversion's two halves as the adapter stores them.
#[derive(Deserialize)]
struct Conversion {
    trade: String,
    transactions: Vec<Transaction>,
}

/// Whether cointally knows what a v2 transaction type does (the adapter warns about the others).
pub fn is_known_type(kind: &str) -> bool {
    const KNOWN: &[&str] = &[
        "buy",
        "sell",
        "trade",
        "advanced_trade_fill",
        "send",
        "tx",
        "receive",
        "request",
        "fiat_deposit",
        "fiat_withdrawal",
        "staking_reward",
        "inflation_reward",
        "interest",
        "earn_payout",
        "incentives_rewards_payout",
        "subscription_rebate",
        "cardbuyback",
        "clawback",
        "incentives_shared_clawback",
        "derivatives_settlement",
        "staking_transfer",
        "unstaking_transfer",
        "transfer",
        "vault_withdrawal",
        "pro_deposit",
        "exchange_deposit",
        "intx_deposit",
        "pro_withdrawal",
        "exchange_withdrawal",
        "prime_withdrawal",
        "intx_withdrawal",
        "cardspend",
        "subscription",
        "retail_simple_dust",
    ];
    KNOWN.contains(&kind)
}

/// The events a stored Coinbase record stands for.
pub fn normalize(stream: &Stream, record: &RawRecord) -> Result<Vec<NewEvent>, NormalizeError> {
    let events = match stream.endpoint.as_str() {
        TRANSACTIONS => transaction_record(&record.payload),
        FILLS => fill_record(&record.payload).map(|event| vec![event]),
        other => Err(format!("unknown Coinbase endpoint {other:?}")),
    };
    events.map_err(|reason| NormalizeError {
        endpoint: stream.endpoint.clone(),
        external_id: record.external_id.clone(),
        reason,
    })
}

fn transaction_record(payload: &str) -> Result<Vec<NewEvent>, Reason> {
    let probe: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(payload).map_err(|e| format!("not a JSON object: {e}"))?;
    if probe.contains_key("transactions") {
        let conversion: Conversion = serde_json::from_str(payload).map_err(|e| e.to_string())?;
        return conversion_event(conversion).map(|event| event.into_iter().collect());
    }
    if probe.contains_key("v3_fill") {
        let row: UnmatchedFillRow = serde_json::from_str(payload).map_err(|e| e.to_string())?;
        return fill_row_event(&row.transaction).map(|event| event.into_iter().collect());
    }
    let tx: Transaction = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    single_event(&tx).map(|event| event.into_iter().collect())
}

/// A transaction's canonical asset and signed amount.
fn amount_of(tx: &Transaction) -> Result<(String, Decimal), Reason> {
    let asset = asset_symbol(&tx.amount.currency).map_err(|e| format!("field `amount.currency`: {e}"))?;
    let amount = parse_amount(&tx.amount.amount).map_err(|e| format!("field `amount.amount`: {e}"))?;
    Ok((asset, amount))
}

fn money(value: &Money, field: &str) -> Result<(String, Decimal), Reason> {
    let asset = asset_symbol(&value.currency).map_err(|e| format!("field `{field}.currency`: {e}"))?;
    let amount = parse_amount(&value.amount).map_err(|e| format!("field `{field}.amount`: {e}"))?;
    Ok((asset, amount))
}

fn time_of(text: &str) -> Result<DateTime<Utc>, Reason> {
    parse_utc(text).map_err(|e| format!("field `created_at`: {e}"))
}

/// The event's value: the absolute `native_amount`, unless zero.
fn native_value(tx: &Transaction) -> Result<Option<FiatValue>, Reason> {
    let Some(native) = &tx.native_amount else { return Ok(None) };
    let (currency, amount) = money(native, "native_amount")?;
    Ok((!amount.is_zero()).then(|| FiatValue { amount: amount.abs(), currency }))
}

/// Received when positive, sent when negative.
fn signed(asset: String, amount: Decimal) -> Leg {
    if amount < Decimal::ZERO { Leg::sent(asset, -amount) } else { Leg::received(asset, amount) }
}

/// The event of one v2 transaction, or none (fiat side of a buy, a fill's wallet row, failed).
fn single_event(tx: &Transaction) -> Result<Option<NewEvent>, Reason> {
    if !tx.is_final() {
        return Err(format!("transaction {} is {:?}, not final: it must not be stored yet", tx.id, tx.status));
    }
    if tx.status != "completed" {
        return Ok(None);
    }
    let (asset, amount) = amount_of(tx)?;
    let time = time_of(&tx.created_at)?;
    let value = native_value(tx)?;
    let kind_text = tx.kind.as_str();
    let one = |kind: EventKind| NewEvent::new(tx.id.clone(), time, kind, vec![signed(asset.clone(), amount)]);
    let event = match kind_text {
        "buy" | "sell" if is_fiat(&asset) => return Ok(None),
        "advanced_trade_fill" => return Ok(None),
        "buy" | "sell" => {
            let order = if kind_text == "buy" { tx.buy.clone() } else { tx.sell.clone() }.unwrap_or_default();
            let fiat = match (&order.subtotal, &tx.native_amount) {
                (Some(subtotal), _) => money(subtotal, "subtotal")?,
                (None, Some(native)) => money(native, "native_amount")?,
                (None, None) => return Err(format!("a {kind_text} without `{kind_text}.subtotal` or `native_amount`")),
            };
            let fee = order.fee.as_ref().map(|fee| money(fee, "fee")).transpose()?;
            let crypto = signed(asset.clone(), amount);
            let fiat_leg = if amount < Decimal::ZERO {
                Leg::received(fiat.0.clone(), fiat.1.abs())
            } else {
                Leg::sent(fiat.0.clone(), fiat.1.abs())
            };
            let mut legs = if amount < Decimal::ZERO { vec![crypto, fiat_leg] } else { vec![fiat_leg, crypto] };
            if let Some((fee_asset, fee)) = fee.filter(|(_, fee)| !fee.is_zero()) {
                legs.push(Leg::fee(fee_asset, fee.abs()));
            }
            let value = (!fiat.1.is_zero()).then(|| FiatValue { amount: fiat.1.abs(), currency: fiat.0 });
            return Ok(Some(NewEvent {
                fiat_value: value,
                ..NewEvent::new(tx.id.clone(), time, EventKind::Trade, legs)
            }));
        }
        "send" | "tx" if amount < Decimal::ZERO => return send_event(tx, asset, amount, time, value).map(Some),
        "send" | "tx" | "receive" | "request" => {
            let network = tx.network.clone().unwrap_or_default();
            let kind = if amount < Decimal::ZERO { EventKind::Withdrawal } else { EventKind::Deposit };
            NewEvent {
                tx_hash: network.hash.filter(|h| !h.is_empty()),
                network: network.network_name,
                address: tx.from.as_ref().and_then(|f| f.address.clone()),
                ..one(kind)
            }
        }
        "fiat_deposit" => one(EventKind::FiatDeposit),
        "fiat_withdrawal" => one(EventKind::FiatWithdrawal),
        "staking_reward" | "inflation_reward" => one(EventKind::Staking),
        "interest" => one(EventKind::Interest),
        "earn_payout" | "incentives_rewards_payout" => one(EventKind::Income),
        "subscription_rebate" | "cardbuyback" => one(EventKind::Rebate),
        "clawback" | "incentives_shared_clawback" | "derivatives_settlement" => one(EventKind::Adjustment),
        "staking_transfer" | "unstaking_transfer" | "transfer" | "vault_withdrawal" => NewEvent {
            note: Some(format!("{kind_text}: {amount} {asset} between the account's own wallets")),
            ..NewEvent::new(
                tx.id.clone(),
                time,
                EventKind::InternalTransfer,
                vec![Leg::sent(asset.clone(), amount.abs()), Leg::received(asset.clone(), amount.abs())],
            )
        },
        "pro_deposit"
        | "exchange_deposit"
        | "intx_deposit"
        | "pro_withdrawal"
        | "exchange_withdrawal"
        | "prime_withdrawal"
        | "intx_withdrawal" => {
            let (kind, way) =
                if amount < Decimal::ZERO { (EventKind::Withdrawal, "to") } else { (EventKind::Deposit, "from") };
            let note = format!(
                "{kind_text}: a transfer {way} Coinbase Exchange/Prime/INTX, a venue outside this account (add its \
                 history as its own account to match it)"
            );
            NewEvent { note: Some(note), ..one(kind) }
        }
        "cardspend" => one(EventKind::Spend),
        "subscription" => {
            NewEvent::new(tx.id.clone(), time, EventKind::Fee, vec![Leg::fee(asset.clone(), amount.abs())])
        }
        "retail_simple_dust" => NewEvent {
            note: Some("dust conversion: each wallet's side is its own transaction".to_owned()),
            ..one(EventKind::Trade)
        },
        "trade" => NewEvent {
            note: Some(format!(
                "only one side of this Coinbase conversion (trade {}) is in the history",
                tx.trade.as_ref().and_then(|t| t.id.clone()).unwrap_or_default()
            )),
            ..one(EventKind::Trade)
        },
        other => NewEvent { note: Some(format!("Coinbase transaction type {other:?}")), ..one(EventKind::Unknown) },
    };
    Ok(Some(NewEvent { fiat_value: value, ..event }))
}

/// The event of an Advanced Trade wallet row whose order has no v3 fill the key can see: its
/// wallet's side of the trade, one leg, the order named in the note.
fn fill_row_event(tx: &Transaction) -> Result<Option<NewEvent>, Reason> {
    if tx.status != "completed" {
        return Ok(None);
    }
    let (asset, amount) = amount_of(tx)?;
    let time = time_of(&tx.created_at)?;
    let fill = tx.advanced_trade_fill.clone().unwrap_or_default();
    let or_unknown = |text: Option<String>| text.filter(|t| !t.is_empty()).unwrap_or_else(|| "?".to_owned());
    let note = format!(
        "Advanced Trade fill of order {} ({} {} at {}): no v3 fill of the order is visible to this key (another \
         portfolio's?), so this wallet's side is booked from its v2 row",
        or_unknown(fill.order_id),
        or_unknown(fill.product_id),
        or_unknown(fill.order_side),
        or_unknown(fill.fill_price),
    );
    Ok(Some(NewEvent {
        fiat_value: native_value(tx)?,
        note: Some(note),
        ..NewEvent::new(tx.id.clone(), time, EventKind::Trade, vec![signed(asset, amount)])
    }))
}

/// A send out: to an address (network fee and hash) or to another Coinbase user.
fn send_event(
    tx: &Transaction,
    asset: String,
    amount: Decimal,
    time: DateTime<Utc>,
    value: Option<FiatValue>,
) -> Result<NewEvent, Reason> {
    let network = tx.network.clone().unwrap_or_default();
    let to = tx.to.clone().unwrap_or_default();
    let fee = match &network.transaction_fee {
        Some(fee) => {
            let (fee_asset, fee) = money(fee, "network.transaction_fee")?;
            if fee_asset != asset || fee.abs() > amount.abs() {
                return Err(format!("network fee {fee} {fee_asset} does not fit a send of {amount} {asset}"));
            }
            fee.abs()
        }
        None => Decimal::ZERO,
    };
    // Both parsed, so below 10^20 in size (`parse_amount`): the difference cannot overflow.
    let mut legs = vec![Leg::sent(asset.clone(), amount.abs() - fee)];
    if !fee.is_zero() {
        legs.push(Leg::fee(asset, fee));
    }
    let to_user = matches!(to.resource.as_deref(), Some("user" | "email"));
    Ok(NewEvent {
        tx_hash: network.hash.filter(|h| !h.is_empty()),
        network: network.network_name,
        address: to.address.filter(|_| !to_user),
        note: to_user.then(|| "sent to another Coinbase user".to_owned()),
        fiat_value: value,
        ..NewEvent::new(tx.id.clone(), time, EventKind::Withdrawal, legs)
    })
}

/// One trade from the two halves of a conversion (or one half, when that is all there is).
fn conversion_event(conversion: Conversion) -> Result<Option<NewEvent>, Reason> {
    let mut halves = conversion.transactions;
    match halves.len() {
        1 => return single_event(&halves[0]),
        2 => {}
        n => return Err(format!("conversion {} has {n} transactions, expected 2", conversion.trade)),
    }
    for tx in &halves {
        if tx.status != "completed" {
            return Err(format!("transaction {} of conversion {} is {:?}", tx.id, conversion.trade, tx.status));
        }
    }
    let (a, b) = (amount_of(&halves[0])?, amount_of(&halves[1])?);
    if (a.1 < Decimal::ZERO) == (b.1 < Decimal::ZERO) {
        return Err(format!(
            "the two transactions of conversion {} move the same way ({} and {})",
            conversion.trade, a.1, b.1
        ));
    }
    if b.1 < Decimal::ZERO {
        halves.swap(0, 1);
    }
    let (out, into) = (&halves[0], &halves[1]);
    let ((out_asset, out_amount), (in_asset, in_amount)) = if b.1 < Decimal::ZERO { (b, a) } else { (a, b) };
    let time = time_of(&out.created_at)?.min(time_of(&into.created_at)?);
    let kind = if out_asset == in_asset { EventKind::InternalTransfer } else { EventKind::Trade };
    let legs = vec![Leg::sent(out_asset.clone(), out_amount.abs()), Leg::received(in_asset.clone(), in_amount)];
    Ok(Some(NewEvent {
        fiat_value: native_value(out)?,
        note: Some(format!(
            "converted {} {out_asset} to {in_amount} {in_asset} (trade {})",
            out_amount.abs(),
            conversion.trade
        )),
        ..NewEvent::new(out.id.clone(), time, kind, legs)
    }))
}

fn fill_record(payload: &str) -> Result<NewEvent, Reason> {
    let fill: Fill = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let (base, quote) =
        fill.product_id.split_once('-').ok_or_else(|| format!("product {:?} is not BASE-QUOTE", fill.product_id))?;
    let base = asset_symbol(base).map_err(|e| format!("field `product_id`: {e}"))?;
    let quote = asset_symbol(quote).map_err(|e| format!("field `product_id`: {e}"))?;
    let price = parse_amount(&fill.price).map_err(|e| format!("field `price`: {e}"))?;
    let size = parse_amount(&fill.size).map_err(|e| format!("field `size`: {e}"))?;
    let commission = match fill.commission.as_deref().map(str::trim) {
        None | Some("") => Decimal::ZERO,
        Some(text) => parse_amount(text).map_err(|e| format!("field `commission`: {e}"))?.abs(),
    };
    if price <= Decimal::ZERO || size <= Decimal::ZERO {
        return Err(format!("price {price} and size {size} must be positive"));
    }
    let (base_qty, quote_qty) = if fill.size_in_quote {
        let base_qty = size.checked_div(price).ok_or_else(|| format!("size {size} / price {price} is out of range"))?;
        (base_qty.round_dp(8), size)
    } else {
        let quote_qty =
            size.checked_mul(price).ok_or_else(|| format!("size {size} × price {price} is out of range"))?;
        (size, quote_qty.normalize())
    };
    let time = parse_utc(&fill.trade_time).map_err(|e| format!("field `trade_time`: {e}"))?;
    let buy = match fill.side.to_ascii_uppercase().as_str() {
        "BUY" => true,
        "SELL" => false,
        other => return Err(format!("field `side`: {other:?} is neither BUY nor SELL")),
    };
    let mut legs = if buy {
        vec![Leg::sent(quote.clone(), quote_qty), Leg::received(base, base_qty)]
    } else {
        vec![Leg::sent(base, base_qty), Leg::received(quote.clone(), quote_qty)]
    };
    if !commission.is_zero() {
        legs.push(Leg::fee(quote, commission));
    }
    let mut note = format!("{} {} {} at {}", fill.product_id, fill.side.to_ascii_uppercase(), fill.size, fill.price);
    if !fill.order_id.is_empty() {
        note.push_str(&format!(" (order {}", fill.order_id));
        if let Some(liquidity) = &fill.liquidity_indicator {
            note.push_str(&format!(", {liquidity}"));
        }
        note.push(')');
    }
    Ok(NewEvent { note: Some(note), ..NewEvent::new(fill.trade_id, time, EventKind::Trade, legs) })
}

#[cfg(test)]
mod tests;
