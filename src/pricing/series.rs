//! Cached prices of one market in memory: which candle values a time, and which request
//! windows cover the times that still need candles.
//!
//! The candle for a time is the one that contains it; when that one is missing (Coinbase
//! leaves out minutes without trades) the nearest candle by open time within the tolerance
//! (an hour for minute and hour candles, a day for day candles and price-file rows; ties go
//! to the earlier one). A time outside every range asked has no price from the cache: asking
//! is the planner's job ([`windows`]).

use rust_decimal::Decimal;

/// The most a candle may be away from the time it values.
pub fn tolerance_ms(granularity_ms: i64) -> i64 {
    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 86_400_000;
    match granularity_ms {
        0 => DAY,
        g if g >= DAY => DAY,
        g => g.max(HOUR),
    }
}

/// The candles of one market and granularity, with the ranges asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Series {
    /// (open time, close), sorted by time.
    pub prices: Vec<(i64, Decimal)>,
    /// Ranges asked, sorted and merged; `None`: everything is known (a price file).
    pub covered: Option<Vec<(i64, i64)>>,
    /// Candle length in ms (0 for instants).
    pub granularity_ms: i64,
}

impl Series {
    /// A series from cached prices and the ranges asked (`None`: complete, as a file is).
    pub fn new(prices: Vec<(i64, Decimal)>, covered: Option<Vec<(i64, i64)>>, granularity_ms: i64) -> Series {
        Series { prices, covered: covered.map(merge), granularity_ms }
    }

    /// Whether `time_ms` lies in a range that was asked.
    pub fn covers(&self, time_ms: i64) -> bool {
        match &self.covered {
            None => true,
            Some(ranges) => {
                let i = ranges.partition_point(|(from, _)| *from <= time_ms);
                i > 0 && ranges[i - 1].1 > time_ms
            }
        }
    }

    /// The candle that values `time_ms`: (its open time, its close).
    pub fn price_at(&self, time_ms: i64) -> Option<(i64, Decimal)> {
        if !self.covers(time_ms) {
            return None;
        }
        let key = if self.granularity_ms > 0 { time_ms - time_ms.rem_euclid(self.granularity_ms) } else { time_ms };
        let i = self.prices.partition_point(|(open, _)| *open <= key);
        let before = i.checked_sub(1).map(|j| self.prices[j]);
        if let Some(candle) = before.filter(|(open, _)| *open == key) {
            return Some(candle);
        }
        let after = self.prices.get(i).copied();
        let tolerance = tolerance_ms(self.granularity_ms);
        let distance = |open: i64| (open - key).abs();
        match (before, after) {
            (Some(b), Some(a)) if distance(a.0) < distance(b.0) => Some(a),
            (Some(b), _) => Some(b),
            (None, Some(a)) => Some(a),
            (None, None) => None,
        }
        .filter(|(open, _)| distance(*open) <= tolerance)
    }
}

impl Series {
    /// Marks `[from, to)` as asked (or planned), merged with the ranges it touches; nothing
    /// changes for a complete series.
    pub fn add_covered(&mut self, from: i64, to: i64) {
        let Some(ranges) = &mut self.covered else { return };
        let i = ranges.partition_point(|(start, _)| *start <= from);
        ranges.insert(i, (from, to));
        let mut j = i.saturating_sub(1);
        while j + 1 < ranges.len() {
            if ranges[j + 1].0 <= ranges[j].1 {
                ranges[j].1 = ranges[j].1.max(ranges[j + 1].1);
                ranges.remove(j + 1);
            } else if j < i {
                j += 1;
            } else {
                break;
            }
        }
    }
}

/// Sorts ranges and merges those that touch or overlap.
fn merge(mut ranges: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    ranges.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(ranges.len());
    for (from, to) in ranges {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    merged
}

/// The fewest request windows of at most `max_candles` candles that cover every time in
/// `times` not already covered: each window starts at the candle of the first time it has to
/// cover (greedy, which is optimal for points on a line). Windows end at `now_ms` at the
/// latest (no candle exists beyond it); a time at or after `now_ms` is left out.
pub fn windows(times: &[i64], covered: &Series, granularity_ms: i64, max_candles: u32, now_ms: i64) -> Vec<(i64, i64)> {
    let span = granularity_ms * i64::from(max_candles.max(1));
    let mut sorted: Vec<i64> = times.iter().copied().filter(|t| *t < now_ms && !covered.covers(*t)).collect();
    sorted.sort_unstable();
    let mut planned: Vec<(i64, i64)> = Vec::new();
    for t in sorted {
        if planned.last().is_some_and(|(_, end)| t < *end) {
            continue;
        }
        let start = t - t.rem_euclid(granularity_ms);
        let end = (start + span).min(now_ms).max(start + granularity_ms);
        planned.push((start, end));
    }
    planned
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn minutes(opens: &[i64]) -> Series {
        let prices = opens.iter().map(|m| (m * MIN, Decimal::from(*m))).collect();
        Series::new(prices, Some(vec![(0, 1000 * MIN)]), MIN)
    }

    #[test]
    fn the_containing_candle_wins_then_the_nearest_within_an_hour() {
        let series = minutes(&[10, 11, 13, 200]);
        assert_eq!(series.price_at(11 * MIN + 59_999), Some((11 * MIN, d("11"))));
        // Minute 12 is missing: 11 and 13 are equally near, the earlier wins.
        assert_eq!(series.price_at(12 * MIN + 30_000), Some((11 * MIN, d("11"))));
        // Minute 100: the nearest candle (13) is 87 minutes away: too far.
        assert_eq!(series.price_at(100 * MIN), None);
        assert_eq!(series.price_at(150 * MIN), Some((200 * MIN, d("200"))));
        // Outside every range asked: unknown, not missing.
        assert_eq!(series.price_at(2000 * MIN), None);
        assert!(!series.covers(1000 * MIN) && series.covers(999 * MIN));
    }

    #[test]
    fn windows_are_greedy_and_skip_what_is_covered() {
        let covered = Series::new(Vec::new(), Some(vec![(0, 100 * MIN), (100 * MIN, 150 * MIN)]), MIN);
        assert_eq!(covered.covered, Some(vec![(0, 150 * MIN)]));
        let times = [5 * MIN, 149 * MIN, 150 * MIN + 7, 160 * MIN, 449 * MIN, 450 * MIN, 2000 * MIN];
        let planned = windows(&times, &covered, MIN, 300, 1000 * MIN);
        // 150..450 covers 150, 160 and 449; 450 starts the next window, cut at now.
        assert_eq!(planned, vec![(150 * MIN, 450 * MIN), (450 * MIN, 750 * MIN)]);
        let nothing = Series::new(Vec::new(), Some(Vec::new()), MIN);
        let planned = windows(&[999 * MIN + 5], &nothing, MIN, 300, 999 * MIN + 10);
        assert_eq!(planned, vec![(999 * MIN, 1000 * MIN)]);
    }

    #[test]
    fn added_ranges_merge_with_those_they_touch() {
        let mut series = Series::new(Vec::new(), Some(vec![(10, 20), (30, 40), (50, 60)]), MIN);
        series.add_covered(0, 5);
        series.add_covered(20, 30);
        assert_eq!(series.covered, Some(vec![(0, 5), (10, 40), (50, 60)]));
        series.add_covered(35, 55);
        series.add_covered(70, 80);
        assert_eq!(series.covered, Some(vec![(0, 5), (10, 60), (70, 80)]));
        assert!(series.covers(59) && !series.covers(60) && series.covers(70));
        let mut file = Series::new(Vec::new(), None, 0);
        file.add_covered(0, 1);
        assert_eq!(file.covered, None);
    }

    #[test]
    fn instants_use_a_days_tolerance() {
        let day = 86_400_000;
        let file = Series::new(vec![(0, d("1")), (3 * day, d("3"))], None, 0);
        assert_eq!(file.price_at(day).map(|p| p.1), Some(d("1")));
        assert_eq!(file.price_at(day + day / 2 + 1).map(|p| p.1), None);
        assert_eq!(file.price_at(2 * day + 5).map(|p| p.1), Some(d("3")));
    }
}
