//! The sync engine: drives each account's adapter, page by page, into the ledger.
//!
//! Fetching and normalising run on worker threads (every stream of every account,
//! concurrently, inside each exchange's limiter); writing runs on the calling thread, which
//! owns the ledger. Each page
//! is written — raw records, their events and legs, the stream's cursor and coverage — in one
//! transaction (a few queued pages may share one), so a kill at any moment loses nothing and
//! doubles nothing: the next run starts from the last committed cursor, and records seen
//! twice are stored once (raw records and events are unique per account and exchange id).
//!
//! What an exchange sends that this version does not know never stops a walk: a record of an
//! unknown type becomes an event of kind `unknown` (its legs kept, so balances stay right), and
//! a record that cannot be read at all is stored in the raw archive with why, makes no event,
//! and is counted as needing attention (`sync` then exits 4); `renormalize` after an upgrade
//! reads it.
//!
//! Streams are found in rounds: an adapter names the streams it can see from what is known
//! of the account (for Binance, the trading pairs of every asset the account touched), the
//! round is walked, and the adapter is asked again with the assets the new records brought,
//! until it names nothing new.

pub mod connect;
pub mod matching;
mod progress;
pub mod renormalize;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use chrono::Utc;
use cointally_exchanges::adapter::{Adapter, Known, Page, Pending, RawRecord, Stream, SyncPlan};
use cointally_exchanges::http::FetchError;
use cointally_exchanges::{EventKind, Exchange, NewEvent};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::ledger::{Account, Ledger, LedgerError, Written};
use matching::Matcher;
pub use progress::Reporter;

/// One account to sync, with the adapter that talks to its exchange.
pub struct Job {
    /// The account.
    pub account: Account,
    /// Its exchange.
    pub exchange: Exchange,
    /// The adapter, holding the account's key.
    pub adapter: Arc<dyn Adapter>,
}

/// What a run is asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    /// Walk everything from the beginning again (`--full`).
    pub full: bool,
    /// Where history starts for streams never walked (`--since`), Unix ms.
    pub since_ms: Option<i64>,
    /// Fetching threads.
    pub workers: usize,
}

/// Why a sync could not go on.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The ledger refused a write (disk full, locked): nothing after the last commit was kept.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Totals of one account's endpoint in a run.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct EndpointSummary {
    /// The endpoint.
    pub endpoint: String,
    /// Streams (scopes) walked.
    pub streams: u64,
    /// Records received.
    pub records: u64,
    /// Records that were not in the ledger before.
    pub new_records: u64,
    /// Events added.
    pub new_events: u64,
    /// Pages.
    pub pages: u64,
    /// HTTP requests, retries included.
    pub requests: u64,
    /// Retries.
    pub retries: u64,
    /// New events of a type cointally does not know (kind `unknown`, listed by `check`).
    pub unknown_records: u64,
    /// Records that could not be read at all (kept in the raw archive, no event made).
    pub unreadable_records: u64,
    /// Records not final yet at the end of the run (passed over, asked again at each sync).
    pub pending: u64,
    /// Things to know.
    pub warnings: Vec<String>,
}

/// What a run did for one account.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct AccountSummary {
    /// The account's label.
    pub account: String,
    /// Its exchange.
    pub exchange: String,
    /// Per endpoint, sorted by name.
    pub endpoints: Vec<EndpointSummary>,
    /// Assets whose ledger balance differs from the balance the exchange reported at the end.
    pub balance_differences: Vec<BalanceDifference>,
    /// Raw records of the account that no event could be made from (this run's and earlier
    /// runs'): `check` lists them, `renormalize` after an upgrade reads them.
    pub needs_attention: u64,
    /// Deposit/withdrawal details (tx hashes from a history) that met no event of the account
    /// yet: they wait, and every sync tries again (see [`crate::ledger::Ledger::attach_details`]).
    #[serde(skip_serializing_if = "is_zero")]
    pub details_waiting: u64,
    /// Why the account's sync stopped early, if it did.
    pub error: Option<String>,
    /// Whether the error is the exchange refusing the key.
    #[serde(skip)]
    pub auth_error: bool,
}

/// A ledger balance that differs from the exchange's.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct BalanceDifference {
    /// Asset.
    pub asset: String,
    /// The ledger's balance.
    pub ledger: String,
    /// The exchange's balance.
    pub exchange: String,
}

/// A message from a fetching thread.
enum Fetched {
    /// A page and its records' events (or why one of them could not be read), normalised
    /// on the fetching thread so that the writing thread only writes.
    Page {
        task: usize,
        page: Page,
        events: Vec<Result<Vec<NewEvent>, String>>,
    },
    Failed {
        task: usize,
        error: FetchError,
    },
    Done {
        task: usize,
    },
}

struct Task {
    job: usize,
    stream: Stream,
    cursor: String,
    pages: u64,
}

struct AccountState {
    assets: BTreeSet<String>,
    changed: BTreeSet<String>,
    walked: BTreeSet<Stream>,
    run: BTreeSet<Stream>,
    cursors: BTreeMap<Stream, String>,
    matcher: Matcher,
    endpoints: BTreeMap<String, EndpointSummary>,
    /// New events of kind `unknown` per endpoint and the exchange's type (their note).
    unknown: BTreeMap<(String, String), u64>,
    /// Records passed over as not final, per stream, by id: those of earlier runs (re-asked at
    /// the end of this one) and those this run's pages passed over.
    pending: BTreeMap<Stream, BTreeMap<String, Pending>>,
    /// The streams and ids that were pending before this run: the ones to re-ask.
    recheck: BTreeMap<Stream, Vec<String>>,
    error: Option<(String, bool)>,
}

/// Syncs every job's account; returns what was done per account (an account whose exchange
/// failed has its error in its summary; the others go on).
pub fn run(
    ledger: &mut Ledger,
    jobs: &[Job],
    options: &Options,
    reporter: &Reporter,
) -> Result<Vec<AccountSummary>, SyncError> {
    let plan = SyncPlan { full: options.full, since_ms: options.since_ms };
    let mut states = Vec::with_capacity(jobs.len());
    for job in jobs {
        states.push(prepare(ledger, job, options)?);
    }
    loop {
        let mut tasks = Vec::new();
        for (index, job) in jobs.iter().enumerate() {
            let state = &mut states[index];
            if state.error.is_some() {
                continue;
            }
            let known =
                Known { assets: state.assets.clone(), changed: state.changed.clone(), walked: state.walked.clone() };
            match job.adapter.streams(&known, &plan) {
                Ok(streams) => {
                    for stream in streams {
                        if !state.run.insert(stream.clone()) {
                            continue;
                        }
                        match job.adapter.start(&stream, state.cursors.get(&stream).map(String::as_str), &plan) {
                            Ok(cursor) => tasks.push(Task { job: index, stream, cursor, pages: 0 }),
                            Err(e) => {
                                state.error = Some((e.to_string(), e.is_auth()));
                                break;
                            }
                        }
                    }
                }
                Err(e) => state.error = Some((e.to_string(), e.is_auth())),
            }
        }
        tasks.retain(|t| states[t.job].error.is_none());
        if tasks.is_empty() {
            break;
        }
        for task in &tasks {
            reporter.stream_started(&jobs[task.job].account.label, &task.stream);
        }
        walk(ledger, jobs, &mut states, tasks, options, reporter)?;
        for (index, job) in jobs.iter().enumerate() {
            let assets = ledger.account_assets(job.account.id)?;
            let state = &mut states[index];
            for asset in assets {
                if state.assets.insert(asset.clone()) {
                    state.changed.insert(asset);
                }
            }
        }
    }
    let mut waiting = Vec::with_capacity(jobs.len());
    for (job, state) in jobs.iter().zip(states.iter_mut()) {
        if state.error.is_none() {
            recheck(ledger, job, state)?;
        }
        waiting.push(ledger.attach_details(job.account.id)?.waiting);
    }
    let mut summaries = Vec::new();
    for ((job, state), details_waiting) in jobs.iter().zip(states).zip(waiting) {
        let mut endpoints = state.endpoints;
        for (stream, records) in &state.pending {
            if records.is_empty() {
                continue;
            }
            let totals = endpoints
                .entry(stream.endpoint.clone())
                .or_insert_with(|| EndpointSummary { endpoint: stream.endpoint.clone(), ..EndpointSummary::default() });
            totals.pending += records.len() as u64;
            totals.warnings.push(pending_warning(stream, records));
        }
        for ((endpoint, kind), count) in &state.unknown {
            if let Some(totals) = endpoints.get_mut(endpoint) {
                totals.warnings.push(format!(
                    "{count} record{s} of a type cointally does not know ({kind}): kept as kind `unknown`, \
                     in balances but not in gains; `cointally check` lists them and `cointally reclassify EVENT KIND` \
                     says what they are",
                    s = if *count == 1 { "" } else { "s" }
                ));
            }
        }
        let mut summary = AccountSummary {
            account: job.account.label.clone(),
            exchange: job.exchange.to_string(),
            endpoints: endpoints.into_values().collect(),
            needs_attention: ledger.unreadable_records(Some(&job.account.label))?.len() as u64,
            details_waiting,
            ..AccountSummary::default()
        };
        if let Some((error, auth)) = state.error {
            summary.error = Some(error);
            summary.auth_error = auth;
        } else {
            match job.adapter.balances() {
                Ok(balances) => {
                    let reported: Vec<(String, Decimal)> = merge_balances(balances);
                    ledger.store_reported_balances(job.account.id, &reported, Utc::now().timestamp_millis())?;
                    summary.balance_differences = differences(ledger, &job.account, &reported)?;
                    let differs = summary.balance_differences.iter().map(|d| d.asset.clone()).collect();
                    for (endpoint, warning) in job.adapter.closing_warnings(&state.assets, &differs) {
                        match summary.endpoints.iter_mut().find(|e| e.endpoint == endpoint) {
                            Some(totals) => totals.warnings.push(warning),
                            None => summary.endpoints.push(EndpointSummary {
                                endpoint,
                                warnings: vec![warning],
                                ..EndpointSummary::default()
                            }),
                        }
                    }
                    summary.endpoints.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
                }
                Err(e) => {
                    summary.auth_error = e.is_auth();
                    summary.error = Some(format!("reading balances at the end: {e}"));
                }
            }
        }
        // Kept for problem bundles; a summary that cannot be written is not worth failing a sync.
        if let Ok(json) = serde_json::to_string(&summary) {
            ledger.store_sync_summary(job.account.id, &json)?;
        }
        summaries.push(summary);
    }
    reporter.finish();
    Ok(summaries)
}

/// Reads what the ledger knows of an account before its first round.
fn prepare(ledger: &Ledger, job: &Job, options: &Options) -> Result<AccountState, SyncError> {
    let id = job.account.id;
    let cursors = ledger.cursors(id)?;
    let mut assets = ledger.account_assets(id)?;
    let stored: BTreeMap<String, Decimal> =
        ledger.reported_balances(id)?.into_iter().map(|b| (b.asset, b.amount)).collect();
    let mut error = None;
    let mut changed = BTreeSet::new();
    match job.adapter.balances() {
        Ok(now) => {
            let now = merge_balances(now);
            for (asset, amount) in &now {
                if stored.get(asset) != Some(amount) {
                    changed.insert(asset.clone());
                }
                assets.insert(asset.clone());
            }
            for asset in stored.keys() {
                if !now.iter().any(|(a, _)| a == asset) {
                    changed.insert(asset.clone());
                }
            }
        }
        Err(e) => error = Some((e.to_string(), e.is_auth())),
    }
    if options.full || cursors.is_empty() {
        changed.extend(assets.iter().cloned());
    }
    let matcher = matcher(ledger, job)?;
    let pending: BTreeMap<Stream, BTreeMap<String, Pending>> = ledger
        .pending(id)?
        .into_iter()
        .map(|(stream, records)| (stream, records.into_iter().map(|p| (p.external_id.clone(), p)).collect()))
        .collect();
    let recheck = pending.iter().map(|(stream, records)| (stream.clone(), records.keys().cloned().collect())).collect();
    Ok(AccountState {
        assets,
        changed,
        walked: cursors.keys().cloned().collect(),
        run: BTreeSet::new(),
        cursors,
        matcher,
        endpoints: BTreeMap::new(),
        unknown: BTreeMap::new(),
        pending,
        recheck,
        error,
    })
}

/// Fetches the tasks on worker threads and writes their pages as they come.
/// The matcher of an account's API records and file events, knowing the links stored earlier
/// and, for a record of one event, which event id met which file event (so that another listing
/// of that event, arriving in a later sync, meets it too).
fn matcher(ledger: &Ledger, job: &Job) -> Result<Matcher, SyncError> {
    let id = job.account.id;
    let events = ledger.imported_events(id)?;
    if events.is_empty() {
        return Ok(Matcher::new(events, Vec::new()));
    }
    let linked = ledger.api_records_linked_to_file_events(id)?;
    let mut matcher = Matcher::new(events, linked.iter().map(|(raw, event)| (raw.id, *event)).collect());
    for (raw, file_event) in &linked {
        let record = RawRecord { external_id: raw.external_id.clone(), payload: raw.payload.clone() };
        // A record of several events (a dust conversion) does not say which one met the file
        // event; an unreadable one made none.
        if let Ok([event]) = cointally_exchanges::registry::normalize(job.exchange, &raw.stream, &record).as_deref() {
            matcher.remember(&event.external_id, *file_event);
        }
    }
    Ok(matcher)
}

fn walk(
    ledger: &mut Ledger,
    jobs: &[Job],
    states: &mut [AccountState],
    tasks: Vec<Task>,
    options: &Options,
    reporter: &Reporter,
) -> Result<(), SyncError> {
    let queue: Mutex<VecDeque<usize>> = Mutex::new((0..tasks.len()).collect());
    let stop = AtomicBool::new(false);
    let failed: Vec<AtomicBool> = tasks.iter().map(|_| AtomicBool::new(false)).collect();
    let starts: Vec<(usize, Stream, String)> =
        tasks.iter().map(|t| (t.job, t.stream.clone(), t.cursor.clone())).collect();
    let mut tasks = tasks;
    let (sender, receiver) = mpsc::sync_channel::<Fetched>(64);
    let workers = options.workers.clamp(1, starts.len().max(1));
    std::thread::scope(|scope| -> Result<(), SyncError> {
        for _ in 0..workers {
            let sender = sender.clone();
            let (queue, stop, failed, starts) = (&queue, &stop, &failed, &starts);
            scope.spawn(move || {
                loop {
                    let next = queue.lock().map(|mut q| q.pop_front()).unwrap_or(None);
                    let Some(task) = next else { return };
                    let (job, stream, cursor) = &starts[task];
                    let job = &jobs[*job];
                    let fetch = Fetch { adapter: &*job.adapter, exchange: job.exchange, task, stream };
                    fetch.walk(cursor.clone(), stop, &failed[task], &sender);
                }
            });
        }
        drop(sender);
        let result = write_pages(ledger, jobs, states, &mut tasks, &failed, &receiver, reporter);
        if result.is_err() {
            stop.store(true, Ordering::SeqCst);
            // Drain so that no worker stays blocked on a full channel.
            while receiver.recv().is_ok() {}
        }
        result
    })
}

/// One stream's walk on a fetching thread.
struct Fetch<'a> {
    adapter: &'a dyn Adapter,
    exchange: Exchange,
    task: usize,
    stream: &'a Stream,
}

impl Fetch<'_> {
    /// Walks the stream from `cursor` until it is done, failed, or the run stops.
    fn walk(&self, mut cursor: String, stop: &AtomicBool, failed: &AtomicBool, sender: &mpsc::SyncSender<Fetched>) {
        let task = self.task;
        loop {
            if stop.load(Ordering::SeqCst) || failed.load(Ordering::SeqCst) {
                return;
            }
            let page = match self.adapter.fetch_page(self.stream, &cursor) {
                Ok(page) => page,
                Err(error) => {
                    let _ = sender.send(Fetched::Failed { task, error });
                    return;
                }
            };
            let done = page.done;
            cursor = page.cursor.clone();
            let events = normalize_page(self.exchange, self.stream, &page);
            if sender.send(Fetched::Page { task, page, events }).is_err() {
                return;
            }
            if done {
                let _ = sender.send(Fetched::Done { task });
                return;
            }
        }
    }
}

/// How many fetched pages one transaction may hold at most.
const PAGES_PER_COMMIT: usize = 32;

fn write_pages(
    ledger: &mut Ledger,
    jobs: &[Job],
    states: &mut [AccountState],
    tasks: &mut [Task],
    failed: &[AtomicBool],
    receiver: &mpsc::Receiver<Fetched>,
    reporter: &Reporter,
) -> Result<(), SyncError> {
    while let Ok(first) = receiver.recv() {
        let mut batch = vec![first];
        while batch.len() < PAGES_PER_COMMIT {
            match receiver.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        let mut pages = Vec::new();
        for message in batch {
            match message {
                Fetched::Page { task, page, events } => {
                    if failed[task].load(Ordering::SeqCst) {
                        continue;
                    }
                    let t = &mut tasks[task];
                    t.pages += 1;
                    pages.push((task, page, events, t.pages));
                }
                Fetched::Failed { task, error } => {
                    failed[task].store(true, Ordering::SeqCst);
                    let t = &tasks[task];
                    let job = &jobs[t.job];
                    let message = format!("account {}, endpoint {}: {error}", job.account.label, t.stream);
                    reporter.stream_failed(&job.account.label, &t.stream, &message);
                    states[t.job].error.get_or_insert((message, error.is_auth()));
                }
                Fetched::Done { task } => {
                    let t = &tasks[task];
                    reporter.stream_done(&jobs[t.job].account.label, &t.stream);
                }
            }
        }
        if pages.is_empty() {
            continue;
        }
        let fetched_ms = Utc::now().timestamp_millis();
        let mut writer = ledger.writer()?;
        let mut counted = Vec::with_capacity(pages.len());
        for (task, page, events, page_number) in &pages {
            let t = &tasks[*task];
            let job = &jobs[t.job];
            let account_id = job.account.id;
            let source = t.stream.source();
            let state = &mut states[t.job];
            let mut counts = Counts::default();
            let place = format!("page {page_number}");
            let at = Place { stream: &t.stream, source: &source, fetched_ms, place: &place };
            state.matcher.prepare(events.iter().filter_map(|e| e.as_ref().ok()).flatten());
            for (record, record_events) in page.records.iter().zip(events) {
                store_record(&mut writer, state, account_id, &at, record, record_events, &mut counts)?;
            }
            for record in &page.pending {
                writer.pending(account_id, &t.stream, record, fetched_ms)?;
                state.pending.entry(t.stream.clone()).or_default().insert(record.external_id.clone(), record.clone());
            }
            writer.cursor(account_id, &t.stream, &page.cursor)?;
            if let Some(span) = page.covered {
                writer.cover(account_id, &t.stream, span, fetched_ms)?;
            }
            counted.push((*task, counts));
        }
        writer.commit()?;
        for ((task, page, _, page_number), (_, counts)) in pages.iter().zip(counted) {
            let Counts { new_records, new_events, unknown, unreadable } = counts;
            let t = &tasks[*task];
            let state = &mut states[t.job];
            state.cursors.insert(t.stream.clone(), page.cursor.clone());
            state.walked.insert(t.stream.clone());
            let totals = endpoint_totals(state, &t.stream);
            totals.streams += u64::from(*page_number == 1);
            totals.pages += 1;
            totals.records += page.records.len() as u64;
            totals.new_records += new_records;
            totals.new_events += new_events;
            totals.requests += u64::from(page.requests);
            totals.retries += u64::from(page.retries);
            totals.unknown_records += unknown;
            totals.unreadable_records += unreadable.len() as u64;
            totals.warnings.extend(page.warnings.iter().cloned());
            totals.warnings.extend(unreadable);
            reporter.page(&jobs[t.job].account.label, &t.stream, page, new_records);
        }
    }
    Ok(())
}

/// What storing some records added.
#[derive(Default)]
struct Counts {
    new_records: u64,
    new_events: u64,
    unknown: u64,
    unreadable: Vec<String>,
}

/// Where stored records come from: their stream (and its raw-archive source), when they were
/// fetched, and where in the walk, for messages (`page 3`).
struct Place<'a> {
    stream: &'a Stream,
    source: &'a str,
    fetched_ms: i64,
    place: &'a str,
}

/// Stores one final record (raw, then its events, or why it has none) and forgets it as pending
/// if it was.
fn store_record(
    writer: &mut crate::ledger::Writer<'_>,
    state: &mut AccountState,
    account_id: i64,
    at: &Place<'_>,
    record: &RawRecord,
    record_events: &Result<Vec<NewEvent>, String>,
    counts: &mut Counts,
) -> Result<(), SyncError> {
    let (stream, source, fetched_ms, place) = (at.stream, at.source, at.fetched_ms, at.place);
    if state.pending.get_mut(stream).and_then(|p| p.remove(&record.external_id)).is_some() {
        writer.settled(account_id, stream, &record.external_id)?;
    }
    let (raw_id, new) = writer.raw(account_id, source, &record.external_id, &record.payload, fetched_ms)?;
    counts.new_records += u64::from(new);
    let record_events = match record_events {
        Ok(record_events) => {
            if !new {
                writer.readable(raw_id)?;
            }
            record_events
        }
        Err(reason) => {
            writer.unreadable(raw_id, reason, fetched_ms)?;
            counts.unreadable.push(format!(
                "{place}: {reason} (kept in the raw archive, no event made; \
                 `cointally renormalize` after an upgrade reads it)"
            ));
            return Ok(());
        }
    };
    for event in record_events {
        if event.is_details() {
            writer.details(account_id, raw_id, event)?;
            continue;
        }
        if let Some(existing) = state.matcher.find(raw_id, event) {
            writer.link(existing, &[raw_id])?;
            continue;
        }
        if let Written::New(_) = writer.event(account_id, source, event, &[raw_id])? {
            counts.new_events += 1;
            if event.kind == EventKind::Unknown {
                counts.unknown += 1;
                let what = event.note.clone().unwrap_or_else(|| "no type given".to_owned());
                *state.unknown.entry((stream.endpoint.clone(), what)).or_default() += 1;
            }
            for leg in &event.legs {
                state.assets.insert(leg.asset.clone());
                state.changed.insert(leg.asset.clone());
            }
        }
    }
    Ok(())
}

/// Asks the adapter again for the records that were pending before this run (and were not met
/// again by a walk), and stores those final now, each in one transaction with its forgetting.
fn recheck(ledger: &mut Ledger, job: &Job, state: &mut AccountState) -> Result<(), SyncError> {
    let account_id = job.account.id;
    for (stream, ids) in std::mem::take(&mut state.recheck) {
        let asked: Vec<Pending> =
            ids.iter().filter_map(|id| state.pending.get(&stream).and_then(|p| p.get(id)).cloned()).collect();
        if asked.is_empty() {
            continue;
        }
        let answer = match job.adapter.recheck(&stream, &asked) {
            Ok(answer) => answer,
            Err(e) => {
                state.error.get_or_insert((
                    format!(
                        "account {}, endpoint {stream}, asking again for records not final: {e}",
                        job.account.label
                    ),
                    e.is_auth(),
                ));
                return Ok(());
            }
        };
        let fetched_ms = Utc::now().timestamp_millis();
        let source = stream.source();
        let mut counts = Counts::default();
        let mut writer = ledger.writer()?;
        for (id, record) in &answer.settled {
            if state.pending.get_mut(&stream).and_then(|p| p.remove(id)).is_some() {
                writer.settled(account_id, &stream, id)?;
            }
            let Some(record) = record else { continue };
            let events =
                cointally_exchanges::registry::normalize(job.exchange, &stream, record).map_err(|e| e.to_string());
            let place = format!("record {id}, final now");
            let at = Place { stream: &stream, source: &source, fetched_ms, place: &place };
            store_record(&mut writer, state, account_id, &at, record, &events, &mut counts)?;
        }
        writer.commit()?;
        let totals = endpoint_totals(state, &stream);
        totals.records += answer.settled.iter().filter(|(_, r)| r.is_some()).count() as u64;
        totals.new_records += counts.new_records;
        totals.new_events += counts.new_events;
        totals.requests += u64::from(answer.requests);
        totals.retries += u64::from(answer.retries);
        totals.unknown_records += counts.unknown;
        totals.unreadable_records += counts.unreadable.len() as u64;
        totals.warnings.extend(answer.warnings);
        totals.warnings.extend(counts.unreadable);
    }
    Ok(())
}

/// The summary's words for the records of a stream still not final.
fn pending_warning(stream: &Stream, records: &BTreeMap<String, Pending>) -> String {
    const NAMED: usize = 20;
    let mut names: Vec<String> = records
        .values()
        .take(NAMED)
        .map(|p| if p.what.is_empty() { p.external_id.clone() } else { format!("{} ({})", p.external_id, p.what) })
        .collect();
    if records.len() > NAMED {
        names.push(format!("and {} more", records.len() - NAMED));
    }
    format!(
        "{count} record{s} of {stream} not final yet, passed over (the rest of the history is not held back) and \
         asked again at each sync until final: {names}",
        count = records.len(),
        s = if records.len() == 1 { "" } else { "s" },
        names = names.join("; ")
    )
}

/// The run's totals of a stream's endpoint.
fn endpoint_totals<'s>(state: &'s mut AccountState, stream: &Stream) -> &'s mut EndpointSummary {
    state
        .endpoints
        .entry(stream.endpoint.clone())
        .or_insert_with(|| EndpointSummary { endpoint: stream.endpoint.clone(), ..EndpointSummary::default() })
}

/// Each record's events, or why it could not be read.
fn normalize_page(exchange: Exchange, stream: &Stream, page: &Page) -> Vec<Result<Vec<NewEvent>, String>> {
    page.records
        .iter()
        .map(|record| cointally_exchanges::registry::normalize(exchange, stream, record).map_err(|e| e.to_string()))
        .collect()
}

/// Sums balances that map to the same asset and drops zeros, sorted by asset.
fn merge_balances(balances: Vec<cointally_exchanges::adapter::Balance>) -> Vec<(String, Decimal)> {
    let mut sums: BTreeMap<String, Decimal> = BTreeMap::new();
    for balance in balances {
        *sums.entry(balance.asset).or_default() += balance.amount;
    }
    sums.into_iter().filter(|(_, amount)| !amount.is_zero()).map(|(a, m)| (a, m.normalize())).collect()
}

/// Assets whose ledger balance differs from the reported one.
fn differences(
    ledger: &Ledger,
    account: &Account,
    reported: &[(String, Decimal)],
) -> Result<Vec<BalanceDifference>, LedgerError> {
    let ours: BTreeMap<String, Decimal> =
        ledger.balances(Some(&account.label), None)?.into_iter().map(|b| (b.asset, b.amount)).collect();
    let theirs: BTreeMap<String, Decimal> = reported.iter().cloned().collect();
    let assets: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
    Ok(assets
        .into_iter()
        .filter_map(|asset| {
            let (a, b) = (ours.get(asset).copied().unwrap_or_default(), theirs.get(asset).copied().unwrap_or_default());
            (a != b).then(|| BalanceDifference {
                asset: asset.clone(),
                ledger: cointally_exchanges::amount::format_amount(a.normalize()),
                exchange: cointally_exchanges::amount::format_amount(b.normalize()),
            })
        })
        .collect())
}

/// Whether a count is zero (a field left out of JSON then).
fn is_zero(count: &u64) -> bool {
    *count == 0
}
