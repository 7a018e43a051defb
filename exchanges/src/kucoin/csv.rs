//! KuCoin's account-history export (Assets → History → Export, one CSV per account).
//!
//! # Layout
//!
//! A header matches when it has the columns (any order, case-insensitive) `Account Type,
//! Currency, Side, Amount, Fee, Remark, Type` and a time column `Time(UTC)` or
//! `Time(UTC±HH:MM)` (the zone chosen at export; the offset is taken back off, so the times are
//! UTC). `Side` is `In`/`Out` (or `Deposit`/`Withdrawal` wording containing them), `Amount` is
//! positive, `Type` is the ledger's `bizType` and `Time` reads `YYYY-MM-DD HH:MM:SS`. This is
//! cointally's reading of the export as KuCoin's help pages and tax tools describe it; it was
//! not checked against a file from a real account. A `UID` column may be there and is ignored.
//!
//! # Rows → events
//!
//! Each row becomes one event through the same function as the API's entries
//! ([`super::normalize::event_of`]). The export carries no entry id, so the event is keyed by
//! its content: a sync of the same account then meets the file's events by kind, time (within
//! two seconds: the export has whole seconds) and exact legs, and adds nothing twice (the sync
//! engine's matching, tested against the simulator).

use chrono::Duration;

use super::normalize::{Entry, event_of};
use crate::rows::{Header, ImportedEvent, Row, RowError, RowReader, SourceRow};
use crate::time::parse_utc_with;

/// The columns every matching header has, besides the time.
const COLUMNS: &[&str] = &["Account Type", "Currency", "Side", "Amount", "Fee", "Remark", "Type"];

/// The header's time column (`Time(UTC+08:00)`), if any.
fn time_column(header: &Header) -> Option<&str> {
    header.names().iter().map(String::as_str).find(|name| name.trim().to_ascii_lowercase().starts_with("time(utc"))
}

/// Whether a header row is the account-history export's.
pub fn matches(header: &Header) -> bool {
    header.has_all(COLUMNS) && time_column(header).is_some()
}

/// The offset a time column names, seconds east of UTC (`Time(UTC+08:00)` → 28,800).
fn offset_seconds(column: &str) -> Result<i64, RowError> {
    let inner = column.trim().trim_end_matches(')');
    let Some(at) = inner.to_ascii_lowercase().find("utc") else { return Ok(0) };
    let zone = inner[at + 3..].trim();
    if zone.is_empty() {
        return Ok(0);
    }
    let bad = || RowError::new(format!("the time column {column:?} names no offset cointally reads"));
    let (sign, rest) = match zone.as_bytes().first() {
        Some(b'+') => (1, &zone[1..]),
        Some(b'-') => (-1, &zone[1..]),
        _ => return Err(bad()),
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    let hours: i64 = hours.parse().map_err(|_| bad())?;
    let minutes: i64 = minutes.parse().map_err(|_| bad())?;
    Ok(sign * (hours * 3600 + minutes * 60))
}

/// Reads the rows of one export file, oldest first when given back.
#[derive(Debug, Default)]
pub struct Reader {
    held: Vec<ImportedEvent>,
}

impl RowReader for Reader {
    fn read(&mut self, row: &Row<'_>) -> Result<Vec<ImportedEvent>, RowError> {
        let column = time_column(row.header()).ok_or_else(|| RowError::new("no Time(UTC…) column"))?.to_owned();
        let local = parse_utc_with(row.required(&column)?.trim(), "%Y-%m-%d %H:%M:%S", "YYYY-MM-DD HH:MM:SS")
            .map_err(|e| RowError::field(&column, e))?;
        let time = local - Duration::seconds(offset_seconds(&column)?);
        let side = row.required("Side")?.trim().to_ascii_lowercase();
        let incoming = match side.as_str() {
            "in" | "deposit" => true,
            "out" | "withdrawal" => false,
            other => return Err(RowError::field("Side", format!("{other:?} is neither In nor Out"))),
        };
        let entry = Entry {
            id: String::new(),
            asset: row.asset("Currency")?,
            amount: row.amount("Amount")?.abs(),
            fee: row.optional_amount("Fee")?.unwrap_or_default().abs(),
            incoming,
            account_type: row.optional("Account Type").unwrap_or_default().trim().to_ascii_uppercase(),
            biz_type: row.optional("Type").unwrap_or_default().trim().to_owned(),
            time_ms: crate::time::to_millis(time),
            context: row.optional("Remark").filter(|remark| !remark.trim().is_empty()).map(|r| format!("remark {r}")),
        };
        self.held.push(ImportedEvent { event: event_of(&entry), rows: vec![SourceRow::of(row)] });
        Ok(Vec::new())
    }

    fn finish(&mut self) -> Result<Vec<ImportedEvent>, RowError> {
        let mut events = std::mem::take(&mut self.held);
        events.sort_by_key(|e| e.event.time);
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventKind;
    use crate::rows::read_text;

    #[test]
    fn the_export_reads_into_the_apis_events_in_utc() {
        let path = format!("{}/../fixtures/kucoin/account-history.csv", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let events: Vec<_> = read_text(&mut Reader::default(), matches, &text).into_result().unwrap();
        let kinds: Vec<EventKind> = events.iter().map(|e| e.event.kind).collect();
        assert_eq!(
            kinds,
            [
                EventKind::Deposit,
                EventKind::InternalTransfer,
                EventKind::InternalTransfer,
                EventKind::Trade,
                EventKind::Trade
            ]
        );
        // 2024-01-01 08:00:00 at UTC+08:00 is midnight UTC.
        assert_eq!(crate::time::to_millis(events[0].event.time), 1_704_067_200_000);
        assert_eq!(events[0].event.external_id, "");
        let paid = &events[4].event;
        assert_eq!(paid.legs.len(), 2, "{paid:?}");
        assert_eq!((paid.legs[0].amount.to_string(), paid.legs[1].amount.to_string()), ("-600".into(), "-0.6".into()));
        assert_eq!(offset_seconds("Time(UTC-03:30)").unwrap(), -12_600);
        assert_eq!(offset_seconds("Time(UTC)").unwrap(), 0);
        let bad = "UID,Account Type,Currency,Side,Amount,Fee,Time(UTC),Remark,Type\n1,Main,BTC,Sideways,1,0,2024-01-01 00:00:00,,Deposit\n";
        assert!(read_text(&mut Reader::default(), matches, bad).into_result().is_err());
    }
}
