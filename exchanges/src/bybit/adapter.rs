//! Bybit's history, walked for the sync engine.
//!
//! # Streams
//!
//! | stream | endpoint | window | what |
//! |---|---|---|---|
//! | `transaction-log` | `GET /v5/account/transaction-log?accountType=UNIFIED` | 7 days | every change of the unified wallet: fills, fees, transfers in and out, interest, bonuses |
//! | `deposits` | `GET /v5/asset/deposit/query-record` | 30 days | on-chain deposits to the funding wallet |
//! | `withdrawals` | `GET /v5/asset/withdraw/query-record?withdrawType=2` | 30 days | on-chain withdrawals and sends to other Bybit users |
//! | `transfers` | `GET /v5/asset/transfer/query-inter-transfer-list` | 7 days | transfers between the account's own wallets |
//! | `converts` | `GET /v5/asset/exchange/order-record` | none | coin conversions |
//! | `executions` | `GET /v5/execution/list?category=spot` | 7 days | a classic account's spot fills (instead of the log) |
//! | `earn-orders` `FlexibleSaving`, `OnChain` | `GET /v5/earn/order?category=…` | 7 days | Earn stake and redeem orders |
//! | `earn-yields` `FlexibleSaving`, `OnChain` | `GET /v5/earn/yield?category=…` | 7 days | Earn yields |
//!
//! Each endpoint answers at most one window (`startTime`..`endTime`) per call, 50 records a
//! page, and the next page by `cursor` = the answer's `nextPageCursor`
//! (<https://bybit-exchange.github.io/docs/v5/account/transaction-log>,
//! <https://bybit-exchange.github.io/docs/v5/asset/deposit/deposit-record>,
//! <https://bybit-exchange.github.io/docs/v5/asset/withdraw/withdraw-record>,
//! <https://bybit-exchange.github.io/docs/v5/asset/transfer/inter-transfer-list>,
//! <https://bybit-exchange.github.io/docs/v5/order/execution>: "If both are passed, the rule is
//! endTime - startTime <= 7 days", at most 100 a page, cursor paging).
//!
//! The conversions' endpoint takes no time range and does not document the order of its
//! list (<https://bybit-exchange.github.io/docs/v5/asset/exchange>): every sync walks its
//! whole list by `cursor` (one call per 50 conversions; records already stored are not stored
//! twice), and a killed walk resumes at its stored page cursor.
//!
//! # Earn
//!
//! Bybit Earn's order history (<https://bybit-exchange.github.io/docs/v5/earn/order-history>)
//! and yield history (<https://bybit-exchange.github.io/docs/v5/earn/yield-history>) take one
//! `category` a call, `startTime`/`endTime` at most 7 days apart, up to 100 a page (50 asked)
//! and `cursor`; they are walked like the other windowed streams, one stream per category,
//! from the same two years back. An order or yield not final yet (`Pending`) is held as a
//! pending deposit is. The yield page's table names the list `list`, its example answer
//! `yield`: both are read. The balances add the Earn positions of both categories
//! (<https://bybit-exchange.github.io/docs/v5/earn/position>, `amount`). Each Earn page says
//! “API key needs "Earn" permission”; the key check does not demand it: when Bybit refuses
//! an Earn call for lack of it (`10005`), the stream ends where it stood, the positions are left
//! out, the sync goes on and warns once at its end. When Bybit refuses to list on-chain orders
//! by time (`10001`; the order page says "For category = OnChain, either orderId or
//! orderLinkId is required"), the same; and when it refuses the on-chain category of the yield
//! history (which took only `FlexibleSaving` until Bybit's changelog of 2026-03-19: "`category`
//! now supports `OnChain`"), the same. The yield page says "You can get the past 3 months
//! data": older yields are missing unless the account is synced at least that often (the
//! closing warning on a balance difference says so).
//!
//! # Two years
//!
//! The transaction log reaches back **two years** (the page says "supports querying data from
//! the past 2 years"); cointally walks every stream from then (or `--since`, if later) to now,
//! window by window, and tells the user at the end of every sync to import a file (a transaction
//! log with the API's fields, [`super::csv`], or the generic format) for anything older.
//!
//! # The walk, resumable
//!
//! The cursor (JSON) holds the window's start, Bybit's page cursor within it, the earliest
//! record seen that was not final yet (`hold_ms`: a deposit still confirming, a withdrawal
//! under review, a pending transfer: not stored) and where the walk began. Each page is stored
//! with the cursor after it; a killed walk resumes at its last stored page. A walk ends at
//! the window that reaches now; the next sync starts at the earliest held record or the end of
//! the last walk, less ten minutes (records already stored are not stored twice), so a
//! re-sync asks one page per stream.
//!
//! # Unified and classic accounts
//!
//! `GET /v5/user/query-api` says whether the account is a unified trading account (`uta` 1).
//! The transaction log exists for unified accounts only. A classic account walks its spot fills
//! instead: `GET /v5/execution/list?category=spot` ("classic account: linear, inverse, spot"),
//! 7-day windows paged by `cursor` like the log, each fill one `trade` (`exec-<execId>`, both
//! legs and the fee, [`super::fills`]); its balances are the funding wallet plus
//! `wallet-balance?accountType=SPOT`. A unified account does **not** walk executions: its log
//! already carries every fill's change, price and trade id (the log is the truth, as Kraken's
//! ledger is), and both would count each fill twice. The execution page once said "Classic
//! Spot supports getting the past 180 days historical data"; today's says nothing of a classic
//! reach: the walk starts two years back like every stream, and windows Bybit no longer keeps
//! come back empty (README, "Bybit").
//!
//! # Key check
//!
//! The same answer lists the key's permissions
//! (<https://bybit-exchange.github.io/docs/v5/user/apikey-info>): `readOnly` 1 is a read-only
//! key (it cannot withdraw); otherwise the key may withdraw when `permissions.Wallet` lists
//! `Withdraw`. An answer without `readOnly`, or a read-write key whose answer has no
//! `permissions.Wallet`, leaves it unknown, which counts as "may withdraw" (fail closed).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::api::{BybitApi, Endpoint, malformed};
use super::normalize::{
    CONVERTS, DEPOSITS, EARN_ORDERS, EARN_YIELDS, EXECUTIONS, LOG, State, TRANSFERS, WITHDRAWALS, canonical_asset,
    identify,
};
use crate::adapter::{Adapter, Balance, KeyPermissions, Known, Page, Progress, RawRecord, Span, Stream, SyncPlan};
use crate::amount::parse_amount;
use crate::cursor;
use crate::http::FetchError;

const DAY_MS: i64 = 86_400_000;
/// How far back the transaction log reaches: two years (less a day, to stay inside it).
pub const REACH_MS: i64 = 729 * DAY_MS;
/// How far before the last walk's end the next one starts.
pub const LOOKBACK_MS: i64 = 10 * 60_000;
/// Records per page (Bybit's maximum).
pub const PAGE_SIZE: usize = 50;

/// The Bybit adapter of one account.
pub struct BybitAdapter {
    api: BybitApi,
    unified: OnceLock<bool>,
    /// Whether an Earn endpoint refused the key for lack of the Earn permission.
    earn_refused: AtomicBool,
    /// Whether Bybit refused to list on-chain Earn orders by time.
    onchain_unlisted: AtomicBool,
    /// Whether Bybit refused the on-chain category of the yield history.
    onchain_yields_unlisted: AtomicBool,
}

/// Earn's categories whose orders are walked: Flexible Savings and On-chain Earn
/// (<https://bybit-exchange.github.io/docs/v5/earn/order-history>: "currently, only flexible
/// savings and OnChain is supported").
pub const EARN_ORDER_CATEGORIES: [&str; 2] = ["FlexibleSaving", "OnChain"];
/// Earn's categories whose yields are listed (<https://bybit-exchange.github.io/docs/v5/earn/yield-history>:
/// `category` "`FlexibleSaving`,`OnChain`"; Bybit's changelog of 2026-03-19: "`category` now
/// supports `OnChain`").
pub const EARN_YIELD_CATEGORIES: [&str; 2] = ["FlexibleSaving", "OnChain"];

/// Where a walk of one stream stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
struct Cursor {
    /// The window's first millisecond.
    from_ms: i64,
    /// Bybit's cursor of the next page within the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<String>,
    /// The earliest record seen that was not final yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    hold_ms: Option<i64>,
    /// Where the walk began.
    begin_ms: i64,
}

/// The endpoint, window length and list field of a stream.
fn walk(stream: &str) -> Option<(Endpoint, i64, &'static str)> {
    Some(match stream {
        LOG => (Endpoint::TransactionLog, 7 * DAY_MS, "list"),
        DEPOSITS => (Endpoint::Deposits, 30 * DAY_MS, "rows"),
        WITHDRAWALS => (Endpoint::Withdrawals, 30 * DAY_MS, "rows"),
        TRANSFERS => (Endpoint::Transfers, 7 * DAY_MS, "list"),
        EXECUTIONS => (Endpoint::Executions, 7 * DAY_MS, "list"),
        // "the difference between the endTime and startTime must be less than or equal to 7 days"
        EARN_ORDERS => (Endpoint::EarnOrders, 7 * DAY_MS, "list"),
        EARN_YIELDS => (Endpoint::EarnYields, 7 * DAY_MS, "list"),
        // No window: the whole list, page by page.
        CONVERTS => (Endpoint::Converts, 0, "orderBody"),
        _ => return None,
    })
}

fn unknown_stream(stream: &Stream) -> FetchError {
    FetchError::Setup { exchange: "bybit".into(), reason: format!("unknown stream {stream}") }
}

/// A page of any list answer: its items and `nextPageCursor`.
#[derive(Deserialize)]
struct Listing<'a> {
    #[serde(borrow, default)]
    list: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    rows: Vec<&'a RawValue>,
    #[serde(rename = "orderBody", borrow, default)]
    order_body: Vec<&'a RawValue>,
    /// The yield page's table names its list `list`, its example answer `yield`: both are read.
    #[serde(rename = "yield", borrow, default)]
    yields: Vec<&'a RawValue>,
    #[serde(rename = "nextPageCursor", default)]
    next: String,
}

/// The `query-api` answer's fields cointally reads.
#[derive(Deserialize, Default)]
#[serde(default)]
struct KeyInfo {
    #[serde(rename = "readOnly")]
    read_only: Option<i64>,
    permissions: Option<BTreeMap<String, Vec<String>>>,
    uta: Option<i64>,
    ips: Vec<String>,
}

impl BybitAdapter {
    /// The adapter over `api`.
    pub fn new(api: BybitApi) -> BybitAdapter {
        BybitAdapter {
            api,
            unified: OnceLock::new(),
            earn_refused: AtomicBool::new(false),
            onchain_unlisted: AtomicBool::new(false),
            onchain_yields_unlisted: AtomicBool::new(false),
        }
    }

    /// The API it calls.
    pub fn api(&self) -> &BybitApi {
        &self.api
    }

    fn key_info(&self) -> Result<KeyInfo, FetchError> {
        let (_, result) = self.api.call(Endpoint::ApiKey, &[])?;
        let info: KeyInfo = serde_json::from_str(&result)
            .map_err(|e| malformed(Endpoint::ApiKey, format!("not the API key's information: {e}")))?;
        let _ = self.unified.set(info.uta == Some(1));
        Ok(info)
    }

    /// Whether the account is a unified trading account (asked once).
    fn is_unified(&self) -> Result<bool, FetchError> {
        match self.unified.get() {
            Some(unified) => Ok(*unified),
            None => Ok(self.key_info()?.uta == Some(1)),
        }
    }

    fn fetch(&self, stream: &Stream, text: &str) -> Result<Page, FetchError> {
        let (endpoint, span_ms, _) = walk(&stream.endpoint).ok_or_else(|| unknown_stream(stream))?;
        let c: Cursor = cursor::decode(text)
            .ok_or_else(|| malformed(endpoint, format!("cursor {text:?} is not a {stream} cursor")))?;
        if span_ms == 0 {
            return self.fetch_list(stream, endpoint, &c);
        }
        let now = self.api.limiter().exchange_now_ms();
        let end_ms = c.from_ms.saturating_add(span_ms - 1).min(now);
        if c.from_ms > now {
            return Ok(page(Vec::new(), c.clone(), true, None, &c, now, 0));
        }
        let mut params = match endpoint {
            Endpoint::TransactionLog => vec![("accountType", "UNIFIED".to_owned())],
            Endpoint::Withdrawals => vec![("withdrawType", "2".to_owned())],
            Endpoint::Executions => vec![("category", "spot".to_owned())],
            Endpoint::EarnOrders | Endpoint::EarnYields => vec![("category", stream.scope.clone())],
            _ => Vec::new(),
        };
        params.push(("startTime", c.from_ms.to_string()));
        params.push(("endTime", end_ms.to_string()));
        params.push(("limit", PAGE_SIZE.to_string()));
        if let Some(page) = &c.page {
            params.push(("cursor", page.clone()));
        }
        let (answer, result) = match self.api.call(endpoint, &params) {
            Err(error) if self.passed_over(endpoint, &stream.scope, &error) => {
                // Earn refused: the stream ends here, its cursor where it was (asked again next
                // sync); the sync goes on and warns once at its end.
                return Ok(page(Vec::new(), c.clone(), true, None, &c, now, 1));
            }
            other => other?,
        };
        let listing: Listing<'_> =
            serde_json::from_str(&result).map_err(|e| malformed(endpoint, format!("not a page of {stream}: {e}")))?;
        let items = [listing.list, listing.rows, listing.yields]
            .into_iter()
            .find(|items| !items.is_empty())
            .unwrap_or_default();
        let mut next = c.clone();
        let mut records = Vec::with_capacity(items.len());
        for raw in &items {
            let payload = raw.get().to_owned();
            let (id, ms, state) = identify(&stream.endpoint, &payload)
                .map_err(|reason| malformed(endpoint, format!("a record cointally cannot place: {reason}")))?;
            if state == State::Open {
                next.hold_ms = Some(next.hold_ms.map_or(ms, |hold| hold.min(ms)));
                continue;
            }
            records.push((ms, RawRecord { external_id: id, payload }));
        }
        // Oldest first, so the ledger's order of events is the exchange's.
        records.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.external_id.cmp(&b.1.external_id)));
        let more = !listing.next.is_empty() && !items.is_empty();
        let covered = if more {
            next.page = Some(listing.next);
            None
        } else {
            next.page = None;
            next.from_ms = end_ms.saturating_add(1);
            Some(Span { from_ms: c.from_ms, to_ms: end_ms.saturating_add(1) })
        };
        let done = !more && end_ms >= now;
        let records = records.into_iter().map(|(_, record)| record).collect();
        Ok(page(records, next, done, covered, &c, now, answer.attempts))
    }
}

impl BybitAdapter {
    /// Whether `error` of an Earn endpoint is one the sync passes over (remembering it for the
    /// closing warning): the key lacks the Earn permission (`10005`), or Bybit would not list
    /// on-chain orders by time (`10001`; the order page: "For category = OnChain, either orderId
    /// or orderLinkId is required").
    fn passed_over(&self, endpoint: Endpoint, scope: &str, error: &FetchError) -> bool {
        let FetchError::Api { code, .. } = error else { return false };
        match code.as_str() {
            "10005" if endpoint.is_earn() => {
                self.earn_refused.store(true, Ordering::Relaxed);
                true
            }
            "10001" if endpoint == Endpoint::EarnOrders && scope == "OnChain" => {
                self.onchain_unlisted.store(true, Ordering::Relaxed);
                true
            }
            "10001" if endpoint == Endpoint::EarnYields && scope == "OnChain" => {
                self.onchain_yields_unlisted.store(true, Ordering::Relaxed);
                true
            }
            _ => false,
        }
    }

    /// One page of a list without time windows (the conversions): every record, the next page
    /// by Bybit's cursor, done at the last page.
    fn fetch_list(&self, stream: &Stream, endpoint: Endpoint, c: &Cursor) -> Result<Page, FetchError> {
        let mut params = vec![("limit", PAGE_SIZE.to_string())];
        if let Some(page) = &c.page {
            params.push(("cursor", page.clone()));
        }
        let (answer, result) = self.api.call(endpoint, &params)?;
        let listing: Listing<'_> =
            serde_json::from_str(&result).map_err(|e| malformed(endpoint, format!("not a page of {stream}: {e}")))?;
        let mut records = Vec::with_capacity(listing.order_body.len());
        for raw in &listing.order_body {
            let payload = raw.get().to_owned();
            let (id, ms, _) = identify(&stream.endpoint, &payload)
                .map_err(|reason| malformed(endpoint, format!("a record cointally cannot place: {reason}")))?;
            records.push((ms, RawRecord { external_id: id, payload }));
        }
        records.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.external_id.cmp(&b.1.external_id)));
        let more = !listing.next.is_empty() && !listing.order_body.is_empty();
        let next = Cursor { page: more.then(|| listing.next.clone()), ..c.clone() };
        let requests = answer.attempts;
        Ok(Page {
            records: records.into_iter().map(|(_, record)| record).collect(),
            pending: Vec::new(),
            progress: Progress::Unknown,
            cursor: cursor::encode(&next),
            done: !more,
            covered: None,
            requests,
            retries: requests.saturating_sub(1),
            warnings: Vec::new(),
        })
    }
}

fn page(
    records: Vec<RawRecord>,
    next: Cursor,
    done: bool,
    covered: Option<Span>,
    was: &Cursor,
    now: i64,
    requests: u32,
) -> Page {
    Page {
        records,
        pending: Vec::new(),
        progress: Progress::Time { start_ms: was.begin_ms, at_ms: next.from_ms.min(now), end_ms: now },
        cursor: cursor::encode(&next),
        done,
        covered,
        requests,
        retries: requests.saturating_sub(1),
        warnings: Vec::new(),
    }
}

/// Adds each coin's `field` (`walletBalance`, an Earn position's `amount`) of `items` into `totals`.
fn add_balances(
    endpoint: Endpoint,
    items: &[serde_json::Value],
    field: &str,
    totals: &mut BTreeMap<String, Decimal>,
) -> Result<(), FetchError> {
    for item in items {
        let text = |name: &str| item.get(name).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
        let coin = text("coin");
        let bad = |reason: String| malformed(endpoint, format!("{coin}: {reason}"));
        let balance = text(field);
        let amount =
            if balance.is_empty() { Decimal::ZERO } else { parse_amount(&balance).map_err(|e| bad(e.to_string()))? };
        let asset = canonical_asset(&coin).map_err(|e| bad(e.to_string()))?;
        let total = totals.entry(asset).or_default();
        *total = total.checked_add(amount).ok_or_else(|| bad("the balance overflows".to_owned()))?;
    }
    Ok(())
}

impl Adapter for BybitAdapter {
    fn key_permissions(&self) -> Result<KeyPermissions, FetchError> {
        let info = self.key_info()?;
        let wallet = info.permissions.as_ref().and_then(|p| p.get("Wallet"));
        let can_withdraw = match (info.read_only, wallet) {
            (Some(1), _) => Some(false),
            (Some(0), Some(wallet)) => Some(wallet.iter().any(|p| p == "Withdraw")),
            _ => None,
        };
        let mut details = vec![match info.read_only {
            Some(1) => "readOnly: 1 (read only)".to_owned(),
            Some(0) => "readOnly: 0 (read and write)".to_owned(),
            _ => "Bybit did not say whether the key is read-only".to_owned(),
        }];
        for (group, list) in info.permissions.iter().flatten() {
            if !list.is_empty() {
                details.push(format!("{group}: {}", list.join(", ")));
            }
        }
        let trades = info.permissions.as_ref().map(|p| {
            ["Spot", "ContractTrade", "Options"].iter().any(|g| p.get(*g).is_some_and(|list| !list.is_empty()))
        });
        Ok(KeyPermissions {
            can_read: true,
            can_trade: match info.read_only {
                Some(1) => Some(false),
                Some(0) => trades,
                _ => None,
            },
            can_withdraw,
            ip_restricted: Some(!info.ips.is_empty() && info.ips.iter().all(|ip| ip != "*")),
            details,
        })
    }

    fn balances(&self) -> Result<Vec<Balance>, FetchError> {
        let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
        // The trading wallet: a unified account's `UNIFIED`, a classic account's `SPOT`
        // (<https://bybit-exchange.github.io/docs/v5/account/wallet-balance>: "Classic account:
        // CONTRACT, SPOT"). A classic account's `CONTRACT` wallet is not walked, so not counted.
        let wallet = if self.is_unified()? { "UNIFIED" } else { "SPOT" };
        {
            let (_, result) = self.api.call(Endpoint::WalletBalance, &[("accountType", wallet.to_owned())])?;
            let value: serde_json::Value = serde_json::from_str(&result)
                .map_err(|e| malformed(Endpoint::WalletBalance, format!("not a wallet balance: {e}")))?;
            for account in value.get("list").and_then(serde_json::Value::as_array).into_iter().flatten() {
                let coins = account.get("coin").and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
                add_balances(Endpoint::WalletBalance, &coins, "walletBalance", &mut totals)?;
            }
        }
        let (_, result) = self.api.call(Endpoint::FundBalance, &[("accountType", "FUND".to_owned())])?;
        let value: serde_json::Value = serde_json::from_str(&result)
            .map_err(|e| malformed(Endpoint::FundBalance, format!("not a funding wallet balance: {e}")))?;
        let coins = value.get("balance").and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
        add_balances(Endpoint::FundBalance, &coins, "walletBalance", &mut totals)?;
        // What is staked in Earn is the account's too: each category's positions, coin by coin
        // (<https://bybit-exchange.github.io/docs/v5/earn/position>: `amount`, "Total staked
        // amount"; a fully redeemed flexible position is listed with nothing in it).
        for category in EARN_ORDER_CATEGORIES {
            let (_, result) = match self.api.call(Endpoint::EarnPositions, &[("category", category.to_owned())]) {
                Err(error) if self.passed_over(Endpoint::EarnPositions, category, &error) => continue,
                other => other?,
            };
            let value: serde_json::Value = serde_json::from_str(&result)
                .map_err(|e| malformed(Endpoint::EarnPositions, format!("not Earn positions: {e}")))?;
            let items = value.get("list").and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
            add_balances(Endpoint::EarnPositions, &items, "amount", &mut totals)?;
        }
        Ok(totals
            .into_iter()
            .filter(|(_, amount)| !amount.is_zero())
            .map(|(asset, amount)| Balance { asset, amount: amount.normalize() })
            .collect())
    }

    fn streams(&self, _known: &Known, _plan: &SyncPlan) -> Result<Vec<Stream>, FetchError> {
        let mut streams = Vec::new();
        // A unified account's log already holds every fill's change, price and trade id, so its
        // executions are not walked (they would double every trade); a classic account has no
        // log, and its spot fills come from the execution list.
        streams.push(Stream::new(if self.is_unified()? { LOG } else { EXECUTIONS }, ""));
        for name in [DEPOSITS, WITHDRAWALS, TRANSFERS, CONVERTS] {
            streams.push(Stream::new(name, ""));
        }
        // Earn: one stream per category (the endpoints take one `category` a call).
        for category in EARN_ORDER_CATEGORIES {
            streams.push(Stream::new(EARN_ORDERS, category));
        }
        for category in EARN_YIELD_CATEGORIES {
            streams.push(Stream::new(EARN_YIELDS, category));
        }
        Ok(streams)
    }

    fn start(&self, stream: &Stream, stored: Option<&str>, plan: &SyncPlan) -> Result<String, FetchError> {
        let (_, span_ms, _) = walk(&stream.endpoint).ok_or_else(|| unknown_stream(stream))?;
        if span_ms == 0 {
            // A list without windows: a killed walk resumes at its page, any other starts anew.
            let page = match (plan.full, stored.and_then(cursor::decode::<Cursor>)) {
                (false, Some(c)) => c.page,
                _ => None,
            };
            return Ok(cursor::encode(&Cursor { page, ..Cursor::default() }));
        }
        let floor = self.api.limiter().exchange_now_ms().saturating_sub(REACH_MS);
        let begin_ms = plan.since_ms.map_or(floor, |since| since.max(floor));
        let cursor = match (plan.full, stored.and_then(cursor::decode::<Cursor>)) {
            (false, Some(c)) if c.from_ms > 0 => {
                let from = c.hold_ms.map_or(c.from_ms, |hold| hold.min(c.from_ms));
                let from_ms = match &c.page {
                    // Killed inside a window: resume at its stored page.
                    Some(_) if c.hold_ms.is_none() => c.from_ms,
                    _ => from.saturating_sub(LOOKBACK_MS).max(floor),
                };
                let page = if from_ms == c.from_ms { c.page } else { None };
                Cursor { from_ms, page, hold_ms: None, begin_ms: c.begin_ms.max(floor) }
            }
            _ => Cursor { from_ms: begin_ms, page: None, hold_ms: None, begin_ms },
        };
        Ok(cursor::encode(&cursor))
    }

    fn fetch_page(&self, stream: &Stream, cursor: &str) -> Result<Page, FetchError> {
        self.fetch(stream, cursor)
    }

    fn closing_warnings(&self, _touched: &BTreeSet<String>, differs: &BTreeSet<String>) -> Vec<(String, String)> {
        let mut warnings = vec![(
            LOG.to_owned(),
            "Bybit's API reaches back two years only: import older history from a file (`cointally import`: a transaction log with the API's fields, or the generic format)".to_owned(),
        )];
        if self.unified.get() == Some(&false) {
            warnings.push((
                LOG.to_owned(),
                "this is a classic (not unified) Bybit account: its spot fills come from the execution list; its derivatives (CONTRACT) wallet, interest and bonuses are not fetched".to_owned(),
            ));
        }
        if self.earn_refused.load(Ordering::Relaxed) {
            warnings.push((
                EARN_ORDERS.to_owned(),
                "Bybit refused the Earn history and positions: the API key lacks the Earn permission (read). Stakes, redemptions, yields and what is staked in Earn are not synced; give the key Earn (read) on bybit.com and sync again".to_owned(),
            ));
        }
        if self.onchain_unlisted.load(Ordering::Relaxed) {
            warnings.push((
                EARN_ORDERS.to_owned(),
                "Bybit would not list on-chain Earn orders by time (it asks for an order id): on-chain stakes and redemptions are not synced".to_owned(),
            ));
        }
        if self.onchain_yields_unlisted.load(Ordering::Relaxed) {
            warnings.push((
                EARN_YIELDS.to_owned(),
                "Bybit would not list on-chain Earn yields (its yield history took only Flexible Savings before March 2026): on-chain Earn's returns are not synced".to_owned(),
            ));
        }
        if !differs.is_empty() {
            warnings.push((
                LOG.to_owned(),
                format!(
                    "balances differ for {}: Earn products other than Flexible Savings and On-chain Earn, Earn yields older than three months (Bybit lists the past three months only: sync at least that often), copy trading and sub-accounts are not fetched",
                    differs.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_fixture(name: &str) -> String {
        let path = format!("{}/../fixtures/bybit/earn-yields/{name}.json", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The yield page's table names the list `list`, its example answer `yield`: either is read.
    #[test]
    fn a_page_of_yields_is_read_under_list_or_under_yield() {
        for (name, id, next) in [("page_list", "1", ""), ("page_yield", "2", "abc")] {
            let text = page_fixture(name);
            let listing: Listing<'_> = serde_json::from_str(&text).unwrap();
            let items: Vec<&RawValue> = [listing.list, listing.rows, listing.yields]
                .into_iter()
                .find(|items| !items.is_empty())
                .unwrap_or_default();
            assert_eq!(items.len(), 1, "{name}");
            assert_eq!(identify(EARN_YIELDS, items[0].get()).unwrap().0, id, "{name}");
            assert_eq!(listing.next, next, "{name}");
        }
    }

    #[test]
    fn every_earn_stream_is_walked_in_seven_day_windows() {
        for stream in [EARN_ORDERS, EARN_YIELDS] {
            let (endpoint, span_ms, _) = walk(stream).unwrap();
            assert!(endpoint.is_earn(), "{stream}");
            assert_eq!(span_ms, 7 * DAY_MS, "{stream}");
        }
    }
}
