//! Gemini's stored API records → events: pure, no network, no key.
//!
//! Two streams store records exactly as Gemini sent them (one element of the answer's array):
//!
//! - `mytrades` (scope: the symbol, `btcusd`): a fill of `POST /v1/mytrades`
//!   (<https://docs.gemini.com/rest/orders#get-past-trades>), keyed by its `tid`. It becomes a
//!   `trade` event `trade:TID`: `Buy` receives `amount` of the base and sends `price × amount` of
//!   the quote (`Sell` the other way round), and `fee_amount` of `fee_currency` is a fee leg.
//! - `transfers`: a row of `POST /v1/transfers`
//!   (<https://docs.gemini.com/rest/fund-management#transfers>), stored under its `eid`, event
//!   `transfer:MS:CURRENCY:SIGNED_AMOUNT` ([`transfer_id`]): Gemini's history file has no
//!   `eid`, so the event is keyed by what both the API and the file say (when, what, how much,
//!   which way), and a file imported into a synced account adds nothing twice. `Deposit` is a deposit (a fiat deposit for fiat), `Withdrawal` a withdrawal
//!   whose `feeAmount` (in `feeCurrency`, else the currency) is a fee leg on top of `amount`
//!   (cointally's reading, not stated by Gemini), `Reward` is income, `AdminCredit` and
//!   `AdminDebit` are adjustments. A status other than `Complete` or `Advanced` (credited in
//!   advance of settlement) changed no balance and gives no event. Any other type is kept as
//!   kind `unknown` with its amount received, its type in the note.
//! - `staking/history`: a transaction of `POST /v1/staking/history`
//!   (<https://docs.gemini.com/rest/staking#list-staking-transactions>), stored as
//!   `{"providerId": …, "transaction": …}` (the answer groups transactions by provider), keyed
//!   by its `transactionId`, event `staking:ID`. `Interest` is staking income; `Deposit` and
//!   `Redeem` move funds between the exchange balance and staking: an `internal_transfer` of
//!   net zero (the balances compared at the end of a sync are exchange plus staking). Gemini
//!   writes these amounts as JSON numbers; they are read from their exact text.
//!
//! The history file reader gives the same ids, so an imported file and a sync meet.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::assets::{canonical_asset, split_symbol};
use crate::adapter::{NormalizeError, RawRecord, Stream};
use crate::amount::parse_amount;
use crate::event::{EventKind, Leg, NewEvent};
use crate::is_fiat;

/// The stream of fills (one per symbol).
pub const MYTRADES: &str = "mytrades";
/// The stream of transfers.
pub const TRANSFERS: &str = "transfers";
/// The stream of staking transactions.
pub const STAKING: &str = "staking/history";

type Reason = String;

/// A fill of `/v1/mytrades`.
#[derive(Debug, Deserialize)]
pub struct Fill {
    /// Price in the quote currency.
    pub price: String,
    /// Base quantity.
    pub amount: String,
    /// When, ms.
    pub timestampms: i64,
    /// `Buy` or `Sell`.
    #[serde(rename = "type")]
    pub side: String,
    /// Currency of the fee.
    pub fee_currency: String,
    /// Fee amount.
    pub fee_amount: String,
    /// Trade id.
    pub tid: u64,
    /// Order id (a string or a number).
    #[serde(default)]
    pub order_id: serde_json::Value,
    /// The symbol (`BTCUSD` or `btcusd`), when the answer gives it.
    #[serde(default)]
    pub symbol: Option<String>,
}

/// A row of `/v1/transfers`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transfer {
    /// `Deposit`, `Withdrawal`, `Reward`, `AdminCredit`, `AdminDebit`…
    #[serde(rename = "type")]
    pub kind: String,
    /// `Complete`, `Advanced`, `Pending`…
    #[serde(default)]
    pub status: String,
    /// When, ms.
    pub timestampms: i64,
    /// Event id.
    pub eid: u64,
    /// Currency code.
    pub currency: String,
    /// Amount moved (positive).
    pub amount: String,
    /// Fee of a withdrawal.
    #[serde(default)]
    pub fee_amount: Option<String>,
    /// Currency of the fee.
    #[serde(default)]
    pub fee_currency: Option<String>,
    /// Transaction hash of a crypto transfer.
    #[serde(default)]
    pub tx_hash: Option<String>,
    /// Address.
    #[serde(default)]
    pub destination: Option<String>,
    /// Fiat method (`ACH`, `Wire`).
    #[serde(default)]
    pub method: Option<String>,
}

impl Transfer {
    /// Whether the row is final: anything but `Pending` (and empty) is.
    pub fn is_final(&self) -> bool {
        !matches!(self.status.as_str(), "Pending" | "")
    }
}

/// Turns one stored Gemini record into events.
pub fn normalize(stream: &Stream, record: &RawRecord) -> Result<Vec<NewEvent>, NormalizeError> {
    let result = match stream.endpoint.as_str() {
        MYTRADES => serde_json::from_str::<Fill>(&record.payload)
            .map_err(|e| e.to_string())
            .and_then(|fill| trade(&stream.scope, &fill)),
        TRANSFERS => serde_json::from_str::<Transfer>(&record.payload)
            .map_err(|e| e.to_string())
            .and_then(|transfer| transfer_events(&transfer)),
        STAKING => serde_json::from_str::<Staked>(&record.payload)
            .map_err(|e| e.to_string())
            .and_then(|staked| staking_events(&staked)),
        other => Err(format!("Gemini has no stream {other:?}")),
    };
    result.map_err(|reason| NormalizeError {
        endpoint: stream.endpoint.clone(),
        external_id: record.external_id.clone(),
        reason,
    })
}

/// A staking transaction as the adapter stores it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Staked<'a> {
    /// The staking provider.
    #[serde(default)]
    pub provider_id: String,
    /// The transaction as Gemini sent it.
    #[serde(borrow)]
    pub transaction: StakingTransaction<'a>,
}

/// One transaction of `/v1/staking/history`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StakingTransaction<'a> {
    /// Its id.
    pub transaction_id: String,
    /// `Deposit`, `Redeem`, `Interest`…
    pub transaction_type: String,
    /// Currency.
    pub amount_currency: String,
    /// Amount, a JSON number (or string), read from its text.
    #[serde(borrow)]
    pub amount: &'a serde_json::value::RawValue,
    /// When, ms.
    pub date_time: i64,
}

/// A staking transaction's event.
pub fn staking_events(staked: &Staked) -> Result<Vec<NewEvent>, Reason> {
    let t = &staked.transaction;
    let currency = asset(&t.amount_currency)?;
    let value = amount("amount", t.amount.get().trim_matches('"'))?.abs();
    let (kind, legs) = match t.transaction_type.as_str() {
        "Interest" => (EventKind::Staking, vec![Leg::received(&currency, value)]),
        "Deposit" | "Redeem" => {
            (EventKind::InternalTransfer, vec![Leg::sent(&currency, value), Leg::received(&currency, value)])
        }
        _ => (EventKind::Unknown, vec![Leg::received(&currency, value)]),
    };
    let mut event = NewEvent::new(format!("staking:{}", t.transaction_id), time(t.date_time)?, kind, legs);
    event.note = Some(match kind {
        EventKind::Unknown => format!("Gemini staking transaction type {:?}", t.transaction_type),
        _ => format!("staking {}, provider {}", t.transaction_type, staked.provider_id),
    });
    Ok(vec![event])
}

fn time(ms: i64) -> Result<DateTime<Utc>, Reason> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| format!("time {ms} is out of range"))
}

fn amount(field: &str, text: &str) -> Result<Decimal, Reason> {
    parse_amount(text).map_err(|e| format!("{field}: {e}"))
}

fn asset(code: &str) -> Result<String, Reason> {
    canonical_asset(code).map_err(|e| e.to_string())
}

/// A fill's trade event (`scope` is the symbol it was asked under).
pub fn trade(scope: &str, fill: &Fill) -> Result<Vec<NewEvent>, Reason> {
    let symbol = fill.symbol.as_deref().filter(|s| !s.is_empty()).unwrap_or(scope);
    let (base, quote) = split_symbol(symbol).ok_or_else(|| format!("symbol {symbol:?} cannot be split"))?;
    let price = amount("price", &fill.price)?;
    let quantity = amount("amount", &fill.amount)?;
    let fee = amount("fee_amount", &fill.fee_amount)?;
    if quantity.is_sign_negative() || price.is_sign_negative() || fee.is_sign_negative() {
        return Err("price, amount and fee must not be negative".to_owned());
    }
    let total = price.checked_mul(quantity).ok_or("price × amount overflows")?;
    let mut legs = match fill.side.as_str() {
        "Buy" => vec![Leg::received(base.clone(), quantity), Leg::sent(quote.clone(), total)],
        "Sell" => vec![Leg::sent(base.clone(), quantity), Leg::received(quote.clone(), total)],
        other => return Err(format!("side {other:?} is neither Buy nor Sell")),
    };
    if !fee.is_zero() {
        legs.push(Leg::fee(asset(&fill.fee_currency)?, fee));
    }
    let mut event = NewEvent::new(format!("trade:{}", fill.tid), time(fill.timestampms)?, EventKind::Trade, legs);
    let order = match &fill.order_id {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    event.note = Some(format!("{} {} {base}/{quote} at {price}, order {order}", fill.side, quantity));
    Ok(vec![event])
}

/// The event id of a transfer at `ms` moving `signed` (received positive, sent negative) of
/// canonical `currency`: the same from an API row and from a history file row.
pub fn transfer_id(ms: i64, currency: &str, signed: Decimal) -> String {
    format!("transfer:{ms}:{currency}:{}", signed.normalize())
}

/// A transfer's event, or none for one that did not complete.
pub fn transfer_events(t: &Transfer) -> Result<Vec<NewEvent>, Reason> {
    if !matches!(t.status.as_str(), "Complete" | "Advanced") {
        return Ok(Vec::new());
    }
    let currency = asset(&t.currency)?;
    let value = amount("amount", &t.amount)?.abs();
    let fiat = is_fiat(&currency);
    let (kind, mut legs) = match t.kind.as_str() {
        "Deposit" => {
            (if fiat { EventKind::FiatDeposit } else { EventKind::Deposit }, vec![Leg::received(&currency, value)])
        }
        "Withdrawal" => {
            (if fiat { EventKind::FiatWithdrawal } else { EventKind::Withdrawal }, vec![Leg::sent(&currency, value)])
        }
        "Reward" => (EventKind::Income, vec![Leg::received(&currency, value)]),
        "AdminCredit" => (EventKind::Adjustment, vec![Leg::received(&currency, value)]),
        "AdminDebit" => (EventKind::Adjustment, vec![Leg::sent(&currency, value)]),
        _ => (EventKind::Unknown, vec![Leg::received(&currency, value)]),
    };
    if let Some(fee) = t.fee_amount.as_deref().filter(|f| !f.trim().is_empty()) {
        let fee = amount("feeAmount", fee)?.abs();
        if !fee.is_zero() {
            let fee_currency = t.fee_currency.as_deref().map_or(Ok(currency.clone()), asset)?;
            legs.push(Leg::fee(fee_currency, fee));
        }
    }
    let signed = legs.first().map_or(value, |leg| leg.amount);
    let mut event = NewEvent::new(transfer_id(t.timestampms, &currency, signed), time(t.timestampms)?, kind, legs);
    event.tx_hash = t.tx_hash.clone().filter(|h| !h.is_empty());
    event.address = t.destination.clone().filter(|a| !a.is_empty());
    event.note = match (kind, &t.method) {
        (EventKind::Unknown, _) => Some(format!("Gemini transfer type {:?}", t.kind)),
        (_, Some(method)) if !method.is_empty() => Some(format!("{} via {method}", t.kind)),
        _ => Some(t.kind.clone()),
    };
    Ok(vec![event])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::LegRole;

    fn fixture(name: &str) -> String {
        let path = format!("{}/../fixtures/gemini/api/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn run(endpoint: &str, scope: &str, file: &str) -> Result<Vec<NewEvent>, NormalizeError> {
        let record = RawRecord { external_id: "x".into(), payload: fixture(file) };
        normalize(&Stream::new(endpoint, scope), &record)
    }

    fn legs(event: &NewEvent) -> Vec<(String, String, LegRole)> {
        event.legs.iter().map(|l| (l.asset.clone(), l.amount.to_string(), l.role)).collect()
    }

    #[test]
    fn a_buy_receives_the_base_sends_price_times_amount_and_pays_its_fee() {
        let events = run(MYTRADES, "btcusd", "mytrades/buy.json").unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert_eq!((e.external_id.as_str(), e.kind), ("trade:107317526", EventKind::Trade));
        assert_eq!(e.time.timestamp_millis(), 1_547_232_911_021);
        assert_eq!(
            legs(e),
            vec![
                ("BTC".into(), "0.0027343246".into(), LegRole::Received),
                ("USD".into(), "-9.975062230014".into(), LegRole::Sent),
                ("USD".into(), "-0.024937655575035".into(), LegRole::Fee),
            ]
        );
    }

    #[test]
    fn a_sell_on_a_gusd_pair_sends_the_base_and_receives_the_quote() {
        let e = &run(MYTRADES, "ethgusd", "mytrades/sell_gusd.json").unwrap()[0];
        assert_eq!(
            legs(e),
            vec![
                ("ETH".into(), "-1.5".into(), LegRole::Sent),
                ("GUSD".into(), "3000.0".into(), LegRole::Received),
                ("GUSD".into(), "-3".into(), LegRole::Fee),
            ]
        );
    }

    #[test]
    fn transfers_become_deposits_withdrawals_with_fees_income_and_adjustments() {
        let e = &run(TRANSFERS, "", "transfers/crypto_deposit.json").unwrap()[0];
        assert_eq!((e.external_id.as_str(), e.kind), ("transfer:1495550176562:BTC:1.5", EventKind::Deposit));
        assert_eq!(e.tx_hash.as_deref(), Some("605c5fa8bf99458d24d61e09941bc443ddc44839d9aaa508b14b296c0c8269b2"));
        assert_eq!(legs(e), vec![("BTC".into(), "1.5".into(), LegRole::Received)]);

        let e = &run(TRANSFERS, "", "transfers/fiat_deposit.json").unwrap()[0];
        assert_eq!(e.kind, EventKind::FiatDeposit);
        assert_eq!(e.note.as_deref(), Some("Deposit via ACH"));

        let e = &run(TRANSFERS, "", "transfers/crypto_withdrawal.json").unwrap()[0];
        assert_eq!(e.kind, EventKind::Withdrawal);
        assert_eq!(
            legs(e),
            vec![("ETH".into(), "-0.5".into(), LegRole::Sent), ("ETH".into(), "-0.0015".into(), LegRole::Fee)]
        );
        assert_eq!(e.address.as_deref(), Some("0xA63123350Acc8F5ee1b1fBd1A6717135e82dBd28"));

        let e = &run(TRANSFERS, "", "transfers/reward.json").unwrap()[0];
        assert_eq!(
            (e.kind, legs(e)),
            (EventKind::Income, vec![("BTC".into(), "0.00001234".into(), LegRole::Received)])
        );

        let e = &run(TRANSFERS, "", "transfers/admin_debit.json").unwrap()[0];
        assert_eq!((e.kind, legs(e)), (EventKind::Adjustment, vec![("USD".into(), "-1".into(), LegRole::Sent)]));
    }

    #[test]
    fn an_unknown_type_is_kept_as_unknown_and_a_failed_transfer_gives_nothing() {
        let e = &run(TRANSFERS, "", "transfers/unknown_type.json").unwrap()[0];
        assert_eq!(e.kind, EventKind::Unknown);
        assert_eq!(e.note.as_deref(), Some("Gemini transfer type \"CardCashback\""));
        assert_eq!(legs(e), vec![("USD".into(), "2.5".into(), LegRole::Received)]);
        assert_eq!(run(TRANSFERS, "", "transfers/cancelled.json").unwrap(), Vec::new());
    }

    #[test]
    fn staking_interest_is_income_and_moves_in_and_out_cancel_out() {
        let e = &run(STAKING, "", "staking/interest.json").unwrap()[0];
        assert_eq!((e.external_id.as_str(), e.kind), ("staking:TQN9OPN", EventKind::Staking));
        assert_eq!(legs(e), vec![("MATIC".into(), "0.01".into(), LegRole::Received)]);
        let e = &run(STAKING, "", "staking/deposit.json").unwrap()[0];
        assert_eq!(e.kind, EventKind::InternalTransfer);
        assert_eq!(
            legs(e),
            vec![("ETH".into(), "-3".into(), LegRole::Sent), ("ETH".into(), "3".into(), LegRole::Received)]
        );
        let e = &run(STAKING, "", "staking/redeem.json").unwrap()[0];
        assert_eq!(
            (e.kind, e.legs.iter().map(|l| l.amount).sum::<Decimal>()),
            (EventKind::InternalTransfer, Decimal::ZERO)
        );
    }

    #[test]
    fn unreadable_records_say_what_is_wrong() {
        let bad = |endpoint: &str, payload: &str| {
            let record = RawRecord { external_id: "9".into(), payload: payload.into() };
            normalize(&Stream::new(endpoint, "btcusd"), &record).unwrap_err().to_string()
        };
        assert!(bad(MYTRADES, "{").contains("mytrades record 9"));
        let fill =
            r#"{"price":"1","amount":"x","timestampms":1,"type":"Buy","fee_currency":"USD","fee_amount":"0","tid":9}"#;
        assert!(bad(MYTRADES, fill).contains("amount"));
        let fill =
            r#"{"price":"1","amount":"1","timestampms":1,"type":"Hold","fee_currency":"USD","fee_amount":"0","tid":9}"#;
        assert!(bad(MYTRADES, fill).contains("Hold"));
        assert!(bad("orders", "{}").contains("no stream"));
    }
}
