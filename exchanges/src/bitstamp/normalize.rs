//! Stored `user_transactions` records → events (and `crypto-transactions` records → details
//! records, read by [`super::crypto_transactions`]). Pure: no network, no key.
//!
//! A record (<https://www.bitstamp.net/api/>)
//! is a JSON object with `id`, `datetime` (UTC, `YYYY-MM-DD HH:MM:SS.ffffff`), `type` (a number,
//! sent as text), `fee`, `order_id`, one key per currency with its signed amount (`"btc":
//! "-0.5"`, `"usd": "1000.00"`; currencies the record does not move are absent or zero) and,
//! for trades, the rate under `BASE_QUOTE` (`"btc_usd": "42735.00"`). Amounts may come as
//! strings or JSON numbers: both are read from their text, never through a float.
//!
//! The types Bitstamp's API page lists, and what cointally makes of them (0, 1 and 2 are
//! confirmed by several sources; the numbers from 14 on are as the page listed them when this
//! was written and were not re-checked):
//!
//! | `type` | Bitstamp's name | event |
//! |---|---|---|
//! | 0 | deposit | `deposit` (`fiat_deposit` for fiat) |
//! | 1 | withdrawal | `withdrawal` (`fiat_withdrawal` for fiat) |
//! | 2 | market trade | `trade` |
//! | 14 | sub account transfer | `internal_transfer` |
//! | 25 | credited with staked assets | `internal_transfer` |
//! | 26 | sent assets to staking | `internal_transfer` |
//! | 27 | staking reward | `staking` |
//! | 32 | referral reward | `rebate` |
//! | 35 | inter account transfer | `internal_transfer` |
//! | any other | — | `unknown`, keeping its legs (never fatal) |
//!
//! Every record is one event keyed by its `id` (the id Bitstamp's transaction export shows too).
//! The currency amounts are the movements before the fee, and the fee is paid on top: a trade's
//! fee in its quote currency (the right side of the rate key), any other record's fee in the one
//! currency it moves. This reading is cointally's; Bitstamp's page does not spell it out. If it
//! is wrong, the balance comparison at the end of every sync shows it, off by exactly the fees.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::assets::canonical_asset;
use crate::adapter::{NormalizeError, RawRecord, Stream};
use crate::amount::{json_text as text_of, parse_amount};
use crate::asset::is_fiat;
use crate::time::parse_utc;
use crate::{EventKind, Leg, NewEvent};

/// The endpoint whose records this reads.
pub const USER_TRANSACTIONS: &str = "user_transactions";

/// Keys of a record that are not currencies.
const META: &[&str] = &["id", "datetime", "type", "fee", "order_id", "tid", "status"];

/// What a record's `type` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// 0: a deposit.
    Deposit,
    /// 1: a withdrawal.
    Withdrawal,
    /// 2: a market trade.
    Trade,
    /// 14: a transfer between the account and a sub-account.
    SubAccountTransfer,
    /// 25: staked assets credited back.
    StakingCredit,
    /// 26: assets sent to staking.
    StakingSend,
    /// 27: a staking reward.
    StakingReward,
    /// 32: a referral reward.
    ReferralReward,
    /// 35: a transfer between accounts.
    InterAccountTransfer,
    /// Any other number.
    Other,
}

impl Type {
    /// The type of the number `code`.
    pub fn of(code: &str) -> Type {
        match code.trim() {
            "0" => Type::Deposit,
            "1" => Type::Withdrawal,
            "2" => Type::Trade,
            "14" => Type::SubAccountTransfer,
            "25" => Type::StakingCredit,
            "26" => Type::StakingSend,
            "27" => Type::StakingReward,
            "32" => Type::ReferralReward,
            "35" => Type::InterAccountTransfer,
            _ => Type::Other,
        }
    }
}

/// Turns one stored record of `stream` into its event.
pub fn normalize(stream: &Stream, record: &RawRecord) -> Result<Vec<NewEvent>, NormalizeError> {
    let error = |reason: String| NormalizeError {
        endpoint: stream.endpoint.clone(),
        external_id: record.external_id.clone(),
        reason,
    };
    if stream.endpoint == super::crypto_transactions::CRYPTO_TRANSACTIONS {
        return super::crypto_transactions::details_event(record).map(|event| vec![event]).map_err(error);
    }
    if stream.endpoint != USER_TRANSACTIONS {
        return Err(error(format!("unknown Bitstamp endpoint {:?}", stream.endpoint)));
    }
    transaction_event(&record.payload).map(|event| vec![event]).map_err(error)
}

/// One record read.
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    /// Bitstamp's id.
    pub id: String,
    /// When.
    pub time: DateTime<Utc>,
    /// The type number as sent.
    pub code: String,
    /// The fee (zero when none).
    pub fee: Decimal,
    /// The order a trade filled, when given.
    pub order_id: Option<String>,
    /// Non-zero currency movements, by canonical symbol.
    pub amounts: BTreeMap<String, Decimal>,
    /// The rate key's (base, quote), when there is one whose currencies are both in the record.
    pub pair: Option<(String, String)>,
    /// The rate, when given.
    pub rate: Option<Decimal>,
}

/// Reads one record's JSON text.
pub fn read_transaction(payload: &str) -> Result<Transaction, String> {
    let fields: BTreeMap<String, &RawValue> =
        serde_json::from_str(payload).map_err(|e| format!("not a JSON object: {e}"))?;
    let field = |name: &str| -> Result<Option<String>, String> {
        fields.get(name).map_or(Ok(None), |value| text_of(value).map_err(|e| format!("`{name}`: {e}")))
    };
    let id = field("id")?.filter(|id| !id.is_empty()).ok_or("the record has no `id`")?;
    let datetime = field("datetime")?.ok_or("the record has no `datetime`")?;
    let time = parse_utc(&datetime).map_err(|e| format!("`datetime`: {e}"))?;
    let code = field("type")?.ok_or("the record has no `type`")?;
    let fee = match field("fee")? {
        Some(text) if !text.is_empty() => parse_amount(&text).map_err(|e| format!("`fee`: {e}"))?,
        _ => Decimal::ZERO,
    };
    let order_id = field("order_id")?;
    let mut amounts = BTreeMap::new();
    let mut rates = Vec::new();
    for (name, value) in &fields {
        if META.contains(&name.as_str()) {
            continue;
        }
        if let Some((base, quote)) = name.split_once('_') {
            rates.push((base.to_owned(), quote.to_owned(), *value));
            continue;
        }
        let Some(text) = text_of(value).map_err(|e| format!("`{name}`: {e}"))? else { continue };
        let amount = parse_amount(&text).map_err(|e| format!("`{name}`: {e}"))?;
        if !amount.is_zero() {
            let symbol = canonical_asset(name).map_err(|e| format!("`{name}`: {e}"))?;
            amounts.insert(symbol, amount);
        }
    }
    let mut pair = None;
    let mut rate = None;
    for (base, quote, value) in rates {
        let (Ok(base), Ok(quote)) = (canonical_asset(&base), canonical_asset(&quote)) else { continue };
        if amounts.contains_key(&base) && amounts.contains_key(&quote) {
            rate = text_of(value).ok().flatten().and_then(|text| parse_amount(&text).ok());
            pair = Some((base, quote));
            break;
        }
    }
    Ok(Transaction { id, time, code, fee, order_id, amounts, pair, rate })
}

/// The event of one record's JSON text.
pub fn transaction_event(payload: &str) -> Result<NewEvent, String> {
    let transaction = read_transaction(payload)?;
    event_of(&transaction)
}

/// The event of a record read (the export reader builds the same [`Transaction`]s).
pub fn event_of(t: &Transaction) -> Result<NewEvent, String> {
    let kind_type = Type::of(&t.code);
    let single = || -> Option<&String> { if t.amounts.len() == 1 { t.amounts.keys().next() } else { None } };
    let mut legs: Vec<Leg> = t
        .amounts
        .iter()
        .map(|(asset, amount)| {
            if amount.is_sign_negative() {
                Leg::sent(asset.clone(), *amount)
            } else {
                Leg::received(asset.clone(), *amount)
            }
        })
        .collect();
    let fee_asset = match kind_type {
        Type::Trade => {
            let (_, quote) = t.pair.as_ref().ok_or_else(|| {
                format!("a trade (type 2) needs a rate key BASE_QUOTE naming its two currencies; has {:?}", t.amounts)
            })?;
            if t.amounts.len() != 2 {
                return Err(format!("a trade (type 2) moves two currencies; this one moves {:?}", t.amounts));
            }
            Some(quote.clone())
        }
        _ => single().cloned(),
    };
    let mut note = None;
    if !t.fee.is_zero() {
        match &fee_asset {
            Some(asset) => legs.push(Leg::fee(asset.clone(), t.fee.abs())),
            None if kind_type == Type::Other => {
                note = Some(format!("fee {} in a currency the record does not name", t.fee));
            }
            None => return Err(format!("fee {} but no one currency it could be paid in ({:?})", t.fee, t.amounts)),
        }
    }
    let asset_is_fiat = single().is_some_and(|asset| is_fiat(asset));
    let kind = match kind_type {
        Type::Deposit | Type::Withdrawal if t.amounts.len() != 1 => {
            return Err(format!("a deposit or withdrawal moves one currency; this one moves {:?}", t.amounts));
        }
        Type::Deposit if asset_is_fiat => EventKind::FiatDeposit,
        Type::Deposit => EventKind::Deposit,
        Type::Withdrawal if asset_is_fiat => EventKind::FiatWithdrawal,
        Type::Withdrawal => EventKind::Withdrawal,
        Type::Trade => EventKind::Trade,
        Type::SubAccountTransfer | Type::StakingCredit | Type::StakingSend | Type::InterAccountTransfer => {
            EventKind::InternalTransfer
        }
        Type::StakingReward => EventKind::Staking,
        Type::ReferralReward => EventKind::Rebate,
        Type::Other => EventKind::Unknown,
    };
    let note = match kind_type {
        Type::Other => Some(match note {
            Some(fee) => format!("Bitstamp user_transactions type {:?}; {fee}", t.code),
            None => format!("Bitstamp user_transactions type {:?}", t.code),
        }),
        Type::Trade => Some(match (&t.pair, &t.rate, &t.order_id) {
            (Some((base, quote)), Some(rate), Some(order)) => format!("{base}/{quote} at {rate}, order {order}"),
            (Some((base, quote)), Some(rate), None) => format!("{base}/{quote} at {rate}"),
            _ => "market trade".to_owned(),
        }),
        Type::SubAccountTransfer => Some("sub account transfer".to_owned()),
        Type::StakingCredit => Some("credited with staked assets".to_owned()),
        Type::StakingSend => Some("sent assets to staking".to_owned()),
        Type::InterAccountTransfer => Some("inter account transfer".to_owned()),
        _ => None,
    };
    Ok(NewEvent { note, ..NewEvent::new(t.id.clone(), t.time, kind, legs) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LegRole;

    fn fixture(name: &str) -> String {
        let path = format!("{}/../fixtures/bitstamp/api/user_transactions/{name}.json", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn one(name: &str) -> NewEvent {
        let stream = Stream::new(USER_TRANSACTIONS, "");
        let record = RawRecord { external_id: name.to_owned(), payload: fixture(name) };
        let mut events = normalize(&stream, &record).unwrap();
        assert_eq!(events.len(), 1);
        events.remove(0)
    }

    fn legs(event: &NewEvent) -> Vec<(String, String, LegRole)> {
        event.legs.iter().map(|l| (l.asset.clone(), l.amount.to_string(), l.role)).collect()
    }

    #[test]
    fn a_buy_moves_base_in_quote_out_and_the_fee_in_quote() {
        let event = one("trade_buy");
        assert_eq!(event.kind, EventKind::Trade);
        assert_eq!(event.external_id, "258436012");
        assert_eq!(crate::time::to_millis(event.time), 1_704_190_272_123);
        assert_eq!(
            legs(&event),
            vec![
                ("BTC".into(), "0.0234".into(), LegRole::Received),
                ("USD".into(), "-1000".into(), LegRole::Sent),
                ("USD".into(), "-3".into(), LegRole::Fee),
            ]
        );
        assert_eq!(event.note.as_deref(), Some("BTC/USD at 42735, order 1690458421219329"));
    }

    #[test]
    fn a_sell_with_numbers_not_strings_is_read_exactly() {
        let event = one("trade_sell_numbers");
        assert_eq!(event.kind, EventKind::Trade);
        assert_eq!(
            legs(&event),
            vec![
                ("ETH".into(), "-0.123456789".into(), LegRole::Sent),
                ("EUR".into(), "271.6".into(), LegRole::Received),
                ("EUR".into(), "-0.41".into(), LegRole::Fee),
            ]
        );
    }

    #[test]
    fn deposits_and_withdrawals_are_crypto_or_fiat_by_currency() {
        let deposit = one("deposit_crypto");
        assert_eq!(deposit.kind, EventKind::Deposit);
        assert_eq!(legs(&deposit), vec![("BTC".into(), "0.5".into(), LegRole::Received)]);
        let fiat = one("deposit_fiat");
        assert_eq!(fiat.kind, EventKind::FiatDeposit);
        let withdrawal = one("withdrawal_crypto");
        assert_eq!(withdrawal.kind, EventKind::Withdrawal);
        assert_eq!(
            legs(&withdrawal),
            vec![("BTC".into(), "-0.2".into(), LegRole::Sent), ("BTC".into(), "-0.0001".into(), LegRole::Fee)]
        );
        assert_eq!(one("withdrawal_fiat").kind, EventKind::FiatWithdrawal);
    }

    #[test]
    fn staking_referral_and_transfers_have_their_kinds() {
        assert_eq!(one("staking_reward").kind, EventKind::Staking);
        assert_eq!(one("staking_send").kind, EventKind::InternalTransfer);
        assert_eq!(one("staking_credit").kind, EventKind::InternalTransfer);
        assert_eq!(one("referral_reward").kind, EventKind::Rebate);
        assert_eq!(one("sub_account_transfer").kind, EventKind::InternalTransfer);
        assert_eq!(one("inter_account_transfer").kind, EventKind::InternalTransfer);
    }

    #[test]
    fn an_unknown_type_is_kind_unknown_keeping_its_legs() {
        let event = one("unknown_type");
        assert_eq!(event.kind, EventKind::Unknown);
        assert_eq!(legs(&event), vec![("SOL".into(), "1.5".into(), LegRole::Received)]);
        assert!(event.note.unwrap().contains("\"33\""));
    }

    #[test]
    fn unreadable_records_are_errors_naming_what_is_wrong() {
        let stream = Stream::new(USER_TRANSACTIONS, "");
        for (payload, words) in [
            (r#"{"datetime":"2024-01-02 10:11:12","type":"0","btc":"1"}"#, "no `id`"),
            (r#"{"id":1,"datetime":"yesterday","type":"0","btc":"1"}"#, "datetime"),
            (r#"{"id":1,"datetime":"2024-01-02 10:11:12","type":"0","btc":"one"}"#, "`btc`"),
            (r#"{"id":1,"datetime":"2024-01-02 10:11:12","type":"2","btc":"1","usd":"-5"}"#, "rate key"),
            (r#"{"id":1,"datetime":"2024-01-02 10:11:12","type":"1","btc":"-1","usd":"-5"}"#, "one currency"),
            (r#"[1, 2]"#, "not a JSON object"),
        ] {
            let record = RawRecord { external_id: "1".into(), payload: payload.into() };
            let error = normalize(&stream, &record).unwrap_err();
            assert!(error.reason.contains(words), "{payload}: {error}");
        }
        let other =
            normalize(&Stream::new("balance", ""), &RawRecord { external_id: "1".into(), payload: "{}".into() });
        assert!(other.unwrap_err().reason.contains("unknown Bitstamp endpoint"));
    }
}
