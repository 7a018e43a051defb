//! Coinbase's complete history, walked for the sync engine: every wallet's v2 transactions and
//! the Advanced Trade fills.
//!
//! # Stream `transactions`: every wallet, oldest first, conversions paired
//!
//! A walk lists every wallet (`GET /v2/accounts`, paged by `next_uri` until it is empty) and
//! reads each wallet's transactions with `order=asc&limit=100` from where the last walk stopped
//! in that wallet (`starting_after` = the last transaction taken), following `next_uri` until it
//! is empty — never stopping on a short page (§4). One page of the walk asks the next page of
//! [`WALLETS_AT_ONCE`] unfinished wallets (the first in id order) at the same time and reads the
//! answers in wallet order, so the v2 budget, not the round trip of one request, sets the pace,
//! and what is stored does not depend on which answer came first. Oldest first, a transaction
//! that arrives during the walk lands after its wallet's position: it is taken by this walk or the
//! next, never skipped, never twice. A transaction that is not final (`pending`, `waiting_for_*`,
//! any status not known final) never holds its wallet back: the page names it in
//! [`Page::pending`], the walk goes on past it, and each later sync asks for it again by id
//! (`GET /v2/accounts/:account_id/transactions/:id`, [`Adapter::recheck`]) until it is final,
//! then stores it once.
//!
//! A conversion (`trade`) is two transactions in two wallets sharing `trade.id` (§3.2): a half
//! is held in memory until its partner comes, then both are stored as ONE record (keyed by the
//! sending half's id). A held half is not stored yet, so the cursor remembers, per wallet, where
//! to read again from (`rewind`: just before the wallet's first held half): a walk killed while
//! halves wait re-reads from there (records stored meanwhile are stored once, the ledger keeps
//! raw records and events unique) and pairs them again. A half still alone when the walk has
//! visited every wallet is stored alone (its partner is not in this key's history).
//!
//! The cursor is JSON: `pos` (wallet id → last transaction taken), `finished` (wallets this walk
//! has read to their end), `after` (wallet id → the `starting_after` of its next page), `rewind`,
//! `done`. A run starts from `pos` and `rewind` only.
//!
//! An `advanced_trade_fill` wallet row is stored as sent when the key sees a v3 fill of its order
//! (asked with `order_ids` in every portfolio the key sees), and else wrapped so that the row
//! itself makes the event ([`super::portfolios`]): no trade is dropped for want of its v3 fill.
//!
//! # Stream `fills`: Advanced Trade fills, newest first, anchored, one stream per portfolio
//!
//! The key's own portfolio is scope `""` (as before portfolios were walked); each other portfolio
//! the key lists (`GET /api/v3/brokerage/portfolios`) is scope = its uuid, asked with
//! `retail_portfolio_id`. A portfolio whose fills Coinbase refuses to the key (a CDP key is scoped
//! to one portfolio) ends its walk with a warning saying so.
//!
//! `GET /api/v3/brokerage/orders/historical/fills` answers newest first with an opaque cursor.
//! A walk starts with `start_sequence_timestamp` = the newest fill time of the previous walk
//! (less a second: fills seen twice are stored once) and follows `cursor` until it is empty; fills
//! that arrive meanwhile are above the walk and are the next walk's. Each fill is one trade event
//! (price, side, commission); the `advanced_trade_fill` rows it caused in the base and the quote
//! wallet give none ([`super::normalize`]), so nothing is counted twice.
//!
//! # Key check
//!
//! `GET /api/v3/brokerage/key_permissions` says `can_view`, `can_trade`, `can_transfer` (§2.4).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::api::{Answer, CoinbaseApi, Endpoint, malformed, split_uri};
use super::normalize::{FILLS, TRANSACTIONS, Transaction, is_known_type};
use super::portfolios::{self, PORTFOLIOS_DOC, Portfolios};
use crate::adapter::{
    Adapter, Balance, KeyPermissions, Known, Page, Pending, Progress, RawRecord, Recheck, Stream, SyncPlan,
};
use crate::amount::parse_amount;
use crate::asset::asset_symbol;
use crate::cursor;
use crate::http::FetchError;

/// Transactions per v2 page (Coinbase's maximum).
pub const PAGE_SIZE: usize = 100;
/// Wallets whose next pages one page of the transactions walk asks at once.
pub const WALLETS_AT_ONCE: usize = 4;
/// Fills asked per v3 page.
pub const FILLS_PAGE_SIZE: usize = 100;
/// A conversion half alone for longer than this (ms) at the end of a walk is stored alone.
const LONE_HALF_AGE_MS: i64 = 86_400_000;
/// How far (ms) a fills walk reaches back below the previous walk's newest fill.
const FILLS_OVERLAP_MS: i64 = 1_000;

/// Where a walk of every wallet stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct TxCursor {
    /// Wallet id → the last transaction taken in it.
    #[serde(default)]
    pos: BTreeMap<String, String>,
    /// Wallets this walk has read to their end (or up to a transaction not final yet).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    finished: BTreeSet<String>,
    /// Wallet id → the `starting_after` of its next page, as its last `next_uri` named it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    after: BTreeMap<String, String>,
    /// Wallet id → where to read again from after a kill ("" = its beginning): halves are held.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    rewind: BTreeMap<String, String>,
    /// The walk is over.
    #[serde(default)]
    done: bool,
}

/// Where a walk of the fills stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct FillCursor {
    /// Coinbase's cursor for the next page (none: the first page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cursor: Option<String>,
    /// The `start_sequence_timestamp` of this walk (RFC 3339), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    floor: Option<String>,
    /// The newest fill time of this walk, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    top_ms: Option<i64>,
    /// The walk is over.
    #[serde(default)]
    done: bool,
}

/// One wallet of the account.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Wallet {
    id: String,
    currency: String,
    balance: Decimal,
}

/// A conversion half waiting for its partner.
#[derive(Clone, Debug)]
struct Held {
    wallet: String,
    /// When it happened, ms.
    time_ms: i64,
    /// The transaction before it in its wallet ("" at the start): where to read again from.
    before: String,
    /// Its place among the transactions this walk read in its wallet.
    index: u64,
    id: String,
    payload: String,
}

impl Held {
    fn spot(&self) -> Spot {
        Spot { wallet: self.wallet.clone(), index: self.index, before: self.before.clone() }
    }
}

/// Transactions read per wallet in a walk, and the conversions paired in it.
type WalkRead = (BTreeMap<String, u64>, Vec<(Spot, Spot)>);

/// Where a conversion half was read: its wallet, its place in this walk's reading of that
/// wallet, and the transaction before it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Spot {
    wallet: String,
    index: u64,
    before: String,
}

/// Where each wallet must be read again from after a kill: before its first held half, and
/// before any half whose partner is read again, so that a conversion stored in this walk is
/// either read again whole (and stored again under the same key: nothing doubles) or not at
/// all (never half of it, which would then look alone).
fn rewind_points<'a>(held: impl Iterator<Item = &'a Held>, pairs: &[(Spot, Spot)]) -> BTreeMap<String, String> {
    let mut points: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let lower = |points: &mut BTreeMap<String, (u64, String)>, spot: &Spot| -> bool {
        match points.get(&spot.wallet) {
            Some((index, _)) if *index <= spot.index => false,
            _ => {
                points.insert(spot.wallet.clone(), (spot.index, spot.before.clone()));
                true
            }
        }
    };
    for half in held {
        lower(&mut points, &half.spot());
    }
    loop {
        let mut changed = false;
        for (a, b) in pairs {
            for (x, y) in [(a, b), (b, a)] {
                if points.get(&x.wallet).is_some_and(|(index, _)| *index <= x.index) {
                    changed |= lower(&mut points, y);
                }
            }
        }
        if !changed {
            return points.into_iter().map(|(wallet, (_, before))| (wallet, before)).collect();
        }
    }
}

/// The Coinbase adapter of one account.
pub struct CoinbaseAdapter {
    api: CoinbaseApi,
    /// The wallets of this run, sorted by id.
    wallets: Mutex<Option<Vec<Wallet>>>,
    /// Conversion halves waiting for their partner, by `trade.id`.
    held: Mutex<BTreeMap<String, Held>>,
    /// Transactions read per wallet in this walk, and the conversions paired in it.
    read: Mutex<WalkRead>,
    /// Wallets asked at once by one page of the transactions walk.
    wallets_at_once: usize,
    /// The Advanced Trade portfolios the key sees, listed once per run.
    portfolios: Mutex<Option<Portfolios>>,
}

/// What a v2 list answer holds.
#[derive(Deserialize)]
struct V2Page<'a> {
    #[serde(borrow, default)]
    data: Vec<&'a RawValue>,
    #[serde(default)]
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
struct Pagination {
    #[serde(default)]
    next_uri: Option<String>,
}

#[derive(Deserialize)]
struct AccountJson {
    id: String,
    currency: CurrencyJson,
    balance: super::normalize::Money,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CurrencyJson {
    Object { code: String },
    Code(String),
}

/// The `starting_after` of a `next_uri`, if it has one.
fn starting_after(next_uri: Option<&str>) -> Option<String> {
    let uri = next_uri.filter(|u| !u.trim().is_empty())?;
    split_uri(uri).1.into_iter().find(|(name, _)| name == "starting_after").map(|(_, value)| value)
}

impl CoinbaseAdapter {
    /// The adapter of the account that `api` (key, base URL, limiter) speaks for.
    pub fn new(api: CoinbaseApi) -> CoinbaseAdapter {
        CoinbaseAdapter {
            api,
            wallets: Mutex::new(None),
            held: Mutex::new(BTreeMap::new()),
            read: Mutex::new((BTreeMap::new(), Vec::new())),
            wallets_at_once: WALLETS_AT_ONCE,
            portfolios: Mutex::new(None),
        }
    }

    /// The same adapter asking `count` wallets at once (at least one) instead of [`WALLETS_AT_ONCE`].
    pub fn with_wallets_at_once(mut self, count: usize) -> CoinbaseAdapter {
        self.wallets_at_once = count.max(1);
        self
    }

    /// The API handle.
    pub fn api(&self) -> &CoinbaseApi {
        &self.api
    }

    /// The portfolios the key sees (listed once; none besides its own when Coinbase does not say).
    fn portfolios(&self) -> Portfolios {
        let mut known = self.portfolios.lock().unwrap_or_else(|p| p.into_inner());
        known.get_or_insert_with(|| portfolios::list(&self.api).unwrap_or_default()).clone()
    }

    /// Every wallet, all pages of `GET /v2/accounts`; with the requests it took.
    fn list_wallets(&self) -> Result<(Vec<Wallet>, u32, u32), FetchError> {
        let mut wallets = Vec::new();
        let (mut path, mut params) = ("/v2/accounts".to_owned(), vec![("limit".to_owned(), PAGE_SIZE.to_string())]);
        let (mut requests, mut attempts) = (0u32, 0u32);
        loop {
            let answer = self.api.get(Endpoint::Accounts, &path, &params)?;
            requests += 1;
            attempts += answer.attempts;
            let bad = |reason: String| malformed(Endpoint::Accounts, reason);
            let page: V2Page = serde_json::from_slice(&answer.body).map_err(|e| bad(e.to_string()))?;
            for raw in &page.data {
                let account: AccountJson = serde_json::from_str(raw.get()).map_err(|e| bad(e.to_string()))?;
                let code = match account.currency {
                    CurrencyJson::Object { code } | CurrencyJson::Code(code) => code,
                };
                let currency = asset_symbol(&code).map_err(|e| bad(format!("wallet {}: {e}", account.id)))?;
                let balance =
                    parse_amount(&account.balance.amount).map_err(|e| bad(format!("wallet {}: {e}", account.id)))?;
                wallets.push(Wallet { id: account.id, currency, balance });
            }
            match page.pagination.and_then(|p| p.next_uri).filter(|u| !u.trim().is_empty()) {
                Some(uri) => (path, params) = split_uri(&uri),
                None => break,
            }
        }
        wallets.sort_by(|a, b| a.id.cmp(&b.id));
        wallets.dedup_by(|a, b| a.id == b.id);
        Ok((wallets, requests, attempts))
    }

    fn fetch_transactions(&self, cursor: &str) -> Result<Page, FetchError> {
        let mut c: TxCursor = cursor::decode(cursor).ok_or_else(|| {
            malformed(Endpoint::Transactions, format!("cursor {cursor:?} is not a transactions cursor"))
        })?;
        if c.done {
            return Ok(page(Vec::new(), cursor::encode(&c), true, 0, 0, Vec::new()));
        }
        let (mut requests, mut attempts) = (0u32, 0u32);
        let wallets = {
            let mut known = self.wallets.lock().unwrap_or_else(|p| p.into_inner());
            match known.as_ref() {
                Some(wallets) => wallets.clone(),
                None => {
                    let (wallets, r, a) = self.list_wallets()?;
                    requests += r;
                    attempts += a;
                    *known = Some(wallets.clone());
                    wallets
                }
            }
        };
        // The wallets to read now: the first few, in id order, that this walk has not finished.
        let batch: Vec<&Wallet> =
            wallets.iter().filter(|w| !c.finished.contains(&w.id)).take(self.wallets_at_once).collect();
        if batch.is_empty() {
            return Ok(self.finish_walk(c, requests, attempts));
        }
        let afters: Vec<Option<String>> = batch
            .iter()
            .map(|w| c.after.get(&w.id).or_else(|| c.pos.get(&w.id)).filter(|id| !id.is_empty()).cloned())
            .collect();
        let answers = self.next_pages(&batch, &afters);
        let mut records = Vec::new();
        let mut pending = Vec::new();
        // Advanced Trade wallet rows on this page: (index in `records`, order id).
        let mut fill_rows: Vec<(usize, String)> = Vec::new();
        let mut unknown: BTreeMap<String, Vec<String>> = BTreeMap::new();
        // Answers are read in wallet order, whatever order they came in: the records, the pairing
        // of conversion halves and the cursor depend only on what Coinbase answered.
        for ((wallet, after), answer) in batch.iter().zip(afters).zip(answers) {
            let answer = answer?;
            requests += 1;
            attempts += answer.attempts;
            let bad = |reason: String| malformed(Endpoint::Transactions, format!("wallet {}: {reason}", wallet.id));
            let body: V2Page = serde_json::from_slice(&answer.body).map_err(|e| bad(e.to_string()))?;
            let mut last = after.unwrap_or_default();
            {
                let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
                let mut read = self.read.lock().unwrap_or_else(|p| p.into_inner());
                for raw in &body.data {
                    let tx: Transaction = serde_json::from_str(raw.get()).map_err(|e| bad(e.to_string()))?;
                    if !tx.is_final() {
                        // Passed over and remembered: the engine re-asks it by id at each later sync.
                        pending.push(pending_record(&tx, &wallet.id));
                        last = tx.id.clone();
                        continue;
                    }
                    let counter = read.0.entry(wallet.id.clone()).or_default();
                    let index = *counter;
                    *counter += 1;
                    if !is_known_type(&tx.kind) {
                        unknown.entry(tx.kind.clone()).or_default().push(tx.id.clone());
                    }
                    let trade_id = tx.trade.as_ref().and_then(|t| t.id.clone()).filter(|_| tx.kind == "trade");
                    match trade_id {
                        Some(trade_id) if tx.status == "completed" => match held.remove(&trade_id) {
                            Some(partner) if partner.id != tx.id => {
                                records.push(conversion(&trade_id, &partner, &tx, raw)?);
                                let here = Spot { wallet: wallet.id.clone(), index, before: last.clone() };
                                read.1.push((partner.spot(), here));
                            }
                            Some(same) => {
                                held.insert(trade_id, same);
                            }
                            None => {
                                held.insert(
                                    trade_id,
                                    Held {
                                        wallet: wallet.id.clone(),
                                        time_ms: crate::time::parse_utc(&tx.created_at)
                                            .map_or(0, |t| t.timestamp_millis()),
                                        before: last.clone(),
                                        index,
                                        id: tx.id.clone(),
                                        payload: raw.get().to_owned(),
                                    },
                                );
                            }
                        },
                        _ => {
                            let order = tx.advanced_trade_fill.as_ref().and_then(|f| f.order_id.clone());
                            if let Some(order) = order.filter(|_| tx.kind == "advanced_trade_fill") {
                                fill_rows.push((records.len(), order));
                            }
                            records.push(RawRecord { external_id: tx.id.clone(), payload: raw.get().to_owned() });
                        }
                    }
                    last = tx.id.clone();
                }
            }
            if !last.is_empty() {
                c.pos.insert(wallet.id.clone(), last.clone());
            }
            let next_uri =
                body.pagination.as_ref().and_then(|p| p.next_uri.as_deref()).filter(|u| !u.trim().is_empty());
            if next_uri.is_some() {
                // A next_uri without starting_after: continue after the last transaction of the page.
                c.after.insert(wallet.id.clone(), starting_after(next_uri).unwrap_or(last));
            } else {
                // This wallet is done for this walk.
                c.after.remove(&wallet.id);
                c.finished.insert(wallet.id.clone());
            }
        }
        let (r, a, unmatched) = self.keep_unmatched_fill_rows(&mut records, &fill_rows)?;
        requests += r;
        attempts += a;
        let mut warnings = unknown_warnings(&unknown);
        warnings.extend(unmatched);
        // Where a walk killed now must read again from.
        {
            let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            let read = self.read.lock().unwrap_or_else(|p| p.into_inner());
            c.rewind = rewind_points(held.values(), &read.1);
        }
        if wallets.iter().all(|w| c.finished.contains(&w.id)) {
            let mut finished = self.finish_walk(c, requests, attempts);
            finished.records.splice(0..0, records);
            finished.pending = pending;
            finished.warnings.splice(0..0, warnings);
            return Ok(finished);
        }
        let mut next = page(records, cursor::encode(&c), false, requests, attempts, warnings);
        next.pending = pending;
        Ok(next)
    }

    /// Wraps each Advanced Trade wallet row of `records` whose order has no v3 fill the key can
    /// see (in any portfolio it sees) as `{"v3_fill": "none", "transaction": row}`, so that the
    /// row itself makes the event: a fill of a portfolio the key cannot see is never dropped.
    fn keep_unmatched_fill_rows(
        &self,
        records: &mut [RawRecord],
        fill_rows: &[(usize, String)],
    ) -> Result<(u32, u32, Option<String>), FetchError> {
        if fill_rows.is_empty() {
            return Ok((0, 0, None));
        }
        let orders: BTreeSet<String> = fill_rows.iter().map(|(_, order)| order.clone()).collect();
        let others = self.portfolios().others;
        let (found, requests, attempts) = portfolios::orders_with_fills(&self.api, &others, &orders)?;
        let mut unmatched = BTreeSet::new();
        for (index, order) in fill_rows {
            if found.contains(order) {
                continue;
            }
            if let Some(record) = records.get_mut(*index) {
                record.payload = format!("{{\"v3_fill\":\"none\",\"transaction\":{}}}", record.payload);
                unmatched.insert(order.as_str());
            }
        }
        let warning = (!unmatched.is_empty()).then(|| {
            format!(
                "{} Advanced Trade order{} with no v3 fill this key can see (a portfolio it is not scoped to: \
                 {PORTFOLIOS_DOC}): booked from the v2 wallet rows, each wallet's side one trade, without price or \
                 fee detail: {}",
                unmatched.len(),
                if unmatched.len() == 1 { "" } else { "s" },
                unmatched.into_iter().collect::<Vec<_>>().join(", ")
            )
        });
        Ok((requests, attempts, warning))
    }

    /// The next page of each wallet of `batch` (after `afters`, its `starting_after`), the
    /// requests sent at once: the v2 budget, not one request's round trip, sets the pace.
    fn next_pages(&self, batch: &[&Wallet], afters: &[Option<String>]) -> Vec<Result<Answer, FetchError>> {
        let get = |wallet: &Wallet, after: &Option<String>| {
            let mut params = vec![("limit".to_owned(), PAGE_SIZE.to_string()), ("order".to_owned(), "asc".to_owned())];
            if let Some(after) = after {
                params.push(("starting_after".to_owned(), after.clone()));
            }
            self.api.get(Endpoint::Transactions, &format!("/v2/accounts/{}/transactions", wallet.id), &params)
        };
        std::thread::scope(|scope| {
            let others: Vec<_> = batch
                .iter()
                .zip(afters)
                .skip(1)
                .map(|(wallet, after)| scope.spawn(move || get(wallet, after)))
                .collect();
            let mut answers = Vec::with_capacity(batch.len());
            if let (Some(wallet), Some(after)) = (batch.first(), afters.first()) {
                answers.push(get(wallet, after));
            }
            for other in others {
                answers.push(other.join().unwrap_or_else(|_| {
                    Err(FetchError::Setup { exchange: "coinbase".into(), reason: "a request thread panicked".into() })
                }));
            }
            answers
        })
    }

    /// The end of a walk: halves alone for more than a day are stored alone (their partner is not
    /// in this key's history); younger ones stay held in the cursor's `rewind`, to be read again
    /// with their partner by the next walk (a conversion made during this walk may have its other
    /// half in a wallet this walk had already passed).
    fn finish_walk(&self, mut c: TxCursor, requests: u32, attempts: u32) -> Page {
        let held = std::mem::take(&mut *self.held.lock().unwrap_or_else(|p| p.into_inner()));
        let old_before = self.api.limiter().exchange_now_ms() - LONE_HALF_AGE_MS;
        let mut warnings = Vec::new();
        let mut records = Vec::new();
        let mut waiting: Vec<Held> = Vec::new();
        for (trade_id, half) in held {
            if half.time_ms >= old_before {
                waiting.push(half);
                continue;
            }
            warnings.push(format!(
                "Coinbase conversion {trade_id}: only transaction {} was found (its other wallet is not in this \
                 key's history); imported as one side of a trade",
                half.id
            ));
            let payload = format!("{{\"trade\":{},\"transactions\":[{}]}}", quote(&trade_id), half.payload);
            records.push(RawRecord { external_id: half.id, payload });
        }
        {
            let read = self.read.lock().unwrap_or_else(|p| p.into_inner());
            c.rewind = rewind_points(waiting.iter(), &read.1);
        }
        c.finished.clear();
        c.after.clear();
        c.done = true;
        page(records, cursor::encode(&c), true, requests, attempts, warnings)
    }

    fn fetch_fills(&self, stream: &Stream, cursor: &str) -> Result<Page, FetchError> {
        let mut c: FillCursor = cursor::decode(cursor)
            .ok_or_else(|| malformed(Endpoint::Fills, format!("cursor {cursor:?} is not a fills cursor")))?;
        if c.done {
            return Ok(page(Vec::new(), cursor::encode(&c), true, 0, 0, Vec::new()));
        }
        let mut params = vec![("limit".to_owned(), FILLS_PAGE_SIZE.to_string())];
        if let Some(floor) = &c.floor {
            params.push(("start_sequence_timestamp".to_owned(), floor.clone()));
        }
        if let Some(next) = &c.cursor {
            params.push(("cursor".to_owned(), next.clone()));
        }
        if !stream.scope.is_empty() {
            params.push(("retail_portfolio_id".to_owned(), stream.scope.clone()));
        }
        let answer = match self.api.get(Endpoint::Fills, "/api/v3/brokerage/orders/historical/fills", &params) {
            Ok(answer) => answer,
            // Another portfolio's fills refused to this key: said, and the walk of that portfolio
            // ends; its trades are booked from the v2 wallet rows.
            Err(FetchError::Auth { message, .. }) if !stream.scope.is_empty() => {
                let warning = format!(
                    "Coinbase refuses this key the Advanced Trade fills of portfolio {} ({message}): a CDP key is \
                     scoped to one portfolio ({PORTFOLIOS_DOC}); its trades are booked from the v2 wallet rows. Add \
                     a view-only key of that portfolio as another account for their prices and fees",
                    stream.scope
                );
                return Ok(page(Vec::new(), cursor.to_owned(), true, 1, 1, vec![warning]));
            }
            Err(e) => return Err(e),
        };
        #[derive(Deserialize)]
        struct Fills<'a> {
            #[serde(borrow, default)]
            fills: Vec<&'a RawValue>,
            #[serde(default)]
            cursor: Option<String>,
        }
        #[derive(Deserialize)]
        struct Meta {
            trade_id: String,
            trade_time: String,
        }
        let bad = |reason: String| malformed(Endpoint::Fills, reason);
        let body: Fills = serde_json::from_slice(&answer.body).map_err(|e| bad(e.to_string()))?;
        let mut records = Vec::with_capacity(body.fills.len());
        for raw in &body.fills {
            let meta: Meta = serde_json::from_str(raw.get()).map_err(|e| bad(e.to_string()))?;
            let ms = crate::time::parse_utc(&meta.trade_time).map_err(|e| bad(e.to_string()))?.timestamp_millis();
            c.top_ms = Some(c.top_ms.map_or(ms, |top| top.max(ms)));
            records.push(RawRecord { external_id: meta.trade_id, payload: raw.get().to_owned() });
        }
        match body.cursor.filter(|next| !next.is_empty() && !records.is_empty()) {
            Some(next) => c.cursor = Some(next),
            None => {
                c.cursor = None;
                c.done = true;
            }
        }
        Ok(page(records, cursor::encode(&c), c.done, 1, answer.attempts, Vec::new()))
    }
}

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// The record of a conversion: both halves, keyed by the one that sent.
fn conversion(trade_id: &str, first: &Held, tx: &Transaction, raw: &RawValue) -> Result<RawRecord, FetchError> {
    let sending_is_first = !tx.amount.amount.trim_start().starts_with('-');
    let external_id = if sending_is_first { first.id.clone() } else { tx.id.clone() };
    let payload = format!("{{\"trade\":{},\"transactions\":[{},{}]}}", quote(trade_id), first.payload, raw.get());
    Ok(RawRecord { external_id, payload })
}

/// How a transaction not final yet is remembered: its id, its wallet, and words naming it.
fn pending_record(tx: &Transaction, wallet: &str) -> Pending {
    Pending {
        external_id: tx.id.clone(),
        locator: wallet.to_owned(),
        what: format!(
            "Coinbase {} of {} {} from {}, {}",
            tx.kind, tx.amount.amount, tx.amount.currency, tx.created_at, tx.status
        ),
    }
}

fn unknown_warnings(unknown: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    unknown
        .iter()
        .map(|(kind, ids)| {
            format!(
                "Coinbase transaction type {kind:?} is unknown to cointally: {} imported as an adjustment of its \
                 amount; check it",
                ids.join(", ")
            )
        })
        .collect()
}

fn page(
    records: Vec<RawRecord>,
    cursor: String,
    done: bool,
    requests: u32,
    attempts: u32,
    warnings: Vec<String>,
) -> Page {
    Page {
        records,
        pending: Vec::new(),
        cursor,
        done,
        covered: None,
        progress: Progress::Unknown,
        requests: attempts.max(requests),
        retries: attempts.saturating_sub(requests),
        warnings,
    }
}

impl Adapter for CoinbaseAdapter {
    fn key_permissions(&self) -> Result<KeyPermissions, FetchError> {
        let answer = self.api.get(Endpoint::KeyPermissions, "/api/v3/brokerage/key_permissions", &[])?;
        // A permission missing from the answer is unknown, never "no": an unknown
        // `can_transfer` counts as "may move funds" and is refused unless allowed.
        #[derive(Deserialize)]
        struct Permissions {
            #[serde(default)]
            can_view: Option<bool>,
            #[serde(default)]
            can_trade: Option<bool>,
            #[serde(default)]
            can_transfer: Option<bool>,
        }
        let p: Permissions =
            serde_json::from_slice(&answer.body).map_err(|e| malformed(Endpoint::KeyPermissions, e.to_string()))?;
        Ok(KeyPermissions {
            can_read: p.can_view.unwrap_or(false),
            can_trade: p.can_trade,
            can_withdraw: p.can_transfer,
            ip_restricted: None,
            details: match p.can_transfer {
                Some(true) => vec!["the Transfer permission (can_transfer)".to_owned()],
                None => vec!["can_transfer not reported".to_owned()],
                Some(false) => Vec::new(),
            },
        })
    }

    fn balances(&self) -> Result<Vec<Balance>, FetchError> {
        let (wallets, _, _) = self.list_wallets()?;
        Ok(wallets
            .into_iter()
            .filter(|w| !w.balance.is_zero())
            .map(|w| Balance { asset: w.currency, amount: w.balance })
            .collect())
    }

    fn key_notes(&self) -> Result<Vec<String>, FetchError> {
        Ok(portfolios::list(&self.api)?.notes())
    }

    fn streams(&self, _known: &Known, _plan: &SyncPlan) -> Result<Vec<Stream>, FetchError> {
        // The key's own portfolio's fills keep the unscoped stream (and its stored cursor); each
        // other portfolio the key lists has its own.
        let mut streams = vec![Stream::new(TRANSACTIONS, ""), Stream::new(FILLS, "")];
        streams.extend(self.portfolios().others.into_iter().map(|p| Stream::new(FILLS, p.uuid)));
        Ok(streams)
    }

    fn start(&self, stream: &Stream, stored: Option<&str>, plan: &SyncPlan) -> Result<String, FetchError> {
        match stream.endpoint.as_str() {
            TRANSACTIONS => {
                *self.wallets.lock().unwrap_or_else(|p| p.into_inner()) = None;
                self.held.lock().unwrap_or_else(|p| p.into_inner()).clear();
                *self.read.lock().unwrap_or_else(|p| p.into_inner()) = (BTreeMap::new(), Vec::new());
                let stored = if plan.full { None } else { stored.and_then(cursor::decode::<TxCursor>) };
                let mut c = stored.unwrap_or_default();
                for (wallet, from) in std::mem::take(&mut c.rewind) {
                    if from.is_empty() {
                        c.pos.remove(&wallet);
                    } else {
                        c.pos.insert(wallet, from);
                    }
                }
                Ok(cursor::encode(&TxCursor { pos: c.pos, ..TxCursor::default() }))
            }
            FILLS => {
                let stored = if plan.full { None } else { stored.and_then(cursor::decode::<FillCursor>) };
                let c = match stored {
                    Some(c) if c.done => {
                        let floor_ms = c.top_ms.map(|ms| ms - FILLS_OVERLAP_MS);
                        let floor =
                            floor_ms.map(|ms| crate::time::format_rfc3339(crate::time::from_millis(ms))).or(c.floor);
                        FillCursor { floor, top_ms: c.top_ms, ..FillCursor::default() }
                    }
                    Some(c) => c,
                    None => FillCursor {
                        floor: plan.since_ms.map(|ms| crate::time::format_rfc3339(crate::time::from_millis(ms))),
                        ..FillCursor::default()
                    },
                };
                Ok(cursor::encode(&c))
            }
            _ => Err(FetchError::Setup { exchange: "coinbase".into(), reason: format!("unknown stream {stream}") }),
        }
    }

    fn recheck(&self, stream: &Stream, pending: &[Pending]) -> Result<Recheck, FetchError> {
        if stream.endpoint != TRANSACTIONS {
            return Ok(Recheck::default());
        }
        self.recheck_transactions(pending)
    }

    fn fetch_page(&self, stream: &Stream, cursor: &str) -> Result<Page, FetchError> {
        match stream.endpoint.as_str() {
            TRANSACTIONS => self.fetch_transactions(cursor),
            FILLS => self.fetch_fills(stream, cursor),
            _ => Err(FetchError::Setup { exchange: "coinbase".into(), reason: format!("unknown stream {stream}") }),
        }
    }
}

mod recheck;
#[cfg(test)]
mod tests;
