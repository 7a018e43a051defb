//! One happening, one event: API records that describe an event already imported from a file.
//!
//! Kraken's and Coinbase's exports carry the ids their APIs use, so their events meet on
//! (account, external id). Binance's statement carries no ids, so an API record is matched to
//! a file event of the same account by content: the same kind, times less than two seconds
//! apart (statements have whole seconds, the API milliseconds), and exactly the same legs
//! (role, asset, amount). A file event matches at most one API record. Files written to the
//! minute (Bitstamp's older export, which has no ids either) put every row on a whole minute:
//! an API record that no file event within two seconds matches meets an untaken file event of
//! the same kind and legs at the start of its minute. Two API records of one event (the same
//! external id: Binance.US lists a staking reward in two streams) meet the file event the first
//! of them met, not a second one, in the same sync or a later one (the sync tells the matcher
//! what the records linked earlier stand for, [`Matcher::remember`]).
//!
//! Binance's statement also sums the fills of one second: one order filled in several parts
//! (or several orders of the same pair and side) within a second is one row per asset there,
//! and several fills from `myTrades`. [`Matcher::prepare`] looks at the events of a batch
//! (a page of a sync, every record at `renormalize`) before they are matched one by one: API
//! events of the same kind, the same second and the same direction (the assets sent and
//! received, so the same pair and side) that no file event matches alone are summed leg by
//! leg, and when the sums equal a file event's legs exactly, every one of them meets that
//! file event. What does not add up exactly is stored as its own event (for example the fills
//! of one second split over two pages): `check` then shows the doubled balance, and the user
//! removes one source.

use std::collections::{BTreeMap, BTreeSet};

use cointally_exchanges::NewEvent;
use cointally_exchanges::time::to_millis;
use rust_decimal::Decimal;

use crate::ledger::FileEvent;

/// How far apart (ms) the times of a file event and the API record of it may be.
const TIME_TOLERANCE_MS: i64 = 2_000;
/// A minute (ms): a file event on a whole minute also meets an API record within that minute.
const MINUTE_MS: i64 = 60_000;

type Legs = Vec<(String, String, Decimal)>;

/// API events that may add up to one statement row: (kind, second, (role, asset) of the
/// legs that are not fees).
type GroupKey = (String, i64, Vec<(String, String)>);

/// The file events of one account, waiting for the API records of the same happenings.
#[derive(Debug, Default)]
pub struct Matcher {
    /// (kind, whole second) → candidates (event id, legs), in id order.
    by_second: BTreeMap<(String, i64), Vec<(i64, Legs)>>,
    /// File events already taken by an API record in this run.
    taken: BTreeSet<i64>,
    /// API raw record id → the file event it was linked to in an earlier run.
    linked: BTreeMap<i64, i64>,
    /// API event external id → the file event it met: the fills whose sum a statement row is
    /// ([`Matcher::prepare`]), and every match [`Matcher::find`] made in this run, so that another
    /// record of the same event meets the same file event (Binance.US lists a staking reward in
    /// two streams, under one id).
    met: BTreeMap<String, i64>,
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
        Matcher { by_second, taken, linked: linked.into_iter().collect(), met: BTreeMap::new() }
    }

    /// Records that the API event `external_id` met `file_event` in an earlier run, so that
    /// another record of that event (a second listing arriving in a later sync) meets it too.
    pub fn remember(&mut self, external_id: &str, file_event: i64) {
        self.met.entry(external_id.to_owned()).or_insert(file_event);
    }

    /// Whether there is nothing to match against (the common case: no file was imported).
    pub fn is_empty(&self) -> bool {
        self.by_second.is_empty()
    }

    /// Looks at a batch of API events before they are matched one by one, and pairs the ones
    /// whose sum is one file event (a statement row that summed the fills of one second) with
    /// it; [`Matcher::find`] then gives that file event for each of them.
    pub fn prepare<'e>(&mut self, events: impl IntoIterator<Item = &'e NewEvent>) {
        if self.by_second.is_empty() {
            return;
        }
        // (kind, second, assets sent and received) → the events that no file event matches alone.
        let mut groups: BTreeMap<GroupKey, Vec<&NewEvent>> = BTreeMap::new();
        for event in events {
            if self.met.contains_key(&event.external_id) {
                continue;
            }
            let (kind, time_ms, legs) = shape(event);
            if self.candidate(&kind, time_ms, &legs).is_some() {
                continue;
            }
            let direction: Vec<(String, String)> =
                legs.iter().filter(|l| l.0 != "fee").map(|(role, asset, _)| (role.clone(), asset.clone())).collect();
            groups.entry((kind, time_ms.div_euclid(1000), direction)).or_default().push(event);
        }
        for ((kind, _, _), members) in groups.into_iter().filter(|(_, members)| members.len() > 1) {
            let mut sums: BTreeMap<(String, String), Decimal> = BTreeMap::new();
            let mut overflow = false;
            for member in &members {
                for (role, asset, amount) in shape(member).2 {
                    let sum = sums.entry((role, asset)).or_default();
                    match sum.checked_add(amount) {
                        Some(total) => *sum = total,
                        None => overflow = true,
                    }
                }
            }
            if overflow {
                continue;
            }
            let total = legs_key(sums.into_iter().map(|((role, asset), amount)| (role, asset, amount)).collect());
            // Every member within the tolerance of the file event's second.
            let times: Vec<i64> = members.iter().map(|m| to_millis(m.time)).collect();
            let Some(found) = times.first().and_then(|first| {
                self.candidates(&kind, *first).find(|(second, _, legs)| {
                    **legs == total && times.iter().all(|t| (second * 1000 - t).abs() < TIME_TOLERANCE_MS)
                })
            }) else {
                continue;
            };
            let file_event = found.1;
            self.taken.insert(file_event);
            for member in members {
                self.met.insert(member.external_id.clone(), file_event);
            }
        }
    }

    /// The file event that `event` (from the API raw record `raw_id`) is the same happening
    /// as, if one matches; the match is remembered.
    pub fn find(&mut self, raw_id: i64, event: &NewEvent) -> Option<i64> {
        if let Some(id) = self.linked.get(&raw_id).copied() {
            self.met.entry(event.external_id.clone()).or_insert(id);
            return Some(id);
        }
        if self.by_second.is_empty() {
            return None;
        }
        if let Some(id) = self.met.get(&event.external_id).copied() {
            self.linked.insert(raw_id, id);
            return Some(id);
        }
        let (kind, time_ms, legs) = shape(event);
        let id = self.candidate(&kind, time_ms, &legs)?;
        self.taken.insert(id);
        self.linked.insert(raw_id, id);
        self.met.insert(event.external_id.clone(), id);
        Some(id)
    }

    /// The first untaken file event of `kind` within the tolerance of `time_ms` with exactly
    /// `legs`; failing that, one whose time is the start of the minute `time_ms` falls in (a file
    /// written to the minute, such as Bitstamp's older export).
    fn candidate(&self, kind: &str, time_ms: i64, legs: &Legs) -> Option<i64> {
        self.candidates(kind, time_ms)
            .find(|(second, _, candidate)| *candidate == legs && (second * 1000 - time_ms).abs() < TIME_TOLERANCE_MS)
            .map(|(_, id, _)| id)
            .or_else(|| self.minute_candidate(kind, time_ms, legs))
    }

    /// The first untaken file event of `kind` at the whole minute containing `time_ms` (and not
    /// already within the seconds' tolerance) with exactly `legs`.
    fn minute_candidate(&self, kind: &str, time_ms: i64, legs: &Legs) -> Option<i64> {
        let minute_s = time_ms.div_euclid(MINUTE_MS) * (MINUTE_MS / 1000);
        if (minute_s * 1000 - time_ms).abs() < TIME_TOLERANCE_MS {
            return None;
        }
        self.by_second
            .get(&(kind.to_string(), minute_s))?
            .iter()
            .find(|(id, candidate)| !self.taken.contains(id) && candidate == legs)
            .map(|(id, _)| *id)
    }

    /// Untaken file events of `kind` within two seconds of `time_ms`: (second, id, legs).
    fn candidates<'m>(&'m self, kind: &str, time_ms: i64) -> impl Iterator<Item = (i64, i64, &'m Legs)> + 'm {
        let second = time_ms.div_euclid(1000);
        let kind = kind.to_string();
        (second - 2..=second + 2).flat_map(move |s| {
            self.by_second
                .get(&(kind.clone(), s))
                .into_iter()
                .flatten()
                .filter(|(id, _)| !self.taken.contains(id))
                .map(move |(id, legs)| (s, *id, legs))
        })
    }
}

/// An API event as the matcher compares it: kind, time (ms), legs that move something.
fn shape(event: &NewEvent) -> (String, i64, Legs) {
    let legs = legs_key(
        event
            .legs
            .iter()
            .filter(|l| !l.amount.is_zero())
            .map(|l| (l.role.as_str().to_string(), l.asset.clone(), l.amount))
            .collect(),
    );
    (event.kind.as_str().to_string(), to_millis(event.time), legs)
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

    /// An API trade, its id from its time (records of one time are one event).
    fn api_event(time_ms: i64, btc: i64) -> NewEvent {
        let time = Utc.timestamp_millis_opt(time_ms).unwrap();
        NewEvent::new(
            format!("trade:BTCUSDT:{time_ms}"),
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
        let other = NewEvent { external_id: "trade:BTCUSDT:2".into(), ..api_event(1_700_000_000_456, 2) };
        assert_eq!(matcher.find(2, &other), None);
    }

    /// Binance.US lists a staking reward in its staking history and its distribution history,
    /// under one id: both records are one event, which meets the file's row once.
    #[test]
    fn a_second_record_of_the_same_event_meets_the_file_event_the_first_met() {
        let mut matcher =
            Matcher::new(vec![file_event(7, 1_700_000_000_000, 2), file_event(8, 1_700_000_000_000, 2)], vec![]);
        assert_eq!(matcher.find(1, &api_event(1_700_000_000_456, 2)), Some(7));
        assert_eq!(matcher.find(2, &api_event(1_700_000_000_456, 2)), Some(7), "not the other row");
        // A record linked in an earlier run tells the matcher its event too.
        let mut matcher =
            Matcher::new(vec![file_event(7, 1_700_000_000_000, 2), file_event(8, 1_700_000_000_000, 2)], vec![(1, 7)]);
        assert_eq!(matcher.find(1, &api_event(1_700_000_000_456, 2)), Some(7));
        assert_eq!(matcher.find(2, &api_event(1_700_000_000_456, 2)), Some(7));
    }

    #[test]
    fn different_legs_or_times_do_not_match() {
        let mut matcher = Matcher::new(vec![file_event(7, 1_700_000_000_000, 2)], vec![]);
        assert_eq!(matcher.find(1, &api_event(1_700_000_000_456, 3)), None);
        assert_eq!(matcher.find(2, &api_event(1_700_000_005_000, 2)), None);
        assert_eq!(matcher.find(3, &api_event(1_700_000_001_999, 2)), Some(7));
    }

    /// A file written to the minute (Bitstamp's older export) meets the API records of its
    /// minute, one row each, in order; the next minute, or other legs, do not.
    #[test]
    fn a_file_event_on_a_whole_minute_meets_an_api_record_within_that_minute() {
        let minute = 1_700_000_040_000; // 22:14:00 UTC
        let mut matcher = Matcher::new(vec![file_event(7, minute, 2), file_event(8, minute, 2)], vec![]);
        assert_eq!(matcher.find(1, &api_event(minute + 37_250, 2)), Some(7));
        assert_eq!(matcher.find(2, &api_event(minute + 59_999, 2)), Some(8));
        assert_eq!(matcher.find(3, &api_event(minute + 12_000, 2)), None, "both rows taken");
        let mut matcher = Matcher::new(vec![file_event(7, minute, 2)], vec![]);
        assert_eq!(matcher.find(1, &api_event(minute + 60_000, 2)), None, "the next minute");
        assert_eq!(matcher.find(2, &api_event(minute + 30_000, 3)), None, "other legs");
        // A file event that is not on a whole minute keeps the two-second rule.
        let mut matcher = Matcher::new(vec![file_event(7, minute + 1_000, 2)], vec![]);
        assert_eq!(matcher.find(1, &api_event(minute + 30_000, 2)), None);
    }

    /// A buy of `btc` thousandths of BTC for `usdt` USDT paying `fee` hundredths of USDT.
    fn fill(id: u32, time_ms: i64, btc: i64, usdt: i64, fee: i64) -> NewEvent {
        let time = Utc.timestamp_millis_opt(time_ms).unwrap();
        NewEvent::new(
            format!("trade:BTCUSDT:{id}"),
            time,
            EventKind::Trade,
            vec![
                Leg::sent("USDT", Decimal::new(usdt, 0)),
                Leg::received("BTC", Decimal::new(btc, 3)),
                Leg::fee("USDT", Decimal::new(fee, 2)),
            ],
        )
    }

    /// The statement's row of those fills summed: one event, legs signed as stored.
    fn summed_row(id: i64, time_ms: i64, btc: i64, usdt: i64, fee: i64) -> FileEvent {
        FileEvent {
            id,
            kind: "trade".into(),
            time_ms,
            legs: vec![
                ("sent".into(), "USDT".into(), Decimal::new(-usdt, 0)),
                ("received".into(), "BTC".into(), Decimal::new(btc, 3)),
                ("fee".into(), "USDT".into(), Decimal::new(-fee, 2)),
            ],
        }
    }

    #[test]
    fn fills_that_a_statement_row_sums_meet_it_once() {
        let mut matcher = Matcher::new(vec![summed_row(7, 1_700_000_000_000, 30, 1200, 30)], vec![]);
        let fills = [
            fill(1, 1_700_000_000_100, 10, 400, 10),
            fill(2, 1_700_000_000_100, 15, 600, 10),
            fill(3, 1_700_000_000_900, 5, 200, 10),
        ];
        matcher.prepare(&fills);
        for (raw, event) in (1..).zip(&fills) {
            assert_eq!(matcher.find(raw, event), Some(7));
        }
        // The row is taken: another fill of the same size matches nothing.
        assert_eq!(matcher.find(9, &fill(4, 1_700_000_000_100, 30, 1200, 30)), None);
    }

    #[test]
    fn fills_that_do_not_add_up_exactly_or_share_no_second_are_not_summed() {
        let row = || summed_row(7, 1_700_000_000_000, 30, 1200, 30);
        // One fee hundredth short.
        let mut matcher = Matcher::new(vec![row()], vec![]);
        let fills = [fill(1, 1_700_000_000_100, 10, 400, 10), fill(2, 1_700_000_000_200, 20, 800, 19)];
        matcher.prepare(&fills);
        assert_eq!(matcher.find(1, &fills[0]), None);
        assert_eq!(matcher.find(2, &fills[1]), None);
        // The right sums, but in two different seconds.
        let mut matcher = Matcher::new(vec![row()], vec![]);
        let fills = [fill(1, 1_700_000_000_100, 10, 400, 10), fill(2, 1_700_000_001_200, 20, 800, 20)];
        matcher.prepare(&fills);
        assert_eq!(matcher.find(1, &fills[0]), None);
        // A fill that matches a row alone keeps its own row and is not summed with others.
        let mut matcher = Matcher::new(vec![summed_row(7, 1_700_000_000_000, 10, 400, 10), row()], vec![]);
        let fills = [fill(1, 1_700_000_000_100, 10, 400, 10), fill(2, 1_700_000_000_200, 20, 800, 20)];
        matcher.prepare(&fills);
        assert_eq!(matcher.find(1, &fills[0]), Some(7));
        assert_eq!(matcher.find(2, &fills[1]), None);
    }

    #[test]
    fn links_from_earlier_runs_are_kept() {
        let mut matcher = Matcher::new(vec![file_event(7, 1_700_000_000_000, 2)], vec![(5, 7)]);
        assert_eq!(matcher.find(9, &api_event(1_700_000_000_456, 2)), None);
        assert_eq!(matcher.find(5, &api_event(1_700_000_000_456, 2)), Some(7));
    }
}
