//! Binance's complete spot history, walked endpoint by endpoint for the sync engine.
//!
//! # Streams and how each is walked
//!
//! | stream (scope) | endpoint | walk |
//! |---|---|---|
//! | `myTrades` (`BASE/QUOTE`) | `/api/v3/myTrades` | by id: `fromId` from 0, 1000 per page; a re-run goes on from the last id + 1 |
//! | `deposits`, `withdrawals` | `/sapi/v1/capital/{deposit/hisrec, withdraw/history}` | 89-day windows from Binance's launch (2017-07-14 03:00 UTC), `offset` pages of 1000 |
//! | `fiatOrders` (`deposit`/`withdraw`), `fiatPayments` (`buy`/`sell`) | `/sapi/v1/fiat/{orders,payments}` | one window from launch to now, `page` pages of 500 (90-day windows if Binance refuses the span) |
//! | `convert` | `/sapi/v1/convert/tradeFlow` | 30-day windows; a window with `moreData` is halved |
//! | `dust` | `/sapi/v1/asset/dribblet` | 30-day windows from 2020-12-01 (Binance keeps nothing older); a window that reaches the 100-record cap is halved |
//! | `dividends` | `/sapi/v1/asset/assetDividend` | 180-day windows; a window with more rows than one answer holds (500) is halved |
//! | `earnFlexible`, `earnLocked` | `/sapi/v1/simple-earn/{flexible,locked}/history/rewardsRecord` | 30-day windows, `current` pages of 100 |
//! | `fiatDepositHistory`, `fiatWithdrawHistory` (Binance.US) | `/sapi/v1/fiatpayment/query/{deposit,withdraw}/history` | 89-day windows; `offset` = the records already read in the window, until an empty answer (the docs name no page size) |
//! | `stakingRewards` (Binance.US) | `/sapi/v1/staking/stakingRewardsHistory` | 89-day windows, `page` pages of 500 (`limit`) |
//! | `distributions` (Binance.US) | `/sapi/v1/asset/assetDistributionHistory` | 89-day windows; a window with 500 rows or more is halved |
//! | `dustLogs` (Binance.US) | `/sapi/v1/asset/query/dust-logs` | 89-day windows; a window with 100 conversions or more is halved |
//! | `otcOrders` (Binance.US) | `/sapi/v1/otc/orders` | 89-day windows, `page` pages of 100 (`limit`) |
//!
//! A window refused as too wide (`-1127`, `-6021`) is halved and asked again. Windows are
//! `[from, from + span − 1 ms]`, the next starting 1 ms after, so none overlap. A re-run starts
//! one day before where the last one ended (records dated just before "now" can appear a
//! moment later; the day costs one request per endpoint and adds nothing twice). Records not
//! yet final (a deposit waiting for confirmations, a withdrawal being processed, a fiat order
//! processing) are not stored: the cursor remembers the earliest of them (`hold_ms`) and the next
//! run walks again from there, so they are stored once they are final.
//!
//! # Which trading pairs are asked (symbol discovery)
//!
//! Binance has no "all my trades" call: `myTrades` needs a symbol. The adapter lists every
//! symbol of `exchangeInfo` (trading, halted and delisted `BREAK` ones alike) and asks those
//! whose base or quote asset the account is known to have touched: its current balances, the
//! assets of every record already stored (deposits, withdrawals, fiat, converts, dust,
//! distributions, rewards), and then — in rounds, until nothing new appears — the assets of
//! the fills just found. Every spot trade changes the balance of both its assets, and an
//! asset can only enter the account through a deposit, a fiat purchase, a convert, dust, a
//! distribution, a reward or a trade against an asset already held; so starting from those
//! and following fills reaches every traded pair. Pairs Binance removed from `exchangeInfo`
//! altogether cannot be listed and answer `-1121`; their fills exist only in Binance's
//! statement export. At the end of every sync ([`Adapter::closing_warnings`]) the assets the
//! account touched that no listed pair has and whose balance differs from Binance's are named,
//! with that advice; so is what is not fetched at all ([`NOT_FETCHED`]).
//!
//! # Self-trades
//!
//! A fill of one of the account's orders against another of its own comes back from
//! `myTrades` as two rows with one `id`, the buyer's and the seller's. The first keeps the
//! plain id as its raw key (what versions before this one stored, keeping only that row), the
//! second is keyed `ID:buyer` or `ID:seller` (`trade_key`); a full page never ends between
//! the two.
//!
//! On a re-run, a pair already walked is asked again only when its base or its quote
//! balance changed since the last sync (or new records touched one of them): a trade moves
//! both balances, so unchanged balances mean no new fill, except for a fill that another of
//! the same size exactly undid between two syncs. `--full` asks every pair again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::api::{Answer, BinanceApi, Endpoint, malformed, parse};
use super::assets::asset;
use crate::adapter::{Adapter, Balance, KeyPermissions, Known, Page, Progress, RawRecord, Span, Stream, SyncPlan};
use crate::amount::parse_amount;
use crate::cursor;
use crate::http::FetchError;

/// Binance's launch: where walks through time begin (2017-07-14 03:00:00 UTC).
pub const LAUNCH_MS: i64 = 1_500_001_200_000;
/// The dust log holds nothing before 2020-12-01.
const DUST_START_MS: i64 = 1_606_780_800_000;
const DAY_MS: i64 = 86_400_000;
/// How far before the stored end a re-run starts again.
const LOOKBACK_MS: i64 = DAY_MS;
/// The most records an `offset`-until-empty window is read to ([`Paging::Skip`]): past it the
/// window is left with a warning, so an exchange that ignored `offset` cannot loop a walk.
const SKIP_CAP: u32 = 100_000;

/// The Binance adapter of one account.
pub struct BinanceAdapter {
    api: BinanceApi,
    symbols: OnceLock<Arc<Symbols>>,
}

/// The trading pairs `exchangeInfo` lists: (base, quote) in Binance's codes → symbol.
#[derive(Debug, Default)]
struct Symbols {
    pairs: BTreeMap<(String, String), String>,
}

/// How a time-windowed endpoint is walked.
#[derive(Clone, Copy, Debug)]
struct Walk {
    endpoint: Endpoint,
    /// Window length; `None`: one window from the start to now.
    span_ms: Option<i64>,
    /// The narrower window to fall back to when Binance refuses a wide one.
    fallback_span_ms: i64,
    begin_ms: i64,
    paging: Paging,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Paging {
    /// `offset` + `limit`.
    Offset(u32),
    /// `page` (from 1) + `rows`.
    Page(u32),
    /// `current` (from 1) + `size`.
    Current(u32),
    /// One answer per window; halve the window when it is full.
    Whole(u32),
    /// `page` (from 1) + `limit`.
    PageLimit(u32),
    /// `offset` = the records already read in the window, until an answer is empty (an
    /// endpoint that documents `offset` but no page size).
    Skip,
}

/// The cursor of a `myTrades` walk: the next trade id to ask for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
struct TradeCursor {
    from_id: u64,
}

impl TradeCursor {
    /// The cursor stored as `text`: its JSON, or `fromId=N` as versions before it wrote.
    fn parse(text: &str) -> Option<TradeCursor> {
        cursor::decode(text).or_else(|| Some(TradeCursor { from_id: text.strip_prefix("fromId=")?.parse().ok()? }))
    }

    fn render(&self) -> String {
        cursor::encode(self)
    }
}

/// The cursor of a time walk: where the next window starts, the page in it, the window's
/// length, the earliest record held back (not final yet), and where the walk began.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
struct TimeCursor {
    from_ms: i64,
    page: u32,
    span_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    hold_ms: Option<i64>,
    begin_ms: i64,
}

impl TimeCursor {
    /// The cursor stored as `text`: its JSON, or `from=MS;page=N;span=MS;begin=MS[;hold=MS]` as
    /// versions before it wrote.
    fn parse(text: &str) -> Option<TimeCursor> {
        cursor::decode(text).or_else(|| TimeCursor::parse_before_json(text))
    }

    /// A cursor as versions before the JSON form wrote it.
    fn parse_before_json(text: &str) -> Option<TimeCursor> {
        let mut c = TimeCursor::default();
        for part in text.split(';') {
            let (k, v) = part.split_once('=')?;
            let v: i64 = v.parse().ok()?;
            match k {
                "from" => c.from_ms = v,
                "page" => c.page = u32::try_from(v).ok()?,
                "span" => c.span_ms = v,
                "hold" => c.hold_ms = Some(v),
                "begin" => c.begin_ms = v,
                _ => return None,
            }
        }
        Some(c)
    }

    fn render(&self) -> String {
        cursor::encode(self)
    }
}

impl BinanceAdapter {
    /// The adapter of the account that `api` (its key, base URL and limiter) speaks for.
    pub fn new(api: BinanceApi) -> BinanceAdapter {
        BinanceAdapter { api, symbols: OnceLock::new() }
    }

    fn now_ms(&self) -> i64 {
        self.api.now_ms()
    }

    fn symbols(&self) -> Result<Arc<Symbols>, FetchError> {
        if let Some(symbols) = self.symbols.get() {
            return Ok(symbols.clone());
        }
        let (listed, _) = self.api.symbols()?;
        let pairs = listed.into_iter().map(|s| ((s.base_asset, s.quote_asset), s.symbol)).collect();
        let symbols = Arc::new(Symbols { pairs });
        let _ = self.symbols.set(symbols.clone());
        Ok(symbols)
    }

    /// How `stream` is walked on this adapter's venue (its windows begin no earlier than the
    /// venue's launch).
    fn walk(&self, stream: &Stream) -> Option<Walk> {
        let (endpoint, span_ms, begin_ms, paging) = match stream.endpoint.as_str() {
            "deposits" => (Endpoint::Deposits, Some(89 * DAY_MS), LAUNCH_MS, Paging::Offset(1000)),
            "withdrawals" => (Endpoint::Withdrawals, Some(89 * DAY_MS), LAUNCH_MS, Paging::Offset(1000)),
            "fiatOrders" => (Endpoint::FiatOrders, None, LAUNCH_MS, Paging::Page(500)),
            "fiatPayments" => (Endpoint::FiatPayments, None, LAUNCH_MS, Paging::Page(500)),
            "convert" => (Endpoint::Convert, Some(30 * DAY_MS), LAUNCH_MS, Paging::Whole(1000)),
            "dust" => (Endpoint::Dust, Some(30 * DAY_MS), DUST_START_MS, Paging::Whole(100)),
            "dividends" => (Endpoint::Dividends, Some(180 * DAY_MS), LAUNCH_MS, Paging::Whole(500)),
            "earnFlexible" => (Endpoint::EarnFlexible, Some(30 * DAY_MS), LAUNCH_MS, Paging::Current(100)),
            "earnLocked" => (Endpoint::EarnLocked, Some(30 * DAY_MS), LAUNCH_MS, Paging::Current(100)),
            "fiatDepositHistory" => (Endpoint::UsFiatDeposits, Some(89 * DAY_MS), LAUNCH_MS, Paging::Skip),
            "fiatWithdrawHistory" => (Endpoint::UsFiatWithdrawals, Some(89 * DAY_MS), LAUNCH_MS, Paging::Skip),
            "stakingRewards" => (Endpoint::UsStakingRewards, Some(89 * DAY_MS), LAUNCH_MS, Paging::PageLimit(500)),
            "distributions" => (Endpoint::UsDistributions, Some(89 * DAY_MS), LAUNCH_MS, Paging::Whole(500)),
            "dustLogs" => (Endpoint::UsDust, Some(89 * DAY_MS), LAUNCH_MS, Paging::Whole(100)),
            "otcOrders" => (Endpoint::UsOtc, Some(89 * DAY_MS), LAUNCH_MS, Paging::PageLimit(100)),
            _ => return None,
        };
        let begin_ms = begin_ms.max(self.api.venue().launch_ms);
        Some(Walk { endpoint, span_ms, fallback_span_ms: span_ms.unwrap_or(90 * DAY_MS), begin_ms, paging })
    }

    fn fetch_trades(&self, stream: &Stream, cursor: &str) -> Result<Page, FetchError> {
        let from_id = TradeCursor::parse(cursor)
            .ok_or_else(|| malformed(Endpoint::MyTrades, format!("cursor {cursor:?} is not a trades cursor")))?
            .from_id;
        let (base, quote) = stream
            .scope
            .split_once('/')
            .ok_or_else(|| malformed(Endpoint::MyTrades, format!("scope {:?} is not BASE/QUOTE", stream.scope)))?;
        let symbols = self.symbols()?;
        let symbol = symbols
            .pairs
            .get(&(base.to_string(), quote.to_string()))
            .cloned()
            .unwrap_or_else(|| format!("{base}{quote}"));
        let now = self.now_ms();
        let params = [("symbol", symbol.clone()), ("fromId", from_id.to_string()), ("limit", "1000".to_string())];
        let answer = match self.api.get(Endpoint::MyTrades, &params) {
            Ok(answer) => answer,
            Err(FetchError::Api { code, .. }) if code == "-1121" => {
                return Ok(Page {
                    records: Vec::new(),
                    pending: Vec::new(),
                    cursor: cursor.to_string(),
                    done: true,
                    covered: None,
                    progress: Progress::Unknown,
                    requests: 1,
                    retries: 0,
                    warnings: vec![format!(
                        "Binance no longer knows the pair {symbol} (-1121): its trades, if any, are only in Binance's CSV export; import that file"
                    )],
                });
            }
            Err(e) => return Err(e),
        };
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Fill {
            id: u64,
            time: i64,
            #[serde(default)]
            is_buyer: bool,
        }
        let rows: Vec<&RawValue> = parse(Endpoint::MyTrades, &answer.body)?;
        let mut fills = Vec::with_capacity(rows.len());
        for raw in &rows {
            let fill: Fill =
                serde_json::from_str(raw.get()).map_err(|e| malformed(Endpoint::MyTrades, e.to_string()))?;
            fills.push((fill, *raw));
        }
        let full = rows.len() >= 1000;
        if full {
            // A self-trade is two rows with one id; keep both in the same page: the rows of
            // the last id are asked again from the next page on.
            if let Some(last_id) = fills.last().map(|(f, _)| f.id) {
                if fills.iter().any(|(f, _)| f.id != last_id) {
                    fills.retain(|(f, _)| f.id != last_id);
                }
            }
        }
        let mut records = Vec::with_capacity(fills.len());
        let mut last: Option<(u64, i64)> = None;
        let mut seen = BTreeSet::new();
        for (fill, raw) in &fills {
            last = Some((fill.id, fill.time));
            records.push(RawRecord {
                external_id: trade_key(fill.id, fill.is_buyer, !seen.insert(fill.id)),
                payload: raw.get().to_string(),
            });
        }
        let done = !full;
        let next = last.map(|(id, _)| id + 1).unwrap_or(from_id);
        let covered = match (done, last) {
            (true, _) => Some(Span { from_ms: self.api.venue().launch_ms, to_ms: now }),
            (false, Some((_, time))) => Some(Span { from_ms: self.api.venue().launch_ms, to_ms: time + 1 }),
            (false, None) => None,
        };
        Ok(Page {
            records,
            pending: Vec::new(),
            cursor: TradeCursor { from_id: next }.render(),
            done,
            covered,
            progress: Progress::Unknown,
            requests: answer.attempts,
            retries: answer.attempts.saturating_sub(1),
            warnings: Vec::new(),
        })
    }

    fn fetch_window(&self, stream: &Stream, walk: Walk, cursor: &str) -> Result<Page, FetchError> {
        let mut c = TimeCursor::parse(cursor)
            .ok_or_else(|| malformed(walk.endpoint, format!("cursor {cursor:?} is not a time cursor")))?;
        let now = self.now_ms();
        let (mut requests, mut attempts) = (0u32, 0u32);
        loop {
            if c.from_ms > now {
                return Ok(Page {
                    records: Vec::new(),
                    pending: Vec::new(),
                    cursor: c.render(),
                    done: true,
                    covered: None,
                    progress: Progress::Time { start_ms: c.begin_ms, at_ms: now, end_ms: now },
                    requests: attempts,
                    retries: attempts.saturating_sub(requests),
                    warnings: Vec::new(),
                });
            }
            let span = if c.span_ms > 0 { c.span_ms } else { now - c.from_ms + 1 };
            let to_ms = (c.from_ms + span - 1).min(now);
            let params = window_params(stream, walk, c.from_ms, to_ms, c.page);
            requests += 1;
            let answer = match self.api.get(walk.endpoint, &params) {
                Ok(answer) => answer,
                Err(FetchError::Api { code, .. }) if (code == "-1127" || code == "-6021") && span > DAY_MS => {
                    // The window is too wide for Binance: ask again with half of it (or the
                    // endpoint's documented span when the whole history was asked at once).
                    c.span_ms = if c.span_ms == 0 { walk.fallback_span_ms } else { (span / 2).max(DAY_MS) };
                    c.page = 0;
                    attempts += 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            attempts += answer.attempts;
            let rows = records_of(stream, walk.endpoint, &answer)?;
            let full_window = match walk.paging {
                Paging::Whole(cap) => rows.total >= cap as usize || rows.more,
                _ => false,
            };
            if full_window && span > 60_000 {
                // More records than one answer holds: halve the window and ask again.
                c.span_ms = span / 2;
                continue;
            }
            let window_done = match walk.paging {
                Paging::Whole(_) => true,
                Paging::Skip => {
                    rows.count == 0 || c.page.saturating_add(u32::try_from(rows.count).unwrap_or(u32::MAX)) >= SKIP_CAP
                }
                Paging::Offset(n) | Paging::Page(n) | Paging::Current(n) | Paging::PageLimit(n) => {
                    rows.count < n as usize
                }
            };
            for pending in &rows.pending_times {
                c.hold_ms = Some(c.hold_ms.map_or(*pending, |h| h.min(*pending)));
            }
            let mut warnings = Vec::new();
            if walk.paging == Paging::Skip && rows.count > 0 && window_done {
                warnings.push(format!(
                    "{} answered more than {SKIP_CAP} records for the window from {} to {}: the rest of it \
                     was not read (was `offset` ignored?); compare balances with `cointally check`",
                    walk.endpoint.name(),
                    crate::time::format_rfc3339(crate::time::from_millis(c.from_ms)),
                    crate::time::format_rfc3339(crate::time::from_millis(to_ms))
                ));
            }
            let covered = window_done.then_some(Span { from_ms: c.from_ms, to_ms: to_ms + 1 });
            if window_done {
                c.from_ms = to_ms + 1;
                c.page = 0;
                if c.span_ms > 0 {
                    // After a halving, widen back towards the endpoint's span.
                    c.span_ms = walk.span_ms.unwrap_or(0).min(c.span_ms.saturating_mul(2)).max(c.span_ms);
                }
            } else if walk.paging == Paging::Skip {
                c.page = c.page.saturating_add(u32::try_from(rows.count).unwrap_or(u32::MAX));
            } else {
                c.page += 1;
            }
            return Ok(Page {
                records: rows.records,
                pending: Vec::new(),
                cursor: c.render(),
                done: c.from_ms > now,
                covered,
                progress: Progress::Time { start_ms: c.begin_ms, at_ms: c.from_ms.min(now), end_ms: now },
                requests: attempts,
                retries: attempts.saturating_sub(requests),
                warnings,
            });
        }
    }
}

/// The raw-archive id of a fill: its trade id, as every version wrote it; the second row of
/// a self-trade (Binance answers both sides with one id, buyer and seller) adds its side,
/// `ID:buyer` or `ID:seller`, so both are kept while the first side keeps the key that
/// versions before this one stored it under (they kept the first row of the two).
fn trade_key(id: u64, is_buyer: bool, second: bool) -> String {
    match (second, is_buyer) {
        (false, _) => id.to_string(),
        (true, true) => format!("{id}:buyer"),
        (true, false) => format!("{id}:seller"),
    }
}

/// The query of one window page.
fn window_params(stream: &Stream, walk: Walk, from_ms: i64, to_ms: i64, page: u32) -> Vec<(&'static str, String)> {
    let mut params: Vec<(&'static str, String)> = Vec::new();
    let (start, end) = match walk.endpoint {
        Endpoint::FiatOrders | Endpoint::FiatPayments => ("beginTime", "endTime"),
        _ => ("startTime", "endTime"),
    };
    match walk.endpoint {
        Endpoint::FiatOrders => {
            params.push(("transactionType", if stream.scope == "withdraw" { "1" } else { "0" }.into()))
        }
        Endpoint::FiatPayments => {
            params.push(("transactionType", if stream.scope == "sell" { "1" } else { "0" }.into()))
        }
        Endpoint::EarnFlexible => params.push(("type", "ALL".into())),
        _ => {}
    }
    params.push((start, from_ms.to_string()));
    params.push((end, to_ms.to_string()));
    match walk.paging {
        Paging::Offset(n) => {
            params.push(("offset", (u64::from(page) * u64::from(n)).to_string()));
            params.push(("limit", n.to_string()));
        }
        Paging::Page(n) => {
            params.push(("page", (page + 1).to_string()));
            params.push(("rows", n.to_string()));
        }
        Paging::Current(n) => {
            params.push(("current", (page + 1).to_string()));
            params.push(("size", n.to_string()));
        }
        Paging::Whole(n) => {
            if !matches!(walk.endpoint, Endpoint::Dust | Endpoint::UsDust) {
                params.push(("limit", n.to_string()));
            }
        }
        Paging::PageLimit(n) => {
            params.push(("page", (page + 1).to_string()));
            params.push(("limit", n.to_string()));
        }
        Paging::Skip => params.push(("offset", page.to_string())),
    }
    params
}

/// The records of one answer, with what the walk needs to know about them.
struct Rows {
    records: Vec<RawRecord>,
    /// Elements in the answer's list (records + not-yet-final ones).
    count: usize,
    /// The answer's `total` where it has one, else `count`.
    total: usize,
    /// `moreData` (convert).
    more: bool,
    /// Times of records not final yet.
    pending_times: Vec<i64>,
}

/// Splits an answer into raw records (the exact JSON text of each element), leaving out
/// records that are not final yet.
fn records_of(stream: &Stream, endpoint: Endpoint, answer: &Answer) -> Result<Rows, FetchError> {
    let body = &answer.body;
    let (list, total, more): (Vec<&RawValue>, Option<usize>, bool) = match endpoint {
        Endpoint::Deposits | Endpoint::Withdrawals => (parse(endpoint, body)?, None, false),
        Endpoint::FiatOrders | Endpoint::FiatPayments | Endpoint::UsStakingRewards => {
            #[derive(Deserialize)]
            struct Envelope<'a> {
                #[serde(borrow, default)]
                data: Option<Vec<&'a RawValue>>,
                #[serde(default)]
                total: Option<usize>,
            }
            let e: Envelope = parse(endpoint, body)?;
            (e.data.unwrap_or_default(), e.total, false)
        }
        Endpoint::Convert => {
            #[derive(Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Envelope<'a> {
                #[serde(borrow, default)]
                list: Vec<&'a RawValue>,
                #[serde(default)]
                more_data: bool,
            }
            let e: Envelope = parse(endpoint, body)?;
            (e.list, None, e.more_data)
        }
        Endpoint::Dust => {
            #[derive(Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Envelope<'a> {
                #[serde(borrow, default)]
                user_asset_dribblets: Vec<&'a RawValue>,
                #[serde(default)]
                total: Option<usize>,
            }
            let e: Envelope = parse(endpoint, body)?;
            (e.user_asset_dribblets, e.total, false)
        }
        Endpoint::UsFiatDeposits | Endpoint::UsFiatWithdrawals => {
            #[derive(Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Envelope<'a> {
                #[serde(borrow, default)]
                asset_log_record_list: Option<Vec<&'a RawValue>>,
            }
            let e: Envelope = parse(endpoint, body)?;
            (e.asset_log_record_list.unwrap_or_default(), None, false)
        }
        Endpoint::UsDust => {
            #[derive(Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Envelope<'a> {
                #[serde(borrow, default)]
                user_dust_convert_history: Option<Vec<&'a RawValue>>,
                #[serde(default)]
                total: Option<usize>,
            }
            let e: Envelope = parse(endpoint, body)?;
            (e.user_dust_convert_history.unwrap_or_default(), e.total, false)
        }
        _ => {
            #[derive(Deserialize)]
            struct Envelope<'a> {
                #[serde(borrow, default)]
                rows: Vec<&'a RawValue>,
                #[serde(default)]
                total: Option<usize>,
            }
            let e: Envelope = parse(endpoint, body)?;
            (e.rows, e.total, false)
        }
    };
    let count = list.len();
    let mut records = Vec::with_capacity(count);
    let mut pending_times = Vec::new();
    for raw in list {
        let value: serde_json::Value =
            serde_json::from_str(raw.get()).map_err(|e| malformed(endpoint, e.to_string()))?;
        let (id, state, time) = identify(stream, &value).map_err(|reason| malformed(endpoint, reason))?;
        match state {
            State::Pending => pending_times.push(time),
            State::Final => records.push(RawRecord { external_id: id, payload: raw.get().to_string() }),
        }
    }
    Ok(Rows { records, count, total: total.unwrap_or(count), more, pending_times })
}

enum State {
    Final,
    Pending,
}

/// A record's raw id (per the shared semantics), whether it is final, and its time.
fn identify(stream: &Stream, v: &serde_json::Value) -> Result<(String, State, i64), String> {
    let text = |key: &str| -> Result<String, String> {
        match v.get(key) {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(serde_json::Value::Number(n)) => Ok(n.to_string()),
            _ => Err(format!("a record has no {key:?}")),
        }
    };
    let number = |key: &str| -> Result<i64, String> {
        match v.get(key) {
            Some(serde_json::Value::Number(n)) => n.as_i64().ok_or_else(|| format!("{key:?} is not a whole number")),
            Some(serde_json::Value::String(s)) => s.parse().map_err(|_| format!("{key:?} is not a whole number")),
            _ => Err(format!("a record has no {key:?}")),
        }
    };
    let state = |pending: bool| if pending { State::Pending } else { State::Final };
    Ok(match stream.endpoint.as_str() {
        "deposits" => {
            let status = number("status")?;
            (text("id")?, state(matches!(status, 0 | 8)), number("insertTime")?)
        }
        "withdrawals" => {
            let status = number("status")?;
            let time = crate::time::parse_utc(&text("applyTime")?).map(crate::time::to_millis).unwrap_or(0);
            (text("id")?, state(matches!(status, 0 | 2 | 4)), time)
        }
        "fiatOrders" | "fiatPayments" => {
            (text("orderNo")?, state(text("status")? == "Processing"), number("createTime")?)
        }
        "convert" => {
            let status = text("orderStatus")?;
            (text("orderId")?, state(status == "PROCESS" || status == "ACCEPT_SUCCESS"), number("createTime")?)
        }
        "dust" => (text("transId")?, State::Final, number("operateTime")?),
        "dividends" => (text("id")?, State::Final, number("divTime")?),
        "earnFlexible" => {
            let id = format!("{}:{}:{}:{}", number("time")?, text("asset")?, text("type")?, text("projectId")?);
            (id, State::Final, number("time")?)
        }
        "earnLocked" => {
            let id = format!("{}:{}:{}:{}", number("time")?, text("asset")?, text("type")?, text("positionId")?);
            (id, State::Final, number("time")?)
        }
        "fiatDepositHistory" | "fiatWithdrawHistory" => {
            // The docs' examples carry no `createTime`: one held back without it holds the
            // walk at its beginning (time 0), so the next run walks the whole history again.
            let time = number("createTime").unwrap_or(0);
            (text("orderId")?, state(text("orderStatus")? == "Processing"), time)
        }
        "stakingRewards" => (text("tranId")?, State::Final, number("time")?),
        "distributions" => (text("tranId")?, State::Final, number("divTime")?),
        "dustLogs" => {
            let id = text("tranId").or_else(|_| text("transId")).or_else(|_| text("operateTime"))?;
            (id, State::Final, number("operateTime")?)
        }
        "otcOrders" => {
            let status = text("orderStatus")?;
            let pending = status == "PROCESS" || status == "ACCEPT_SUCCESS";
            (text("orderId")?, state(pending), crate::time::seconds_or_millis(number("createTime")?))
        }
        other => return Err(format!("unknown stream {other}")),
    })
}

/// What every Binance sync says it does not fetch, and how to get it.
pub const NOT_FETCHED: &str = "not fetched: universal transfers between Binance's own wallets \
(`/sapi/v1/asset/transfer`: spot, funding, margin, futures) and ETH staking rewards \
(`/sapi/v1/eth-staking/eth/history/rewardsHistory`, BETH/WBETH); the Transaction History \
statement export holds both (`Transfer Between …`, `ETH 2.0 Staking Rewards`): import it into \
this account (`cointally import FILE --account LABEL`, then `cointally renormalize`); what the API \
already gave meets its statement rows, so it adds nothing twice";

impl BinanceAdapter {
    /// The assets the account touched whose ledger balance differs from Binance's and that no
    /// pair `exchangeInfo` lists has as its base or quote: fills on pairs Binance removed
    /// altogether could explain them, and only the statement export holds those.
    fn unexplained(&self, touched: &BTreeSet<String>, differs: &BTreeSet<String>) -> Vec<String> {
        let Ok(symbols) = self.symbols() else { return Vec::new() };
        let now = self.now_ms();
        let listed: BTreeSet<String> =
            symbols.pairs.keys().flat_map(|(base, quote)| [asset(base, now), asset(quote, now)]).collect();
        touched.intersection(differs).filter(|a| !listed.contains(*a)).cloned().collect()
    }
}

impl BinanceAdapter {
    /// `result` with an unexpected answer named for this venue (the shared parsing names
    /// Binance; a Binance.US sync must say Binance.US).
    fn named<T>(&self, result: Result<T, FetchError>) -> Result<T, FetchError> {
        result.map_err(|error| match error {
            FetchError::Malformed { endpoint, reason, .. } => {
                FetchError::Malformed { exchange: self.api.venue().name.to_owned(), endpoint, reason }
            }
            other => other,
        })
    }

    fn venue_key_permissions(&self) -> Result<KeyPermissions, FetchError> {
        let answer = match self.api.get(Endpoint::ApiRestrictions, &[]) {
            Ok(answer) => answer,
            // A venue without the endpoint (Binance.US documents no such path for every key
            // kind) says nothing of the key: every permission unknown, so a withdraw-capable
            // key is still refused unless allowed; reading is proven by the sync itself.
            Err(FetchError::Api { status: 404, .. }) => {
                return Ok(KeyPermissions {
                    can_read: true,
                    details: vec!["apiRestrictions not offered: permissions not reported".into()],
                    ..KeyPermissions::default()
                });
            }
            Err(e) => return Err(e),
        };
        let v: BTreeMap<String, serde_json::Value> = parse(Endpoint::ApiRestrictions, &answer.body)?;
        let flag = |key: &str| v.get(key).and_then(serde_json::Value::as_bool);
        // Any flag that says yes makes it yes; otherwise a flag missing (or not a boolean)
        // makes it unknown, never "no": an unknown withdraw permission is refused unless allowed.
        let any = |keys: &[&str]| match keys.iter().map(|k| flag(k)).collect::<Vec<_>>() {
            flags if flags.contains(&Some(true)) => Some(true),
            flags if flags.contains(&None) => None,
            _ => Some(false),
        };
        let withdraw = ["enableWithdrawals", "enableInternalTransfer", "permitsUniversalTransfer"];
        let trade = ["enableSpotAndMarginTrading", "enableMargin", "enableFutures", "enableVanillaOptions"];
        let can_withdraw = any(&withdraw);
        let mut details: Vec<String> =
            withdraw.iter().chain(&trade).filter(|k| flag(k) == Some(true)).map(|k| k.to_string()).collect();
        if can_withdraw.is_none() {
            details.extend(withdraw.iter().filter(|k| flag(k).is_none()).map(|k| format!("{k} not reported")));
        }
        Ok(KeyPermissions {
            can_read: flag("enableReading").unwrap_or(false),
            can_trade: any(&trade),
            can_withdraw,
            ip_restricted: flag("ipRestrict"),
            details,
        })
    }

    fn venue_balances(&self) -> Result<Vec<Balance>, FetchError> {
        let answer = self.api.get(Endpoint::Account, &[("omitZeroBalances", "true".into())])?;
        #[derive(Deserialize)]
        struct Account {
            balances: Vec<Entry>,
        }
        #[derive(Deserialize)]
        struct Entry {
            asset: String,
            free: String,
            locked: String,
        }
        let account: Account = parse(Endpoint::Account, &answer.body)?;
        let now = self.now_ms();
        let mut out = Vec::new();
        for entry in account.balances {
            // `LD…` entries mirror Simple Earn positions (`LDO` is a real coin).
            if entry.asset.starts_with("LD") && entry.asset != "LDO" {
                continue;
            }
            let amount = |s: &str| parse_amount(s).map_err(|e| malformed(Endpoint::Account, e.to_string()));
            let total: Decimal = amount(&entry.free)? + amount(&entry.locked)?;
            if !total.is_zero() {
                out.push(Balance { asset: asset(&entry.asset, now), amount: total });
            }
        }
        Ok(out)
    }

    fn venue_streams(&self, known: &Known, plan: &SyncPlan) -> Result<Vec<Stream>, FetchError> {
        let mut streams: Vec<Stream> = self.api.venue().streams.iter().map(|(e, s)| Stream::new(*e, *s)).collect();
        let symbols = self.symbols()?;
        let now = self.now_ms();
        let mut seen = BTreeSet::new();
        for (base, quote) in symbols.pairs.keys() {
            let (b, q) = (asset(base, now), asset(quote, now));
            let touched = |set: &BTreeSet<String>| {
                set.contains(&b) || set.contains(&q) || set.contains(base) || set.contains(quote)
            };
            if !touched(&known.assets) {
                continue;
            }
            let stream = Stream::new("myTrades", format!("{base}/{quote}"));
            if (plan.full || !known.walked.contains(&stream) || touched(&known.changed)) && seen.insert(stream.clone())
            {
                streams.push(stream);
            }
        }
        Ok(streams)
    }

    fn venue_start(&self, stream: &Stream, stored: Option<&str>, plan: &SyncPlan) -> Result<String, FetchError> {
        if stream.endpoint == "myTrades" {
            return Ok(match (plan.full, stored) {
                (false, Some(cursor)) => cursor.to_string(),
                _ => TradeCursor::default().render(),
            });
        }
        let walk = self.walk(stream).ok_or_else(|| FetchError::Setup {
            exchange: self.api.venue().name.into(),
            reason: format!("unknown stream {stream}"),
        })?;
        let begin = plan.since_ms.map_or(walk.begin_ms, |s| s.max(walk.begin_ms));
        let from_ms = match (plan.full, stored.and_then(TimeCursor::parse)) {
            (false, Some(c)) => (c.hold_ms.map_or(c.from_ms, |h| h.min(c.from_ms)) - LOOKBACK_MS).max(c.begin_ms),
            _ => begin,
        };
        let begin_ms = match (plan.full, stored.and_then(TimeCursor::parse)) {
            (false, Some(c)) => c.begin_ms,
            _ => begin,
        };
        Ok(TimeCursor { from_ms, page: 0, span_ms: walk.span_ms.unwrap_or(0), hold_ms: None, begin_ms }.render())
    }

    fn venue_fetch_page(&self, stream: &Stream, cursor: &str) -> Result<Page, FetchError> {
        if stream.endpoint == "myTrades" {
            return self.fetch_trades(stream, cursor);
        }
        let walk = self.walk(stream).ok_or_else(|| FetchError::Setup {
            exchange: self.api.venue().name.into(),
            reason: format!("unknown stream {stream}"),
        })?;
        self.fetch_window(stream, walk, cursor)
    }
}

impl Adapter for BinanceAdapter {
    fn closing_warnings(&self, touched: &BTreeSet<String>, differs: &BTreeSet<String>) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let title = self.api.venue().title;
        let unexplained = self.unexplained(touched, differs);
        if !unexplained.is_empty() {
            out.push((
                "myTrades".to_string(),
                format!(
                    "{}: the account touched {} but no pair {title} lists has {} and the balance differs \
                     from {title}'s; fills on pairs {title} removed from its list altogether exist only in \
                     the Transaction History statement export (the API answers -1121 for them): import it \
                     into this account (`cointally import FILE --account LABEL`, then `cointally \
                     renormalize`); what the API already gave meets its statement rows, so it adds nothing twice",
                    unexplained.join(", "),
                    if unexplained.len() == 1 { "it" } else { "them" },
                    if unexplained.len() == 1 { "it" } else { "any of them" },
                ),
            ));
        }
        let (stream, not_fetched) = self.api.venue().not_fetched;
        out.push((stream.to_string(), not_fetched.to_string()));
        out
    }

    fn key_permissions(&self) -> Result<KeyPermissions, FetchError> {
        self.named(self.venue_key_permissions())
    }

    fn balances(&self) -> Result<Vec<Balance>, FetchError> {
        self.named(self.venue_balances())
    }

    fn streams(&self, known: &Known, plan: &SyncPlan) -> Result<Vec<Stream>, FetchError> {
        self.named(self.venue_streams(known, plan))
    }

    fn start(&self, stream: &Stream, stored: Option<&str>, plan: &SyncPlan) -> Result<String, FetchError> {
        self.named(self.venue_start(stream, stored, plan))
    }

    fn fetch_page(&self, stream: &Stream, cursor: &str) -> Result<Page, FetchError> {
        self.named(self.venue_fetch_page(stream, cursor))
    }
}

#[cfg(test)]
mod tests;
