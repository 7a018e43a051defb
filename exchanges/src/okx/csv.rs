//! OKX's trading account bill archive (`bills-history-archive`, a CSV per quarter since
//! February 2021).
//!
//! # Layout
//!
//! OKX documents the fields of the decompressed CSV file that `GET
//! /api/v5/account/bills-history-archive` links to
//! (<https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-bills-details-since-2021>):
//! `instType, billId, subType, ts, balChg, posBalChg, bal, posBal, sz, px, ccy, pnl, fee,
//! mgnMode, instId, ordId, execType, interest, tag, fillTime, tradeId, clOrdId, …` — the
//! API's bill fields, but without `type`. A header matches when it has (any order,
//! case-insensitive) `billId, subType, ts, balChg, ccy`; a `type` column is used when present,
//! else the bill type is read from the subtype ([`type_of_subtype`]). `ts` is Unix ms. The
//! column list is OKX's documentation's; it was not checked against a downloaded file.
//!
//! # Rows → events
//!
//! Each row becomes one event through the same function as the API's bills
//! ([`super::normalize::event_of`]), keyed by `billId`: an archive imported into an account
//! that is also synced adds nothing twice (tested against the simulator). The funding
//! account's older history has no documented file layout and is not read (README, "OKX").

use super::normalize::{Account, Bill, event_of};
use crate::rows::{Header, ImportedEvent, Row, RowError, RowReader, SourceRow};

/// The columns every matching header has.
const COLUMNS: &[&str] = &["billId", "subType", "ts", "balChg", "ccy"];

/// Whether a header row is the bill archive's.
pub fn matches(header: &Header) -> bool {
    header.has_all(COLUMNS)
}

/// The bill type of a trading account subtype, for files without a `type` column (OKX's
/// subtype list: <https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-bills-details-last-3-months>).
pub fn type_of_subtype(sub_type: &str) -> Option<&'static str> {
    let sub: u32 = sub_type.trim().parse().ok()?;
    Some(match sub {
        1..=6 | 114 | 115 | 204..=209 | 270..=275 | 324..=329 => "2",
        11 | 12 | 200..=203 => "1",
        9 | 14 => "7",
        173 | 174 => "8",
        118 | 119 => "11",
        236 | 237 => "28",
        318 | 319 => "27",
        320 | 321 => "30",
        381 => "381",
        _ => return None,
    })
}

/// Reads the rows of one archive file; events come back oldest first.
#[derive(Debug, Default)]
pub struct Reader {
    held: Vec<ImportedEvent>,
}

impl RowReader for Reader {
    fn read(&mut self, row: &Row<'_>) -> Result<Vec<ImportedEvent>, RowError> {
        let text = |name: &str| row.optional(name).unwrap_or_default();
        let sub_type = text("subType");
        let kind = match row.optional("type").filter(|kind| !kind.trim().is_empty()) {
            Some(kind) => kind,
            None => type_of_subtype(&sub_type).unwrap_or("?").to_owned(),
        };
        let bill = Bill {
            bill_id: row.required("billId")?.trim().to_owned().into(),
            ts: row.required("ts")?.trim().to_owned().into(),
            ccy: row.required("ccy")?.to_owned().into(),
            bal_chg: row.required("balChg")?.to_owned().into(),
            kind: kind.into(),
            sub_type: sub_type.into(),
            fee: text("fee").into(),
            inst_id: text("instId").into(),
            px: text("px").into(),
            notes: "".into(),
        };
        let event = event_of(Account::Trading, &bill).map_err(RowError::new)?;
        self.held.push(ImportedEvent { event, rows: vec![SourceRow::of(row)] });
        Ok(Vec::new())
    }

    fn finish(&mut self) -> Result<Vec<ImportedEvent>, RowError> {
        let mut events = std::mem::take(&mut self.held);
        events.sort_by_key(|e| (e.event.time, e.event.external_id.parse::<u128>().unwrap_or(u128::MAX)));
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventKind;
    use crate::rows::read_text;

    #[test]
    fn the_archive_reads_into_the_apis_events_keyed_by_the_bill_id() {
        let path = format!("{}/../fixtures/okx/bills-history-archive.csv", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let events: Vec<_> = read_text(&mut Reader::default(), matches, &text).into_result().unwrap();
        let kinds: Vec<(String, EventKind)> =
            events.iter().map(|e| (e.event.external_id.clone(), e.event.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("600000000000000001".to_owned(), EventKind::InternalTransfer),
                ("600000000000000002".to_owned(), EventKind::Trade),
                ("600000000000000003".to_owned(), EventKind::Trade),
                ("600000000000000004".to_owned(), EventKind::Unknown),
            ]
        );
        let base = &events[2].event;
        assert_eq!(base.legs.len(), 2, "the gross side and the fee");
        assert_eq!((base.legs[0].asset.as_str(), base.legs[0].amount.to_string()), ("BTC", "0.01".to_owned()));
        assert_eq!(base.legs[1].amount.to_string(), "-0.00001");
        assert_eq!(crate::time::to_millis(base.time), 1_612_137_600_000);
        let bad = "billId,subType,ts,balChg,ccy\n1,1,yesterday,1,BTC\n";
        assert!(read_text(&mut Reader::default(), matches, bad).into_result().is_err());
        assert_eq!(type_of_subtype("2"), Some("2"));
        assert_eq!(type_of_subtype("99999"), None);
    }
}
