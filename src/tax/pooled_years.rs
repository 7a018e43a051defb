//! The pooling countries' pass over years (UK, Canada): every event sorted into each token's
//! operations, each year matched over the history read, and year-end snapshots of each
//! token's state so that a later year starts where the last one ended.
//!
//! A pooling country reads 30 days past a year's end (the UK's 30-day rule, Canada's
//! superficial losses), and its pools at the end depend on them: a disposal before the end
//! matched with an acquisition after it takes less from the pool, a loss denied adds to the
//! pool's cost. So a snapshot keeps each token's state at the end together with what the
//! matching already took from the days after it, and it is stored as ending where what it
//! depends on ends — the year's `events_until_ms`, 30 days past the end: a write before that
//! drops it (the same triggers as the US snapshots'). The next pass reads from the year's end
//! ([`Rules::tax_year`]), which the snapshot's state names.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::country_snapshots::{CountryKey, SnapshotPass, year_read};
use super::country_years::{YearRead, read_years};
use super::engine::{TransferPlan, within_bounds};
use super::jurisdiction::Rules;
use super::snapshot_state::damaged;
use super::uk::events::{Sorted, Sorter};
use super::uk::matching::Op;
use super::uk::pool::Pool;
use super::years::{PassInfo, Start};
use crate::ledger::snapshots::Snapshot;
use crate::ledger::{Ledger, LedgerError};

/// Where one token's matching starts when it does not start at its first operation: its
/// state at the end of a tax year, kept in a year-end snapshot. What the country's rules carry
/// over the end besides the pool is a list of (day, units): for the UK the parts of
/// acquisitions after the end that the 30-day rule gave to disposals before it, in the order
/// taken ([`crate::tax::uk::matching`]); for Canada the acquisitions of the 30 days before the
/// end, by which a loss after it may be superficial ([`crate::tax::ca::acb`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenStart {
    /// The last day before the start.
    pub day: i64,
    /// The pool (holding) after every day up to `day`.
    pub pool: Pool,
    /// A cost in the pool is unknown.
    pub missing: bool,
    /// Units disposed of or removed beyond what was held, up to `day`.
    pub short: Decimal,
    /// What the rules carry over the end: (day, units).
    pub carried: Vec<(i64, Decimal)>,
}

/// Every token's state at a year's end (tokens without units, cost, shortfall or anything
/// carried are left out).
pub type TokenStates = BTreeMap<String, TokenStart>;

/// The token states as a snapshot keeps them.
fn states_json(states: &TokenStates) -> Value {
    let tokens: Map<String, Value> = states
        .iter()
        .map(|(asset, t)| {
            let carried: Vec<Value> = t.carried.iter().map(|(day, units)| json!([day, units.to_string()])).collect();
            let state = json!({
                "day": t.day,
                "units": t.pool.units.to_string(),
                "cost": t.pool.cost.to_string(),
                "missing": t.missing,
                "short": t.short.to_string(),
                "carried": carried,
            });
            (asset.clone(), state)
        })
        .collect();
    Value::Object(tokens)
}

/// [`states_json`] read back (`None`: it does not read).
fn states_of_json(value: &Value) -> Option<TokenStates> {
    let figure = |v: &Value| v.as_str()?.parse::<Decimal>().ok();
    value
        .as_object()?
        .iter()
        .map(|(asset, t)| {
            let carried = t["carried"]
                .as_array()?
                .iter()
                .map(|entry| Some((entry.get(0)?.as_i64()?, figure(entry.get(1)?)?)))
                .collect::<Option<Vec<_>>>()?;
            let state = TokenStart {
                day: t["day"].as_i64()?,
                pool: Pool { units: figure(&t["units"])?, cost: figure(&t["cost"])? },
                missing: t["missing"].as_bool()?,
                short: figure(&t["short"])?,
                carried,
            };
            Some((asset.clone(), state))
        })
        .collect()
}

/// Runs `each` over every token with operations read or a state the pass started from, in
/// name order, with its operations and its start; `each` matches the token and returns its
/// states at the `cuts` cuts, gathered here per cut (tokens with nothing to take up left out).
pub fn each_token(
    sorted: &Sorted,
    start: Option<&TokenStates>,
    cuts: usize,
    mut each: impl FnMut(&String, &[Op], Option<&TokenStart>) -> Vec<TokenStart>,
) -> Vec<TokenStates> {
    let tokens: BTreeSet<&String> = sorted.ops.keys().chain(start.into_iter().flat_map(|s| s.keys())).collect();
    let mut states = vec![TokenStates::new(); cuts];
    for asset in tokens {
        let ops = sorted.ops.get(asset).map_or(&[][..], Vec::as_slice);
        for (states, state) in states.iter_mut().zip(each(asset, ops, start.and_then(|s| s.get(asset)))) {
            if state != (TokenStart { day: state.day, ..TokenStart::default() }) {
                states.insert(asset.clone(), state);
            }
        }
    }
    states
}

/// What the pass read for a year: the sorted events, the hash of the inputs and their number.
pub struct ReadEvents<'a> {
    /// The events sorted into each token's operations (from the snapshot's end, when the pass
    /// started from one), up to the year's `events_until_ms`.
    pub sorted: &'a Sorted,
    /// SHA-256 (hex) of the country code, the currency, the transfers and the events read.
    pub inputs_hash: String,
    /// Events read (from the first).
    pub events: u64,
}

/// A year handed to the country: its number, what was read, the token states the pass
/// started from, and the year ends (UTC ms) at which to return the token states.
pub struct YearToFinish<'a> {
    /// The tax year.
    pub year: i32,
    /// What was read for it.
    pub read: ReadEvents<'a>,
    /// The states of the snapshot the pass started from.
    pub start: Option<&'a TokenStates>,
    /// The ends of the years to keep snapshots of (in order; none but for the last year of
    /// the pass, whose matching reads everything they depend on).
    pub cuts_ms: Vec<i64>,
}

/// Computes every year of `years` of a pooling country in one pass, from the latest snapshot
/// of `key` that fits (unless `start` says from the first event), and stores a snapshot at
/// the ends of the last two years. `finish` computes a year and the token states at the ends
/// it is given.
pub fn pooled_years<C: Send>(
    ledger: &mut Ledger,
    key: &CountryKey,
    rules: impl Rules + Copy + Send + 'static,
    years: RangeInclusive<i32>,
    start: Start,
    sorter: impl FnOnce(&[TransferPlan]) -> Sorter,
    mut finish: impl FnMut(YearToFinish<'_>) -> (C, Vec<TokenStates>) + Send,
) -> Result<(Vec<C>, PassInfo), LedgerError> {
    let currency = ledger.reporting_currency()?;
    let last = *years.end();
    let (mut pass, from) = SnapshotPass::begin(ledger, key, &years, rules.events_until_ms(*years.start() - 1), start)?;
    let (starts, from_ms) = match &from {
        Some(snapshot) => {
            let (starts, from_ms) = states_of(snapshot)?;
            (Some(starts), from_ms)
        }
        None => (None, i64::MIN),
    };
    let read_from = SnapshotPass::read_from(from.as_ref().map(|s| (&s.head, from_ms)), rules)?;
    let mut hasher = Sha256::new();
    hasher.update(format!("{}\n", rules.code()).as_bytes());
    hasher.update(currency.as_bytes());
    hasher.update(key.transfers_hash());
    let reads: Vec<YearRead> = pass.years().map(|year| year_read(&rules, year, hasher.clone())).collect();
    let mut sorter = sorter(&key.transfer_plans());
    let mut out = Vec::with_capacity(reads.len());
    let mut snapshots = Vec::new();
    // The years whose ends are kept: their states all come out of the last year's matching,
    // which reads everything they depend on; each year's end only notes its events and digest.
    let kept: Vec<i32> = pass.years().filter(|y| pass.keeps(*y)).collect();
    let mut at_ends = Vec::with_capacity(kept.len());
    read_years(
        ledger,
        &currency,
        reads,
        read_from,
        &mut sorter,
        |sorter, event| {
            within_bounds(event)?;
            sorter.process(event);
            Ok(())
        },
        |sorter, end| {
            pass.read_to(end.events);
            if kept.contains(&end.year) {
                at_ends.push((end.year, end.at_end.clone()));
            }
            if !pass.asked(end.year) {
                return;
            }
            let is_last = end.year == last;
            let cuts_ms = if is_last { kept.iter().map(|y| rules.tax_year(*y).end_ms).collect() } else { Vec::new() };
            let year = YearToFinish {
                year: end.year,
                read: ReadEvents { sorted: sorter.sorted(), inputs_hash: end.inputs_hash, events: end.events },
                start: starts.as_ref(),
                cuts_ms,
            };
            let (computed, states) = finish(year);
            out.push(computed);
            if !is_last {
                return;
            }
            // One state per kept end, in order (the ends noted at earlier years' ends wait here).
            for ((year, at_end), states) in at_ends.drain(..).zip(states) {
                let state =
                    json!({ "from_ms": rules.tax_year(year).end_ms, "tokens": states_json(&states) }).to_string();
                let head = key.head((year, rules.events_until_ms(year)), at_end, state);
                snapshots.push(Snapshot { head, lots: Vec::new(), balances: Vec::new() });
            }
        },
    )?;
    let info = pass.store(ledger, &snapshots)?;
    Ok((out, info))
}

/// The token states of a pooling country's snapshot, and where its events resume.
fn states_of(snapshot: &Snapshot) -> Result<(TokenStates, i64), LedgerError> {
    let corrupt = || damaged(&snapshot.head, "its pools");
    let state: Value = serde_json::from_str(&snapshot.head.state).map_err(|_| corrupt())?;
    let from_ms = state["from_ms"].as_i64().ok_or_else(corrupt)?;
    Ok((states_of_json(&state["tokens"]).ok_or_else(corrupt)?, from_ms))
}
