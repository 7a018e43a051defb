//! Bitfinex's deposits and withdrawals (`movements`): the tx hash and address of each crypto
//! movement, as details of the event the ledger already made for it. Pure: no network.
//!
//! `POST /v2/auth/r/movements/hist` (<https://docs.bitfinex.com/reference/rest-auth-movements>;
//! fields also in <https://docs.bitfinex.com/reference/movement-info>) answers arrays
//! `[ID, CURRENCY, CURRENCY_NAME, …, MTS_STARTED (5), MTS_UPDATED (6), …, STATUS (9), …,
//! AMOUNT (12), FEES (13), …, DESTINATION_ADDRESS (16), PAYMENT_ID (17), …, TRANSACTION_ID (20),
//! WITHDRAW_TRANSACTION_NOTE (21)]`, AMOUNT positive for deposits and negative for withdrawals.
//! `start` and `end` select on MTS_UPDATED (both inclusive), `limit` is at most 2,500, newest
//! first; without a currency in the path it lists every currency.
//!
//! Every movement is also a ledger entry (`Deposit (…) #ID …`, `Withdrawal #ID …`), which makes
//! its event; so a movement is never an event but a [details record](crate::NewEvent::details)
//! that the ledger attaches to the account's deposit or withdrawal of the same currency and
//! absolute amount closest in time: nothing is counted twice. Only a `COMPLETED` crypto movement
//! with a transaction id carries details; fiat (`WIRE`) and cancelled movements make nothing.
//! **Not verified** against a real account: that a withdrawal's AMOUNT equals its ledger entry
//! (the fee is its own entry, `FEES` here); if not, its details wait unattached (`sync` reports
//! them as `details_waiting`) and nothing is counted twice.
//!
//! A movement still under way (any status but `COMPLETED`, `CANCELED`, `CANCELLED`, `FAILED`)
//! is not stored ([`is_final`]): when it ends Bitfinex updates its MTS_UPDATED, so the next walk
//! (which starts at the newest MTS_UPDATED seen) meets it again, final.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::assets::canonical_asset;
use crate::amount::{json_text, parse_amount};
use crate::asset::is_fiat;
use crate::{EventKind, Leg, NewEvent};

/// The endpoint (and stream) whose records this reads.
pub const MOVEMENTS: &str = "movements";

/// Where MTS_UPDATED is in a movement (what `start` and `end` select on).
pub const TIME_INDEX: usize = 6;

/// One movement read.
#[derive(Debug, Clone, PartialEq)]
pub struct Movement {
    /// Bitfinex's id.
    pub id: u64,
    /// The canonical symbol of its currency.
    pub asset: String,
    /// The method's name (`BITCOIN`, `WIRE`, …).
    pub method: Option<String>,
    /// When it was last updated (ms): when it completed, for a completed one.
    pub updated_ms: i64,
    /// `COMPLETED`, `PROCESSING`, `CANCELED`, …
    pub status: String,
    /// Signed: positive for a deposit, negative for a withdrawal.
    pub amount: Decimal,
    /// The destination address.
    pub address: Option<String>,
    /// The transaction id (on-chain hash).
    pub tx_id: Option<String>,
}

/// Reads one movement's JSON text (the array Bitfinex sends).
pub fn read_movement(payload: &str) -> Result<Movement, String> {
    let fields: Vec<&RawValue> = serde_json::from_str(payload).map_err(|e| format!("a movement is an array: {e}"))?;
    let field = |index: usize, name: &str| -> Result<Option<String>, String> {
        fields.get(index).map_or(Ok(None), |value| json_text(value).map_err(|e| format!("{name}: {e}")))
    };
    let present = |text: Option<String>| text.filter(|t| !t.trim().is_empty());
    let required = |index: usize, name: &str| -> Result<String, String> {
        present(field(index, name)?).ok_or_else(|| format!("the movement has no {name}"))
    };
    let id_text = required(0, "ID")?;
    let id = id_text.parse::<u64>().map_err(|_| format!("ID {id_text:?} is not a whole number"))?;
    let asset = canonical_asset(&required(1, "CURRENCY")?).map_err(|e| format!("CURRENCY: {e}"))?;
    let mts_text = required(TIME_INDEX, "MTS_UPDATED")?;
    let updated_ms = mts_text.parse::<i64>().map_err(|_| format!("MTS_UPDATED {mts_text:?} is not a time in ms"))?;
    let amount = parse_amount(&required(12, "AMOUNT")?).map_err(|e| format!("AMOUNT: {e}"))?;
    Ok(Movement {
        id,
        asset,
        method: present(field(2, "CURRENCY_NAME")?),
        updated_ms,
        status: required(9, "STATUS")?,
        amount,
        address: present(field(16, "DESTINATION_ADDRESS")?),
        tx_id: present(field(20, "TRANSACTION_ID")?),
    })
}

/// Whether a movement's status is one it will not leave (it is stored only then).
pub fn is_final(status: &str) -> bool {
    matches!(status.trim().to_ascii_uppercase().as_str(), "COMPLETED" | "CANCELED" | "CANCELLED" | "FAILED")
}

/// The details record of a movement: for a completed crypto movement with a transaction id,
/// else none.
pub fn details_of(movement: &Movement) -> Option<NewEvent> {
    let completed = movement.status.trim().eq_ignore_ascii_case("COMPLETED");
    if !completed || is_fiat(&movement.asset) || movement.amount.is_zero() {
        return None;
    }
    let tx_id = movement.tx_id.clone()?;
    let time = DateTime::<Utc>::from_timestamp_millis(movement.updated_ms)?;
    let (kind, leg) = if movement.amount.is_sign_positive() {
        (EventKind::Deposit, Leg::received(&movement.asset, movement.amount))
    } else {
        (EventKind::Withdrawal, Leg::sent(&movement.asset, movement.amount))
    };
    Some(NewEvent {
        tx_hash: Some(tx_id),
        address: movement.address.clone(),
        network: movement.method.clone(),
        ..NewEvent::details(movement.id, time, kind, leg)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Movement {
        let path = format!("{}/../fixtures/bitfinex/movements/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        read_movement(text.trim()).unwrap()
    }

    #[test]
    fn a_completed_crypto_movement_is_the_details_of_its_ledger_event() {
        let deposit = details_of(&fixture("deposit_completed")).unwrap();
        assert!(deposit.is_details());
        assert_eq!(deposit.kind, EventKind::Deposit);
        assert_eq!((deposit.legs[0].asset.as_str(), deposit.legs[0].amount), ("ETH", Decimal::new(25, 1)));
        assert_eq!(crate::time::to_millis(deposit.time), 1_704_200_000_000, "MTS_UPDATED: when it completed");
        assert_eq!(
            deposit.tx_hash.as_deref(),
            Some("0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060")
        );
        assert_eq!(deposit.network.as_deref(), Some("ETHEREUM"));

        let withdrawal = details_of(&fixture("withdrawal_completed")).unwrap();
        assert_eq!(withdrawal.kind, EventKind::Withdrawal);
        assert_eq!(
            (withdrawal.legs[0].asset.as_str(), withdrawal.legs[0].amount),
            ("USDT", Decimal::from(-250)),
            "UST is USDT; the fee is its own ledger entry"
        );
        assert_eq!(withdrawal.address.as_deref(), Some("0x2a1b0c8f2b7c1e5d4a3b2c1d0e9f8a7b6c5d4e3f"));
    }

    #[test]
    fn pending_fiat_and_unreadable_movements_make_no_details() {
        let pending = fixture("withdrawal_pending");
        assert_eq!(pending.id, 14_500_400, "an id sent as a string");
        assert!(!is_final(&pending.status));
        assert_eq!(details_of(&pending), None);
        let wire = fixture("deposit_wire");
        assert!(is_final(&wire.status));
        assert_eq!(details_of(&wire), None, "fiat has no transaction");
        for bad in ["{}", "[]", r#"[1,"BTC","BITCOIN",null,null,1,"soon",null,null,"COMPLETED",null,null,1]"#] {
            assert!(read_movement(bad).is_err(), "{bad}");
        }
        assert!(read_movement(r#"[1,"BTC","BITCOIN",null,null,1,2,null,null,"COMPLETED",null,null,"lots"]"#).is_err());
    }
}
