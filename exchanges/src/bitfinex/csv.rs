//! Bitfinex's ledger export (Reports → Ledgers → Export, CSV).
//!
//! # Layout
//!
//! A header matches when it has the columns (any order, case-insensitive)
//! `#, DESCRIPTION, CURRENCY, AMOUNT, BALANCE, DATE, WALLET`: the entry's id, description,
//! currency code, signed amount, the wallet's balance after it, its time and its wallet, the
//! same fields as an API ledger entry ([`super::normalize`]). `DATE` is read as UTC: export with
//! the time zone set to UTC. Accepted layouts: `YYYY-MM-DD HH:MM:SS[.fff]` (or RFC 3339) and
//! Bitfinex's short `YY-MM-DD HH:MM:SS`. This layout is cointally's reading of the export as
//! Bitfinex's report tool writes it; it was not checked against a file from a real account.
//!
//! # Rows → events
//!
//! Each row becomes one event through the same function as the API's entries
//! ([`super::normalize::event_of`]), keyed by `#`, the ledger entry's id: an export imported
//! into an account that is also synced adds nothing twice (tested against the simulator). An
//! export to the second has no milliseconds; the event keeps the time of whichever came first.

use chrono::{DateTime, Utc};

use super::assets::canonical_asset;
use super::normalize::{Entry, event_of};
use crate::rows::{Header, ImportedEvent, Row, RowError, RowReader, SourceRow};
use crate::time::{parse_utc, parse_utc_with};

/// The columns every matching header has.
const COLUMNS: &[&str] = &["#", "DESCRIPTION", "CURRENCY", "AMOUNT", "BALANCE", "DATE", "WALLET"];

/// Whether a header row is the ledger export's.
pub fn matches(header: &Header) -> bool {
    header.has_all(COLUMNS)
}

/// Reads the rows of one export file. The export lists the newest entry first: the events are
/// held and given back oldest first (one millisecond's entries in id order, a trade's sides
/// before its fee), so the ledger's order of events is the exchange's.
#[derive(Debug, Default)]
pub struct Reader {
    held: Vec<ImportedEvent>,
}

/// A `DATE` cell as UTC.
fn date(text: &str) -> Result<DateTime<Utc>, RowError> {
    let text = text.trim();
    // `24-01-02 …` would read as the year 24 otherwise.
    let short_year = text.find('-') == Some(2);
    let time =
        if short_year { parse_utc_with(text, "%y-%m-%d %H:%M:%S", "YY-MM-DD HH:MM:SS") } else { parse_utc(text) };
    time.map_err(|e| RowError::field("DATE", e))
}

impl RowReader for Reader {
    fn read(&mut self, row: &Row<'_>) -> Result<Vec<ImportedEvent>, RowError> {
        let id_text = row.required("#")?.trim().to_owned();
        let id = id_text.parse::<u64>().map_err(|_| RowError::field("#", format!("{id_text:?} is not a ledger id")))?;
        let currency = row.required("CURRENCY")?;
        let asset = canonical_asset(currency).map_err(|e| RowError::field("CURRENCY", e))?;
        let time = date(row.required("DATE")?)?;
        let entry = Entry {
            id,
            asset,
            wallet: row.optional("WALLET").filter(|wallet| !wallet.trim().is_empty()),
            time_ms: crate::time::to_millis(time),
            amount: row.amount("AMOUNT")?,
            description: row.optional("DESCRIPTION").unwrap_or_default(),
        };
        self.held.push(ImportedEvent { event: event_of(&entry), rows: vec![SourceRow::of(row)] });
        Ok(Vec::new())
    }

    fn finish(&mut self) -> Result<Vec<ImportedEvent>, RowError> {
        let mut events = std::mem::take(&mut self.held);
        events.sort_by_key(|e| (e.event.time, e.event.external_id.parse::<u64>().unwrap_or(u64::MAX)));
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventKind;
    use crate::rows::read_text;

    #[test]
    fn the_export_reads_into_the_apis_events_keyed_by_the_ledger_id() {
        let path = format!("{}/../fixtures/bitfinex/ledgers.csv", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let events: Vec<_> = read_text(&mut Reader::default(), matches, &text).into_result().unwrap();
        let kinds: Vec<(String, EventKind)> =
            events.iter().map(|e| (e.event.external_id.clone(), e.event.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("2480000001".to_owned(), EventKind::FiatDeposit),
                ("2480000100".to_owned(), EventKind::Trade),
                ("2480000101".to_owned(), EventKind::Trade),
                ("2480000102".to_owned(), EventKind::Fee),
            ]
        );
        let base = &events[2].event;
        assert_eq!(base.legs[0].asset, "BTC");
        assert_eq!(base.legs[0].amount.to_string(), "0.5");
        assert_eq!(crate::time::to_millis(base.time), 1_704_110_400_000);
        assert_eq!(crate::time::to_millis(events[0].event.time), 1_704_067_200_000, "the short YY-MM-DD layout");
        let bad = "#,DESCRIPTION,CURRENCY,AMOUNT,BALANCE,DATE,WALLET\nx,Deposit,USD,1,1,2024-01-01 00:00:00,exchange\n";
        assert!(read_text(&mut Reader::default(), matches, bad).into_result().is_err());
    }
}
