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

use crate::ledger::{Disposal, Ledger, LedgerError};
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

/// A disposal row as a manifest keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRow {
    /// The disposing event (its key names the row).
    pub event_id: i64,
    /// What tells the event's rows apart: the acquisition's time (ms) of a lot, the matching
    /// rule of a UK row.
    pub part: String,
    /// The row's figures: `amount asset: proceeds / cost`.
    pub text: String,
}

/// A computation as its manifest keeps it, under any country's rules.
#[derive(Clone, Debug)]
pub struct Run<'a> {
    /// The tax year (as `--year` names it).
    pub year: i32,
    /// The reporting currency.
    pub currency: &'a str,
    /// The rules and options, as text (compared as such).
    pub options: String,
    /// The hash of every input read.
    pub inputs_hash: &'a str,
    /// The inputs are the events before this instant (UTC ms).
    pub until_ms: i64,
    /// Totals per asset.
    pub assets: BTreeMap<String, AssetTotals>,
    /// Disposal rows, in the computation's order.
    pub rows: Vec<RunRow>,
}

impl<'a> Run<'a> {
    /// A US report's run: its rows by lot, its totals per asset.
    pub fn of_report(report: &'a Report) -> Run<'a> {
        let rows = report
            .lines
            .iter()
            .map(|line| RunRow {
                event_id: line.event_id,
                part: line.acquired_ms.to_string(),
                text: lot_text(line.amount, &line.asset, line.proceeds, line.cost_basis),
            })
            .collect();
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
        Run {
            year: report.year,
            currency: &report.currency,
            options: report.options.to_string(),
            inputs_hash: &report.inputs_hash,
            // The year's end in the ledger's time zone (the report's).
            until_ms: report.zone.year_start_ms(report.year.saturating_add(1)),
            assets,
            rows,
        }
    }
}

/// A row's figures: `amount asset: proceeds / cost`.
fn lot_text(amount: Decimal, asset: &str, proceeds: Decimal, cost: Decimal) -> String {
    format!("{} {asset}: {proceeds} / {cost}", amount.normalize())
}

/// A lot's disposal (German and Australian rules) as a manifest row, told apart from the
/// event's other rows by the lot's acquisition time.
pub fn lot_row(d: &Disposal) -> RunRow {
    RunRow {
        event_id: d.event_id,
        part: d.acquired_ms.to_string(),
        text: lot_text(d.amount, &d.asset, d.proceeds, d.cost_basis),
    }
}

/// A lot's disposal as [`totals_of`] takes it.
pub fn lot_totals(d: &Disposal) -> (&str, Decimal, Decimal, Decimal) {
    (&d.asset, d.proceeds, d.cost_basis, d.gain())
}

/// Totals per asset of a country's rows — each `(asset, proceeds, cost, gain)` — and of its
/// income rows (`(asset, value)`), summed exactly.
pub fn totals_of<'r>(
    rows: impl IntoIterator<Item = (&'r str, Decimal, Decimal, Decimal)>,
    income: impl IntoIterator<Item = (&'r str, Decimal)>,
) -> BTreeMap<String, AssetTotals> {
    let mut sums: BTreeMap<&str, [Decimal; 4]> = BTreeMap::new();
    for (asset, proceeds, cost, gain) in rows {
        let s = sums.entry(asset).or_default();
        for (sum, add) in s.iter_mut().zip([proceeds, cost, gain]) {
            *sum = sum.saturating_add(add);
        }
    }
    for (asset, value) in income {
        let s = sums.entry(asset).or_default();
        s[3] = s[3].saturating_add(value);
    }
    sums.into_iter()
        .map(|(asset, [proceeds, cost, gain, income])| {
            let totals = AssetTotals {
                proceeds: proceeds.to_string(),
                cost_basis: cost.to_string(),
                gain: gain.to_string(),
                income: income.to_string(),
            };
            (asset.to_owned(), totals)
        })
        .collect()
}

impl RunManifest {
    /// The manifest of a US `report`, the ledger's inputs read up to the year's end.
    pub fn build(ledger: &Ledger, report: &Report) -> Result<RunManifest, LedgerError> {
        RunManifest::of_run(ledger, Run::of_report(report))
    }

    /// The manifest of `run`, the ledger's inputs read up to its `until_ms`.
    ///
    /// The events and their legs' values are read in one walk ([`Ledger::for_each_valued_event`],
    /// one event in memory at a time); only the events a disposal row or an own transfer names
    /// keep their key by id.
    pub fn of_run(ledger: &Ledger, run: Run<'_>) -> Result<RunManifest, LedgerError> {
        use std::fmt::Write as _;
        let links = ledger.transfer_links()?;
        let named: BTreeSet<i64> = run
            .rows
            .iter()
            .map(|row| row.event_id)
            .chain(links.iter().flat_map(|link| [link.withdrawal, link.deposit]))
            .collect();
        let mut keys: BTreeMap<i64, String> = BTreeMap::new();
        let mut events = BTreeMap::new();
        let mut values = BTreeMap::new();
        ledger.for_each_valued_event(run.currency, run.until_ms, |row, leg_values| {
            let key = format!("{}/{}", row.account, row.external_id);
            let mut fingerprint = format!("{} {} ", row.time.to_rfc3339(), row.kind.as_str());
            for (i, l) in row.legs.iter().enumerate() {
                let comma = if i == 0 { "" } else { ", " };
                let _ = write!(fingerprint, "{comma}{} {} {}", l.role.as_str(), l.amount.normalize(), l.asset);
            }
            // An event without legs has no values to compare (the tax read passes over it).
            if !row.legs.is_empty() {
                let mut text = String::new();
                for (i, v) in leg_values.iter().enumerate() {
                    let comma = if i == 0 { "" } else { ", " };
                    match v {
                        Some(v) => write!(text, "{comma}{}", v.normalize()),
                        None => write!(text, "{comma}none"),
                    }
                    .ok();
                }
                values.insert(key.clone(), text);
            }
            if named.contains(&row.id) {
                keys.insert(row.id, key.clone());
            }
            events.insert(key, fingerprint);
            std::ops::ControlFlow::Continue(())
        })?;
        let mut transfers = BTreeSet::new();
        for link in links {
            if let (Some(w), Some(d)) = (keys.get(&link.withdrawal), keys.get(&link.deposit)) {
                transfers.insert(format!("{w} -> {d}"));
            }
        }
        let mut disposals = BTreeMap::new();
        for row in run.rows {
            let event = keys.get(&row.event_id).cloned().unwrap_or_else(|| format!("event {}", row.event_id));
            let base = format!("{event} @ {}", row.part);
            let mut key = base.clone();
            let mut n = 1;
            while disposals.contains_key(&key) {
                n += 1;
                key = format!("{base} #{n}");
            }
            disposals.insert(key, row.text);
        }
        Ok(RunManifest {
            format: FORMAT,
            year: run.year,
            currency: run.currency.to_owned(),
            options: run.options,
            inputs_hash: run.inputs_hash.to_owned(),
            assets: run.assets,
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
    /// Compares the manifest `before` reads (as `diff --save` wrote it, or a closed year's)
    /// with `after`, holding only `after`: each of the saved maps is compared entry by entry as
    /// it is parsed (its keys come sorted, as today's do), so a million events' manifest is
    /// never in memory twice.
    pub fn against_saved(before: impl std::io::Read, after: &RunManifest) -> Result<RunDiff, SavedError> {
        let mut parser = serde_json::Deserializer::from_reader(before);
        let diff = serde::de::DeserializeSeed::deserialize(SavedSeed(after), &mut parser)?;
        parser.end()?;
        Ok(diff)
    }

    /// The diff from the compared parts (`values` added and removed are the events', dropped).
    fn of_parts(
        before_options: &str,
        before_assets: &BTreeMap<String, AssetTotals>,
        after: &RunManifest,
        disposals: Changes,
        events: Changes,
        mut values: Changes,
        transfers: Changes,
    ) -> RunDiff {
        let mut assets = BTreeMap::new();
        let names: BTreeSet<&String> = before_assets.keys().chain(after.assets.keys()).collect();
        for name in names {
            let old = before_assets.get(name).cloned().unwrap_or_else(zero);
            let new = after.assets.get(name).cloned().unwrap_or_else(zero);
            if old != new {
                assets.insert(name.clone(), (old, new));
            }
        }
        values.added.clear();
        values.removed.clear();
        RunDiff {
            year: after.year,
            options_changed: (before_options != after.options)
                .then(|| (before_options.to_owned(), after.options.clone())),
            assets,
            disposals,
            events,
            values,
            transfers,
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

/// Why a saved manifest could not be compared: not JSON of a run manifest, not as `diff
/// --save` writes it, another format or another year.
#[derive(Debug, thiserror::Error)]
#[error("{}{json}", if .json.is_data() { "" } else { "not a run manifest: " })]
pub struct SavedError {
    #[from]
    json: serde_json::Error,
}

/// A map's changes made as `before`'s entries come, in key order, against `after`'s.
struct Merge<'a> {
    after: std::iter::Peekable<std::collections::btree_map::Iter<'a, String, String>>,
    last: Option<String>,
    changes: Changes,
}

impl<'a> Merge<'a> {
    fn new(after: &'a BTreeMap<String, String>) -> Merge<'a> {
        Merge { after: after.iter().peekable(), last: None, changes: Changes::default() }
    }

    /// The next entry of `before`; `false` when its key is not after the one before it.
    fn before(&mut self, key: String, value: String) -> bool {
        if self.last.as_ref().is_some_and(|last| *last >= key) {
            return false;
        }
        while let Some((k, v)) = self.after.next_if(|(k, _)| **k < key) {
            self.changes.added.insert(k.clone(), v.clone());
        }
        match self.after.next_if(|(k, _)| **k == key) {
            Some((_, v)) if *v != value => {
                self.changes.changed.insert(key.clone(), (value, v.clone()));
            }
            Some(_) => {}
            None => {
                self.changes.removed.insert(key.clone(), value);
            }
        }
        self.last = Some(key);
        true
    }

    /// The changes, with what `after` has past `before`'s last key.
    fn finish(mut self) -> Changes {
        for (k, v) in self.after {
            self.changes.added.insert(k.clone(), v.clone());
        }
        self.changes
    }
}

/// Reads a saved manifest, comparing it with today's as it goes.
struct SavedSeed<'a>(&'a RunManifest);

impl<'de> serde::de::DeserializeSeed<'de> for SavedSeed<'_> {
    type Value = RunDiff;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<RunDiff, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for SavedSeed<'_> {
    type Value = RunDiff;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a run manifest")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<RunDiff, A::Error> {
        use serde::de::Error;
        let after = self.0;
        let (mut format, mut year, mut options, mut assets) = (None, None, None, None);
        let [mut disposals, mut events, mut values, mut transfers] = [None, None, None, None];
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => {
                    let found: u32 = map.next_value()?;
                    if found != FORMAT {
                        return Err(A::Error::custom(format!(
                            "run manifest format {found} (this cointally reads {FORMAT})"
                        )));
                    }
                    format = Some(found);
                }
                "year" => {
                    let found: i32 = map.next_value()?;
                    if found != after.year {
                        return Err(A::Error::custom(format!("a run manifest of year {found}, not {}", after.year)));
                    }
                    year = Some(found);
                }
                "options" => options = Some(map.next_value::<String>()?),
                "assets" => assets = Some(map.next_value::<BTreeMap<String, AssetTotals>>()?),
                "disposals" => disposals = Some(map.next_value_seed(MergeSeed::map(&after.disposals, "disposals"))?),
                "events" => events = Some(map.next_value_seed(MergeSeed::map(&after.events, "events"))?),
                "values" => values = Some(map.next_value_seed(MergeSeed::map(&after.values, "values"))?),
                "transfers" => transfers = Some(map.next_value_seed(MergeSeed::set(&after.transfers))?),
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        let missing = |field: &'static str| A::Error::missing_field(field);
        format.ok_or_else(|| missing("format"))?;
        year.ok_or_else(|| missing("year"))?;
        Ok(RunDiff::of_parts(
            &options.ok_or_else(|| missing("options"))?,
            &assets.ok_or_else(|| missing("assets"))?,
            after,
            disposals.ok_or_else(|| missing("disposals"))?,
            events.ok_or_else(|| missing("events"))?,
            values.ok_or_else(|| missing("values"))?,
            transfers.ok_or_else(|| missing("transfers"))?,
        ))
    }
}

/// One saved map (or the transfers' list, as keys with empty values) merged with today's.
struct MergeSeed<'a> {
    after: std::borrow::Cow<'a, BTreeMap<String, String>>,
    name: &'static str,
}

impl<'a> MergeSeed<'a> {
    fn map(after: &'a BTreeMap<String, String>, name: &'static str) -> MergeSeed<'a> {
        MergeSeed { after: std::borrow::Cow::Borrowed(after), name }
    }

    fn set(after: &BTreeSet<String>) -> MergeSeed<'static> {
        let after = after.iter().map(|k| (k.clone(), String::new())).collect();
        MergeSeed { after: std::borrow::Cow::Owned(after), name: "transfers" }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for MergeSeed<'_> {
    type Value = Changes;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Changes, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for MergeSeed<'_> {
    type Value = Changes;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the {} of a run manifest", self.name)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Changes, A::Error> {
        let mut merge = Merge::new(&self.after);
        while let Some((key, value)) = map.next_entry::<String, String>()? {
            if !merge.before(key, value) {
                return Err(serde::de::Error::custom(format!(
                    "not a run manifest: its {} are not in key order",
                    self.name
                )));
            }
        }
        Ok(merge.finish())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Changes, A::Error> {
        let mut merge = Merge::new(&self.after);
        while let Some(key) = seq.next_element::<String>()? {
            if !merge.before(key, String::new()) {
                return Err(serde::de::Error::custom(format!(
                    "not a run manifest: its {} are not in order",
                    self.name
                )));
            }
        }
        Ok(merge.finish())
    }
}

fn zero() -> AssetTotals {
    let z = Decimal::ZERO.to_string();
    AssetTotals { proceeds: z.clone(), cost_basis: z.clone(), gain: z.clone(), income: z }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

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

    /// The diff the plain way, both manifests in memory: each key looked up in the other.
    fn between(before: &RunManifest, after: &RunManifest) -> RunDiff {
        fn of(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Changes {
            let mut changes = Changes::default();
            for (key, value) in after {
                match before.get(key) {
                    None => drop(changes.added.insert(key.clone(), value.clone())),
                    Some(old) if old != value => {
                        drop(changes.changed.insert(key.clone(), (old.clone(), value.clone())))
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
        let set = |s: &BTreeSet<String>| s.iter().map(|k| (k.clone(), String::new())).collect::<BTreeMap<_, _>>();
        RunDiff::of_parts(
            &before.options,
            &before.assets,
            after,
            of(&before.disposals, &after.disposals),
            of(&before.events, &after.events),
            of(&before.values, &after.values),
            of(&set(&before.transfers), &set(&after.transfers)),
        )
    }

    /// A manifest built from a ledger names each event before the year's end by account and
    /// source id with its legs, its legs' values (`none` where a leg has none), the own
    /// transfers between events it read and each disposal by its event's key.
    #[test]
    fn a_built_manifest_fingerprints_every_event_value_link_and_disposal_by_key() {
        use cointally_exchanges::{EventKind, Leg, NewEvent};

        use crate::tax::report::{Figures, Line};

        let (_dir, mut ledger, account) = crate::ledger::test_ledger();
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        // 2025-01-01T00:00:00Z, and a day.
        let (start, day) = (1_735_689_600_000_i64, 86_400_000_i64);
        let at = |days: i64| chrono::DateTime::from_timestamp_millis(start + days * day).unwrap();
        let events = [
            NewEvent::new(
                "buy",
                at(1),
                EventKind::Trade,
                vec![Leg::sent("USD", d("100")), Leg::received("BTC", d("0.0020"))],
            ),
            NewEvent::new(
                "sell",
                at(2),
                EventKind::Trade,
                vec![Leg::sent("BTC", d("0.001")), Leg::received("USD", d("60")), Leg::fee("BTC", d("0.00001"))],
            ),
            NewEvent::new("out", at(3), EventKind::Withdrawal, vec![Leg::sent("BTC", d("0.0005"))]),
            NewEvent::new("in", at(4), EventKind::Deposit, vec![Leg::received("BTC", d("0.0005"))]),
            NewEvent::new("next-year", at(400), EventKind::Deposit, vec![Leg::received("BTC", d("1"))]),
        ];
        let ids = crate::ledger::write_test_events(&mut ledger, account, &events);
        ledger.store_leg_values("USD", &[crate::ledger::test_value(ids[1], 0, "60.0")]).unwrap();
        ledger.link_transfer(ids[2], ids[3]).unwrap();
        let line = Line {
            asset: "BTC".into(),
            amount: d("0.001"),
            acquired_ms: start + day,
            disposed_ms: start + 2 * day,
            proceeds: d("60"),
            cost_basis: d("50"),
            term: crate::ledger::Term::Short,
            account: "w".into(),
            kind: crate::ledger::DisposalKind::Sale,
            basis_missing: false,
            price_missing: false,
            event_id: ids[1],
            form_box: crate::tax::boxes::FormBox::I,
            adjustment: None,
        };
        let report = Report {
            year: 2025,
            currency: "USD".into(),
            options: crate::tax::Options {
                method: crate::tax::Method::Fifo,
                tracking: crate::tax::Tracking::Us,
                transfer_fees: crate::tax::TransferFees::Dispose,
                year: Some(2025),
                what_if: false,
            },
            totals: Figures::default(),
            assets: BTreeMap::new(),
            income_by_kind: BTreeMap::new(),
            lines: vec![line.clone(), line],
            inputs_hash: "h".into(),
            elections: Vec::new(),
            zone: crate::tax::zone::Zone::default(),
            rebates: Default::default(),
            allocation: None,
        };
        let built = RunManifest::build(&ledger, &report).unwrap();
        let keys: Vec<&str> = built.events.keys().map(String::as_str).collect();
        assert_eq!(keys, ["w/buy", "w/in", "w/out", "w/sell"], "the event after the year's end is not read");
        assert_eq!(
            built.events["w/sell"],
            "2025-01-03T00:00:00+00:00 trade sent -0.001 BTC, received 60 USD, fee -0.00001 BTC"
        );
        assert_eq!(built.events["w/buy"], "2025-01-02T00:00:00+00:00 trade sent -100 USD, received 0.002 BTC");
        // The USD legs are worth their amount; the rest have a value only where one is stored.
        assert_eq!(built.values["w/sell"], "60, 60, none");
        assert_eq!(built.values["w/buy"], "100, none");
        assert_eq!(built.transfers.iter().collect::<Vec<_>>(), ["w/out -> w/in"]);
        let disposals: Vec<&str> = built.disposals.keys().map(String::as_str).collect();
        let at_buy = format!("w/sell @ {}", start + day);
        assert_eq!(disposals, [at_buy.clone(), format!("{at_buy} #2")]);
        assert_eq!(built.disposals[&at_buy], "0.001 BTC: 60 / 50");
    }

    /// A country's totals: each token's rows summed exactly, its income beside them, and a
    /// token with income only listed with zero proceeds, costs and gain.
    #[test]
    fn a_countrys_totals_sum_its_rows_and_income_per_token() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let rows = [
            ("BTC", d("0.1"), d("0.07"), d("0.03")),
            ("ETH", d("5"), d("7"), d("-2")),
            ("BTC", d("0.2"), d("0.1"), d("0.1")),
        ];
        let totals = totals_of(rows, [("ETH", d("1.5")), ("SOL", d("2.25"))]);
        let text = |t: &AssetTotals| [t.proceeds.as_str(), &t.cost_basis, &t.gain, &t.income].map(str::to_owned);
        assert_eq!(totals.keys().collect::<Vec<_>>(), ["BTC", "ETH", "SOL"]);
        assert_eq!(text(&totals["BTC"]), ["0.3", "0.17", "0.13", "0"]);
        assert_eq!(text(&totals["ETH"]), ["5", "7", "-2", "1.5"]);
        assert_eq!(text(&totals["SOL"]), ["0", "0", "0", "2.25"]);
    }

    fn saved(before: &RunManifest, after: &RunManifest) -> Result<RunDiff, SavedError> {
        RunDiff::against_saved(serde_json::to_string_pretty(before).unwrap().as_bytes(), after)
    }

    #[test]
    fn added_removed_and_changed_events_are_named() {
        let before = manifest(&[("a/1", "x"), ("a/2", "y")]);
        let after = manifest(&[("a/1", "x2"), ("a/3", "z")]);
        let diff = saved(&before, &after).unwrap();
        assert_eq!(diff.events.added.keys().collect::<Vec<_>>(), ["a/3"]);
        assert_eq!(diff.events.removed.keys().collect::<Vec<_>>(), ["a/2"]);
        assert_eq!(diff.events.changed["a/1"], ("x".to_string(), "x2".to_string()));
        assert!(saved(&before, &before).unwrap().is_empty());
    }

    #[test]
    fn a_saved_manifest_of_another_year_format_or_order_is_refused_saying_which() {
        let now = manifest(&[("a/1", "x")]);
        let text = serde_json::to_string_pretty(&now).unwrap();
        let other_year = text.replace("\"year\": 2025", "\"year\": 2024");
        let e = RunDiff::against_saved(other_year.as_bytes(), &now).unwrap_err().to_string();
        assert!(e.starts_with("a run manifest of year 2024, not 2025"), "{e}");
        let other_format = text.replace("\"format\": 1", "\"format\": 9");
        let e = RunDiff::against_saved(other_format.as_bytes(), &now).unwrap_err().to_string();
        assert!(e.starts_with("run manifest format 9 (this cointally reads 1)"), "{e}");
        let unsorted = text.replace("\"a/1\": \"x\"", "\"b/1\": \"x\", \"a/1\": \"x\"");
        let e = RunDiff::against_saved(unsorted.as_bytes(), &now).unwrap_err().to_string();
        assert!(e.starts_with("not a run manifest: its events are not in key order"), "{e}");
        let e = RunDiff::against_saved(&b"{\"format\": 1, \"year\""[..], &now).unwrap_err().to_string();
        assert!(e.starts_with("not a run manifest: EOF"), "{e}");
        let e = RunDiff::against_saved(&b"{\"format\": 1, \"year\": 2025}"[..], &now).unwrap_err().to_string();
        assert!(e.starts_with("missing field `options`"), "{e}");
        let no_year = text.replace("\"year\": 2025,", "");
        let e = RunDiff::against_saved(no_year.as_bytes(), &now).unwrap_err().to_string();
        assert!(e.starts_with("missing field `year`"), "{e}");
        let e = RunDiff::against_saved(&b"[]"[..], &now).unwrap_err().to_string();
        assert!(e.starts_with("not a run manifest") || e.starts_with("invalid type"), "{e}");
    }

    fn entries() -> impl Strategy<Value = BTreeMap<String, String>> {
        prop::collection::btree_map("[ab]/[0-9]{1,2}", "[xyz]{0,2}", 0..12)
    }

    fn any_manifest() -> impl Strategy<Value = RunManifest> {
        let assets = prop::collection::btree_map(
            "[AB]",
            "[0-2]".prop_map(|n| AssetTotals {
                proceeds: n.clone(),
                cost_basis: n.clone(),
                gain: n.clone(),
                income: n,
            }),
            0..3,
        );
        let transfers = prop::collection::btree_set("[ab]/[0-9] -> [ab]/[0-9]", 0..5);
        (assets, entries(), entries(), entries(), transfers, "fifo|hifo").prop_map(
            |(assets, disposals, events, values, transfers, options)| RunManifest {
                options,
                assets,
                disposals,
                events,
                values,
                transfers,
                ..manifest(&[])
            },
        )
    }

    proptest! {
        /// Compared as it is parsed, a saved manifest gives the diff both held in memory give.
        #[test]
        fn the_streamed_compare_is_the_one_of_both_in_memory(before in any_manifest(), after in any_manifest()) {
            prop_assert_eq!(saved(&before, &after).unwrap(), between(&before, &after));
        }
    }
}
