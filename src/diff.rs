//! What changed between two computations of a year: a run's manifest (saved with `diff --save`
//! when the files were sent) against today's computation.
//!
//! A [`RunManifest`] keeps, besides the totals per asset and every disposal row, a fingerprint
//! of each input the computation read: each event (time, kind, legs) and its legs' values, by
//! `account/source id`, and each own-transfer link. Comparing two manifests then names the
//! disposals added, removed or changed and the input changes that explain them: events added,
//! removed or changed, values (prices) changed, links made or undone. Keys use account labels
//! and the sources' own ids, never row ids, so a ledger rebuilt from the same history compares
//! equal.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ledger::{EventFilter, Ledger, LedgerError};
use crate::tax::report::Report;

/// The manifest layout this version writes and reads.
pub const FORMAT: u32 = 1;

/// One asset's totals, as decimal text.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AssetTotals {
    /// Proceeds.
    pub proceeds: String,
    /// Cost basis.
    pub cost_basis: String,
    /// Gain (short and long term).
    pub gain: String,
    /// Income.
    pub income: String,
}

/// A run's manifest: its figures and a fingerprint of every input.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RunManifest {
    /// [`FORMAT`].
    pub format: u32,
    /// The tax year.
    pub year: i32,
    /// The reporting currency.
    pub currency: String,
    /// The computation's options.
    pub options: String,
    /// The hash of every input read.
    pub inputs_hash: String,
    /// Totals per asset.
    pub assets: BTreeMap<String, AssetTotals>,
    /// Disposal rows by key (`account/source id of the disposing event @ acquired ms`, numbered
    /// when one event used several lots of one time) → `amount asset: proceeds / basis`.
    pub disposals: BTreeMap<String, String>,
    /// Events up to the year's end by `account/source id` → `time kind legs`.
    pub events: BTreeMap<String, String>,
    /// Leg values by `account/source id` → the values, in leg order.
    pub values: BTreeMap<String, String>,
    /// Own transfers: `withdrawal key -> deposit key`.
    pub transfers: BTreeSet<String>,
}

impl RunManifest {
    /// The manifest of `report`, the ledger's inputs read up to the year's end.
    pub fn build(ledger: &Ledger, report: &Report) -> Result<RunManifest, LedgerError> {
        // The year's end in the ledger's time zone (the report's).
        let end = chrono::DateTime::from_timestamp_millis(report.zone.year_start_ms(report.year.saturating_add(1)));
        let mut keys: BTreeMap<i64, String> = BTreeMap::new();
        let mut events = BTreeMap::new();
        // One event in memory at a time: the manifest keeps its fingerprint only.
        ledger.for_each_event(&EventFilter { until: end, ..EventFilter::default() }, |row| {
            let key = format!("{}/{}", row.account, row.external_id);
            let legs: Vec<String> =
                row.legs.iter().map(|l| format!("{} {} {}", l.role.as_str(), l.amount.normalize(), l.asset)).collect();
            events.insert(key.clone(), format!("{} {} {}", row.time.to_rfc3339(), row.kind.as_str(), legs.join(", ")));
            keys.insert(row.id, key);
            Ok::<(), LedgerError>(())
        })?;
        let mut values = BTreeMap::new();
        let until_ms = end.map(|t| t.timestamp_millis());
        ledger.for_each_tax_event(&report.currency, until_ms, |event| {
            if let Some(key) = keys.get(&event.id) {
                let text: Vec<String> = event
                    .legs
                    .iter()
                    .map(|l| l.value.map(|v| v.normalize().to_string()).unwrap_or_else(|| "none".into()))
                    .collect();
                values.insert(key.clone(), text.join(", "));
            }
        })?;
        let mut transfers = BTreeSet::new();
        for link in ledger.transfer_links()? {
            if let (Some(w), Some(d)) = (keys.get(&link.withdrawal), keys.get(&link.deposit)) {
                transfers.insert(format!("{w} -> {d}"));
            }
        }
        let mut disposals = BTreeMap::new();
        for line in &report.lines {
            let event = keys.get(&line.event_id).cloned().unwrap_or_else(|| format!("event {}", line.event_id));
            let base = format!("{event} @ {}", line.acquired_ms);
            let mut key = base.clone();
            let mut n = 1;
            while disposals.contains_key(&key) {
                n += 1;
                key = format!("{base} #{n}");
            }
            disposals.insert(
                key,
                format!("{} {}: {} / {}", line.amount.normalize(), line.asset, line.proceeds, line.cost_basis),
            );
        }
        let assets = report
            .assets
            .iter()
            .map(|(asset, f)| {
                let totals = AssetTotals {
                    proceeds: f.proceeds.to_string(),
                    cost_basis: f.cost_basis.to_string(),
                    gain: (f.short_term_gain + f.long_term_gain).to_string(),
                    income: f.income.to_string(),
                };
                (asset.clone(), totals)
            })
            .collect();
        Ok(RunManifest {
            format: FORMAT,
            year: report.year,
            currency: report.currency.clone(),
            options: report.options.to_string(),
            inputs_hash: report.inputs_hash.clone(),
            assets,
            disposals,
            events,
            values,
            transfers,
        })
    }
}

/// Keys of a map added, removed and changed from `before` to `after`.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Changes {
    /// In `after` only: key → value.
    pub added: BTreeMap<String, String>,
    /// In `before` only: key → value.
    pub removed: BTreeMap<String, String>,
    /// In both, different: key → (before, after).
    pub changed: BTreeMap<String, (String, String)>,
}

impl Changes {
    fn of(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Changes {
        let mut changes = Changes::default();
        for (key, value) in after {
            match before.get(key) {
                None => {
                    changes.added.insert(key.clone(), value.clone());
                }
                Some(old) if old != value => {
                    changes.changed.insert(key.clone(), (old.clone(), value.clone()));
                }
                Some(_) => {}
            }
        }
        for (key, value) in before {
            if !after.contains_key(key) {
                changes.removed.insert(key.clone(), value.clone());
            }
        }
        changes
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// What changed between two runs of a year.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RunDiff {
    /// The year.
    pub year: i32,
    /// Whether the options differ (then the figures differ for that reason too).
    pub options_changed: Option<(String, String)>,
    /// Totals per asset that changed: asset → (before, after).
    pub assets: BTreeMap<String, (AssetTotals, AssetTotals)>,
    /// Disposal rows.
    pub disposals: Changes,
    /// Events (the inputs).
    pub events: Changes,
    /// Leg values (prices) of events present in both runs.
    pub values: Changes,
    /// Own-transfer links made or undone.
    pub transfers: Changes,
}

impl RunDiff {
    /// Compares `before` (a saved manifest) with `after` (today's).
    pub fn between(before: &RunManifest, after: &RunManifest) -> RunDiff {
        let mut assets = BTreeMap::new();
        let names: BTreeSet<&String> = before.assets.keys().chain(after.assets.keys()).collect();
        for name in names {
            let old = before.assets.get(name).cloned().unwrap_or_else(zero);
            let new = after.assets.get(name).cloned().unwrap_or_else(zero);
            if old != new {
                assets.insert(name.clone(), (old, new));
            }
        }
        let mut values = Changes::of(&before.values, &after.values);
        values.added.clear();
        values.removed.clear();
        let set = |s: &BTreeSet<String>| s.iter().map(|k| (k.clone(), String::new())).collect::<BTreeMap<_, _>>();
        RunDiff {
            year: after.year,
            options_changed: (before.options != after.options).then(|| (before.options.clone(), after.options.clone())),
            assets,
            disposals: Changes::of(&before.disposals, &after.disposals),
            events: Changes::of(&before.events, &after.events),
            values,
            transfers: Changes::of(&set(&before.transfers), &set(&after.transfers)),
        }
    }

    /// Whether the two runs are the same.
    pub fn is_empty(&self) -> bool {
        self.options_changed.is_none()
            && self.assets.is_empty()
            && self.disposals.is_empty()
            && self.events.is_empty()
            && self.values.is_empty()
            && self.transfers.is_empty()
    }
}

fn zero() -> AssetTotals {
    let z = Decimal::ZERO.to_string();
    AssetTotals { proceeds: z.clone(), cost_basis: z.clone(), gain: z.clone(), income: z }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(events: &[(&str, &str)]) -> RunManifest {
        RunManifest {
            format: FORMAT,
            year: 2025,
            currency: "USD".into(),
            options: "fifo".into(),
            inputs_hash: String::new(),
            assets: BTreeMap::new(),
            disposals: BTreeMap::new(),
            events: events.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            values: BTreeMap::new(),
            transfers: BTreeSet::new(),
        }
    }

    #[test]
    fn added_removed_and_changed_events_are_named() {
        let before = manifest(&[("a/1", "x"), ("a/2", "y")]);
        let after = manifest(&[("a/1", "x2"), ("a/3", "z")]);
        let diff = RunDiff::between(&before, &after);
        assert_eq!(diff.events.added.keys().collect::<Vec<_>>(), ["a/3"]);
        assert_eq!(diff.events.removed.keys().collect::<Vec<_>>(), ["a/2"]);
        assert_eq!(diff.events.changed["a/1"], ("x".to_string(), "x2".to_string()));
        assert!(RunDiff::between(&before, &before).is_empty());
    }
}
