//! The trait the sync engine drives: one implementation per exchange.
//!
//! The engine asks an adapter which streams (endpoint + scope) an account has, fetches one
//! page of a stream at a time from a cursor, and stores the page's raw records together with
//! the cursor after them in one transaction. Normalising is separate from fetching: it is a
//! pure function of a stored raw record, so the raw archive can be re-normalised offline.

use crate::event::NewEvent;

/// One endpoint of an exchange, within one scope (a symbol, an asset, a wallet; empty when
/// the endpoint has none), walked with its own cursor.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stream {
    /// The endpoint's name as the exchange documents it (`myTrades`, `Ledgers`).
    pub endpoint: String,
    /// The scope within the endpoint, or empty.
    pub scope: String,
}

/// One record exactly as the exchange sent it.
#[derive(Clone, Debug, PartialEq)]
pub struct RawRecord {
    /// The exchange's own id for the record, unique within its endpoint.
    pub external_id: String,
    /// The record's JSON, as received.
    pub payload: serde_json::Value,
}

/// One page of a stream and how far it really got.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// The records on the page.
    pub records: Vec<RawRecord>,
    /// Where the next page starts; stored with the records, in the same transaction.
    pub next_cursor: String,
    /// Whether the stream has nothing more to give now.
    pub done: bool,
}

/// Why a raw record could not be turned into events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{endpoint} record {external_id}: {reason}")]
pub struct NormalizeError {
    /// The endpoint the record came from.
    pub endpoint: String,
    /// The record's id.
    pub external_id: String,
    /// What is wrong with it.
    pub reason: String,
}

/// What the sync engine needs from an exchange.
pub trait Adapter: Send + Sync {
    /// Error type of fetching (network, auth, rate limits).
    type Error: std::error::Error + Send + Sync + 'static;

    /// The streams this account has (may ask the exchange, e.g. for symbols).
    fn streams(&self) -> Result<Vec<Stream>, Self::Error>;

    /// Fetches the page that starts at `cursor` (`None` for the very beginning).
    fn fetch_page(&self, stream: &Stream, cursor: Option<&str>) -> Result<Page, Self::Error>;

    /// Turns one stored raw record into events: pure, no network.
    fn normalize(&self, stream: &Stream, record: &RawRecord) -> Result<Vec<NewEvent>, NormalizeError>;
}
