//! The trait the sync engine drives: one implementation per exchange.
//!
//! The engine asks an adapter which streams (endpoint + scope) an account has, fetches one
//! page of a stream at a time from a cursor, and stores the page's raw records together with
//! the cursor after them in one transaction. Normalising is separate from fetching: it is a
//! pure function of a stored raw record ([`crate::registry::normalize`]), so the raw archive
//! can be re-normalised offline, with no key and no network.

use std::collections::BTreeSet;

use rust_decimal::Decimal;

use crate::http::FetchError;

/// One endpoint of an exchange, within one scope (a symbol, an asset, a wallet; empty when
/// the endpoint has none), walked with its own cursor.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stream {
    /// The endpoint's name as the exchange documents it (`myTrades`, `Ledgers`).
    pub endpoint: String,
    /// The scope within the endpoint (`BNB/BTC`), or empty.
    pub scope: String,
}

impl Stream {
    /// A stream of `endpoint` within `scope`.
    pub fn new(endpoint: impl Into<String>, scope: impl Into<String>) -> Stream {
        Stream { endpoint: endpoint.into(), scope: scope.into() }
    }

    /// The raw-archive source name of this stream's records: `api:ENDPOINT` or
    /// `api:ENDPOINT:SCOPE`. [`Stream::from_source`] reads it back.
    pub fn source(&self) -> String {
        if self.scope.is_empty() {
            format!("api:{}", self.endpoint)
        } else {
            format!("api:{}:{}", self.endpoint, self.scope)
        }
    }

    /// The stream whose records carry this raw-archive source, if it is an API source.
    pub fn from_source(source: &str) -> Option<Stream> {
        let rest = source.strip_prefix("api:")?;
        Some(match rest.split_once(':') {
            Some((endpoint, scope)) => Stream::new(endpoint, scope),
            None => Stream::new(rest, ""),
        })
    }
}

impl std::fmt::Display for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.scope.is_empty() { f.write_str(&self.endpoint) } else { write!(f, "{} {}", self.endpoint, self.scope) }
    }
}

/// One record exactly as the exchange sent it.
#[derive(Clone, Debug, PartialEq)]
pub struct RawRecord {
    /// The exchange's own id for the record, unique within its stream.
    pub external_id: String,
    /// The record's JSON text, as received (one element of the answer).
    pub payload: String,
}

/// A span of exchange time, in Unix milliseconds, `from` included, `to` excluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    /// First millisecond covered.
    pub from_ms: i64,
    /// First millisecond not covered.
    pub to_ms: i64,
}

/// How far along a stream's walk is, for progress bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// A walk through time: at `at_ms` of a walk that ends at `end_ms` and began at `start_ms`.
    Time {
        /// Where the walk began.
        start_ms: i64,
        /// How far it got.
        at_ms: i64,
        /// Where it ends.
        end_ms: i64,
    },
    /// Nothing is known of the remaining work (id-paged walks).
    Unknown,
}

/// One page of a stream and how far it really got.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// The records on the page (only records in a final state: a pending deposit is left for
    /// a later run, and the cursor does not move past it).
    pub records: Vec<RawRecord>,
    /// Where the next page starts; stored with the records, in the same transaction.
    pub cursor: String,
    /// Whether the stream has nothing more to give now.
    pub done: bool,
    /// The span of time this page proves fetched (for `coverage`), if it proves one.
    pub covered: Option<Span>,
    /// Where the walk stands after this page.
    pub progress: Progress,
    /// HTTP requests this page took, retries included.
    pub requests: u32,
    /// Of those, how many were retries.
    pub retries: u32,
    /// Things the user should know (a symbol the exchange no longer knows, a record skipped).
    pub warnings: Vec<String>,
}

/// What a key may do, as the exchange reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyPermissions {
    /// The key can read account data.
    pub can_read: bool,
    /// The key can place orders.
    pub can_trade: bool,
    /// The key can move funds out of the account (withdraw, transfer).
    pub can_withdraw: bool,
    /// Whether the key only works from listed IP addresses, when the exchange says.
    pub ip_restricted: Option<bool>,
    /// The exchange's own names for the permissions that matter, for messages.
    pub details: Vec<String>,
}

/// One asset's balance as the exchange reports it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Balance {
    /// Canonical asset symbol.
    pub asset: String,
    /// Total held (free + locked).
    pub amount: Decimal,
}

/// What a run asks of an adapter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncPlan {
    /// Walk everything again from the beginning (`--full`).
    pub full: bool,
    /// Where history starts when nothing is stored yet (`--since`), Unix ms.
    pub since_ms: Option<i64>,
}

/// What the engine knows of an account when it asks for streams.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Known {
    /// Every asset the account is known to have touched (ledger legs, reported balances).
    pub assets: BTreeSet<String>,
    /// Assets whose balance may have changed since the last sync (new records this run,
    /// balances that differ from the last reported ones); every asset on a first or full run.
    pub changed: BTreeSet<String>,
    /// Streams walked in earlier runs.
    pub walked: BTreeSet<Stream>,
}

/// What the sync engine needs from an exchange.
pub trait Adapter: Send + Sync {
    /// Asks the exchange what the key may do, without side effects.
    fn key_permissions(&self) -> Result<KeyPermissions, FetchError>;

    /// The account's balances as the exchange reports them now.
    fn balances(&self) -> Result<Vec<Balance>, FetchError>;

    /// The streams to walk given what is known; called again after each round with more
    /// known assets, until it names no stream not already walked in this run.
    fn streams(&self, known: &Known, plan: &SyncPlan) -> Result<Vec<Stream>, FetchError>;

    /// The cursor a walk of `stream` starts from: from the beginning of history (or
    /// `plan.since_ms`) when nothing is stored or `plan.full`, else from the stored cursor
    /// (possibly moved back to re-check recent records that could still change).
    fn start(&self, stream: &Stream, stored: Option<&str>, plan: &SyncPlan) -> Result<String, FetchError>;

    /// Fetches the page that starts at `cursor`.
    fn fetch_page(&self, stream: &Stream, cursor: &str) -> Result<Page, FetchError>;

    /// What the user should be told at the end of every sync of the account: history the API
    /// cannot give, knowing every asset the account `touched` and those whose ledger balance
    /// `differs` from the exchange's: (endpoint the warning belongs to, text). Nothing by default.
    fn closing_warnings(&self, touched: &BTreeSet<String>, differs: &BTreeSet<String>) -> Vec<(String, String)> {
        let _ = (touched, differs);
        Vec::new()
    }
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
