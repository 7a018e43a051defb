//! Matching through the kept copy of the candidates equals matching all of history read from
//! the events: on random ledgers of deposits, withdrawals and trades (hashes or none, amounts
//! near each other so that candidates are shared), after random edits (new events, deleted
//! events, reclassifications, changed legs, times and hashes, the user's links and unlinks),
//! [`refresh`] gives what a whole read and [`match_movements`] give, and stores those links.

use std::collections::BTreeMap;

use cointally_exchanges::time::from_millis;
use cointally_exchanges::{EventKind, Leg, NewEvent};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::{Matching, match_movements, refresh, refresh_whole};
use crate::ledger::{Ledger, LinkMethod, NewAccount, OpenMode};

const HOUR_MS: i64 = 3_600_000;

/// An event: account (0–2), hour, kind (0 withdrawal, 1 deposit, 2 trade, 3 staking), asset
/// (0–1), amount (1/100 units), hash (none, or one of a few).
type Spec = (usize, i64, u8, usize, i64, Option<u8>);

#[derive(Debug, Clone)]
enum Edit {
    Add(Spec),
    Delete(usize),
    Reclassify(usize, u8),
    Amount(usize, i64),
    Time(usize, i64),
    Hash(usize, Option<u8>),
    Link(usize, usize),
    Unlink(usize),
}

fn spec() -> impl Strategy<Value = Spec> {
    (0..3usize, 0..400i64, 0..4u8, 0..2usize, 95..106i64, proptest::option::of(0..4u8))
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => spec().prop_map(Edit::Add),
        1 => (0..100usize).prop_map(Edit::Delete),
        1 => (0..100usize, 0..3u8).prop_map(|(e, k)| Edit::Reclassify(e, k)),
        1 => (0..100usize, 95..106i64).prop_map(|(e, a)| Edit::Amount(e, a)),
        1 => (0..100usize, 0..400i64).prop_map(|(e, h)| Edit::Time(e, h)),
        1 => (0..100usize, proptest::option::of(0..4u8)).prop_map(|(e, h)| Edit::Hash(e, h)),
        1 => (0..100usize, 0..100usize).prop_map(|(w, d)| Edit::Link(w, d)),
        1 => (0..100usize).prop_map(Edit::Unlink),
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

    fn write(&mut self, (account, hour, kind, asset, amount, hash): Spec) {
        let n = self.written;
        self.written += 1;
        let asset = ["BTC", "ETH"][asset];
        let units = Decimal::new(amount, 2);
        let (kind, legs) = match kind {
            0 => (EventKind::Withdrawal, vec![Leg::sent(asset, units), Leg::fee(asset, Decimal::new(1, 2))]),
            1 => (EventKind::Deposit, vec![Leg::received(asset, units)]),
            2 => (EventKind::Trade, vec![Leg::sent("USD", units), Leg::received(asset, units)]),
            _ => (EventKind::Staking, vec![Leg::received(asset, units)]),
        };
        let event = NewEvent {
            tx_hash: hash.map(|h| format!("0xAB{h}")),
            ..NewEvent::new(format!("e{n}"), from_millis(hour * HOUR_MS + n as i64), kind, legs)
        };
        let mut writer = self.ledger.writer().unwrap();
        writer.event(self.accounts[account], "csv:generic", &event, &[]).unwrap();
        writer.commit().unwrap();
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
        let raw = || {
            let conn = rusqlite::Connection::open(&self.path).unwrap();
            conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
            conn
        };
        match *edit {
            Edit::Add(spec) => self.write(spec),
            Edit::Delete(e) => {
                if let Some(id) = self.event_id(e) {
                    raw().execute("DELETE FROM events WHERE id = ?1", [id]).unwrap();
                }
            }
            Edit::Reclassify(e, k) => {
                if let Some(id) = self.event_id(e) {
                    let kind = [EventKind::Withdrawal, EventKind::Deposit, EventKind::Gift][usize::from(k)];
                    self.ledger.reclassify(id, kind).unwrap();
                }
            }
            Edit::Amount(e, amount) => {
                if let Some(id) = self.event_id(e) {
                    // The first leg keeps its sign.
                    raw()
                        .execute(
                            "UPDATE legs SET amount = CASE WHEN amount LIKE '-%' THEN ?1 ELSE ?2 END
                             WHERE event_id = ?3 AND seq = 0",
                            rusqlite::params![
                                format!("-{}", Decimal::new(amount, 2)),
                                Decimal::new(amount, 2).to_string(),
                                id
                            ],
                        )
                        .unwrap();
                }
            }
            Edit::Time(e, hour) => {
                if let Some(id) = self.event_id(e) {
                    raw()
                        .execute("UPDATE events SET time_ms = ?1 WHERE id = ?2", rusqlite::params![hour * HOUR_MS, id])
                        .unwrap();
                }
            }
            Edit::Hash(e, hash) => {
                if let Some(id) = self.event_id(e) {
                    raw()
                        .execute(
                            "UPDATE events SET tx_hash = ?1 WHERE id = ?2",
                            rusqlite::params![hash.map(|h| format!("ab{h}")), id],
                        )
                        .unwrap();
                }
            }
            Edit::Link(w, d) => {
                if let (Some(w), Some(d)) = (self.event_id(w), self.event_id(d)) {
                    // Refused for events that are not a withdrawal and a deposit, or taken.
                    let _ = self.ledger.link_transfer(w, d);
                }
            }
            Edit::Unlink(e) => {
                if let Some(id) = self.event_id(e) {
                    let _ = self.ledger.unlink_transfer(id);
                }
            }
        }
    }

    /// The matching of all of history read from the events, without touching the kept copy.
    fn whole(&self) -> Matching {
        let movements = self.ledger.movements().unwrap();
        let manual: Vec<_> =
            self.ledger.transfer_links().unwrap().into_iter().filter(|l| l.method == LinkMethod::Manual).collect();
        let mut matching = match_movements(&movements, &manual, &self.ledger.transfer_unlinks().unwrap());
        matching.movements = movements.into_iter().map(|m| (m.event_id, m)).collect::<BTreeMap<_, _>>();
        matching
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn matching_through_the_kept_copy_equals_a_whole_read(
        history in proptest::collection::vec(spec(), 0..40),
        edits in proptest::collection::vec(proptest::collection::vec(edit(), 1..4), 1..6),
    ) {
        let mut f = Fixture::new();
        for s in history {
            f.write(s);
        }
        let first = refresh(&mut f.ledger).unwrap();
        prop_assert_eq!(&first, &f.whole());
        for batch in &edits {
            for e in batch {
                f.apply(e);
            }
            let kept = refresh(&mut f.ledger).unwrap();
            let whole = f.whole();
            prop_assert_eq!(&kept, &whole, "after {:?}", batch);
            // The links stored are the ones returned.
            let mut stored = f.ledger.transfer_links().unwrap();
            stored.sort();
            prop_assert_eq!(&stored, &kept.links);
            // A second refresh with nothing written reads nothing again and agrees.
            prop_assert_eq!(&refresh(&mut f.ledger).unwrap(), &whole);
        }
        prop_assert_eq!(&refresh_whole(&mut f.ledger).unwrap(), &f.whole());
    }
}

/// A write before the kept copy's end (here: a deposit reclassified as a gift) is seen: the
/// transfer it made goes away, though nothing after it changed.
#[test]
fn a_reclassified_old_deposit_unmatches_its_transfer() {
    let mut f = Fixture::new();
    f.write((0, 10, 0, 0, 100, None));
    f.write((1, 11, 1, 0, 100, None));
    f.write((2, 300, 2, 0, 100, None));
    let before = refresh(&mut f.ledger).unwrap();
    assert_eq!(before.links.len(), 1, "{before:?}");
    let deposit = before.links[0].deposit;
    f.ledger.reclassify(deposit, EventKind::Gift).unwrap();
    let after = refresh(&mut f.ledger).unwrap();
    assert!(after.links.is_empty(), "{after:?}");
    assert_eq!(after, f.whole());
}
