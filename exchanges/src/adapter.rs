//! The trait the sync engine drives: one implementation per exchange.
//!
//! The engine asks an adapter which streams (endpoint + scope) an account has, fetches one
//! page of a stream at a time from a cursor, and stores the page's raw records together with
//! the cursor after them in one transaction. Normalising is separate from fetching: it is a
//! pure function of a stored raw record ([`crate::registry::normalize`]), so the raw archive
//! can be re-normalised offline, with no key and no network.

use std::collections::BTreeSet;
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::http::{ClientConfig, Clock, FetchError, Limiter};
use crate::{NewEvent, Secret};

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
    /// The records on the page, in a final state only: a record that may still change is not
    /// here but in `pending`, and the cursor moves past it all the same.
    pub records: Vec<RawRecord>,
    /// Records the page passed over because they are not final yet (pending, waiting): the
    /// ledger remembers them with the page, and each later sync re-asks them
    /// ([`Adapter::recheck`]) until they are final.
    pub pending: Vec<Pending>,
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

/// A record not final yet, passed over by a walk and remembered until it is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pending {
    /// The exchange's own id for the record.
    pub external_id: String,
    /// What the adapter needs to ask for it again besides its id (Coinbase: its wallet), or empty.
    pub locator: String,
    /// A few words naming it for the user (`send of -0.5 BTC, pending since 2026-01-02`).
    pub what: String,
}

/// What re-asking remembered pending records gave: those that are final now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recheck {
    /// Records final now, by the id they were remembered under; `None` when the record is final
    /// but nothing is to be stored (the exchange no longer has it).
    pub settled: Vec<(String, Option<RawRecord>)>,
    /// HTTP requests the re-asking took, retries included.
    pub requests: u32,
    /// Of those, how many were retries.
    pub retries: u32,
    /// Things the user should know.
    pub warnings: Vec<String>,
}

/// What a key may do, as the exchange reports it. A permission the exchange does not report,
/// or reports in a way that cannot be read, is `None` ("unknown"); the sync then treats an
/// unknown withdraw permission as "may withdraw" (it fails closed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyPermissions {
    /// The key can read account data.
    pub can_read: bool,
    /// The key can place orders; `None` when the exchange does not say.
    pub can_trade: Option<bool>,
    /// The key can move funds out of the account (withdraw, transfer); `None` when the
    /// exchange does not say (counted as "may withdraw").
    pub can_withdraw: Option<bool>,
    /// Whether the key only works from listed IP addresses, when the exchange says.
    pub ip_restricted: Option<bool>,
    /// The exchange's own names for the permissions that matter, for messages.
    pub details: Vec<String>,
}

impl KeyPermissions {
    /// Whether the key must be treated as able to withdraw: it can, or nobody can tell.
    pub fn may_withdraw(&self) -> bool {
        self.can_withdraw != Some(false)
    }
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

    /// What `account check` should say about the part of the account this key cannot see (a
    /// Coinbase key sees one portfolio); none by default.
    fn key_notes(&self) -> Result<Vec<String>, FetchError> {
        Ok(Vec::new())
    }

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

    /// Asks again, by id, for records of `stream` that earlier pages passed over as not final
    /// ([`Page::pending`]); returns those final now. By default none is: an adapter whose pages
    /// never name pending records need not implement it.
    fn recheck(&self, stream: &Stream, pending: &[Pending]) -> Result<Recheck, FetchError> {
        let _ = (stream, pending);
        Ok(Recheck::default())
    }

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

/// Checks a key's shape (key, secret).
pub type CheckKey = fn(&str, &Secret) -> Result<(), KeyProblem>;

/// Reads a key file's content: (key, secret).
pub type ReadKeyFile = fn(&[u8]) -> Result<(String, Secret), KeyProblem>;

/// Turns one stored raw record into events: pure, no network, no key.
pub type NormalizeFn = fn(&Stream, &RawRecord) -> Result<Vec<NewEvent>, NormalizeError>;

/// What an adapter is built from.
pub struct Connect<'a> {
    /// The account's label (for messages and the limiter's accounting).
    pub label: &'a str,
    /// The API key (or key name).
    pub key: Secret,
    /// The API secret (or private key).
    pub secret: Secret,
    /// The key's passphrase, for exchanges whose keys have one ([`Keys::passphrase`]).
    pub passphrase: Option<Secret>,
    /// The base URL to talk to; production when `None`.
    pub base_url: Option<&'a str>,
    /// The limiter shared by every account of the exchange on this server.
    pub limiter: Arc<Limiter>,
    /// Timeouts and retries.
    pub config: ClientConfig,
    /// The clock the waits run on.
    pub clock: Arc<dyn Clock>,
}

/// Why a key cannot be used, said before anything is contacted or stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyProblem {
    /// What is wrong (never the key itself).
    pub message: String,
    /// What to do about it, when there is something to say.
    pub hint: Option<&'static str>,
}

/// What is special about an exchange's keys.
#[derive(Clone, Copy, Default)]
pub struct Keys {
    /// The prompt for the key at a terminal, given the account's label; `None`: the common
    /// "API key for LABEL (EXCHANGE): ".
    pub key_prompt: Option<fn(&str) -> String>,
    /// When the secret may be a multi-line PEM block: the line printed before it is read
    /// (its lines are then read up to the `-----END` line).
    pub pem_secret: Option<&'static str>,
    /// Checks a key's shape (key, secret) before it is used or stored.
    pub check: Option<CheckKey>,
    /// Reads the key file the exchange's portal downloads: (key, secret).
    pub key_file: Option<ReadKeyFile>,
    /// Whether its keys come with a passphrase chosen at creation (a third secret, sent with
    /// every request): `account add` then asks for it (or reads `--passphrase-env`).
    pub passphrase: bool,
}
