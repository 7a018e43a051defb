//! Bitstamp's older transaction export: `Type,Datetime,Account,Amount,Value,Rate,Fee,Sub Type`.
//!
//! # Layout
//!
//! Bitstamp's export before its "RFC 4180" one ([`super::csv`]) has no id column. `Amount`,
//! `Value`, `Rate` and `Fee` hold a number and its currency in one cell (`0.50000000 BTC`,
//! `1000.00 USD`); `Datetime` is written to the minute, month first, as `Jan. 27, 2017, 03:28
//! PM` (months abbreviated with a dot, or written out when short: `May 3, 2017, 10:05 AM`,
//! also `a.m.`/`p.m.`); an RFC 3339 or `YYYY-MM-DD HH:MM[:SS]` time is read too. `Type` is
//! `Market` (`Sub Type` `Buy` or `Sell`), `Deposit`, `Withdrawal`, `Ripple deposit`, `Ripple
//! payment`, `Staking reward`, `Referral reward`, `Sub Account Transfer` or `Inter Account
//! Transfer`; each row becomes the event of the same row in the newer layout (the same
//! [`super::csv::Cells`]), any other type is an error naming the row.
//!
//! Sources: Bitstamp publishes no specification of this file; the layout is the one users'
//! files show and open-source tax tools read (BittyTax's `Bitstamp` parser reads these eight
//! columns, <https://github.com/BittyTax/BittyTax/blob/master/src/bittytax/conv/parsers/bitstamp.py>).
//! Not verified: the time zone of `Datetime` (read as UTC, as those tools do).
//!
//! # Keys: what doubles and what does not
//!
//! With no id in the file, each event is keyed by its content (the importer's `h:` key: time,
//! kind, legs): importing the same file twice, or two files of overlapping ranges, adds nothing
//! twice. An API sync of the same account meets these events through the sync's content
//! matching: same kind, exactly the same legs, and — because the file's times are whole minutes
//! — the API record's time inside the file event's minute (see `cointally::sync::matching`).
//! What still doubles: a row whose amounts the file wrote with fewer decimals than the API
//! (not verified either way) does not meet its API record, and both are kept; `check` then
//! shows the balance off, and the user keeps one source (imports the file into an account of
//! its own that is not synced, say).

use super::csv::{Cells, fee_in};
use super::normalize::event_of;
use crate::amount::parse_amount;
use crate::asset::asset_symbol;
use crate::rows::{Header, ImportedEvent, Row, RowError, RowReader, SourceRow};
use crate::time::parse_utc;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use rust_decimal::Decimal;

/// The columns of the older layout.
const COLUMNS: &[&str] = &["Type", "Datetime", "Account", "Amount", "Value", "Rate", "Fee", "Sub Type"];

/// Whether a header row is the older export's (and not the newer one, which has `ID`).
pub fn matches(header: &Header) -> bool {
    header.has_all(COLUMNS) && !header.has_all(&["ID"])
}

/// Reads the rows of one older export file.
#[derive(Debug, Default)]
pub struct Reader;

impl RowReader for Reader {
    fn read(&mut self, row: &Row<'_>) -> Result<Vec<ImportedEvent>, RowError> {
        let (amount, currency) = money(row, "Amount")?.ok_or_else(|| RowError::field("Amount", "is empty"))?;
        let fee = money(row, "Fee")?;
        let cells = Cells {
            id: String::new(),
            time: minute_time(row.required("Datetime")?).map_err(|e| RowError::field("Datetime", e))?,
            kind: row.required("Type")?.to_owned(),
            subtype: ("Sub Type", row.optional("Sub Type")),
            amount: (amount, currency),
            value: money(row, "Value")?,
            rate: money(row, "Rate")?.map(|(rate, _)| rate),
            fee: fee.as_ref().map_or(Decimal::ZERO, |(fee, _)| *fee),
            order_id: None,
        };
        let mut event = event_of(&cells.transaction()?).map_err(RowError::new)?;
        fee_in(&mut event, fee.map(|(_, currency)| currency), "Fee")?;
        // No id: the importer keys the event by its content.
        event.external_id = String::new();
        Ok(vec![ImportedEvent { event, rows: vec![SourceRow::of(row)] }])
    }
}

/// A cell holding a number and its currency (`0.5 BTC`); `None` when empty.
fn money(row: &Row<'_>, column: &str) -> Result<Option<(Decimal, String)>, RowError> {
    let Some(text) = row.optional(column) else { return Ok(None) };
    let mut parts = text.split_whitespace();
    let (Some(number), Some(currency), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(RowError::field(column, format!("{text:?} is not an amount and its currency, such as `0.5 BTC`")));
    };
    let amount = parse_amount(number).map_err(|e| RowError::field(column, e))?;
    let currency = asset_symbol(currency).map_err(|e| RowError::field(column, e))?;
    Ok(Some((amount, currency)))
}

/// The month of an abbreviated or written-out English month name (`Jan.`, `Sept.`, `May`).
fn month(name: &str) -> Option<u32> {
    const NAMES: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let lower = name.trim_end_matches('.').to_ascii_lowercase();
    let prefix = lower.get(..3)?;
    NAMES.iter().position(|m| *m == prefix).and_then(|i| u32::try_from(i + 1).ok())
}

/// Reads `Jan. 27, 2017, 03:28 PM` (to the minute, UTC), or any time [`parse_utc`] reads.
pub fn minute_time(text: &str) -> Result<DateTime<Utc>, String> {
    let expected = "a time such as `Jan. 27, 2017, 03:28 PM` or `2017-01-27 15:28`";
    if let Ok(time) = parse_utc(text) {
        return Ok(time);
    }
    let bad = || format!("{text:?} is not {expected}");
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let [month_day, year, clock] = parts.as_slice() else { return Err(bad()) };
    let (month_name, day) = month_day.split_once(' ').ok_or_else(bad)?;
    let month = month(month_name).ok_or_else(bad)?;
    let day: u32 = day.trim().parse().map_err(|_| bad())?;
    let year: i32 = year.parse().map_err(|_| bad())?;
    let date = NaiveDate::from_ymd_opt(year, month, day).ok_or_else(bad)?;
    let clock = clock.to_ascii_lowercase().replace('.', "");
    let (hm, half) = clock.split_once(' ').ok_or_else(bad)?;
    let (hour, minute) = match hm.split_once(':') {
        Some((h, m)) => (h.parse::<u32>().map_err(|_| bad())?, m.parse::<u32>().map_err(|_| bad())?),
        None => (hm.parse::<u32>().map_err(|_| bad())?, 0),
    };
    if !(1..=12).contains(&hour) {
        return Err(bad());
    }
    let hour = match half.trim() {
        "am" => hour % 12,
        "pm" => hour % 12 + 12,
        _ => return Err(bad()),
    };
    let time = NaiveTime::from_hms_opt(hour, minute, 0).ok_or_else(bad)?;
    Ok(Utc.from_utc_datetime(&date.and_time(time)))
}

#[cfg(test)]
mod tests;
