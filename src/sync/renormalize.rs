//! `renormalize`: rebuild an account's API events from its raw archive, with no network.
//!
//! After a fix to a normaliser, the stored raw records are turned into events again: the
//! events that came from API records are deleted and rebuilt, in the order the records were
//! stored, matched against file imports exactly as a sync matches them — so the ledger ends
//! as a fresh sync would leave it. Events imported from files are not touched. Everything
//! is normalised before anything is written; one record that cannot be read stops the
//! command with nothing changed.

use cointally_exchanges::Exchange;
use cointally_exchanges::adapter::{NormalizeError, RawRecord};
use cointally_exchanges::registry::normalize;
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
}

/// Why an account could not be re-normalised.
#[derive(Debug, thiserror::Error)]
pub enum RenormalizeError {
    /// A stored record cannot be read by the current normaliser.
    #[error("account {account}, raw record {raw_id}: {source}")]
    Record {
        /// The account.
        account: String,
        /// The raw record's row id.
        raw_id: i64,
        /// What is wrong.
        source: NormalizeError,
    },
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
    let mut normalized = Vec::with_capacity(raws.len());
    for raw in &raws {
        let record = RawRecord { external_id: raw.external_id.clone(), payload: raw.payload.clone() };
        let events = normalize(exchange, &raw.stream, &record).map_err(|source| RenormalizeError::Record {
            account: account.label.clone(),
            raw_id: raw.id,
            source,
        })?;
        normalized.push(events);
    }
    let events_before = ledger.event_counts_by_source_prefix(account.id, "api:")?;
    let mut matcher = Matcher::new(ledger.imported_events(account.id)?, Vec::new());
    let mut matched = 0;
    let mut writer = ledger.writer()?;
    writer.forget_api_events(account.id)?;
    for (raw, events) in raws.iter().zip(&normalized) {
        let source = raw.stream.source();
        for event in events {
            if let Some(existing) = matcher.find(raw.id, event) {
                writer.link(existing, &[raw.id])?;
                matched += 1;
                continue;
            }
            let _: Written = writer.event(account.id, &source, event, &[raw.id])?;
        }
    }
    writer.commit()?;
    Ok(Renormalized {
        account: account.label.clone(),
        records: raws.len() as u64,
        events_before,
        events_after: ledger.event_counts_by_source_prefix(account.id, "api:")?,
        matched_file_events: matched,
    })
}
