//! OKX's deposit and withdrawal histories: the tx hash, address and network of the deposits and
//! withdrawals the funding bills already record, as details of their events. Pure: no network.
//!
//! - `deposit-history`: `GET /api/v5/asset/deposit-history`
//!   (<https://www.okx.com/docs-v5/en/#funding-account-rest-api-get-deposit-history>): `depId`,
//!   `ccy`, `chain`, `amt`, `to` (the deposit address, on-chain deposits only), `txId`, `ts` (when
//!   the record was created, ms), `state` (`0` waiting for confirmation, `1` credited, `2`
//!   successful, `8` pending (deposits of the currency suspended), `11`–`14` refused (address
//!   blacklisted, account frozen, sub-account interception, KYC limit), `17` waiting for the
//!   Travel Rule vendor), `fromWdId` for an internal transfer.
//! - `withdrawal-history`: `GET /api/v5/asset/withdrawal-history`
//!   (<https://www.okx.com/docs-v5/en/#funding-account-rest-api-get-withdrawal-history>): `wdId`,
//!   `ccy`, `chain`, `amt`, `fee`, `feeCcy`, `to` (the receiving address), `txId` (`""` for an
//!   internal transfer), `ts` (when it was requested), `state` (final: `2` success, `-1` failed,
//!   `-2` canceled; every other state is on its way).
//!
//! Both are newest first, 100 a page at most, paged by `after` = a time in ms ("records earlier
//! than the requested ts"), 6 requests a second per user id.
//!
//! # Decision: details, never events
//!
//! Every deposit and withdrawal here is also a funding account bill (type `1` deposit, `2`
//! withdrawal, and `221` the withdrawal's network fee), which makes its event. So a record here
//! is a [details record](crate::NewEvent::details) that the ledger attaches to the account's
//! deposit or withdrawal of the same currency and amount closest in time (three days at most):
//! the event gains the tx hash, the address and the network (`chain`); nothing is counted twice.
//! A withdrawal's `amt` leaves its fee out (OKX's "Withdrawal" page: "Withdrawal fee is not
//! included in withdrawal amount"), as the type `2` bill does, whose fee is its own type `221`
//! bill (a `fee` event); the record's `fee` stays in the raw archive. That the `2` bill moves
//! `amt` exactly was not checked against a real account: if it did not, the details would wait
//! unattached (reported by `sync` as `details_waiting`), and nothing would be counted twice.
//!
//! Only final records are stored: a successful deposit (`1`, `2`) or withdrawal (`2`). One still
//! on its way (or in a state cointally does not know) is passed over as pending and asked again
//! by its id at each sync until it is final; a refused deposit or a failed or canceled
//! withdrawal moved nothing for good (OKX gives a canceled withdrawal its own reversing bill)
//! and is not stored.
//!
//! Records are keyed `dep-` + `depId` and `wd-` + `wdId`.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::adapter::RawRecord;
use crate::amount::parse_amount;
use crate::asset::asset_symbol;
use crate::{EventKind, Leg, NewEvent};

/// The stream (and endpoint name) of the deposit history.
pub const DEPOSIT_HISTORY: &str = "deposit-history";

/// The stream (and endpoint name) of the withdrawal history.
pub const WITHDRAWAL_HISTORY: &str = "withdrawal-history";

/// Which history a record is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `deposit-history`.
    Deposit,
    /// `withdrawal-history`.
    Withdrawal,
}

impl Direction {
    /// The history of `stream`, if it is one.
    pub fn of_stream(stream: &str) -> Option<Direction> {
        match stream {
            DEPOSIT_HISTORY => Some(Direction::Deposit),
            WITHDRAWAL_HISTORY => Some(Direction::Withdrawal),
            _ => None,
        }
    }

    /// The field holding a record's id (`depId`, `wdId`): also the parameter asking for one.
    pub fn id_field(self) -> &'static str {
        match self {
            Direction::Deposit => "depId",
            Direction::Withdrawal => "wdId",
        }
    }

    /// The prefix of a record's key.
    pub fn key_prefix(self) -> &'static str {
        match self {
            Direction::Deposit => "dep-",
            Direction::Withdrawal => "wd-",
        }
    }

    /// The kind of event its records detail.
    pub fn kind(self) -> EventKind {
        match self {
            Direction::Deposit => EventKind::Deposit,
            Direction::Withdrawal => EventKind::Withdrawal,
        }
    }
}

/// Where a record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// It moved the money for good: stored.
    Done,
    /// It moved nothing for good (refused, failed, canceled): not stored.
    Void,
    /// On its way, or a state cointally does not know: asked again later.
    Pending,
}

/// The status of a record of `direction` in OKX's `state`.
pub fn status(direction: Direction, state: &str) -> Status {
    match (direction, state.trim()) {
        (Direction::Deposit, "1" | "2") | (Direction::Withdrawal, "2") => Status::Done,
        (Direction::Deposit, "11" | "12" | "13" | "14") | (Direction::Withdrawal, "-1" | "-2") => Status::Void,
        _ => Status::Pending,
    }
}

/// One record as OKX sends it (every field text).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Movement {
    /// The deposit's id.
    pub dep_id: String,
    /// The withdrawal's id.
    pub wd_id: String,
    /// The currency.
    pub ccy: String,
    /// The chain (`USDT-TRC20`).
    pub chain: String,
    /// The amount (a withdrawal's without its fee).
    pub amt: String,
    /// The deposit address or the receiving address.
    pub to: String,
    /// The on-chain transaction hash (`""` for internal transfers).
    pub tx_id: String,
    /// When, ms.
    pub ts: String,
    /// The state.
    pub state: String,
}

impl Movement {
    /// Reads one record's JSON.
    pub fn read(payload: &str) -> Result<Movement, String> {
        serde_json::from_str(payload).map_err(|e| format!("a deposit or withdrawal record is an object: {e}"))
    }

    /// The record's id of `direction`.
    pub fn id(&self, direction: Direction) -> &str {
        match direction {
            Direction::Deposit => self.dep_id.trim(),
            Direction::Withdrawal => self.wd_id.trim(),
        }
    }

    /// A few words naming it (`withdrawal of 0.2 BTC, state 1`).
    pub fn describe(&self, direction: Direction) -> String {
        let what = match direction {
            Direction::Deposit => "deposit",
            Direction::Withdrawal => "withdrawal",
        };
        format!("{what} of {} {}, state {}", self.amt.trim(), self.ccy.trim(), self.state.trim())
    }
}

/// The key of a record of `direction` with OKX id `id`.
pub fn record_key(direction: Direction, id: &str) -> String {
    format!("{}{id}", direction.key_prefix())
}

/// The details record of one stored record of `direction`.
pub fn details_event(direction: Direction, record: &RawRecord) -> Result<NewEvent, String> {
    let m = Movement::read(&record.payload)?;
    if m.id(direction).is_empty() {
        return Err(format!("the record has no {}", direction.id_field()));
    }
    let time_ms: i64 = m.ts.trim().parse().map_err(|_| format!("ts {:?} is not a time in ms", m.ts))?;
    let time: DateTime<Utc> = crate::time::from_millis(time_ms);
    let asset = asset_symbol(&m.ccy).map_err(|e| format!("ccy: {e}"))?;
    let amount = parse_amount(&m.amt).map_err(|e| format!("amt: {e}"))?.abs();
    if amount.is_zero() {
        return Err("amt is zero".to_owned());
    }
    let leg = match direction {
        Direction::Deposit => Leg::received(asset, amount),
        Direction::Withdrawal => Leg::sent(asset, amount),
    };
    let text = |value: &str| Some(value.trim().to_owned()).filter(|value| !value.is_empty());
    Ok(NewEvent {
        tx_hash: text(&m.tx_id),
        address: text(&m.to),
        network: text(&m.chain),
        ..NewEvent::details(&record.external_id, time, direction.kind(), leg)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(stream: &str, name: &str) -> RawRecord {
        let path = format!("{}/../fixtures/okx/{stream}/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let payload = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        RawRecord { external_id: format!("{stream}:{name}"), payload: payload.trim().to_owned() }
    }

    fn state(stream: &str, name: &str) -> Status {
        let direction = Direction::of_stream(stream).unwrap();
        status(direction, &Movement::read(&record(stream, name).payload).unwrap().state)
    }

    #[test]
    fn an_onchain_deposit_is_a_details_record_with_hash_address_and_chain() {
        let event = details_event(Direction::Deposit, &record(DEPOSIT_HISTORY, "deposit_onchain")).unwrap();
        assert!(event.is_details());
        assert_eq!(event.kind, EventKind::Deposit);
        assert_eq!(crate::time::to_millis(event.time), 1_699_899_400_000);
        assert_eq!(event.legs, vec![Leg::received("ETH", "2.5".parse().unwrap())]);
        assert_eq!(
            event.tx_hash.as_deref(),
            Some("0x8f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b")
        );
        assert_eq!(event.address.as_deref(), Some("0x30a1e7b39b5e4a2b8d6a9fbd4c3e2f1a0b9c8d7e"));
        assert_eq!(event.network.as_deref(), Some("ETH-ERC20"));
    }

    #[test]
    fn a_withdrawal_details_its_amount_without_the_fee() {
        let event = details_event(Direction::Withdrawal, &record(WITHDRAWAL_HISTORY, "withdrawal_onchain")).unwrap();
        assert_eq!(event.kind, EventKind::Withdrawal);
        // The funding bill of this withdrawal (fixtures/okx/asset-bills/withdrawal.json) moves
        // -0.2 BTC; its 0.0001 BTC fee is a bill of its own (withdrawal_fee.json).
        assert_eq!(event.legs, vec![Leg::sent("BTC", "0.2".parse().unwrap())]);
        assert_eq!(event.tx_hash.as_deref(), Some("a1075db55d416d3ca199f55b6084e2115b9345e16c5cf302fc80e9d5fbf5d48d"));
        assert_eq!(event.network.as_deref(), Some("BTC-Bitcoin"));
    }

    #[test]
    fn an_internal_transfer_has_no_hash_and_no_address() {
        let event = details_event(Direction::Deposit, &record(DEPOSIT_HISTORY, "deposit_internal")).unwrap();
        assert_eq!(event.tx_hash, None);
        assert_eq!(event.address, None);
        assert_eq!(event.legs, vec![Leg::received("USDT", "100".parse().unwrap())]);
    }

    #[test]
    fn each_state_is_done_void_or_pending_and_an_unknown_one_is_pending() {
        assert_eq!(state(DEPOSIT_HISTORY, "deposit_onchain"), Status::Done);
        assert_eq!(state(DEPOSIT_HISTORY, "deposit_pending"), Status::Pending);
        assert_eq!(state(DEPOSIT_HISTORY, "deposit_unknown_state"), Status::Pending);
        assert_eq!(state(WITHDRAWAL_HISTORY, "withdrawal_onchain"), Status::Done);
        assert_eq!(state(WITHDRAWAL_HISTORY, "withdrawal_failed"), Status::Void);
        assert_eq!(state(WITHDRAWAL_HISTORY, "withdrawal_broadcasting"), Status::Pending);
        assert_eq!(status(Direction::Deposit, "1"), Status::Done, "credited: the bill is there");
        assert_eq!(status(Direction::Withdrawal, "-2"), Status::Void);
        assert_eq!(status(Direction::Withdrawal, "7"), Status::Pending);
    }

    #[test]
    fn unreadable_records_say_what_is_wrong() {
        for (payload, words) in [
            (r#"{"depId":"","ccy":"BTC","amt":"1","ts":"1"}"#, "no depId"),
            (r#"{"depId":"1","ccy":"BTC","amt":"x","ts":"1"}"#, "amt"),
            (r#"{"depId":"1","ccy":"BTC","amt":"0","ts":"1"}"#, "zero"),
            (r#"{"depId":"1","ccy":"BTC","amt":"1","ts":"soon"}"#, "ts"),
            (r#"{"depId":"1","ccy":"","amt":"1","ts":"1"}"#, "ccy"),
            ("[1]", "an object"),
        ] {
            let record = RawRecord { external_id: "dep-1".into(), payload: payload.into() };
            let error = details_event(Direction::Deposit, &record).unwrap_err();
            assert!(error.contains(words), "{payload}: {error}");
        }
    }
}
