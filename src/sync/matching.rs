//! One happening, one event: API records that describe an event already imported from a file.
//!
//! Kraken's and Coinbase's exports carry the ids their APIs use, so their events meet on
//! (account, external id). Binance's statement carries no ids, so an API record is matched to
//! a file event of the same account by content: the same kind, times less than two seconds
//! apart (statements have whole seconds, the API milliseconds), and exactly the same legs
//! (role, asset, amount). A file event matches at most one API record. What does not match
//! exactly is stored as its own event (for example fills that a statement summed into one
//! row per second): `check` then shows the doubled balance, and the user removes one source.

use std::collections::{BTreeMap, BTreeSet};

use cointally_exchanges::NewEvent;
use cointally_exchanges::time::to_millis;
use rust_decimal::Decimal;

use crate::ledger::FileEvent;

/// How far apart (ms) the times of a file event and the API record of it may be.
const TIME_TOLERANCE_MS: i64 = 2_000;

type Legs = Vec<(String, String, Decimal)>;

/// The file events of one account, waiting for the API records of the same happenings.
#[derive(Debug, Default)]
pub struct Matcher {
    /// (kind, whole second) → candidates (event id, legs), in id order.
    by_second: BTreeMap<(String, i64), Vec<(i64, Legs)>>,
    /// File events already taken by an API record in this run.
    taken: BTreeSet<i64>,
    /// API raw record id → the file event it was linked to in an earlier run.
    linked: BTreeMap<i64, i64>,
}

impl Matcher {
    /// A matcher over `events`; `linked` are the (API raw record, file event) links stored earlier.
    pub fn new(events: Vec<FileEvent>, linked: Vec<(i64, i64)>) -> Matcher {
        let mut by_second: BTreeMap<(String, i64), Vec<(i64, Legs)>> = BTreeMap::new();
        for event in events {
            by_second
                .entry((event.kind, event.time_ms.div_euclid(1000)))
                .or_default()
                .push((event.id, legs_key(event.legs)));
        }
        let taken = linked.iter().map(|(_, event)| *event).collect();
        Matcher { by_second, taken, linked: linked.into_iter().collect() }
    }

    /// Whether there is nothing to match against (the common case: no file was imported).
    pub fn is_empty(&self) -> bool {
        self.by_second.is_empty()
    }

    /// The file event that `event` (from the API raw record `raw_id`) is the same happening
    /// as, if one matches; the match is remembered.
    pub fn find(&mut self, raw_id: i64, event: &NewEvent) -> Option<i64> {
        if let Some(id) = self.linked.get(&raw_id) {
            return Some(*id);
        }
        if self.by_second.is_empty() {
            return None;
        }
        let time_ms = to_millis(event.time);
        let kind = event.kind.as_str().to_string();
        let legs = legs_key(
            event
                .legs
                .iter()
                .filter(|l| !l.amount.is_zero())
                .map(|l| (l.role.as_str().to_string(), l.asset.clone(), l.amount))
                .collect(),
        );
        let second = time_ms.div_euclid(1000);
        for s in second - 2..=second + 2 {
            let Some(candidates) = self.by_second.get(&(kind.clone(), s)) else { continue };
            for (id, candidate) in candidates {
                if self.taken.contains(id) || *candidate != legs || (s * 1000 - time_ms).abs() >= TIME_TOLERANCE_MS {
                    continue;
                }
                self.taken.insert(*id);
                self.linked.insert(raw_id, *id);
                return Some(*id);
            }
        }
        None
    }
}

fn legs_key(mut legs: Legs) -> Legs {
    for leg in &mut legs {
        leg.2 = leg.2.normalize();
    }
    legs.sort();
    legs
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use cointally_exchanges::{EventKind, Leg};

    use super::*;

    fn file_event(id: i64, time_ms: i64, btc: i64) -> FileEvent {
        FileEvent {
            id,
            kind: "trade".into(),
            time_ms,
            legs: vec![
                ("sent".into(), "USDT".into(), Decimal::new(-100, 0)),
                ("received".into(), "BTC".into(), Decimal::new(btc, 3)),
            ],
        }
    }

    fn api_event(time_ms: i64, btc: i64) -> NewEvent {
        let time = Utc.timestamp_millis_opt(time_ms).unwrap();
        NewEvent::new(
            "trade:BTCUSDT:1",
            time,
            EventKind::Trade,
            vec![Leg::sent("USDT", Decimal::new(10000, 2)), Leg::received("BTC", Decimal::new(btc, 3))],
        )
    }

    #[test]
    fn an_api_record_matches_the_file_event_of_the_same_second_once() {
        let mut matcher = Matcher::new(vec![file_event(7, 1_700_000_000_000, 2)], vec![]);
        assert_eq!(matcher.find(1, &api_event(1_700_000_000_456, 2)), Some(7));
        // The same record again (a re-run) finds it again; another identical record does not.
        assert_eq!(matcher.find(1, &api_event(1_700_000_000_456, 2)), Some(7));
        assert_eq!(matcher.find(2, &api_event(1_700_000_000_456, 2)), None);
    }

    #[test]
    fn different_legs_or_times_do_not_match() {
        let mut matcher = Matcher::new(vec![file_event(7, 1_700_000_000_000, 2)], vec![]);
        assert_eq!(matcher.find(1, &api_event(1_700_000_000_456, 3)), None);
        assert_eq!(matcher.find(2, &api_event(1_700_000_005_000, 2)), None);
        assert_eq!(matcher.find(3, &api_event(1_700_000_001_999, 2)), Some(7));
    }

    #[test]
    fn links_from_earlier_runs_are_kept() {
        let mut matcher = Matcher::new(vec![file_event(7, 1_700_000_000_000, 2)], vec![(5, 7)]);
        assert_eq!(matcher.find(9, &api_event(1_700_000_000_456, 2)), None);
        assert_eq!(matcher.find(5, &api_event(1_700_000_000_456, 2)), Some(7));
    }
}
