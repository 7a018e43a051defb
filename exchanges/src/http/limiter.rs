//! One request budget per exchange, shared by all its accounts and endpoints, spent before sending.
//!
//! Exchanges meter requests in named buckets: Binance counts request *weight* in fixed windows
//! aligned on the Unix epoch (6000 per minute per IP on `/api`, 12000 per minute per IP and
//! 180000 per minute per account on `/sapi`) and, beside it, raw requests (RAW_REQUESTS: each
//! `/api` request counts one, 61000 per 5 minutes per IP: a bucket whose weight is always 1);
//! Kraken keeps a call counter that decays
//! continuously. A [`Limiter`] holds one [`Bucket`](BucketKind) per name and, in
//! [`Limiter::acquire`], blocks the caller until *every* bucket a request costs has room for its
//! weight, then counts the weight in all of them at once. Counting happens before the request
//! is sent, and is exact, so the whole budget can be spent (no 429 in normal operation, hence
//! never a 418 ban) while callers never wait when there is room.
//!
//! The exchange's own view corrects ours: [`Limiter::observe`] raises a bucket's count to what
//! a usage header says (other programs on the same IP, requests we lost count of) and learns
//! the window's length from the header; [`Limiter::pause_until`] stops every caller until a
//! `Retry-After` or a ban has passed. Windows are computed in the *exchange's* time (local clock
//! plus the offset measured from its server time, [`Limiter::set_clock_offset_ms`]).
//!
//! Window edges: our idea of the exchange's time is never exact, and a request counted at the
//! end of one of our windows may arrive in the exchange's next one. Each fixed window therefore
//! opens for us a small *guard* after its computed start, and weight spent within twice that
//! guard of a window's end is counted in the next window too. The guard defaults to 1 % of the
//! window, at least 100 ms and at most one second ([`LimiterConfig::guard_permille`],
//! [`LimiterConfig::min_guard`]): a short window (Binance's per-second withdraw-history bucket)
//! would otherwise get a 10 ms guard, less than a loaded machine's delay between counting a
//! request and the exchange receiving it, and a request counted late in one second would land
//! in the exchange's next one, on top of that second's full budget (a 429).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::clock::{Clock, duration_ms};

/// How a bucket meters weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BucketKind {
    /// At most `limit` weight per window of length `window`; windows start at multiples of
    /// `window` since the Unix epoch (exchange time), and the count resets at each start.
    FixedWindow {
        /// Weight allowed per window.
        limit: u64,
        /// The window's length.
        window: Duration,
    },
    /// A counter that may not exceed `capacity` and decreases by `per_second` continuously
    /// (Kraken's API call counter).
    Decay {
        /// The highest the counter may reach.
        capacity: u64,
        /// How much the counter decreases per second.
        per_second: f64,
    },
}

/// Tuning of a [`Limiter`]; the defaults suit every exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimiterConfig {
    /// Part of every limit left unused, in thousandths (0 = spend up to 100 % of the limit).
    pub reserve_permille: u32,
    /// Guard at window edges, in thousandths of the window (capped at `max_guard`).
    pub guard_permille: u32,
    /// The smallest guard, whatever the window (a request's travel time, with room to spare).
    pub min_guard: Duration,
    /// The largest guard, whatever the window.
    pub max_guard: Duration,
}

impl Default for LimiterConfig {
    fn default() -> LimiterConfig {
        LimiterConfig {
            reserve_permille: 0,
            guard_permille: 10,
            min_guard: Duration::from_millis(100),
            max_guard: Duration::from_secs(1),
        }
    }
}

/// What one [`Limiter::acquire`] cost the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// How long the caller waited for room (or for a pause to end).
    pub waited: Duration,
    /// The exchange time (ms) at which the weight was counted.
    pub at_ms: i64,
}

/// What a bucket has seen so far, for reports ("budget used", "time spent waiting").
#[derive(Debug, Clone, PartialEq)]
pub struct BucketStats {
    /// How the bucket meters (None: created on demand and never given limits).
    pub kind: Option<BucketKind>,
    /// Weight counted by [`Limiter::acquire`].
    pub weight: u64,
    /// Number of acquisitions that named this bucket.
    pub requests: u64,
    /// Time callers waited because this bucket was full (the longest wait of a request is
    /// charged to the bucket that caused it).
    pub waited: Duration,
    /// Weight added by the exchange's usage headers above our own count.
    pub corrected: u64,
}

/// The per-exchange request budget: named buckets, a pause, and the exchange clock offset.
pub struct Limiter {
    clock: Arc<dyn Clock>,
    config: LimiterConfig,
    offset_ms: AtomicI64,
    state: Mutex<State>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter").field("config", &self.config).finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    buckets: BTreeMap<String, Bucket>,
    /// Kinds given to buckets created on demand, by name prefix.
    prefixes: Vec<(String, BucketKind)>,
    /// Nobody acquires before this local time (ms).
    paused_until_ms: i64,
}

struct Bucket {
    kind: Option<BucketKind>,
    /// Fixed window: the index of the window `count` belongs to. Decay: unused.
    window_index: i64,
    /// Fixed window: weight counted in the window. Decay: the counter (in thousandths).
    count: u64,
    /// Fixed window: weight also owed to the next window (spent at this window's edge).
    carry: u64,
    /// Decay: exchange time of the last update.
    updated_ms: i64,
    stats: BucketStats,
}

impl Bucket {
    fn new(kind: Option<BucketKind>) -> Bucket {
        Bucket {
            kind,
            window_index: i64::MIN,
            count: 0,
            carry: 0,
            updated_ms: i64::MIN,
            stats: BucketStats { kind, weight: 0, requests: 0, waited: Duration::ZERO, corrected: 0 },
        }
    }

    fn set_kind(&mut self, kind: BucketKind, now_ms: i64, config: &LimiterConfig) {
        let old = self.kind;
        self.kind = Some(kind);
        self.stats.kind = Some(kind);
        match (old, kind) {
            (Some(BucketKind::FixedWindow { window: before, .. }), BucketKind::FixedWindow { window, .. }) => {
                if before != window {
                    // Keep what was counted (conservative) in the window of the new length.
                    self.window_index = fixed_index(now_ms, window, config);
                    self.carry = 0;
                }
            }
            (Some(BucketKind::Decay { .. }), BucketKind::Decay { .. }) => {}
            _ => {
                // A change of nature: restart from zero, the exchange's headers will correct.
                self.window_index = i64::MIN;
                self.count = 0;
                self.carry = 0;
                self.updated_ms = i64::MIN;
            }
        }
    }

    /// Brings the count up to exchange time `now_ms` (new window, or decay since the last update).
    fn roll(&mut self, now_ms: i64, config: &LimiterConfig) {
        match self.kind {
            Some(BucketKind::FixedWindow { window, .. }) => {
                let index = fixed_index(now_ms, window, config);
                if index > self.window_index {
                    self.count = if index == self.window_index.saturating_add(1) { self.carry } else { 0 };
                    self.carry = 0;
                    self.window_index = index;
                }
            }
            Some(BucketKind::Decay { per_second, .. }) => {
                if self.updated_ms != i64::MIN && now_ms > self.updated_ms {
                    let elapsed_ms = (now_ms - self.updated_ms) as f64;
                    // count is in thousandths: per_second units/s = per_second thousandths/ms.
                    let decayed = (elapsed_ms * per_second).floor().max(0.0);
                    self.count = self.count.saturating_sub(decayed as u64);
                }
                if now_ms > self.updated_ms {
                    self.updated_ms = now_ms;
                }
            }
            None => {}
        }
    }

    /// How long (ms) until `weight` fits, at exchange time `now_ms` (after `roll`).
    fn wait_ms(&self, weight: u64, now_ms: i64, config: &LimiterConfig) -> i64 {
        match self.kind {
            Some(BucketKind::FixedWindow { limit, window }) => {
                let usable = usable(limit, config);
                // A request heavier than the whole budget goes alone into an empty window.
                if self.count.saturating_add(weight) <= usable || (self.count == 0 && weight > usable) {
                    return 0;
                }
                let next_start = window_start(self.window_index.saturating_add(1), window, config);
                (next_start - now_ms).max(1)
            }
            Some(BucketKind::Decay { capacity, per_second }) => {
                let usable = usable(capacity, config).saturating_mul(1000);
                let weight = weight.saturating_mul(1000);
                if self.count.saturating_add(weight) <= usable || (self.count == 0 && weight > usable) {
                    return 0;
                }
                if per_second <= 0.0 {
                    return i64::MAX;
                }
                let excess = self.count.saturating_add(weight.min(usable)).saturating_sub(usable) as f64;
                ((excess / per_second).ceil() as i64).max(1)
            }
            None => 0,
        }
    }

    fn add(&mut self, weight: u64, now_ms: i64, config: &LimiterConfig) {
        self.stats.weight = self.stats.weight.saturating_add(weight);
        self.stats.requests += 1;
        match self.kind {
            Some(BucketKind::FixedWindow { window, .. }) => {
                self.count = self.count.saturating_add(weight);
                let end = window_start(self.window_index.saturating_add(1), window, config);
                if end - now_ms <= 2 * guard_ms(window, config) {
                    self.carry = self.carry.saturating_add(weight);
                }
            }
            Some(BucketKind::Decay { .. }) => self.count = self.count.saturating_add(weight.saturating_mul(1000)),
            None => self.count = self.count.saturating_add(weight),
        }
    }
}

/// The limit minus the configured reserve.
fn usable(limit: u64, config: &LimiterConfig) -> u64 {
    let reserve = limit.saturating_mul(u64::from(config.reserve_permille.min(1000))) / 1000;
    limit - reserve
}

fn window_ms(window: Duration) -> i64 {
    duration_ms(window).max(1)
}

fn guard_ms(window: Duration, config: &LimiterConfig) -> i64 {
    let by_share = window_ms(window).saturating_mul(i64::from(config.guard_permille)) / 1000;
    by_share.max(duration_ms(config.min_guard)).min(duration_ms(config.max_guard)).min(window_ms(window) / 4)
}

/// The index of the window containing exchange time `now_ms`, windows opening `guard` late.
fn fixed_index(now_ms: i64, window: Duration, config: &LimiterConfig) -> i64 {
    (now_ms - guard_ms(window, config)).div_euclid(window_ms(window))
}

/// When (exchange ms) window `index` opens for us: its aligned start plus the guard.
fn window_start(index: i64, window: Duration, config: &LimiterConfig) -> i64 {
    index.saturating_mul(window_ms(window)).saturating_add(guard_ms(window, config))
}

impl Limiter {
    /// An empty limiter (no buckets yet) on `clock`, with the default [`LimiterConfig`].
    pub fn new(clock: Arc<dyn Clock>) -> Limiter {
        Limiter::with_config(clock, LimiterConfig::default())
    }

    /// An empty limiter with explicit tuning.
    pub fn with_config(clock: Arc<dyn Clock>, config: LimiterConfig) -> Limiter {
        Limiter { clock, config, offset_ms: AtomicI64::new(0), state: Mutex::new(State::default()) }
    }

    /// The clock the limiter waits on.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Exchange time minus local time (ms), as last measured; 0 until then.
    pub fn clock_offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::SeqCst)
    }

    /// Records the exchange's clock offset (server time minus local time, ms): windows and
    /// request timestamps follow it from now on.
    pub fn set_clock_offset_ms(&self, offset_ms: i64) {
        self.offset_ms.store(offset_ms, Ordering::SeqCst);
    }

    /// The exchange's time now (local clock plus the offset), in ms since the epoch.
    pub fn exchange_now_ms(&self) -> i64 {
        self.clock.now_ms().saturating_add(self.clock_offset_ms())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A thread that panicked while holding the lock left the counts consistent enough.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Declares bucket `name` with `kind` if it does not exist yet (a kind learned since is kept).
    pub fn declare(&self, name: &str, kind: BucketKind) {
        let now = self.exchange_now_ms();
        let mut state = self.lock();
        let bucket = state.buckets.entry(name.to_owned()).or_insert_with(|| Bucket::new(None));
        if bucket.kind.is_none() {
            bucket.set_kind(kind, now, &self.config);
        }
    }

    /// Buckets created on demand whose name starts with `prefix` get `kind` (per-account
    /// buckets such as `sapi_uid:<account>`).
    pub fn declare_prefix(&self, prefix: &str, kind: BucketKind) {
        let mut state = self.lock();
        state.prefixes.retain(|(known, _)| known != prefix);
        state.prefixes.push((prefix.to_owned(), kind));
    }

    /// Sets (or changes) bucket `name`'s limits, e.g. learned from the exchange; counts are kept.
    pub fn set_kind(&self, name: &str, kind: BucketKind) {
        let now = self.exchange_now_ms();
        let mut state = self.lock();
        let bucket = state.buckets.entry(name.to_owned()).or_insert_with(|| Bucket::new(None));
        if bucket.kind != Some(kind) {
            log::debug!("rate limit bucket {name}: {kind:?}");
            bucket.set_kind(kind, now, &self.config);
        }
    }

    /// The kind of bucket `name`, if it exists and has one.
    pub fn kind(&self, name: &str) -> Option<BucketKind> {
        self.lock().buckets.get(name).and_then(|bucket| bucket.kind)
    }

    /// Blocks until every bucket in `costs` has room for its weight (and no pause is on),
    /// then counts the weight in all of them at once. Unknown buckets are created (with the
    /// kind of a declared prefix, or unlimited). The same bucket named twice counts twice.
    pub fn acquire(&self, costs: &[(&str, u64)]) -> Grant {
        let mut totals: Vec<(&str, u64)> = Vec::with_capacity(costs.len());
        for &(name, weight) in costs {
            match totals.iter_mut().find(|(known, _)| *known == name) {
                Some(entry) => entry.1 = entry.1.saturating_add(weight),
                None => totals.push((name, weight)),
            }
        }
        let mut waited = Duration::ZERO;
        loop {
            let wait = {
                let mut state = self.lock();
                let local_now = self.clock.now_ms();
                let now = local_now.saturating_add(self.clock_offset_ms());
                let mut wait_ms = 0i64;
                let mut cause: Option<&str> = None;
                if state.paused_until_ms > local_now {
                    wait_ms = state.paused_until_ms - local_now;
                }
                for &(name, weight) in &totals {
                    let bucket = bucket_entry(&mut state, name);
                    bucket.roll(now, &self.config);
                    let bucket_wait = bucket.wait_ms(weight, now, &self.config);
                    if bucket_wait > wait_ms {
                        wait_ms = bucket_wait;
                        cause = Some(name);
                    }
                }
                if wait_ms == 0 {
                    for &(name, weight) in &totals {
                        bucket_entry(&mut state, name).add(weight, now, &self.config);
                    }
                    return Grant { waited, at_ms: now };
                }
                let wait = Duration::from_millis(u64::try_from(wait_ms).unwrap_or(u64::MAX));
                if let Some(name) = cause {
                    let bucket = bucket_entry(&mut state, name);
                    bucket.stats.waited = bucket.stats.waited.saturating_add(wait);
                }
                wait
            };
            self.clock.sleep(wait);
            waited = waited.saturating_add(wait);
        }
    }

    /// The exchange says `used` weight is counted in the current window of `bucket`: our count
    /// becomes at least that. A `window` (from a header's interval suffix) different from the
    /// bucket's teaches the bucket its real window length (same limit).
    pub fn observe(&self, bucket: &str, used: u64, window: Option<Duration>) {
        self.observe_sent_at(bucket, used, window, None);
    }

    /// Like [`Limiter::observe`], for the answer to a request counted at exchange time
    /// `sent_at_ms`: the count is only raised when the request was sent in the current window
    /// (otherwise the exchange's number may belong to the previous window).
    pub fn observe_sent_at(&self, name: &str, used: u64, window: Option<Duration>, sent_at_ms: Option<i64>) {
        let now = self.exchange_now_ms();
        let mut state = self.lock();
        let bucket = bucket_entry(&mut state, name);
        if let (Some(window), Some(BucketKind::FixedWindow { limit, window: known })) = (window, bucket.kind) {
            if window != known && !window.is_zero() {
                log::debug!("rate limit bucket {name}: window learned from the exchange: {window:?}");
                bucket.set_kind(BucketKind::FixedWindow { limit, window }, now, &self.config);
            }
        }
        bucket.roll(now, &self.config);
        match bucket.kind {
            Some(BucketKind::FixedWindow { window, .. }) => {
                let sent_in_an_earlier_window =
                    sent_at_ms.is_some_and(|sent| fixed_index(sent, window, &self.config) != bucket.window_index);
                if sent_in_an_earlier_window {
                    return;
                }
                if used > bucket.count {
                    bucket.stats.corrected = bucket.stats.corrected.saturating_add(used - bucket.count);
                    bucket.count = used;
                }
            }
            Some(BucketKind::Decay { .. }) => {
                let used = used.saturating_mul(1000);
                if used > bucket.count {
                    bucket.stats.corrected = bucket.stats.corrected.saturating_add((used - bucket.count) / 1000);
                    bucket.count = used;
                }
            }
            None => {}
        }
    }

    /// Nobody acquires before local time `until_ms` (a `Retry-After`, a ban). Pauses only extend.
    pub fn pause_until(&self, until_ms: i64) {
        let mut state = self.lock();
        if until_ms > state.paused_until_ms {
            state.paused_until_ms = until_ms;
        }
    }

    /// The local time (ms) before which nobody may acquire; in the past when there is no pause.
    pub fn paused_until_ms(&self) -> i64 {
        self.lock().paused_until_ms
    }

    /// Per bucket: weight spent, requests, time waited, corrections from the exchange.
    pub fn stats(&self) -> BTreeMap<String, BucketStats> {
        self.lock().buckets.iter().map(|(name, bucket)| (name.clone(), bucket.stats.clone())).collect()
    }
}

/// The bucket called `name`, created (with a declared prefix's kind, if any) when missing.
fn bucket_entry<'a>(state: &'a mut State, name: &str) -> &'a mut Bucket {
    if !state.buckets.contains_key(name) {
        let kind = state
            .prefixes
            .iter()
            .filter(|(prefix, _)| name.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, kind)| *kind);
        state.buckets.insert(name.to_owned(), Bucket::new(kind));
    }
    match state.buckets.get_mut(name) {
        Some(bucket) => bucket,
        None => unreachable!("bucket inserted just above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::clock::ManualClock;

    const MINUTE: Duration = Duration::from_secs(60);

    /// A limiter on a manual clock with exact windows (no guard), starting at `start_ms`.
    fn exact(start_ms: i64) -> (Arc<ManualClock>, Limiter) {
        let clock = Arc::new(ManualClock::new(start_ms));
        let config = LimiterConfig { guard_permille: 0, min_guard: Duration::ZERO, ..LimiterConfig::default() };
        (Arc::clone(&clock), Limiter::with_config(clock, config))
    }

    #[test]
    fn fixed_window_fills_then_waits_for_the_next_window() {
        // 10 s into a minute window.
        let (clock, limiter) = exact(1_700_000_040_000 + 10_000);
        limiter.declare("api", BucketKind::FixedWindow { limit: 100, window: MINUTE });
        for _ in 0..5 {
            assert_eq!(limiter.acquire(&[("api", 20)]).waited, Duration::ZERO);
        }
        // Full: the next request waits exactly until the next minute starts (50 s).
        let grant = limiter.acquire(&[("api", 20)]);
        assert_eq!(grant.waited, Duration::from_secs(50));
        assert_eq!(grant.at_ms, 1_700_000_100_000);
        assert_eq!(clock.now_ms(), 1_700_000_100_000);
        let stats = &limiter.stats()["api"];
        assert_eq!((stats.weight, stats.requests, stats.waited), (120, 6, Duration::from_secs(50)));
    }

    #[test]
    fn windows_are_aligned_on_the_epoch_in_exchange_time() {
        let (_clock, limiter) = exact(59_000);
        limiter.declare("api", BucketKind::FixedWindow { limit: 10, window: MINUTE });
        // The exchange is 2 s ahead: its minute ended 1 s ago, so the budget is fresh ...
        limiter.set_clock_offset_ms(2_000);
        assert_eq!(limiter.exchange_now_ms(), 61_000);
        assert_eq!(limiter.acquire(&[("api", 10)]).waited, Duration::ZERO);
        // ... and the next one opens at exchange time 120 000, local 118 000.
        assert_eq!(limiter.acquire(&[("api", 1)]).waited, Duration::from_millis(59_000));
    }

    #[test]
    fn a_request_waits_until_every_bucket_it_names_has_room() {
        let (_clock, limiter) = exact(0);
        limiter.declare("ip", BucketKind::FixedWindow { limit: 100, window: MINUTE });
        limiter.declare("uid", BucketKind::FixedWindow { limit: 10, window: Duration::from_secs(1) });
        assert_eq!(limiter.acquire(&[("ip", 1), ("uid", 10)]).waited, Duration::ZERO);
        // uid frees up after one second; ip still has room.
        assert_eq!(limiter.acquire(&[("ip", 1), ("uid", 10)]).waited, Duration::from_secs(1));
        // A request on ip alone never waited for uid.
        assert_eq!(limiter.acquire(&[("ip", 1)]).waited, Duration::ZERO);
        let stats = limiter.stats();
        assert_eq!(stats["ip"].weight, 3);
        assert_eq!(stats["uid"].weight, 20);
        assert_eq!(stats["uid"].waited, Duration::from_secs(1));
        assert_eq!(stats["ip"].waited, Duration::ZERO);
    }

    #[test]
    fn nothing_is_counted_while_waiting() {
        let (_clock, limiter) = exact(0);
        limiter.declare("a", BucketKind::FixedWindow { limit: 10, window: MINUTE });
        limiter.declare("b", BucketKind::FixedWindow { limit: 10, window: Duration::from_secs(1) });
        limiter.acquire(&[("b", 10)]);
        limiter.acquire(&[("a", 5), ("b", 1)]); // waits 1 s for b, then counts a once
        assert_eq!(limiter.stats()["a"].weight, 5);
        assert_eq!(limiter.acquire(&[("a", 5)]).waited, Duration::ZERO);
    }

    #[test]
    fn decay_bucket_lets_weight_through_as_the_counter_drains() {
        let (clock, limiter) = exact(0);
        limiter.declare("kraken", BucketKind::Decay { capacity: 15, per_second: 0.5 });
        for _ in 0..15 {
            assert_eq!(limiter.acquire(&[("kraken", 1)]).waited, Duration::ZERO);
        }
        // Full: one more unit needs 2 s of decay.
        assert_eq!(limiter.acquire(&[("kraken", 1)]).waited, Duration::from_secs(2));
        // After 10 s idle, 5 units have drained.
        clock.advance(Duration::from_secs(10));
        for _ in 0..5 {
            assert_eq!(limiter.acquire(&[("kraken", 1)]).waited, Duration::ZERO);
        }
        assert_eq!(limiter.acquire(&[("kraken", 2)]).waited, Duration::from_secs(4));
    }

    #[test]
    fn observe_raises_the_count_but_never_lowers_it() {
        let (_clock, limiter) = exact(0);
        limiter.declare("api", BucketKind::FixedWindow { limit: 100, window: MINUTE });
        limiter.acquire(&[("api", 10)]);
        // Another program on the same IP spent 80.
        limiter.observe("api", 90, Some(MINUTE));
        assert_eq!(limiter.acquire(&[("api", 10)]).waited, Duration::ZERO);
        assert_eq!(limiter.acquire(&[("api", 1)]).waited, Duration::from_secs(60));
        // A lower figure changes nothing.
        limiter.observe("api", 1, None);
        assert_eq!(limiter.acquire(&[("api", 99)]).waited, Duration::ZERO);
        assert_eq!(limiter.stats()["api"].corrected, 80);
    }

    #[test]
    fn observe_ignores_answers_to_requests_of_an_earlier_window() {
        let (clock, limiter) = exact(0);
        limiter.declare("api", BucketKind::FixedWindow { limit: 100, window: MINUTE });
        let grant = limiter.acquire(&[("api", 1)]);
        clock.advance(MINUTE);
        limiter.observe_sent_at("api", 100, None, Some(grant.at_ms));
        assert_eq!(limiter.acquire(&[("api", 100)]).waited, Duration::ZERO);
    }

    #[test]
    fn observe_learns_the_window_from_the_header() {
        let (_clock, limiter) = exact(0);
        limiter.declare("sapi_ip", BucketKind::FixedWindow { limit: 12_000, window: MINUTE });
        limiter.observe("sapi_ip", 12_000, Some(Duration::from_secs(5)));
        assert_eq!(
            limiter.kind("sapi_ip"),
            Some(BucketKind::FixedWindow { limit: 12_000, window: Duration::from_secs(5) })
        );
        assert_eq!(limiter.acquire(&[("sapi_ip", 1)]).waited, Duration::from_secs(5));
    }

    #[test]
    fn pause_until_stops_everybody_then_lets_them_go() {
        let (clock, limiter) = exact(1_000);
        limiter.declare("api", BucketKind::FixedWindow { limit: 100, window: MINUTE });
        limiter.pause_until(31_000);
        limiter.pause_until(5_000); // pauses only extend
        let grant = limiter.acquire(&[("api", 1)]);
        assert_eq!(grant.waited, Duration::from_secs(30));
        assert_eq!(clock.now_ms(), 31_000);
        assert_eq!(limiter.acquire(&[("unknown", 1)]).waited, Duration::ZERO);
    }

    #[test]
    fn prefixes_give_per_account_buckets_their_limits() {
        let (_clock, limiter) = exact(0);
        limiter.declare_prefix("uid:", BucketKind::FixedWindow { limit: 10, window: MINUTE });
        limiter.declare_prefix("uid_1s:", BucketKind::FixedWindow { limit: 10, window: Duration::from_secs(1) });
        limiter.acquire(&[("uid:alice", 10), ("uid_1s:bob", 10)]);
        assert_eq!(limiter.kind("uid:alice"), Some(BucketKind::FixedWindow { limit: 10, window: MINUTE }));
        // Bob's minute bucket is his own.
        assert_eq!(limiter.acquire(&[("uid:bob", 10)]).waited, Duration::ZERO);
        assert_eq!(limiter.acquire(&[("uid_1s:bob", 1)]).waited, Duration::from_secs(1));
        // Unknown names without a prefix are counted but unlimited.
        assert_eq!(limiter.acquire(&[("free", 1_000_000)]).waited, Duration::ZERO);
        assert_eq!(limiter.stats()["free"].kind, None);
    }

    #[test]
    fn declare_keeps_a_learned_kind_and_set_kind_replaces_it() {
        let (_clock, limiter) = exact(0);
        let learned = BucketKind::FixedWindow { limit: 6_000, window: Duration::from_secs(5) };
        limiter.set_kind("api", learned);
        limiter.declare("api", BucketKind::FixedWindow { limit: 1_200, window: MINUTE });
        assert_eq!(limiter.kind("api"), Some(learned));
    }

    #[test]
    fn a_request_heavier_than_the_budget_goes_alone_into_an_empty_window() {
        let (_clock, limiter) = exact(0);
        limiter.declare("api", BucketKind::FixedWindow { limit: 10, window: MINUTE });
        assert_eq!(limiter.acquire(&[("api", 50)]).waited, Duration::ZERO);
        assert_eq!(limiter.acquire(&[("api", 50)]).waited, MINUTE);
    }

    #[test]
    fn reserve_keeps_part_of_the_limit_unused() {
        let clock = Arc::new(ManualClock::new(0));
        let config = LimiterConfig {
            reserve_permille: 200,
            guard_permille: 0,
            min_guard: Duration::ZERO,
            ..LimiterConfig::default()
        };
        let limiter = Limiter::with_config(clock, config);
        limiter.declare("api", BucketKind::FixedWindow { limit: 100, window: MINUTE });
        assert_eq!(limiter.acquire(&[("api", 80)]).waited, Duration::ZERO);
        assert_eq!(limiter.acquire(&[("api", 1)]).waited, MINUTE);
    }

    #[test]
    fn guard_opens_windows_late_and_carries_edge_weight_over() {
        let clock = Arc::new(ManualClock::new(0));
        // Guard 1 % of 10 s = 100 ms.
        let limiter = Limiter::with_config(Arc::clone(&clock) as Arc<dyn Clock>, LimiterConfig::default());
        limiter.declare("api", BucketKind::FixedWindow { limit: 100, window: Duration::from_secs(10) });
        // At 150 ms we are in the window that opened (for us) at 100 ms.
        clock.set(150);
        limiter.acquire(&[("api", 100)]);
        // The next window opens at 10 100, not 10 000.
        assert_eq!(limiter.acquire(&[("api", 30)]).waited, Duration::from_millis(9_950));
        // Weight spent in the last 200 ms of a window also counts in the next one.
        clock.set(19_950);
        limiter.acquire(&[("api", 60)]);
        clock.set(20_100);
        assert_eq!(limiter.acquire(&[("api", 40)]).waited, Duration::ZERO);
        assert_eq!(limiter.acquire(&[("api", 1)]).waited, Duration::from_millis(10_000));
    }

    #[test]
    fn a_one_second_window_gets_the_guard_floor_not_ten_milliseconds() {
        let clock = Arc::new(ManualClock::new(0));
        let limiter = Limiter::with_config(Arc::clone(&clock) as Arc<dyn Clock>, LimiterConfig::default());
        limiter.declare("uid_1s", BucketKind::FixedWindow { limit: 10, window: Duration::from_secs(1) });
        clock.set(150);
        limiter.acquire(&[("uid_1s", 10)]);
        // The next second opens for us 100 ms late (1 % would be 10 ms).
        assert_eq!(limiter.acquire(&[("uid_1s", 1)]).waited, Duration::from_millis(950));
        // A request counted 150 ms before the end of our window may reach the exchange in its
        // next second: it is owed to that second too.
        clock.set(1_950);
        limiter.acquire(&[("uid_1s", 9)]);
        clock.set(2_100);
        assert_eq!(limiter.acquire(&[("uid_1s", 1)]).waited, Duration::ZERO);
        assert_eq!(limiter.acquire(&[("uid_1s", 1)]).waited, Duration::from_millis(1_000));
    }

    #[test]
    fn concurrent_acquirers_never_exceed_the_limit() {
        let (clock, limiter) = exact(0);
        let limiter = Arc::new(limiter);
        let window = Duration::from_secs(1);
        limiter.declare("api", BucketKind::FixedWindow { limit: 100, window });
        limiter.declare("uid", BucketKind::FixedWindow { limit: 250, window: Duration::from_secs(3) });
        let threads: Vec<_> = (0..8u64)
            .map(|thread| {
                let limiter = Arc::clone(&limiter);
                std::thread::spawn(move || {
                    let mut grants = Vec::new();
                    for _ in 0..100 {
                        let weight = 1 + thread % 7;
                        let grant = limiter.acquire(&[("api", weight), ("uid", weight)]);
                        grants.push((grant.at_ms, weight));
                    }
                    grants
                })
            })
            .collect();
        let mut per_second: BTreeMap<i64, u64> = BTreeMap::new();
        let mut per_three: BTreeMap<i64, u64> = BTreeMap::new();
        let mut total = 0;
        for thread in threads {
            for (at_ms, weight) in thread.join().unwrap() {
                *per_second.entry(at_ms.div_euclid(1_000)).or_default() += weight;
                *per_three.entry(at_ms.div_euclid(3_000)).or_default() += weight;
                total += weight;
            }
        }
        assert!(per_second.values().all(|&used| used <= 100), "{per_second:?}");
        assert!(per_three.values().all(|&used| used <= 250), "{per_three:?}");
        assert_eq!(limiter.stats()["api"].weight, total);
        assert!(clock.now_ms() > 0);
    }
}
