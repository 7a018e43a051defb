//! Gemini's transaction history file (web: Account → Statements & History → Transaction
//! History, "All" accounts or one currency), read from CSV.
//!
//! # Layout
//!
//! Gemini offers the file as an Excel workbook (`.xlsx`, one sheet): open it and save the sheet
//! as CSV (cointally reads CSV only). The header, in this order, is the fixed columns `Date`,
//! `Time (UTC)`, `Type`, `Symbol`, `Specification`, `Liquidity Indicator`,
//! `Trading Fee Rate (bps)`, then three columns per currency the account ever held —
//! `<C> Amount <C>`, `Fee (<C>) <C>` and `<C> Balance <C>` (`BTC Amount BTC`, `Fee (BTC) BTC`) —
//! then `Trade ID`, `Order ID`, `Order Date`, `Order Time`, `Client Order ID`, `API Session`,
//! `Tx Hash`, `Deposit Destination`, `Deposit Tx Output`, `Withdrawal Destination`,
//! `Withdrawal Tx Output`. The per-currency columns vary from account to account: they are
//! found by name, for the currencies each row names. A header matches when it has `Date`,
//! `Time (UTC)`, `Type`, `Symbol`, `Trade ID` and `Tx Hash`. The last row (totals, no `Date`)
//! is passed over. This layout is the one BittyTax and rotki document reading; it was not
//! checked against a file downloaded today. `Trading Fee (<C>) <C>` is read where `Fee (<C>) <C>`
//! is missing (an older name of the fee column).
//!
//! Cells: `Date` is `YYYY-MM-DD` (or `M/D/YYYY`, as a US spreadsheet saves it) and `Time (UTC)`
//! `HH:MM:SS[.fff]`; amounts are decimal text, negative for what left the account (written
//! `-1.5`, `(1.5)`, with or without a currency sign, a thousands comma or a trailing code).
//!
//! # Rows → events
//!
//! | `Type` | event |
//! |---|---|
//! | `Buy`, `Sell` | `trade` `trade:<Trade ID>` — the API's `tid`: a synced fill and its file row meet |
//! | `Credit` | deposit (fiat deposit for fiat); `income` when `Specification` names a reward |
//! | `Debit` | withdrawal (fiat withdrawal for fiat), `Fee (<C>) <C>` a fee leg on top |
//! | `Interest Credit` | `interest` (Gemini Earn, closed January 2023) |
//! | `Administrative Credit`, `Administrative Debit` | `adjustment`, as the API's `AdminCredit`/`AdminDebit` (also the Earn wind-down's returns) |
//! | anything else | `unknown`, the signed amount of `Symbol`'s currency, never fatal |
//!
//! Credits, debits and administrative rows are keyed as the API's transfers are
//! ([`super::normalize::transfer_id`]: time to the millisecond, currency, signed amount), since
//! the file carries no `eid`: a file imported into a synced account adds nothing twice provided
//! the file's time has the API's milliseconds (not verified against a real file: when it does
//! not, the balance comparison of the next sync shows the doubled transfers). Earn rows are not
//! in the API (Gemini Earn's history endpoint is not documented), so they are keyed by content.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

use super::assets::{canonical_asset, split_symbol};
use super::normalize::{Transfer, transfer_events};
use crate::amount::parse_amount;
use crate::event::{EventKind, Leg, NewEvent};
use crate::rows::{Header, ImportedEvent, Row, RowError, RowReader, SourceRow};

/// The columns every matching header has.
const COLUMNS: &[&str] = &["Date", "Time (UTC)", "Type", "Symbol", "Trade ID", "Tx Hash"];

/// Whether a header row is the transaction history file's.
pub fn matches(header: &Header) -> bool {
    header.has_all(COLUMNS)
}

/// Reads the rows of one history file.
#[derive(Debug, Default)]
pub struct Reader;

impl RowReader for Reader {
    fn read(&mut self, row: &Row<'_>) -> Result<Vec<ImportedEvent>, RowError> {
        if row.get("Date").is_empty() {
            return Ok(Vec::new()); // the totals row
        }
        let time = time_of(row)?;
        let kind = row.required("Type")?;
        let event = match kind {
            "Buy" | "Sell" => trade(row, time, kind == "Buy")?,
            "Credit" if row.get("Specification").to_ascii_lowercase().contains("reward") => {
                transfer(row, time, "Reward")?
            }
            "Credit" => transfer(row, time, "Deposit")?,
            "Debit" => transfer(row, time, "Withdrawal")?,
            "Administrative Credit" => transfer(row, time, "AdminCredit")?,
            "Administrative Debit" => transfer(row, time, "AdminDebit")?,
            _ => other(row, time, kind)?,
        };
        Ok(vec![ImportedEvent { event, rows: vec![SourceRow::of(row)] }])
    }
}

/// `Date` and `Time (UTC)` as one UTC time.
fn time_of(row: &Row<'_>) -> Result<DateTime<Utc>, RowError> {
    let date_text = row.required("Date")?;
    let date = match date_text.split('/').collect::<Vec<_>>()[..] {
        [m, d, y] => y
            .parse()
            .ok()
            .zip(m.parse().ok())
            .zip(d.parse().ok())
            .and_then(|((y, m), d)| NaiveDate::from_ymd_opt(y, m, d)),
        _ => NaiveDate::parse_from_str(date_text.get(..10).unwrap_or(date_text), "%Y-%m-%d").ok(),
    }
    .ok_or_else(|| RowError::field("Date", format!("{date_text:?} is neither YYYY-MM-DD nor M/D/YYYY")))?;
    let time_text = row.required("Time (UTC)")?;
    let time = chrono::NaiveTime::parse_from_str(time_text, "%H:%M:%S%.f")
        .map_err(|_| RowError::field("Time (UTC)", format!("{time_text:?} is not HH:MM:SS[.fff]")))?;
    Ok(Utc.from_utc_datetime(&date.and_time(time)))
}

/// An amount cell: `-1.5`, `(1.5)`, `$1,234.56`, `1.5 BTC`.
fn cell_amount(name: &str, text: &str) -> Result<Decimal, RowError> {
    let trimmed = text.trim();
    let negative = trimmed.starts_with('(') && trimmed.ends_with(')');
    let cleaned: String = trimmed
        .trim_matches(|c| c == '(' || c == ')')
        .trim_end_matches(|c: char| c.is_ascii_alphabetic() || c.is_whitespace())
        .chars()
        .filter(|c| !matches!(c, '$' | '€' | '£' | ',' | ' '))
        .collect();
    let value = parse_amount(&cleaned).map_err(|e| RowError::field(name, e))?;
    Ok(if negative { -value.abs() } else { value })
}

/// `<C> Amount <C>` of `currency`: `None` when the column or the cell is empty.
fn amount_of(row: &Row<'_>, currency: &str) -> Result<Option<Decimal>, RowError> {
    let name = format!("{currency} Amount {currency}");
    match row.get(&name) {
        "" => Ok(None),
        text => cell_amount(&name, text).map(Some),
    }
}

/// The fee of `currency` (`Fee (<C>) <C>`, else `Trading Fee (<C>) <C>`), unsigned.
fn fee_of(row: &Row<'_>, currency: &str) -> Result<Decimal, RowError> {
    for name in [format!("Fee ({currency}) {currency}"), format!("Trading Fee ({currency}) {currency}")] {
        if !row.get(&name).is_empty() {
            return Ok(cell_amount(&name, row.get(&name))?.abs());
        }
    }
    Ok(Decimal::ZERO)
}

fn currency_of(row: &Row<'_>) -> Result<String, RowError> {
    canonical_asset(row.required("Symbol")?).map_err(|e| RowError::field("Symbol", e))
}

fn trade(row: &Row<'_>, time: DateTime<Utc>, buy: bool) -> Result<NewEvent, RowError> {
    let symbol = row.required("Symbol")?;
    let (base, quote) =
        split_symbol(symbol).ok_or_else(|| RowError::field("Symbol", format!("{symbol:?} is not a Gemini symbol")))?;
    let missing = |c: &str| RowError::new(format!("a {symbol} trade without \"{c} Amount {c}\""));
    let quantity = amount_of(row, &base)?.ok_or_else(|| missing(&base))?.abs();
    let total = amount_of(row, &quote)?.ok_or_else(|| missing(&quote))?.abs();
    let tid_text = row.required("Trade ID")?;
    let tid: u64 =
        tid_text.parse().map_err(|_| RowError::field("Trade ID", format!("{tid_text:?} is not a whole number")))?;
    let mut legs = if buy {
        vec![Leg::received(&base, quantity), Leg::sent(&quote, total)]
    } else {
        vec![Leg::sent(&base, quantity), Leg::received(&quote, total)]
    };
    let fee = fee_of(row, &quote)?;
    if !fee.is_zero() {
        legs.push(Leg::fee(&quote, fee));
    }
    let mut event = NewEvent::new(format!("trade:{tid}"), time, EventKind::Trade, legs);
    let side = if buy { "Buy" } else { "Sell" };
    event.note = Some(format!("{side} {quantity} {base}/{quote}, order {}", row.get("Order ID")));
    Ok(event)
}

/// A row that is a transfer of the API (`api_kind`: its `type` there), keyed as the API's.
fn transfer(row: &Row<'_>, time: DateTime<Utc>, api_kind: &str) -> Result<NewEvent, RowError> {
    let currency = currency_of(row)?;
    let value = amount_of(row, &currency)?
        .ok_or_else(|| RowError::new(format!("a {} without \"{currency} Amount {currency}\"", row.get("Type"))))?;
    let fee = fee_of(row, &currency)?;
    let sent = matches!(api_kind, "Withdrawal" | "AdminDebit");
    let destination = row.optional(if sent { "Withdrawal Destination" } else { "Deposit Destination" });
    let api_row = Transfer {
        kind: api_kind.to_owned(),
        status: "Complete".to_owned(),
        timestampms: time.timestamp_millis(),
        eid: 0,
        currency: currency.clone(),
        amount: value.abs().to_string(),
        fee_amount: (!fee.is_zero()).then(|| fee.to_string()),
        fee_currency: None,
        tx_hash: row.optional("Tx Hash"),
        destination,
        method: None,
    };
    let mut events = transfer_events(&api_row).map_err(RowError::new)?;
    events.pop().ok_or_else(|| RowError::new("the transfer gave no event"))
}

/// Earn's interest, and any type cointally does not know.
fn other(row: &Row<'_>, time: DateTime<Utc>, kind: &str) -> Result<NewEvent, RowError> {
    let currency = currency_of(row)?;
    let value = amount_of(row, &currency)?
        .ok_or_else(|| RowError::new(format!("a {kind:?} row without \"{currency} Amount {currency}\"")))?;
    let (event_kind, leg) = match kind {
        "Interest Credit" => (EventKind::Interest, Leg::received(&currency, value.abs())),
        _ if value.is_sign_negative() => (EventKind::Unknown, Leg::sent(&currency, value.abs())),
        _ => (EventKind::Unknown, Leg::received(&currency, value)),
    };
    let mut event = NewEvent::new("", time, event_kind, vec![leg]);
    let specification = row.get("Specification");
    event.note = Some(match event_kind {
        EventKind::Unknown => format!("Gemini file type {kind:?} {specification}").trim_end().to_owned(),
        _ => format!("{kind} {specification}").trim_end().to_owned(),
    });
    Ok(event)
}

#[cfg(test)]
mod tests;
