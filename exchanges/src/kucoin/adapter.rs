//! KuCoin's complete history, walked for the sync engine.
//!
//! # Three ledger streams: `ledgers`, `hf-ledgers` and `margin-hf-ledgers`
//!
//! The account ledger is the one list of every balance change of the main, trade and margin
//! accounts: trades (each side an entry), deposits, withdrawals, transfers between the three
//! accounts, KuCoin Earn subscriptions, redemptions and profits, bonuses and rebates.
//! `GET /api/v1/accounts/ledgers`
//! (<https://www.kucoin.com/docs/rest/account/basic-info/get-account-ledgers-spot-margin>) answers
//! the entries between `startAt` and `endAt` (ms) newest first, `pageSize` (up to 500) a page,
//! numbered by `currentPage`, with `totalPage`.
//!
//! KuCoin moved spot trading to **high-frequency** (HF) trade accounts, whose balance changes
//! (trades, transfers in and out of `TRADE_HF`) are in their own ledger only:
//! `GET /api/v1/hf/accounts/ledgers`
//! (<https://www.kucoin.com/docs/rest/account/basic-info/get-account-ledgers-trade_hf>, and
//! <https://www.kucoin.com/docs-new/rest/account-info/account-funding/get-account-ledgers-tradehf>)
//! answers `{"data": [entries]}` newest first (by `createdAt` and `id`), `limit` (up to 200) a
//! page, the next page asked with `lastId` (the entries below it); "you can only obtain data
//! from within a 3 × 24 hour time range", a wider one being cut to three days. Its own stream
//! walks it the same way in windows of three days ([`HF_WINDOW_MS`]) from 2022
//! ([`HF_LAUNCH_MS`]), page after page by `lastId` within a window, with its own cursor.
//!
//! KuCoin moved margin trading to **high-frequency** margin accounts too (`MARGIN_V2` cross,
//! `ISOLATED_V2` isolated): their margin trades, transfers in and out and liquidations are in
//! their own ledger only, `GET /api/v3/hf/margin/account/ledgers`
//! (<https://www.kucoin.com/docs/rest/account/basic-info/get-account-ledgers-margin_hf>): the
//! same answer (`{"data": [entries]}` newest first by `createdAt` and `id`), the same paging
//! (`limit` up to 200, `lastId`, `startAt`/`endAt`), Spot weight 2, `bizType` codes `TRANSFER`,
//! `MARGIN_EXCHANGE`, `ISOLATED_EXCHANGE`, `LIQUIDATION`, `ASSERT_RETURN`. Its page does not
//! say how wide `startAt`..`endAt` may be; cointally assumes the trade_hf ledger's three days
//! (a narrower window than KuCoin allows only costs calls). The stream `margin-hf-ledgers`
//! walks it with the very walk of `hf-ledgers` (`KucoinAdapter::fetch_hf_ledgers`), from
//! [`HF_LAUNCH_MS`] (the page's example entry is of August 2022), with its own cursor.
//!
//! # The walk: window by window from the start, page by page within a window
//!
//! KuCoin limits how far apart `startAt` and `endAt` may be (a week for its fills; the ledger
//! page does not say, and cointally assumes the same week: [`WINDOW_MS`]). A walk fixes its end
//! (now) when it starts and goes forward one week at a time from KuCoin's launch (or `--since`),
//! asking each week's pages in turn; a week in the past does not change while it is walked, so
//! page numbers (and `lastId`s) are stable. Both ends are taken as inclusive: a week's last millisecond is
//! asked again as the next week's first, and the ids stored at that millisecond are remembered
//! in the cursor, so an entry is neither lost at the edge nor stored twice. The next walk starts
//! a minute before the last one ended ([`OVERLAP_MS`]), remembering the ids of that minute, so
//! an entry KuCoin had not shown yet when the walk ended is found then. A page is stored
//! with its cursor in one transaction: a killed sync resumes at the page after the last stored
//! one. The next sync walks from the previous walk's end to now: one call when that is less
//! than a week.
//!
//! # Two more: `deposits` and `withdrawals`
//!
//! `GET /api/v1/deposits` and `GET /api/v1/withdrawals` ([`super::transfers`]) are paged like the
//! account ledger and walked alike, week by week from 2019-02-18 ([`V2_LAUNCH_MS`]), each with
//! its own cursor. Their items make no event: each is a details record (tx hash, address,
//! chain) for the deposit or withdrawal event the ledger made.
//!
//! Before API v2 (2019-02-18) KuCoin keeps deposits and withdrawals in the v1 lists
//! `GET /api/v1/hist-deposits` and `GET /api/v1/hist-withdrawals` (times in seconds; the same
//! paging): `hist-deposits` and `hist-withdrawals` walk them from 2017 to 2019-02-18 alike, once.
//!
//! The fills are not walked (see README, "KuCoin").
//!
//! # Balances
//!
//! `GET /api/v1/accounts` lists the main, trade, margin and trade_hf balances; the
//! high-frequency margin accounts' are asked of `GET /api/v3/margin/accounts?queryType=MARGIN_V2`
//! and `GET /api/v3/isolated/accounts?queryType=ISOLATED_V2`
//! (<https://www.kucoin.com/docs/rest/funding/funding-overview/get-account-detail-cross-margin>,
//! <https://www.kucoin.com/docs/rest/funding/funding-overview/get-account-detail-isolated-margin>;
//! Spot weight 15 each) and added per currency. A margin balance is the currency's **total
//! asset** (`totalAsset`, or `total` as the pages' field tables name it), borrowed funds
//! included, never net of its `liability` (`borrowed`): a borrowing is an entry in, so the
//! legs add up to what the account holds, and a debt is not a negative holding (see README,
//! "KuCoin", on liabilities). Rows of `/api/v1/accounts` typed `margin_v2` or `isolated_v2`, if
//! KuCoin ever lists them there, are left out so that nothing is counted twice.
//!
//! # Key check
//!
//! `GET /api/v1/user/api-key` gives the key's `permission` list (`General`, `Spot`, `Margin`,
//! `Futures`, `Earn`, `InnerTransfer`, `Transfer`, …;
//! <https://www.kucoin.com/docs-new/rest/account-info/account-funding/get-apikey-info>). The key may
//! move funds when the list names `Transfer` (KuCoin's withdrawal permission), `Withdraw…` or
//! `InnerTransfer`; an answer without the list leaves it unknown, which counts as "may withdraw"
//! (fail closed).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::api::{Endpoint, KucoinApi, malformed};
use super::normalize::{HF_LEDGERS, LEDGERS, MARGIN_HF_LEDGERS};
use super::transfers::{DEPOSITS, HIST_DEPOSITS, HIST_WITHDRAWALS, WITHDRAWALS, key_and_time};
use crate::adapter::{Adapter, Balance, KeyPermissions, Known, Page, Progress, RawRecord, Span, Stream, SyncPlan};
use crate::amount::{json_text, parse_amount};
use crate::asset::asset_symbol;
use crate::cursor;
use crate::http::FetchError;

/// Entries per `ledgers` call (KuCoin's largest page).
pub const PAGE_SIZE: usize = 500;
/// One week, ms: the widest `startAt`..`endAt` a call asks.
pub const WINDOW_MS: i64 = 7 * 24 * 3600 * 1000;
/// How far back the next walk starts again from the end of the last one, ms: an entry created
/// just before a walk ended but not yet visible to it is found by the next (the ids already
/// stored in that minute are remembered, so none is stored twice).
pub const OVERLAP_MS: i64 = 60_000;
/// KuCoin opened in September 2017: where a complete walk begins.
pub const LAUNCH_MS: i64 = 1_504_224_000_000;
/// 2019-02-18, KuCoin's API v2: where the deposit and withdrawal lists begin (older ones are in
/// the v1 `hist-` lists, not walked).
pub const V2_LAUNCH_MS: i64 = 1_550_448_000_000;
/// Entries per `hf-ledgers` call (KuCoin's largest `limit`).
pub const HF_PAGE_SIZE: usize = 200;
/// Three days, ms: the widest `startAt`..`endAt` the high-frequency ledger answers whole.
pub const HF_WINDOW_MS: i64 = 3 * 24 * 3600 * 1000;
/// 2022-01-01: where a complete walk of the high-frequency ledger begins (KuCoin's
/// high-frequency accounts came in 2022; its documented example entry is of August 2022).
pub const HF_LAUNCH_MS: i64 = 1_640_995_200_000;

/// The KuCoin adapter of one account.
pub struct KucoinAdapter {
    api: KucoinApi,
}

/// Where a walk of the ledger stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
struct Cursor {
    /// Where the walk began (for progress).
    floor_ms: i64,
    /// The current week's first millisecond.
    from_ms: i64,
    /// The walk's last millisecond, fixed when it began.
    to_ms: i64,
    /// The next page of the current week (1-based).
    page: u32,
    /// Ids already stored at `from_ms` or later (by the week or the walk before).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    edge: BTreeSet<String>,
    /// Ids stored so far at the current week's last millisecond (in the walk's last week: in its
    /// last [`OVERLAP_MS`]).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    top: BTreeSet<String>,
    /// Whether the walk is over.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    done: bool,
    /// The high-frequency ledger's `lastId`: the current window's next page holds the ids below it.
    #[serde(skip_serializing_if = "Option::is_none")]
    last_id: Option<String>,
}

impl Cursor {
    /// A walk from `from_ms` to `to_ms` with the ids already stored at `from_ms`.
    fn walk(from_ms: i64, to_ms: i64, edge: BTreeSet<String>) -> Cursor {
        Cursor {
            floor_ms: from_ms,
            from_ms,
            to_ms,
            page: 1,
            edge,
            top: BTreeSet::new(),
            done: to_ms < from_ms,
            last_id: None,
        }
    }

    /// The current window's last millisecond, for windows of `window_ms`.
    fn window_end(&self, window_ms: i64) -> i64 {
        self.from_ms.saturating_add(window_ms).min(self.to_ms)
    }

    /// Takes one page of the current window (ending at `window_end`): drops the ids stored
    /// before, remembers those the next window (or walk) asks again, and, when `window_done`,
    /// moves on to the next window. Returns the records to store and the covered span.
    fn take(
        &self,
        window_end: i64,
        mut entries: Vec<(i64, String, String)>,
        window_done: bool,
    ) -> (Vec<RawRecord>, Cursor, Option<Span>) {
        // Oldest first; one millisecond's entries in id order.
        entries.sort();
        let mut next = self.clone();
        let mut records = Vec::with_capacity(entries.len());
        // What the next window (or walk) asks again, so the ids to remember.
        let kept_from = if window_end >= self.to_ms { window_end.saturating_sub(OVERLAP_MS) } else { window_end };
        for (ms, id, payload) in entries {
            if self.edge.contains(&id) {
                continue;
            }
            if ms >= kept_from {
                next.top.insert(id.clone());
            }
            records.push(RawRecord { external_id: id, payload });
        }
        let mut covered = None;
        if window_done {
            covered = Some(Span { from_ms: self.from_ms, to_ms: window_end.saturating_add(1) });
            let mut edge = std::mem::take(&mut next.top);
            if window_end == self.from_ms || window_end >= self.to_ms {
                // The ids asked again at the same edge, or within the overlap, stay remembered.
                edge.extend(self.edge.iter().cloned());
            }
            next.edge = edge;
            next.page = 1;
            next.last_id = None;
            next.from_ms = window_end;
            next.done = window_end >= self.to_ms;
        }
        (records, next, covered)
    }
}

/// The answer to a cursor whose walk is over: nothing asked.
fn finished(c: &Cursor) -> Page {
    Page {
        records: Vec::new(),
        pending: Vec::new(),
        cursor: cursor::encode(c),
        done: true,
        covered: None,
        progress: Progress::Unknown,
        requests: 0,
        retries: 0,
        warnings: Vec::new(),
    }
}

/// Reads `(time, id, payload)` of each entry of `items`, answers of `endpoint`.
fn entries_of(endpoint: Endpoint, items: Vec<String>) -> Result<Vec<(i64, String, String)>, FetchError> {
    let mut entries = Vec::with_capacity(items.len());
    for payload in items {
        let read = match endpoint {
            Endpoint::Deposits | Endpoint::Withdrawals | Endpoint::HistDeposits | Endpoint::HistWithdrawals => {
                key_and_time(endpoint.name(), &payload)
            }
            _ => id_and_time(&payload),
        };
        let (id, ms) =
            read.map_err(|reason| malformed(endpoint, format!("an entry without a readable id: {reason}")))?;
        entries.push((ms, id, payload));
    }
    Ok(entries)
}

/// One page of `ledgers`' `data`.
#[derive(Deserialize)]
struct LedgerPage<'a> {
    #[serde(rename = "totalPage", default)]
    total_page: u32,
    #[serde(borrow, default)]
    items: Vec<&'a RawValue>,
}

/// The id and time of a ledger entry, for the walk.
fn id_and_time(payload: &str) -> Result<(String, i64), String> {
    #[derive(Deserialize)]
    struct Head<'a> {
        #[serde(borrow)]
        id: Option<&'a RawValue>,
        #[serde(borrow, rename = "createdAt")]
        created_at: Option<&'a RawValue>,
    }
    let head: Head<'_> = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let text = |value: Option<&RawValue>| value.and_then(|v| json_text(v).ok().flatten()).unwrap_or_default();
    let id = text(head.id);
    if id.trim().is_empty() {
        return Err("no id".to_owned());
    }
    let created = text(head.created_at);
    let ms = created.trim().parse().map_err(|_| format!("createdAt {created:?} is not a time in ms"))?;
    Ok((id, ms))
}

impl KucoinAdapter {
    /// The adapter over `api`.
    pub fn new(api: KucoinApi) -> KucoinAdapter {
        KucoinAdapter { api }
    }

    /// The API it calls.
    pub fn api(&self) -> &KucoinApi {
        &self.api
    }

    /// One page of a list paged by number within a week: the account ledger, the deposits or the
    /// withdrawals.
    fn fetch_paged(&self, endpoint: Endpoint, text: &str) -> Result<Page, FetchError> {
        let c: Cursor = cursor::decode(text)
            .ok_or_else(|| malformed(endpoint, format!("cursor {text:?} is not a {} cursor", endpoint.name())))?;
        if c.done {
            return Ok(finished(&c));
        }
        let week_end = c.window_end(WINDOW_MS);
        let params = [
            ("startAt", c.from_ms.to_string()),
            ("endAt", week_end.to_string()),
            ("currentPage", c.page.to_string()),
            ("pageSize", PAGE_SIZE.to_string()),
        ];
        let answer = self.api.call(endpoint, &params)?;
        let (total_page, items) = {
            let wrapped: Wrapped<'_> = serde_json::from_slice(&answer.body)
                .map_err(|e| malformed(endpoint, format!("not a page of {}: {e}", endpoint.name())))?;
            let items: Vec<String> = wrapped.data.items.iter().map(|raw| raw.get().to_owned()).collect();
            (wrapped.data.total_page, items)
        };
        let entries = entries_of(endpoint, items)?;
        let week_done = c.page >= total_page.max(1);
        let (records, mut next, covered) = c.take(week_end, entries, week_done);
        if !week_done {
            next.page = c.page.saturating_add(1);
        }
        Ok(Page {
            records,
            pending: Vec::new(),
            cursor: cursor::encode(&next),
            done: next.done,
            covered,
            progress: Progress::Time { start_ms: c.floor_ms, at_ms: next.from_ms, end_ms: c.to_ms },
            requests: answer.attempts,
            retries: answer.attempts.saturating_sub(1),
            warnings: Vec::new(),
        })
    }

    /// One page of a high-frequency ledger (`endpoint`: the trade_hf or the margin_hf one): the
    /// current window's entries below `lastId`.
    fn fetch_hf_ledgers(&self, endpoint: Endpoint, text: &str) -> Result<Page, FetchError> {
        let c: Cursor = cursor::decode(text)
            .ok_or_else(|| malformed(endpoint, format!("cursor {text:?} is not a {} cursor", endpoint.name())))?;
        if c.done {
            return Ok(finished(&c));
        }
        let window_end = c.window_end(HF_WINDOW_MS);
        let mut params = vec![
            ("startAt", c.from_ms.to_string()),
            ("endAt", window_end.to_string()),
            ("limit", HF_PAGE_SIZE.to_string()),
        ];
        if let Some(last_id) = &c.last_id {
            params.push(("lastId", last_id.clone()));
        }
        let answer = self.api.call(endpoint, &params)?;
        let items: Vec<String> = {
            let wrapped: WrappedList<'_> = serde_json::from_slice(&answer.body)
                .map_err(|e| malformed(endpoint, format!("not a list of ledger entries: {e}")))?;
            wrapped.data.iter().map(|raw| raw.get().to_owned()).collect()
        };
        let entries = entries_of(endpoint, items)?;
        // The next page holds the ids below this page's least (KuCoin's ids are numbers, newest
        // first; compared as numbers: shorter is smaller).
        let last_id = entries.iter().map(|(_, id, _)| id).min_by(|a, b| (a.len(), a).cmp(&(b.len(), b))).cloned();
        let window_done = entries.len() < HF_PAGE_SIZE;
        let (records, mut next, covered) = c.take(window_end, entries, window_done);
        if !window_done {
            if last_id == c.last_id {
                return Err(malformed(endpoint, format!("the page below lastId {last_id:?} began at it again")));
            }
            next.last_id = last_id;
            next.page = c.page.saturating_add(1);
        }
        Ok(Page {
            records,
            pending: Vec::new(),
            cursor: cursor::encode(&next),
            done: next.done,
            covered,
            progress: Progress::Time { start_ms: c.floor_ms, at_ms: next.from_ms, end_ms: c.to_ms },
            requests: answer.attempts,
            retries: answer.attempts.saturating_sub(1),
            warnings: Vec::new(),
        })
    }
}

/// `{"data": [...]}` of the high-frequency ledger's answer.
#[derive(Deserialize)]
struct WrappedList<'a> {
    #[serde(borrow)]
    data: Vec<&'a RawValue>,
}

/// `{"data": …}` of an answer.
#[derive(Deserialize)]
struct Wrapped<'a> {
    #[serde(borrow)]
    data: LedgerPage<'a>,
}

/// The `/api/v1/accounts` types of the high-frequency margin accounts, whose balances come from
/// the margin endpoints instead.
const MARGIN_HF_ACCOUNT_TYPES: [&str; 2] = ["margin_v2", "isolated_v2"];

/// Adds `text` (a balance of `endpoint`'s answer) of `currency` to `totals`.
fn add_balance(
    totals: &mut BTreeMap<String, rust_decimal::Decimal>,
    endpoint: Endpoint,
    currency: &str,
    text: &str,
) -> Result<(), FetchError> {
    let bad = |reason: String| malformed(endpoint, format!("{currency}: {reason}"));
    let amount = parse_amount(text).map_err(|e| bad(e.to_string()))?;
    let asset = asset_symbol(currency).map_err(|e| bad(e.to_string()))?;
    let total = totals.entry(asset).or_default();
    *total = total.checked_add(amount).ok_or_else(|| bad("the balance overflows".to_owned()))?;
    Ok(())
}

/// The (currency, total asset) of every currency a margin balances answer's `data` holds: each
/// object with a `currency` and a `totalAsset` (the pages' examples) or `total` (their field
/// tables), wherever it sits (cross: `items[].assets[]` or `accounts[]`; isolated:
/// `[].assets[].baseAsset` and `.quoteAsset`). The `liability` beside it is left aside: a debt
/// is not a negative holding.
fn margin_holdings(value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Array(items) => items.iter().for_each(|item| margin_holdings(item, out)),
        serde_json::Value::Object(fields) => {
            let text = |name: &str| match fields.get(name) {
                Some(serde_json::Value::String(text)) => Some(text.clone()),
                Some(serde_json::Value::Number(number)) => Some(number.to_string()),
                _ => None,
            };
            if let (Some(currency), Some(total)) = (text("currency"), text("totalAsset").or_else(|| text("total"))) {
                out.push((currency, total));
                return;
            }
            fields.values().for_each(|field| margin_holdings(field, out));
        }
        _ => {}
    }
}

/// The error for a stream this adapter does not walk.
fn unknown_stream(stream: &Stream) -> FetchError {
    FetchError::Setup { exchange: "kucoin".into(), reason: format!("unknown stream {stream}") }
}

/// The permission names of an `api-key` answer's `data`, when it lists them.
fn permissions_of(data: &serde_json::Value) -> Option<BTreeSet<String>> {
    let list = data.get("permission").or_else(|| data.get("permissions"))?;
    let names: Vec<String> = match list {
        serde_json::Value::String(text) => text.split(',').map(|name| name.trim().to_owned()).collect(),
        serde_json::Value::Array(items) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => return None,
    };
    Some(names.into_iter().filter(|name| !name.is_empty()).collect())
}

/// What a permission list says the key may do.
fn judge_permissions(data: &serde_json::Value) -> KeyPermissions {
    let Some(names) = permissions_of(data) else {
        return KeyPermissions {
            can_read: false,
            can_trade: None,
            can_withdraw: None,
            ip_restricted: None,
            details: vec!["KuCoin did not list the key's permissions".to_owned()],
        };
    };
    let has = |wanted: &[&str]| names.iter().any(|name| wanted.iter().any(|w| name.eq_ignore_ascii_case(w)));
    let moves_funds = names.iter().any(|name| {
        let name = name.to_ascii_lowercase();
        name == "transfer" || name == "innertransfer" || name.starts_with("withdraw")
    });
    let ip_restricted = data.get("ipWhitelist").map(|list| match list {
        serde_json::Value::String(text) => !text.trim().is_empty(),
        serde_json::Value::Array(items) => !items.is_empty(),
        _ => false,
    });
    KeyPermissions {
        can_read: has(&["General"]),
        can_trade: Some(has(&["Spot", "Margin", "Futures"])),
        can_withdraw: Some(moves_funds),
        ip_restricted,
        details: names.into_iter().map(|name| format!("permission {name}")).collect(),
    }
}

impl Adapter for KucoinAdapter {
    fn key_permissions(&self) -> Result<KeyPermissions, FetchError> {
        let (data, _): (serde_json::Value, _) = self.api.data(Endpoint::ApiKey, &[])?;
        Ok(judge_permissions(&data))
    }

    fn balances(&self) -> Result<Vec<Balance>, FetchError> {
        #[derive(Deserialize)]
        struct Row<'a> {
            #[serde(borrow)]
            currency: Option<&'a RawValue>,
            #[serde(borrow)]
            balance: Option<&'a RawValue>,
            #[serde(borrow, rename = "type")]
            account_type: Option<&'a RawValue>,
        }
        let answer = self.api.call(Endpoint::Accounts, &[])?;
        #[derive(Deserialize)]
        struct Rows<'a> {
            #[serde(borrow)]
            data: Vec<Row<'a>>,
        }
        let rows: Rows<'_> = serde_json::from_slice(&answer.body)
            .map_err(|e| malformed(Endpoint::Accounts, format!("not a list of accounts: {e}")))?;
        let mut totals: BTreeMap<String, rust_decimal::Decimal> = BTreeMap::new();
        for row in rows.data {
            let text = |value: Option<&RawValue>| value.and_then(|v| json_text(v).ok().flatten()).unwrap_or_default();
            if MARGIN_HF_ACCOUNT_TYPES.contains(&text(row.account_type).to_ascii_lowercase().as_str()) {
                // Asked of the margin endpoints below: never counted twice.
                continue;
            }
            add_balance(&mut totals, Endpoint::Accounts, &text(row.currency), &text(row.balance))?;
        }
        for (endpoint, query_type) in
            [(Endpoint::MarginAccounts, "MARGIN_V2"), (Endpoint::IsolatedAccounts, "ISOLATED_V2")]
        {
            let (data, _): (serde_json::Value, _) = self.api.data(endpoint, &[("queryType", query_type.to_owned())])?;
            let mut holdings = Vec::new();
            margin_holdings(&data, &mut holdings);
            for (currency, total) in holdings {
                add_balance(&mut totals, endpoint, &currency, &total)?;
            }
        }
        Ok(totals
            .into_iter()
            .filter(|(_, amount)| !amount.is_zero())
            .map(|(asset, amount)| Balance { asset, amount })
            .collect())
    }

    fn streams(&self, _known: &Known, _plan: &SyncPlan) -> Result<Vec<Stream>, FetchError> {
        Ok([LEDGERS, HF_LEDGERS, MARGIN_HF_LEDGERS, DEPOSITS, WITHDRAWALS, HIST_DEPOSITS, HIST_WITHDRAWALS]
            .into_iter()
            .map(|name| Stream::new(name, ""))
            .collect())
    }

    fn start(&self, stream: &Stream, stored: Option<&str>, plan: &SyncPlan) -> Result<String, FetchError> {
        let floor = match stream.endpoint.as_str() {
            LEDGERS => LAUNCH_MS,
            HF_LEDGERS | MARGIN_HF_LEDGERS => HF_LAUNCH_MS,
            DEPOSITS | WITHDRAWALS => V2_LAUNCH_MS,
            HIST_DEPOSITS | HIST_WITHDRAWALS => LAUNCH_MS,
            _ => return Err(unknown_stream(stream)),
        };
        let mut now = self.api.limiter().exchange_now_ms();
        if matches!(stream.endpoint.as_str(), HIST_DEPOSITS | HIST_WITHDRAWALS) {
            // The v1 lists end where API v2 began: once walked to there, they are done for good.
            now = now.min(V2_LAUNCH_MS);
        }
        let cursor = match (plan.full, stored.and_then(cursor::decode::<Cursor>)) {
            (false, Some(c)) if c.done && c.to_ms >= now => c,
            (false, Some(c)) if c.done => Cursor::walk(c.to_ms.saturating_sub(OVERLAP_MS).max(c.floor_ms), now, c.edge),
            (false, Some(c)) if c.to_ms > 0 => c,
            _ => Cursor::walk(plan.since_ms.unwrap_or(floor).max(floor), now, BTreeSet::new()),
        };
        Ok(cursor::encode(&cursor))
    }

    fn fetch_page(&self, stream: &Stream, cursor: &str) -> Result<Page, FetchError> {
        match stream.endpoint.as_str() {
            LEDGERS => self.fetch_paged(Endpoint::Ledgers, cursor),
            HF_LEDGERS => self.fetch_hf_ledgers(Endpoint::HfLedgers, cursor),
            MARGIN_HF_LEDGERS => self.fetch_hf_ledgers(Endpoint::MarginHfLedgers, cursor),
            DEPOSITS => self.fetch_paged(Endpoint::Deposits, cursor),
            WITHDRAWALS => self.fetch_paged(Endpoint::Withdrawals, cursor),
            HIST_DEPOSITS => self.fetch_paged(Endpoint::HistDeposits, cursor),
            HIST_WITHDRAWALS => self.fetch_paged(Endpoint::HistWithdrawals, cursor),
            _ => Err(unknown_stream(stream)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holdings(data: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        margin_holdings(&serde_json::from_str(data).unwrap(), &mut out);
        out.sort();
        out
    }

    /// The cross and isolated margin pages' examples (`data` of each), and the fields' table
    /// names (`accounts[]`, `total`): the total assets, never net of the liability.
    #[test]
    fn the_margin_balances_are_the_documented_total_assets_liability_left_aside() {
        let cross = r#"{"timestamp":1669708513820,"currentPage":1,"pageSize":100,"totalNum":1,"totalPage":1,
            "items":[{"totalLiabilityOfQuoteCurrency":"0.976","totalAssetOfQuoteCurrency":"1.00","debtRatio":"0.976",
            "status":"LIQUIDATION","assets":[{"currency":"BTC","borrowEnabled":true,"repayEnabled":true,
            "transferEnabled":false,"borrowed":"0.976","totalAsset":"1.00","available":"0.024","hold":"0",
            "maxBorrowSize":"0"}]}]}"#;
        assert_eq!(holdings(cross), [("BTC".to_owned(), "1.00".to_owned())]);
        let isolated = r#"[{"totalAssetOfQuoteCurrency":"3.4939947","totalLiabilityOfQuoteCurrency":"0.00239066",
            "timestamp":1668062174000,"assets":[{"symbol":"MANA-USDT","debtRatio":"0","status":"BORROW",
            "baseAsset":{"currency":"MANA","borrowEnabled":true,"repayEnabled":true,"transferEnabled":true,
            "borrowed":"0","totalAsset":"2","available":"2","hold":"0","maxBorrowSize":"1000"},
            "quoteAsset":{"currency":"USDT","borrowEnabled":true,"repayEnabled":true,"transferEnabled":true,
            "borrowed":"5","totalAsset":"7.5","available":"7.5","hold":"0","maxBorrowSize":"50000"}}]}]"#;
        assert_eq!(holdings(isolated), [("MANA".to_owned(), "2".to_owned()), ("USDT".to_owned(), "7.5".to_owned())]);
        let table = r#"{"debtRatio":"0","accounts":[{"currency":"ETH","total":"0.5","available":"0.5","hold":"0",
            "liability":"0.2","maxBorrowSize":"1"}]}"#;
        assert_eq!(holdings(table), [("ETH".to_owned(), "0.5".to_owned())]);
        assert!(holdings(r#"{"items":[]}"#).is_empty() && holdings("[]").is_empty());
    }
}
