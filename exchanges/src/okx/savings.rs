//! OKX Simple Earn Flexible ("savings"): its earnings as `interest` events, its subscriptions
//! and redemptions as transfers into and out of the position. Pure: no network.
//!
//! What OKX documents (<https://www.okx.com/docs-v5/en/#financial-product-simple-earn-flexible>,
//! read 2026-12-05; not checked against a real account):
//!
//! - `GET /api/v5/finance/savings/lending-history`
//!   (<https://www.okx.com/docs-v5/en/#financial-product-simple-earn-flexible-get-lending-history>):
//!   "Return data in the past month"; fields `ccy`, `amt` ("Lending amount"), `earnings`
//!   ("Currency earnings"), `rate` ("Lending annual interest rate"), `ts` ("Lending time", ms);
//!   newest first, `after`/`before` a time in ms ("records earlier / newer than the requested
//!   `ts`"), `limit` up to 100 (default 100), 6 requests a second per user id, Read permission.
//!   A record has **no id**; the documentation's example shows two records (BTC, ETH) at the same
//!   `ts`.
//! - `GET /api/v5/finance/savings/balance`
//!   (<https://www.okx.com/docs-v5/en/#financial-product-simple-earn-flexible-get-saving-balance>):
//!   per currency `amt` ("Currency amount"), `earnings` ("Currency earnings"), `loanAmt`
//!   ("Lending amount"), `pendingAmt` ("Pending amount"), `rate`; the example's `amt`
//!   (11.00107…) is its `loanAmt` + `pendingAmt` and holds its `earnings` (0.00107…): what is
//!   earned stays in the position.
//! - The funding account's bills (<https://www.okx.com/docs-v5/en/#funding-account-rest-api-asset-bills-details>):
//!   `75` "[Simple earn flexible] Subscription", `76` "[Simple earn flexible] Redemption"; the
//!   list has no type for Simple Earn Flexible's earnings (Simple Earn *Fixed* has `343`
//!   "Interest"). The purchase/redemption call (`POST …/savings/purchase-redempt`) takes any
//!   `amt` up to the position, earnings included.
//!
//! # Decision: earnings are interest when earned; 75/76 move money within the account
//!
//! Each lending-history record is an `interest` event of its `earnings` at its `ts` (income at
//! its value then). The subscription bill (`75`, `balChg` −X) and the redemption bill (`76`,
//! +Y) are `internal_transfer`s with both legs, as Bybit's Earn orders are: X out of the funding
//! account and X into the Simple Earn position, and back, so they add nothing to the account. A
//! redemption's Y may hold earnings (the position grows with them): they were counted, once, by
//! their own interest events, never by the redemption. The account's balances are the trading
//! account's, the funding account's and the Simple Earn position's `amt` added up
//! ([`super::adapter`]), so the ledger's sums meet them exactly when every earning was walked.
//!
//! OKX's documentation does not say what a `76` bill's `balChg` is beyond "Change in balance";
//! whatever it is, the redemption's legs net to zero, so no choice of it can double or lose an
//! earning. Earnings older than the lending history's month cannot be had from the API: the
//! first walk warns, and the position's balance then exceeds the ledger's by them (`sync`
//! reports the difference).
//!
//! # Keys
//!
//! A record has no id: it is keyed `lend-` + `ccy` + `-` + `ts` (one record per currency per
//! hour). Should OKX ever send two of one currency at one millisecond, the second is keyed with
//! `-2` after it (and so on), in the order OKX sends them: a walk never splits a millisecond
//! across pages, so the keys are the same at every sync.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::adapter::RawRecord;
use crate::amount::parse_amount;
use crate::asset::asset_symbol;
use crate::{EventKind, Leg, NewEvent};

/// The stream (and endpoint name) of Simple Earn Flexible's lending history.
pub const LENDING_HISTORY: &str = "lending-history";

/// The prefix of a lending-history record's key.
pub const KEY_PREFIX: &str = "lend-";

/// The funding bill type of a Simple Earn Flexible subscription.
pub const SUBSCRIPTION: &str = "75";

/// The funding bill type of a Simple Earn Flexible redemption.
pub const REDEMPTION: &str = "76";

/// One lending-history record as OKX sends it (every field text).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Earning {
    /// The currency.
    pub ccy: String,
    /// The amount lent.
    pub amt: String,
    /// What it earned.
    pub earnings: String,
    /// The annual rate.
    pub rate: String,
    /// When, ms.
    pub ts: String,
}

impl Earning {
    /// Reads one record's JSON.
    pub fn read(payload: &str) -> Result<Earning, String> {
        serde_json::from_str(payload).map_err(|e| format!("a lending-history record is an object of texts: {e}"))
    }
}

/// The key of the `nth` (1: the first) record of `ccy` at `ts` in a page.
pub fn record_key(ccy: &str, ts: i64, nth: usize) -> String {
    let ccy = ccy.trim().to_ascii_uppercase();
    if nth <= 1 { format!("{KEY_PREFIX}{ccy}-{ts}") } else { format!("{KEY_PREFIX}{ccy}-{ts}-{nth}") }
}

/// A number that orders a record's currency within its millisecond (its first 16 bytes, big
/// endian), so a walk's floor compares records of one millisecond the same way every time.
pub fn currency_rank(ccy: &str) -> u128 {
    let mut bytes = [0u8; 16];
    for (slot, byte) in bytes.iter_mut().zip(ccy.trim().to_ascii_uppercase().bytes()) {
        *slot = byte;
    }
    u128::from_be_bytes(bytes)
}

/// The `interest` event of one stored lending-history record (its event id is the record's
/// key); none for an hour that earned nothing.
pub fn earning_event(record: &RawRecord) -> Result<Option<NewEvent>, String> {
    let e = Earning::read(&record.payload)?;
    let time_ms: i64 = e.ts.trim().parse().map_err(|_| format!("ts {:?} is not a time in ms", e.ts))?;
    let time: DateTime<Utc> = crate::time::from_millis(time_ms);
    let asset = asset_symbol(&e.ccy).map_err(|e| format!("ccy: {e}"))?;
    let earnings = parse_amount(&e.earnings).map_err(|e| format!("earnings: {e}"))?;
    if earnings.is_zero() {
        return Ok(None);
    }
    let leg = if earnings.is_sign_negative() {
        Leg::sent(asset.clone(), earnings)
    } else {
        Leg::received(asset.clone(), earnings)
    };
    // An earning below zero is not a thing OKX describes: keep its leg, let the user say.
    let kind = if earnings.is_sign_negative() { EventKind::Unknown } else { EventKind::Interest };
    let mut note = format!("OKX Simple Earn Flexible earnings on {} {asset}", e.amt.trim());
    if !e.rate.trim().is_empty() {
        note.push_str(&format!(" at an annual rate of {}", e.rate.trim()));
    }
    Ok(Some(NewEvent { note: Some(note), ..NewEvent::new(record.external_id.clone(), time, kind, vec![leg]) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str) -> RawRecord {
        let path = format!("{}/../fixtures/okx/{LENDING_HISTORY}/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let payload = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let e = Earning::read(&payload).unwrap();
        RawRecord { external_id: record_key(&e.ccy, e.ts.parse().unwrap(), 1), payload: payload.trim().to_owned() }
    }

    #[test]
    fn an_hourly_earning_is_interest_of_its_earnings_keyed_by_currency_and_time() {
        let event = earning_event(&record("earning")).unwrap().unwrap();
        assert_eq!(event.kind, EventKind::Interest);
        assert_eq!(event.external_id, "lend-USDT-1733356800000");
        assert_eq!(crate::time::to_millis(event.time), 1_733_356_800_000);
        assert_eq!(event.legs, vec![Leg::received("USDT", "0.0022831".parse().unwrap())]);
        let note = event.note.clone().unwrap();
        assert!(note.contains("500.12") && note.contains("0.04"), "{note}");
        assert!(!event.is_details());
        assert_eq!(earning_event(&record("earning_zero")).unwrap(), None, "an hour that earned nothing");
    }

    #[test]
    fn keys_differ_by_currency_time_and_rank_and_ranks_order_currencies() {
        assert_eq!(record_key("usdt", 5, 1), "lend-USDT-5");
        assert_eq!(record_key("USDT", 5, 2), "lend-USDT-5-2");
        assert_ne!(record_key("BTC", 5, 1), record_key("ETH", 5, 1));
        assert!(currency_rank("BTC") < currency_rank("ETH"));
        assert!(currency_rank("USDC") < currency_rank("USDT"));
        assert_eq!(currency_rank("btc"), currency_rank("BTC"));
    }

    #[test]
    fn unreadable_records_say_what_is_wrong() {
        for (payload, words) in [
            (r#"{"ccy":"BTC","earnings":"x","ts":"1"}"#, "earnings"),
            (r#"{"ccy":"BTC","earnings":"0.1","ts":"soon"}"#, "ts"),
            (r#"{"ccy":"","earnings":"0.1","ts":"1"}"#, "ccy"),
            ("[1]", "an object"),
        ] {
            let record = RawRecord { external_id: "lend-BTC-1".into(), payload: payload.into() };
            let error = earning_event(&record).unwrap_err();
            assert!(error.contains(words), "{payload}: {error}");
        }
        let negative = RawRecord {
            external_id: "lend-BTC-1".into(),
            payload: r#"{"ccy":"BTC","earnings":"-0.1","ts":"1"}"#.into(),
        };
        assert_eq!(earning_event(&negative).unwrap().unwrap().kind, EventKind::Unknown);
    }
}
