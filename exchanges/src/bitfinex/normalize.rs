//! Stored ledger entries → events. Pure: no network, no key.
//!
//! A ledger entry (<https://docs.bitfinex.com/reference/rest-auth-ledgers>) is the array
//! `[ID, CURRENCY, WALLET, MTS, null, AMOUNT, BALANCE, null, DESCRIPTION]`: the entry's id, the
//! currency, the wallet (`exchange`, `margin`, `funding`, `contribution`, or null), the time in
//! ms, the signed amount, the wallet's balance after it and a description. Amounts are JSON
//! numbers: they are read from their text, never through a float.
//!
//! Every entry is one event keyed by its `ID` (the `#` of Bitfinex's ledger export, so an export
//! and a sync meet instead of doubling). The API gives no type, only the description: the event's
//! kind comes from it. The descriptions below are the shapes Bitfinex's ledgers show (as Bitfinex's
//! own report tool and public tax tools read them); they were not checked against a real account
//! here, and any other description is kind `unknown`, keeping its leg (never fatal):
//!
//! | description starts with | event |
//! |---|---|
//! | `Exchange 0.5 BTC for USD @ 30000 …` | `trade`: this entry's side of the trade |
//! | `Trading fees for …`, `… withdrawal fee …`, `Deposit Fee …`, `… funding cost …`, `Interest charge …` | `fee` |
//! | `Deposit (…) #…` | `deposit` (`fiat_deposit` for fiat) |
//! | `Withdrawal #…` | `withdrawal` (`fiat_withdrawal` for fiat) |
//! | `Canceled withdrawal …` | `adjustment` (the amount credited back) |
//! | `Transfer of …` | `internal_transfer` (between the exchange, margin and funding wallets) |
//! | `Margin Funding Payment …`, `Interest Payment …` | `interest` |
//! | `Staking …` | `staking` |
//! | `Affiliate Rebate …`, `Earned fees …`, `Trading rebate …` | `rebate` |
//! | `Settlement …` | `trade` (a margin position settled) |
//! | `Adjustment …` | `adjustment` |
//!
//! # Decision: one entry, one event
//!
//! The two entries of a trade (the currency bought and the one paid) and its fee entry are
//! separate ledger entries with separate ids, tied only by their time and description. Each
//! stays its own event, so no entry can be lost or doubled at a page's edge and re-normalising
//! needs nothing but the entry: a `trade` with one leg. The tax engine values the side it sees:
//! an acquisition at the amount × the description's price when the other currency is fiat
//! (given as the event's fiat value), else at market price; a disposal likewise.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::assets::canonical_asset;
use super::movements::{MOVEMENTS, details_of, read_movement};
use crate::adapter::{NormalizeError, RawRecord, Stream};
use crate::amount::{json_text as text_of, parse_amount};
use crate::asset::is_fiat;
use crate::event::FiatValue;
use crate::{EventKind, Leg, NewEvent};

/// The endpoint whose records this reads.
pub const LEDGERS: &str = "ledgers";

/// One ledger entry read.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Bitfinex's id.
    pub id: u64,
    /// The canonical symbol of its currency.
    pub asset: String,
    /// The wallet, when given.
    pub wallet: Option<String>,
    /// When, ms.
    pub time_ms: i64,
    /// The signed amount.
    pub amount: Decimal,
    /// The description.
    pub description: String,
}

/// What a description says an entry is.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// One side of a trade: (base, quote, price) as the description gives them, when readable.
    Trade(Option<(String, String, Decimal)>),
    /// Any other known kind.
    Known(EventKind),
    /// A description cointally does not know.
    Unknown,
}

/// Turns one stored record of `stream` into its event (a ledger entry), or into the details of
/// one (a movement: see [`super::movements`]).
pub fn normalize(stream: &Stream, record: &RawRecord) -> Result<Vec<NewEvent>, NormalizeError> {
    let error = |reason: String| NormalizeError {
        endpoint: stream.endpoint.clone(),
        external_id: record.external_id.clone(),
        reason,
    };
    if stream.endpoint == MOVEMENTS {
        let movement = read_movement(&record.payload).map_err(error)?;
        return Ok(details_of(&movement).into_iter().collect());
    }
    if stream.endpoint != LEDGERS {
        return Err(error(format!("unknown Bitfinex endpoint {:?}", stream.endpoint)));
    }
    let entry = read_entry(&record.payload).map_err(error)?;
    Ok(vec![event_of(&entry)])
}

/// Reads one entry's JSON text (the array Bitfinex sends).
pub fn read_entry(payload: &str) -> Result<Entry, String> {
    let fields: Vec<&RawValue> =
        serde_json::from_str(payload).map_err(|e| format!("a ledger entry is an array: {e}"))?;
    let field = |index: usize, name: &str| -> Result<Option<String>, String> {
        fields.get(index).map_or(Ok(None), |value| text_of(value).map_err(|e| format!("{name}: {e}")))
    };
    let required = |index: usize, name: &str| -> Result<String, String> {
        field(index, name)?.filter(|text| !text.is_empty()).ok_or_else(|| format!("the entry has no {name}"))
    };
    let id_text = required(0, "ID")?;
    let id = id_text.parse::<u64>().map_err(|_| format!("ID {id_text:?} is not a whole number"))?;
    let currency = required(1, "CURRENCY")?;
    let asset = canonical_asset(&currency).map_err(|e| format!("CURRENCY: {e}"))?;
    let wallet = field(2, "WALLET")?;
    let mts_text = required(3, "MTS")?;
    let time_ms = mts_text.parse::<i64>().map_err(|_| format!("MTS {mts_text:?} is not a time in ms"))?;
    let amount = parse_amount(&required(5, "AMOUNT")?).map_err(|e| format!("AMOUNT: {e}"))?;
    let description = field(8, "DESCRIPTION")?.unwrap_or_default();
    Ok(Entry { id, asset, wallet, time_ms, amount, description })
}

/// What `description` says an entry is.
pub fn kind_of(description: &str) -> Kind {
    let text = description.trim().to_ascii_lowercase();
    let starts = |prefix: &str| text.starts_with(prefix);
    if starts("exchange ") && text.contains(" for ") && text.contains(" @ ") {
        return Kind::Trade(trade_terms(description));
    }
    let kind = if starts("trading fee")
        || text.contains("withdrawal fee")
        || text.contains("withdrawal express fee")
        || starts("deposit fee")
        || text.contains("funding cost")
        || starts("interest charge")
    {
        EventKind::Fee
    } else if starts("deposit") {
        EventKind::Deposit
    } else if starts("canceled withdrawal") || starts("cancelled withdrawal") || starts("adjustment") {
        EventKind::Adjustment
    } else if starts("withdrawal") {
        EventKind::Withdrawal
    } else if starts("transfer of") {
        EventKind::InternalTransfer
    } else if starts("margin funding payment") || starts("interest payment") {
        EventKind::Interest
    } else if starts("staking") {
        EventKind::Staking
    } else if starts("affiliate rebate") || starts("earned fees") || starts("trading rebate") {
        EventKind::Rebate
    } else if starts("settlement") {
        return Kind::Trade(None);
    } else {
        return Kind::Unknown;
    };
    Kind::Known(kind)
}

/// (base, quote, price) of `Exchange QTY BASE for QUOTE @ PRICE …`.
fn trade_terms(description: &str) -> Option<(String, String, Decimal)> {
    let words: Vec<&str> = description.split_whitespace().collect();
    let [_, _, base, for_word, quote, at, price, ..] = words.as_slice() else { return None };
    if !for_word.eq_ignore_ascii_case("for") || *at != "@" {
        return None;
    }
    let base = canonical_asset(base).ok()?;
    let quote = canonical_asset(quote).ok()?;
    Some((base, quote, parse_amount(price).ok()?))
}

/// The event of one entry (the export reader reads the same [`Entry`]s).
pub fn event_of(entry: &Entry) -> NewEvent {
    let time: DateTime<Utc> = crate::time::from_millis(entry.time_ms);
    let signed_leg = || {
        if entry.amount.is_sign_negative() {
            Leg::sent(entry.asset.clone(), entry.amount)
        } else {
            Leg::received(entry.asset.clone(), entry.amount)
        }
    };
    let fiat = is_fiat(&entry.asset);
    let mut fiat_value = None;
    let (kind, leg, note) = match kind_of(&entry.description) {
        Kind::Trade(terms) => {
            if let Some((base, quote, price)) = &terms {
                if *base == entry.asset && is_fiat(quote) {
                    fiat_value = entry
                        .amount
                        .abs()
                        .checked_mul(*price)
                        .map(|amount| FiatValue { amount: amount.normalize(), currency: quote.clone() });
                }
            }
            (EventKind::Trade, signed_leg(), entry.description.clone())
        }
        Kind::Known(EventKind::Fee) if entry.amount.is_sign_negative() => {
            (EventKind::Fee, Leg::fee(entry.asset.clone(), entry.amount), entry.description.clone())
        }
        Kind::Known(EventKind::Fee) => (EventKind::Rebate, signed_leg(), entry.description.clone()),
        Kind::Known(EventKind::Deposit) if fiat => (EventKind::FiatDeposit, signed_leg(), entry.description.clone()),
        Kind::Known(EventKind::Withdrawal) if fiat => {
            (EventKind::FiatWithdrawal, signed_leg(), entry.description.clone())
        }
        Kind::Known(kind) => (kind, signed_leg(), entry.description.clone()),
        Kind::Unknown => (EventKind::Unknown, signed_leg(), format!("Bitfinex ledger entry {:?}", entry.description)),
    };
    let note = match &entry.wallet {
        Some(wallet) if !note.contains("wallet") => format!("{note} (wallet {wallet})"),
        _ => note,
    };
    NewEvent { note: Some(note), fiat_value, ..NewEvent::new(entry.id.to_string(), time, kind, vec![leg]) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LegRole;

    fn fixture(name: &str) -> String {
        let path = format!("{}/../fixtures/bitfinex/ledgers/{name}.json", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn event(name: &str) -> NewEvent {
        let payload = fixture(name);
        let stream = Stream::new(LEDGERS, "");
        let record = RawRecord { external_id: "x".into(), payload: payload.trim().to_owned() };
        let mut events = normalize(&stream, &record).unwrap();
        assert_eq!(events.len(), 1);
        events.remove(0)
    }

    fn one_leg(event: &NewEvent) -> (&str, String, LegRole) {
        assert_eq!(event.legs.len(), 1, "{event:?}");
        let leg = &event.legs[0];
        (leg.asset.as_str(), leg.amount.to_string(), leg.role)
    }

    #[test]
    fn each_fixture_becomes_its_kind_with_its_exact_leg() {
        let cases = [
            ("trade_buy_base", EventKind::Trade, ("BTC", "0.5", LegRole::Received)),
            ("trade_buy_quote", EventKind::Trade, ("USD", "-15000.25", LegRole::Sent)),
            ("trading_fee", EventKind::Fee, ("BTC", "-0.001", LegRole::Fee)),
            ("deposit_crypto", EventKind::Deposit, ("ETH", "2.5", LegRole::Received)),
            ("deposit_fiat", EventKind::FiatDeposit, ("USD", "10000", LegRole::Received)),
            ("withdrawal_crypto", EventKind::Withdrawal, ("USDT", "-250", LegRole::Sent)),
            ("withdrawal_fee", EventKind::Fee, ("USDT", "-1", LegRole::Fee)),
            ("transfer_to_margin", EventKind::InternalTransfer, ("USD", "-500", LegRole::Sent)),
            ("margin_funding_payment", EventKind::Interest, ("USD", "0.12345678", LegRole::Received)),
            ("staking_payment", EventKind::Staking, ("ETH", "0.00012", LegRole::Received)),
            ("affiliate_rebate", EventKind::Rebate, ("USD", "1.5", LegRole::Received)),
            ("tiny_amount_in_exponent_form", EventKind::Interest, ("USD", "0.00000001", LegRole::Received)),
        ];
        for (name, kind, (asset, amount, role)) in cases {
            let event = event(name);
            assert_eq!(event.kind, kind, "{name}");
            let (leg_asset, leg_amount, leg_role) = one_leg(&event);
            assert_eq!((leg_asset, leg_amount.as_str(), leg_role), (asset, amount, role), "{name}");
        }
    }

    #[test]
    fn a_trade_side_carries_its_id_time_and_the_fiat_value_the_description_gives() {
        let event = event("trade_buy_base");
        assert_eq!(event.external_id, "2480000101");
        assert_eq!(crate::time::to_millis(event.time), 1_704_110_400_123);
        assert_eq!(
            event.fiat_value,
            Some(FiatValue { amount: Decimal::new(1_500_025, 2), currency: "USD".into() }),
            "0.5 BTC @ 30000.5 USD"
        );
        // The quote side needs no value of its own: it is fiat.
        assert_eq!(event_of(&read_entry(&fixture("trade_buy_quote")).unwrap()).fiat_value, None);
        assert_eq!(
            kind_of("Exchange 2.0 ETH for BTC @ 0.05 on wallet exchange"),
            Kind::Trade(Some(("ETH".into(), "BTC".into(), Decimal::new(5, 2))))
        );
    }

    #[test]
    fn an_unknown_description_is_kept_as_unknown_with_its_leg_and_bad_entries_are_errors() {
        let event = event("unknown_description");
        assert_eq!(event.kind, EventKind::Unknown);
        assert_eq!(one_leg(&event), ("BTC", "0.25".to_owned(), LegRole::Received));
        assert!(event.note.unwrap().contains("Bitfinex ledger entry"));
        for bad in [
            "{}",
            r#"[null,"BTC","exchange",1,null,1,1,null,"x"]"#,
            r#"[1,"BTC","exchange","soon",null,1,1,null,"x"]"#,
            r#"[1,"BTC","exchange",1,null,"lots",1,null,"x"]"#,
            r#"[1,"B C","exchange",1,null,1,1,null,"x"]"#,
        ] {
            assert!(read_entry(bad).is_err(), "{bad}");
        }
        let stream = Stream::new("trades", "");
        assert!(normalize(&stream, &RawRecord { external_id: "1".into(), payload: "[]".into() }).is_err());
    }
}
