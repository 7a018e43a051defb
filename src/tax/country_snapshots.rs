//! Year-end snapshots of the countries computed by the lot engine (Germany, Australia): what
//! they are stored under, the key they must carry to be used, and the latest one that fits.
//!
//! They are the US engine's snapshots ([`crate::tax::years`]) under the country's code: the
//! lots and balances, the engine's counters, and what the country keeps beside the engine (its
//! shortfalls over all of history; Australia's gross figures of each financial year). The
//! same triggers drop them when a write touches history before their end
//! ([`Ledger::invalidate_snapshots`]); the key covers the rest: the country's rules version,
//! the cointally version, the currency, the options, the settings the state depends on, the
//! accounts' labels and the own transfers that touch an event before the end.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::country_years::{ReadFrom, YearRead, tax_year_digest};
use super::engine::{Engine, TransferPlan};
use super::inputs::{hash_plans_before, timed_transfer_plans};
use super::jurisdiction::Rules;
use super::snapshot_state;
use super::years::{PassInfo, Start};
use crate::ledger::Ledger;
use crate::ledger::LedgerError;
use crate::ledger::snapshots::{Snapshot, SnapshotHead};
use crate::transfers::Matching;

/// What a country's snapshots are stored under and must carry.
pub struct CountryKey {
    /// The jurisdiction code they are stored under (`de`, `au`).
    code: &'static str,
    /// The options text they are stored under.
    options: String,
    /// Everything in the key but the transfers.
    head: Sha256,
    /// The own transfers, each with the earliest time of its two events.
    plans: Vec<(TransferPlan, i64)>,
    /// SHA-256 of the transfers as every year's inputs hash names them.
    transfers_hash: [u8; 32],
}

impl CountryKey {
    /// The key of `code`'s snapshots under `options`, computed by rules of `version`, in
    /// `currency`, with `settings` (text naming what else the state depends on), the accounts'
    /// `labels` and the transfers of `matching`.
    pub fn new(
        code: &'static str,
        version: u32,
        options: String,
        (currency, settings): (&str, &str),
        labels: &BTreeMap<i64, String>,
        matching: &Matching,
    ) -> CountryKey {
        let mut head = Sha256::new();
        head.update(format!("{code} rules {version} cointally {}\n", env!("CARGO_PKG_VERSION")));
        head.update(format!("{currency}\n{options}\n{settings}\n"));
        for (id, label) in labels {
            head.update(format!("account {id} {label:?}\n"));
        }
        let mut transfers = Sha256::new();
        let plans = timed_transfer_plans(matching, &mut transfers);
        CountryKey { code, options, head, plans, transfers_hash: transfers.finalize().into() }
    }

    /// The transfers' part of a year's inputs hash (the text of every link, hashed).
    pub fn transfers_hash(&self) -> &[u8; 32] {
        &self.transfers_hash
    }

    /// The transfers as the engine takes them.
    pub fn transfer_plans(&self) -> Vec<TransferPlan> {
        self.plans.iter().map(|(plan, _)| plan.clone()).collect()
    }

    /// The key a snapshot ending at `end_ms` must carry.
    pub fn key(&self, end_ms: i64) -> String {
        let mut h = self.head.clone();
        hash_plans_before(&mut h, &self.plans, end_ms);
        crate::digest::hex(&h.finalize())
    }

    /// The latest stored snapshot ending by `until_ms` whose key fits; the ones that do not
    /// are dropped on the way (their number is added to `dropped`).
    pub fn latest_fitting(
        &self,
        ledger: &mut Ledger,
        until_ms: i64,
        dropped: &mut usize,
    ) -> Result<Option<Snapshot>, LedgerError> {
        for head in ledger.snapshot_heads(self.code, &self.options, until_ms)? {
            if head.key_hash == self.key(head.end_ms) {
                return ledger.load_snapshot(head).map(Some);
            }
            ledger.delete_snapshot(head.id)?;
            *dropped += 1;
        }
        Ok(None)
    }

    /// The snapshot of `engine` at the end of `year` (`end_ms`), after `events` events whose
    /// digest is `events_digest`, with the country's `extra` state beside the engine's (its
    /// shortfalls are added here).
    pub fn snapshot(
        &self,
        engine: &Engine,
        (year, end_ms): (i32, i64),
        (events, events_digest): (u64, String),
        mut extra: Map<String, Value>,
    ) -> Snapshot {
        let shortfalls: Map<String, Value> =
            engine.shortfalls().iter().map(|(asset, units)| (asset.clone(), json!(units.to_string()))).collect();
        extra.insert("shortfalls".into(), Value::Object(shortfalls));
        let head = self.head((year, end_ms), (events, events_digest), String::new());
        snapshot_state::snapshot(engine.state(), head, extra)
    }

    /// The head of a snapshot of the end of `year`, stored as ending at `end_ms` (what it
    /// depends on ends there), after `events` events whose digest is `events_digest`, with the
    /// country's `state`.
    pub fn head(
        &self,
        (year, end_ms): (i32, i64),
        (events, events_digest): (u64, String),
        state: String,
    ) -> SnapshotHead {
        SnapshotHead {
            id: 0,
            jurisdiction: self.code.to_owned(),
            options: self.options.clone(),
            year,
            end_ms,
            key_hash: self.key(end_ms),
            events_digest,
            events,
            state,
            closed: false,
        }
    }
}

/// Puts a country's snapshot back into `engine` (made with the same options and transfers):
/// its lots, balances, counters and shortfalls. Returns the snapshot's whole state object, for
/// what the country kept beside the engine.
pub fn restore(engine: &mut Engine, snapshot: Snapshot) -> Result<Value, LedgerError> {
    let head = snapshot.head.clone();
    let (state, extra) = snapshot_state::engine_state(snapshot)?;
    engine.restore(state);
    let shortfalls = decimals(&extra["shortfalls"])
        .ok_or_else(|| snapshot_state::damaged(&head, format!("shortfalls {:?}", extra["shortfalls"])))?;
    engine.restore_shortfalls(shortfalls);
    Ok(extra)
}

/// A JSON object of decimal texts, as [`CountryKey::snapshot`] writes shortfalls.
fn decimals(value: &Value) -> Option<BTreeMap<String, Decimal>> {
    value.as_object()?.iter().map(|(k, v)| Some((k.clone(), v.as_str()?.parse().ok()?))).collect()
}

/// The snapshot side of a country's pass over `first..=last`: the invalidation it starts with,
/// the snapshot it starts from, the years it reads, and storing the snapshots it made.
pub struct SnapshotPass {
    /// The mark's count when the pass began ([`Ledger::invalidate_snapshots`]).
    cleared: i64,
    /// What the pass did.
    info: PassInfo,
    first: i32,
    last: i32,
    /// Events behind the snapshot it starts from.
    behind: u64,
}

impl SnapshotPass {
    /// Drops the snapshots a write made unfit, then takes the latest of `key` stored as ending
    /// by `until_ms` that fits (none under [`Start::Scratch`]).
    pub fn begin(
        ledger: &mut Ledger,
        key: &CountryKey,
        years: &RangeInclusive<i32>,
        until_ms: i64,
        start: Start,
    ) -> Result<(SnapshotPass, Option<Snapshot>), LedgerError> {
        let invalidated = ledger.invalidate_snapshots()?;
        let mut info = PassInfo { dropped: invalidated.dropped, ..PassInfo::default() };
        let from = match start {
            Start::Snapshot => key.latest_fitting(ledger, until_ms, &mut info.dropped)?,
            Start::Scratch => None,
        };
        info.started_after = from.as_ref().map(|s| s.head.year);
        let pass = SnapshotPass {
            cleared: invalidated.cleared,
            info,
            first: *years.start(),
            last: *years.end(),
            behind: from.as_ref().map_or(0, |s| s.head.events),
        };
        Ok((pass, from))
    }

    /// Where the pass reads from: the first event, or the end of `snapshot` (`from_ms`) with
    /// its events' digest continued by the tax years of `rules`.
    pub fn read_from(
        snapshot: Option<(&SnapshotHead, i64)>,
        rules: impl Rules + Send + 'static,
    ) -> Result<ReadFrom, LedgerError> {
        Ok(match snapshot {
            Some((head, from_ms)) => {
                let digest = tax_year_digest(rules).resumed(&head.events_digest)?;
                ReadFrom { from_ms, events: head.events, digest }
            }
            None => ReadFrom::first(rules),
        })
    }

    /// The years the pass reads: from the year after the snapshot it starts from, or from the
    /// year before the first (read to its end only to store a snapshot there).
    pub fn years(&self) -> RangeInclusive<i32> {
        let lowest = self.info.started_after.map_or(self.first - 1, |after| (self.first - 1).max(after + 1));
        lowest..=self.last
    }

    /// `year` is one asked for, not only read for its snapshot.
    pub fn asked(&self, year: i32) -> bool {
        year >= self.first
    }

    /// A snapshot is kept at the end of `year`: the two latest of the pass are the ones a later
    /// report starts from (the next year's, and a re-run of the last year's); older ones would
    /// cost a write each.
    pub fn keeps(&self, year: i32) -> bool {
        year >= self.last - 1 && self.years().contains(&year)
    }

    /// Notes how many events were read up to a year's end (`events` counted from the first).
    pub fn read_to(&mut self, events: u64) {
        self.info.events_read = events.saturating_sub(self.behind);
    }

    /// Stores the snapshots the pass made (none if the mark was cleared meanwhile: see
    /// [`Ledger::store_snapshots`]) and says what the pass did.
    pub fn store(mut self, ledger: &mut Ledger, snapshots: &[Snapshot]) -> Result<PassInfo, LedgerError> {
        self.info.stored = ledger.store_snapshots(snapshots, self.cleared)?.len();
        Ok(self.info)
    }
}

/// A year of a pass under `rules`, its inputs hash begun by `hasher`.
pub fn year_read(rules: &dyn Rules, year: i32, hasher: Sha256) -> YearRead {
    YearRead { year, end_ms: rules.tax_year(year).end_ms, until_ms: rules.events_until_ms(year), hasher }
}
