//! `renormalize`: rebuild an account's API events from its raw archive, with no network.
//!
//! After a fix to a normaliser, the stored raw records are turned into events again: the
//! events that came from API records are deleted and rebuilt, in the order the records were
//! stored, matched against file imports exactly as a sync matches them — so the ledger ends
//! as a fresh sync would leave it. Events imported from files are not touched. Everything
//! is normalised before anything is written, in one transaction. A record that still cannot
//! be read stays in the archive marked unreadable, exactly as a sync leaves it; one that this
//! version reads (after an upgrade) loses its mark and gets its events. What the user said by
//! hand stays: kind overrides and rebate links name events by source id, and the transfers
//! linked or unlinked by hand are put back on the rebuilt events in the same transaction.

use cointally_exchanges::adapter::{NormalizeError, RawRecord};
use cointally_exchanges::registry::normalize;
use cointally_exchanges::{Exchange, NewEvent};
use serde::Serialize;

use super::matching::Matcher;
use crate::ledger::{Account, Ledger, LedgerError, Written};

/// What re-normalising one account did.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Renormalized {
    /// The account's label.
    pub account: String,
    /// API raw records read.
    pub records: u64,
    /// Events from API records before.
    pub events_before: u64,
    /// Events from API records after.
    pub events_after: u64,
    /// API records that matched events imported from files.
    pub matched_file_events: u64,
    /// API records that this version cannot read (kept, marked, no event made).
    pub unreadable: u64,
    /// Transfers linked or unlinked by hand whose API event the rebuild no longer makes (the
    /// others are put back on the rebuilt events).
    pub manual_links_dropped: u64,
}

/// Why an account could not be re-normalised.
#[derive(Debug, thiserror::Error)]
pub enum RenormalizeError {
    /// The ledger refused.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Rebuilds the API events of `account` from its raw records.
pub fn renormalize(
    ledger: &mut Ledger,
    account: &Account,
    exchange: Exchange,
) -> Result<Renormalized, RenormalizeError> {
    let raws = ledger.api_raw_records(account.id)?;
    let normalized: Vec<Result<Vec<NewEvent>, NormalizeError>> = raws
        .iter()
        .map(|raw| {
            let record = RawRecord { external_id: raw.external_id.clone(), payload: raw.payload.clone() };
            normalize(exchange, &raw.stream, &record)
        })
        .collect();
    let seen_ms = chrono::Utc::now().timestamp_millis();
    let mut unreadable = 0;
    let events_before = ledger.event_counts_by_source_prefix(account.id, "api:")?;
    let mut matcher = Matcher::new(ledger.imported_events(account.id)?, Vec::new());
    matcher.prepare(normalized.iter().filter_map(|e| e.as_ref().ok()).flatten());
    let mut matched = 0;
    let mut writer = ledger.writer()?;
    writer.keep_manual_links(account.id)?;
    writer.forget_api_events(account.id)?;
    writer.forget_details(account.id)?;
    for (raw, events) in raws.iter().zip(&normalized) {
        let source = raw.stream.source();
        let events = match events {
            Ok(events) => events,
            Err(error) => {
                writer.unreadable(raw.id, &error.to_string(), seen_ms)?;
                unreadable += 1;
                continue;
            }
        };
        for event in events {
            if event.is_details() {
                writer.details(account.id, raw.id, event)?;
                continue;
            }
            if let Some(existing) = matcher.find(raw.id, event) {
                writer.link(existing, &[raw.id])?;
                matched += 1;
                continue;
            }
            let _: Written = writer.event(account.id, &source, event, &[raw.id])?;
        }
    }
    let manual_links_dropped = writer.restore_manual_links()? as u64;
    writer.commit()?;
    ledger.attach_details(account.id)?;
    Ok(Renormalized {
        account: account.label.clone(),
        records: raws.len() as u64,
        events_before,
        events_after: ledger.event_counts_by_source_prefix(account.id, "api:")?,
        matched_file_events: matched,
        unreadable,
        manual_links_dropped,
    })
}
