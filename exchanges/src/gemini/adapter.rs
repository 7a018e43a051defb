//! A Gemini account's history, walked for the sync engine.
//!
//! # Streams
//!
//! - `transfers`: every deposit, withdrawal, reward and admin credit or debit
//!   (`POST /v1/transfers`, 50 per call, <https://docs.gemini.com/rest/fund-management#transfers>).
//! - `staking/history`: moves into and out of staking and its interest
//!   (`POST /v1/staking/history`, 500 per call, oldest first with `sortAsc`,
//!   <https://docs.gemini.com/rest/staking#list-staking-transactions>; Gemini's page walks it
//!   backwards with `until`, cointally forwards with `since`, both documented parameters, so a
//!   walk resumes after a kill and a later run asks only what is new).
//! - `mytrades`, one per symbol (`POST /v1/mytrades`, 500 per call,
//!   <https://docs.gemini.com/rest/orders#get-past-trades>): Gemini has no "all my trades" call,
//!   so the symbols of the public list (`GET /v1/symbols`) whose base or quote the account is
//!   known to have touched (balances, transfers, fills found in an earlier round) are asked;
//!   on a later run only those never walked or touching an asset whose balance changed.
//!
//! # The walk: forwards by time, nothing skipped or doubled
//!
//! Both endpoints take `timestamp` (records at or after it, sent in milliseconds) and a limit,
//! and answer the earliest records from there, newest first (the pagination rotki relies on).
//! The cursor holds `from_ms` and the ids already stored at that very millisecond (`seen`):
//! each call asks from `from_ms`, drops the rows already seen, stores the rest, and moves
//! `from_ms` to the page's newest millisecond. A page shorter than the limit ends the walk;
//! the cursor stays where it is, so the next run asks once and gets only what is new. A
//! transfer still `Pending` is not stored: the cursor remembers the earliest one (`hold_ms`),
//! and the next walk starts again from there (records stored twice are stored once).
//!
//! # Key check
//!
//! `POST /v1/roles` says which roles the key has (<https://docs.gemini.com/rest/account-administration#get-roles>):
//! a Fund Manager key can withdraw and is refused unless `--allow-withdraw-key`; a Trader key
//! can place orders; an Auditor key only reads. An answer without `isFundManager` counts as
//! "may withdraw".

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::api::{Endpoint, GeminiApi, malformed};
use super::assets::{canonical_asset, split_symbol};
use super::normalize::{MYTRADES, STAKING, TRANSFERS};
use crate::adapter::{Adapter, Balance, KeyPermissions, Known, Page, Progress, RawRecord, Span, Stream, SyncPlan};
use crate::amount::parse_amount;
use crate::cursor;
use crate::http::FetchError;

/// Fills per `mytrades` call (Gemini's maximum).
pub const TRADES_LIMIT: usize = 500;
/// Transfers per `transfers` call (Gemini's maximum).
pub const TRANSFERS_LIMIT: usize = 50;
/// Staking transactions per call (Gemini's maximum).
pub const STAKING_LIMIT: usize = 500;
/// Gemini opened on 2015-10-05: where a walk with nothing stored begins.
pub const LAUNCH_MS: i64 = 1_443_657_600_000;

/// The Gemini adapter of one account.
pub struct GeminiAdapter {
    api: GeminiApi,
    symbols: OnceLock<Vec<String>>,
}

/// Where a walk stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
struct Cursor {
    /// The next call's `timestamp` (ms, inclusive).
    from_ms: i64,
    /// Ids already stored at `from_ms`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    seen: Vec<String>,
    /// The earliest record passed over as not final in this walk.
    #[serde(skip_serializing_if = "Option::is_none")]
    hold_ms: Option<i64>,
}

/// What the walk needs of a fill or a transfer.
#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    tid: Option<u64>,
    #[serde(default)]
    eid: Option<u64>,
    timestampms: i64,
    #[serde(default)]
    status: Option<String>,
}

/// One provider's part of a staking answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Provider<'a> {
    #[serde(default)]
    provider_id: String,
    #[serde(borrow, default)]
    transactions: Vec<&'a RawValue>,
}

/// What the walk needs of a staking transaction.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StakingMeta {
    transaction_id: String,
    date_time: i64,
}

/// A row of an answer, with the payload to store.
struct Row {
    id: String,
    ms: i64,
    pending: bool,
    payload: String,
}

/// The rows of an answer of `endpoint`.
fn rows_of(endpoint: Endpoint, body: &[u8]) -> Result<Vec<Row>, FetchError> {
    let bad = |e: serde_json::Error| malformed(endpoint, e.to_string());
    let mut rows = Vec::new();
    if endpoint == Endpoint::StakingHistory {
        let providers: Vec<Provider> = serde_json::from_slice(body).map_err(bad)?;
        for provider in providers {
            for raw in provider.transactions {
                let meta: StakingMeta = serde_json::from_str(raw.get()).map_err(bad)?;
                let payload = format!(
                    "{{\"providerId\":{},\"transaction\":{}}}",
                    serde_json::Value::String(provider.provider_id.clone()),
                    raw.get()
                );
                rows.push(Row { id: meta.transaction_id, ms: meta.date_time, pending: false, payload });
            }
        }
        return Ok(rows);
    }
    let raws: Vec<&RawValue> = serde_json::from_slice(body).map_err(bad)?;
    for raw in raws {
        let meta: Meta = serde_json::from_str(raw.get()).map_err(bad)?;
        let id = if endpoint == Endpoint::MyTrades { meta.tid } else { meta.eid };
        let id = id.ok_or_else(|| malformed(endpoint, format!("a row has no id: {}", raw.get())))?;
        let pending = endpoint == Endpoint::Transfers && matches!(meta.status.as_deref(), Some("Pending"));
        rows.push(Row { id: id.to_string(), ms: meta.timestampms, pending, payload: raw.get().to_owned() });
    }
    Ok(rows)
}

impl GeminiAdapter {
    /// The adapter of the account `api` speaks for.
    pub fn new(api: GeminiApi) -> GeminiAdapter {
        GeminiAdapter { api, symbols: OnceLock::new() }
    }

    /// The API handle.
    pub fn api(&self) -> &GeminiApi {
        &self.api
    }

    /// The public symbol list, asked once per run.
    fn symbols(&self) -> Result<&[String], FetchError> {
        if let Some(symbols) = self.symbols.get() {
            return Ok(symbols);
        }
        let answer = self.api.call(Endpoint::Symbols, &[])?;
        let mut symbols: Vec<String> =
            serde_json::from_slice(&answer.body).map_err(|e| malformed(Endpoint::Symbols, e.to_string()))?;
        symbols.iter_mut().for_each(|s| *s = s.to_ascii_lowercase());
        symbols.sort();
        symbols.dedup();
        Ok(self.symbols.get_or_init(|| symbols))
    }

    fn walk(&self, endpoint: Endpoint, stream: &Stream, text: &str) -> Result<Page, FetchError> {
        let mut c: Cursor = cursor::decode(text)
            .ok_or_else(|| malformed(endpoint, format!("cursor {text:?} is not a Gemini cursor")))?;
        let from = c.from_ms.max(0).to_string();
        let (limit, params) = match endpoint {
            Endpoint::MyTrades => (
                TRADES_LIMIT,
                vec![("symbol", stream.scope.clone()), ("timestamp", from), ("limit_trades", TRADES_LIMIT.to_string())],
            ),
            Endpoint::StakingHistory => (
                STAKING_LIMIT,
                vec![("since", from), ("sortAsc", "true".to_owned()), ("limit", STAKING_LIMIT.to_string())],
            ),
            _ => (TRANSFERS_LIMIT, vec![("timestamp", from), ("limit_transfers", TRANSFERS_LIMIT.to_string())]),
        };
        let answer = self.api.call(endpoint, &params)?;
        let mut rows = rows_of(endpoint, &answer.body)?;
        rows.sort_by(|a, b| (a.ms, &a.id).cmp(&(b.ms, &b.id)));
        if rows.first().is_some_and(|row| row.ms < c.from_ms) {
            return Err(malformed(endpoint, format!("a row is older than the timestamp {} asked", c.from_ms)));
        }
        let full = rows.len() >= limit;
        let start_ms = c.from_ms;
        let seen: BTreeSet<String> = c.seen.iter().cloned().collect();
        let fresh: Vec<&Row> = rows.iter().filter(|row| !(row.ms == start_ms && seen.contains(&row.id))).collect();
        let mut records = Vec::with_capacity(fresh.len());
        for row in &fresh {
            if row.pending {
                c.hold_ms = Some(c.hold_ms.map_or(row.ms, |held| held.min(row.ms)));
            } else {
                records.push(RawRecord { external_id: row.id.clone(), payload: row.payload.clone() });
            }
        }
        if let Some(newest) = rows.last() {
            let ids_at_newest = rows.iter().filter(|row| row.ms == newest.ms).map(|row| row.id.clone());
            c.seen = if newest.ms == start_ms {
                seen.into_iter().chain(ids_at_newest).collect()
            } else {
                ids_at_newest.collect()
            };
            c.seen.sort_unstable();
            c.seen.dedup();
            c.from_ms = newest.ms;
        }
        if full && fresh.is_empty() {
            return Err(malformed(
                endpoint,
                format!("more than {limit} records in the millisecond {start_ms}: the walk cannot go past it"),
            ));
        }
        let now = self.api.now_ms();
        let done = !full;
        if done {
            if let Some(hold) = c.hold_ms.take() {
                // The next walk reads again from the earliest record not final yet.
                c = Cursor { from_ms: hold, seen: Vec::new(), hold_ms: None };
            }
        }
        let covered_to = if done { now.max(start_ms) } else { c.from_ms };
        Ok(Page {
            records,
            pending: Vec::new(),
            cursor: cursor::encode(&c),
            done,
            covered: Some(Span { from_ms: start_ms, to_ms: covered_to }),
            progress: Progress::Time { start_ms: LAUNCH_MS, at_ms: c.from_ms.max(LAUNCH_MS), end_ms: now },
            requests: answer.attempts,
            retries: answer.attempts.saturating_sub(1),
            warnings: Vec::new(),
        })
    }
}

impl Adapter for GeminiAdapter {
    fn key_permissions(&self) -> Result<KeyPermissions, FetchError> {
        let answer = self.api.call(Endpoint::Roles, &[])?;
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Roles {
            is_auditor: Option<bool>,
            is_fund_manager: Option<bool>,
            is_trader: Option<bool>,
        }
        let roles: Roles =
            serde_json::from_slice(&answer.body).map_err(|e| malformed(Endpoint::Roles, e.to_string()))?;
        let mut details = Vec::new();
        for (name, has) in
            [("Auditor", roles.is_auditor), ("Trader", roles.is_trader), ("Fund Manager", roles.is_fund_manager)]
        {
            if has == Some(true) {
                details.push(format!("role {name}"));
            }
        }
        Ok(KeyPermissions {
            can_read: true,
            can_trade: roles.is_trader,
            can_withdraw: roles.is_fund_manager,
            ip_restricted: None,
            details,
        })
    }

    fn balances(&self) -> Result<Vec<Balance>, FetchError> {
        /// A balance row: `amount` (exchange) or `balance` (staking), a string or a number.
        #[derive(Deserialize)]
        struct Row<'a> {
            currency: String,
            #[serde(borrow, default)]
            amount: Option<&'a RawValue>,
            #[serde(borrow, default)]
            balance: Option<&'a RawValue>,
        }
        let mut out: Vec<Balance> = Vec::new();
        for endpoint in [Endpoint::Balances, Endpoint::StakingBalances] {
            let answer = self.api.call(endpoint, &[])?;
            let rows: Vec<Row> =
                serde_json::from_slice(&answer.body).map_err(|e| malformed(endpoint, e.to_string()))?;
            for row in rows {
                let bad = |reason: String| malformed(endpoint, format!("{}: {reason}", row.currency));
                let text = row.amount.or(row.balance).ok_or_else(|| bad("no amount".to_owned()))?;
                let amount = parse_amount(text.get().trim_matches('"')).map_err(|e| bad(e.to_string()))?;
                let asset = canonical_asset(&row.currency).map_err(|e| bad(e.to_string()))?;
                match out.iter_mut().find(|b| b.asset == asset) {
                    Some(balance) => balance.amount += amount,
                    None => out.push(Balance { asset, amount }),
                }
            }
        }
        out.retain(|balance| !balance.amount.is_zero());
        out.sort();
        Ok(out)
    }

    fn streams(&self, known: &Known, _plan: &SyncPlan) -> Result<Vec<Stream>, FetchError> {
        let mut streams = vec![Stream::new(TRANSFERS, ""), Stream::new(STAKING, "")];
        if known.assets.is_empty() {
            return Ok(streams);
        }
        for symbol in self.symbols()? {
            let Some((base, quote)) = split_symbol(symbol) else { continue };
            let stream = Stream::new(MYTRADES, symbol.clone());
            let touched = known.assets.contains(&base) || known.assets.contains(&quote);
            let changed = known.changed.contains(&base) || known.changed.contains(&quote);
            if touched && (changed || !known.walked.contains(&stream)) {
                streams.push(stream);
            }
        }
        Ok(streams)
    }

    fn start(&self, stream: &Stream, stored: Option<&str>, plan: &SyncPlan) -> Result<String, FetchError> {
        if ![MYTRADES, TRANSFERS, STAKING].contains(&stream.endpoint.as_str()) {
            return Err(FetchError::Setup { exchange: "gemini".into(), reason: format!("unknown stream {stream}") });
        }
        let fresh = Cursor { from_ms: plan.since_ms.unwrap_or(LAUNCH_MS), ..Cursor::default() };
        let cursor = match stored.filter(|_| !plan.full).and_then(cursor::decode::<Cursor>) {
            Some(stored) if stored != Cursor::default() => stored,
            _ => fresh,
        };
        Ok(cursor::encode(&cursor))
    }

    fn fetch_page(&self, stream: &Stream, cursor: &str) -> Result<Page, FetchError> {
        match stream.endpoint.as_str() {
            MYTRADES => self.walk(Endpoint::MyTrades, stream, cursor),
            TRANSFERS => self.walk(Endpoint::Transfers, stream, cursor),
            STAKING => self.walk(Endpoint::StakingHistory, stream, cursor),
            _ => Err(FetchError::Setup { exchange: "gemini".into(), reason: format!("unknown stream {stream}") }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::Secret;
    use crate::gemini::api::Pace;
    use crate::http::client::test_server::{Reply, TestServer};
    use crate::http::{ClientConfig, Clock, ManualClock};

    fn adapter_answering(roles: &'static str) -> (GeminiAdapter, TestServer) {
        let server = TestServer::start(move |_, _| Reply::json(200, roles));
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(1_700_000_000_000));
        let limiter = GeminiApi::new_limiter(Arc::clone(&clock), Pace::REAL);
        let config = ClientConfig::for_tests(Duration::from_millis(500), 2);
        let api = GeminiApi::new(Some(&server.url()), Secret::new("k"), Secret::new("s"), "a", limiter, config, clock);
        (GeminiAdapter::new(api.unwrap()), server)
    }

    /// An Auditor key reads only; a Fund Manager key may withdraw; an answer that does not say
    /// whether the key is a Fund Manager counts as "may withdraw" (fail closed).
    #[test]
    fn the_roles_decide_the_withdraw_permission_and_silence_fails_closed() {
        let (auditor, _server) =
            adapter_answering(r#"{"counterparty_id":"X","isAuditor":true,"isFundManager":false,"isTrader":false}"#);
        let permissions = auditor.key_permissions().unwrap();
        assert_eq!((permissions.can_withdraw, permissions.can_trade), (Some(false), Some(false)));
        assert!(!permissions.may_withdraw());
        assert_eq!(permissions.details, ["role Auditor"]);

        let (manager, _server) = adapter_answering(r#"{"isAuditor":false,"isFundManager":true,"isTrader":true}"#);
        assert!(manager.key_permissions().unwrap().may_withdraw());

        let (silent, _server) = adapter_answering(r#"{"isAuditor":true}"#);
        let permissions = silent.key_permissions().unwrap();
        assert_eq!(permissions.can_withdraw, None);
        assert!(permissions.may_withdraw());
    }

    #[test]
    fn cursors_read_back_what_they_write() {
        let c =
            Cursor { from_ms: 1_700_000_000_000, seen: vec!["4".into(), "9".into()], hold_ms: Some(1_600_000_000_000) };
        let text = cursor::encode(&c);
        assert_eq!(text, r#"{"from_ms":1700000000000,"seen":["4","9"],"hold_ms":1600000000000}"#);
        assert_eq!(cursor::decode::<Cursor>(&text), Some(c));
        assert_eq!(cursor::decode::<Cursor>(""), Some(Cursor::default()));
        assert_eq!(cursor::decode::<Cursor>("fromId=3"), None);
    }
}
