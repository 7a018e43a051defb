//! Bitstamp's complete history, walked for the sync engine.
//!
//! # `user_transactions`: every balance change
//!
//! `POST /api/v2/user_transactions/` (<https://www.bitstamp.net/api/>)
//! lists every balance change of the account on every pair, delisted ones included: deposits,
//! withdrawals, market trades, staking moves and rewards, referral rewards, sub-account and
//! inter-account transfers. It is walked oldest first (`sort=asc`) by id, 1,000 records a call
//! (the most Bitstamp gives): the first call asks `offset=0` (or `since_timestamp` for
//! `--since`), every later one `since_id` = the last stored id + 1. Ids only grow, so records
//! that arrive during a walk come after it and are the next page's; a page shorter than 1,000
//! ends the walk. The cursor is the JSON of the last stored id and its time; a killed walk
//! resumes after the last committed page, and the next sync asks only what came since.
//!
//! # `crypto-transactions`: tx hashes, addresses and networks
//!
//! `POST /api/v2/crypto-transactions/` lists the crypto deposits and withdrawals again, with
//! their tx hash, destination address and network ([`super::crypto_transactions`]). Its entries
//! have no id, the list takes no time filter and its order is not documented, so each sync walks
//! it whole from `offset=0`, 1,000 entries a call (its most), until a page shorter than 1,000
//! (or `offset` would pass 200,000, the most Bitstamp accepts: then a warning). An account
//! with fewer than 1,000 crypto deposits and withdrawals costs one request a sync. The cursor is
//! the offset of the next page within the walk, stored with the page: a killed walk resumes there
//! (entries added meanwhile can only shift entries to later offsets or add them at the end, so
//! none is skipped, and a record seen twice is stored once: records are keyed by content). Its
//! records make no events: they are details the ledger attaches to the `user_transactions`
//! deposit or withdrawal they repeat. A key Bitstamp refuses this list (a sub-account's key:
//! the list is for main accounts only; a key without its permission) gives a warning, not a
//! failed sync: the money is all in `user_transactions`.
//!
//! # Key check
//!
//! Bitstamp's API does not say what a key may do. `account_balances` proves the key reads;
//! whether it may withdraw stays unknown, which counts as "may withdraw": the key is refused
//! unless `--allow-withdraw-key` (fail closed).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::api::{BitstampApi, Endpoint, malformed};
use super::assets::canonical_asset;
use super::crypto_transactions::{CRYPTO_TRANSACTIONS, records_of_page};
use super::normalize::{USER_TRANSACTIONS, read_transaction};
use crate::adapter::{Adapter, Balance, KeyPermissions, Known, Page, Progress, RawRecord, Span, Stream, SyncPlan};
use crate::amount::parse_amount;
use crate::cursor;
use crate::http::FetchError;

/// Records per `user_transactions` call (Bitstamp's maximum).
pub const PAGE_SIZE: usize = 1000;
/// The highest `offset` `crypto-transactions` accepts.
pub const MAX_CRYPTO_OFFSET: u64 = 200_000;
/// Bitstamp opened in August 2011: where coverage of a complete walk begins.
pub const LAUNCH_MS: i64 = 1_312_156_800_000;

/// What `key_permissions` reports: Bitstamp does not tell.
pub const UNREPORTED: &str = "Bitstamp's API does not report what a key may do";

/// The Bitstamp adapter of one account.
pub struct BitstampAdapter {
    api: BitstampApi,
}

/// Where a walk of `user_transactions` stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
struct Cursor {
    /// The last id stored; none: from the first record (or `since_ms`).
    #[serde(skip_serializing_if = "Option::is_none")]
    last_id: Option<u64>,
    /// The time of the last record stored, or where the walk started, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    at_ms: Option<i64>,
    /// `--since` of a walk that has stored nothing yet, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    since_ms: Option<i64>,
}

/// Where a walk of `crypto-transactions` stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
struct CryptoCursor {
    /// The offset of the next page.
    offset: u64,
    /// Whether a walk is under way (a stored cursor with `walking` resumes; else a new walk).
    walking: bool,
}

/// One account balance as `account_balances` sends it.
#[derive(Deserialize)]
struct AccountBalance<'a> {
    currency: String,
    #[serde(borrow)]
    total: &'a RawValue,
}

/// The text of a JSON string or number.
fn number_text(value: &RawValue) -> String {
    let raw = value.get().trim();
    serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_owned())
}

impl BitstampAdapter {
    /// The adapter over `api`.
    pub fn new(api: BitstampApi) -> BitstampAdapter {
        BitstampAdapter { api }
    }

    /// The API it calls.
    pub fn api(&self) -> &BitstampApi {
        &self.api
    }

    fn fetch_transactions(&self, text: &str) -> Result<Page, FetchError> {
        let c: Cursor = cursor::decode(text).ok_or_else(|| {
            malformed(Endpoint::UserTransactions, format!("cursor {text:?} is not a user_transactions cursor"))
        })?;
        let mut params = vec![("limit", PAGE_SIZE.to_string()), ("sort", "asc".to_owned())];
        match (c.last_id, c.since_ms) {
            (Some(id), _) => params.push(("since_id", id.saturating_add(1).to_string())),
            (None, Some(ms)) => params.push(("since_timestamp", ms.div_euclid(1000).to_string())),
            (None, None) => params.push(("offset", "0".to_owned())),
        }
        let answer = self.api.call(Endpoint::UserTransactions, &params)?;
        let rows: Vec<&RawValue> = serde_json::from_slice(&answer.body)
            .map_err(|e| malformed(Endpoint::UserTransactions, format!("not a list of transactions: {e}")))?;
        let count = rows.len();
        let mut records = Vec::with_capacity(count);
        let mut warnings = Vec::new();
        let mut next = c.clone();
        for raw in rows {
            let payload = raw.get().to_owned();
            let (id, time_ms) = match id_and_time(&payload) {
                Ok(found) => found,
                Err(reason) => {
                    // Without an id the walk could not go on past it safely: stop here.
                    return Err(malformed(
                        Endpoint::UserTransactions,
                        format!("a record without a readable id: {reason}"),
                    ));
                }
            };
            if c.last_id.is_some_and(|last| id <= last) {
                continue;
            }
            if next.last_id.is_some_and(|last| id <= last) {
                warnings.push(format!("user_transactions: record {id} arrived out of id order; kept"));
            }
            next.last_id = Some(next.last_id.map_or(id, |last| last.max(id)));
            if let Some(ms) = time_ms {
                next.at_ms = Some(next.at_ms.map_or(ms, |at| at.max(ms)));
            }
            records.push(RawRecord { external_id: id.to_string(), payload });
        }
        next.since_ms = None;
        let done = count < PAGE_SIZE;
        let from_ms = c.at_ms.or(c.since_ms).unwrap_or(LAUNCH_MS);
        let to_ms = if done { self.api.limiter().exchange_now_ms() } else { next.at_ms.map_or(from_ms, |ms| ms + 1) };
        if next.at_ms.is_none() {
            next.at_ms = c.since_ms;
        }
        Ok(Page {
            records,
            pending: Vec::new(),
            cursor: cursor::encode(&next),
            done,
            covered: (to_ms > from_ms).then_some(Span { from_ms, to_ms }),
            progress: Progress::Unknown,
            requests: answer.attempts,
            retries: answer.attempts.saturating_sub(1),
            warnings,
        })
    }
}

impl BitstampAdapter {
    fn fetch_crypto_transactions(&self, text: &str) -> Result<Page, FetchError> {
        let c: CryptoCursor = cursor::decode(text).ok_or_else(|| {
            malformed(Endpoint::CryptoTransactions, format!("cursor {text:?} is not a crypto-transactions cursor"))
        })?;
        let params = [("limit", PAGE_SIZE.to_string()), ("offset", c.offset.to_string())];
        let finished = CryptoCursor { offset: 0, walking: false };
        let answer = match self.api.call(Endpoint::CryptoTransactions, &params) {
            Ok(answer) => answer,
            Err(FetchError::Auth { message, .. }) => {
                return Ok(Page {
                    records: Vec::new(),
                    pending: Vec::new(),
                    cursor: cursor::encode(&finished),
                    done: true,
                    covered: None,
                    progress: Progress::Unknown,
                    requests: 1,
                    retries: 0,
                    warnings: vec![format!(
                        "crypto-transactions: Bitstamp refused the list of tx hashes ({message}); deposits and \
                         withdrawals are all there from user_transactions, without their tx hash and address"
                    )],
                });
            }
            Err(e) => return Err(e),
        };
        let page = records_of_page(&answer.body).map_err(|reason| malformed(Endpoint::CryptoTransactions, reason))?;
        let next_offset = c.offset + page.entries as u64;
        let mut warnings = Vec::new();
        let mut done = page.entries < PAGE_SIZE;
        if !done && next_offset > MAX_CRYPTO_OFFSET {
            warnings.push(format!(
                "crypto-transactions: Bitstamp lists no entries past offset {MAX_CRYPTO_OFFSET}; \
                 entries beyond it have no tx hash in the ledger"
            ));
            done = true;
        }
        let next = if done { finished } else { CryptoCursor { offset: next_offset, walking: true } };
        Ok(Page {
            records: page.records,
            pending: Vec::new(),
            cursor: cursor::encode(&next),
            done,
            covered: None,
            progress: Progress::Unknown,
            requests: answer.attempts,
            retries: answer.attempts.saturating_sub(1),
            warnings,
        })
    }
}

/// The id of a record and its time (when readable), for the walk.
fn id_and_time(payload: &str) -> Result<(u64, Option<i64>), String> {
    #[derive(Deserialize)]
    struct Head<'a> {
        #[serde(borrow)]
        id: &'a RawValue,
    }
    let head: Head = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let id_text = number_text(head.id);
    let id: u64 = id_text.parse().map_err(|_| format!("id {id_text:?} is not a whole number"))?;
    let time_ms = read_transaction(payload).ok().map(|t| crate::time::to_millis(t.time));
    Ok((id, time_ms))
}

impl Adapter for BitstampAdapter {
    fn key_permissions(&self) -> Result<KeyPermissions, FetchError> {
        // Reading balances proves the key reads; Bitstamp says nothing of the rest.
        self.api.call(Endpoint::AccountBalances, &[])?;
        Ok(KeyPermissions {
            can_read: true,
            can_trade: None,
            can_withdraw: None,
            ip_restricted: None,
            details: vec![UNREPORTED.to_owned()],
        })
    }

    fn balances(&self) -> Result<Vec<Balance>, FetchError> {
        let answer = self.api.call(Endpoint::AccountBalances, &[])?;
        let rows: Vec<AccountBalance> = serde_json::from_slice(&answer.body)
            .map_err(|e| malformed(Endpoint::AccountBalances, format!("not a list of balances: {e}")))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let bad = |reason: String| malformed(Endpoint::AccountBalances, format!("{}: {reason}", row.currency));
            let amount = parse_amount(&number_text(row.total)).map_err(|e| bad(e.to_string()))?;
            if amount.is_zero() {
                continue;
            }
            out.push(Balance { asset: canonical_asset(&row.currency).map_err(|e| bad(e.to_string()))?, amount });
        }
        out.sort();
        Ok(out)
    }

    fn streams(&self, _known: &Known, _plan: &SyncPlan) -> Result<Vec<Stream>, FetchError> {
        Ok(vec![Stream::new(USER_TRANSACTIONS, ""), Stream::new(CRYPTO_TRANSACTIONS, "")])
    }

    fn start(&self, stream: &Stream, stored: Option<&str>, plan: &SyncPlan) -> Result<String, FetchError> {
        if stream.endpoint == CRYPTO_TRANSACTIONS {
            // No time filter: `--since` does not apply; a walk under way resumes, else a new one.
            let cursor = match (plan.full, stored.and_then(cursor::decode::<CryptoCursor>)) {
                (false, Some(c)) if c.walking => c,
                _ => CryptoCursor { offset: 0, walking: true },
            };
            return Ok(cursor::encode(&cursor));
        }
        if stream.endpoint != USER_TRANSACTIONS {
            return Err(FetchError::Setup { exchange: "bitstamp".into(), reason: format!("unknown stream {stream}") });
        }
        let cursor = match (plan.full, stored.and_then(cursor::decode::<Cursor>)) {
            (false, Some(c)) if c.last_id.is_some() => c,
            _ => Cursor { since_ms: plan.since_ms, ..Cursor::default() },
        };
        Ok(cursor::encode(&cursor))
    }

    fn fetch_page(&self, stream: &Stream, cursor: &str) -> Result<Page, FetchError> {
        if stream.endpoint == CRYPTO_TRANSACTIONS {
            return self.fetch_crypto_transactions(cursor);
        }
        if stream.endpoint != USER_TRANSACTIONS {
            return Err(FetchError::Setup { exchange: "bitstamp".into(), reason: format!("unknown stream {stream}") });
        }
        self.fetch_transactions(cursor)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::Secret;
    use crate::http::client::test_server::{Reply, TestServer};
    use crate::http::{ClientConfig, Clock, ManualClock};

    fn adapter_on(url: &str) -> BitstampAdapter {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(1_800_000_000_000));
        let limiter = BitstampApi::new_limiter(Arc::clone(&clock), super::super::api::Budget::DEFAULT);
        let config = ClientConfig::for_tests(Duration::from_millis(500), 3);
        let api =
            BitstampApi::new(Some(url), Secret::new("K"), Secret::new("S"), "main", limiter, config, clock).unwrap();
        BitstampAdapter::new(api)
    }

    fn record(id: u64) -> String {
        format!(
            r#"{{"id": {id}, "datetime": "2024-01-01 00:00:{:02}.000000", "type": "0", "fee": "0", "btc": "1"}}"#,
            id % 60
        )
    }

    #[test]
    fn the_walk_goes_by_id_from_the_first_record_and_stops_on_a_short_page() {
        let server = TestServer::start(|n, _| {
            let ids: Vec<u64> = if n == 0 { (1..=1000).collect() } else { (1001..=1003).collect() };
            Reply::json(200, &format!("[{}]", ids.iter().map(|id| record(*id)).collect::<Vec<_>>().join(",")))
        });
        let adapter = adapter_on(&server.url());
        let stream = Stream::new(USER_TRANSACTIONS, "");
        let plan = SyncPlan { full: false, since_ms: None };
        let first = adapter.start(&stream, None, &plan).unwrap();
        let page = adapter.fetch_page(&stream, &first).unwrap();
        assert_eq!(page.records.len(), 1000);
        assert!(!page.done);
        assert_eq!(page.records[999].external_id, "1000");
        let page2 = adapter.fetch_page(&stream, &page.cursor).unwrap();
        assert_eq!(page2.records.len(), 3);
        assert!(page2.done);
        let seen = server.seen();
        assert_eq!(seen[0].body, "limit=1000&sort=asc&offset=0");
        assert_eq!(seen[1].body, "limit=1000&sort=asc&since_id=1001");
        // The next sync starts after the last stored id; --full from the first record again.
        let again = adapter.start(&stream, Some(&page2.cursor), &plan).unwrap();
        assert_eq!(cursor::decode::<Cursor>(&again).unwrap().last_id, Some(1003));
        let full =
            adapter.start(&stream, Some(&page2.cursor), &SyncPlan { full: true, since_ms: Some(5_000) }).unwrap();
        assert_eq!(cursor::decode::<Cursor>(&full).unwrap(), Cursor { since_ms: Some(5_000), ..Cursor::default() });
    }

    #[test]
    fn a_since_walk_asks_by_timestamp_and_a_record_already_stored_is_not_stored_again() {
        let server = TestServer::start(|_, _| Reply::json(200, &format!("[{},{}]", record(7), record(8))));
        let adapter = adapter_on(&server.url());
        let stream = Stream::new(USER_TRANSACTIONS, "");
        let since = Cursor { since_ms: Some(1_704_067_200_999), ..Cursor::default() };
        adapter.fetch_page(&stream, &cursor::encode(&since)).unwrap();
        assert_eq!(server.seen()[0].body, "limit=1000&sort=asc&since_timestamp=1704067200");
        let resumed = Cursor { last_id: Some(7), at_ms: Some(1), since_ms: None };
        let page = adapter.fetch_page(&stream, &cursor::encode(&resumed)).unwrap();
        assert_eq!(page.records.iter().map(|r| r.external_id.as_str()).collect::<Vec<_>>(), ["8"]);
    }

    fn crypto_page(count: usize) -> String {
        let deposits: Vec<String> = (0..count)
            .map(|i| {
                format!(
                    r#"{{"currency": "btc", "amount": "0.{:08}", "datetime": {}, "txid": "t{i}", "destinationAddress": "a", "network": "bitcoin"}}"#,
                    i + 1,
                    1_700_000_000 + i
                )
            })
            .collect();
        format!(r#"{{"deposits": [{}], "withdrawals": []}}"#, deposits.join(","))
    }

    #[test]
    fn crypto_transactions_are_walked_whole_by_offset_and_a_killed_walk_resumes() {
        let server = TestServer::start(|n, _| Reply::json(200, &crypto_page(if n == 0 { 1000 } else { 2 })));
        let adapter = adapter_on(&server.url());
        let stream = Stream::new(CRYPTO_TRANSACTIONS, "");
        let plan = SyncPlan { full: false, since_ms: Some(1_800_000_000_000) };
        let first = adapter.start(&stream, None, &plan).unwrap();
        let page = adapter.fetch_page(&stream, &first).unwrap();
        assert_eq!(page.records.len(), 1000);
        assert!(!page.done);
        assert_eq!(page.covered, None, "details prove no span of the history");
        // Killed here: the next sync resumes at the stored offset.
        let resumed = adapter.start(&stream, Some(&page.cursor), &plan).unwrap();
        assert_eq!(resumed, page.cursor);
        let last = adapter.fetch_page(&stream, &resumed).unwrap();
        assert_eq!(last.records.len(), 2);
        assert!(last.done);
        let seen = server.seen();
        assert_eq!(seen[0].body, "limit=1000&offset=0");
        assert_eq!(seen[1].body, "limit=1000&offset=1000");
        // A finished walk starts again from the first entry (no id, no time filter to go by).
        let again = adapter.start(&stream, Some(&last.cursor), &plan).unwrap();
        assert_eq!(cursor::decode::<CryptoCursor>(&again).unwrap(), CryptoCursor { offset: 0, walking: true });
        assert!(last.records.iter().all(|r| r.external_id.starts_with("deposits:btc:")));
    }

    #[test]
    fn a_key_refused_crypto_transactions_gives_a_warning_not_a_failed_sync() {
        let server = TestServer::start(|_, _| {
            Reply::json(403, r#"{"status": "error", "reason": "No permission found", "code": "API0003"}"#)
        });
        let adapter = adapter_on(&server.url());
        let stream = Stream::new(CRYPTO_TRANSACTIONS, "");
        let start = adapter.start(&stream, None, &SyncPlan { full: false, since_ms: None }).unwrap();
        let page = adapter.fetch_page(&stream, &start).unwrap();
        assert!(page.done);
        assert!(page.records.is_empty());
        assert_eq!(page.warnings.len(), 1);
        assert!(page.warnings[0].contains("API0003"), "{}", page.warnings[0]);
        // The user_transactions stream still fails on such a refusal (the money is there).
        let user = Stream::new(USER_TRANSACTIONS, "");
        let start = adapter.start(&user, None, &SyncPlan { full: false, since_ms: None }).unwrap();
        assert!(matches!(adapter.fetch_page(&user, &start), Err(FetchError::Auth { .. })));
    }

    #[test]
    fn balances_are_totals_per_currency_and_the_key_check_fails_closed() {
        let server = TestServer::start(|_, _| {
            Reply::json(
                200,
                r#"[{"currency":"btc","total":"0.50000000","available":"0.4","reserved":"0.1"},
                    {"currency":"usd","total":"0.00","available":"0.00","reserved":"0.00"},
                    {"currency":"eur","total":12.5,"available":12.5,"reserved":0}]"#,
            )
        });
        let adapter = adapter_on(&server.url());
        let balances = adapter.balances().unwrap();
        assert_eq!(
            balances,
            vec![
                Balance { asset: "BTC".into(), amount: "0.50000000".parse().unwrap() },
                Balance { asset: "EUR".into(), amount: "12.5".parse().unwrap() },
            ]
        );
        let permissions = adapter.key_permissions().unwrap();
        assert!(permissions.can_read);
        assert!(permissions.may_withdraw(), "Bitstamp does not say: the key counts as able to withdraw");
    }
}
