//! Kraken's complete ledger, walked for the sync engine.
//!
//! # One stream: `Ledgers`
//!
//! The ledger is the authoritative list of every balance change (<https://docs.kraken.com/api/docs/rest-api/get-ledgers>), so it
//! is the one stream walked. `TradesHistory` is asked alongside, for the trades of each page
//! only, to give them their pair, side, price and order (it does not know app purchases nor
//! anything that is not a trade).
//!
//! # The walk: backwards, anchored, nothing skipped or doubled
//!
//! `Ledgers` answers 50 entries per call, newest first. Offsets shift when new entries arrive
//! during a walk (they are inserted at the top), so the walk is anchored (by `end`, which Kraken's `Ledgers` takes): the
//! first call of a walk has no `end` and remembers its newest entry (`top`); every later call
//! passes `end` = a ledger id (inclusive), so entries that arrive meanwhile are above the
//! anchor and change nothing below it; they are the next walk's. The next walk passes
//! `start` = this walk's `top` (exclusive), so it fetches exactly what arrived since.
//!
//! The entries of one trade share a `refid` and become ONE event, so a page never splits a
//! trade: trade entries within a minute of the page's oldest entry (their partners may be on
//! the next page) are held back, with every entry below the first of them, and the next page
//! starts at that entry (`end` = its id). A page whose every entry is so held is extended with
//! `ofs` under the same anchor. The cursor is the JSON of `end` (an id), `top` and `floor`
//! (`[id or param, ms]`) and `done` (at the end of a walk); a walk killed half-way resumes from
//! its last stored `end`.
//!
//! # Records
//!
//! Every entry outside trades is stored as Kraken sent it, under its ledger id; the entries of
//! one trade are stored together under the refid (see [`super::normalize`]), with the
//! `TradesHistory` entry of the trade. Both ids are the ones the ledgers export uses.
//!
//! # Key check
//!
//! No endpoint lists a key's permissions. `Balance` proves the key reads; `WithdrawMethods`
//! (a read-only lookup that needs the Withdraw permission) proves it can withdraw when it
//! answers and that it cannot when Kraken says `EGeneral:Permission denied`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Mutex, OnceLock};

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::api::{Endpoint, KrakenApi, malformed};
use super::assets::canonical_asset;
use super::csv::is_trade_type;
use super::normalize::{LEDGERS, seconds};
use crate::adapter::{Adapter, Balance, KeyPermissions, Known, Page, Progress, RawRecord, Span, Stream, SyncPlan};
use crate::amount::parse_amount;
use crate::cursor;
use crate::http::FetchError;

/// Entries per `Ledgers` and `TradesHistory` answer.
pub const PAGE_SIZE: usize = 50;
/// Trade entries this close (ms) to a page's oldest entry may have partners on the next page.
const GROUP_WINDOW_MS: i64 = 60_000;
/// Kraken opened on 2013-09-10: where coverage of a complete walk begins.
pub const LAUNCH_MS: i64 = 1_378_771_200_000;
/// The most calls one page may take when entries pile up in one minute.
const MAX_CALLS_PER_PAGE: usize = 40;

/// The Kraken adapter of one account.
pub struct KrakenAdapter {
    api: KrakenApi,
    /// Asset code → Kraken's display name (`XXBT` → `XBT`), from the public `Assets` list.
    altnames: OnceLock<BTreeMap<String, String>>,
    /// Codes already warned about.
    warned: Mutex<BTreeSet<String>>,
}

/// Where a walk of the ledger stands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
struct Cursor {
    /// The next call's `end` (a ledger id, inclusive); none: from the newest entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<String>,
    /// The newest entry of this walk: id and time.
    #[serde(skip_serializing_if = "Option::is_none")]
    top: Option<(String, i64)>,
    /// The walk's `start` (exclusive): a ledger id or Unix seconds, and its time.
    #[serde(skip_serializing_if = "Option::is_none")]
    floor: Option<(String, i64)>,
    /// Whether the walk is over.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    done: bool,
}

impl Cursor {
    /// The cursor stored as `text`: its JSON, or `end=ID;top=ID@MS;floor=PARAM@MS[;done=1]` as
    /// versions before it wrote.
    fn parse(text: &str) -> Option<Cursor> {
        cursor::decode(text).or_else(|| Cursor::parse_before_json(text))
    }

    /// A cursor as versions before the JSON form wrote it.
    fn parse_before_json(text: &str) -> Option<Cursor> {
        let mut cursor = Cursor::default();
        let at = |value: &str| -> Option<(String, i64)> {
            let (param, ms) = value.rsplit_once('@')?;
            Some((param.to_string(), ms.parse().ok()?))
        };
        for part in text.split(';').filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=')?;
            match key {
                "end" => cursor.end = Some(value.to_string()),
                "top" => cursor.top = Some(at(value)?),
                "floor" => cursor.floor = Some(at(value)?),
                "done" => cursor.done = value == "1",
                _ => return None,
            }
        }
        Some(cursor)
    }

    fn render(&self) -> String {
        cursor::encode(self)
    }
}

/// A JSON object's members in the order of the text (Kraken orders entries newest first).
struct Ordered<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Ordered<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Ordered<'a>, D::Error> {
        struct Members<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Members<'a> {
            type Value = Ordered<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Ordered<'a>, M::Error> {
                let mut members = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, &'de RawValue>()? {
                    members.push((key, value));
                }
                Ok(Ordered(members))
            }
        }
        deserializer.deserialize_map(Members(std::marker::PhantomData))
    }
}

/// What the walk needs of one entry.
#[derive(Deserialize)]
struct Meta<'a> {
    #[serde(default)]
    refid: String,
    #[serde(borrow)]
    time: &'a RawValue,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    asset: String,
}

/// One entry of an answer, in answer order.
struct Row<'a> {
    id: String,
    raw: &'a RawValue,
    refid: String,
    time_ms: i64,
    trade: bool,
    is_fill: bool,
    asset: String,
}

/// Which rows of a batch (newest first) a page may take: all of the last batch of the walk;
/// otherwise the rows above the first trade entry that may still have partners below.
fn cut(rows: &[Row], last: bool) -> usize {
    if last || rows.is_empty() {
        return rows.len();
    }
    let tail_ms = rows[rows.len() - 1].time_ms;
    // refid → (newest index, oldest index, earliest time) of its trade entries.
    let mut groups: BTreeMap<&str, (usize, usize, i64)> = BTreeMap::new();
    for (index, row) in rows.iter().enumerate().filter(|(_, r)| r.trade) {
        let group = groups.entry(row.refid.as_str()).or_insert((index, index, row.time_ms));
        group.1 = index;
        group.2 = group.2.min(row.time_ms);
    }
    // The oldest row waits for the next page in any case (its trade may go on below).
    let mut cut = rows.len() - 1;
    loop {
        let mut moved = false;
        for &(first, last, earliest) in groups.values() {
            let near_tail = earliest <= tail_ms + GROUP_WINDOW_MS;
            let straddles = first < cut && last >= cut;
            if (near_tail || straddles) && first < cut {
                cut = first;
                moved = true;
            }
        }
        if !moved {
            return cut;
        }
    }
}

impl KrakenAdapter {
    /// The adapter of the account that `api` (its key, base URL and limiter) speaks for.
    pub fn new(api: KrakenApi) -> KrakenAdapter {
        KrakenAdapter { api, altnames: OnceLock::new(), warned: Mutex::new(BTreeSet::new()) }
    }

    /// The API handle.
    pub fn api(&self) -> &KrakenApi {
        &self.api
    }

    /// Kraken's `Assets` list (code → altname), asked once per run.
    fn altnames(&self) -> Result<&BTreeMap<String, String>, FetchError> {
        if let Some(names) = self.altnames.get() {
            return Ok(names);
        }
        let answer = self.api.call(Endpoint::Assets, &[])?;
        #[derive(Deserialize)]
        struct Asset {
            altname: String,
        }
        let result = self.api.result(Endpoint::Assets, &answer)?;
        let assets: BTreeMap<String, Asset> =
            serde_json::from_str(result.get()).map_err(|e| malformed(Endpoint::Assets, e.to_string()))?;
        let names = assets.into_iter().map(|(code, asset)| (code, asset.altname)).collect();
        Ok(self.altnames.get_or_init(|| names))
    }

    /// Warnings for codes whose Kraken display name maps elsewhere than cointally's table.
    fn check_codes(&self, rows: &[Row]) -> Result<Vec<String>, FetchError> {
        let altnames = self.altnames()?;
        let mut warned = self.warned.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut warnings = Vec::new();
        for row in rows {
            if warned.contains(&row.asset) {
                continue;
            }
            let Some(altname) = altnames.get(&row.asset) else { continue };
            let (ours, theirs) = (canonical_asset(&row.asset), canonical_asset(altname));
            if let (Ok(ours), Ok(theirs)) = (ours, theirs) {
                if ours != theirs {
                    warnings.push(format!(
                        "Kraken calls asset {} {altname}; cointally maps it to {ours} (as in Kraken's CSV export), \
                         not to {theirs}",
                        row.asset
                    ));
                }
            }
            warned.insert(row.asset.clone());
        }
        Ok(warnings)
    }

    /// The rows of one `Ledgers` answer, newest first.
    fn ledger_rows<'a>(&self, result: &'a RawValue) -> Result<Vec<Row<'a>>, FetchError> {
        #[derive(Deserialize)]
        struct Ledgers<'a> {
            #[serde(borrow)]
            ledger: Ordered<'a>,
        }
        let bad = |reason: String| malformed(Endpoint::Ledgers, reason);
        let ledgers: Ledgers = serde_json::from_str(result.get()).map_err(|e| bad(e.to_string()))?;
        let mut rows = Vec::with_capacity(ledgers.ledger.0.len());
        for (id, raw) in ledgers.ledger.0 {
            let meta: Meta = serde_json::from_str(raw.get()).map_err(|e| bad(format!("entry {id}: {e}")))?;
            let time = seconds(meta.time).map_err(|e| bad(format!("entry {id}: {e}")))?;
            let kind = meta.kind.to_ascii_lowercase();
            rows.push(Row {
                trade: is_trade_type(&kind),
                is_fill: kind == "trade",
                id,
                raw,
                refid: meta.refid,
                time_ms: time.timestamp_millis(),
                asset: meta.asset,
            });
        }
        Ok(rows)
    }

    /// The `TradesHistory` entries (txid → raw JSON) of the fills among `rows`.
    fn trades_of(&self, rows: &[Row], calls: &mut (u32, u32)) -> Result<BTreeMap<String, String>, FetchError> {
        let wanted: BTreeSet<&str> = rows.iter().filter(|r| r.is_fill).map(|r| r.refid.as_str()).collect();
        let mut found = BTreeMap::new();
        let Some(first) = rows.iter().filter(|r| r.is_fill).map(|r| r.time_ms).min() else { return Ok(found) };
        let last = rows.iter().filter(|r| r.is_fill).map(|r| r.time_ms).max().unwrap_or(first);
        let start = (first.div_euclid(1000) - 1).to_string();
        let end = (last.div_euclid(1000) + 2).to_string();
        let mut ofs = 0usize;
        loop {
            let mut params = vec![("start", start.clone()), ("end", end.clone())];
            if ofs > 0 {
                params.push(("ofs", ofs.to_string()));
            }
            let answer = self.api.call(Endpoint::TradesHistory, &params)?;
            calls.0 += 1;
            calls.1 += answer.attempts;
            #[derive(Deserialize)]
            struct Trades<'a> {
                #[serde(borrow)]
                trades: Ordered<'a>,
            }
            let result = self.api.result(Endpoint::TradesHistory, &answer)?;
            let trades: Trades =
                serde_json::from_str(result.get()).map_err(|e| malformed(Endpoint::TradesHistory, e.to_string()))?;
            let count = trades.trades.0.len();
            for (txid, raw) in trades.trades.0 {
                if wanted.contains(txid.as_str()) {
                    found.insert(txid, raw.get().to_string());
                }
            }
            if count < PAGE_SIZE || found.len() == wanted.len() {
                return Ok(found);
            }
            ofs += count;
        }
    }

    fn fetch_ledgers(&self, cursor: &str) -> Result<Page, FetchError> {
        let mut c = Cursor::parse(cursor)
            .ok_or_else(|| malformed(Endpoint::Ledgers, format!("cursor {cursor:?} is not a ledger cursor")))?;
        let now = self.api.now_ms();
        let floor_ms = c.floor.as_ref().map_or(LAUNCH_MS, |(_, ms)| *ms);
        if c.done {
            let covered = Span { from_ms: floor_ms, to_ms: now };
            return Ok(empty_page(c.render(), Some(covered)));
        }
        // Answers are kept while their rows are borrowed.
        let mut answers = Vec::new();
        let mut calls = (0u32, 0u32);
        let mut anchor = c.end.clone();
        let mut ofs = 0usize;
        let mut last = false;
        while answers.len() < MAX_CALLS_PER_PAGE {
            let mut params = Vec::new();
            if let Some((start, _)) = &c.floor {
                params.push(("start", start.clone()));
            }
            if let Some(end) = &anchor {
                params.push(("end", end.clone()));
            }
            if ofs > 0 {
                params.push(("ofs", ofs.to_string()));
            }
            params.push(("without_count", "true".to_string()));
            let answer = self.api.call(Endpoint::Ledgers, &params)?;
            calls.0 += 1;
            calls.1 += answer.attempts;
            let count = {
                let result = self.api.result(Endpoint::Ledgers, &answer)?;
                let rows = self.ledger_rows(result)?;
                if c.top.is_none() {
                    c.top = rows.first().map(|r| (r.id.clone(), r.time_ms));
                }
                rows.len()
            };
            answers.push(answer);
            // Later calls of this page stay under the walk's anchor, whatever arrives meanwhile.
            if anchor.is_none() {
                anchor = c.top.as_ref().map(|(id, _)| id.clone());
            }
            ofs += count;
            last = count < PAGE_SIZE;
            if last {
                break;
            }
            let mut rows = Vec::new();
            for answer in &answers {
                rows.extend(self.ledger_rows(self.api.result(Endpoint::Ledgers, answer)?)?);
            }
            if cut(&rows, false) > 0 {
                break;
            }
        }
        let mut rows = Vec::new();
        for answer in &answers {
            rows.extend(self.ledger_rows(self.api.result(Endpoint::Ledgers, answer)?)?);
        }
        let taken = cut(&rows, last);
        if taken == 0 && !last {
            return Err(malformed(
                Endpoint::Ledgers,
                format!("more than {} entries within a minute of one trade", MAX_CALLS_PER_PAGE * PAGE_SIZE),
            ));
        }
        let (included, rest) = rows.split_at(taken);
        let trades = self.trades_of(included, &mut calls)?;
        let warnings = self.check_codes(included)?;
        let records = records_of(included, &trades)?;
        let top_ms = c.top.as_ref().map_or(now, |(_, ms)| *ms);
        let (covered, progress_at) = match rest.first() {
            Some(next) => {
                c.end = Some(next.id.clone());
                (Span { from_ms: next.time_ms + 1, to_ms: top_ms + 1 }, next.time_ms)
            }
            None => {
                c.end = None;
                c.done = true;
                let to_ms = if c.top.is_some() { top_ms + 1 } else { now };
                (Span { from_ms: floor_ms, to_ms }, floor_ms)
            }
        };
        if c.done && c.top.is_none() {
            c.top = c.floor.clone();
        }
        let (requests, attempts) = calls;
        Ok(Page {
            records,
            pending: Vec::new(),
            cursor: c.render(),
            done: c.done,
            covered: Some(covered),
            progress: Progress::Time { start_ms: 0, at_ms: top_ms - progress_at, end_ms: top_ms - floor_ms },
            requests: attempts,
            retries: attempts.saturating_sub(requests),
            warnings,
        })
    }
}

/// A page with nothing on it.
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

/// The raw records of the rows a page takes: single entries as sent, trades gathered by refid.
fn records_of(rows: &[Row], trades: &BTreeMap<String, String>) -> Result<Vec<RawRecord>, FetchError> {
    let mut records = Vec::with_capacity(rows.len());
    let mut groups: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for row in rows {
        if row.trade {
            let group = groups.entry(row.refid.as_str()).or_default();
            if group.is_empty() {
                order.push(row.refid.as_str());
            }
            group.push(row);
        } else {
            records.push(RawRecord { external_id: row.id.clone(), payload: row.raw.get().to_string() });
        }
    }
    let quote = |text: &str| serde_json::to_string(text).map_err(|e| malformed(Endpoint::Ledgers, e.to_string()));
    for refid in order {
        let entries = groups.get(refid).map(Vec::as_slice).unwrap_or_default();
        let mut payload = format!("{{\"refid\":{},\"ledger\":{{", quote(refid)?);
        for (index, row) in entries.iter().enumerate() {
            if index > 0 {
                payload.push(',');
            }
            payload.push_str(&quote(&row.id)?);
            payload.push(':');
            payload.push_str(row.raw.get());
        }
        payload.push('}');
        if let Some(trade) = trades.get(refid) {
            payload.push_str(",\"trade\":");
            payload.push_str(trade);
        }
        payload.push('}');
        records.push(RawRecord { external_id: refid.to_string(), payload });
    }
    Ok(records)
}

impl Adapter for KrakenAdapter {
    fn key_permissions(&self) -> Result<KeyPermissions, FetchError> {
        self.api.call(Endpoint::Balance, &[])?;
        let can_withdraw = match self.api.call(Endpoint::WithdrawMethods, &[]) {
            Ok(_) => true,
            Err(FetchError::Auth { message, .. }) if message.contains("EGeneral:Permission denied") => false,
            Err(error) => return Err(error),
        };
        // Kraken reports no trade permission anywhere cointally may ask without trading.
        Ok(KeyPermissions {
            can_read: true,
            can_trade: None,
            can_withdraw: Some(can_withdraw),
            ip_restricted: None,
            details: if can_withdraw { vec!["Funds permissions - Withdraw".to_string()] } else { Vec::new() },
        })
    }

    fn balances(&self) -> Result<Vec<Balance>, FetchError> {
        let answer = self.api.call(Endpoint::Balance, &[])?;
        let result = self.api.result(Endpoint::Balance, &answer)?;
        let balances: BTreeMap<String, String> =
            serde_json::from_str(result.get()).map_err(|e| malformed(Endpoint::Balance, e.to_string()))?;
        let mut out = Vec::with_capacity(balances.len());
        for (code, amount) in balances {
            let bad = |reason: String| malformed(Endpoint::Balance, format!("{code}: {reason}"));
            let amount = parse_amount(&amount).map_err(|e| bad(e.to_string()))?;
            if amount.is_zero() {
                continue;
            }
            out.push(Balance { asset: canonical_asset(&code).map_err(|e| bad(e.to_string()))?, amount });
        }
        Ok(out)
    }

    fn streams(&self, _known: &Known, _plan: &SyncPlan) -> Result<Vec<Stream>, FetchError> {
        Ok(vec![Stream::new(LEDGERS, "")])
    }

    fn start(&self, stream: &Stream, stored: Option<&str>, plan: &SyncPlan) -> Result<String, FetchError> {
        if stream.endpoint != LEDGERS {
            return Err(FetchError::Setup { exchange: "kraken".into(), reason: format!("unknown stream {stream}") });
        }
        let fresh = || {
            let floor = plan.since_ms.map(|ms| ((ms.div_euclid(1000) - 1).to_string(), ms));
            Cursor { floor, ..Cursor::default() }
        };
        let cursor = match (plan.full, stored.and_then(Cursor::parse)) {
            (false, Some(c)) if c.done => Cursor { floor: c.top.or(c.floor), ..Cursor::default() },
            (false, Some(c)) => c,
            _ => fresh(),
        };
        Ok(cursor.render())
    }

    fn fetch_page(&self, stream: &Stream, cursor: &str) -> Result<Page, FetchError> {
        if stream.endpoint != LEDGERS {
            return Err(FetchError::Setup { exchange: "kraken".into(), reason: format!("unknown stream {stream}") });
        }
        self.fetch_ledgers(cursor)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn row(id: &str, refid: &str, time_ms: i64, trade: bool) -> Row<'static> {
        let raw: &'static RawValue = Box::leak(RawValue::from_string("{}".to_string()).unwrap());
        Row { id: id.into(), raw, refid: refid.into(), time_ms, trade, is_fill: trade, asset: "XXBT".into() }
    }

    #[test]
    fn cursors_read_back_what_they_write() {
        let c = Cursor {
            end: Some("L1-A".into()),
            top: Some(("L9-Z".into(), 5)),
            floor: Some(("1700000000".into(), 1_700_000_001_000)),
            done: false,
        };
        assert_eq!(Cursor::parse(&c.render()), Some(c.clone()));
        let done = Cursor { end: None, done: true, ..c.clone() };
        assert_eq!(Cursor::parse(&done.render()), Some(done));
        assert_eq!(Cursor::parse(""), Some(Cursor::default()));
        assert_eq!(Cursor::parse("top=x"), None);
        assert_eq!(c.render(), r#"{"end":"L1-A","top":["L9-Z",5],"floor":["1700000000",1700000001000]}"#);
    }

    /// A ledger synced by a version that wrote `end=…;top=…@…` cursors resumes where it
    /// stopped, exactly as from the same cursor in JSON.
    #[test]
    fn cursors_written_before_json_resume_where_they_stopped() {
        let clock: Arc<dyn crate::http::Clock> = Arc::new(crate::http::ManualClock::new(1_700_000_000_000));
        let limiter = KrakenApi::new_limiter(Arc::clone(&clock), super::super::api::Tier::STARTER);
        let (key, secret) = (crate::Secret::new(""), crate::Secret::new(""));
        let config = crate::http::ClientConfig::default();
        // Nothing listens there: `start` asks Kraken nothing.
        let api = KrakenApi::new(Some("http://127.0.0.1:9"), key, secret, "main", limiter, config, clock).unwrap();
        let adapter = KrakenAdapter::new(api);
        let plan = SyncPlan { full: false, since_ms: None };
        let stream = Stream::new(LEDGERS, "");

        let half_way = "end=L7-B;top=L9-Z@1700000005000;floor=1690000000@1690000001000";
        let expected = Cursor {
            end: Some("L7-B".into()),
            top: Some(("L9-Z".into(), 1_700_000_005_000)),
            floor: Some(("1690000000".into(), 1_690_000_001_000)),
            done: false,
        };
        assert_eq!(Cursor::parse(half_way), Some(expected.clone()));
        let resumed = adapter.start(&stream, Some(half_way), &plan).unwrap();
        assert_eq!(resumed, adapter.start(&stream, Some(&expected.render()), &plan).unwrap());
        assert_eq!(Cursor::parse(&resumed), Some(expected));

        // A finished walk: the next one starts above its newest entry.
        let finished = "top=L9-Z@1700000005000;floor=1690000000@1690000001000;done=1";
        let next = Cursor::parse(&adapter.start(&stream, Some(finished), &plan).unwrap()).unwrap();
        assert_eq!(next, Cursor { floor: Some(("L9-Z".into(), 1_700_000_005_000)), ..Cursor::default() });
    }

    #[test]
    fn a_page_never_splits_a_trade() {
        let minute = 60_000;
        // Newest first: a deposit, a trade far above the tail, then a trade near the tail.
        let rows = vec![
            row("L1", "D1", 10 * minute, false),
            row("L2", "T1", 9 * minute, true),
            row("L3", "T1", 9 * minute, true),
            row("L4", "D2", 5 * minute, false),
            row("L5", "T2", 2 * minute, true),
            row("L6", "D3", 2 * minute, false),
            row("L7", "D4", minute + 30_000, false),
        ];
        assert_eq!(cut(&rows, true), 7, "the walk's last batch is taken whole");
        assert_eq!(cut(&rows, false), 4, "T2 is within a minute of the tail: it and all below wait");
        // A trade whose entries straddle the cut is held whole.
        let rows = vec![
            row("L1", "T1", 10 * minute, true),
            row("L2", "T3", 9 * minute, true),
            row("L3", "T1", 10 * minute, true),
            row("L4", "T3", 9 * minute, true),
            row("L5", "D1", minute, false),
        ];
        assert_eq!(cut(&rows, false), 4);
        // Everything near the tail: nothing can be taken yet.
        let rows = vec![row("L1", "T1", minute, true), row("L2", "T1", minute, true)];
        assert_eq!(cut(&rows, false), 0);
    }

    #[test]
    fn ordered_members_keep_the_answer_order() {
        let ordered: Ordered = serde_json::from_str(r#"{"L9":{"a":1},"L1":[2],"L5":"x"}"#).unwrap();
        let keys: Vec<&str> = ordered.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["L9", "L1", "L5"]);
        assert_eq!(ordered.0[1].1.get(), "[2]");
    }
}
