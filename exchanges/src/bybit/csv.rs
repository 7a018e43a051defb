//! A Bybit unified wallet transaction log as a CSV file (`--format bybit-log`).
//!
//! # Layout
//!
//! A header matches when it has (any order, case-insensitive) `id, currency, type,
//! transactionTime, change`: the fields of an entry of `GET /v5/account/transaction-log`
//! (<https://bybit-exchange.github.io/docs/v5/account/transaction-log>), one row per entry.
//! `fee`, `symbol`, `side`, `tradePrice` and `tradeId` are read when present; other columns of
//! the log (`qty`, `cashFlow`, `cashBalance`, …) are kept in the raw archive and not needed.
//! `transactionTime` is Unix ms, as the API gives it, or a UTC time
//! (`2025-03-01 10:00:00`, RFC 3339).
//!
//! **What could not be verified.** The columns of the *Transaction Log* export of Bybit's
//! website (*Orders → Unified Trading Account → Transaction Log → Export*, or the combined
//! statement of *Export Account Statement*) are not in Bybit's API documentation, and no
//! downloaded file could be seen; Bybit's help center describes what the statement covers, not
//! its header. Whether the website's file carries the log's `id` (the key that lets file and
//! API meet) is therefore unknown, and cointally does not guess at its layout: this reader
//! takes the log with the API's field names — the file that a script saving the API's log
//! writes, and the file the simulator's export writes. A website export with other columns is
//! refused ("no known format"); convert it to the generic format.
//!
//! # Rows → events
//!
//! Each row becomes one event through the same function as the API's log entries
//! ([`super::normalize::log_event`]), keyed `log-<id>`: a file imported into an account that
//! is also synced adds nothing twice, whichever comes first (tested against the simulator).
//! Log entries older than the API's two-year reach come in this way.

use super::normalize::{LogEntry, log_event};
use crate::rows::{Header, ImportedEvent, Row, RowError, RowReader, SourceRow};
use crate::time::{parse_utc, to_millis};

/// The columns every matching header has.
const COLUMNS: &[&str] = &["id", "currency", "type", "transactionTime", "change"];

/// Whether a header row is a Bybit transaction log's.
pub fn matches(header: &Header) -> bool {
    header.has_all(COLUMNS)
}

/// A `transactionTime` cell as Unix ms text: ms as they are, a UTC time converted.
fn time_ms(text: &str) -> Result<String, RowError> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(text.to_owned());
    }
    parse_utc(text).map(|time| to_millis(time).to_string()).map_err(|e| RowError::field("transactionTime", e))
}

/// Reads the rows of one log file; the events come back oldest first (Bybit lists newest
/// first), one millisecond's entries in id order.
#[derive(Debug, Default)]
pub struct Reader {
    held: Vec<ImportedEvent>,
}

impl RowReader for Reader {
    fn read(&mut self, row: &Row<'_>) -> Result<Vec<ImportedEvent>, RowError> {
        let text = |name: &str| row.optional(name).unwrap_or_default().trim().to_owned();
        let entry = LogEntry {
            id: row.required("id")?.trim().to_owned(),
            currency: row.required("currency")?.trim().to_owned(),
            kind: row.required("type")?.trim().to_owned(),
            transaction_time: time_ms(row.required("transactionTime")?)?,
            change: row.required("change")?.trim().to_owned(),
            fee: text("fee"),
            symbol: text("symbol"),
            side: text("side"),
            trade_price: text("tradePrice"),
            trade_id: text("tradeId"),
        };
        // `log_event` makes an event of every entry (an unknown type is kind `unknown`).
        if let Some(event) = log_event(&entry).map_err(RowError::new)? {
            self.held.push(ImportedEvent { event, rows: vec![SourceRow::of(row)] });
        }
        Ok(Vec::new())
    }

    fn finish(&mut self) -> Result<Vec<ImportedEvent>, RowError> {
        let mut events = std::mem::take(&mut self.held);
        events.sort_by(|a, b| {
            a.event.time.cmp(&b.event.time).then_with(|| a.event.external_id.cmp(&b.event.external_id))
        });
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::EventKind;
    use crate::rows::read_text;

    fn fixture() -> String {
        let path = format!("{}/../fixtures/bybit/transaction-log.csv", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn the_log_file_reads_into_the_apis_events_keyed_by_the_log_id_oldest_first() {
        let events = read_text(&mut Reader::default(), matches, &fixture()).into_result().unwrap();
        let kinds: Vec<(&str, EventKind)> =
            events.iter().map(|e| (e.event.external_id.as_str(), e.event.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("log-100_USDT_0", EventKind::InternalTransfer),
                ("log-104_BTC_2", EventKind::Trade),
                ("log-104_USDT_1", EventKind::Trade),
                ("log-109_USDT_3", EventKind::Interest),
                ("log-111_ETH_4", EventKind::Airdrop),
            ]
        );
        // The BTC side of the buy: 0.01 received gross, 0.00001 fee (change = cashFlow - fee).
        let legs: Vec<(String, Decimal)> =
            events[1].event.legs.iter().map(|l| (l.asset.clone(), l.amount.normalize())).collect();
        assert_eq!(
            legs,
            [("BTC".to_owned(), "0.01".parse().unwrap()), ("BTC".to_owned(), "-0.00001".parse().unwrap())]
        );
        assert_eq!(events[2].event.legs[0].amount, "-950.5".parse::<Decimal>().unwrap());
        // A time written as text reads as the same millisecond as the API's.
        assert_eq!(crate::time::to_millis(events[0].event.time), 1_740_823_200_000);
        assert_eq!(crate::time::to_millis(events[1].event.time), 1_740_826_800_123);
        assert_eq!(events[1].rows[0].line, 4, "the row of 104_BTC_2");
    }

    #[test]
    fn bad_rows_are_errors_that_name_the_field_and_other_headers_do_not_match() {
        let header = "id,currency,type,transactionTime,change\n";
        for row in ["1,BTC,TRADE,yesterday,1", "1,BTC,TRADE,1740823200000,one", ",BTC,TRADE,1740823200000,1"] {
            let text = format!("{header}{row}\n");
            let error = read_text(&mut Reader::default(), matches, &text).into_result().unwrap_err();
            assert!(!error.to_string().is_empty(), "{row}");
        }
        let error = read_text(&mut Reader::default(), matches, &format!("{header}1,BTC,TRADE,yesterday,1\n"))
            .into_result()
            .unwrap_err();
        assert!(error.to_string().contains("transactionTime"), "{error}");
        assert!(!matches(&Header::new(["id", "currency", "type", "change"])));
        assert!(matches(&Header::new(["ID", "Currency", "Type", "TransactionTime", "Change", "Extra"])));
    }
}
