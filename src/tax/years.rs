//! Several US tax years in one pass over history, from the latest year-end snapshot that
//! still fits the ledger, storing a snapshot at the end of each year computed.
//!
//! A pass reads the events once, from the snapshot's end (or the first event) to the end of
//! the last year asked for. At the end of each year asked for it hands out what a computation
//! of that year alone gives ([`super::compute`]: the same disposals, income, holdings and
//! `inputs_hash`). It stores the engine's state as a snapshot at the ends of the last two
//! years of the range (for one year Y: the ends of Y − 1 and Y), the ones a later report
//! starts from: the next year's, or a re-run of the last year after new events in it.
//!
//! Which snapshots fit: the ledger's triggers note the earliest event time any write touched
//! (events, legs, values, kind overrides); [`Ledger::invalidate_snapshots`] drops the snapshots
//! that end after it. The rest are checked against [`Inputs::snapshot_key`] (transfers,
//! elections, labels, currency, options, rules version) when used; one that differs is dropped.

use std::ops::{ControlFlow, RangeInclusive};
use std::sync::mpsc;

use super::engine::{Engine, EngineState, OutOfRange};
use super::inputs::{EventsDigest, Inputs, snapshot_options};
use super::snapshot_state;
use super::zone::Zone;
use super::{Computed, Options};
use crate::ledger::snapshots::{Snapshot, SnapshotHead};
use crate::ledger::{EventCapture, Ledger, LedgerError, TaxEvent};
use crate::transfers::Matching;

/// The jurisdiction code snapshots of the US engine are stored under.
pub const US: &str = "us";

/// Whether a pass may start from a stored snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// From the latest snapshot that fits (the default).
    Snapshot,
    /// From the first event (`report --from-scratch`); snapshots are still stored.
    Scratch,
}

/// What a pass did, for notes and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassInfo {
    /// The year-end of the snapshot it started from, if any.
    pub started_after: Option<i32>,
    /// Events read by this pass (not counting those behind the snapshot).
    pub events_read: u64,
    /// Snapshots dropped because a write or a key no longer fits.
    pub dropped: usize,
    /// Snapshots stored.
    pub stored: usize,
    /// The events were those a [`ReadAhead`] read while the inputs were prepared.
    pub read_ahead: bool,
    /// Events read from the kept copy of the latest year's events instead of the tables.
    pub copied: u64,
    /// Events kept as that copy for the next report.
    pub kept: usize,
}

/// Computes every year of `years` (options' `year` aside) in one pass, from the latest snapshot
/// that fits when `start` allows, and stores a snapshot at each year's end.
///
/// A closed year (`year close`) of these options is a snapshot that is never dropped: a year
/// after it starts from its filed lots, so the range is computed in segments that each end at
/// a closed year. Under [`Start::Scratch`] closed years are passed over (a what-if of history
/// as it is now) and no snapshot after one is stored.
pub fn compute_years(
    ledger: &mut Ledger,
    options: Options,
    matching: &Matching,
    years: RangeInclusive<i32>,
    start: Start,
) -> Result<(Vec<Computed>, PassInfo), LedgerError> {
    compute_years_with(ledger, options, matching, years, start, None)
}

/// [`compute_years`] taking the events `ahead` read while the inputs were prepared, when they
/// start where the pass starts (the snapshot that fits is the one they start after);
/// otherwise they are dropped and the pass reads for itself.
pub fn compute_years_with(
    ledger: &mut Ledger,
    options: Options,
    matching: &Matching,
    years: RangeInclusive<i32>,
    start: Start,
    mut ahead: Option<ReadAhead>,
) -> Result<(Vec<Computed>, PassInfo), LedgerError> {
    let (first, last) = (*years.start(), *years.end());
    let options = Options { year: Some(first), ..options };
    let inputs = Inputs::read(ledger, &options, matching)?;
    let invalidated = ledger.invalidate_snapshots()?;
    let mut info = PassInfo { dropped: invalidated.dropped, ..PassInfo::default() };
    // The mark was cleared since the read ahead began (here, after a write by another process,
    // or by another report): the read may lack that write, and nothing says so any more, so the
    // read is not used.
    if ahead.as_ref().is_some_and(|read| read.cleared != invalidated.cleared) {
        if let Some(read) = ahead.take() {
            read.stop();
        }
    }
    let closed = closed_years(ledger, &options)?;
    let mut cuts: Vec<i32> = match start {
        Start::Snapshot => closed.iter().copied().filter(|c| (first..last).contains(c)).collect(),
        Start::Scratch => Vec::new(),
    };
    cuts.push(last);
    let mut computed = Vec::with_capacity(years.clone().count());
    let mut segment_first = first;
    for segment_last in cuts {
        let from = match start {
            Start::Scratch => None,
            Start::Snapshot => latest_fitting(ledger, &inputs, &options, segment_first, &mut info)?,
        };
        if segment_first == first {
            info.started_after = from.as_ref().map(|s| s.head.year);
        }
        let source = match ahead.take() {
            Some(ahead) if ahead.fits(&inputs, from.as_ref(), segment_first - 1, segment_last) => {
                info.read_ahead = true;
                Source::Ahead(ahead)
            }
            Some(ahead) => {
                ahead.stop();
                Source::Here(ledger)
            }
            None => Source::Here(ledger),
        };
        let (mut part, mut snapshots, read) =
            pass_from(source, &inputs, options, segment_first..=segment_last, from, true)?;
        info.copied += read.copied;
        // A snapshot after a closed year computed without its filed lots would be taken up by
        // the next report as if it had started from them.
        if start == Start::Scratch {
            snapshots.retain(|s| closed.iter().all(|c| *c >= s.head.year));
        }
        info.events_read += read.events;
        info.stored += ledger.store_snapshots(&snapshots, invalidated.cleared)?.len();
        // The last year's events, for the next report of it (from the snapshot before it).
        if let Some(capture) = read.capture {
            if ledger.keep_pass_events(&capture)? {
                info.kept = capture.len();
            }
        }
        computed.append(&mut part);
        segment_first = segment_last + 1;
    }
    Ok((computed, info))
}

/// The closed years of the US engine under `options` (year aside), oldest first.
pub fn closed_years(ledger: &Ledger, options: &Options) -> Result<Vec<i32>, LedgerError> {
    Ok(ledger
        .closed_years()?
        .into_iter()
        .filter(|c| c.jurisdiction == US && c.options == Options { year: Some(c.year), ..*options }.to_json())
        .map(|c| c.year)
        .collect())
}

/// The latest stored snapshot ending by the start of `first` whose key fits; the ones that do
/// not are dropped on the way.
fn latest_fitting(
    ledger: &mut Ledger,
    inputs: &Inputs,
    options: &Options,
    first: i32,
    info: &mut PassInfo,
) -> Result<Option<Snapshot>, LedgerError> {
    for head in ledger.snapshot_heads(US, &snapshot_options(options), inputs.zone.year_start_ms(first))? {
        if head.closed {
            if head.key_hash != inputs.snapshot_key(options, head.end_ms) {
                ledger.mark_closed_year_changed(head.id)?;
            }
            return ledger.load_snapshot(head).map(Some);
        }
        if head.key_hash == inputs.snapshot_key(options, head.end_ms) {
            return ledger.load_snapshot(head).map(Some);
        }
        ledger.delete_snapshot(head.id)?;
        info.dropped += 1;
    }
    Ok(None)
}

/// The pass itself (reads only): the years' computations, the snapshots to store (when
/// `keep` says so), and how many events were read.
///
/// Two threads share the work: this one reads the events from SQLite and adds them to the
/// events digest, the other runs them through the engine, in batches in time order (the
/// engine sees exactly the sequence a single thread would give it). Reading and computing
/// cost about the same, so on two cores a pass takes about half the time.
pub fn pass(
    ledger: &Ledger,
    inputs: &Inputs,
    options: Options,
    years: RangeInclusive<i32>,
    from: Option<Snapshot>,
    keep: bool,
) -> Result<(Vec<Computed>, Vec<Snapshot>, u64), LedgerError> {
    let (computed, snapshots, read) = pass_from(Source::Here(ledger), inputs, options, years, from, keep)?;
    Ok((computed, snapshots, read.events))
}

/// What the reading half of a pass did.
struct Read {
    /// Events read.
    events: u64,
    /// Of which from the kept copy.
    copied: u64,
    /// The last year's events read from the tables, to keep as the copy (when the pass keeps
    /// what it makes).
    capture: Option<EventCapture>,
}

/// Where a pass's events come from.
enum Source<'a> {
    /// Read by the pass from this ledger.
    Here(&'a Ledger),
    /// Read already (or being read) by a [`ReadAhead`] that fits the pass.
    Ahead(ReadAhead),
}

/// [`pass`] from `source`: with events read ahead, this thread computes while the read goes on
/// on the other.
fn pass_from(
    source: Source<'_>,
    inputs: &Inputs,
    options: Options,
    years: RangeInclusive<i32>,
    from: Option<Snapshot>,
    keep: bool,
) -> Result<(Vec<Computed>, Vec<Snapshot>, Read), LedgerError> {
    let (first, last) = (*years.start(), *years.end());
    let options = Options { year: Some(first), ..options };
    let mut engine = inputs.engine(options);
    let mut digest_before = None;
    let mut events = 0u64;
    let mut from_ms = i64::MIN;
    // The year-ends to stop at: the one before the first year (a snapshot only), then each
    // year asked for.
    let mut next_year = first - 1;
    if let Some(snapshot) = from {
        digest_before = Some(snapshot.head.events_digest.clone());
        events = snapshot.head.events;
        from_ms = snapshot.head.end_ms;
        next_year = next_year.max(snapshot.head.year + 1);
        engine.restore(snapshot_state::engine_state(snapshot)?.0);
    }
    let until = inputs.zone.year_start_ms(last + 1);
    let computer = Computer { engine, events, inputs, options, first, last, keep };
    let ((computed, snapshots, out_of_range), read) = match source {
        Source::Ahead(ahead) => {
            let computed = computer.run(ahead.received, ahead.spent);
            let read = ahead.reader.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            (computed, read)
        }
        Source::Here(ledger) => {
            let (batches, received) = mpsc::sync_channel::<Step>(QUEUED);
            let (spent, refill) = mpsc::channel::<Vec<TaxEvent>>();
            let keep_from = keep.then(|| inputs.zone.year_start_ms(last));
            let digest = digest_after(inputs.zone, digest_before.as_deref())?;
            let reading = Reading {
                currency: &inputs.currency,
                zone: inputs.zone,
                from_ms,
                until,
                next_year,
                last,
                keep_from,
                digest,
            };
            std::thread::scope(|scope| {
                let computing = scope.spawn(move || computer.run(received, spent));
                let read = reading.run(ledger, &batches, &refill);
                drop(batches);
                let computed = computing.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                read.map(|read| (computed, read))
            })?
        }
    };
    if let Some(error) = out_of_range {
        return Err(LedgerError::OutOfRange(error.to_string()));
    }
    Ok((computed, snapshots, read))
}

/// The events digest a read goes on with: a snapshot's (hex), or an empty one.
fn digest_after(zone: Zone, snapshot_digest: Option<&str>) -> Result<EventsDigest, LedgerError> {
    match snapshot_digest {
        Some(hex) => EventsDigest::new(zone).resumed(hex),
        None => Ok(EventsDigest::new(zone)),
    }
}

/// The reading half of a pass: what to read and which year-ends to mark.
struct Reading<'a> {
    currency: &'a str,
    zone: Zone,
    from_ms: i64,
    until: i64,
    /// The first year-end to mark.
    next_year: i32,
    /// The last year-end to mark.
    last: i32,
    /// Events from this time on read from the tables come back encoded, to be kept.
    keep_from: Option<i64>,
    /// The events digest so far (a snapshot's, or empty): the events read are added to it
    /// here, beside the engine's work on the other thread, and each year-end carries it.
    digest: EventsDigest,
}

impl Reading<'_> {
    /// Reads the events into batches and sends them, each year-end once every event before it
    /// has gone, reusing the buffers the computing side hands back; stops when that side has
    /// gone (it stopped on an amount out of range, or a read-ahead was not taken). Returns the
    /// events read.
    fn run(
        self,
        ledger: &Ledger,
        batches: &mpsc::SyncSender<Step>,
        refill: &mpsc::Receiver<Vec<TaxEvent>>,
    ) -> Result<Read, LedgerError> {
        let Reading { currency, zone, from_ms, until, mut next_year, last, keep_from, mut digest } = self;
        let mut read = 0u64;
        let mut batch: Vec<TaxEvent> = Vec::with_capacity(BATCH);
        let mut used = 0usize;
        let send =
            |step: Step| if batches.send(step).is_ok() { ControlFlow::Continue(()) } else { ControlFlow::Break(()) };
        let (copied, capture) = ledger.for_each_pass_event(currency, from_ms, until, keep_from, |event| {
            while next_year <= last && event.time_ms >= zone.year_start_ms(next_year + 1) {
                if used > 0 {
                    let full = std::mem::replace(&mut batch, refill.try_recv().unwrap_or_default());
                    send(Step::Events(full, used))?;
                    used = 0;
                }
                send(Step::YearEnd(next_year, digest.finish_hex()))?;
                next_year += 1;
            }
            digest.add(event);
            match batch.get_mut(used) {
                Some(slot) => slot.clone_from(event),
                None => batch.push(event.clone()),
            }
            used += 1;
            read += 1;
            if used == BATCH {
                let full = std::mem::replace(&mut batch, refill.try_recv().unwrap_or_default());
                send(Step::Events(full, used))?;
                used = 0;
            }
            ControlFlow::Continue(())
        })?;
        if used > 0 {
            let _ = send(Step::Events(batch, used));
        }
        while next_year <= last {
            let _ = send(Step::YearEnd(next_year, digest.finish_hex()));
            next_year += 1;
        }
        Ok(Read { events: read, copied, capture })
    }
}

/// The events of a report read on a second connection while this one checks the values and
/// matches the transfers: the reading half of the pass, started before its inputs are known,
/// from the latest stored snapshot (a fifth of a report from a snapshot) or, when there is none
/// or the report is `--from-scratch`, from the first event (a quarter of a first report, whose
/// matching of transfers would otherwise leave the second core idle). The pass takes it only
/// when it starts where the read does ([`compute_years_with`]); a report that starts elsewhere
/// drops it, having lost only the read.
pub struct ReadAhead {
    /// The snapshot the read starts after (`None`: from the first event).
    snapshot_id: Option<i64>,
    /// How many times the mark had been cleared when the read began.
    cleared: i64,
    currency: String,
    from_ms: i64,
    until: i64,
    next_year: i32,
    last: i32,
    received: mpsc::Receiver<Step>,
    spent: mpsc::Sender<Vec<TaxEvent>>,
    reader: std::thread::JoinHandle<Result<Read, LedgerError>>,
}

impl ReadAhead {
    /// Drops the snapshots that no longer hold ([`Ledger::invalidate_snapshots`]), then starts
    /// reading the events of `years` (the first segment's, up to a closed year in the range,
    /// under [`Start::Snapshot`]) after the latest snapshot stored for `options` before them,
    /// or from the first event when there is none or `start` is [`Start::Scratch`]. Returns
    /// how many snapshots were dropped, and the read.
    ///
    /// The invalidation comes first, before anything is read: it clears the mark of what was
    /// written since the last report, so a write it has not seen must not be missing from the
    /// events read either. Should the mark be cleared again before the pass takes the read
    /// (another process wrote, and this report's own invalidation or another report's cleared
    /// it), the pass does not use it ([`compute_years_with`]).
    pub fn start(
        ledger: &mut Ledger,
        options: &Options,
        years: RangeInclusive<i32>,
        start: Start,
    ) -> Result<(usize, ReadAhead), LedgerError> {
        let invalidated = ledger.invalidate_snapshots()?;
        let (dropped, cleared) = (invalidated.dropped, invalidated.cleared);
        let (first, mut last) = (*years.start(), *years.end());
        let options = Options { year: Some(first), ..*options };
        let zone = Zone::of_ledger(ledger)?;
        let head = match start {
            Start::Snapshot => {
                // The latest snapshot the pass will keep (an open one ending after the earliest
                // time written since the invalidation above, by another process, is dropped
                // there).
                let low = ledger.input_changes_low_ms()?;
                let heads = ledger.snapshot_heads(US, &snapshot_options(&options), zone.year_start_ms(first))?;
                last = closed_years(ledger, &options)?.into_iter().find(|c| (first..last).contains(c)).unwrap_or(last);
                heads.into_iter().find(|h| h.closed || low.is_none_or(|low| h.end_ms <= low))
            }
            // From the first event, and over closed years (the pass is one segment).
            Start::Scratch => None,
        };
        let (snapshot_id, from_ms, next_year) = match &head {
            Some(head) => (Some(head.id), head.end_ms, (first - 1).max(head.year + 1)),
            None => (None, i64::MIN, first - 1),
        };
        let digest = digest_after(zone, head.as_ref().map(|h| h.events_digest.as_str()))?;
        let currency = ledger.reporting_currency()?;
        let reading_ledger = ledger.reader()?;
        let (batches, received) = mpsc::sync_channel::<Step>(QUEUED_AHEAD);
        let (spent, refill) = mpsc::channel::<Vec<TaxEvent>>();
        let until = zone.year_start_ms(last + 1);
        let reading_currency = currency.clone();
        let reader = std::thread::spawn(move || {
            let keep_from = Some(zone.year_start_ms(last));
            let reading =
                Reading { currency: &reading_currency, zone, from_ms, until, next_year, last, keep_from, digest };
            reading.run(&reading_ledger, &batches, &refill)
        });
        let ahead =
            ReadAhead { snapshot_id, cleared, currency, from_ms, until, next_year, last, received, spent, reader };
        Ok((dropped, ahead))
    }

    /// Whether this read is the one a pass over `before_first + 1..=last` from `from` makes
    /// (the same start, currency, bounds and year-ends).
    fn fits(&self, inputs: &Inputs, from: Option<&Snapshot>, before_first: i32, last: i32) -> bool {
        let (snapshot_id, from_ms, next_year) = match from {
            Some(snapshot) => (Some(snapshot.head.id), snapshot.head.end_ms, before_first.max(snapshot.head.year + 1)),
            None => (None, i64::MIN, before_first),
        };
        self.snapshot_id == snapshot_id
            && self.from_ms == from_ms
            && inputs.currency == self.currency
            && inputs.zone.year_start_ms(last + 1) == self.until
            && next_year == self.next_year
            && last == self.last
    }

    /// Stops the read (the pass starts elsewhere) and waits for its thread to close the
    /// second connection.
    pub fn stop(self) {
        drop(self.received);
        let _ = self.reader.join();
    }
}

/// Events handed from the reading thread to the computing one at a time.
const BATCH: usize = 512;
/// Batches read ahead of the engine at most (memory stays bounded).
const QUEUED: usize = 16;
/// Batches a [`ReadAhead`] may hold before the pass takes them: about as many events as are
/// read while a report checks values and matches transfers (65,536 events, some 25 MB), so
/// the read does not wait for the pass to start.
const QUEUED_AHEAD: usize = 128;

/// What the reading thread sends the computing one, in time order.
enum Step {
    /// The first `n` events of the buffer (the rest are spare, kept for their capacity).
    Events(Vec<TaxEvent>, usize),
    /// The end of a year: every event before it has been sent; the events digest up to it
    /// (hex).
    YearEnd(i32, String),
}

/// The computing side of [`pass`]: the engine, and what to keep.
struct Computer<'a> {
    engine: Engine,
    /// Events counted from the first (a snapshot's count included).
    events: u64,
    inputs: &'a Inputs,
    options: Options,
    first: i32,
    last: i32,
    keep: bool,
}

impl Computer<'_> {
    /// Runs the events through the engine, closes each year as its end
    /// arrives, and hands the spent buffers back for refilling.
    fn run(
        mut self,
        received: mpsc::Receiver<Step>,
        spent: mpsc::Sender<Vec<TaxEvent>>,
    ) -> (Vec<Computed>, Vec<Snapshot>, Option<OutOfRange>) {
        let mut computed = Vec::with_capacity(usize::try_from(self.last - self.first + 1).unwrap_or(0));
        let mut snapshots = Vec::new();
        for step in received {
            match step {
                Step::Events(batch, n) => {
                    for event in batch.iter().take(n) {
                        if let Err(error) = self.engine.try_process(event) {
                            return (computed, snapshots, Some(error));
                        }
                        self.events += 1;
                    }
                    // The reader may have finished: a buffer it will not take again is dropped.
                    let _ = spent.send(batch);
                }
                Step::YearEnd(year, events_digest) => {
                    if year >= self.first {
                        computed.push(Computed {
                            computation: self.engine.close_year(year),
                            inputs_hash: self.inputs.inputs_hash(&events_digest),
                            events: self.events,
                            elections: self.inputs.elections.clone(),
                        });
                    }
                    // The two latest year-ends of the range are the ones a later report starts
                    // from (the next year's, and a re-run of the last year's); older ones would
                    // cost a write each.
                    if self.keep && year >= self.last - 1 {
                        let end_ms = self.inputs.zone.year_start_ms(year + 1);
                        let state = self.engine.state();
                        snapshots.push(snapshot_of(
                            state,
                            self.inputs,
                            &self.options,
                            year,
                            end_ms,
                            events_digest,
                            self.events,
                        ));
                    }
                }
            }
        }
        (computed, snapshots, None)
    }
}

fn snapshot_of(
    state: EngineState,
    inputs: &Inputs,
    options: &Options,
    year: i32,
    end_ms: i64,
    events_digest: String,
    events: u64,
) -> Snapshot {
    let head = SnapshotHead {
        id: 0,
        jurisdiction: US.to_owned(),
        options: snapshot_options(options),
        year,
        end_ms,
        key_hash: inputs.snapshot_key(options, end_ms),
        events_digest,
        events,
        state: String::new(),
        closed: false,
    };
    snapshot_state::snapshot(state, head, serde_json::Map::new())
}
