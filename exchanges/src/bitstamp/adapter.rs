//! Bitstamp's complete history, walked for the sync engine.
//!
//! # One stream: `user_transactions`
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
//! # Key check
//!
//! Bitstamp's API does not say what a key may do. `account_balances` proves the key reads;
//! whether it may withdraw stays unknown, which counts as "may withdraw": the key is refused
//! unless `--allow-withdraw-key` (fail closed).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::api::{BitstampApi, Endpoint, malformed};
use super::assets::canonical_asset;
use super::normalize::{USER_TRANSACTIONS, read_transaction};
use crate::adapter::{Adapter, Balance, KeyPermissions, Known, Page, Progress, RawRecord, Span, Stream, SyncPlan};
use crate::amount::parse_amount;
use crate::cursor;
use crate::http::FetchError;

/// Records per `user_transactions` call (Bitstamp's maximum).
pub const PAGE_SIZE: usize = 1000;
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
        Ok(vec![Stream::new(USER_TRANSACTIONS, "")])
    }

    fn start(&self, stream: &Stream, stored: Option<&str>, plan: &SyncPlan) -> Result<String, FetchError> {
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
