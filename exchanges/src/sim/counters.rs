//! The rate-limit counters exchanges use, for the simulators to enforce: a decaying counter
//! (a leaky bucket: Kraken's call counter, Coinbase's budgets), a fixed window aligned to the
//! Unix epoch (Binance's weights), and the record of what was spent, to report how much of a
//! budget a client used.
//!
//! Every counter works in thousandths of a unit, so slow decay rates stay exact, and takes
//! "now" (ms since the epoch) as a parameter: a test moves time by passing another number.

use rust_decimal::Decimal;

/// A counter that fills by each call's cost and decays at a steady rate (a leaky bucket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecayingCounter {
    capacity_milli: u64,
    decay_milli_per_second: u64,
    level_milli: u64,
    updated_ms: i64,
}

impl DecayingCounter {
    /// An empty counter holding at most `capacity` units, losing `decay_milli_per_second`
    /// thousandths of a unit per second.
    pub fn new(capacity: u64, decay_milli_per_second: u64) -> DecayingCounter {
        DecayingCounter {
            capacity_milli: capacity.saturating_mul(1000),
            decay_milli_per_second,
            level_milli: 0,
            updated_ms: 0,
        }
    }

    /// Lets the counter decay up to `now_ms` (time going backwards changes nothing).
    pub fn decay(&mut self, now_ms: i64) {
        let elapsed = u64::try_from(now_ms.saturating_sub(self.updated_ms)).unwrap_or(0);
        self.level_milli = self.level_milli.saturating_sub(elapsed.saturating_mul(self.decay_milli_per_second) / 1000);
        self.updated_ms = now_ms;
    }

    /// Whether a call costing `cost` units fits now (after [`DecayingCounter::decay`]).
    pub fn fits(&self, cost: u64) -> bool {
        self.level_milli.saturating_add(cost.saturating_mul(1000)) <= self.capacity_milli
    }

    /// Counts a call costing `cost` units.
    pub fn add(&mut self, cost: u64) {
        self.level_milli = self.level_milli.saturating_add(cost.saturating_mul(1000));
    }

    /// Decays to `now_ms`, then counts a call costing `cost` if it fits; whether it did.
    pub fn try_add(&mut self, now_ms: i64, cost: u64) -> bool {
        self.decay(now_ms);
        let fits = self.fits(cost);
        if fits {
            self.add(cost);
        }
        fits
    }

    /// The whole units the counter holds at most.
    pub fn capacity(&self) -> u64 {
        self.capacity_milli / 1000
    }

    /// The whole units still free (as of the last decay).
    pub fn remaining(&self) -> u64 {
        self.capacity_milli.saturating_sub(self.level_milli) / 1000
    }

    /// Whether the counter has decayed to zero.
    pub fn is_empty(&self) -> bool {
        self.level_milli == 0
    }

    /// Thousandths of a unit the counter allows over `span_ms`: its capacity plus its decay.
    pub fn allowed_milli(&self, span_ms: i64) -> u64 {
        let span = u64::try_from(span_ms).unwrap_or(0);
        self.capacity_milli.saturating_add(self.decay_milli_per_second.saturating_mul(span) / 1000)
    }
}

/// A budget counted per window of fixed length, windows aligned to multiples of the length
/// since the Unix epoch; it resets when a new window begins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedWindow {
    limit: u64,
    window_ms: i64,
    start_ms: i64,
    used: u64,
    over: u32,
}

impl FixedWindow {
    /// A window of `window_ms` (at least 1 ms) allowing `limit` units.
    pub fn new(limit: u64, window_ms: i64) -> FixedWindow {
        FixedWindow { limit, window_ms: window_ms.max(1), start_ms: i64::MIN, used: 0, over: 0 }
    }

    /// Moves to the window holding `now_ms`, starting it empty if it is a new one.
    pub fn roll(&mut self, now_ms: i64) {
        let start = now_ms - now_ms.rem_euclid(self.window_ms);
        if start != self.start_ms {
            self.start_ms = start;
            self.used = 0;
            self.over = 0;
        }
    }

    /// Whether `cost` more units fit in the current window.
    pub fn fits(&self, cost: u64) -> bool {
        self.used.saturating_add(cost) <= self.limit
    }

    /// Counts `cost` units in the current window.
    pub fn add(&mut self, cost: u64) {
        self.used = self.used.saturating_add(cost);
    }

    /// Counts one refused call in the current window; returns how many there were so far.
    pub fn refuse(&mut self) -> u32 {
        self.over = self.over.saturating_add(1);
        self.over
    }

    /// Units used in the current window.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// The units allowed per window.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The window length, ms.
    pub fn window_ms(&self) -> i64 {
        self.window_ms
    }

    /// When the current window began, ms since the epoch.
    pub fn start_ms(&self) -> i64 {
        self.start_ms
    }

    /// Whole seconds from `now_ms` to the end of the current window, at least 1.
    pub fn retry_after_seconds(&self, now_ms: i64) -> u64 {
        let left = self.start_ms.saturating_add(self.window_ms).saturating_sub(now_ms);
        u64::try_from((left + 999) / 1000).unwrap_or(1).max(1)
    }
}

/// What served calls spent: units, and the time of the first and the last.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spending {
    /// Units spent.
    pub spent: u64,
    /// First and last call, ms.
    pub span_ms: Option<(i64, i64)>,
}

impl Spending {
    /// Records a served call costing `cost` at `now_ms`.
    pub fn record(&mut self, now_ms: i64, cost: u64) {
        self.spent = self.spent.saturating_add(cost);
        self.span_ms = Some(self.span_ms.map_or((now_ms, now_ms), |(first, _)| (first, now_ms)));
    }

    /// Milliseconds from the first to the last call (0 before any).
    pub fn span_length_ms(&self) -> i64 {
        self.span_ms.map_or(0, |(first, last)| last - first)
    }
}

/// `used` units as a share of `allowed_milli` thousandths of a unit, in percent with two
/// places; `None` when nothing was allowed.
pub fn share_percent(used: u64, allowed_milli: u64) -> Option<Decimal> {
    (allowed_milli > 0).then(|| {
        (Decimal::from(used) * Decimal::from(1000) * Decimal::ONE_HUNDRED / Decimal::from(allowed_milli)).round_dp(2)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decaying_counter_fills_refuses_and_drains() {
        // Kraken's starter tier: 15 units, one unit every three seconds.
        let mut counter = DecayingCounter::new(15, 333);
        assert!((0..15).all(|_| counter.try_add(1_000, 1)));
        assert!(!counter.try_add(1_000, 1));
        assert!(!counter.try_add(3_000, 1), "2 s decay 0.666 of a unit");
        assert!(counter.try_add(4_100, 1), "3.1 s decay a whole unit");
        counter.decay(1_000_000);
        assert!(counter.is_empty());
        counter.decay(0);
        assert!(counter.is_empty(), "time going backwards decays nothing");
        assert_eq!(counter.allowed_milli(3_000), 15_000 + 999);
    }

    #[test]
    fn a_fixed_window_resets_on_epoch_aligned_boundaries() {
        let mut window = FixedWindow::new(10, 60_000);
        window.roll(1_700_000_020_000); // 40 s into a minute
        assert_eq!(window.start_ms(), 1_699_999_980_000);
        window.add(10);
        assert!(!window.fits(1));
        assert_eq!(window.refuse(), 1);
        assert_eq!(window.retry_after_seconds(1_700_000_020_000), 20);
        assert_eq!(window.retry_after_seconds(1_700_000_039_001), 1);
        window.roll(1_700_000_039_999);
        assert_eq!(window.used(), 10);
        window.roll(1_700_000_040_000);
        assert_eq!((window.used(), window.refuse()), (0, 1));
    }

    #[test]
    fn spending_and_its_share() {
        let mut spending = Spending::default();
        spending.record(1_000, 2);
        spending.record(4_000, 1);
        assert_eq!((spending.spent, spending.span_ms, spending.span_length_ms()), (3, Some((1_000, 4_000)), 3_000));
        assert_eq!(share_percent(3, 4_000), Some(Decimal::new(7_500, 2)));
        assert_eq!(share_percent(1, 3_000), Some(Decimal::new(3_333, 2)));
        assert_eq!(share_percent(1, 0), None);
    }
}
