//! The OKX adapter: the two bill streams and the two transfer histories walked newest first,
//! balances, the key check.
//!
//! Each stream (`bills`: the trading account's, from `bills-archive`; `asset-bills`: the
//! funding account's, from `asset/bills`; `deposit-history` and `withdrawal-history`: the tx
//! hashes and addresses of the funding account's deposits and withdrawals, [`super::history`];
//! `lending-history`: Simple Earn Flexible's earnings, [`super::savings`])
//! is one walk back in time from the newest record, 100 a page, down to where the previous walk
//! began (its `top`) or to the end of what OKX keeps. The cursor stored with each page holds the
//! walk's top, its floor and where the next page starts, so a killed walk resumes at its next
//! page and a finished one makes the next sync ask only for what is newer: one request per
//! stream when nothing happened.
//!
//! Paging differs (see each endpoint's page): the trading bills page by bill id (`after` = the
//! oldest id seen: strictly older bills), the funding bills and the three histories by time
//! (`after` = a time in ms: strictly earlier records). A full page by time leaves the records of
//! its oldest millisecond to the next page (`after` = that ms + 1), so no record sharing a
//! millisecond with the page's edge is skipped.
//!
//! The lending history's records have no id and share their hour's `ts`, so a new walk of it
//! stops six hours below the previous top instead ([`LENDING_OVERLAP_MS`]): a record OKX wrote
//! late is not missed, and those asked again are stored once (their keys are the same).
//!
//! A deposit or withdrawal not final yet is passed over as pending (the cursor moves on); each
//! later sync asks for it again by its id (`depId`, `wdId`) until it is final.
//!
//! # Reach
//!
//! `bills-archive` gives the last 3 months and `asset/bills` the last month. The first walk of
//! each bill stream warns that anything older must come from OKX's statement export (README,
//! "OKX"). `finance/savings/lending-history` gives the last month too ("Return data in the past
//! month"); its first walk warns that older earnings cannot be had from the API. The deposit
//! and withdrawal histories' pages state no reach.
//!
//! # Balances
//!
//! The trading account's `cashBal` (`account/balance`), the funding account's `bal`
//! (`asset/balances`) and the Simple Earn Flexible position's `amt` (`finance/savings/balance`,
//! earnings included: [`super::savings`]), added up per currency.

use serde::{Deserialize, Serialize};

use serde_json::value::RawValue;

use super::api::{Endpoint, OkxApi, data, malformed, raw_rows};
use super::history::{DEPOSIT_HISTORY, Direction, Movement, Status, WITHDRAWAL_HISTORY, record_key, status};
use super::normalize::{ASSET_BILLS, BILLS};
use super::savings::{self, LENDING_HISTORY};
use crate::adapter::{
    Adapter, Balance, KeyPermissions, Known, Page, Pending, Progress, RawRecord, Recheck, Stream, SyncPlan,
};
use crate::amount::parse_amount;
use crate::asset::asset_symbol;
use crate::cursor;
use crate::http::FetchError;

/// Bills per page: OKX's maximum for both bill endpoints.
pub const PAGE_SIZE: usize = 100;

/// The OKX adapter of one account.
pub struct OkxAdapter {
    api: OkxApi,
    /// The currencies OKX last said are in Simple Earn Flexible (for the closing warning).
    in_savings: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// Why OKX would not give Simple Earn Flexible to this account, if it would not.
    savings_refused: std::sync::Mutex<Option<String>>,
}

/// OKX's answers that say Simple Earn Flexible is not this account's to use
/// (<https://www.okx.com/docs-v5/en/#error-code-rest-api>, `…-finance`): `50038` (demo trading),
/// `50051` (compliance restrictions in the country or region), `50062` (feature unavailable),
/// `51732` (KYC level not met), `51734` (KYC country not supported), `51735` (sub-account not
/// supported), `51739` (function unavailable temporarily). Which of them the two read endpoints
/// answer is not documented: each is passed over (the stream ends where it stood and is asked
/// again at the next sync; the balances leave Simple Earn out) and named at the end of the sync.
pub const SAVINGS_UNAVAILABLE: [&str; 7] = ["50038", "50051", "50062", "51732", "51734", "51735", "51739"];

/// A bill's place in time: its `ts` and its id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Mark {
    ts: i64,
    id: u128,
}

/// Where a walk stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    /// The newest bill of this walk (set by its first page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    top: Option<Mark>,
    /// The newest bill of the previous walk (or just before `--since`): the walk stops there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    floor: Option<Mark>,
    /// The `after` parameter of the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    /// Whether the walk is over.
    #[serde(default)]
    done: bool,
    /// Whether the floor was set back to ask again for the last hours (the lending history):
    /// not a first walk, so no reach warning.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    overlap: bool,
}

/// How far back a new walk of the lending history asks again below the previous walk's top.
/// Its records have no id and share their hour's `ts`: one OKX wrote after a sync had walked that
/// hour (a currency ordered below the top's) would otherwise be under the floor for good. Asked
/// again, what was stored already is stored once (the keys are the same); six hours of a few
/// currencies still fit in the one page a quiet re-sync asks for.
pub const LENDING_OVERLAP_MS: i64 = 6 * 3_600_000;

impl OkxAdapter {
    /// The adapter over `api`.
    pub fn new(api: OkxApi) -> OkxAdapter {
        OkxAdapter {
            api,
            in_savings: std::sync::Mutex::new(std::collections::BTreeSet::new()),
            savings_refused: std::sync::Mutex::new(None),
        }
    }

    /// The API it calls.
    pub fn api(&self) -> &OkxApi {
        &self.api
    }

    fn endpoint(stream: &Stream) -> Result<Endpoint, FetchError> {
        match stream.endpoint.as_str() {
            BILLS => Ok(Endpoint::BillsArchive),
            ASSET_BILLS => Ok(Endpoint::AssetBills),
            DEPOSIT_HISTORY => Ok(Endpoint::DepositHistory),
            WITHDRAWAL_HISTORY => Ok(Endpoint::WithdrawalHistory),
            LENDING_HISTORY => Ok(Endpoint::LendingHistory),
            _ => Err(FetchError::Setup { exchange: "okx".into(), reason: format!("unknown stream {stream}") }),
        }
    }

    fn fetch_bills(&self, endpoint: Endpoint, text: &str) -> Result<Page, FetchError> {
        let c: Cursor = cursor::decode(text)
            .ok_or_else(|| malformed(endpoint, format!("cursor {text:?} is not a bills cursor")))?;
        if c.done {
            return Ok(page(Vec::new(), Vec::new(), cursor::encode(&c), true, 0, Vec::new()));
        }
        let mut params = vec![("limit", PAGE_SIZE.to_string())];
        if let Some(after) = &c.after {
            params.push(("after", after.clone()));
        }
        let answer = match self.api.call(endpoint, &params) {
            Err(error) if self.savings_passed_over(endpoint, &error) => {
                return Ok(page(Vec::new(), Vec::new(), text.to_owned(), true, 1, Vec::new()));
            }
            other => other?,
        };
        let rows = raw_rows(endpoint, &answer.body)?;
        let full = rows.len() >= PAGE_SIZE;
        let mut bills = Vec::with_capacity(rows.len());
        for row in rows {
            let mark =
                mark_of(endpoint, row).map_err(|reason| malformed(endpoint, format!("a record without {reason}")))?;
            bills.push((mark, row));
        }
        bills.sort_by_key(|bill| std::cmp::Reverse(bill.0));
        let newest = bills.first().map(|(mark, _)| *mark);
        let oldest = bills.last().map(|(mark, _)| *mark);
        // By time, a full page leaves its oldest millisecond to the next page.
        let cut_ts = match (by_time(endpoint), full, oldest) {
            (true, true, Some(oldest)) => {
                if newest.map(|mark| mark.ts) == Some(oldest.ts) {
                    return Err(malformed(
                        endpoint,
                        format!(
                            "more than {PAGE_SIZE} records at one millisecond ({}): cannot page past them",
                            oldest.ts
                        ),
                    ));
                }
                Some(oldest.ts)
            }
            _ => None,
        };
        let mut next = c.clone();
        if next.top.is_none() {
            next.top = newest.or(c.floor);
        }
        let mut reached_floor = false;
        let direction = direction_of(endpoint);
        let mut records = Vec::new();
        let mut pending = Vec::new();
        // Lending-history records of one currency and millisecond so far (they have no id).
        let mut same: std::collections::BTreeMap<(i64, u128), usize> = std::collections::BTreeMap::new();
        for (mark, row) in bills {
            if c.floor.is_some_and(|floor| mark <= floor) {
                reached_floor = true;
                continue;
            }
            if cut_ts == Some(mark.ts) {
                continue;
            }
            let payload = row.get().to_owned();
            if endpoint == Endpoint::LendingHistory {
                let nth = same.entry((mark.ts, mark.id)).or_default();
                *nth += 1;
                let ccy = savings::Earning::read(&payload).map_err(|reason| malformed(endpoint, reason))?.ccy;
                records.push(RawRecord { external_id: savings::record_key(&ccy, mark.ts, *nth), payload });
                continue;
            }
            let Some(direction) = direction else {
                records.push(RawRecord { external_id: mark.id.to_string(), payload });
                continue;
            };
            let external_id = record_key(direction, &mark.id.to_string());
            let movement = Movement::read(&payload).map_err(|reason| malformed(endpoint, reason))?;
            match status(direction, &movement.state) {
                Status::Done => records.push(RawRecord { external_id, payload }),
                Status::Pending => {
                    pending.push(Pending { external_id, locator: String::new(), what: movement.describe(direction) })
                }
                Status::Void => {}
            }
        }
        // Oldest first, as the ledger orders events.
        records.reverse();
        pending.reverse();
        let done = reached_floor || !full;
        next.after = match (done, by_time(endpoint), oldest) {
            (true, _, _) | (_, _, None) => None,
            (false, true, Some(oldest)) => Some(oldest.ts.saturating_add(1).to_string()),
            (false, false, Some(oldest)) => Some(oldest.id.to_string()),
        };
        next.done = done;
        let mut warnings = Vec::new();
        if done && !reached_floor && !c.overlap && c.floor.is_none_or(|floor| floor.id == u128::MAX) {
            warnings.extend(reach_warning(endpoint));
        }
        Ok(page(records, pending, cursor::encode(&next), done, answer.attempts, warnings))
    }

    /// Whether `error` of a Simple Earn endpoint says the account has no Simple Earn
    /// ([`SAVINGS_UNAVAILABLE`]); remembered for the closing warning.
    fn savings_passed_over(&self, endpoint: Endpoint, error: &FetchError) -> bool {
        let FetchError::Api { code, message, .. } = error else { return false };
        if !matches!(endpoint, Endpoint::SavingsBalance | Endpoint::LendingHistory)
            || !SAVINGS_UNAVAILABLE.contains(&code.as_str())
        {
            return false;
        }
        *self.savings_refused.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some(format!("{code} {message}").trim().to_owned());
        true
    }

    /// Asks for each pending record of `direction` by its id: those final now.
    fn recheck_movements(&self, direction: Direction, pending: &[Pending]) -> Result<Recheck, FetchError> {
        let endpoint = match direction {
            Direction::Deposit => Endpoint::DepositHistory,
            Direction::Withdrawal => Endpoint::WithdrawalHistory,
        };
        let mut recheck = Recheck::default();
        for asked in pending {
            let Some(id) = asked.external_id.strip_prefix(direction.key_prefix()) else {
                recheck.warnings.push(format!("{}: {:?} is not a record key", endpoint.name(), asked.external_id));
                continue;
            };
            let answer = self.api.call(endpoint, &[(direction.id_field(), id.to_owned())])?;
            recheck.requests += answer.attempts;
            recheck.retries += answer.attempts.saturating_sub(1);
            let rows = data(endpoint, &answer.body)?;
            let Some(row) = rows.into_iter().find(|row| {
                row.get(direction.id_field()).and_then(serde_json::Value::as_str).map(str::trim) == Some(id)
            }) else {
                // OKX no longer lists it: nothing to store, nothing to wait for.
                recheck.settled.push((asked.external_id.clone(), None));
                continue;
            };
            let payload = row.to_string();
            let movement = Movement::read(&payload).map_err(|reason| malformed(endpoint, reason))?;
            match status(direction, &movement.state) {
                Status::Done => recheck.settled.push((
                    asked.external_id.clone(),
                    Some(RawRecord { external_id: asked.external_id.clone(), payload }),
                )),
                Status::Void => recheck.settled.push((asked.external_id.clone(), None)),
                Status::Pending => {}
            }
        }
        Ok(recheck)
    }
}

/// Whether `endpoint` pages by time (`after` in ms) rather than by id.
fn by_time(endpoint: Endpoint) -> bool {
    matches!(
        endpoint,
        Endpoint::AssetBills | Endpoint::DepositHistory | Endpoint::WithdrawalHistory | Endpoint::LendingHistory
    )
}

/// The history `endpoint` walks, if it is one.
fn direction_of(endpoint: Endpoint) -> Option<Direction> {
    match endpoint {
        Endpoint::DepositHistory => Some(Direction::Deposit),
        Endpoint::WithdrawalHistory => Some(Direction::Withdrawal),
        _ => None,
    }
}

/// What a walk that reached the end of OKX's bills says (the histories state no reach).
fn reach_warning(endpoint: Endpoint) -> Option<String> {
    let (account, reach) = match endpoint {
        Endpoint::AssetBills => ("funding", "the last month"),
        Endpoint::BillsArchive => ("trading", "the last 3 months"),
        Endpoint::LendingHistory => {
            return Some(
                "OKX's API lists Simple Earn Flexible's earnings of the last month only: older earnings \
                 stay in the Simple Earn balance with no record cointally can read, and show as a balance \
                 difference; add them as interest with the generic CSV layout"
                    .to_owned(),
            );
        }
        _ => return None,
    };
    Some(format!(
        "OKX's API gives the {account} account's bills of {reach} only: import OKX's statement \
         (Assets → Bills → Download) for anything older"
    ))
}

fn page(
    records: Vec<RawRecord>,
    pending: Vec<Pending>,
    cursor: String,
    done: bool,
    attempts: u32,
    warnings: Vec<String>,
) -> Page {
    Page {
        records,
        pending,
        cursor,
        done,
        covered: None,
        progress: Progress::Unknown,
        requests: attempts,
        retries: attempts.saturating_sub(1),
        warnings,
    }
}

/// A record's `ts` and id (`billId`, `depId`, `wdId`; a lending-history record, which has no
/// id, its currency's rank, [`savings::currency_rank`]), or what is missing.
fn mark_of(endpoint: Endpoint, row: &RawValue) -> Result<Mark, String> {
    /// The fields of a record that place it.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Head<'a> {
        #[serde(borrow, default)]
        bill_id: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow, default)]
        dep_id: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow, default)]
        wd_id: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow, default)]
        ccy: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow, default)]
        ts: Option<std::borrow::Cow<'a, str>>,
    }
    let head: Head = serde_json::from_str(row.get()).map_err(|e| format!("its fields as text ({e})"))?;
    let ts_text = head.ts.as_deref().unwrap_or_default().trim();
    let ts = ts_text.parse().map_err(|_| format!("a ts in ms ({ts_text:?})"))?;
    if endpoint == Endpoint::LendingHistory {
        let ccy = head.ccy.as_deref().unwrap_or_default().trim();
        if ccy.is_empty() {
            return Err("a ccy".to_owned());
        }
        return Ok(Mark { ts, id: savings::currency_rank(ccy) });
    }
    let (field, id) = match direction_of(endpoint) {
        None => ("billId", head.bill_id),
        Some(Direction::Deposit) => ("depId", head.dep_id),
        Some(Direction::Withdrawal) => ("wdId", head.wd_id),
    };
    let id_text = id.as_deref().unwrap_or_default().trim();
    let id = id_text.parse().map_err(|_| format!("a whole-number {field} ({id_text:?})"))?;
    Ok(Mark { ts, id })
}

/// Adds `amount` of `ccy` to `totals`.
fn add(
    totals: &mut std::collections::BTreeMap<String, rust_decimal::Decimal>,
    endpoint: Endpoint,
    ccy: &str,
    amount: &str,
) -> Result<(), FetchError> {
    let bad = |reason: String| malformed(endpoint, format!("{ccy}: {reason}"));
    let amount = parse_amount(amount).map_err(|e| bad(e.to_string()))?;
    let asset = asset_symbol(ccy).map_err(|e| bad(e.to_string()))?;
    let total = totals.entry(asset).or_default();
    *total = total.checked_add(amount).ok_or_else(|| bad("the balance overflows".to_owned()))?;
    Ok(())
}

impl Adapter for OkxAdapter {
    fn key_permissions(&self) -> Result<KeyPermissions, FetchError> {
        let answer = self.api.call(Endpoint::Config, &[])?;
        let rows = data(Endpoint::Config, &answer.body)?;
        let row = rows.first().ok_or_else(|| malformed(Endpoint::Config, "no account in the answer".to_owned()))?;
        let perm = row.get("perm").and_then(serde_json::Value::as_str);
        let has = |name: &str| perm.map(|perm| perm.split(',').any(|p| p.trim() == name));
        let ip = row.get("ip").and_then(serde_json::Value::as_str);
        let mut details = vec![match perm {
            Some(perm) => format!("perm: {perm}"),
            None => "OKX did not say what the key may do (no perm)".to_owned(),
        }];
        if let Some(ip) = ip.filter(|ip| !ip.trim().is_empty()) {
            details.push(format!("IP list: {ip}"));
        }
        Ok(KeyPermissions {
            can_read: has("read_only") == Some(true),
            can_trade: has("trade"),
            can_withdraw: has("withdraw"),
            ip_restricted: ip.map(|ip| !ip.trim().is_empty()),
            details,
        })
    }

    fn balances(&self) -> Result<Vec<Balance>, FetchError> {
        let mut totals = std::collections::BTreeMap::new();
        let answer = self.api.call(Endpoint::Balance, &[])?;
        for account in data(Endpoint::Balance, &answer.body)? {
            let details = account.get("details").and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
            for detail in details {
                let field = |name: &str| detail.get(name).and_then(serde_json::Value::as_str).unwrap_or_default();
                add(&mut totals, Endpoint::Balance, field("ccy"), field("cashBal"))?;
            }
        }
        let answer = self.api.call(Endpoint::AssetBalances, &[])?;
        for row in data(Endpoint::AssetBalances, &answer.body)? {
            let field = |name: &str| row.get(name).and_then(serde_json::Value::as_str).unwrap_or_default();
            add(&mut totals, Endpoint::AssetBalances, field("ccy"), field("bal"))?;
        }
        // What is in Simple Earn Flexible, its earnings included (`amt`): the account's too.
        let rows = match self.api.call(Endpoint::SavingsBalance, &[]) {
            Err(error) if self.savings_passed_over(Endpoint::SavingsBalance, &error) => Vec::new(),
            other => data(Endpoint::SavingsBalance, &other?.body)?,
        };
        let mut in_savings = std::collections::BTreeSet::new();
        for row in rows {
            let field = |name: &str| row.get(name).and_then(serde_json::Value::as_str).unwrap_or_default();
            add(&mut totals, Endpoint::SavingsBalance, field("ccy"), field("amt"))?;
            if let Ok(asset) = asset_symbol(field("ccy")) {
                in_savings.insert(asset);
            }
        }
        *self.in_savings.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = in_savings;
        Ok(totals
            .into_iter()
            .filter(|(_, amount)| !amount.is_zero())
            .map(|(asset, amount)| Balance { asset, amount })
            .collect())
    }

    fn streams(&self, _known: &Known, _plan: &SyncPlan) -> Result<Vec<Stream>, FetchError> {
        Ok(vec![
            Stream::new(BILLS, ""),
            Stream::new(ASSET_BILLS, ""),
            Stream::new(DEPOSIT_HISTORY, ""),
            Stream::new(WITHDRAWAL_HISTORY, ""),
            Stream::new(LENDING_HISTORY, ""),
        ])
    }

    fn start(&self, stream: &Stream, stored: Option<&str>, plan: &SyncPlan) -> Result<String, FetchError> {
        Self::endpoint(stream)?;
        // `--since`: a floor just before it, above every id of the millisecond before.
        let since = || Cursor {
            floor: plan.since_ms.map(|ms| Mark { ts: ms.saturating_sub(1), id: u128::MAX }),
            ..Cursor::default()
        };
        let cursor = match (plan.full, stored.and_then(cursor::decode::<Cursor>)) {
            (false, Some(c)) if c.done && stream.endpoint == LENDING_HISTORY => match c.top.or(c.floor) {
                Some(top) => Cursor {
                    floor: Some(Mark { ts: top.ts.saturating_sub(LENDING_OVERLAP_MS), id: u128::MAX }),
                    overlap: true,
                    ..Cursor::default()
                },
                None => Cursor { floor: None, ..Cursor::default() },
            },
            (false, Some(c)) if c.done => Cursor { floor: c.top.or(c.floor), ..Cursor::default() },
            (false, Some(c)) if c.top.is_some() => c,
            _ => since(),
        };
        Ok(cursor::encode(&cursor))
    }

    fn fetch_page(&self, stream: &Stream, cursor: &str) -> Result<Page, FetchError> {
        let endpoint = Self::endpoint(stream)?;
        self.fetch_bills(endpoint, cursor)
    }

    fn closing_warnings(
        &self,
        _touched: &std::collections::BTreeSet<String>,
        differs: &std::collections::BTreeSet<String>,
    ) -> Vec<(String, String)> {
        let mut warnings = Vec::new();
        if let Some(said) = &*self.savings_refused.lock().unwrap_or_else(std::sync::PoisonError::into_inner) {
            warnings.push((
                LENDING_HISTORY.to_owned(),
                format!(
                    "OKX would not give this account's Simple Earn Flexible (OKX said: {said}): its earnings \
                     and what is in it are not synced; the lending history is asked again at the next sync"
                ),
            ));
        }
        let in_savings = self.in_savings.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let differing: Vec<&str> = in_savings.intersection(differs).map(String::as_str).collect();
        if differing.is_empty() {
            return warnings;
        }
        warnings.push((
            LENDING_HISTORY.to_owned(),
            format!(
                "{} in Simple Earn Flexible differs from the ledger: a ledger synced before cointally read Simple \
                 Earn needs `cointally renormalize` once; otherwise earnings older than a month are in OKX's Simple \
                 Earn balance but no longer in its lending history: add them as interest with the generic CSV \
                 layout (`cointally import`)",
                differing.join(", ")
            ),
        ));
        warnings
    }

    fn recheck(&self, stream: &Stream, pending: &[Pending]) -> Result<Recheck, FetchError> {
        match Direction::of_stream(&stream.endpoint) {
            Some(direction) => self.recheck_movements(direction, pending),
            None => Ok(Recheck::default()),
        }
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
    use crate::okx::api::Budget;

    fn adapter_on(url: &str) -> OkxAdapter {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(1_800_000_000_000));
        let limiter = OkxApi::new_limiter(Arc::clone(&clock), Some(Budget { limit: 1_000_000, window_seconds: 1 }));
        let config = ClientConfig::for_tests(Duration::from_millis(500), 3);
        let api = OkxApi::new(
            Some(url),
            Secret::new("K"),
            Secret::new("S"),
            Some(Secret::new("P")),
            "main",
            limiter,
            config,
            clock,
        )
        .unwrap();
        OkxAdapter::new(api)
    }

    /// Funding bills newest first: ids in `ids` at ts = 1000 + id / 2 (two per millisecond).
    fn answer(ids: impl Iterator<Item = u64>) -> String {
        let mut rows: Vec<u64> = ids.collect();
        rows.sort_unstable_by(|a, b| b.cmp(a));
        let bills: Vec<String> = rows
            .iter()
            .map(|id| {
                format!(
                    r#"{{"billId":"{id}","ccy":"USDT","balChg":"1","bal":"1","type":"1","ts":"{}","notes":""}}"#,
                    1000 + id / 2
                )
            })
            .collect();
        format!(r#"{{"code":"0","msg":"","data":[{}]}}"#, bills.join(","))
    }

    #[test]
    fn a_funding_walk_goes_back_by_time_keeps_an_edge_millisecond_whole_and_a_resync_stops_at_the_top() {
        // 150 bills: a full page (ids 51..=150 reach back to ts 1025, which holds ids 50 and 51).
        let server = TestServer::start(|n, _| match n {
            0 => Reply::json(200, &answer(51..=150)),
            1 => Reply::json(200, &answer(1..=51)),
            _ => Reply::json(200, &answer(140..=152)),
        });
        let adapter = adapter_on(&server.url());
        let stream = Stream::new(ASSET_BILLS, "");
        let plan = SyncPlan { full: false, since_ms: None };
        let first = adapter.start(&stream, None, &plan).unwrap();
        let page = adapter.fetch_page(&stream, &first).unwrap();
        assert!(!page.done);
        assert_eq!(page.records.len(), 99, "id 51 waits for its millisecond's partner");
        assert_eq!(page.records.first().unwrap().external_id, "52", "oldest first");
        let page2 = adapter.fetch_page(&stream, &page.cursor).unwrap();
        assert!(page2.done);
        assert_eq!(page2.warnings.len(), 1, "the first walk warns about OKX's reach");
        let mut ids: Vec<u64> =
            page.records.iter().chain(&page2.records).map(|r| r.external_id.parse().unwrap()).collect();
        ids.sort_unstable();
        assert_eq!(ids, (1..=150).collect::<Vec<_>>());
        let seen = server.seen();
        assert_eq!(seen[0].query, "limit=100");
        assert_eq!(seen[1].query, "limit=100&after=1026");
        // The next sync asks from the newest and stores only what is above the top (151, 152).
        let again = adapter.start(&stream, Some(&page2.cursor), &plan).unwrap();
        let page3 = adapter.fetch_page(&stream, &again).unwrap();
        assert_eq!(page3.records.iter().map(|r| r.external_id.as_str()).collect::<Vec<_>>(), ["151", "152"]);
        assert!(page3.done && page3.warnings.is_empty());
        assert_eq!(server.seen().len(), 3);
    }

    /// A lending-history server over `records` (ccy, ts), newest first, honouring `after` and
    /// `limit` as OKX documents them.
    fn lending_server(records: Arc<std::sync::Mutex<Vec<(&'static str, i64)>>>) -> TestServer {
        TestServer::start(move |_, request| {
            let params: std::collections::BTreeMap<String, String> =
                crate::http::decode_pairs(&request.query).into_iter().collect();
            let after: i64 = params.get("after").map_or(i64::MAX, |a| a.parse().unwrap());
            let limit: usize = params.get("limit").map_or(100, |l| l.parse().unwrap());
            let mut rows = records.lock().unwrap().clone();
            rows.sort_by_key(|(ccy, ts)| std::cmp::Reverse((*ts, *ccy)));
            let rows: Vec<String> = rows
                .into_iter()
                .filter(|(_, ts)| *ts < after)
                .take(limit)
                .map(|(ccy, ts)| {
                    format!(r#"{{"ccy":"{ccy}","amt":"100","earnings":"0.001","rate":"0.05","ts":"{ts}"}}"#)
                })
                .collect();
            Reply::json(200, &format!(r#"{{"code":"0","msg":"","data":[{}]}}"#, rows.join(",")))
        })
    }

    #[test]
    fn the_lending_history_is_walked_by_time_keyed_by_currency_and_hour_and_a_resync_asks_the_last_hours_again() {
        const HOUR: i64 = 3_600_000;
        // 60 hours of BTC and ETH earnings (120 records: a full page ends on a whole hour, which
        // waits for the next page), and one hour with two USDT records.
        let mut records: Vec<(&'static str, i64)> =
            (1..=60).flat_map(|h| [("BTC", h * HOUR), ("ETH", h * HOUR)]).collect();
        records.extend([("USDT", 7 * HOUR), ("USDT", 7 * HOUR)]);
        let records = Arc::new(std::sync::Mutex::new(records));
        let server = lending_server(Arc::clone(&records));
        let adapter = adapter_on(&server.url());
        let stream = Stream::new(LENDING_HISTORY, "");
        let plan = SyncPlan { full: false, since_ms: None };
        let mut cursor = adapter.start(&stream, None, &plan).unwrap();
        let mut keys = Vec::new();
        let mut warnings = Vec::new();
        loop {
            let page = adapter.fetch_page(&stream, &cursor).unwrap();
            keys.extend(page.records.iter().map(|r| r.external_id.clone()));
            warnings.extend(page.warnings);
            cursor = page.cursor;
            if page.done {
                break;
            }
        }
        let seen = server.seen();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1].query, format!("limit=100&after={}", 11 * HOUR + 1), "hour 11 waited whole");
        assert_eq!(keys.len(), 122, "every record once");
        let unique: std::collections::BTreeSet<&String> = keys.iter().collect();
        assert_eq!(unique.len(), 122, "no two records share a key");
        for key in ["lend-BTC-3600000", "lend-ETH-216000000", "lend-USDT-25200000", "lend-USDT-25200000-2"] {
            assert!(keys.iter().any(|k| k == key), "{key} missing");
        }
        assert_eq!(warnings.len(), 1, "the first walk warns of the month's reach: {warnings:?}");
        assert!(warnings[0].contains("last month"), "{warnings:?}");

        // An hour later: the next sync asks once, from the newest, down to six hours below the
        // previous top; it gets the new hour and a record OKX wrote late for the top hour (ADA,
        // ordered below ETH there), and again the last hours it had (stored once by their keys).
        records.lock().unwrap().extend([("BTC", 61 * HOUR), ("ETH", 61 * HOUR), ("ADA", 60 * HOUR)]);
        let again = adapter.start(&stream, Some(&cursor), &plan).unwrap();
        let page = adapter.fetch_page(&stream, &again).unwrap();
        assert!(page.done && page.warnings.is_empty(), "{:?}", page.warnings);
        let new: Vec<&str> = page.records.iter().map(|r| r.external_id.as_str()).collect();
        assert_eq!(new.len(), 2 * 6 + 3, "{new:?}");
        assert_eq!(new[new.len() - 2..], ["lend-BTC-219600000", "lend-ETH-219600000"], "oldest first");
        assert!(new.contains(&"lend-ADA-216000000"), "the late record: {new:?}");
        let again: Vec<&&str> = new.iter().filter(|key| keys.iter().any(|k| k == *key)).collect();
        assert_eq!(again.len(), 12, "hours 55 to 60, asked again: {again:?}");
        assert_eq!(server.seen().len(), 3);
    }

    #[test]
    fn trading_bills_page_by_bill_id() {
        let bill = |id: u64| format!(r#"{{"billId":"{id}","ccy":"BTC","balChg":"1","type":"2","ts":"{id}"}}"#);
        let full: Vec<String> = (101..=200).rev().map(bill).collect();
        let rest: Vec<String> = (1..=100).rev().map(bill).collect();
        let (full, rest) = (full.join(","), rest.join(","));
        let server = TestServer::start(move |n, _| {
            let rows = if n == 0 { &full } else { &rest };
            Reply::json(200, &format!(r#"{{"code":"0","msg":"","data":[{rows}]}}"#))
        });
        let adapter = adapter_on(&server.url());
        let stream = Stream::new(BILLS, "");
        let plan = SyncPlan { full: false, since_ms: None };
        let page = adapter.fetch_page(&stream, &adapter.start(&stream, None, &plan).unwrap()).unwrap();
        assert_eq!(page.records.len(), 100);
        let page2 = adapter.fetch_page(&stream, &page.cursor).unwrap();
        assert!(!page2.done, "a full page asks once more");
        assert_eq!(server.seen()[1].query, "limit=100&after=101");
    }

    #[test]
    fn balances_add_both_accounts_and_simple_earn_and_the_key_check_reads_perm() {
        let server = TestServer::start(|_, request| {
            if request.path.ends_with("account/balance") {
                Reply::json(
                    200,
                    r#"{"code":"0","msg":"","data":[{"details":[{"ccy":"BTC","cashBal":"0.5","eq":"0.5"},{"ccy":"USDT","cashBal":"0","eq":"0"}]}]}"#,
                )
            } else if request.path.ends_with("asset/balances") {
                Reply::json(
                    200,
                    r#"{"code":"0","msg":"","data":[{"ccy":"BTC","bal":"0.25"},{"ccy":"ETH","bal":"1.5"}]}"#,
                )
            } else if request.path.ends_with("savings/balance") {
                // OKX's example: `amt` is the position, its earnings in it.
                Reply::json(
                    200,
                    r#"{"code":"0","msg":"","data":[{"earnings":"0.0010737388791526","redemptAmt":"","rate":"0.01","ccy":"USDT","amt":"11.0010737453457821","loanAmt":"11.0010630707982819","pendingAmt":"0.0000106745475002"}]}"#,
                )
            } else {
                Reply::json(200, r#"{"code":"0","msg":"","data":[{"uid":"1","perm":"read_only","ip":""}]}"#)
            }
        });
        let adapter = adapter_on(&server.url());
        assert_eq!(
            adapter.balances().unwrap(),
            vec![
                Balance { asset: "BTC".into(), amount: "0.75".parse().unwrap() },
                Balance { asset: "ETH".into(), amount: "1.5".parse().unwrap() },
                Balance { asset: "USDT".into(), amount: "11.0010737453457821".parse().unwrap() },
            ]
        );
        // A currency in Simple Earn whose balance differs is explained; another one is not.
        let differs = |assets: &[&str]| assets.iter().map(|a| (*a).to_owned()).collect();
        let warnings = adapter.closing_warnings(&differs(&[]), &differs(&["USDT", "ETH"]));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].0, LENDING_HISTORY);
        assert!(warnings[0].1.starts_with("USDT in Simple Earn Flexible differs"), "{warnings:?}");
        assert!(adapter.closing_warnings(&differs(&[]), &differs(&["ETH"])).is_empty());
        let permissions = adapter.key_permissions().unwrap();
        assert!(permissions.can_read);
        assert_eq!(
            (permissions.can_withdraw, permissions.can_trade, permissions.ip_restricted),
            (Some(false), Some(false), Some(false))
        );
        assert!(!permissions.may_withdraw());
    }

    #[test]
    fn an_account_without_simple_earn_is_synced_without_it_and_told_why() {
        let server = TestServer::start(|_, request| {
            if request.path.contains("/finance/savings/") {
                Reply::json(200, r#"{"code":"51735","msg":"Sub-account is not supported","data":[]}"#)
            } else if request.path.ends_with("account/balance") {
                Reply::json(200, r#"{"code":"0","msg":"","data":[{"details":[{"ccy":"BTC","cashBal":"0.5"}]}]}"#)
            } else {
                Reply::json(200, r#"{"code":"0","msg":"","data":[]}"#)
            }
        });
        let adapter = adapter_on(&server.url());
        assert_eq!(adapter.balances().unwrap(), vec![Balance { asset: "BTC".into(), amount: "0.5".parse().unwrap() }]);
        let stream = Stream::new(LENDING_HISTORY, "");
        let plan = SyncPlan { full: false, since_ms: None };
        let start = adapter.start(&stream, None, &plan).unwrap();
        let page = adapter.fetch_page(&stream, &start).unwrap();
        assert!(page.done && page.records.is_empty());
        assert_eq!(page.cursor, start, "the walk stays where it stood, to be asked again");
        let none = std::collections::BTreeSet::new();
        let warnings = adapter.closing_warnings(&none, &none);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].1.contains("51735 Sub-account is not supported"), "{warnings:?}");
        // Any other refusal still stops the walk.
        let other = TestServer::start(|_, _| Reply::json(200, r#"{"code":"51000","msg":"Parameter error","data":[]}"#));
        assert!(adapter_on(&other.url()).fetch_page(&stream, &start).is_err());
    }

    #[test]
    fn a_config_answer_without_perm_fails_closed() {
        let server = TestServer::start(|_, _| Reply::json(200, r#"{"code":"0","msg":"","data":[{"uid":"1"}]}"#));
        let permissions = adapter_on(&server.url()).key_permissions().unwrap();
        assert_eq!(permissions.can_withdraw, None);
        assert!(permissions.may_withdraw());
        let server = TestServer::start(|_, _| {
            Reply::json(200, r#"{"code":"0","msg":"","data":[{"perm":"read_only,withdraw"}]}"#)
        });
        assert!(adapter_on(&server.url()).key_permissions().unwrap().may_withdraw());
    }
}
