//! Snapshots change nothing but the time: on random ledgers over five years and random edits
//! (a new old event, a changed value, a deleted event, a reclassified event, an election, a
//! renamed account), every year computed from the latest fitting snapshot equals the same year
//! computed from the first event, and a pass over several years equals each year alone.

use cointally_exchanges::time::from_millis;
use cointally_exchanges::{EventKind, Leg, NewEvent};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::years::{PassInfo, ReadAhead, Start, compute_years_with};
use super::{Computed, Method, Options, Tracking, TransferFees, compute, year_start_ms};
use crate::ledger::{Ledger, LegValue, NewAccount, OpenMode, Written};
use crate::transfers;

const FIRST_YEAR: i32 = 2022;
const LAST_YEAR: i32 = 2026;
const ASSETS: [&str; 2] = ["BTC", "ETH"];
const DAY_MS: i64 = 86_400_000;

/// An event to write: account (0–2), day from 2022-01-01, kind (0 buy, 1 sell, 2 swap,
/// 3 staking, 4 own transfer), asset, size (1/1,000 units), price.
type Spec = (usize, i64, u8, usize, i64, i64);

#[derive(Debug, Clone)]
enum Edit {
    Add(Spec),
    Revalue { event: usize, value: i64 },
    Delete { event: usize },
    Reclassify { event: usize },
    Elect { hifo: bool, day: i64 },
    Rename { account: usize },
}

fn spec() -> impl Strategy<Value = Spec> {
    (0..3usize, 0..5 * 365i64, 0..5u8, 0..2usize, 1..5_000i64, 1..60_000i64)
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        spec().prop_map(Edit::Add),
        (0..100usize, 1..90_000i64).prop_map(|(event, value)| Edit::Revalue { event, value }),
        (0..100usize).prop_map(|event| Edit::Delete { event }),
        (0..100usize).prop_map(|event| Edit::Reclassify { event }),
        (any::<bool>(), 0..5 * 365i64).prop_map(|(hifo, day)| Edit::Elect { hifo, day }),
        (0..3usize).prop_map(|account| Edit::Rename { account }),
    ]
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    ledger: Ledger,
    accounts: Vec<i64>,
    written: usize,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        let mut ledger = Ledger::open(&path, OpenMode::CreateNew).unwrap();
        let accounts = (0..3)
            .map(|i| ledger.add_account(&NewAccount::files_only(format!("w{i}"), "wallet")).unwrap().id)
            .collect();
        Fixture { _dir: dir, path, ledger, accounts, written: 0 }
    }

    /// Writes one spec (two events for a transfer) with a value on every leg.
    fn write(&mut self, (account, day, kind, asset, size, price): Spec) {
        let n = self.written;
        self.written += 1;
        let time_ms = year_start_ms(FIRST_YEAR) + day * DAY_MS + (n as i64 % 1000) * 1000;
        let (asset, other) = (ASSETS[asset], ASSETS[1 - asset]);
        let units = Decimal::new(size, 3);
        let worth = Decimal::new(size * price, 3);
        let mut events = Vec::new();
        let account_id = self.accounts[account];
        let event = |legs: Vec<Leg>, kind: EventKind| NewEvent::new(format!("e{n}"), from_millis(time_ms), kind, legs);
        match kind {
            0 => events.push((
                account_id,
                event(
                    vec![Leg::sent("USD", worth), Leg::received(asset, units), Leg::fee("USD", Decimal::ONE)],
                    EventKind::Trade,
                ),
                vec![worth, worth, Decimal::ONE],
            )),
            1 => events.push((
                account_id,
                event(vec![Leg::sent(asset, units), Leg::received("USD", worth)], EventKind::Trade),
                vec![worth, worth],
            )),
            2 => events.push((
                account_id,
                event(vec![Leg::sent(asset, units), Leg::received(other, units * Decimal::TWO)], EventKind::Trade),
                vec![worth, worth],
            )),
            3 => events.push((account_id, event(vec![Leg::received(asset, units)], EventKind::Staking), vec![worth])),
            _ => {
                let to = self.accounts[(account + 1) % 3];
                let hash = Some(format!("0x{n:064x}"));
                let out =
                    NewEvent { tx_hash: hash.clone(), ..event(vec![Leg::sent(asset, units)], EventKind::Withdrawal) };
                let arrived = units - Decimal::new(1, 3).min(units / Decimal::TWO);
                let deposit = NewEvent {
                    tx_hash: hash,
                    ..NewEvent::new(
                        format!("e{n}-in"),
                        from_millis(time_ms + 60_000),
                        EventKind::Deposit,
                        vec![Leg::received(asset, arrived)],
                    )
                };
                events.push((account_id, out, vec![worth]));
                events.push((to, deposit, vec![worth]));
            }
        }
        let mut values = Vec::new();
        let mut writer = self.ledger.writer().unwrap();
        for (account, event, worth) in &events {
            let (Written::New(id) | Written::Existing(id)) = writer.event(*account, "csv:generic", event, &[]).unwrap();
            for (seq, (leg, value)) in event.legs.iter().zip(worth).enumerate() {
                let price = (*value / leg.amount.abs()).round_dp(12);
                values.push(LegValue {
                    event_id: id,
                    seq: seq as i64,
                    price,
                    value: *value,
                    source: "test".into(),
                    path: String::new(),
                });
            }
        }
        writer.commit().unwrap();
        self.ledger.store_leg_values("USD", &values).unwrap();
    }

    /// The id of the `i`-th event (modulo their number).
    fn event_id(&self, i: usize) -> Option<i64> {
        let conn = rusqlite::Connection::open(&self.path).unwrap();
        let count: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap();
        if count == 0 {
            return None;
        }
        conn.query_row("SELECT id FROM events ORDER BY id LIMIT 1 OFFSET ?1", [i as i64 % count], |r| r.get(0)).ok()
    }

    fn apply(&mut self, edit: &Edit) {
        // Raw writes through a second connection, as another writer would: the triggers see them.
        let raw = || rusqlite::Connection::open(&self.path).unwrap();
        match *edit {
            Edit::Add(spec) => self.write(spec),
            Edit::Revalue { event, value } => {
                if let Some(id) = self.event_id(event) {
                    raw()
                        .execute(
                            "UPDATE leg_values SET value = ?1 WHERE event_id = ?2",
                            rusqlite::params![value.to_string(), id],
                        )
                        .unwrap();
                }
            }
            Edit::Delete { event } => {
                if let Some(id) = self.event_id(event) {
                    let conn = raw();
                    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
                    conn.execute("DELETE FROM events WHERE id = ?1", [id]).unwrap();
                }
            }
            Edit::Reclassify { event } => {
                if let Some(id) = self.event_id(event) {
                    self.ledger.reclassify(id, EventKind::Gift).unwrap();
                }
            }
            Edit::Elect { hifo, day } => {
                let method = if hifo { "hifo" } else { "lifo" };
                self.ledger.add_election(method, year_start_ms(FIRST_YEAR) + day * DAY_MS, None).unwrap();
            }
            Edit::Rename { account } => {
                self.written += 1;
                let label = format!("z{account}-{}", self.written);
                raw()
                    .execute(
                        "UPDATE accounts SET label = ?1 WHERE id = ?2",
                        rusqlite::params![label, self.accounts[account]],
                    )
                    .unwrap();
            }
        }
    }

    /// Every year in `years` through snapshots (the events read ahead while the transfers are
    /// matched, as `report` does), and each alone from the first event.
    fn both(
        &mut self,
        options: Options,
        years: std::ops::RangeInclusive<i32>,
    ) -> (Vec<Computed>, Vec<Computed>, PassInfo) {
        let (dropped, ahead) = ReadAhead::start(&mut self.ledger, &options, years.clone(), Start::Snapshot).unwrap();
        let matching = transfers::refresh(&mut self.ledger).unwrap();
        let (passed, mut info) =
            compute_years_with(&mut self.ledger, options, &matching, years.clone(), Start::Snapshot, Some(ahead))
                .unwrap();
        info.dropped += dropped;
        let alone =
            years.map(|y| compute(&self.ledger, Options { year: Some(y), ..options }, &matching).unwrap()).collect();
        (passed, alone, info)
    }
}

fn assert_same(passed: &[Computed], alone: &[Computed]) -> Result<(), TestCaseError> {
    prop_assert_eq!(passed.len(), alone.len());
    for (p, a) in passed.iter().zip(alone) {
        prop_assert_eq!(&p.computation.disposals, &a.computation.disposals);
        prop_assert_eq!(&p.computation.income, &a.computation.income);
        prop_assert_eq!(&p.computation.holdings, &a.computation.holdings);
        prop_assert_eq!(&p.inputs_hash, &a.inputs_hash);
        prop_assert_eq!(p.events, a.events);
    }
    Ok(())
}

/// Computes all years in one pass, then each round of edits' `year` from the latest snapshot,
/// and compares each with the same year from the first event.
fn check(
    history: Vec<Spec>,
    edits: Vec<Vec<Edit>>,
    year: i32,
    hifo: bool,
    universal: bool,
) -> Result<(), TestCaseError> {
    let options = Options {
        method: if hifo { Method::Hifo } else { Method::Fifo },
        tracking: if universal { Tracking::Universal } else { Tracking::Us },
        transfer_fees: TransferFees::Dispose,
        year: None,
        what_if: false,
    };
    let mut f = Fixture::new();
    for s in history {
        f.write(s);
    }
    // All years in one pass stores a snapshot at each year-end; it equals each year alone. No
    // snapshot yet: the events were read ahead from the first event, and taken.
    let (passed, alone, info) = f.both(options, FIRST_YEAR..=LAST_YEAR);
    assert_same(&passed, &alone)?;
    prop_assert!(info.read_ahead && info.started_after.is_none());
    for (i, round) in edits.iter().enumerate() {
        for e in round {
            f.apply(e);
        }
        let (passed, alone, info) = f.both(options, year..=year);
        assert_same(&passed, &alone)?;
        // With nothing changed since the last report of the year, it starts from the
        // snapshot that report stored at the end of the year before, with the events read
        // while the transfers were matched.
        if round.is_empty() && i > 0 {
            prop_assert!(info.started_after.is_some(), "an unchanged ledger reuses its snapshot");
            prop_assert!(info.read_ahead, "the events read ahead are taken");
        }
        // Where the read ahead started elsewhere than the pass (a snapshot whose key no longer
        // fits), taking it would lose or double events: the years equal each alone above.
    }
    Ok(())
}

/// Issue #21, the shrunk case of seed `cc 03c70825…` (HIFO, universal lots before 2025): ETH
/// bought in w2, an own transfer out of w0 (which holds none: the universal pool gives lot of
/// the buy, split), a sale. From the first event two fragments of the buy's lot were held at
/// the end of 2024 (the part that moved came back under its own rounded basis per unit), from a
/// snapshot one lot: the part now merges with its lot by id.
#[test]
fn a_hifo_lot_split_by_a_transfer_is_held_whole_from_the_first_event_as_from_a_snapshot() {
    let history = vec![(0, 588, 1, 1, 1966, 25700), (0, 587, 4, 1, 2875, 59981), (2, 584, 0, 1, 3538, 48038)];
    check(history.clone(), vec![vec![Edit::Rename { account: 0 }], vec![]], 2024, true, false).unwrap();
    let mut f = Fixture::new();
    for s in history {
        f.write(s);
    }
    let options = Options {
        method: Method::Hifo,
        tracking: Tracking::Us,
        transfer_fees: TransferFees::Dispose,
        year: None,
        what_if: false,
    };
    let (_, alone, _) = f.both(options, 2024..=2024);
    let held: Vec<(i64, Decimal)> = alone[0].computation.holdings.iter().map(|h| (h.lot_event_id, h.amount)).collect();
    assert_eq!(held.len(), 1, "one lot, not fragments: {held:?}");
    assert_eq!(held[0].1, Decimal::new(1571, 3));
}

/// The events read ahead (from the latest snapshot or the first event, before the transfers are
/// matched) are taken when the pass starts where they do, and dropped when it starts elsewhere:
/// the year is then the same as from the first event.
#[test]
fn events_read_ahead_are_taken_only_from_the_snapshot_the_pass_starts_from() {
    let options = Options {
        method: Method::Fifo,
        tracking: Tracking::Us,
        transfer_fees: TransferFees::Dispose,
        year: None,
        what_if: false,
    };
    let mut f = Fixture::new();
    // Buys in 2022 and 2023, sales in 2024 and 2025, an own transfer in 2025.
    for spec in [(0, 10, 0, 0, 2000, 20000), (1, 400, 0, 1, 3000, 1500), (0, 800, 1, 0, 500, 40000)] {
        f.write(spec);
    }
    for spec in [(1, 1200, 1, 1, 1000, 3000), (0, 1210, 4, 0, 300, 60000), (1, 1300, 3, 1, 10, 3200)] {
        f.write(spec);
    }
    let (passed, alone, info) = f.both(options, FIRST_YEAR..=2025);
    assert_same(&passed, &alone).unwrap();
    assert!(info.read_ahead, "no snapshot before 2022: the events are read ahead from the first");
    assert!(info.kept > 0, "the last year's events are kept for its next report");

    let (passed, alone, info) = f.both(options, 2025..=2025);
    assert_same(&passed, &alone).unwrap();
    assert_eq!(info.started_after, Some(2024));
    assert!(info.read_ahead, "the snapshot at the end of 2024 fits: its events read ahead are taken");
    assert_eq!(passed[0].computation.disposals.len(), alone[0].computation.disposals.len());
    assert!(!passed[0].computation.disposals.is_empty());
    // The pass over every year kept 2025's events: nothing was written since, so they came from
    // that copy.
    assert!(info.copied > 0);
    assert_eq!((info.copied, info.kept), (info.events_read, 0));

    // An account renamed: the snapshot is still there when the read begins after it, but its
    // key no longer fits, so the pass starts from the first event and drops the read.
    f.apply(&Edit::Rename { account: 0 });
    let (passed, alone, info) = f.both(options, 2025..=2025);
    assert_same(&passed, &alone).unwrap();
    assert_eq!(info.started_after, None);
    assert!(!info.read_ahead, "read from the end of 2024, not from the first event: not taken");
    assert!(info.dropped > 0);

    // A value changed in 2022 drops the snapshots after it before the read begins: it reads
    // from the first event, as the pass does.
    f.apply(&Edit::Revalue { event: 0, value: 12_345 });
    let (passed, alone, info) = f.both(options, 2025..=2025);
    assert_same(&passed, &alone).unwrap();
    assert_eq!(info.started_after, None);
    assert!(info.read_ahead, "the read began after the snapshots were dropped: from the first event");
    assert!(info.dropped > 0);
}

/// Another process imports while a report's events are read ahead: the read may lack the new
/// event, so it must not be taken for the year, nor the mark that says the event is new be
/// cleared on its behalf. The year after, started from the snapshot this report stores, is the
/// same as from the first event.
#[test]
fn an_import_by_another_process_while_the_events_are_read_ahead_is_not_lost() {
    write_while_reading_ahead(|_| {});
}

/// The same, and another report clears the mark of that import before this one goes on: the
/// mark says nothing any more, and the read is still not used.
#[test]
fn a_write_whose_mark_another_report_cleared_while_the_events_are_read_ahead_is_not_lost() {
    write_while_reading_ahead(|other| {
        other.invalidate_snapshots().unwrap();
    });
}

/// A report of 2025 from the snapshot of 2024 whose events are read ahead, while another
/// process writes a 2025 sale (then does `then` on its connection); checks that the read is
/// not used and that 2025 and 2026 (from the snapshot this report stores) are the same as from
/// the first event.
fn write_while_reading_ahead(then: impl FnOnce(&mut Ledger)) {
    let options = Options::us(None);
    let mut f = Fixture::new();
    for spec in [(0, 10, 0, 0, 2000, 20000), (1, 400, 0, 1, 3000, 1500), (0, 1200, 1, 0, 300, 30000)] {
        f.write(spec);
    }
    f.both(options, FIRST_YEAR..=2025);
    // The read of 2025 from the snapshot at the end of 2024 starts, and has time to finish
    // (three events), before the sale is written on another connection.
    let (_, ahead) = ReadAhead::start(&mut f.ledger, &options, 2025..=2025, Start::Snapshot).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let mine = std::mem::replace(&mut f.ledger, Ledger::open(&f.path, OpenMode::Existing).unwrap());
    f.write((0, 1250, 1, 0, 100, 40000));
    then(&mut f.ledger);
    f.ledger = mine;
    let matching = transfers::refresh(&mut f.ledger).unwrap();
    let (passed, info) =
        compute_years_with(&mut f.ledger, options, &matching, 2025..=2025, Start::Snapshot, Some(ahead)).unwrap();
    assert!(!info.read_ahead, "written after the read began, before its end: the read is not used");
    let alone = compute(&f.ledger, Options { year: Some(2025), ..options }, &matching).unwrap();
    assert_same(&passed, &[alone]).unwrap();
    assert_eq!(passed[0].computation.disposals.len(), 2, "both 2025 sales");
    // 2026 starts from the snapshot at the end of 2025 that pass stored.
    let (passed, _, info) = f.both(options, 2026..=2026);
    assert_eq!(info.started_after, Some(2025));
    let alone = compute(&f.ledger, Options { year: Some(2026), ..options }, &matching).unwrap();
    assert_same(&passed, &[alone]).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn a_report_from_a_snapshot_equals_one_from_the_first_event(
        history in prop::collection::vec(spec(), 1..40),
        edits in prop::collection::vec(prop::collection::vec(edit(), 0..3), 1..4),
        year in FIRST_YEAR..=LAST_YEAR,
        hifo in any::<bool>(),
        universal in any::<bool>(),
    ) {
        check(history, edits, year, hifo, universal)?;
    }
}

/// Under each country's rules (UK, Canada, Australia, Germany), a pass over five years
/// ([`crate::tax::country_years`]) gives every year as a run of that year alone: the same
/// rows, holdings, figures and `inputs_hash` (compared through their `Debug` text, which shows
/// every field). The events cross each country's year-ends and look-ahead windows.
fn check_countries(history: Vec<Spec>) -> Result<(), TestCaseError> {
    let mut f = Fixture::new();
    for s in history {
        f.write(s);
    }
    let matching = transfers::refresh(&mut f.ledger).unwrap();
    let years = FIRST_YEAR..=LAST_YEAR;
    // Each country from the first event: a pass over the five years, and each year alone.
    let ledger = &mut f.ledger;
    for (country, pass) in COUNTRIES {
        let (passed, _) = pass(ledger, years.clone(), &matching, Start::Scratch);
        let alone: Vec<String> = years.clone().flat_map(|y| pass(ledger, y..=y, &matching, Start::Scratch).0).collect();
        prop_assert_eq!(passed.len(), 5, "{}", country);
        prop_assert_eq!(passed, alone, "{}", country);
    }
    Ok(())
}

/// A country's pass over years, each year's computation as its `Debug` text (which shows
/// every field: rows, pools, parcels or lots, shortfalls, figures, `inputs_hash`, events).
type CountryPass =
    fn(&mut Ledger, std::ops::RangeInclusive<i32>, &transfers::Matching, Start) -> (Vec<String>, PassInfo);

const COUNTRIES: [(&str, CountryPass); 4] = [
    ("UK", |ledger, years, matching, start| {
        let (computed, info) = crate::tax::uk::compute_years(ledger, years, matching, start).unwrap();
        (computed.iter().map(|c| format!("{c:?}")).collect(), info)
    }),
    ("CA", |ledger, years, matching, start| {
        let (computed, info) = crate::tax::ca::compute_years(ledger, years, matching, start).unwrap();
        (computed.iter().map(|c| format!("{c:?}")).collect(), info)
    }),
    ("AU", |ledger, years, matching, start| {
        let (computed, info) = crate::tax::au::compute_years(ledger, years, Method::Fifo, matching, start).unwrap();
        (computed.iter().map(|c| format!("{c:?}")).collect(), info)
    }),
    ("DE", |ledger, years, matching, start| {
        let (computed, info) = crate::tax::de::compute_years(ledger, years, matching, start).unwrap();
        (computed.iter().map(|c| format!("{c:?}")).collect(), info)
    }),
];

/// Each country's years from the latest fitting snapshot equal the same years from the first
/// event, on random ledgers after random edits: the UK's and Canada's pools (whose state at a
/// year's end depends on the 30 days after it), Australia's parcels and Germany's lots.
fn check_country_snapshots(history: Vec<Spec>, edits: Vec<Vec<Edit>>, year: i32) -> Result<(), TestCaseError> {
    let mut f = Fixture::new();
    for s in history {
        f.write(s);
    }
    for (country, pass) in COUNTRIES {
        let matching = transfers::refresh(&mut f.ledger).unwrap();
        let (all, info) = pass(&mut f.ledger, FIRST_YEAR..=LAST_YEAR, &matching, Start::Snapshot);
        prop_assert!(info.stored > 0, "{} stores its year-end snapshots", country);
        // The year after the range starts from the snapshot the range stored at its end.
        let (next, after) = pass(&mut f.ledger, LAST_YEAR + 1..=LAST_YEAR + 1, &matching, Start::Snapshot);
        prop_assert_eq!(after.started_after, Some(LAST_YEAR), "{} starts from the range's last snapshot", country);
        let (scratch, _) = pass(&mut f.ledger, FIRST_YEAR..=LAST_YEAR, &matching, Start::Scratch);
        prop_assert_eq!(all, scratch, "{} all years", country);
        let (scratch, _) = pass(&mut f.ledger, LAST_YEAR + 1..=LAST_YEAR + 1, &matching, Start::Scratch);
        prop_assert_eq!(next, scratch, "{} the year after the range", country);
    }
    for (i, round) in edits.iter().enumerate() {
        for e in round {
            f.apply(e);
        }
        for (country, pass) in COUNTRIES {
            let matching = transfers::refresh(&mut f.ledger).unwrap();
            let (from_snapshot, info) = pass(&mut f.ledger, year..=year, &matching, Start::Snapshot);
            let (scratch, _) = pass(&mut f.ledger, year..=year, &matching, Start::Scratch);
            prop_assert_eq!(from_snapshot, scratch, "{} {} after round {}", country, year, i);
            // Nothing changed since the last report of the year: it starts from the snapshot
            // that report stored at the end of the year before.
            if round.is_empty() && i > 0 && year > FIRST_YEAR {
                prop_assert_eq!(info.started_after, Some(year - 1), "{} reuses its snapshot", country);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn a_country_pass_over_years_equals_each_year_alone(history in prop::collection::vec(spec(), 1..40)) {
        check_countries(history)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn a_country_year_from_a_snapshot_equals_one_from_the_first_event(
        history in prop::collection::vec(spec(), 1..40),
        edits in prop::collection::vec(prop::collection::vec(edit(), 0..3), 1..4),
        year in FIRST_YEAR..=LAST_YEAR,
    ) {
        check_country_snapshots(history, edits, year)?;
    }
}
