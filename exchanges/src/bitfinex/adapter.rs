//! Bitfinex's complete history, walked for the sync engine.
//!
//! # Two streams: `ledgers` and `movements`
//!
//! The ledger is the one list of every balance change of every wallet (exchange, margin,
//! funding): trades, fees, deposits, withdrawals, transfers between wallets, funding interest,
//! staking, rebates. `POST /v2/auth/r/ledgers/hist` (all currencies;
//! <https://docs.bitfinex.com/reference/rest-auth-ledgers>) answers at most 2,500 entries a call,
//! newest first, between `start` and `end` (ms, both inclusive). Bitfinex keeps six years of it.
//! Every event comes from it.
//!
//! The movements (`POST /v2/auth/r/movements/hist`, all currencies, 2,500 a call, newest first,
//! `start`/`end` on their MTS_UPDATED) list the deposits and withdrawals again with their tx hash
//! and address: they become details of the ledger's events ([`super::movements`]), never events.
//! A movement still under way is passed over; it is met again when it ends (its MTS_UPDATED
//! moves past where the walk stopped).
//!
//! # The walk: backwards by time, anchored, nothing skipped or doubled
//!
//! Both streams are walked alike ([`Walk`]). A walk starts at the newest entry and goes back: each
//! call passes `end` = the time of the previous page's oldest entry, so entries that arrive during
//! the walk are newer than every `end` and wait for the next walk. Several entries can share a
//! millisecond (a trade's two sides and its fee): a full page is cut before its oldest
//! millisecond, whose entries are asked again with the next page (their ids are remembered, so
//! none is stored twice). A page shorter than 2,500 ends the walk. The next walk passes `start` =
//! the time of this walk's newest entry and stops there, so a re-sync asks one page per stream:
//! what came since. The cursor (JSON) holds the next `end`, the walk's floor and top (time and the
//! ids at that time), and whether it is done; a walk killed half-way resumes from its last stored
//! page.
//!
//! # Key check
//!
//! `POST /v2/auth/r/permissions` lists the key's scopes with read and write flags
//! (<https://docs.bitfinex.com/reference/key-permissions>). The key may withdraw when the
//! `withdraw` scope may write; a list without that scope leaves it unknown, which counts as
//! "may withdraw" (fail closed).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::api::{BitfinexApi, Endpoint, malformed};
use super::assets::canonical_asset;
use super::movements::{self, MOVEMENTS};
use super::normalize::LEDGERS;
use crate::adapter::{Adapter, Balance, KeyPermissions, Known, Page, Progress, RawRecord, Span, Stream, SyncPlan};
use crate::amount::parse_amount;
use crate::cursor;
use crate::http::FetchError;

/// Entries per `ledgers` or `movements` call (Bitfinex's maximum).
pub const PAGE_SIZE: usize = 2500;
/// Bitfinex opened in 2012: where coverage of a complete walk begins.
pub const LAUNCH_MS: i64 = 1_325_376_000_000;

/// The Bitfinex adapter of one account.
pub struct BitfinexAdapter {
    api: BitfinexApi,
}

/// A time and the ids of the entries stored at that time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Edge {
    ms: i64,
    ids: BTreeSet<u64>,
}

/// Where a walk of the ledger stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
struct Cursor {
    /// The next call's `end` and the ids already stored at that time; none: from the newest.
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<Edge>,
    /// The walk's `start` and the ids stored at that time by the walk before.
    #[serde(skip_serializing_if = "Option::is_none")]
    floor: Option<Edge>,
    /// The newest time of this walk and the ids stored at it.
    #[serde(skip_serializing_if = "Option::is_none")]
    top: Option<Edge>,
    /// Whether the walk is over.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    done: bool,
}

/// The text of a JSON number or string.
fn number_text(value: &RawValue) -> String {
    let raw = value.get().trim();
    serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_owned())
}

/// A history Bitfinex lists newest first between `start` and `end` on one of its time fields.
#[derive(Clone, Copy)]
struct Walk {
    /// The stream's name.
    stream: &'static str,
    endpoint: Endpoint,
    /// Where an entry's time (what `start` and `end` select on) is in its array.
    time_index: usize,
    /// Whether an entry is stored now; one that is not is passed over (not final yet).
    keep: fn(&[&RawValue]) -> bool,
}

fn always(_: &[&RawValue]) -> bool {
    true
}

/// A movement is stored once its status is final ([`movements::is_final`]).
fn movement_is_final(fields: &[&RawValue]) -> bool {
    fields.get(9).is_some_and(|status| movements::is_final(&number_text(status)))
}

/// The walk of each stream.
const WALKS: [Walk; 2] = [
    Walk { stream: LEDGERS, endpoint: Endpoint::Ledgers, time_index: 3, keep: always },
    Walk {
        stream: MOVEMENTS,
        endpoint: Endpoint::Movements,
        time_index: movements::TIME_INDEX,
        keep: movement_is_final,
    },
];

/// The walk of `stream`, if it is one of Bitfinex's.
fn walk_of(stream: &Stream) -> Result<Walk, FetchError> {
    WALKS
        .into_iter()
        .find(|walk| walk.stream == stream.endpoint)
        .ok_or_else(|| FetchError::Setup { exchange: "bitfinex".into(), reason: format!("unknown stream {stream}") })
}

/// The id and time of an entry of `walk`, and whether it is kept.
fn id_and_time(walk: &Walk, payload: &str) -> Result<(u64, i64, bool), String> {
    let fields: Vec<&RawValue> = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let id_text = fields.first().map(|v| number_text(v)).unwrap_or_default();
    let id = id_text.parse().map_err(|_| format!("ID {id_text:?} is not a whole number"))?;
    let ms_text = fields.get(walk.time_index).map(|v| number_text(v)).unwrap_or_default();
    let ms = ms_text.parse().map_err(|_| format!("the time {ms_text:?} is not a time in ms"))?;
    Ok((id, ms, (walk.keep)(&fields)))
}

impl BitfinexAdapter {
    /// The adapter over `api`.
    pub fn new(api: BitfinexApi) -> BitfinexAdapter {
        BitfinexAdapter { api }
    }

    /// The API it calls.
    pub fn api(&self) -> &BitfinexApi {
        &self.api
    }

    fn fetch_walk(&self, walk: Walk, text: &str) -> Result<Page, FetchError> {
        let endpoint = walk.endpoint;
        let c: Cursor = cursor::decode(text)
            .ok_or_else(|| malformed(endpoint, format!("cursor {text:?} is not a {} cursor", walk.stream)))?;
        let now = self.api.limiter().exchange_now_ms();
        let floor_ms = c.floor.as_ref().map_or(LAUNCH_MS, |floor| floor.ms);
        if c.done {
            let covered = (now > floor_ms).then_some(Span { from_ms: floor_ms, to_ms: now });
            return Ok(empty_page(cursor::encode(&c), covered));
        }
        let mut params = vec![("limit", PAGE_SIZE.to_string())];
        if let Some(floor) = &c.floor {
            params.push(("start", floor.ms.to_string()));
        }
        if let Some(end) = &c.end {
            params.push(("end", end.ms.to_string()));
        }
        let answer = self.api.call(endpoint, &params)?;
        let rows: Vec<&RawValue> = serde_json::from_slice(&answer.body)
            .map_err(|e| malformed(endpoint, format!("not a list of {} entries: {e}", walk.stream)))?;
        let full = rows.len() >= PAGE_SIZE;
        let mut entries = Vec::with_capacity(rows.len());
        for raw in rows {
            let payload = raw.get().to_owned();
            let (id, ms, keep) = id_and_time(&walk, &payload)
                .map_err(|reason| malformed(endpoint, format!("an entry without a readable id: {reason}")))?;
            entries.push((id, ms, keep, payload));
        }
        let oldest_ms = entries.iter().map(|(_, ms, _, _)| *ms).min();
        let newest_ms = entries.iter().map(|(_, ms, _, _)| *ms).max();
        // A full page leaves its oldest millisecond to the next page (it may go on there).
        let cut_ms = if full { oldest_ms } else { None };
        if full && oldest_ms == newest_ms && c.end.as_ref().map(|end| end.ms) == oldest_ms {
            return Err(malformed(
                endpoint,
                format!("more than {PAGE_SIZE} entries at one millisecond ({oldest_ms:?}): cannot page past them"),
            ));
        }
        let already = |id: u64, ms: i64| {
            [&c.end, &c.floor].into_iter().flatten().any(|edge| edge.ms == ms && edge.ids.contains(&id))
                || c.floor.as_ref().is_some_and(|floor| ms < floor.ms)
        };
        let mut next = c.clone();
        let mut records = Vec::new();
        let mut stored: BTreeMap<i64, BTreeSet<u64>> = BTreeMap::new();
        // Oldest first: the entries of one millisecond in id order (a trade's sides before its
        // fee), so the ledger's order of events is the exchange's.
        entries.sort_by_key(|(id, ms, _, _)| (*ms, *id));
        for (id, ms, keep, payload) in entries {
            let cut = cut_ms == Some(ms) && c.end.as_ref().is_none_or(|end| end.ms != ms);
            if cut || already(id, ms) || !keep {
                continue;
            }
            stored.entry(ms).or_default().insert(id);
            records.push(RawRecord { external_id: id.to_string(), payload });
        }
        // The walk's top: its newest entry (or the floor when nothing is new).
        if next.top.is_none() {
            next.top = Some(match newest_ms {
                Some(ms) => {
                    let mut ids = stored.get(&ms).cloned().unwrap_or_default();
                    if let Some(floor) = c.floor.as_ref().filter(|floor| floor.ms == ms) {
                        ids.extend(floor.ids.iter().copied());
                    }
                    Edge { ms, ids }
                }
                None => c.floor.clone().unwrap_or(Edge { ms: floor_ms, ids: BTreeSet::new() }),
            });
        } else if let (Some(top), Some(ids)) = (next.top.as_mut(), newest_ms.and_then(|ms| stored.get(&ms))) {
            if newest_ms == Some(top.ms) {
                top.ids.extend(ids.iter().copied());
            }
        }
        let from_ms;
        if full {
            let ms = oldest_ms.unwrap_or(floor_ms);
            let mut ids = stored.get(&ms).cloned().unwrap_or_default();
            if let Some(end) = c.end.as_ref().filter(|end| end.ms == ms) {
                ids.extend(end.ids.iter().copied());
            }
            next.end = Some(Edge { ms, ids });
            from_ms = ms.saturating_add(1);
        } else {
            next.end = None;
            next.done = true;
            from_ms = floor_ms;
        }
        let to_ms = c.end.as_ref().map_or(now, |end| end.ms.saturating_add(1));
        let top_ms = next.top.as_ref().map_or(now, |top| top.ms);
        let at_ms = next.end.as_ref().map_or(floor_ms, |end| end.ms);
        Ok(Page {
            records,
            pending: Vec::new(),
            cursor: cursor::encode(&next),
            done: next.done,
            covered: (to_ms > from_ms).then_some(Span { from_ms, to_ms }),
            // Backwards: how far below the top the walk got, of the span down to the floor.
            progress: Progress::Time {
                start_ms: 0,
                at_ms: top_ms.saturating_sub(at_ms),
                end_ms: top_ms.saturating_sub(floor_ms),
            },
            requests: answer.attempts,
            retries: answer.attempts.saturating_sub(1),
            warnings: Vec::new(),
        })
    }
}

fn empty_page(cursor: String, covered: Option<Span>) -> Page {
    Page {
        records: Vec::new(),
        pending: Vec::new(),
        cursor,
        done: true,
        covered,
        progress: Progress::Unknown,
        requests: 0,
        retries: 0,
        warnings: Vec::new(),
    }
}

/// The read and write flags of each scope in a `permissions` answer.
fn scopes(body: &[u8]) -> Result<BTreeMap<String, (bool, bool)>, FetchError> {
    let rows: Vec<Vec<serde_json::Value>> = serde_json::from_slice(body)
        .map_err(|e| malformed(Endpoint::Permissions, format!("not a list of [scope, read, write]: {e}")))?;
    let flag = |value: Option<&serde_json::Value>| value.and_then(serde_json::Value::as_i64) == Some(1);
    Ok(rows
        .iter()
        .filter_map(|row| {
            let scope = row.first()?.as_str()?.to_owned();
            Some((scope, (flag(row.get(1)), flag(row.get(2)))))
        })
        .collect())
}

impl Adapter for BitfinexAdapter {
    fn key_permissions(&self) -> Result<KeyPermissions, FetchError> {
        let answer = self.api.call(Endpoint::Permissions, &[])?;
        let scopes = scopes(&answer.body)?;
        let read = |scope: &str| scopes.get(scope).map(|(read, _)| *read);
        let write = |scope: &str| scopes.get(scope).map(|(_, write)| *write);
        let can_withdraw = match (write("withdraw"), write("ui_withdraw")) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), _) => Some(false),
            (None, _) => None,
        };
        let mut details: Vec<String> = scopes
            .iter()
            .map(|(scope, (read, write))| format!("{scope}: read {}, write {}", u8::from(*read), u8::from(*write)))
            .collect();
        if can_withdraw.is_none() {
            details.push("Bitfinex did not list the withdraw scope".to_owned());
        }
        Ok(KeyPermissions {
            can_read: read("history") == Some(true) && read("wallets") == Some(true),
            can_trade: write("orders"),
            can_withdraw,
            ip_restricted: None,
            details,
        })
    }

    fn balances(&self) -> Result<Vec<Balance>, FetchError> {
        let answer = self.api.call(Endpoint::Wallets, &[])?;
        let rows: Vec<Vec<&RawValue>> = serde_json::from_slice(&answer.body)
            .map_err(|e| malformed(Endpoint::Wallets, format!("not a list of wallets: {e}")))?;
        let mut totals: BTreeMap<String, rust_decimal::Decimal> = BTreeMap::new();
        for row in rows {
            let field = |index: usize| row.get(index).map(|value| number_text(value)).unwrap_or_default();
            let currency = field(1);
            let bad = |reason: String| malformed(Endpoint::Wallets, format!("{currency}: {reason}"));
            let amount = parse_amount(&field(2)).map_err(|e| bad(e.to_string()))?;
            let asset = canonical_asset(&currency).map_err(|e| bad(e.to_string()))?;
            let total = totals.entry(asset).or_default();
            *total = total.checked_add(amount).ok_or_else(|| bad("the balance overflows".to_owned()))?;
        }
        Ok(totals
            .into_iter()
            .filter(|(_, amount)| !amount.is_zero())
            .map(|(asset, amount)| Balance { asset, amount })
            .collect())
    }

    fn streams(&self, _known: &Known, _plan: &SyncPlan) -> Result<Vec<Stream>, FetchError> {
        Ok(WALKS.iter().map(|walk| Stream::new(walk.stream, "")).collect())
    }

    fn start(&self, stream: &Stream, stored: Option<&str>, plan: &SyncPlan) -> Result<String, FetchError> {
        walk_of(stream)?;
        let since = || Cursor { floor: plan.since_ms.map(|ms| Edge { ms, ids: BTreeSet::new() }), ..Cursor::default() };
        let cursor = match (plan.full, stored.and_then(cursor::decode::<Cursor>)) {
            (false, Some(c)) if c.done => Cursor { floor: c.top, ..Cursor::default() },
            (false, Some(c)) if c.top.is_some() => c,
            _ => since(),
        };
        Ok(cursor::encode(&cursor))
    }

    fn fetch_page(&self, stream: &Stream, cursor: &str) -> Result<Page, FetchError> {
        self.fetch_walk(walk_of(stream)?, cursor)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::Secret;
    use crate::bitfinex::api::Budget;
    use crate::http::client::test_server::{Reply, TestServer};
    use crate::http::{ClientConfig, Clock, ManualClock};

    fn adapter_on(url: &str) -> BitfinexAdapter {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(1_800_000_000_000));
        let limiter = BitfinexApi::new_limiter(Arc::clone(&clock), Budget { limit: 1_000_000, window_seconds: 1 });
        let config = ClientConfig::for_tests(Duration::from_millis(500), 3);
        let api =
            BitfinexApi::new(Some(url), Secret::new("K"), Secret::new("S"), "main", limiter, config, clock).unwrap();
        BitfinexAdapter::new(api)
    }

    fn entry(id: u64, ms: i64) -> String {
        format!(r#"[{id},"USD","exchange",{ms},null,1,1,null,"Deposit (WIRE) #{id} on wallet exchange"]"#)
    }

    /// Entries newest first: ids 1..=n at ms = 1000 + id / 2 (two per millisecond).
    fn answer(ids: impl Iterator<Item = u64>) -> String {
        let mut rows: Vec<u64> = ids.collect();
        rows.sort_unstable_by(|a, b| b.cmp(a));
        format!("[{}]", rows.iter().map(|id| entry(*id, 1000 + (*id as i64) / 2)).collect::<Vec<_>>().join(","))
    }

    #[test]
    fn a_walk_goes_back_by_end_stores_each_entry_once_and_a_resync_asks_from_the_top() {
        // 3,001 entries: a full page (ids 501..=3001 reach back to ms 1250), then the rest.
        let server = TestServer::start(|n, _| match n {
            0 => Reply::json(200, &answer(501..=3001)),
            1 => Reply::json(200, &answer(1..=501)),
            _ => Reply::json(200, &answer(3001..=3002)),
        });
        let adapter = adapter_on(&server.url());
        let stream = Stream::new(LEDGERS, "");
        let plan = SyncPlan { full: false, since_ms: None };
        let first = adapter.start(&stream, None, &plan).unwrap();
        let page = adapter.fetch_page(&stream, &first).unwrap();
        assert!(!page.done);
        // ms 1250 holds ids 500 and 501: 501 waits for the next page with its partner.
        assert_eq!(page.records.len(), 2500);
        assert_eq!(page.records.first().unwrap().external_id, "502", "oldest first");
        assert_eq!(page.records.last().unwrap().external_id, "3001");
        let page2 = adapter.fetch_page(&stream, &page.cursor).unwrap();
        assert!(page2.done);
        assert_eq!(page2.records.len(), 501);
        let mut ids: Vec<u64> =
            page.records.iter().chain(&page2.records).map(|r| r.external_id.parse().unwrap()).collect();
        ids.sort_unstable();
        assert_eq!(ids, (1..=3001).collect::<Vec<_>>());
        let seen = server.seen();
        assert_eq!(seen[0].body, r#"{"limit":2500}"#);
        assert_eq!(seen[1].body, r#"{"end":1250,"limit":2500}"#);
        // The next sync starts at the top (ms 2500: ids 3000 and 3001), storing only 3002.
        let again = adapter.start(&stream, Some(&page2.cursor), &plan).unwrap();
        let page3 = adapter.fetch_page(&stream, &again).unwrap();
        assert_eq!(server.seen()[2].body, r#"{"limit":2500,"start":2500}"#);
        assert_eq!(page3.records.iter().map(|r| r.external_id.as_str()).collect::<Vec<_>>(), ["3002"]);
        assert!(page3.done);
    }

    /// A movement's array: `updated_ms` is its MTS_UPDATED, what the walk goes by.
    fn movement(id: u64, updated_ms: i64, status: &str) -> String {
        format!(
            r#"[{id},"BTC","BITCOIN",null,null,{},{updated_ms},null,null,"{status}",null,null,-0.1,-0.0004,null,null,"bc1q",null,null,null,"h{id}",null]"#,
            updated_ms - 1000
        )
    }

    #[test]
    fn a_movement_under_way_is_passed_over_and_stored_once_it_has_ended() {
        // The first walk sees movement 1 completed and movement 2 still processing; by the next
        // walk movement 2 has completed, which moved its MTS_UPDATED on.
        let server = TestServer::start(|n, _| match n {
            0 => Reply::json(200, &format!("[{},{}]", movement(2, 2000, "PROCESSING"), movement(1, 1000, "COMPLETED"))),
            _ => Reply::json(200, &format!("[{}]", movement(2, 3000, "COMPLETED"))),
        });
        let adapter = adapter_on(&server.url());
        let stream = Stream::new(MOVEMENTS, "");
        let plan = SyncPlan { full: false, since_ms: None };
        let ids = |page: &Page| page.records.iter().map(|r| r.external_id.clone()).collect::<Vec<_>>();
        let page = adapter.fetch_page(&stream, &adapter.start(&stream, None, &plan).unwrap()).unwrap();
        assert!(page.done);
        assert_eq!(ids(&page), ["1"]);
        assert_eq!(server.seen()[0].path, "/v2/auth/r/movements/hist");
        let again = adapter.start(&stream, Some(&page.cursor), &plan).unwrap();
        let page2 = adapter.fetch_page(&stream, &again).unwrap();
        assert_eq!(server.seen()[1].body, r#"{"limit":2500,"start":2000}"#, "from the newest time seen");
        assert_eq!(ids(&page2), ["2"]);
        assert!(adapter.streams(&Known::default(), &plan).unwrap().iter().any(|s| s.endpoint == MOVEMENTS));
    }

    #[test]
    fn balances_add_up_every_wallet_and_the_key_check_reads_the_withdraw_scope() {
        let server = TestServer::start(|_, request| {
            if request.path.ends_with("wallets") {
                Reply::json(
                    200,
                    r#"[["exchange","BTC",0.5,0,0.5,null,null],["margin","BTC",0.25,0,0.25,null,null],
                        ["exchange","UST",10,0,10,null,null],["funding","USD",0,0,0,null,null]]"#,
                )
            } else if request.body.is_empty() || request.body == "{}" {
                Reply::json(200, r#"[["account",0,0],["history",1,0],["orders",1,0],["wallets",1,0],["withdraw",0,0]]"#)
            } else {
                Reply::json(200, "[]")
            }
        });
        let adapter = adapter_on(&server.url());
        assert_eq!(
            adapter.balances().unwrap(),
            vec![
                Balance { asset: "BTC".into(), amount: "0.75".parse().unwrap() },
                Balance { asset: "USDT".into(), amount: "10".parse().unwrap() },
            ]
        );
        let permissions = adapter.key_permissions().unwrap();
        assert!(permissions.can_read);
        assert_eq!(permissions.can_withdraw, Some(false));
        assert!(!permissions.may_withdraw());
        let withdraw = scopes(br#"[["history",1,0],["wallets",1,0],["withdraw",1,1]]"#).unwrap();
        assert_eq!(withdraw["withdraw"], (true, true));
    }
}
