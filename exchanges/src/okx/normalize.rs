//! Stored OKX bills → events. Pure: no network, no key.
//!
//! Two streams, each a list of bills (every change of a balance), one event per bill:
//!
//! - `bills`: the trading account's bills (`GET /api/v5/account/bills-archive`,
//!   <https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-bills-details-last-3-months>):
//!   `billId`, `ts`, `ccy`, `balChg` (the change of the balance), `fee` (negative: charged,
//!   positive: a rebate), `type` and `subType`, `instId` and `px` for trades. The event is keyed
//!   by the `billId`.
//! - `asset-bills`: the funding account's bills (`GET /api/v5/asset/bills`,
//!   <https://www.okx.com/docs-v5/en/#funding-account-rest-api-asset-bills-details>): `billId`,
//!   `ts`, `ccy`, `balChg`, `type`, `notes`. The event is keyed `fund-` + `billId` (the two
//!   accounts' bill ids are separate series).
//!
//! # What each bill type becomes
//!
//! | account | `type` | event |
//! |---|---|---|
//! | trading | `2` trade, `14` block trade, `27` convert, `28` easy convert, `30` simple trade | `trade`: this bill's side, its `fee` as a fee leg |
//! | trading | `1` transfer | `internal_transfer` (funding ↔ trading) |
//! | trading | `7` interest deduction, `8` funding fee paid | `fee` (a funding fee received: `income`) |
//! | trading | `11` system token conversion | `conversion` |
//! | trading | `381` auto earn | `interest` |
//! | funding | `1` deposit / `2` withdrawal | `deposit` / `withdrawal` (`fiat_…` for fiat) |
//! | funding | `75`, `76` (Simple Earn Flexible subscription, redemption) | `internal_transfer` with both legs: funding account ↔ the Simple Earn position ([`super::savings`]) |
//! | funding | `130`, `131` (trading account), `20`–`23` (sub-accounts), other Earn and staking subscriptions and redemptions (`80`, `82`, `137`, `138`, `160`, `161`, `339`–`342`, `348`, `349`) | `internal_transfer` (the funding account's leg: those positions are in no balance cointally reads) |
//! | funding | `83`, `139`, `328`, `350` | `staking` |
//! | funding | `89`, `162`, `232`, `343`, `344`, `400`, `408` | `interest` |
//! | funding | `28`, `229` | `airdrop` |
//! | funding | `48`, `189`, `333`, `354` | `income` |
//! | funding | `68`, `150`–`152`, `172`, `173`, `299`, `300` | `rebate` |
//! | funding | `272`, `273` (Convert) | `trade` |
//! | funding | `221` (withdrawal fee) | `fee`; `222` (its refund), `13`, `47` | `adjustment` |
//! | funding | `311` (dust auto-transfer in) | `conversion` |
//!
//! The `deposit-history` and `withdrawal-history` streams give no events: their records are
//! details (tx hash, address, chain) of the funding bills' deposits and withdrawals
//! ([`super::history`]). The `lending-history` stream gives Simple Earn Flexible's earnings,
//! each an `interest` event ([`super::savings`]).
//!
//! Any other type keeps its leg as kind `unknown` (never fatal), its type in the note.
//! The mapping of types to kinds is cointally's reading of OKX's type list; it was not
//! checked against a real account.
//!
//! # Decision: convert, Earn, staking and fills come through the bills only
//!
//! OKX's other histories repeat what the bills already move, so none is walked (each would
//! double what it repeats): a convert is two bills (funding `272`/`273`, trading `27` with
//! subtypes `318`/`319`) that `asset/convert/history`
//! (<https://www.okx.com/docs-v5/en/#funding-account-rest-api-get-convert-history>) lists again
//! as one trade with its price; On-chain Earn and ETH/BTC staking subscriptions, redemptions and
//! rewards are funding bills (`80`, `82`, `83`, `137`–`139`, `348`–`350`) that
//! `finance/staking-defi/orders-history` and `…/eth/purchase-redeem-history`
//! (<https://www.okx.com/docs-v5/en/#financial-product-on-chain-earn-get-order-history>,
//! <https://www.okx.com/docs-v5/en/#financial-product-eth-staking-get-purchase-amp-redeem-history>)
//! list again as orders; a spot fill (`trade/fills-history`) is the two type `2` bills, which
//! carry its `ordId`, `tradeId`, `px` and `fee`. Simple Earn Flexible is the exception: its
//! earnings have no bill (they stay in the position), so its lending history is walked
//! ([`super::savings`]).
//!
//! # Decision: one bill, one event
//!
//! The two sides of a trade are two bills (one per currency) tied by `ordId`/`tradeId`. Each
//! stays its own event, as Bitfinex's ledger entries do, so no bill can be lost or doubled at
//! a page's edge and re-normalising needs nothing but the bill: a `trade` with this currency's
//! leg, split into the gross amount and the fee (`balChg` = gross + fee).

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::savings::{self, LENDING_HISTORY};
use crate::adapter::{NormalizeError, RawRecord, Stream};
use crate::amount::parse_amount;
use crate::asset::{asset_symbol, is_fiat};
use crate::event::FiatValue;
use crate::{EventKind, Leg, NewEvent};

/// The stream of the trading account's bills.
pub const BILLS: &str = "bills";

/// The stream of the funding account's bills.
pub const ASSET_BILLS: &str = "asset-bills";

/// The prefix of a funding bill's event id.
pub const FUNDING_PREFIX: &str = "fund-";

/// Which account a bill belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Account {
    /// The trading account (`bills`).
    Trading,
    /// The funding account (`asset-bills`).
    Funding,
}

/// One bill, as OKX sends it (every field text, borrowed from the stored record where it can
/// be: the normaliser reads tens of thousands of bills a second).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Bill<'a> {
    /// OKX's id.
    #[serde(borrow)]
    pub bill_id: Cow<'a, str>,
    /// When, ms.
    #[serde(borrow)]
    pub ts: Cow<'a, str>,
    /// The currency.
    #[serde(borrow)]
    pub ccy: Cow<'a, str>,
    /// The change of the balance.
    #[serde(borrow)]
    pub bal_chg: Cow<'a, str>,
    /// The bill type.
    #[serde(borrow, rename = "type")]
    pub kind: Cow<'a, str>,
    /// The bill subtype (trading account).
    #[serde(borrow)]
    pub sub_type: Cow<'a, str>,
    /// The fee (trading account): negative when charged.
    #[serde(borrow)]
    pub fee: Cow<'a, str>,
    /// The instrument (`BTC-USDT`).
    #[serde(borrow)]
    pub inst_id: Cow<'a, str>,
    /// The fill price.
    #[serde(borrow)]
    pub px: Cow<'a, str>,
    /// Notes.
    #[serde(borrow)]
    pub notes: Cow<'a, str>,
}

/// Turns one stored record of `stream` into its event.
pub fn normalize(stream: &Stream, record: &RawRecord) -> Result<Vec<NewEvent>, NormalizeError> {
    let error = |reason: String| NormalizeError {
        endpoint: stream.endpoint.clone(),
        external_id: record.external_id.clone(),
        reason,
    };
    if let Some(direction) = super::history::Direction::of_stream(&stream.endpoint) {
        return super::history::details_event(direction, record).map(|event| vec![event]).map_err(error);
    }
    if stream.endpoint == LENDING_HISTORY {
        return savings::earning_event(record).map(|event| event.into_iter().collect()).map_err(error);
    }
    let account = match stream.endpoint.as_str() {
        BILLS => Account::Trading,
        ASSET_BILLS => Account::Funding,
        other => return Err(error(format!("unknown OKX endpoint {other:?}"))),
    };
    let bill: Bill = serde_json::from_str(&record.payload).map_err(|e| error(format!("a bill is an object: {e}")))?;
    Ok(vec![event_of(account, &bill).map_err(error)?])
}

/// The event id of a bill of `account`.
pub fn event_id(account: Account, bill_id: &str) -> String {
    match account {
        Account::Trading => bill_id.to_owned(),
        Account::Funding => format!("{FUNDING_PREFIX}{bill_id}"),
    }
}

/// The kind a bill type of `account` becomes (`None`: unknown), given the sign of its change.
pub fn kind_of(account: Account, kind: &str, negative: bool) -> Option<EventKind> {
    use EventKind as K;
    Some(match (account, kind) {
        (Account::Trading, "2" | "14" | "27" | "28" | "30") => K::Trade,
        (Account::Trading, "1") => K::InternalTransfer,
        (Account::Trading, "7") => K::Fee,
        (Account::Trading, "8") if negative => K::Fee,
        (Account::Trading, "8") => K::Income,
        (Account::Trading, "11") => K::Conversion,
        (Account::Trading, "381") => K::Interest,
        (Account::Funding, "1") => K::Deposit,
        (Account::Funding, "2") => K::Withdrawal,
        (
            Account::Funding,
            "20" | "21" | "22" | "23" | "75" | "76" | "80" | "82" | "130" | "131" | "137" | "138" | "160" | "161"
            | "339" | "340" | "341" | "342" | "348" | "349",
        ) => K::InternalTransfer,
        (Account::Funding, "83" | "139" | "328" | "350") => K::Staking,
        (Account::Funding, "89" | "162" | "232" | "343" | "344" | "400" | "408") => K::Interest,
        (Account::Funding, "28" | "229") => K::Airdrop,
        (Account::Funding, "48" | "189" | "333" | "354") => K::Income,
        (Account::Funding, "68" | "150" | "151" | "152" | "172" | "173" | "299" | "300") => K::Rebate,
        (Account::Funding, "272" | "273") => K::Trade,
        (Account::Funding, "221") => K::Fee,
        (Account::Funding, "13" | "47" | "222") => K::Adjustment,
        (Account::Funding, "311") => K::Conversion,
        _ => return None,
    })
}

/// The event of one bill (the statement reader builds the same [`Bill`]s).
pub fn event_of(account: Account, bill: &Bill) -> Result<NewEvent, String> {
    if bill.bill_id.trim().is_empty() {
        return Err("the bill has no billId".to_owned());
    }
    let time_ms: i64 = bill.ts.trim().parse().map_err(|_| format!("ts {:?} is not a time in ms", bill.ts))?;
    let time: DateTime<Utc> = crate::time::from_millis(time_ms);
    let asset = asset_symbol(&bill.ccy).map_err(|e| format!("ccy: {e}"))?;
    let change = parse_amount(&bill.bal_chg).map_err(|e| format!("balChg: {e}"))?;
    let fee = match bill.fee.trim() {
        "" => Decimal::ZERO,
        text => parse_amount(text).map_err(|e| format!("fee: {e}"))?,
    };
    let signed = |amount: Decimal| {
        if amount.is_sign_negative() { Leg::sent(asset.clone(), amount) } else { Leg::received(asset.clone(), amount) }
    };
    let kind = kind_of(account, bill.kind.trim(), change.is_sign_negative());
    let fiat = is_fiat(&asset);
    let mut fiat_value = None;
    let legs = match kind {
        Some(EventKind::Trade) if fee.is_sign_negative() && !fee.is_zero() => {
            // balChg = gross + fee: the gross side, and the fee it paid.
            let gross = change.checked_sub(fee).ok_or("balChg − fee overflows")?.normalize();
            fiat_value = fiat_value_of(bill, &asset, gross);
            vec![signed(gross), Leg::fee(asset.clone(), fee)]
        }
        Some(EventKind::Trade) => {
            fiat_value = fiat_value_of(bill, &asset, change);
            vec![signed(change)]
        }
        Some(EventKind::Fee) if change.is_sign_negative() => vec![Leg::fee(asset.clone(), change)],
        // Simple Earn Flexible: the funding account's side and the position's, which net to zero.
        Some(EventKind::InternalTransfer)
            if account == Account::Funding
                && matches!(bill.kind.trim(), savings::SUBSCRIPTION | savings::REDEMPTION) =>
        {
            vec![Leg::sent(asset.clone(), change), Leg::received(asset.clone(), change)]
        }
        _ => vec![signed(change)],
    };
    let kind = match kind {
        Some(EventKind::Deposit) if fiat => EventKind::FiatDeposit,
        Some(EventKind::Withdrawal) if fiat => EventKind::FiatWithdrawal,
        Some(EventKind::Fee) if !change.is_sign_negative() => EventKind::Rebate,
        Some(kind) => kind,
        None => EventKind::Unknown,
    };
    let what = match account {
        Account::Trading => "trading account bill",
        Account::Funding => "funding account bill",
    };
    let mut note = String::with_capacity(64);
    note.push_str("OKX ");
    note.push_str(what);
    note.push_str(" type ");
    note.push_str(bill.kind.trim());
    for (before, text) in [(" subType ", &bill.sub_type), (" ", &bill.inst_id), (": ", &bill.notes)] {
        if !text.trim().is_empty() {
            note.push_str(before);
            note.push_str(text.trim());
        }
    }
    if account == Account::Funding {
        match bill.kind.trim() {
            savings::SUBSCRIPTION => {
                note.push_str(" (Simple Earn Flexible subscription: funding account → Simple Earn)")
            }
            savings::REDEMPTION => note.push_str(" (Simple Earn Flexible redemption: Simple Earn → funding account)"),
            _ => {}
        }
    }
    Ok(NewEvent {
        note: Some(note),
        fiat_value,
        ..NewEvent::new(event_id(account, bill.bill_id.trim()), time, kind, legs)
    })
}

/// A trade side's value in fiat when the instrument is quoted in fiat: the base side at the
/// fill price, the quote side its own amount.
fn fiat_value_of(bill: &Bill, asset: &str, gross: Decimal) -> Option<FiatValue> {
    let (base, quote) = bill.inst_id.trim().split_once('-')?;
    let quote = asset_symbol(quote).ok()?;
    if !is_fiat(&quote) {
        return None;
    }
    let amount = if asset_symbol(base).ok()? == asset {
        gross.abs().checked_mul(parse_amount(&bill.px).ok()?)?
    } else if asset == quote {
        gross.abs()
    } else {
        return None;
    };
    Some(FiatValue { amount: amount.normalize(), currency: quote })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LegRole;

    fn event(stream: &str, name: &str) -> NewEvent {
        let path = format!("{}/../fixtures/okx/{stream}/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let payload = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let record = RawRecord { external_id: "x".into(), payload: payload.trim().to_owned() };
        let mut events = normalize(&Stream::new(stream, ""), &record).unwrap();
        assert_eq!(events.len(), 1);
        events.remove(0)
    }

    fn legs(event: &NewEvent) -> Vec<(String, String, LegRole)> {
        event.legs.iter().map(|leg| (leg.asset.clone(), leg.amount.to_string(), leg.role)).collect()
    }

    #[test]
    fn each_fixture_becomes_its_kind_with_its_exact_legs() {
        use EventKind as K;
        use LegRole::{Fee, Received, Sent};
        let leg = |asset: &str, amount: &str, role| (asset.to_owned(), amount.to_owned(), role);
        let cases = [
            (BILLS, "trade_buy_base", K::Trade, vec![leg("BTC", "0.01", Received), leg("BTC", "-0.00001", Fee)]),
            (BILLS, "trade_buy_quote", K::Trade, vec![leg("USDT", "-650.5", Sent)]),
            (BILLS, "transfer_in", K::InternalTransfer, vec![leg("USDT", "1000", Received)]),
            (BILLS, "interest_deduction", K::Fee, vec![leg("USDT", "-0.0123", Fee)]),
            (ASSET_BILLS, "deposit_crypto", K::Deposit, vec![leg("ETH", "2.5", Received)]),
            (ASSET_BILLS, "deposit_fiat", K::FiatDeposit, vec![leg("EUR", "5000", Received)]),
            (ASSET_BILLS, "withdrawal", K::Withdrawal, vec![leg("BTC", "-0.2", Sent)]),
            (ASSET_BILLS, "withdrawal_fee", K::Fee, vec![leg("BTC", "-0.0001", Fee)]),
            (ASSET_BILLS, "to_trading", K::InternalTransfer, vec![leg("USDT", "-1000", Sent)]),
            (
                ASSET_BILLS,
                "earn_subscription",
                K::InternalTransfer,
                vec![leg("USDT", "-200", Sent), leg("USDT", "200", Received)],
            ),
            (
                ASSET_BILLS,
                "earn_redemption",
                K::InternalTransfer,
                vec![leg("USDT", "-200.4512", Sent), leg("USDT", "200.4512", Received)],
            ),
            (LENDING_HISTORY, "earning", K::Interest, vec![leg("USDT", "0.0022831", Received)]),
            (ASSET_BILLS, "staking_yield", K::Staking, vec![leg("ETH", "0.00042", Received)]),
            (ASSET_BILLS, "earn_interest", K::Interest, vec![leg("USDT", "0.31", Received)]),
            (ASSET_BILLS, "convert_buy", K::Trade, vec![leg("SOL", "3.2", Received)]),
            (ASSET_BILLS, "airdrop", K::Airdrop, vec![leg("OKB", "0.5", Received)]),
            (ASSET_BILLS, "referral_reward", K::Rebate, vec![leg("USDT", "2", Received)]),
        ];
        for (stream, name, kind, expected) in cases {
            let event = event(stream, name);
            assert_eq!(event.kind, kind, "{name}");
            assert_eq!(legs(&event), expected, "{name}");
        }
    }

    #[test]
    fn a_trade_side_carries_its_id_time_gross_and_the_fiat_value_of_a_fiat_quoted_instrument() {
        let buy = event(BILLS, "trade_buy_base");
        assert_eq!(buy.external_id, "623950854533513219");
        assert_eq!(buy.time.timestamp_millis(), 1_700_000_000_123);
        assert!(buy.fiat_value.is_none(), "BTC-USDT is not quoted in fiat");
        let sell = event(BILLS, "trade_sell_eur");
        assert_eq!(sell.kind, EventKind::Trade);
        assert_eq!(
            sell.fiat_value,
            Some(FiatValue { amount: "1500".parse().unwrap(), currency: "EUR".into() }),
            "0.05 ETH at 30000 EUR"
        );
        assert_eq!(legs(&sell), vec![("ETH".to_owned(), "-0.05".to_owned(), LegRole::Sent)]);
        // A funding bill's id is prefixed: the two accounts' ids are separate series.
        assert_eq!(event(ASSET_BILLS, "deposit_crypto").external_id, "fund-100000001");
    }

    #[test]
    fn an_unknown_type_is_kept_as_unknown_with_its_leg_and_bad_bills_are_errors() {
        let event = event(ASSET_BILLS, "unknown_type");
        assert_eq!(event.kind, EventKind::Unknown);
        assert_eq!(legs(&event), vec![("USDT".to_owned(), "7.5".to_owned(), LegRole::Received)]);
        assert!(event.note.as_deref().unwrap_or_default().contains("type 9999"), "{:?}", event.note);
        let stream = Stream::new(BILLS, "");
        for payload in [
            r#"{"billId":"1","ts":"x","ccy":"BTC","balChg":"1","type":"2"}"#,
            r#"{"billId":"1","ts":"1","ccy":"BTC","balChg":"abc","type":"2"}"#,
            r#"{"billId":"","ts":"1","ccy":"BTC","balChg":"1","type":"2"}"#,
            r#"[1,2]"#,
        ] {
            let record = RawRecord { external_id: "1".into(), payload: payload.into() };
            assert!(normalize(&stream, &record).is_err(), "{payload}");
        }
        let record = RawRecord { external_id: "1".into(), payload: "{}".into() };
        assert!(normalize(&Stream::new("fills", ""), &record).is_err());
    }
}
