//! Binance.US's transaction history export (Account → Tax/Transaction History → export), one
//! row per balance change.
//!
//! # Layout
//!
//! `User_Id,Time,Category,Operation,Order_Id,Transaction_Id,Primary_Asset,
//! Realized_Amount_For_Primary_Asset,Realized_Amount_For_Primary_Asset_In_USD_Value,Base_Asset,
//! Realized_Amount_For_Base_Asset,…_In_USD_Value,Quote_Asset,Realized_Amount_For_Quote_Asset,
//! …_In_USD_Value,Fee_Asset,Realized_Amount_For_Fee_Asset,…_In_USD_Value,Payment_Method,
//! Withdrawal_Method,Additional_Note`; `Time` is UTC (`2021-12-31 00:07:03.819`). Binance.US
//! publishes no specification of this file: the layout is the one its exports carry, as seen in
//! users' files; the columns read here are detected by name, in any order.
//!
//! # Events
//!
//! - `Spot Trading`, `Buy`/`Sell`: a trade of `Base_Asset` against `Quote_Asset`: `Buy` receives
//!   the base and sends the quote, `Sell` the other way round; `Fee_Asset` is a fee leg. Its id
//!   is the API's (`trade:{BASE}{QUOTE}:{Transaction_Id}`, the `myTrades` id), so a file
//!   imported into an account that was also synced adds no trade twice.
//! - `Quick Buy`, `Quick Sell`, `Convert`: a trade that receives `Quote_Asset` and sends
//!   `Base_Asset`, keyed `binanceus:{Category}:{Transaction_Id}` (as earlier versions stored
//!   them). The API's OTC orders are keyed `otc:{orderId}`: no published document says the
//!   file's `Order_Id` or `Transaction_Id` is that `orderId` (a user's file quoted by an
//!   open-source reader shows a 32-character `Order_Id`, the API's `orderId` is a number), so
//!   an OTC order meets its row by content at sync (`src/sync/matching.rs`: same kind, same
//!   legs, times within two seconds), as deposits, withdrawals and distributions whose ids
//!   differ do.
//! - `Deposit` / `Withdrawal`: `Primary_Asset` received / sent (fiat ones as fiat deposits and
//!   withdrawals), a fee leg when `Fee_Asset` has an amount; keyed `deposit:{Transaction_Id}` /
//!   `withdrawal:{Transaction_Id}`.
//! - `Distribution`: `Staking Rewards` is staking (a negative amount there is a fee),
//!   `Referral Commission` a rebate, anything else an airdrop; keyed
//!   `binanceus:distribution:{Transaction_Id}`.
//! - Any other category: kind `unknown`, `Primary_Asset` moved as signed in the file, the
//!   category and operation in the note (never fatal; `cointally reclassify` fixes it).

use rust_decimal::Decimal;

use crate::asset::is_fiat;
use crate::event::{EventKind, Leg, NewEvent};
use crate::rows::{Header, ImportedEvent, Row, RowError, RowReader, SourceRow};

/// The columns that tell this layout apart.
const COLUMNS: [&str; 8] = [
    "Time",
    "Category",
    "Operation",
    "Transaction_Id",
    "Primary_Asset",
    "Realized_Amount_For_Primary_Asset",
    "Base_Asset",
    "Realized_Amount_For_Fee_Asset",
];

/// Whether a header is Binance.US's transaction history layout.
pub fn matches(header: &Header) -> bool {
    header.has_all(&COLUMNS)
}

/// Reads Binance.US transaction history rows, one event each.
#[derive(Default)]
pub struct Reader;

/// The fee leg of a row, if it has a non-zero fee.
fn fee_leg(row: &Row<'_>) -> Result<Option<Leg>, RowError> {
    let Some(amount) = row.optional_amount("Realized_Amount_For_Fee_Asset")? else { return Ok(None) };
    if amount.is_zero() {
        return Ok(None);
    }
    Ok(Some(Leg::fee(row.asset("Fee_Asset")?, amount.abs())))
}

/// A trade receiving `received` and sending `sent` (asset, column of its amount).
fn trade_legs(row: &Row<'_>, received: (&str, &str), sent: (&str, &str)) -> Result<Vec<Leg>, RowError> {
    let mut legs = vec![
        Leg::sent(row.asset(sent.0)?, row.amount(sent.1)?.abs()),
        Leg::received(row.asset(received.0)?, row.amount(received.1)?.abs()),
    ];
    legs.extend(fee_leg(row)?);
    Ok(legs)
}

const BASE: (&str, &str) = ("Base_Asset", "Realized_Amount_For_Base_Asset");
const QUOTE: (&str, &str) = ("Quote_Asset", "Realized_Amount_For_Quote_Asset");
const PRIMARY: (&str, &str) = ("Primary_Asset", "Realized_Amount_For_Primary_Asset");

fn event_of(row: &Row<'_>) -> Result<NewEvent, RowError> {
    let time = row.time("Time")?;
    let category = row.required("Category")?;
    let operation = row.get("Operation");
    let id = row.required("Transaction_Id")?;
    let primary = || -> Result<(String, Decimal), RowError> { Ok((row.asset(PRIMARY.0)?, row.amount(PRIMARY.1)?)) };
    let event = match category {
        "Spot Trading" => {
            let legs = match operation {
                "Buy" => trade_legs(row, BASE, QUOTE)?,
                "Sell" => trade_legs(row, QUOTE, BASE)?,
                other => {
                    return Err(RowError::field("Operation", format!("{other:?} is neither Buy nor Sell")));
                }
            };
            let symbol = format!("{}{}", row.asset(BASE.0)?, row.asset(QUOTE.0)?);
            NewEvent::new(format!("trade:{symbol}:{id}"), time, EventKind::Trade, legs)
        }
        "Quick Buy" | "Quick Sell" | "Convert" => {
            let legs = trade_legs(row, QUOTE, BASE)?;
            NewEvent::new(format!("binanceus:{category}:{id}"), time, EventKind::Trade, legs)
        }
        "Deposit" => {
            let (asset, amount) = primary()?;
            let kind = if is_fiat(&asset) { EventKind::FiatDeposit } else { EventKind::Deposit };
            let mut legs = vec![Leg::received(asset, amount.abs())];
            legs.extend(fee_leg(row)?);
            NewEvent::new(format!("deposit:{id}"), time, kind, legs)
        }
        "Withdrawal" => {
            let (asset, amount) = primary()?;
            let kind = if is_fiat(&asset) { EventKind::FiatWithdrawal } else { EventKind::Withdrawal };
            let mut legs = vec![Leg::sent(asset, amount.abs())];
            legs.extend(fee_leg(row)?);
            NewEvent::new(format!("withdrawal:{id}"), time, kind, legs)
        }
        "Distribution" => {
            let (asset, amount) = primary()?;
            let (kind, leg) = match operation {
                "Staking Rewards" if amount.is_sign_negative() => (EventKind::Fee, Leg::fee(asset, amount.abs())),
                "Staking Rewards" => (EventKind::Staking, Leg::received(asset, amount)),
                "Referral Commission" => (EventKind::Rebate, Leg::received(asset, amount)),
                _ => (EventKind::Airdrop, Leg::received(asset, amount)),
            };
            NewEvent::new(format!("binanceus:distribution:{id}"), time, kind, vec![leg])
        }
        other => {
            let (asset, amount) = primary()?;
            let leg =
                if amount.is_sign_negative() { Leg::sent(asset, amount.abs()) } else { Leg::received(asset, amount) };
            NewEvent {
                note: Some(format!("Binance.US category {other:?}, operation {operation:?}")),
                ..NewEvent::new(format!("binanceus:{other}:{id}"), time, EventKind::Unknown, vec![leg])
            }
        }
    };
    Ok(event)
}

impl RowReader for Reader {
    fn read(&mut self, row: &Row<'_>) -> Result<Vec<ImportedEvent>, RowError> {
        let event = event_of(row)?;
        Ok(vec![ImportedEvent { event, rows: vec![SourceRow::of(row)] }])
    }
}

#[cfg(test)]
mod tests;
