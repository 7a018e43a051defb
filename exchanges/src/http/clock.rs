//! The clock the HTTP kit reads and sleeps on, as a parameter so tests can own time.
//!
//! Everything that depends on "now" (rate-limit windows, backoff sleeps, request timestamps,
//! ban ends) goes through [`Clock`]. Production uses [`SystemClock`]; tests use
//! [`ManualClock`], whose `sleep` moves its time forward at once, so a limiter that waits a
//! whole minute runs in microseconds and its arithmetic can be checked exactly.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time that can also make the caller wait.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch, local time (no exchange offset applied).
    fn now_ms(&self) -> i64;
    /// Blocks the calling thread for `d` (or, for a test clock, moves time forward by `d`).
    fn sleep(&self, d: Duration);
}

/// The machine's real clock and `std::thread::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => i64::try_from(since.as_millis()).unwrap_or(i64::MAX),
            // A clock set before 1970: report it as negative rather than panic.
            Err(before) => -i64::try_from(before.duration().as_millis()).unwrap_or(i64::MAX),
        }
    }

    fn sleep(&self, d: Duration) {
        if !d.is_zero() {
            std::thread::sleep(d);
        }
    }
}

/// A test clock: time stands still until someone sleeps or calls [`ManualClock::advance`].
///
/// `sleep(d)` returns at once after adding `d` to the time, so code that waits is exact and
/// instant. It is safe to share between threads (each sleeper advances the shared time).
#[derive(Debug)]
pub struct ManualClock {
    now_ms: AtomicI64,
    slept_ms: AtomicI64,
}

impl ManualClock {
    /// A clock that reads `start_ms` (ms since the Unix epoch) until it is moved.
    pub fn new(start_ms: i64) -> ManualClock {
        ManualClock { now_ms: AtomicI64::new(start_ms), slept_ms: AtomicI64::new(0) }
    }

    /// Moves the time forward by `d` without counting it as sleep.
    pub fn advance(&self, d: Duration) {
        self.now_ms.fetch_add(duration_ms(d), Ordering::SeqCst);
    }

    /// Sets the time to `ms` (it may go backwards: tests of clock trouble).
    pub fn set(&self, ms: i64) {
        self.now_ms.store(ms, Ordering::SeqCst);
    }

    /// The total time callers have slept on this clock, for asserting on waits.
    pub fn slept(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.slept_ms.load(Ordering::SeqCst)).unwrap_or(0))
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now_ms.load(Ordering::SeqCst)
    }

    fn sleep(&self, d: Duration) {
        let ms = duration_ms(d);
        self.slept_ms.fetch_add(ms, Ordering::SeqCst);
        self.now_ms.fetch_add(ms, Ordering::SeqCst);
        // Let other threads run, as a real sleep would.
        std::thread::yield_now();
    }
}

/// A duration in whole milliseconds, rounded up so that a sleep never ends early, saturating.
pub(crate) fn duration_ms(d: Duration) -> i64 {
    let ms = d.as_nanos().div_ceil(1_000_000);
    i64::try_from(ms).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn manual_clock_sleep_moves_time_at_once() {
        let clock = ManualClock::new(1_000);
        clock.sleep(Duration::from_millis(2_500));
        assert_eq!(clock.now_ms(), 3_500);
        clock.advance(Duration::from_secs(1));
        assert_eq!(clock.now_ms(), 4_500);
        assert_eq!(clock.slept(), Duration::from_millis(2_500));
        clock.set(10);
        assert_eq!(clock.now_ms(), 10);
    }

    #[test]
    fn manual_clock_is_shared_between_threads() {
        let clock = Arc::new(ManualClock::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let clock = Arc::clone(&clock);
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        clock.sleep(Duration::from_millis(1));
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(clock.now_ms(), 800);
    }

    #[test]
    fn sub_millisecond_sleeps_round_up() {
        assert_eq!(duration_ms(Duration::from_micros(1)), 1);
        assert_eq!(duration_ms(Duration::from_millis(5)), 5);
        assert_eq!(duration_ms(Duration::ZERO), 0);
    }

    #[test]
    fn system_clock_reads_a_plausible_time() {
        // After 2020-01-01 and before 2200: the machine clock is at least roughly right.
        let now = SystemClock.now_ms();
        assert!(now > 1_577_836_800_000 && now < 7_258_118_400_000, "{now}");
    }
}
